package web

import (
	"fmt"
	"net/http"

	"parley"
)

// holdRelease ends a legal hold.
func (s *Server) holdRelease(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Enforce.ReleaseHold(r.Context(), u, id); err != nil {
		return s.renderHoldForm(w, r, u, func(p *holdPage) *form { return p.Release }, err, nil)
	}
	setFlash(w, fmt.Sprintf("Legal hold %d released. Evidence it kept is deleted when its retention ends.", id))
	return seeOther(w, r, "/moderation/holds")
}
