package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"parley"
	"parley/internal/messaging"
)

// historyPage is how many messages a chat page shows at once.
const historyPage = 50

// chatPage is the data of a chat page.
type chatPage struct {
	page
	Chat *parley.Chat
	Name string
	// Member is the viewer's membership; nil when reading a public channel
	// without subscribing.
	Member   *parley.Member
	Peer     *parley.User // the other account of a direct or secret chat
	Messages []*messageView
	// Before is the "before" of this page (0 for the newest messages) and
	// Older the "before" of the next older page (0 when there is none).
	Before, Older int64
	CanPost       bool
	CanManage     bool
	// CanDeleteOthers: the viewer may delete others' messages (the owner and
	// admins of a group or channel; nobody in a two-person chat).
	CanDeleteOthers bool
	Secret          bool
	ReplyTo         *parley.Message
	Form            *form
}

// Latest reports whether the page shows the newest messages, where live
// messages are appended.
func (p *chatPage) Latest() bool { return p.Before == 0 }

// messageView is one message as a chat page shows it.
type messageView struct {
	*parley.Message
	Own        bool
	CanReply   bool
	CanEdit    bool
	CanDelete  bool
	CanForward bool
	Secret     bool
	// Label is the text of a label shown beside the message; AgeRestricted
	// puts its content behind a reveal the viewer opens.
	Label         string
	AgeRestricted bool
	// ReplyExcerpt is the start of the message replied to, when it is on
	// the page.
	ReplyExcerpt string
}

// chatShow shows a chat: its newest messages (or an older page with
// ?before=SEQ), a form to post, and the data the page's script needs to go
// live (the chat id and its pts). A private chat the viewer is not in is
// reported as not found, so its existence is not revealed.
func (s *Server) chatShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return err
	}
	before, err := queryID(r, "before")
	if err != nil {
		return err
	}
	reply, err := queryID(r, "reply")
	if err != nil {
		return err
	}
	p, err := s.loadChatPage(r.Context(), u, chatID, before, reply)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "chat_show", p)
	return nil
}

// loadChatPage gathers everything a chat page shows. The chat (with its
// pts) is read before the messages, so an update that lands in between is
// both on the page and sent again by the live socket; the script drops such
// duplicates by sequence number, and nothing is missed.
func (s *Server) loadChatPage(ctx context.Context, u *parley.User, chatID, before, reply int64) (*chatPage, error) {
	chat, member, err := s.Messaging.GetChat(ctx, u, chatID)
	if err != nil {
		return nil, err
	}
	var msgs []*parley.Message
	if chat.Notice == nil {
		// A chat that is banned, or withheld where the viewer is, shows
		// its notice instead of its messages.
		if msgs, err = s.Messaging.History(ctx, u, chatID, before, historyPage); err != nil {
			return nil, err
		}
	}
	slices.Reverse(msgs) // oldest first, as a conversation reads
	p := &chatPage{
		page:   page{Title: chat.Title, Section: "chats"},
		Chat:   chat,
		Member: member,
		Before: before,
		Secret: chat.Kind == parley.ChatSecret,
		Form:   newForm(),
	}
	p.Form.Values["text"] = ""
	p.Form.Values["image"] = ""
	if member != nil && chat.Notice == nil {
		p.CanPost = member.Role.CanPost(chat.Kind)
		p.CanManage = member.Role.CanManage()
		p.CanDeleteOthers = messaging.ModeratesOthers(chat.Kind, member.Role)
	}
	if len(msgs) == historyPage {
		p.Older = msgs[0].Seq
	}
	if chat.Kind == parley.ChatDirect || chat.Kind == parley.ChatSecret {
		if p.Peer, err = s.peerOf(ctx, chat, u); err != nil {
			return nil, err
		}
	}
	peerName := ""
	if p.Peer != nil {
		peerName = p.Peer.DisplayName
	}
	p.Name = chatName(chat, peerName)
	p.Title = p.Name

	if chat.Kind == parley.ChatChannel && len(msgs) > 0 {
		// Showing a channel post counts as one view by this account.
		var seqs []int64
		for _, m := range msgs[max(0, len(msgs)-100):] {
			seqs = append(seqs, m.Seq)
		}
		views, err := s.Messaging.RecordViews(ctx, u, chatID, seqs)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if v, ok := views[m.Seq]; ok {
				m.Views = v
			}
		}
	}

	bySeq := map[int64]*parley.Message{}
	for _, m := range msgs {
		bySeq[m.Seq] = m
	}
	now := s.Messaging.Clock.Now()
	for _, m := range msgs {
		v := &messageView{Message: m, Own: m.SenderID == u.ID, Secret: p.Secret}
		// A notice other than "held" stands in for content this viewer may
		// not see (removed, withheld): there is nothing to edit or forward.
		hidden := m.Notice != nil && m.Notice.Kind != parley.NoticeHeld
		v.CanEdit = v.Own && !p.Secret && !hidden && now.Sub(m.CreatedAt) <= parley.EditWindow
		v.CanDelete = v.Own || p.CanDeleteOthers
		v.CanReply = p.CanPost && !p.Secret
		v.CanForward = !p.Secret && m.Notice == nil
		if mod := m.Moderation; mod != nil && !hidden {
			if mod.Label != nil {
				v.Label = mod.Label.Reason
			}
			v.AgeRestricted = mod.AgeRestricted != nil
		}
		if orig, ok := bySeq[m.ReplyToSeq]; ok && !p.Secret {
			v.ReplyExcerpt = excerpt(60, orig.Text)
		}
		p.Messages = append(p.Messages, v)
	}

	if reply > 0 && p.CanPost {
		if m, ok := bySeq[reply]; ok {
			p.ReplyTo = m
		} else if m, err := s.Messaging.Store.FindMessage(ctx, chatID, reply); err == nil && !m.Deleted() {
			// The chat is readable (GetChat passed), so its message may be shown.
			p.ReplyTo = m
		}
	}
	return p, nil
}

// peerOf returns the other account of a two-person chat, after GetChat has
// established that u may read it.
func (s *Server) peerOf(ctx context.Context, chat *parley.Chat, u *parley.User) (*parley.User, error) {
	members, err := s.Messaging.Store.ListMembers(ctx, chat.ID, 0, 2)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.UserID != u.ID {
			peer, err := s.Auth.Store.FindUserByID(ctx, m.UserID)
			if err != nil {
				return nil, err
			}
			// Only what one account may see of another.
			return &parley.User{ID: peer.ID, Username: peer.Username, DisplayName: peer.DisplayName, PublicKey: peer.PublicKey}, nil
		}
	}
	return nil, nil
}

// pathID parses a positive whole-number path parameter. A malformed id is
// a page that does not exist.
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, parley.Errorf(parley.ENotFound, "there is no page at %s", r.URL.Path)
	}
	return v, nil
}

// queryID parses an optional positive whole-number query parameter (0 when
// absent).
func queryID(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, parley.FieldError(name, "%s must be a positive whole number", name)
	}
	return v, nil
}
