package web

import (
	"net/http"

	"parley"
)

// ruleCreate stores a new rule (disabled, version 1), or backtests the
// draft when the form's backtest button was pressed.
func (s *Server) ruleCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	if err := r.ParseForm(); err != nil {
		return parley.Errorf(parley.EInvalid, "the form could not be read; please try again")
	}
	p := &ruleFormPage{page: modPage("New rule", "rules"), Form: formFrom(r, ruleFields...)}
	rule, lines := ruleFromForm(p.Form)
	if r.PostFormValue("intent") == "backtest" {
		return s.ruleDraftBacktest(w, r, u, p, rule, lines)
	}
	stored, err := s.Rules.Create(r.Context(), u, rule)
	if err != nil {
		return s.renderRuleForm(w, r, p, err, rule.ID, lines)
	}
	setFlash(w, "Rule "+stored.ID+" created, disabled. Backtest it, watch it in shadow mode, then enable it.")
	return seeOther(w, r, ruleURL(stored.ID))
}
