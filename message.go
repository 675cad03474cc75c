package parley

import "time"

// Limits on messages.
const (
	MaxMessageRunes  = 4096           // text, in Unicode code points, as Telegram counts
	EditWindow       = 48 * time.Hour // a message may be edited this long after it was sent
	MaxCiphertextLen = 64 << 10       // base64 ciphertext of one secret message
	MaxPageSize      = 200            // messages or updates in one page
)

// Message is a message in a chat. In a secret chat Text and MediaID are
// empty and the content is Ciphertext (AES-GCM, base64) with its Nonce.
type Message struct {
	ID         int64      `json:"id"`
	ChatID     int64      `json:"chat_id"`
	Seq        int64      `json:"seq"` // per-chat sequence number, from 1
	SenderID   int64      `json:"sender_id"`
	SenderName string     `json:"sender_name,omitempty"`
	Text       string     `json:"text,omitempty"`
	MediaID    string     `json:"media_id,omitempty"` // the media item's id
	ReplyToSeq int64      `json:"reply_to_seq,omitempty"`
	Forward    *Origin    `json:"forward,omitempty"`
	Ciphertext string     `json:"ciphertext,omitempty"`
	Nonce      string     `json:"nonce,omitempty"`
	Views      int64      `json:"views"`
	CreatedAt  time.Time  `json:"created_at"`
	EditedAt   *time.Time `json:"edited_at,omitempty"`
	DeletedAt  *time.Time `json:"deleted_at,omitempty"`
	// Moderation is what enforcement and screening did to the message.
	Moderation *Moderation `json:"moderation,omitempty"`
	// Notice is set by ViewMessage for a viewer who may not see the content
	// (or sees it pending review); it is never stored.
	Notice *Notice `json:"notice,omitempty"`
}

// Origin is where a forwarded message first appeared.
type Origin struct {
	ChatID    int64  `json:"chat_id"`
	Seq       int64  `json:"seq"`
	SenderID  int64  `json:"sender_id"`
	ChatTitle string `json:"chat_title,omitempty"`
}

// Deleted reports whether the message was deleted for everyone.
func (m *Message) Deleted() bool { return m.DeletedAt != nil }

// Update kinds. An update is one change to a chat's history; its Pts is the
// chat's update counter after the change. A client that remembers the last
// Pts it saw asks for the updates after it, and gets exactly what it missed.
const (
	UpdateMessageNew     = "message.new"
	UpdateMessageEdited  = "message.edited"
	UpdateMessageDeleted = "message.deleted"
	// UpdateMessageModerated: enforcement changed the message (removed,
	// withheld, labelled, restored); clients show it as the update says.
	UpdateMessageModerated = "message.moderated"
)

// Update is one change to a chat's history, with the message as it was
// right after the change (a deleted message carries no content).
type Update struct {
	ChatID  int64     `json:"chat_id"`
	Pts     int64     `json:"pts"`
	Kind    string    `json:"kind"`
	Message Message   `json:"message"`
	At      time.Time `json:"at"`
}
