package web

import (
	"fmt"
	"net/http"
	"strings"

	"parley"
)

// inviteRevoke stops an invite link from working. The form takes the link
// (or just its token), so an owner can revoke a link they shared earlier.
func (s *Server) inviteRevoke(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadInvitePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.Revoke = formFrom(r, "link")
	token := strings.TrimSpace(p.Revoke.Get("link"))
	if i := strings.LastIndex(token, "/join/"); i >= 0 {
		token = token[i+len("/join/"):]
	}
	token = strings.Trim(token, "/ ")
	var inv *parley.Invite
	if token == "" {
		err = parley.FieldError("link", "paste the invite link to revoke")
	} else if inv, err = s.Messaging.Store.FindInvite(r.Context(), token); err != nil || inv.ChatID != p.Chat.ID {
		err = parley.FieldError("link", "that is not an invite link of this group")
	} else {
		err = s.Messaging.RevokeInvite(r.Context(), u, token)
	}
	if err != nil {
		p.Revoke.fail(err, nil)
		return s.renderInviteError(w, r, p, err)
	}
	setFlash(w, "Invite link revoked. Nobody can join with it any more.")
	return seeOther(w, r, fmt.Sprintf("/chats/%d/invites", p.Chat.ID))
}
