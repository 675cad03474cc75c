package parley

import (
	"strconv"
	"time"
)

// Event is a change that other parts of the system must hear about. It is
// written to the outbox in the same transaction as the change, then relayed
// to the event stream at least once; its ID is the de-duplication id.
type Event struct {
	ID        int64     `json:"id"`
	Subject   string    `json:"subject"` // relative subject, e.g. "chat.42"; the stream adds its prefix
	Kind      string    `json:"kind"`
	Payload   []byte    `json:"payload"` // JSON
	CreatedAt time.Time `json:"created_at"`
}

// Event kinds that are not chat updates.
const (
	EventChatJoined = "chat.joined" // on subject user.<id>: the user joined or created a chat
	EventChatLeft   = "chat.left"
)

// ChatSubject is the subject of a chat's updates.
func ChatSubject(chatID int64) string { return "chat." + strconv.FormatInt(chatID, 10) }

// UserSubject is the subject of events about one account.
func UserSubject(userID int64) string { return "user." + strconv.FormatInt(userID, 10) }

// MembershipEvent is the payload of chat.joined and chat.left.
type MembershipEvent struct {
	UserID int64 `json:"user_id"`
	ChatID int64 `json:"chat_id"`
}

// Event kinds of enforcement that are not chat updates.
const (
	// EventChatModerated, on the chat's subject: a chat was banned,
	// withheld in some countries, or restored. Payload ChatModeratedEvent.
	EventChatModerated = "chat.moderated"
	// EventAccountRestricted, on the account's subject: an account was
	// suspended, terminated or restored. Payload AccountEvent.
	EventAccountRestricted = "account.restricted"
)

// ChatModeratedEvent is the payload of chat.moderated.
type ChatModeratedEvent struct {
	ChatID     int64       `json:"chat_id"`
	Moderation *Moderation `json:"moderation,omitempty"`
}

// AccountEvent is the payload of account.restricted.
type AccountEvent struct {
	UserID int64  `json:"user_id"`
	Status string `json:"status"`
}
