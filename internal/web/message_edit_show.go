package web

import (
	"context"
	"net/http"

	"parley"
)

// messageEditPage is the data of the edit form.
type messageEditPage struct {
	page
	Chat    *parley.Chat
	Message *parley.Message
	Form    *form
}

// messageEditShow shows a form to change the text of one's own message.
func (s *Server) messageEditShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadEditPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Form.Values["text"] = p.Message.Text
	s.render(w, r, http.StatusOK, "message_edit", p)
	return nil
}

// loadEditPage finds the chat and the message to edit, and checks early
// what EditMessage checks again, so nobody fills in a form that cannot work.
func (s *Server) loadEditPage(ctx context.Context, r *http.Request, u *parley.User) (*messageEditPage, error) {
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
		return nil, parley.Errorf(parley.EConflict, "secret messages cannot be edited; delete and send again")
	}
	m, err := s.Messaging.Store.FindMessage(ctx, chatID, seq)
	if err != nil || m.Deleted() {
		return nil, parley.Errorf(parley.ENotFound, "message %d of this chat does not exist", seq)
	}
	if m.SenderID != u.ID {
		return nil, parley.Errorf(parley.EForbidden, "only the sender can edit a message")
	}
	return &messageEditPage{page: page{Title: "Edit message", Section: "chats"}, Chat: chat, Message: m, Form: newForm()}, nil
}
