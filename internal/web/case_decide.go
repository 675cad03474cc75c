package web

import (
	"fmt"
	"net/http"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/enforce"
	"parley/internal/safety/screen"
	"parley/internal/sor"
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
		return s.caseRefused(w, r, u, func(p *casePage) *form { return p.Decide }, err, nil)
	}
	setFlash(w, fmt.Sprintf("Case #%d approved: the post is visible to everyone now.", id))
	return seeOther(w, r, "/moderation/queue")
}

// caseRemove removes a held or flagged post on the grounds the form gives,
// with a statement of reasons for its author. The screen found it (an
// automated detection, by the rule or bank named as the signal); the
// moderator decided.
func (s *Server) caseRemove(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadCasePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Remove = formFrom(r, groundsFields...)
	keywords := p.Remove.readList(r, "keywords")
	g, err := readGrounds(p.Remove, keywords)
	var a *enforce.Action
	if err == nil {
		g.Source = sor.SourceVoluntary
		g.AutomatedDetection = true
		g.Automation = sor.NotAutomated
		if sc := p.Screening; sc != nil && sc.By != nil {
			g.Signal = screen.Grounds(sc.By).Signal
		}
		a, err = s.Review.Remove(r.Context(), u, p.ID, g)
	}
	if err != nil {
		return s.renderCaseForm(w, r, p, p.Remove, err, actionErrorFields)
	}
	setFlash(w, fmt.Sprintf("Case #%d: the post was removed (action #%d). Its author can read the statement of reasons.", p.ID, a.ID))
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
		return s.caseRefused(w, r, u, func(p *casePage) *form { return p.Decide }, err, nil)
	}
	setFlash(w, fmt.Sprintf("Case #%d: the block is confirmed. The image stays blocked, kept as evidence.", id))
	return seeOther(w, r, "/moderation/queue")
}

// caseRelease decides that an upload stop was a false positive: the block
// is restored, with the reason the form gives, so the image can be used
// and the uploader's strike is taken back.
func (s *Server) caseRelease(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadCasePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Release = formFrom(r, "reason")
	reason := strings.TrimSpace(p.Release.Get("reason"))
	if reason == "" {
		err = parley.FieldError("reason", "say why the block was wrong, such as the bank entry it matched being a false positive")
	} else {
		err = s.Review.ReleaseBlock(r.Context(), u, p.ID, reason)
	}
	if err != nil {
		return s.renderCaseForm(w, r, p, p.Release, err, nil)
	}
	setFlash(w, fmt.Sprintf("Case #%d: the block was released. The image can be used again and the strike is taken back; add an allow entry to the bank so that it does not match again.", p.ID))
	return seeOther(w, r, "/moderation/queue")
}

// caseRefused shows the case's page with a refused decision's message on
// the form which picks.
func (s *Server) caseRefused(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*casePage) *form, err error, rename map[string]string) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EFORBIDDEN || parley.ErrorCode(err) == parley.ENOTFOUND {
		return err
	}
	p, perr := s.loadCasePage(r.Context(), r, u)
	if perr != nil {
		return perr
	}
	return s.renderCaseForm(w, r, p, which(p), err, rename)
}

// renderCaseForm shows the case's page with err on form f, or returns err
// when the page cannot show it.
func (s *Server) renderCaseForm(w http.ResponseWriter, r *http.Request, p *casePage, f *form, err error, rename map[string]string) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EFORBIDDEN {
		return err
	}
	f.failAll(err, rename)
	s.render(w, r, api.StatusOf(err), "case_show", p)
	return nil
}
