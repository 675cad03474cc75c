package web

import (
	"net/http"

	"parley"
)

// caseDecided lists decided cases, in the order the review service gives
// them (the queue's: the most urgent first).
func (s *Server) caseDecided(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	cases, err := s.Review.Decided(r.Context(), u, caseListSize)
	if err != nil {
		return err
	}
	p := &caseListPage{page: modPage("Decided cases", "queue"), Decided: true}
	n := s.names(r.Context())
	for _, c := range cases {
		p.Cases = append(p.Cases, n.caseRow(c))
	}
	s.render(w, r, http.StatusOK, "case_list", p)
	return nil
}
