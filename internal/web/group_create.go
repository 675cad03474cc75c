package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/messaging"
)

// groupCreate creates a group owned by the user and opens it. Members join
// with invite links made on the group's invite page.
func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := formFrom(r, "title", "description", "member_limit")
	in := messaging.CreateChatInput{Kind: parley.ChatGroup, Title: f.Get("title"), Description: f.Get("description")}
	var err error
	if v := strings.TrimSpace(f.Get("member_limit")); v != "" {
		if in.MemberLimit, err = strconv.ParseInt(v, 10, 64); err != nil {
			err = parley.FieldError("member_limit", "member limit must be a whole number, or empty for the default of %d", parley.DefaultMemberLimit)
		}
	}
	var chat *parley.Chat
	if err == nil {
		chat, err = s.Messaging.CreateChat(r.Context(), u, in)
	}
	if err != nil {
		if !formError(err) {
			return err
		}
		f.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "group_new", &chatFormPage{page: page{Title: "New group", Section: "new"}, Form: f})
		return nil
	}
	setFlash(w, "Group created. Make an invite link to bring people in.")
	return seeOther(w, r, fmt.Sprintf("/chats/%d", chat.ID))
}
