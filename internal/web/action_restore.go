package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/api"
)

// actionRestore takes an action back, with the reason the form gives. A
// refusal comes back on the action's page, loaded only then.
func (s *Server) actionRestore(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := formFrom(r, "reason")
	if _, err := s.Enforce.Restore(r.Context(), u, id, f.Get("reason")); err != nil {
		if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
			return err
		}
		p, perr := s.loadActionPage(r.Context(), r, u)
		if perr != nil {
			return perr
		}
		p.Restore = f
		p.Restore.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "action_show", p)
		return nil
	}
	setFlash(w, "Action restored: its effect was taken back, and the affected account’s statement says so.")
	return seeOther(w, r, fmt.Sprintf("/moderation/actions/%d", id))
}
