package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/safety/enforce"
)

// caseRemove removes a held or flagged post on the grounds the form gives,
// with a statement of reasons for its author. The screen found it (an
// automated detection, by the rule or bank named as the signal); the
// moderator decided.
func (s *Server) caseRemove(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := formFrom(r, groundsFields...)
	keywords := f.readList(r, "keywords")
	g, err := readGrounds(f, keywords)
	var a *enforce.Action
	if err == nil {
		a, err = s.Review.Remove(r.Context(), u, id, g)
	}
	if err != nil {
		return s.renderCaseForm(w, r, u, func(p *casePage) *form { p.Remove = f; return f }, err, actionErrorFields)
	}
	setFlash(w, fmt.Sprintf("Case #%d: the post was removed (action #%d). Its author can read the statement of reasons.", id, a.ID))
	return seeOther(w, r, "/moderation/queue")
}
