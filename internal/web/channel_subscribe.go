package web

import (
	"fmt"
	"net/http"

	"parley"
)

// channelSubscribe subscribes the user to a channel and opens it. Pressing
// the button twice is harmless.
func (s *Server) channelSubscribe(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return err
	}
	err = s.Messaging.Subscribe(r.Context(), u, chatID)
	switch parley.ErrorCode(err) {
	case "":
		setFlash(w, "Subscribed. New posts appear here as they are published.")
	case parley.EConflict: // already subscribed
	default:
		return err
	}
	return seeOther(w, r, fmt.Sprintf("/chats/%d", chatID))
}
