package web

import (
	"net/http"

	"parley"
)

// groupNew shows the form to create a group.
func (s *Server) groupNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	for _, n := range []string{"title", "description", "member_limit"} {
		f.Values[n] = ""
	}
	s.render(w, r, http.StatusOK, "group_new", &chatFormPage{page: page{Title: "New group", Section: "new"}, Form: f})
	return nil
}
