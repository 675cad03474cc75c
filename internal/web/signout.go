package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
)

// signOut ends the session this browser signed in with (other sessions of
// the account stay) and clears the cookie. The secret-chat keys stay in the
// browser, so signing in again here opens the same secret chats.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, _ *parley.User) error {
	if sess := api.CurrentSession(r.Context()); sess != nil {
		if err := s.Auth.SignOut(r.Context(), sess); err != nil {
			return err
		}
	}
	s.API.ClearSessionCookie(w)
	setFlash(w, "You are signed out.")
	return seeOther(w, r, "/signin")
}
