package web

import (
	"net/http"

	"parley/internal/api"
)

// signUpPage is the data of the sign-up form.
type signUpPage struct {
	page
	Form *form
	Next string
}

// signUpShow shows the sign-up form. A signed-in account has nothing to do
// here and goes to its chats.
func (s *Server) signUpShow(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"), "/chats")
	if api.CurrentUser(r.Context()) != nil {
		return seeOther(w, r, next)
	}
	s.render(w, r, http.StatusOK, "signup", &signUpPage{page: page{Title: "Create an account"}, Form: newForm(), Next: next})
	return nil
}
