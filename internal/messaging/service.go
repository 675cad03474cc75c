// Package messaging holds chats and messages: channels, groups, direct and
// secret chats, membership, invites, posting, editing, deleting, history
// and the per-chat update log that live clients resume from.
package messaging

import (
	"context"
	"encoding/base64"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/media"
	"parley/internal/ratelimit"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
)

// Limits on chats.
const (
	MaxTitleLen       = 128
	MaxDescriptionLen = 1024
	MaxViewsPerCall   = 100
	MaxInviteTTL      = 366 * 24 * time.Hour
)

var handleRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{4,31}$`)

// Service is the messaging service. The JSON API and the web pages both
// call it, so every rule here holds for both.
type Service struct {
	Store  Store
	Blobs  *media.Blobs
	Limits media.Limits
	Clock  parley.Clock
	Log    *slog.Logger
	// Users resolves accounts, for peers of direct and secret chats.
	Users interface {
		FindUserByID(ctx context.Context, id int64) (*parley.User, error)
	}
	// DecodeMemory bounds the memory of the image decodes running at once:
	// an image within the limits can still take a few hundred megabytes to
	// decode, so a burst of uploads queues for its share, then is refused
	// (EUnavailable), rather than piling up. Nil bounds nothing.
	DecodeMemory *media.Budget
	// UploadLimiter bounds how many images each member uploads, keyed by
	// account; nil bounds nothing.
	UploadLimiter *ratelimit.Limiter

	// Screen is the inline screen: every upload, and every post in a
	// channel or group, passes it before anyone can see it. Nil only in
	// tests of other things.
	Screen *screen.Screener

	permits permitCache
}

// CreateChatInput describes a new chat. PeerID is required for direct and
// secret chats; Handle for channels.
type CreateChatInput struct {
	Kind        parley.ChatKind `json:"kind"`
	Handle      string          `json:"handle"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	MemberLimit int64           `json:"member_limit"`
	PeerID      int64           `json:"peer_id"`
}

// CreateChat creates a chat owned by actor. Asking for a direct chat that
// already exists returns the existing one.
func (s *Service) CreateChat(ctx context.Context, actor *parley.User, in CreateChatInput) (*parley.Chat, error) {
	chat := &parley.Chat{Kind: in.Kind, OwnerID: actor.ID, CreatedAt: s.Clock.Now()}
	switch in.Kind {
	case parley.ChatChannel, parley.ChatGroup:
		title, err := cleanText("title", in.Title, true, 1, MaxTitleLen)
		if err != nil {
			return nil, err
		}
		desc, err := cleanText("description", in.Description, false, 0, MaxDescriptionLen)
		if err != nil {
			return nil, err
		}
		chat.Title, chat.Description = title, desc
		if in.Kind == parley.ChatChannel {
			handle := strings.TrimPrefix(strings.TrimSpace(in.Handle), "@")
			if !handleRE.MatchString(handle) {
				return nil, parley.FieldError("handle", "handle must be 5 to 32 letters, digits or underscores, starting with a letter")
			}
			chat.Handle = handle
		} else {
			if in.Handle != "" {
				return nil, parley.FieldError("handle", "only channels have a handle")
			}
			chat.MemberLimit = in.MemberLimit
			if chat.MemberLimit == 0 {
				chat.MemberLimit = parley.DefaultMemberLimit
			}
			if chat.MemberLimit < 2 || chat.MemberLimit > parley.DefaultMemberLimit {
				return nil, parley.FieldError("member_limit", "member limit must be between 2 and %d", parley.DefaultMemberLimit)
			}
		}
		if err := s.Store.CreateChat(ctx, chat, 0); err != nil {
			return nil, err
		}
		return chat, nil
	case parley.ChatDirect, parley.ChatSecret:
		if in.PeerID == 0 {
			return nil, parley.FieldError("peer_id", "name the account to chat with")
		}
		if in.PeerID == actor.ID {
			return nil, parley.FieldError("peer_id", "a two-person chat needs someone else")
		}
		peer, err := s.Users.FindUserByID(ctx, in.PeerID)
		if parley.ErrorCode(err) == parley.ENotFound {
			return nil, parley.FieldError("peer_id", "no account with id %d", in.PeerID)
		} else if err != nil {
			return nil, err
		}
		chat.MemberLimit = 2
		if in.Kind == parley.ChatSecret {
			if actor.PublicKey == "" {
				return nil, parley.Errorf(parley.EConflict, "set up secret chats first: open Parley in a browser so it can make your keys")
			}
			if peer.PublicKey == "" {
				return nil, parley.Errorf(parley.EConflict, "%s has not set up secret chats yet (they must open Parley in a browser once)", peer.Username)
			}
		}
		err = s.Store.CreateChat(ctx, chat, peer.ID)
		if in.Kind == parley.ChatDirect && parley.ErrorCode(err) == parley.EConflict {
			return s.reopenDirectChat(ctx, actor.ID, peer.ID)
		} else if err != nil {
			return nil, err
		}
		return chat, nil
	default:
		return nil, parley.FieldError("kind", "kind must be channel, group, direct or secret")
	}
}

