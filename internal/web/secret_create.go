package web

import (
	"net/http"

	"parley"
)

// secretCreate starts a new end-to-end encrypted chat with the named
// account and opens it. Unlike direct chats, a pair may have several.
func (s *Server) secretCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	return s.createPairChat(w, r, u, parley.ChatSecret, "secret_new", "New secret chat")
}
