package web

import (
	"fmt"
	"net/http"

	"parley"
)

// messageDelete deletes a message for everyone (the sender may, and so may
// the owner and admins of a group or channel: messaging.ModeratesOthers) and
// returns to the chat.
func (s *Server) messageDelete(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return err
	}
	seq, err := pathID(r, "seq")
	if err != nil {
		return err
	}
	if _, err := s.Messaging.DeleteMessage(r.Context(), u, chatID, seq); err != nil {
		return err
	}
	setFlash(w, "Message deleted.")
	return seeOther(w, r, fmt.Sprintf("/chats/%d", chatID))
}