// reopenDirectChat returns the direct chat between two accounts, first
// bringing back whichever of them had left it: direct chats are unique per
// pair, so without this one who left could never write to the other again.
func (s *Service) reopenDirectChat(ctx context.Context, actorID, peerID int64) (*parley.Chat, error) {
	chat, err := s.Store.FindDirectChat(ctx, actorID, peerID)
	if err != nil {
		return nil, err
	}
	rejoined := false
	for _, id := range []int64{actorID, peerID} {
		_, err := s.Store.FindMember(ctx, chat.ID, id)
		if parley.ErrorCode(err) != parley.ENotFound {
			if err != nil {
				return nil, err
			}
			continue
		}
		err = s.Store.AddMember(ctx, &parley.Member{ChatID: chat.ID, UserID: id, Role: parley.MemberRegular, JoinedAt: s.Clock.Now()})
		if err != nil && parley.ErrorCode(err) != parley.EConflict {
			return nil, err
		}
		rejoined = true
	}
	if !rejoined {
		return chat, nil
	}
	return s.Store.FindChatByID(ctx, chat.ID)
}

// GetChat returns a chat the actor may read, and the actor's membership
// (nil when reading a public channel without subscribing). A private chat the
// actor is not in is reported as not found, so its existence is not revealed.
func (s *Service) GetChat(ctx context.Context, actor *parley.User, chatID int64) (*parley.Chat, *parley.Member, error) {
	chat, m, err := s.Store.FindChatWithMember(ctx, chatID, actor.ID)
	if err != nil {
		return nil, nil, err
	}
	if m == nil && !chat.Kind.Public() {
		return nil, nil, parley.Errorf(parley.ENotFound, "chat %d not found", chatID)
	}
	return parley.ViewChat(chat, parley.ViewerOf(ctx, actor)), m, nil
}

// FindChannel returns a channel by its @handle.
func (s *Service) FindChannel(ctx context.Context, actor *parley.User, handle string) (*parley.Chat, error) {
	c, err := s.Store.FindChatByHandle(ctx, strings.TrimPrefix(handle, "@"))
	if err != nil {
		return nil, err
	}
	return parley.ViewChat(c, parley.ViewerOf(ctx, actor)), nil
}

