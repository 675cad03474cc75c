package parley

import "time"

// ChatKind is the kind of a chat.
type ChatKind string

const (
	// ChatChannel is a public broadcast channel: a unique @handle, only the
	// owner and admins post, any number of subscribers read.
	ChatChannel ChatKind = "channel"
	// ChatGroup is a group in which every member posts.
	ChatGroup ChatKind = "group"
	// ChatDirect is a chat between two accounts.
	ChatDirect ChatKind = "direct"
	// ChatSecret is an end-to-end encrypted chat between two accounts: the
	// server holds only ciphertext, nonces and public keys.
	ChatSecret ChatKind = "secret"
)

// Valid reports whether k is a known chat kind.
func (k ChatKind) Valid() bool {
	switch k {
	case ChatChannel, ChatGroup, ChatDirect, ChatSecret:
		return true
	}
	return false
}

// Public reports whether anyone may read the chat without being a member.
func (k ChatKind) Public() bool { return k == ChatChannel }

// DefaultMemberLimit is a group's member limit when its creator sets none.
const DefaultMemberLimit = 200_000

// Chat is a channel, group, direct or secret chat.
type Chat struct {
	ID          int64     `json:"id"`
	Kind        ChatKind  `json:"kind"`
	Handle      string    `json:"handle,omitempty"` // channels only, without the @
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	OwnerID     int64     `json:"owner_id"`
	MemberCount int64     `json:"member_count"` // subscribers, for a channel
	MemberLimit int64     `json:"member_limit,omitempty"`
	LastSeq     int64     `json:"last_seq"` // sequence number of the newest message
	Pts         int64     `json:"pts"`      // number of the newest update (new, edit, delete)
	CreatedAt   time.Time `json:"created_at"`
	// Moderation is what enforcement did to the chat as a whole (banned,
	// withheld in some countries).
	Moderation *Moderation `json:"moderation,omitempty"`
	// Notice is set by ViewChat for a viewer from whom the chat is hidden.
	Notice *Notice `json:"notice,omitempty"`
}

// MemberRole is an account's role within one chat.
type MemberRole string

const (
	MemberOwner      MemberRole = "owner"
	MemberAdmin      MemberRole = "admin"
	MemberRegular    MemberRole = "member"
	MemberSubscriber MemberRole = "subscriber" // a reader of a channel
)

// CanPost reports whether a member with role r may post in a chat of kind k.
func (r MemberRole) CanPost(k ChatKind) bool {
	if k == ChatChannel {
		return r == MemberOwner || r == MemberAdmin
	}
	return r == MemberOwner || r == MemberAdmin || r == MemberRegular
}

// CheckPost returns nil if an account may post in a chat of kind k, given
// its membership: member is false for an account that is not in the chat,
// role its role otherwise. A private chat that the account is not in is
// reported as not found, so that its existence is not revealed. Storage
// adapters apply it inside the transaction that stores a message, so that a
// member removed a moment before cannot slip a message in.
func CheckPost(k ChatKind, chatID int64, member bool, r MemberRole) error {
	switch {
	case member && r.CanPost(k):
		return nil
	case k == ChatChannel:
		return Errorf(EForbidden, "only the channel's owner and admins can post")
	case !member:
		return Errorf(ENotFound, "chat %d not found", chatID)
	default:
		return Errorf(EForbidden, "you are not a member of this chat")
	}
}

// ChatBanned is the stored status of a chat banned by enforcement.
const ChatBanned = "banned"

// CheckChatOpen returns nil unless the chat, whose stored status is status,
// was banned: nothing more can be posted in a banned chat.
func CheckChatOpen(status string) error {
	if status == ChatBanned {
		return Errorf(EForbidden, "this chat was banned; nothing more can be posted in it")
	}
	return nil
}

// CheckReply returns nil if replyTo (0 for none) names a message of a chat
// whose newest message is lastSeq.
func CheckReply(replyTo, lastSeq int64) error {
	if replyTo < 0 || replyTo > lastSeq {
		return FieldError("reply_to_seq", "no message %d in this chat to reply to", replyTo)
	}
	return nil
}

// CanManage reports whether r may change members, invites and settings.
func (r MemberRole) CanManage() bool { return r == MemberOwner || r == MemberAdmin }

// Member is an account's membership of a chat.
type Member struct {
	ChatID   int64      `json:"chat_id"`
	UserID   int64      `json:"user_id"`
	Role     MemberRole `json:"role"`
	JoinedAt time.Time  `json:"joined_at"`
}

// ChatSummary is a chat as listed for one account: with the account's role
// and the newest message, for the chat list.
type ChatSummary struct {
	Chat
	MyRole      MemberRole `json:"my_role"`
	PeerID      int64      `json:"peer_id,omitempty"` // the other account, for direct and secret chats
	PeerName    string     `json:"peer_name,omitempty"`
	LastMessage *Message   `json:"last_message,omitempty"`
}

// Invite is a link that lets its holder join a group.
type Invite struct {
	Token     string     `json:"token"`
	ChatID    int64      `json:"chat_id"`
	CreatedBy int64      `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Uses      int64      `json:"uses"`
}

// Usable reports whether the invite may be used at time now.
func (i *Invite) Usable(now time.Time) bool {
	return i.RevokedAt == nil && (i.ExpiresAt == nil || now.Before(*i.ExpiresAt))
}
