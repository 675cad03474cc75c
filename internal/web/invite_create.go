package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"parley"
)

// inviteCreate makes a new invite link for the group and shows it.
func (s *Server) inviteCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadInvitePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Form = formFrom(r, "expires_in")
	secs, perr := strconv.ParseInt(p.Form.Get("expires_in"), 10, 64)
	if perr != nil || secs < 0 {
		p.Form.Errors["expires_in"] = "choose how long the link works"
		return s.renderInviteError(w, r, p, parley.FieldError("expires_in", "choose how long the link works"))
	}
	inv, err := s.Messaging.CreateInvite(r.Context(), u, p.Chat.ID, time.Duration(secs)*time.Second)
	if err != nil {
		p.Form.fail(err, nil)
		return s.renderInviteError(w, r, p, err)
	}
	setFlash(w, "Invite link created.")
	return seeOther(w, r, fmt.Sprintf("/chats/%d/invites?created=%s", p.Chat.ID, url.QueryEscape(inv.Token)))
}
