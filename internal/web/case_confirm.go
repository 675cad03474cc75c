package web

import (
	"fmt"
	"net/http"

	"parley"
)

// caseConfirm decides that an upload a hash bank stopped was rightly
// stopped: the image stays blocked, kept as evidence.
func (s *Server) caseConfirm(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Review.ConfirmBlock(r.Context(), u, id); err != nil {
		return s.caseRefused(w, r, u, func(p *casePage) *form { return p.Decide }, err)
	}
	setFlash(w, fmt.Sprintf("Case #%d: the block is confirmed. The image stays blocked, kept as evidence.", id))
	return seeOther(w, r, "/moderation/queue")
}
