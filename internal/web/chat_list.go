package web

import (
	"net/http"
	"strconv"
	"strings"

	"parley"
)

// chatListPage is the data of the chat list.
type chatListPage struct {
	page
	Chats []chatItem
	// Resume is the live socket's resume list (CHAT:PTS,...): the page
	// asks for every update after what it shows, so nothing that happens
	// between rendering and connecting is missed.
	Resume string
}

// chatItem is one row of the chat list.
type chatItem struct {
	*parley.ChatSummary
	Name    string
	Preview chatPreview
}

// chatPreview is the one-line summary of a chat's newest message: who sent
// it (empty for a notice) and the start of it. The two are kept apart so
// that the page can isolate each (a right-to-left name must not reorder
// the message after it).
type chatPreview struct{ Sender, Text string }

// chatList shows the account's chats, the most recently active first, each
// with its newest message. The page's script keeps it current: a chat with
// a new message moves to the top and is marked.
func (s *Server) chatList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	chats, err := s.Messaging.ListChats(r.Context(), u)
	if err != nil {
		return err
	}
	p := &chatListPage{page: page{Title: "Chats", Section: "chats"}}
	var resume []string
	for _, c := range chats {
		p.Chats = append(p.Chats, chatItem{ChatSummary: c, Name: chatName(&c.Chat, c.PeerName), Preview: preview(&c.Chat, c.LastMessage)})
		if len(resume) < 1000 {
			resume = append(resume, strconv.FormatInt(c.ID, 10)+":"+strconv.FormatInt(c.Pts, 10))
		}
	}
	p.Resume = strings.Join(resume, ",")
	s.render(w, r, http.StatusOK, "chat_list", p)
	return nil
}

// chatName is how a chat is called in lists and headings: its title, or the
// other person's name for a two-person chat.
func chatName(c *parley.Chat, peerName string) string {
	switch c.Kind {
	case parley.ChatDirect:
		if peerName != "" {
			return peerName
		}
		return "Direct chat"
	case parley.ChatSecret:
		if peerName != "" {
			return "Secret chat with " + isolate(peerName)
		}
		return "Secret chat"
	}
	return c.Title
}

// preview is the one-line summary of a chat's newest message. A secret
// chat's is never shown: the server cannot read it.
func preview(c *parley.Chat, m *parley.Message) chatPreview {
	switch {
	case c.Notice != nil:
		return chatPreview{Text: excerpt(80, c.Notice.Text)}
	case m == nil:
		return chatPreview{Text: "No messages yet"}
	case c.Kind == parley.ChatSecret:
		return chatPreview{Text: "Encrypted message"}
	case m.Notice != nil && m.Text == "" && m.MediaID == "":
		return chatPreview{Text: excerpt(80, m.Notice.Text)}
	case m.Moderation != nil && m.Moderation.AgeRestricted != nil:
		return chatPreview{m.SenderName, "Age-restricted message"} // shown only on request, on the chat's page
	case m.Text != "":
		return chatPreview{m.SenderName, excerpt(80, m.Text)}
	case m.MediaID != "":
		return chatPreview{m.SenderName, "Image"}
	}
	return chatPreview{}
}
