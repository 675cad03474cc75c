package web

import (
	"fmt"
	"net/http"

	"parley"
)

// caseApprove decides that a held post is fine: it becomes visible.
func (s *Server) caseApprove(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Review.Approve(r.Context(), u, id); err != nil {
		return s.caseRefused(w, r, u, func(p *casePage) *form { return p.Decide }, err)
	}
	setFlash(w, fmt.Sprintf("Case #%d approved: the post is visible to everyone now.", id))
	return seeOther(w, r, "/moderation/queue")
}
