package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/enforce"
)

// statementListPage is the data of the list of the decisions that affect
// the signed-in account.
type statementListPage struct {
	page
	Statements []statementRow
	// Older is the "before" of the next older page (0 when there is none).
	Older int64
}

// statementRow is one decision in the list.
type statementRow struct {
	*enforce.Action
	summary
	Category string
}

// statementList lists the statements of reasons the account has received,
// newest first (?before=ID for older ones).
func (s *Server) statementList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	before, err := queryID(r, "before")
	if err != nil {
		return err
	}
	list, err := s.Enforce.Mine(r.Context(), u, before, modPageSize)
	if err != nil {
		return err
	}
	p := &statementListPage{page: page{Title: "Your statements of reasons", Section: "statements"}}
	n := s.names(r.Context())
	for _, a := range list {
		row := statementRow{Action: a, summary: describe(n, a)}
		if a.Statement != nil {
			row.Category = categoryName(a.Statement.Category)
		}
		p.Statements = append(p.Statements, row)
	}
	if len(list) == modPageSize {
		p.Older = list[len(list)-1].ID
	}
	s.render(w, r, http.StatusOK, "statement_list", p)
	return nil
}
