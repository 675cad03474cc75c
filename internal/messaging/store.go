package messaging

import (
	"context"
	"iter"
	"time"

	"parley"
	"parley/internal/safety/review"
)

// Store is what the messaging service needs from storage. Every method that
// changes something others must hear about writes its events to the outbox
// in the same transaction as the change.
type Store interface {
	// CreateChat inserts chat and its owner as first member (role owner; for a
	// direct or secret chat, also the peer as a regular member), sets
	// chat.ID, chat.CreatedAt and chat.MemberCount, and writes a chat.joined
	// event for each member. Returns EConflict if a channel handle is taken,
	// or if a direct chat between the two already exists (direct chats are
	// unique per pair; secret chats are not).
	CreateChat(ctx context.Context, chat *parley.Chat, peerID int64) error
	// FindChatByID returns ENotFound if there is no such chat.
	FindChatByID(ctx context.Context, id int64) (*parley.Chat, error)
	// FindChatByHandle matches a channel's handle case-insensitively.
	FindChatByHandle(ctx context.Context, handle string) (*parley.Chat, error)
	// FindDirectChat returns the direct chat between two users, or ENotFound.
	FindDirectChat(ctx context.Context, userA, userB int64) (*parley.Chat, error)
	// SearchChannels returns channels whose handle or title contains query
	// (case-insensitively), most subscribers first, at most limit. An empty
	// query lists the largest channels.
	SearchChannels(ctx context.Context, query string, limit int) ([]*parley.Chat, error)
	// ListChatsForUser returns the chats the user is a member of, newest
	// activity first, each with the newest message and, for two-person chats,
	// the peer.
	ListChatsForUser(ctx context.Context, userID int64) ([]*parley.ChatSummary, error)
	// ListChatIDsForUser returns the ids of every chat the user belongs to.
	ListChatIDsForUser(ctx context.Context, userID int64) ([]int64, error)

	// AddMember adds m, increments the chat's member count and writes a
	// chat.joined event. Returns EConflict if m is already a member and
	// ETooLarge if the chat is at its member limit (checked in the same
	// transaction, so concurrent joins cannot pass it).
	AddMember(ctx context.Context, m *parley.Member) error
	// RemoveMember removes a membership (ENotFound if none) and writes chat.left.
	RemoveMember(ctx context.Context, chatID, userID int64) error
	// FindMember returns ENotFound if the user is not a member.
	FindMember(ctx context.Context, chatID, userID int64) (*parley.Member, error)
	// FindChatWithMember returns a chat and userID's membership of it, nil
	// when the account is not a member; ENotFound if there is no such chat.
	FindChatWithMember(ctx context.Context, chatID, userID int64) (*parley.Chat, *parley.Member, error)
	// SetMemberRole changes a member's role; ENotFound if not a member.
	SetMemberRole(ctx context.Context, chatID, userID int64, role parley.MemberRole) error
	// ListMembers returns members ordered by user id after afterUserID.
	ListMembers(ctx context.Context, chatID, afterUserID int64, limit int) ([]*parley.Member, error)

	// CreateInvite inserts an invite.
	CreateInvite(ctx context.Context, inv *parley.Invite) error
	// FindInvite returns ENotFound if there is no such token.
	FindInvite(ctx context.Context, token string) (*parley.Invite, error)
	// ListInvites returns the chat's invites that still work at time now
	// (neither revoked nor expired), newest first, at most limit.
	ListInvites(ctx context.Context, chatID int64, now time.Time, limit int) ([]*parley.Invite, error)
	// RevokeInvite marks the invite revoked.
	RevokeInvite(ctx context.Context, token string, at time.Time) error
	// UseInvite adds the member as AddMember does and counts one use of the
	// invite, in one transaction.
	UseInvite(ctx context.Context, token string, m *parley.Member) error

	// InsertMessage assigns msg.Seq (the chat's next sequence number) and
	// msg.ID, stores it, appends an update (message.new) with the chat's next
	// pts and writes it to the outbox, all in one transaction, and returns the
	// update. It returns only once the transaction is durable. Concurrent
	// calls may be committed together in one transaction (group commit).
	//
	// Inside that transaction it checks what could have changed since the
	// caller looked: the sender may post there (parley.CheckPost, with its
	// errors), and msg.ReplyToSeq is 0 or an existing seq of the chat
	// (parley.CheckReply). ENotFound if the chat or the sender does not exist.
	InsertMessage(ctx context.Context, msg *parley.Message) (*parley.Update, error)
	// InsertHeldMessage stores msg held for review, with its screening
	// matches and the review case c (whose ID it sets), in one transaction,
	// after the same checks as InsertMessage; nobody but the author sees it
	// and no update is written until it is approved or acted on.
	InsertHeldMessage(ctx context.Context, msg *parley.Message, sc *parley.Screening, c *review.Case) error
	// RecordScreening records the matches of a post or upload (shadow and
	// suppressed ones for stored items; all of them, with the refused text
	// as content, for a refused post).
	RecordScreening(ctx context.Context, targetType, targetID string, userID, chatID int64, sc *parley.Screening, content string, at time.Time) error
	// OpenCase opens a review case.
	OpenCase(ctx context.Context, c *review.Case) error
	// EditMessage replaces the text of a message, sets EditedAt, and appends
	// a message.edited update; returns the update.
	EditMessage(ctx context.Context, chatID, seq int64, text string, at time.Time) (*parley.Update, error)
	// DeleteMessage deletes a message for everyone: its content is cleared,
	// DeletedAt set, and a message.deleted update appended.
	DeleteMessage(ctx context.Context, chatID, seq int64, at time.Time) (*parley.Update, error)
	// FindMessage returns ENotFound if there is no such message.
	FindMessage(ctx context.Context, chatID, seq int64) (*parley.Message, error)
	// ListMessages returns messages with seq < beforeSeq (all when beforeSeq
	// is 0), newest first, at most limit; deleted messages are left out.
	// Messages held for review are left out except those viewerID wrote;
	// removed ones are listed with their moderation.
	ListMessages(ctx context.Context, chatID, viewerID, beforeSeq int64, limit int) ([]*parley.Message, error)
	// ListUpdates returns the chat's updates with pts > afterPts in pts order,
	// at most limit.
	ListUpdates(ctx context.Context, chatID, afterPts int64, limit int) ([]*parley.Update, error)
	// RecordViews counts one view by userID of each listed message that the
	// user had not viewed before, and returns the new view counts by seq.
	RecordViews(ctx context.Context, chatID, userID int64, seqs []int64) (map[int64]int64, error)

	// SaveMedia inserts a new media item and sets m.CreatedAt when zero;
	// EConflict if its id is taken, ENotFound if the uploader does not
	// exist.
	SaveMedia(ctx context.Context, m *parley.Media) error
	// FindMedia returns ENotFound if there is no such media.
	FindMedia(ctx context.Context, id string) (*parley.Media, error)
	// FindRestrictedMedia returns a media item whose bytes have that
	// SHA-256 and that is blocked or removed (a blocked one first), or
	// ENotFound.
	FindRestrictedMedia(ctx context.Context, sha256 string) (*parley.Media, error)
	// MediaCarriers yields the messages that carry media item id and that
	// viewerID might see, newest first, at most limit: not deleted, in a
	// chat the viewer is a member of or in a channel, and not held unless
	// the viewer wrote it; each with its chat and whether the viewer is a
	// member. Removed messages and those of banned chats are included. A
	// caller that stops early stops the read there.
	MediaCarriers(ctx context.Context, id string, viewerID int64, limit int) iter.Seq2[*MediaCarrier, error]
	// MediaPosted reports whether any message that is not deleted carries
	// media item id.
	MediaPosted(ctx context.Context, id string) (bool, error)
	// AppendAuditOnce appends e to the audit log unless it has an entry by
	// the same actor, of the same action, about the same target, at since
	// or later, atomically; it reports whether it appended.
	AppendAuditOnce(ctx context.Context, e *parley.AuditEntry, since time.Time) (bool, error)
}
