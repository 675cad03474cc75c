package web

import (
	"net/http"
	"strconv"

	"parley"
	"parley/internal/safety/rules"
)

// ruleNew shows the form for a new rule, in shadow mode.
func (s *Server) ruleNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	for _, name := range ruleFields {
		f.Values[name] = ""
	}
	f.Values["action"] = string(rules.ActionHold)
	f.Values["mode"] = string(rules.ModeShadow)
	f.Values["limit"] = strconv.Itoa(defaultBacktestLimit)
	s.render(w, r, http.StatusOK, "rule_form", &ruleFormPage{page: modPage("New rule", "rules"), Form: f})
	return nil
}
