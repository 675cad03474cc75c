package web

import (
	"context"
	"net/http"

	"parley"
	"parley/internal/api"
)

// invitePage is the data of a group's invite-link page.
type invitePage struct {
	page
	Chat *parley.Chat
	// Created is the invite just made, shown once with its full link.
	Created *parley.Invite
	Link    string
	Form    *form // the new-link form
	Revoke  *form // the revoke form
	// Working lists the links that still work, newest first.
	Working []inviteRow
}

// inviteRow is one working link, with its full address.
type inviteRow struct {
	*parley.Invite
	Link string
}

// inviteExpiry is one choice of how long a new link works.
type inviteExpiry struct {
	Seconds int64
	Label   string
}

// inviteExpiries are the choices for how long a new link works.
var inviteExpiries = []inviteExpiry{
	{0, "Until revoked"},
	{3600, "1 hour"},
	{86400, "1 day"},
	{7 * 86400, "7 days"},
	{30 * 86400, "30 days"},
}

// Expiries lists the choices for a new link's lifetime.
func (p *invitePage) Expiries() []inviteExpiry { return inviteExpiries }

// inviteList shows a group's invite-link page to its owner and admins: make
// a link that expires, see the one just made, revoke one. ?created=TOKEN
// shows the link that was just made (the owner already holds it).
func (s *Server) inviteList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadInvitePage(r.Context(), r, u)
	if err != nil {
		return err
	}
	if token := r.URL.Query().Get("created"); token != "" {
		inv, err := s.Messaging.Store.FindInvite(r.Context(), token)
		if err == nil && inv.ChatID == p.Chat.ID {
			p.Created, p.Link = inv, inviteLink(r, inv.Token)
		}
	}
	s.render(w, r, http.StatusOK, "invites", p)
	return nil
}

// loadInvitePage checks that u manages the group.
func (s *Server) loadInvitePage(ctx context.Context, r *http.Request, u *parley.User) (*invitePage, error) {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return nil, err
	}
	chat, me, err := s.Messaging.GetChat(ctx, u, chatID)
	if err != nil {
		return nil, err
	}
	if chat.Kind != parley.ChatGroup {
		return nil, parley.Errorf(parley.ENotFound, "only groups have invite links")
	}
	if me == nil || !me.Role.CanManage() {
		return nil, parley.Errorf(parley.EForbidden, "only the group's owner and admins manage its invite links")
	}
	p := &invitePage{page: page{Title: "Invite links · " + isolate(chat.Title), Section: "chats"}, Chat: chat, Form: newForm(), Revoke: newForm()}
	invites, err := s.Messaging.ListInvites(ctx, u, chatID)
	if err != nil {
		return nil, err
	}
	for _, inv := range invites {
		p.Working = append(p.Working, inviteRow{Invite: inv, Link: inviteLink(r, inv.Token)})
	}
	p.Form.Values["expires_in"] = "0"
	p.Revoke.Values["link"] = ""
	return p, nil
}

// inviteLink is the full address of an invite, to copy and share.
func inviteLink(r *http.Request, token string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/join/" + token
}

// renderInviteError re-renders the invite page with a form's error.
func (s *Server) renderInviteError(w http.ResponseWriter, r *http.Request, p *invitePage, err error) error {
	if !formError(err) {
		return err
	}
	s.render(w, r, api.StatusOf(err), "invites", p)
	return nil
}
