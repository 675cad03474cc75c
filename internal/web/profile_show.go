package web

import (
	"net/http"

	"parley"
)

// profilePage is the data of the profile form.
type profilePage struct {
	page
	Form *form
}

// profileShow shows the account's profile form and the state of its
// secret-chat keys in this browser.
func (s *Server) profileShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	f.Values["display_name"] = u.DisplayName
	f.Values["country"] = u.Country
	s.render(w, r, http.StatusOK, "profile", &profilePage{page: page{Title: "Profile", Section: "profile"}, Form: f})
	return nil
}
