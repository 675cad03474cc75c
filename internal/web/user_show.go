package web

import (
	"net/http"

	"parley"
)

// userPage is the data of an account's page.
type userPage struct {
	page
	Person *parley.User
	Self   bool
}

// userShow shows an account's public profile with buttons to message it or
// to start a secret chat with it.
func (s *Server) userShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	person, err := s.Auth.Store.FindUserByUsername(r.Context(), r.PathValue("username"))
	if parley.ErrorCode(err) == parley.ENotFound {
		return parley.Errorf(parley.ENotFound, "there is no account named %q", r.PathValue("username"))
	} else if err != nil {
		return err
	}
	// Only what one account may see of another.
	shown := &parley.User{ID: person.ID, Username: person.Username, DisplayName: person.DisplayName, PublicKey: person.PublicKey}
	s.render(w, r, http.StatusOK, "user_show", &userPage{page: page{Title: person.DisplayName}, Person: shown, Self: person.ID == u.ID})
	return nil
}
