package api

import (
	"net/http"
	"strings"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

func (s *Server) handleApplyAction(w http.ResponseWriter, r *http.Request) error {
	var req enforce.Request
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	a, err := s.Enforce.Apply(r.Context(), CurrentUser(r.Context()), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) handleListActions(w http.ResponseWriter, r *http.Request) error {
	before, limit, err := queryPage(r, "before", 50)
	if err != nil {
		return err
	}
	f := enforce.Filter{BeforeID: before, Limit: int(limit), Kind: enforce.Kind(r.URL.Query().Get("kind"))}
	if f.Kind != "" && !f.Kind.Valid() {
		return parley.FieldError("kind", "unknown kind of action %q", f.Kind)
	}
	list, err := s.Enforce.List(r.Context(), CurrentUser(r.Context()), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": list})
	return nil
}

func (s *Server) handleGetAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "actionID")
	if err != nil {
		return err
	}
	a, err := s.Enforce.Find(r.Context(), CurrentUser(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleRestoreAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "actionID")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Enforce.Restore(r.Context(), CurrentUser(r.Context()), id, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleMyStatements(w http.ResponseWriter, r *http.Request) error {
	before, limit, err := queryPage(r, "before", 50)
	if err != nil {
		return err
	}
	list, err := s.Enforce.Mine(r.Context(), CurrentUser(r.Context()), before, int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": list})
	return nil
}

func (s *Server) handlePlaceHold(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Target enforce.Target `json:"target"`
		Reason string         `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	h, err := s.Enforce.PlaceHold(r.Context(), CurrentUser(r.Context()), in.Target, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, h)
	return nil
}

func (s *Server) handleReleaseHold(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "holdID")
	if err != nil {
		return err
	}
	if err := s.Enforce.ReleaseHold(r.Context(), CurrentUser(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListHolds(w http.ResponseWriter, r *http.Request) error {
	holds, err := s.Enforce.Holds(r.Context(), CurrentUser(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": holds})
	return nil
}

// handleExportStatements answers with one batch (at most 100) of statements
// of reasons in the Transparency Database's format, {"statements": [...]},
// the body its POST /api/v1/statements takes, and the cursor of the next
// batch.
func (s *Server) handleExportStatements(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	since, err := queryDate(q.Get("since"), "since")
	if err != nil {
		return err
	}
	if since.IsZero() {
		return parley.FieldError("since", "since is required: the first day, as YYYY-MM-DD")
	}
	until, err := queryDate(q.Get("until"), "until")
	if err != nil {
		return err
	}
	if !until.IsZero() {
		until = until.AddDate(0, 0, 1) // the whole last day
		if !until.After(since) {
			return parley.FieldError("until", "until must not be before since")
		}
	}
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	statements, last, err := s.Enforce.Statements(r.Context(), enforce.StatementRange{Since: since, Until: until, AfterID: after, Limit: sor.MaxBatchSize})
	if err != nil {
		return err
	}
	out := map[string]any{"statements": statements}
	if len(statements) == sor.MaxBatchSize {
		out["next_after"] = last
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// queryDate parses an optional YYYY-MM-DD (UTC) query value.
func queryDate(v, name string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, parley.FieldError(name, "%s must be a date as YYYY-MM-DD", name)
	}
	return d, nil
}
