package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"parley"
	"parley/internal/safety/enforce"
)

// actionPage is the data of an action's page for staff: everything about
// it, including what members never see (the note, who took it, the
// evidence kept).
type actionPage struct {
	page
	actionRow
	Affected   string
	ReversedBy string
	// StatementJSON is the statement as the Transparency Database takes it.
	StatementJSON string
	Evidence      []evidenceView
	Restore       *form
	// HoldURL opens the legal-hold form ready to keep this target.
	HoldURL string
}

// evidenceView is one piece of evidence, its content indented for reading.
type evidenceView struct {
	*enforce.Evidence
	Content string
}

// CanRestore reports whether the action can be restored from its page: it
// stands, and it is not part of another action (restore that one).
func (p *actionPage) CanRestore() bool { return p.Standing() && p.ParentID == 0 }

// actionShow shows one enforcement action to staff.
func (s *Server) actionShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadActionPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "action_show", p)
	return nil
}

func (s *Server) loadActionPage(ctx context.Context, r *http.Request, u *parley.User) (*actionPage, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	a, err := s.Enforce.Find(ctx, u, id)
	if err != nil {
		return nil, err
	}
	n := s.names(ctx)
	p := &actionPage{page: modPage(fmt.Sprintf("Action #%d", a.ID), "actions"), actionRow: n.actionRow(a), Restore: newForm()}
	p.Restore.Values["reason"] = ""
	p.Affected = n.username(a.AffectedUserID, "no account")
	p.HoldURL = holdURL(n, a.Target)
	if a.ReversedAt != nil {
		p.ReversedBy = n.username(a.ReversedBy, "the system")
	}
	if a.Statement != nil {
		b, err := json.MarshalIndent(a.Statement, "", "  ")
		if err != nil {
			return nil, err
		}
		p.StatementJSON = string(b)
	}
	evidence, err := s.Enforce.Store.ListEvidence(ctx, a.Target)
	if err != nil {
		return nil, err
	}
	for _, e := range evidence {
		var buf bytes.Buffer
		content := e.Content
		if json.Indent(&buf, []byte(e.Content), "", "  ") == nil {
			content = buf.String()
		}
		p.Evidence = append(p.Evidence, evidenceView{Evidence: e, Content: content})
	}
	return p, nil
}
