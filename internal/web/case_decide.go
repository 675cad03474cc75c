package web

import (
	"fmt"
	"net/http"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/enforce"
)

// The decisions on a review case. Each is a form post on the case's page;
// a decision taken goes back to the queue, for the next case, and one the
// review service refuses (a case decided meanwhile, grounds a statement
// cannot be made from) comes back on the case's page.

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

// caseRefused shows the case's page with the refusal of a decision that
// has no fields (approve, confirm) on the form which picks; a case or item
// that is not found answers so.
func (s *Server) caseRefused(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*casePage) *form, err error) error {
	if parley.ErrorCode(err) == parley.ENotFound {
		return err
	}
	return s.renderCaseForm(w, r, u, which, err, nil)
}

// renderCaseForm shows the case's page, loaded only now, with err on the
// form which picks (or puts in place), or returns err when the page cannot
// show it.
func (s *Server) renderCaseForm(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*casePage) *form, err error, rename map[string]string) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
		return err
	}
	p, perr := s.loadCasePage(r.Context(), r, u)
	if perr != nil {
		return perr
	}
	which(p).failAll(err, rename)
	s.render(w, r, api.StatusOf(err), "case_show", p)
	return nil
}
