package api

import (
	"net/http"

	"parley"
	"parley/internal/messaging"
)

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	var in messaging.PostInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Messaging.PostMessage(r.Context(), CurrentUser(r.Context()), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u.Message)
	return nil
}

func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	seq, err := pathInt(r, "seq")
	if err != nil {
		return err
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Messaging.EditMessage(r.Context(), CurrentUser(r.Context()), id, seq, in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u.Message)
	return nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	seq, err := pathInt(r, "seq")
	if err != nil {
		return err
	}
	if _, err := s.Messaging.DeleteMessage(r.Context(), CurrentUser(r.Context()), id, seq); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	before, limit, err := queryPage(r, "before", 50)
	if err != nil {
		return err
	}
	msgs, err := s.Messaging.History(r.Context(), CurrentUser(r.Context()), id, before, int(limit))
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []*parley.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
	return nil
}

func (s *Server) handleUpdates(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	after, limit, err := queryPage(r, "after_pts", 100)
	if err != nil {
		return err
	}
	ups, err := s.Messaging.Updates(r.Context(), CurrentUser(r.Context()), id, after, int(limit))
	if err != nil {
		return err
	}
	if ups == nil {
		ups = []*parley.Update{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"updates": ups})
	return nil
}

func (s *Server) handleViews(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	var in struct {
		Seqs []int64 `json:"seqs"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	views, err := s.Messaging.RecordViews(r.Context(), CurrentUser(r.Context()), id, in.Seqs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"views": views})
	return nil
}
