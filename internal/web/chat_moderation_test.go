package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// scamGrounds are a moderator's grounds under the terms of service.
var scamGrounds = enforce.Grounds{
	Ground:      sor.GroundIncompatibleContent,
	TermsGround: "Section 4.2 (scams) of the Parley Terms of Service",
	Category:    sor.CategoryScamsAndFraud,
	Source:      sor.SourceVoluntary,
	Automation:  sor.NotAutomated,
}

// moderator makes a moderator account for actions taken in a test.
func (s *server) moderator(t *testing.T) *parley.User {
	t.Helper()
	u, err := s.Auth.CreateUser(context.Background(), auth.SignUpInput{Username: "moddy", Password: "correct horse battery"}, parley.RoleModerator)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (s *server) act(t *testing.T, mod *parley.User, req enforce.Request) *enforce.Action {
	t.Helper()
	a, err := s.Enforce.Apply(context.Background(), mod, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Kind, err)
	}
	return a
}

// TestChatPageFollowsModerationLive checks what the chat page and the
// chat list give the page's script for enforcement (the page's notices,
// labels and age gates are checked in moderation_test.go): a banned
// channel's notice inside the banner live.js updates, the page marked as
// rendered hidden so that a restore reloads it, and the chat list previews
// a hidden chat, a removed post and an age-restricted one without their
// content.
func TestChatPageFollowsModerationLive(t *testing.T) {
	s := startServer(t)
	mod := s.moderator(t)
	author := newBrowser(t, s)
	author.signUp("author")
	ctx := context.Background()
	owner, err := s.Auth.Store.FindUserByUsername(ctx, "author")
	if err != nil {
		t.Fatal(err)
	}
	var chats []*parley.Chat
	for _, handle := range []string{"bazaar", "gallery", "arcade"} {
		ch, err := s.Messaging.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: handle, Title: handle})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Messaging.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: "secret sauce of " + handle}); err != nil {
			t.Fatal(err)
		}
		chats = append(chats, ch)
	}
	msg := func(chatID int64) enforce.Target {
		return enforce.Target{Type: enforce.TargetMessage, ChatID: chatID, Seq: 1}
	}
	s.act(t, mod, enforce.Request{Kind: enforce.RemoveMessage, Target: msg(chats[0].ID), Grounds: scamGrounds})
	s.act(t, mod, enforce.Request{Kind: enforce.AgeRestrictMessage, Target: msg(chats[1].ID), Grounds: scamGrounds})
	ban := s.act(t, mod, enforce.Request{Kind: enforce.BanChat, Target: enforce.Target{Type: enforce.TargetChat, ChatID: chats[2].ID}, Grounds: scamGrounds})

	p := author.get(fmt.Sprintf("/chats/%d", chats[2].ID)).wantStatus(t, "banned channel", http.StatusOK)
	p.contains(t, "banned channel", `data-hidden="true"`,
		fmt.Sprintf(`<div class="chat-notice" data-chat-notice role="status" aria-live="polite"><p class="notice" role="note">This channel was banned: Scams and fraud. <a href="/statements/%d">Why?</a></p></div>`, ban.ID))
	p.lacks(t, "banned channel", "secret sauce", `id="compose"`)
	author.get(fmt.Sprintf("/chats/%d", chats[0].ID)).wantStatus(t, "open channel", http.StatusOK).
		contains(t, "open channel", `data-hidden="false"`, `<div class="chat-notice" data-chat-notice role="status" aria-live="polite"></div>`)

	list := author.get("/chats").wantStatus(t, "chat list", http.StatusOK)
	list.contains(t, "chat list",
		`<span class="chat-preview"><bdi>This channel was banned: Scams and fraud.</bdi></span>`,
		`<span class="chat-preview"><bdi>This message was removed: Scams and fraud.</bdi></span>`,
		`<span class="chat-preview"><bdi>Author</bdi>: <bdi>Age-restricted message</bdi></span>`)
	if strings.Contains(list.Body, "secret sauce") {
		t.Errorf("the chat list previews content that is removed, banned or age-restricted")
	}
}
