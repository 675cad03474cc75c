package api

import (
	"net/http"

	"parley"
	"parley/internal/audit"
)

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := queryAdminPage(r)
	if err != nil {
		return err
	}
	entries, err := s.Auth.Store.ListAuditEntries(r.Context(), after, limit)
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
