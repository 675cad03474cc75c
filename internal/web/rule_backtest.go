package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
)

// ruleBacktest runs the rule's current version over the stored posts and
// shows the report on its page.
func (s *Server) ruleBacktest(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadRulePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.BacktestForm = formFrom(r, "limit")
	limit, err := backtestLimit(p.BacktestForm)
	if err == nil {
		p.Backtest, err = s.Rules.Backtest(r.Context(), u, p.Rule, limit)
	}
	if err != nil {
		if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
			return err
		}
		p.BacktestForm.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "rule_show", p)
		return nil
	}
	s.render(w, r, http.StatusOK, "rule_show", p)
	return nil
}
