package web

import (
	"net/http"

	"parley"
)

// secretNew shows the form that starts a secret chat. Both accounts must
// have opened Parley in a browser once, which makes and publishes their
// keys; the form says so when one has not.
func (s *Server) secretNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	f.Values["username"] = r.URL.Query().Get("username")
	s.render(w, r, http.StatusOK, "secret_new", &chatFormPage{page: page{Title: "New secret chat", Section: "new"}, Form: f})
	return nil
}
