package web

import (
	"net/http"

	"parley/internal/api"
)

// signInPage is the data of the sign-in form. Next is where to go after
// signing in.
type signInPage struct {
	page
	Form *form
	Next string
}

// signInShow shows the sign-in form.
func (s *Server) signInShow(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"), "/chats")
	if api.CurrentUser(r.Context()) != nil {
		return seeOther(w, r, next)
	}
	s.render(w, r, http.StatusOK, "signin", &signInPage{page: page{Title: "Sign in"}, Form: newForm(), Next: next})
	return nil
}
