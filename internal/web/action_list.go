package web

import (
	"net/http"

	"parley"
	"parley/internal/safety/enforce"
)

// actionListPage is the data of the list of enforcement actions.
type actionListPage struct {
	page
	Filter  *form
	Actions []actionRow
	// Older is the "before" of the next older page (0 when there is none).
	Older int64
	Kind  string
}

// actionRow is one action as staff lists show it.
type actionRow struct {
	*enforce.Action
	KindLabel string
	Target    link
	Actor     string
}

// KindOptions lists the kinds for the filter.
func (p *actionListPage) KindOptions() []option { return kindOptions("Every kind") }

// actionList lists enforcement actions for staff, newest first, filtered by
// kind (?kind=) and paged (?before=ID).
func (s *Server) actionList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	before, err := queryID(r, "before")
	if err != nil {
		return err
	}
	p := &actionListPage{page: modPage("Enforcement actions", "actions"), Filter: newForm()}
	kind := enforce.Kind(r.URL.Query().Get("kind"))
	p.Filter.Values["kind"] = string(kind)
	if kind != "" && !kind.Valid() {
		return parley.FieldError("kind", "there is no kind of action %q", kind)
	}
	p.Kind = string(kind)
	list, err := s.Enforce.List(r.Context(), u, enforce.Filter{Kind: kind, BeforeID: before, Limit: modPageSize})
	if err != nil {
		return err
	}
	n := s.names(r.Context())
	for _, a := range list {
		p.Actions = append(p.Actions, n.actionRow(a))
	}
	if len(list) == modPageSize {
		p.Older = list[len(list)-1].ID
	}
	s.render(w, r, http.StatusOK, "action_list", p)
	return nil
}

func (n *names) actionRow(a *enforce.Action) actionRow {
	return actionRow{Action: a, KindLabel: kindLabel(a.Kind), Target: n.target(a.Target), Actor: n.username(a.ActorID, "automated")}
}
