package web

import (
	"fmt"
	"net/http"
	"strconv"

	"parley"
	"parley/internal/api"
	"parley/internal/messaging"
)

// messageForwardSubmit forwards the message to the chosen chat, keeping its
// origin, and opens that chat.
func (s *Server) messageForwardSubmit(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadForwardPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Form = formFrom(r, "to")
	to, perr := strconv.ParseInt(p.Form.Get("to"), 10, 64)
	if perr != nil || to <= 0 {
		err = parley.FieldError("to", "choose a chat to forward to")
	} else {
		var up *parley.Update
		up, err = s.Messaging.PostMessage(r.Context(), u, to, messaging.PostInput{
			ForwardFrom: &messaging.MsgRef{ChatID: p.Chat.ID, Seq: p.Message.Seq}})
		if err == nil {
			setFlash(w, "Message forwarded.")
			return seeOther(w, r, fmt.Sprintf("/chats/%d#m-%d", to, up.Message.Seq))
		}
	}
	if !formError(err) {
		return err
	}
	p.Form.fail(err, map[string]string{"forward_from": "to"})
	if p.Form.Error != "" {
		p.Form.Errors["to"], p.Form.Error = p.Form.Error, ""
	}
	s.render(w, r, api.StatusOf(err), "message_forward", p)
	return nil
}
