package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/messaging"
)

// channelCreate creates a public channel owned by the user and opens it.
func (s *Server) channelCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := formFrom(r, "handle", "title", "description")
	chat, err := s.Messaging.CreateChat(r.Context(), u, messaging.CreateChatInput{Kind: parley.ChatChannel,
		Handle: f.Get("handle"), Title: f.Get("title"), Description: f.Get("description")})
	if err != nil {
		if !formError(err) {
			return err
		}
		if parley.ErrorCode(err) == parley.EConflict {
			f.Errors["handle"] = parley.ErrorMessage(err) // the handle is taken
		} else {
			f.fail(err, nil)
		}
		s.render(w, r, api.StatusOf(err), "channel_new", &chatFormPage{page: page{Title: "New channel", Section: "new"}, Form: f})
		return nil
	}
	setFlash(w, "Channel @"+chat.Handle+" created. Share it by its handle; anyone can subscribe.")
	return seeOther(w, r, fmt.Sprintf("/chats/%d", chat.ID))
}