// ListChats returns the actor's chats, newest activity first.
func (s *Service) ListChats(ctx context.Context, actor *parley.User) ([]*parley.ChatSummary, error) {
	list, err := s.Store.ListChatsForUser(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	v := parley.ViewerOf(ctx, actor)
	for _, cs := range list {
		cs.Chat = *parley.ViewChat(&cs.Chat, v)
		if cs.Chat.Hidden(v) {
			cs.LastMessage = nil
		} else if cs.LastMessage != nil {
			cs.LastMessage = parley.ViewMessage(cs.LastMessage, cs.Chat.Moderation, v)
		}
	}
	return list, nil
}

// SearchChannels finds public channels by handle or title.
func (s *Service) SearchChannels(ctx context.Context, actor *parley.User, query string, limit int) ([]*parley.Chat, error) {
	query = strings.TrimPrefix(strings.TrimSpace(query), "@")
	if utf8.RuneCountInString(query) > 64 {
		return nil, parley.FieldError("q", "search text must be at most 64 characters")
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	found, err := s.Store.SearchChannels(ctx, query, limit)
	if err != nil {
		return nil, err
	}
	// Banned channels are left out by the store; those withheld where the
	// viewer is are left out here.
	v := parley.ViewerOf(ctx, actor)
	chats := found[:0]
	for _, c := range found {
		if !c.Hidden(v) {
			chats = append(chats, c)
		}
	}
	return chats, nil
}

// Subscribe makes the actor a subscriber of a channel.
func (s *Service) Subscribe(ctx context.Context, actor *parley.User, chatID int64) error {
	// GetChat, not FindChatByID: a private chat the actor is not in must
	// answer as if it did not exist, or subscribe would reveal which ids
	// belong to groups and direct chats.
	chat, _, err := s.GetChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	if chat.Kind != parley.ChatChannel {
		return parley.Errorf(parley.EForbidden, "only channels can be subscribed to; groups are joined by invite link")
	}
	return s.Store.AddMember(ctx, &parley.Member{ChatID: chatID, UserID: actor.ID, Role: parley.MemberSubscriber, JoinedAt: s.Clock.Now()})
}

// Leave removes the actor from a chat. The owner cannot leave.
func (s *Service) Leave(ctx context.Context, actor *parley.User, chatID int64) error {
	m, err := s.Store.FindMember(ctx, chatID, actor.ID)
	if err != nil {
		return err
	}
	if m.Role == parley.MemberOwner {
		// A two-person chat has no one in charge: either may leave, and
		// opening it again brings them back (reopenDirectChat).
		chat, err := s.Store.FindChatByID(ctx, chatID)
		if err != nil {
			return err
		}
		if !twoPerson(chat.Kind) {
			return parley.Errorf(parley.EConflict, "the owner cannot leave their own chat")
		}
	}
	s.permits.forget(chatID, actor.ID)
	return s.Store.RemoveMember(ctx, chatID, actor.ID)
}

// SetMemberRole promotes or demotes a member of a group or channel. Only
// the owner may.
func (s *Service) SetMemberRole(ctx context.Context, actor *parley.User, chatID, userID int64, role parley.MemberRole) error {
	me, err := s.member(ctx, chatID, actor.ID)
	if err != nil {
		return err
	}
	if me.Role != parley.MemberOwner {
		return parley.Errorf(parley.EForbidden, "only the owner can change roles")
	}
	chat, err := s.Store.FindChatByID(ctx, chatID)
	if err != nil {
		return err
	}
	switch {
	case twoPerson(chat.Kind):
		return parley.Errorf(parley.EConflict, "a chat between two people has no roles to change")
	case userID == actor.ID:
		return parley.FieldError("user_id", "the owner's own role cannot change")
	case role == parley.MemberAdmin:
	case role == parley.MemberRegular && chat.Kind == parley.ChatGroup:
	case role == parley.MemberSubscriber && chat.Kind == parley.ChatChannel:
	default:
		return parley.FieldError("role", "role must be admin, or member in a group, or subscriber in a channel")
	}
	s.permits.forget(chatID, userID)
	return s.Store.SetMemberRole(ctx, chatID, userID, role)
}

// CreateInvite makes an invite link to a group, valid for ttl (0: until
// revoked). Owners and admins may.
func (s *Service) CreateInvite(ctx context.Context, actor *parley.User, chatID int64, ttl time.Duration) (*parley.Invite, error) {
	if err := s.checkInviteManager(ctx, actor, chatID, "make"); err != nil {
		return nil, err
	}
	if ttl < 0 || ttl > MaxInviteTTL {
		return nil, parley.FieldError("expires_in", "an invite may last at most %d days", int(MaxInviteTTL.Hours()/24))
	}
	token, err := newInviteToken()
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	inv := &parley.Invite{Token: token, ChatID: chatID, CreatedBy: actor.ID, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		inv.ExpiresAt = &exp
	}
	if err := s.Store.CreateInvite(ctx, inv); err != nil {
		return nil, err
	}
	return inv, nil
}

// ListInvites returns a group's working invite links, for its owner and
// admins.
func (s *Service) ListInvites(ctx context.Context, actor *parley.User, chatID int64) ([]*parley.Invite, error) {
	if err := s.checkInviteManager(ctx, actor, chatID, "see"); err != nil {
		return nil, err
	}
	return s.Store.ListInvites(ctx, chatID, s.Clock.Now(), 1000)
}

// checkInviteManager returns nil if chatID is a group whose invite links
// actor may manage (its owner or an admin); verb says what the refused
// actor wanted to do with them.
func (s *Service) checkInviteManager(ctx context.Context, actor *parley.User, chatID int64, verb string) error {
	chat, me, err := s.GetChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	if chat.Kind != parley.ChatGroup {
		return parley.Errorf(parley.EConflict, "invite links are for groups")
	}
	if me == nil || !me.Role.CanManage() {
		return parley.Errorf(parley.EForbidden, "only the owner and admins can %s invite links", verb)
	}
	return nil
}

// RevokeInvite stops an invite link from working.
func (s *Service) RevokeInvite(ctx context.Context, actor *parley.User, token string) error {
	inv, err := s.Store.FindInvite(ctx, token)
	if err != nil {
		return err
	}
	me, err := s.member(ctx, inv.ChatID, actor.ID)
	if err != nil {
		return err
	}
	if !me.Role.CanManage() {
		return parley.Errorf(parley.EForbidden, "only the owner and admins can revoke invite links")
	}
	return s.Store.RevokeInvite(ctx, token, s.Clock.Now())
}

// JoinByInvite adds the actor to the invite's group.
func (s *Service) JoinByInvite(ctx context.Context, actor *parley.User, token string) (*parley.Chat, error) {
	inv, err := s.Store.FindInvite(ctx, token)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, parley.Errorf(parley.ENotFound, "this invite link does not exist")
	} else if err != nil {
		return nil, err
	}
	if !inv.Usable(s.Clock.Now()) {
		return nil, parley.Errorf(parley.EConflict, "this invite link has expired or was revoked")
	}
	m := &parley.Member{ChatID: inv.ChatID, UserID: actor.ID, Role: parley.MemberRegular, JoinedAt: s.Clock.Now()}
	if err := s.Store.UseInvite(ctx, token, m); err != nil {
		return nil, err
	}
	return s.Store.FindChatByID(ctx, inv.ChatID)
}

// PostInput is a new message. In a secret chat only Ciphertext, Nonce and
// ReplyToSeq may be set.
type PostInput struct {
	Text        string  `json:"text"`
	MediaID     string  `json:"media_id"`
	ReplyToSeq  int64   `json:"reply_to_seq"`
	ForwardFrom *MsgRef `json:"forward_from"`
	Ciphertext  string  `json:"ciphertext"`
	Nonce       string  `json:"nonce"`
}

// MsgRef names a message.
type MsgRef struct {
	ChatID int64 `json:"chat_id"`
	Seq    int64 `json:"seq"`
}

// PostMessage posts a message and returns the update that announces it. It
// returns once the message is durable.
func (s *Service) PostMessage(ctx context.Context, actor *parley.User, chatID int64, in PostInput) (*parley.Update, error) {
	// The chat's kind decides which content is allowed. A recent post by the
	// same account tells it without a read; the store checks the membership
	// again when it stores the message, so a stale hint cannot let the
	// message in. Only an account that may post is remembered, so a refusal
	// is never served from the cache: promoted elsewhere, it may post at once.
	now := s.Clock.Now()
	p, ok := s.permits.get(chatID, actor.ID, now)
	if !ok {
		chat, me, err := s.GetChat(ctx, actor, chatID)
		if err != nil {
			return nil, err
		}
		if me == nil {
			return nil, parley.CheckPost(chat.Kind, chatID, false, "")
		}
		if err := parley.CheckPost(chat.Kind, chatID, true, me.Role); err != nil {
			return nil, err
		}
		p = permit{kind: chat.Kind, members: chat.MemberCount, until: now.Add(permitTTL)}
		s.permits.put(chatID, actor.ID, p)
	}
	msg := &parley.Message{ChatID: chatID, SenderID: actor.ID, CreatedAt: now, ReplyToSeq: in.ReplyToSeq}
	var attached *parley.Media
	if p.kind == parley.ChatSecret {
		if in.Text != "" || in.MediaID != "" || in.ForwardFrom != nil {
			return nil, parley.FieldError("text", "a secret chat takes only ciphertext made in the browser; plain text is refused so it never reaches the server")
		}
		if err := checkBase64("ciphertext", in.Ciphertext, 17, parley.MaxCiphertextLen); err != nil {
			return nil, err
		}
		if err := checkBase64("nonce", in.Nonce, 12, 12); err != nil {
			return nil, err
		}
		msg.Ciphertext, msg.Nonce = in.Ciphertext, in.Nonce
	} else {
		if in.Ciphertext != "" || in.Nonce != "" {
			return nil, parley.FieldError("ciphertext", "ciphertext belongs in secret chats only")
		}
		msg.Text, msg.MediaID = in.Text, in.MediaID
		if in.ForwardFrom != nil {
			if err := s.fillForward(ctx, actor, msg, *in.ForwardFrom); err != nil {
				return nil, err
			}
		}
		// A forward's text is cleaned too: it may have been stored before
		// text was cleaned.
		text, err := cleanMessageText(msg.Text)
		if err != nil {
			return nil, err
		}
		msg.Text = text
		if msg.MediaID != "" {
			m, err := s.Store.FindMedia(ctx, msg.MediaID)
			if parley.ErrorCode(err) == parley.ENotFound {
				return nil, parley.FieldError("media_id", "no uploaded image with id %q; upload it first", msg.MediaID)
			} else if err != nil {
				return nil, err
			}
			if err := s.checkAttach(ctx, actor, m); err != nil {
				return nil, err
			}
			attached = m
		}
		if msg.Text == "" && msg.MediaID == "" {
			return nil, parley.FieldError("text", "a message needs text or an image")
		}
	}
	if in.ReplyToSeq < 0 {
		return nil, parley.FieldError("reply_to_seq", "no message %d in this chat to reply to", in.ReplyToSeq)
	}
	var sc *parley.Screening
	if s.Screen != nil && Screened(p.kind) {
		sc = s.Screen.ScreenPost(screen.Post{Text: msg.Text, Media: attached, Author: actor, Chat: p.kind,
			Subscribers: p.members, At: msg.CreatedAt})
		if sc.Enforced() {
			return s.postScreened(ctx, actor, msg, sc)
		}
	}
	// The store checks that the reply's message exists (parley.CheckReply).
	u, err := s.Store.InsertMessage(ctx, msg)
	if code := parley.ErrorCode(err); code == parley.EForbidden || code == parley.ENotFound {
		s.permits.forget(chatID, actor.ID) // the membership changed: read it afresh next time
	}
	if err == nil && sc != nil && len(sc.Matches) > 0 {
		// Shadow and suppressed matches only: recorded for the rule's and
		// the bank's pages, acting on nothing.
		if rerr := s.Store.RecordScreening(ctx, "message", messageRef(u.Message.ChatID, u.Message.Seq), actor.ID, chatID, sc, "", msg.CreatedAt); rerr != nil {
			s.log().Warn("recording shadow matches failed", "chat", chatID, "seq", u.Message.Seq, "err", rerr)
		}
	}
	return u, err
}

// errUploadRefused is what an uploader is told when the upload gate stops
// an image: neutral, so that it teaches nothing about the banks.
var errUploadRefused = parley.FieldError("file", "This image can't be uploaded.")

// recordRefusedUpload keeps a new attempt to upload an image that was
// blocked or removed before: a review case about this uploader.
func (s *Service) recordRefusedUpload(ctx context.Context, actor *parley.User, m *parley.Media) {
	if m.Status != parley.MediaBlocked {
		return
	}
	c := &review.Case{Kind: review.KindBlockedUpload, TargetType: review.TargetMedia, TargetID: m.ID, UserID: actor.ID,
		Priority: 45, CreatedAt: s.Clock.Now()}
	if m.Moderation != nil && m.Moderation.Removed != nil {
		c.ActionID = m.Moderation.Removed.ActionID
	}
	if err := s.Store.OpenCase(ctx, c); err != nil {
		s.log().Error("a repeated blocked upload's review case could not be opened", "media", m.ID, "err", err)
	}
}

// Screened reports whether posts in chats of kind k pass the inline screen:
// channels and groups, where posts reach many people. Direct chats are
// private correspondence, and secret chats are encrypted end to end, so
// there is nothing the server could screen.
func Screened(k parley.ChatKind) bool { return k == parley.ChatChannel || k == parley.ChatGroup }

// postScreened stores a post the screen decided to act on. A refused post
// is not stored (its text is kept with the record of the match, as
// evidence). Any other is stored held, invisible to everyone but its
// author, in the same transaction as its matches and a review case, and
// only then acted on (removed or labelled, with a statement of reasons): a
// crash in between leaves it held for a moderator, never visible
// unscreened.
func (s *Service) postScreened(ctx context.Context, actor *parley.User, msg *parley.Message, sc *parley.Screening) (*parley.Update, error) {
	if sc.Decision == parley.ScreenBlock {
		if err := s.Store.RecordScreening(ctx, "post", "", actor.ID, msg.ChatID, sc, msg.Text, msg.CreatedAt); err != nil {
			return nil, err
		}
		return nil, parley.Errorf(parley.EForbidden, "This message can't be posted.")
	}
	kind := review.KindScreenedPost
	if sc.Decision == parley.ScreenHold {
		kind = review.KindHeldPost
	}
	c := &review.Case{Kind: kind, Priority: review.Priority(sc), Screening: sc}
	if err := s.Store.InsertHeldMessage(ctx, msg, sc, c); err != nil {
		if code := parley.ErrorCode(err); code == parley.EForbidden || code == parley.ENotFound {
			s.permits.forget(msg.ChatID, actor.ID)
		}
		return nil, err
	}
	if sc.Decision == parley.ScreenRemove || sc.Decision == parley.ScreenLabel {
		if _, err := s.Screen.ActOnPost(ctx, msg, sc); err != nil {
			// The post stays held, its case open: a moderator decides.
			s.log().Error("automated action on a screened post failed; it stays held for review",
				"chat", msg.ChatID, "seq", msg.Seq, "decision", sc.Decision, "err", err)
		} else if m, err := s.Store.FindMessage(ctx, msg.ChatID, msg.Seq); err == nil {
			msg = m
		}
	}
	return &parley.Update{ChatID: msg.ChatID, Kind: parley.UpdateMessageNew,
		Message: *parley.ViewMessage(msg, nil, parley.ViewerOf(ctx, actor)), At: msg.CreatedAt}, nil
}

// messageRef names a message as screening records do: "chatID:seq".
func messageRef(chatID, seq int64) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(seq, 10)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// fillForward copies the content of the forwarded message into msg and
// records its origin. Forwarding a forward keeps the first origin.
func (s *Service) fillForward(ctx context.Context, actor *parley.User, msg *parley.Message, ref MsgRef) error {
	src, _, err := s.GetChat(ctx, actor, ref.ChatID)
	if parley.ErrorCode(err) == parley.ENotFound {
		return parley.FieldError("forward_from", "no chat %d you can read", ref.ChatID)
	} else if err != nil {
		return err
	}
	if src.Kind == parley.ChatSecret {
		return parley.FieldError("forward_from", "messages from secret chats cannot be forwarded")
	}
	if src.Notice != nil {
		return parley.FieldError("forward_from", "%s", src.Notice.Text)
	}
	orig, err := s.Store.FindMessage(ctx, ref.ChatID, ref.Seq)
	if parley.ErrorCode(err) == parley.ENotFound || (err == nil && orig.Deleted()) {
		return parley.FieldError("forward_from", "message %d of chat %d does not exist", ref.Seq, ref.ChatID)
	} else if err != nil {
		return err
	}
	// What is forwarded is what the actor sees of the original: a message
	// removed, withheld where the actor is, or held for review (unless the
	// actor wrote it) has no content to copy, and forwarding must not be a
	// way to read it.
	switch seen := parley.ViewMessage(orig, src.Moderation, parley.ViewerOf(ctx, actor)); {
	case seen.Notice == nil:
	case seen.Notice.Kind != parley.NoticeHeld:
		return parley.FieldError("forward_from", "%s", seen.Notice.Text)
	case orig.SenderID != actor.ID:
		// Held posts are not listed to anyone but their author.
		return parley.FieldError("forward_from", "message %d of chat %d does not exist", ref.Seq, ref.ChatID)
	}
	if msg.Text != "" || msg.MediaID != "" {
		return parley.FieldError("text", "a forward carries the original's content; send a comment as its own message")
	}
	msg.Text, msg.MediaID = orig.Text, orig.MediaID
	if orig.Forward != nil {
		o := *orig.Forward
		msg.Forward = &o
	} else {
		msg.Forward = &parley.Origin{ChatID: src.ID, Seq: orig.Seq, SenderID: orig.SenderID, ChatTitle: src.Title}
	}
	return nil
}

// EditMessage changes the text of one's own message within the edit window.
func (s *Service) EditMessage(ctx context.Context, actor *parley.User, chatID, seq int64, text string) (*parley.Update, error) {
	chat, _, err := s.GetChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if chat.Kind == parley.ChatSecret {
		return nil, parley.Errorf(parley.EConflict, "secret messages cannot be edited; delete and send again")
	}
	msg, err := s.Store.FindMessage(ctx, chatID, seq)
	if err != nil {
		return nil, err
	}
	if msg.Deleted() {
		return nil, parley.Errorf(parley.ENotFound, "message %d was deleted", seq)
	}
	if msg.SenderID != actor.ID {
		return nil, parley.Errorf(parley.EForbidden, "only the sender can edit a message")
	}
	now := s.Clock.Now()
	if now.Sub(msg.CreatedAt) > parley.EditWindow {
		return nil, parley.Errorf(parley.EConflict, "messages can be edited for %d hours after sending", int(parley.EditWindow.Hours()))
	}
	if text, err = cleanMessageText(text); err != nil {
		return nil, err
	}
	if text == "" && msg.MediaID == "" {
		return nil, parley.FieldError("text", "a message needs text or an image")
	}
	return s.Store.EditMessage(ctx, chatID, seq, text, now)
}

// DeleteMessage deletes a message for everyone. The sender may, and in a
// group or channel so may its owner and admins (ModeratesOthers).
func (s *Service) DeleteMessage(ctx context.Context, actor *parley.User, chatID, seq int64) (*parley.Update, error) {
	chat, me, err := s.GetChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	msg, err := s.Store.FindMessage(ctx, chatID, seq)
	if err != nil {
		return nil, err
	}
	if msg.Deleted() {
		return nil, parley.Errorf(parley.ENotFound, "message %d was already deleted", seq)
	}
	if msg.SenderID != actor.ID && (me == nil || !ModeratesOthers(chat.Kind, me.Role)) {
		if twoPerson(chat.Kind) {
			return nil, parley.Errorf(parley.EForbidden, "in a chat between two people each deletes only their own messages")
		}
		return nil, parley.Errorf(parley.EForbidden, "only the sender or the chat's admins can delete a message")
	}
	return s.Store.DeleteMessage(ctx, chatID, seq, s.Clock.Now())
}

// ModeratesOthers reports whether a member with role r may delete other
// members' messages in a chat of kind k: the owner and admins of a group or
// a channel. In a direct or secret chat neither party moderates the other,
// whoever opened it: each deletes only their own messages, so that what one
// person wrote to another cannot be erased by its recipient, nor the
// recipient's answers by the one who started the conversation.
func ModeratesOthers(k parley.ChatKind, r parley.MemberRole) bool {
	return !twoPerson(k) && r.CanManage()
}

// twoPerson reports whether chats of kind k are between two accounts, with
// no one in charge: the one who opened it is recorded as its owner only
// because the store keeps who created each chat.
func twoPerson(k parley.ChatKind) bool { return k == parley.ChatDirect || k == parley.ChatSecret }

// History returns a page of messages older than beforeSeq (newest first).
func (s *Service) History(ctx context.Context, actor *parley.User, chatID, beforeSeq int64, limit int) ([]*parley.Message, error) {
	chat, _, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > parley.MaxPageSize {
		return nil, parley.FieldError("limit", "limit must be between 1 and %d", parley.MaxPageSize)
	}
	if beforeSeq < 0 {
		return nil, parley.FieldError("before", "before must be a sequence number")
	}
	msgs, err := s.Store.ListMessages(ctx, chatID, actor.ID, beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	v := parley.ViewerOf(ctx, actor)
	for i, m := range msgs {
		msgs[i] = parley.ViewMessage(m, chat.Moderation, v)
	}
	return msgs, nil
}

// Updates returns the chat's updates after afterPts, for a client catching up.
func (s *Service) Updates(ctx context.Context, actor *parley.User, chatID, afterPts int64, limit int) ([]*parley.Update, error) {
	chat, _, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > parley.MaxPageSize {
		return nil, parley.FieldError("limit", "limit must be between 1 and %d", parley.MaxPageSize)
	}
	if afterPts < 0 {
		return nil, parley.FieldError("after_pts", "after_pts must not be negative")
	}
	ups, err := s.Store.ListUpdates(ctx, chatID, afterPts, limit)
	if err != nil {
		return nil, err
	}
	v := parley.ViewerOf(ctx, actor)
	for _, u := range ups {
		u.Message = *parley.ViewMessage(&u.Message, chat.Moderation, v)
	}
	return ups, nil
}

// readableChat is GetChat for reading the chat's messages: a chat that is
// banned, or withheld where the actor is, answers EWithheld with its notice.
func (s *Service) readableChat(ctx context.Context, actor *parley.User, chatID int64) (*parley.Chat, *parley.Member, error) {
	chat, m, err := s.GetChat(ctx, actor, chatID)
	if err != nil {
		return nil, nil, err
	}
	if chat.Notice != nil {
		return nil, nil, parley.Errorf(parley.EWithheld, "%s", chat.Notice.Text)
	}
	return chat, m, nil
}

// RecordViews counts the actor's views of channel posts.
func (s *Service) RecordViews(ctx context.Context, actor *parley.User, chatID int64, seqs []int64) (map[int64]int64, error) {
	if len(seqs) == 0 || len(seqs) > MaxViewsPerCall {
		return nil, parley.FieldError("seqs", "give between 1 and %d message numbers", MaxViewsPerCall)
	}
	if _, _, err := s.GetChat(ctx, actor, chatID); err != nil {
		return nil, err
	}
	return s.Store.RecordViews(ctx, chatID, actor.ID, seqs)
}

// UploadImage checks an image, stores it with a thumbnail under new random
// ids, and records it. Limits are checked before decoding. Each upload is
// its own item, even of bytes uploaded before: the answer tells nothing of
// an earlier upload. Only bytes that were blocked or removed before are
// refused, as they were then.
func (s *Service) UploadImage(ctx context.Context, actor *parley.User, data []byte) (*parley.Media, error) {
	if s.UploadLimiter != nil {
		if ok, wait := s.UploadLimiter.Allow(strconv.FormatInt(actor.ID, 10)); !ok {
			return nil, parley.RateLimited(wait, "you have uploaded too many images in a short time")
		}
	}
	img, err := media.IntakeWithin(ctx, data, s.Limits, s.DecodeMemory)
	if err != nil {
		return nil, err
	}
	if stopped, err := s.Store.FindRestrictedMedia(ctx, img.SHA256); err == nil {
		// The same bytes were stopped or removed before: refused again,
		// and the attempt is kept for the moderators.
		s.recordRefusedUpload(ctx, actor, stopped)
		return nil, errUploadRefused
	} else if parley.ErrorCode(err) != parley.ENotFound {
		return nil, err
	}
	m := &parley.Media{Mime: img.Mime, Size: int64(len(data)), Width: img.Width, Height: img.Height,
		UploaderID: actor.ID, CreatedAt: s.Clock.Now(),
		SHA256: img.SHA256, MD5: img.MD5, PDQ: img.Dihedral[0].String(), PDQQuality: img.PDQQuality}
	if m.ID, err = s.Blobs.Put(data); err != nil {
		return nil, err
	}
	if m.ThumbID, err = s.Blobs.Put(img.Thumb); err != nil {
		s.removeFiles(m)
		return nil, err
	}
	// The upload gate: matched against the hash banks before the image can
	// be attached anywhere. A block (or remove) match stops it for good: it
	// is kept as evidence, never shown, the account gets a strike, and a
	// case waits for a moderator. Review and label matches act when the
	// image is posted (the post's screen matches its hashes again).
	var sc *parley.Screening
	if s.Screen != nil {
		sc = s.Screen.ScreenUpload(m, img.Dihedral[:])
		if sc.Decision == parley.ScreenBlock || sc.Decision == parley.ScreenRemove {
			a, err := s.Screen.BlockUpload(ctx, m, sc)
			if err != nil {
				s.removeFiles(m)
				return nil, err
			}
			c := &review.Case{Kind: review.KindBlockedUpload, TargetType: review.TargetMedia, TargetID: m.ID,
				UserID: actor.ID, Priority: review.Priority(sc), Screening: sc, ActionID: a.ID, CreatedAt: m.CreatedAt}
			if err := s.Store.OpenCase(ctx, c); err != nil {
				s.log().Error("a blocked upload's review case could not be opened", "media", m.ID, "action", a.ID, "err", err)
			}
			if err := s.Store.RecordScreening(ctx, "media", m.ID, actor.ID, 0, sc, "", m.CreatedAt); err != nil {
				s.log().Warn("recording an upload's matches failed", "media", m.ID, "err", err)
			}
			s.log().Warn("upload stopped by a hash bank", "media", m.ID, "user", actor.ID, "bank", sc.By.Name, "action", a.ID)
			return nil, errUploadRefused
		}
	}
	if err := s.Store.SaveMedia(ctx, m); err != nil {
		s.removeFiles(m)
		return nil, err
	}
	if sc != nil && len(sc.Matches) > 0 {
		if err := s.Store.RecordScreening(ctx, "media", m.ID, actor.ID, 0, sc, "", m.CreatedAt); err != nil {
			s.log().Warn("recording an upload's matches failed", "media", m.ID, "err", err)
		}
	}
	return s.Store.FindMedia(ctx, m.ID)
}

// removeFiles deletes the files of an upload that was not stored: they
// belong to no item. A file that cannot be deleted is only logged.
func (s *Service) removeFiles(m *parley.Media) {
	for _, id := range []string{m.ID, m.ThumbID} {
		if id == "" {
			continue
		}
		if err := s.Blobs.Remove(id); err != nil {
			s.log().Warn("an upload that was not stored left a file behind", "blob", id, "err", err)
		}
	}
}

func (s *Service) member(ctx context.Context, chatID, userID int64) (*parley.Member, error) {
	m, err := s.Store.FindMember(ctx, chatID, userID)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, parley.Errorf(parley.EForbidden, "you are not a member of this chat")
	}
	return m, err
}

// cleanMessageText returns a message's text (or an image's caption) as it
// is stored: checked to be UTF-8 and cleaned (parley.CleanText), then
// counted against the limit.
func cleanMessageText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", parley.FieldError("text", "text must be valid UTF-8")
	}
	text = parley.CleanText(text)
	if n := utf8.RuneCountInString(text); n > parley.MaxMessageRunes {
		return "", parley.FieldError("text", "text is %d characters; the limit is %d", n, parley.MaxMessageRunes)
	}
	return text, nil
}

