package api

import (
	"net/http"

	"parley"
	"parley/internal/audit"
)

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) error {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return parley.FieldError("limit", "limit must be between 1 and 1000")
	}
	entries, err := s.Auth.Store.ListAuditEntries(r.Context(), after, int(limit))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []*parley.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	return nil
}

func (s *Server) handleVerifyAudit(w http.ResponseWriter, r *http.Request) error {
	report, err := audit.Verify(r.Context(), s.Auth.Store.ListAuditEntries)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}
