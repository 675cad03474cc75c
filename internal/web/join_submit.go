package web

import (
	"fmt"
	"net/http"

	"parley"
)

// joinSubmit joins the group of an invite link and opens it.
func (s *Server) joinSubmit(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadJoinPage(r.Context(), u, r.PathValue("token"))
	if err != nil {
		return err
	}
	if p.Already {
		return seeOther(w, r, fmt.Sprintf("/chats/%d", p.Chat.ID))
	}
	chat, err := s.Messaging.JoinByInvite(r.Context(), u, p.Token)
	if err != nil {
		if parley.ErrorCode(err) == parley.EConflict || parley.ErrorCode(err) == parley.ETooLarge {
			p.Problem = parley.ErrorMessage(err)
			s.render(w, r, http.StatusConflict, "join", p)
			return nil
		}
		return err
	}
	setFlash(w, "You joined "+isolate(chat.Title)+".")
	return seeOther(w, r, fmt.Sprintf("/chats/%d", chat.ID))
}
