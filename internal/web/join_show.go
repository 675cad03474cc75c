package web

import (
	"context"
	"net/http"

	"parley"
)

// joinPage is the data of an invite link's page.
type joinPage struct {
	page
	Token   string
	Chat    *parley.Chat
	Already bool   // the user is a member already
	Problem string // why the link cannot be used, if it cannot
}

// joinShow shows where an invite link leads, with a button to join. Joining
// is a separate POST, so following a link never joins by itself.
func (s *Server) joinShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p, err := s.loadJoinPage(r.Context(), u, r.PathValue("token"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if p.Problem != "" {
		status = http.StatusGone
	}
	s.render(w, r, status, "join", p)
	return nil
}

func (s *Server) loadJoinPage(ctx context.Context, u *parley.User, token string) (*joinPage, error) {
	notFound := parley.Errorf(parley.ENotFound, "this invite link does not exist; ask for a new one")
	inv, err := s.Messaging.Store.FindInvite(ctx, token)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	chat, err := s.Messaging.Store.FindChatByID(ctx, inv.ChatID)
	if err != nil {
		return nil, err
	}
	p := &joinPage{page: page{Title: "Join " + isolate(chat.Title)}, Token: token, Chat: chat}
	if _, err := s.Messaging.Store.FindMember(ctx, chat.ID, u.ID); err == nil {
		p.Already = true
	}
	if !inv.Usable(s.Messaging.Clock.Now()) {
		p.Problem = "This invite link has expired or was revoked. Ask a member of the group for a new one."
	}
	return p, nil
}
