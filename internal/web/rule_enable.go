package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/rules"
)

// ruleSetEnabled enables or disables a rule.
func (s *Server) ruleSetEnabled(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	enabled := r.PostFormValue("enabled") == "true"
	sr, err := s.Rules.SetEnabled(r.Context(), u, r.PathValue("id"), enabled)
	if err != nil {
		return err
	}
	switch {
	case !sr.Enabled:
		setFlash(w, "Rule "+sr.ID+" disabled: it matches nothing until enabled again.")
	case sr.Mode == rules.ModeShadow:
		setFlash(w, "Rule "+sr.ID+" enabled in shadow mode: its matches are recorded below, and nothing is acted on.")
	default:
		setFlash(w, "Rule "+sr.ID+" enabled in enforce mode: it acts on every new post it matches.")
	}
	return seeOther(w, r, ruleURL(sr.ID))
}
