package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"parley"
)

// ruleUpdate stores the form as the next version of a rule, or backtests
// the draft. The form carries the version it started from: when someone
// saved another version meanwhile, nothing is stored and the form says so,
// with what was typed kept.
func (s *Server) ruleUpdate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	stored, _, err := s.Rules.Find(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return parley.Errorf(parley.EInvalid, "the form could not be read; please try again")
	}
	p := &ruleFormPage{page: modPage("Edit rule "+stored.ID, "rules"), Form: formFrom(r, ruleFields...), Editing: stored}
	p.Form.Values["id"] = stored.ID
	rule, lines := ruleFromForm(p.Form)
	rule.ID = stored.ID
	if r.PostFormValue("intent") == "backtest" {
		return s.ruleDraftBacktest(w, r, u, p, rule, lines)
	}
	if rule.Version, err = strconv.Atoi(strings.TrimSpace(p.Form.Get("version"))); err != nil || rule.Version < 1 {
		return s.renderRuleForm(w, r, p, parley.Errorf(parley.EInvalid, "the form does not say which version it edits; open the rule and edit it again"), rule.ID, lines)
	}
	saved, err := s.Rules.Edit(r.Context(), u, rule)
	if err != nil {
		return s.renderRuleForm(w, r, p, err, rule.ID, lines)
	}
	setFlash(w, fmt.Sprintf("Rule %s saved as version %d.", saved.ID, saved.Version))
	return seeOther(w, r, ruleURL(saved.ID))
}
