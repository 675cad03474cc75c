package web

import (
	"net/http"

	"parley/internal/api"
)

// home sends signed-in accounts to their chats and everyone else to sign in.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if api.CurrentUser(r.Context()) != nil {
		return seeOther(w, r, "/chats")
	}
	return seeOther(w, r, "/signin")
}
