package api

import (
	"net/http"

	"parley"
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

// handleVerifyAudit verifies the audit log from its newest checkpoint
// (audit.Log.Verify), which costs what was added since; with ?all=true it
// walks the whole log and checks every checkpoint against it
// (audit.Log.VerifyAll), as 'parley audit verify' does.
func (s *Server) handleVerifyAudit(w http.ResponseWriter, r *http.Request) error {
	verify := s.Audit.Verify
	switch r.URL.Query().Get("all") {
	case "", "false":
	case "true":
		verify = s.Audit.VerifyAll
	default:
		return parley.Errorf(parley.EInvalid, "all must be true or false")
	}
	report, err := verify(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}
