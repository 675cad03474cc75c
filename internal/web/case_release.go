package web

import (
	"fmt"
	"net/http"
	"strings"

	"parley"
)

// caseRelease decides that an upload stop was a false positive: the block
// is restored, with the reason the form gives, so the image can be used
// and the uploader's strike is taken back.
func (s *Server) caseRelease(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := formFrom(r, "reason")
	reason := strings.TrimSpace(f.Get("reason"))
	if reason == "" {
		err = parley.FieldError("reason", "say why the block was wrong, such as the bank entry it matched being a false positive")
	} else {
		err = s.Review.ReleaseBlock(r.Context(), u, id, reason)
	}
	if err != nil {
		return s.renderCaseForm(w, r, u, func(p *casePage) *form { p.Release = f; return f }, err, nil)
	}
	setFlash(w, fmt.Sprintf("Case #%d: the block was released. The image can be used again and the strike is taken back; add an allow entry to the bank so that it does not match again.", id))
	return seeOther(w, r, "/moderation/queue")
}
