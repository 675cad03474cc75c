package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
)

// The decisions on a review case. Each is a form post on the case's page;
// a decision taken goes back to the queue, for the next case, and one the
// review service refuses (a case decided meanwhile, grounds a statement
// cannot be made from) comes back on the case's page.

// caseRefused shows the case's page with the refusal of a decision that
// has no fields (approve, confirm) on the form which picks; a case or item
// that is not found answers so.
func (s *Server) caseRefused(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*casePage) *form, err error) error {
	if parley.ErrorCode(err) == parley.ENotFound {
		return err
	}
	return s.renderCaseForm(w, r, u, which, err, nil)
}

// renderCaseForm shows the case's page, loaded only now, with err on the
// form which picks (or puts in place), or returns err when the page cannot
// show it.
func (s *Server) renderCaseForm(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*casePage) *form, err error, rename map[string]string) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
		return err
	}
	p, perr := s.loadCasePage(r.Context(), r, u)
	if perr != nil {
		return perr
	}
	which(p).failAll(err, rename)
	s.render(w, r, api.StatusOf(err), "case_show", p)
	return nil
}
