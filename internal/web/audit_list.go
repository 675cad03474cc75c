package web

import (
	"context"
	"net/http"
	"slices"

	"parley"
	"parley/internal/audit"
)

// auditPage is the data of the audit log page.
type auditPage struct {
	page
	Report  audit.Report
	Entries []auditRow
	// Older is the "before" of the next older page (0 when there is none).
	Older int64
	// Paged is set on any page but the newest.
	Paged bool
}

// auditRow is one entry of the audit log.
type auditRow struct {
	*parley.AuditEntry
	Actor string
}

// auditList shows the audit log to admins, newest first (?before=ID), with
// the verification of its hash chain at the top. The API gives the log to
// admins only, and so does this page.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	before, err := queryID(r, "before")
	if err != nil {
		return err
	}
	report, last, err := s.verifyAudit(r.Context())
	if err != nil {
		return err
	}
	p := &auditPage{page: modPage("Audit log", "audit"), Report: report}
	if before == 0 || before > last+1 {
		before = last + 1
	}
	p.Paged = before <= last
	// Entry ids count from 1 without gaps (the chain checks it), so the
	// page before id B starts after B-1-modPageSize.
	after := max(0, before-1-modPageSize)
	entries, err := s.Auth.Store.ListAuditEntries(r.Context(), after, modPageSize)
	if err != nil {
		return err
	}
	n := s.names(r.Context())
	for _, e := range entries {
		if e.ID < before {
			p.Entries = append(p.Entries, auditRow{AuditEntry: e, Actor: n.username(e.ActorID, "system")})
		}
	}
	slices.Reverse(p.Entries)
	if after > 0 {
		p.Older = after + 1
	}
	s.render(w, r, http.StatusOK, "audit", p)
	return nil
}

// verifyAudit checks the whole chain, as 'parley audit verify' does, and
// returns the id of the newest entry, reading the log once: when the chain
// breaks early the rest is read only for its last id.
func (s *Server) verifyAudit(ctx context.Context) (audit.Report, int64, error) {
	var last int64
	list := func(ctx context.Context, afterID int64, limit int) ([]*parley.AuditEntry, error) {
		page, err := s.Auth.Store.ListAuditEntries(ctx, afterID, limit)
		if len(page) > 0 {
			last = max(last, page[len(page)-1].ID)
		}
		return page, err
	}
	report, err := audit.Verify(ctx, list)
	if err != nil {
		return report, 0, err
	}
	for !report.Intact {
		page, err := list(ctx, last, 1000)
		if err != nil {
			return report, 0, err
		}
		if len(page) < 1000 {
			break
		}
	}
	return report, last, nil
}
