package web

import (
	"net/http"
	"strconv"

	"parley"
)

// ruleEdit shows the form for the next version of a rule, filled in with
// the current one.
func (s *Server) ruleEdit(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	stored, _, err := s.Rules.Find(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := newForm()
	for _, name := range ruleFields {
		f.Values[name] = ""
	}
	setRuleForm(f, &stored.Rule)
	f.Values["limit"] = strconv.Itoa(defaultBacktestLimit)
	s.render(w, r, http.StatusOK, "rule_form", &ruleFormPage{page: modPage("Edit rule "+stored.ID, "rules"), Form: f, Editing: stored})
	return nil
}
