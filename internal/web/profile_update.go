package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/auth"
)

// profileUpdate saves the display name and country. The country is the
// member's own say (screening rules may read it as the author's declared
// country); what is withheld from the member never follows it, but where a
// trusted source places the request (see parley.ViewerOf).
func (s *Server) profileUpdate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := formFrom(r, "display_name", "country")
	name, country := f.Get("display_name"), f.Get("country")
	if _, err := s.Auth.UpdateProfile(r.Context(), u, auth.ProfileInput{DisplayName: &name, Country: &country}); err != nil {
		if !formError(err) {
			return err
		}
		f.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "profile", &profilePage{page: page{Title: "Profile", Section: "profile"}, Form: f})
		return nil
	}
	setFlash(w, "Profile saved.")
	return seeOther(w, r, "/profile")
}
