package web

import (
	"net/http"

	"parley"
)

// holdPlace places a legal hold from the form.
func (s *Server) holdPlace(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := formFrom(r, holdFields...)
	typ := f.Get("target_type")
	t, err := s.targetForm(r.Context(), f, typ)
	if err == nil {
		if typ == "" {
			err = parley.FieldError("target_type", "choose what the hold keeps")
		} else {
			_, err = s.Enforce.PlaceHold(r.Context(), u, t, f.Get("reason"))
		}
	}
	if err != nil {
		return s.renderHoldForm(w, r, u, func(p *holdPage) *form { p.Place = f; return f }, err, placeErrorFields)
	}
	setFlash(w, "Legal hold placed: evidence about the target is kept until the hold is released.")
	return seeOther(w, r, "/moderation/holds")
}
