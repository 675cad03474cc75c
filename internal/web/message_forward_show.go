package web

import (
	"context"
	"net/http"

	"parley"
)

// messageForwardPage is the data of the forward form: the message and the
// chats it can go to.
type messageForwardPage struct {
	page
	Chat    *parley.Chat
	Message *parley.Message
	Targets []chatItem
	Form    *form
}

// messageForwardShow asks where to forward a message. Only chats the user
// may post in are offered; secret chats are left out, as a forward would
// put readable text into them.
func (s *Server) messageForwardShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadForwardPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "message_forward", p)
	return nil
}

func (s *Server) loadForwardPage(ctx context.Context, r *http.Request, u *parley.User) (*messageForwardPage, error) {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return nil, err
	}
	seq, err := pathID(r, "seq")
	if err != nil {
		return nil, err
	}
	chat, _, err := s.Messaging.GetChat(ctx, u, chatID)
	if err != nil {
		return nil, err
	}
	if chat.Kind == parley.ChatSecret {
		return nil, parley.Errorf(parley.EConflict, "messages from secret chats cannot be forwarded")
	}
	m, err := s.Messaging.Store.FindMessage(ctx, chatID, seq)
	if err != nil || m.Deleted() {
		return nil, parley.Errorf(parley.ENotFound, "message %d of this chat does not exist", seq)
	}
	chats, err := s.Messaging.ListChats(ctx, u)
	if err != nil {
		return nil, err
	}
	p := &messageForwardPage{page: page{Title: "Forward message", Section: "chats"}, Chat: chat, Message: m, Form: newForm()}
	p.Form.Values["to"] = ""
	for _, c := range chats {
		if c.Kind != parley.ChatSecret && c.MyRole.CanPost(c.Kind) {
			p.Targets = append(p.Targets, chatItem{ChatSummary: c, Name: chatName(&c.Chat, c.PeerName)})
		}
	}
	return p, nil
}
