package web

import (
	"fmt"
	"net/http"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/messaging"
)

// directCreate opens the direct chat with the named account, creating it
// the first time (there is one direct chat per pair of accounts).
func (s *Server) directCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	return s.createPairChat(w, r, u, parley.ChatDirect, "direct_new", "New chat")
}

// createPairChat creates a direct or secret chat with the account named in
// the form's username field, or re-renders the form with what is wrong.
func (s *Server) createPairChat(w http.ResponseWriter, r *http.Request, u *parley.User, kind parley.ChatKind, tmpl, title string) error {
	f := formFrom(r, "username")
	name := strings.TrimPrefix(strings.TrimSpace(f.Get("username")), "@")
	var chat *parley.Chat
	var err error
	if name == "" {
		err = parley.FieldError("username", "type the username of the person to chat with")
	} else if peer, ferr := s.Auth.Store.FindUserByUsername(r.Context(), name); parley.ErrorCode(ferr) == parley.ENotFound {
		err = parley.FieldError("username", "there is no account named %q", name)
	} else if ferr != nil {
		err = ferr
	} else {
		chat, err = s.Messaging.CreateChat(r.Context(), u, messaging.CreateChatInput{Kind: kind, PeerID: peer.ID})
	}
	if err != nil {
		if !formError(err) {
			return err
		}
		f.fail(err, map[string]string{"peer_id": "username", "peer": "username"})
		s.render(w, r, api.StatusOf(err), tmpl, &chatFormPage{page: page{Title: title, Section: "new"}, Form: f})
		return nil
	}
	return seeOther(w, r, fmt.Sprintf("/chats/%d", chat.ID))
}