// cleanText returns a member-written field as it is stored: checked to be
// UTF-8, cleaned (parley.CleanLine for a title, parley.CleanText and
// trimmed otherwise), and between min and max characters once cleaned.
func cleanText(field, v string, oneLine bool, min, max int) (string, error) {
	if !utf8.ValidString(v) {
		return "", parley.FieldError(field, "%s must be valid UTF-8", field)
	}
	if oneLine {
		v = parley.CleanLine(v)
	} else {
		v = strings.TrimSpace(parley.CleanText(strings.TrimSpace(v)))
	}
	n := utf8.RuneCountInString(v)
	if n < min {
		return "", parley.FieldError(field, "%s is required", field)
	}
	if n > max {
		return "", parley.FieldError(field, "%s must be at most %d characters", field, max)
	}
	return v, nil
}

// checkBase64 checks that v is standard base64 decoding to between min and
// max bytes.
func checkBase64(field, v string, min, max int) error {
	if v == "" {
		return parley.FieldError(field, "%s is required", field)
	}
	if len(v) > base64.StdEncoding.EncodedLen(max) {
		return parley.FieldError(field, "%s is too long", field)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return parley.FieldError(field, "%s must be standard base64", field)
	}
	if len(b) < min || len(b) > max {
		return parley.FieldError(field, "%s must decode to %d to %d bytes", field, min, max)
	}
	return nil
}
