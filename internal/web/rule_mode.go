package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/rules"
)

// ruleSwitchMode moves a rule from shadow to enforce mode or back. The
// switch is an edit, so it makes a new version; the form carries the
// version it was shown with, and a stale one is refused.
func (s *Server) ruleSwitchMode(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	sr, _, err := s.Rules.Find(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	// The switch has no fields to correct (only hidden ones), so any
	// refusal is the form's message, on the rule's page loaded only then.
	next := sr.Rule
	next.Mode = rules.Mode(r.PostFormValue("mode"))
	if _, err := fmt.Sscan(r.PostFormValue("version"), &next.Version); err != nil {
		next.Version = 0
	}
	saved, err := s.Rules.Edit(r.Context(), u, next)
	if err != nil {
		if !formError(err) || parley.ErrorCode(err) == parley.EForbidden || parley.ErrorCode(err) == parley.ENotFound {
			return err
		}
		p, perr := s.loadRulePage(r.Context(), r, u)
		if perr != nil {
			return perr
		}
		p.Switch.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "rule_show", p)
		return nil
	}
	switch {
	case saved.Mode == rules.ModeEnforce && saved.Enabled:
		setFlash(w, fmt.Sprintf("Rule %s switched to enforce mode (version %d): it acts on every new post it matches.", saved.ID, saved.Version))
	case saved.Mode == rules.ModeEnforce:
		setFlash(w, fmt.Sprintf("Rule %s switched to enforce mode (version %d); it acts once enabled.", saved.ID, saved.Version))
	default:
		setFlash(w, fmt.Sprintf("Rule %s back in shadow mode (version %d): its matches are only recorded.", saved.ID, saved.Version))
	}
	return seeOther(w, r, ruleURL(saved.ID))
}
