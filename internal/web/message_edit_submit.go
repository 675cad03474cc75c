package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/api"
)

// messageEditSubmit saves the new text and returns to the message. Everyone
// who has the chat open sees the change live, marked as edited.
func (s *Server) messageEditSubmit(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadEditPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Form = formFrom(r, "text")
	if _, err := s.Messaging.EditMessage(r.Context(), u, p.Chat.ID, p.Message.Seq, p.Form.Get("text")); err != nil {
		if !formError(err) {
			return err
		}
		p.Form.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "message_edit", p)
		return nil
	}
	return seeOther(w, r, fmt.Sprintf("/chats/%d#m-%d", p.Chat.ID, p.Message.Seq))
}
