package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/screen"
	"parley/internal/sor"
)

// ruleListPage is the data of the list of screening rules.
type ruleListPage struct {
	page
	Rules []ruleRow
}

// ruleRow is one rule as the list and the rule's page show it.
type ruleRow struct {
	*screen.StoredRule
	ActionLabel string
	Category    string
	EditedBy    string
}

// ruleList lists every rule's current version, by id.
func (s *Server) ruleList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	list, err := s.Rules.List(r.Context(), u)
	if err != nil {
		return err
	}
	p := &ruleListPage{page: modPage("Screening rules", "rules")}
	n := s.names(r.Context())
	for _, sr := range list {
		p.Rules = append(p.Rules, n.ruleRow(sr))
	}
	s.render(w, r, http.StatusOK, "rule_list", p)
	return nil
}

func (n *names) ruleRow(sr *screen.StoredRule) ruleRow {
	row := ruleRow{StoredRule: sr, ActionLabel: ruleActionLabel(sr.Action), EditedBy: n.username(sr.CreatedBy, "the system")}
	if sr.Category != "" {
		row.Category = categoryName(sor.Category(sr.Category))
	}
	return row
}
