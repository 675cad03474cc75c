package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/enforce"
)

// holdPage is the data of the legal holds page: the holds in force, and
// for legal officers and admins the forms to place and release them.
type holdPage struct {
	page
	Holds   []holdRow
	Place   *form
	Release *form
}

// holdRow is one legal hold in force.
type holdRow struct {
	*enforce.LegalHold
	Target link
	By     string
}

// holdFields are the fields of the form that places a hold.
var holdFields = []string{"target_type", "chat_id", "seq", "media_id", "username", "reason"}

// TargetTypes are the kinds of target a hold may cover.
func (p *holdPage) TargetTypes() []option {
	return []option{
		{"", "Choose what to keep"},
		{enforce.TargetMessage, "A message"},
		{enforce.TargetChat, "A channel or group, with its messages"},
		{enforce.TargetUser, "An account, with what it posted and uploaded"},
		{enforce.TargetMedia, "An image"},
	}
}

// holdList shows the legal holds in force, oldest first. The target may be
// given in the query (?target_type=message&chat_id=3&seq=7), so that an
// action's page can link to the form ready to place a hold.
func (s *Server) holdList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadHoldPage(r.Context(), u)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	for _, name := range holdFields {
		p.Place.Values[name] = q.Get(name)
	}
	s.render(w, r, http.StatusOK, "holds", p)
	return nil
}

// placeErrorFields names the form field of each field the enforcement
// service reports problems of a hold on.
var placeErrorFields = mergeFields(targetFields, map[string]string{"target.type": "target_type"})

// renderHoldForm shows the holds page, loaded only now, with err on the
// form which picks (or puts in place), or returns err when the page cannot
// show it.
func (s *Server) renderHoldForm(w http.ResponseWriter, r *http.Request, u *parley.User, which func(*holdPage) *form, err error, rename map[string]string) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
		return err
	}
	p, perr := s.loadHoldPage(r.Context(), u)
	if perr != nil {
		return perr
	}
	which(p).fail(err, rename)
	s.render(w, r, api.StatusOf(err), "holds", p)
	return nil
}

func (s *Server) loadHoldPage(ctx context.Context, u *parley.User) (*holdPage, error) {
	holds, err := s.Enforce.Holds(ctx, u)
	if err != nil {
		return nil, err
	}
	p := &holdPage{page: modPage("Legal holds", "holds"), Place: newForm(), Release: newForm()}
	for _, name := range holdFields {
		p.Place.Values[name] = ""
	}
	n := s.names(ctx)
	for _, h := range holds {
		p.Holds = append(p.Holds, holdRow{LegalHold: h, Target: n.target(h.Target), By: n.username(h.CreatedBy, "the system")})
	}
	return p, nil
}

// holdURL is the address of the legal-hold form filled in for target t.
func holdURL(n *names, t enforce.Target) string {
	q := url.Values{"target_type": {t.Type}}
	switch t.Type {
	case enforce.TargetMessage:
		q.Set("chat_id", strconv.FormatInt(t.ChatID, 10))
		q.Set("seq", strconv.FormatInt(t.Seq, 10))
	case enforce.TargetChat:
		q.Set("chat_id", strconv.FormatInt(t.ChatID, 10))
	case enforce.TargetMedia:
		q.Set("media_id", t.MediaID)
	case enforce.TargetUser:
		if u := n.user(t.UserID); u != nil {
			q.Set("username", u.Username)
		}
	}
	return "/moderation/holds?" + q.Encode() + "#place-title"
}

// mergeFields returns the renames of a and b together.
func mergeFields(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
