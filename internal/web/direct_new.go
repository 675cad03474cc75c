package web

import (
	"net/http"

	"parley"
)

// directNew shows the form that starts a direct chat with someone by
// username, with links to the other kinds of chat one can start.
func (s *Server) directNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	f.Values["username"] = r.URL.Query().Get("username")
	s.render(w, r, http.StatusOK, "direct_new", &chatFormPage{page: page{Title: "New chat", Section: "new"}, Form: f})
	return nil
}
