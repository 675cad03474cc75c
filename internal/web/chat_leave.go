package web

import (
	"net/http"

	"parley"
)

// chatLeave leaves a group or unsubscribes from a channel.
func (s *Server) chatLeave(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return err
	}
	chat, _, err := s.Messaging.GetChat(r.Context(), u, chatID)
	if err != nil {
		return err
	}
	if err := s.Messaging.Leave(r.Context(), u, chatID); err != nil {
		if parley.ErrorCode(err) == parley.EForbidden {
			return parley.Errorf(parley.EConflict, "you are not a member of %s", isolate(chat.Title))
		}
		return err
	}
	setFlash(w, "You left "+isolate(chatName(chat, ""))+".")
	return seeOther(w, r, "/chats")
}
