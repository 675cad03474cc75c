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

// TestChatPageShowsModeration checks what the server renders of
// enforcement on a chat page: the notice of a removed message in place of
// its content (with the statement's link for its author only), a label
// beside content, age-restricted content behind a button, and for a banned
// channel its notice instead of any message, with no form to post, and in
// the chat list.
func TestChatPageShowsModeration(t *testing.T) {
	s := startServer(t)
	mod := s.moderator(t)
	author, reader := newBrowser(t, s), newBrowser(t, s)
	author.signUp("author")
	reader.signUp("reader")
	ctx := context.Background()
	owner, err := s.Auth.Store.FindUserByUsername(ctx, "author")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Messaging.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "bazaar", Title: "Bazaar"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"double your coins today", "the moon landing was staged", "grisly crash photos"} {
		if _, err := s.Messaging.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	removal := s.act(t, mod, enforce.Request{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: 1}, Grounds: scamGrounds})
	s.act(t, mod, enforce.Request{Kind: enforce.LabelMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: 2}, Label: "Disputed claim", Grounds: scamGrounds})
	s.act(t, mod, enforce.Request{Kind: enforce.AgeRestrictMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: 3}, Grounds: scamGrounds})

	chat := fmt.Sprintf("/chats/%d", ch.ID)
	p := reader.get(chat).wantStatus(t, "reader's chat page", http.StatusOK)
	p.contains(t, "reader's page",
		`<p class="notice" role="note">This message was removed: Scams and fraud.</p>`,
		`<p class="msg-label"><span class="visually-hidden">Label: </span>Disputed claim</p>`,
		`data-reveal aria-expanded="false" aria-controls="m-3-body"`,
		`<div class="msg-body" id="m-3-body" hidden>`)
	p.lacks(t, "reader's page", "double your coins", "/statements/", chat+"/messages/1/forward")
	mine := author.get(chat).wantStatus(t, "author's chat page", http.StatusOK)
	mine.contains(t, "author's page", fmt.Sprintf(`This message was removed: Scams and fraud. <a href="/statements/%d">Why?</a>`, removal.ID))
	mine.lacks(t, "author's page", "double your coins", chat+"/messages/1/edit")

	ban := s.act(t, mod, enforce.Request{Kind: enforce.BanChat, Target: enforce.Target{Type: enforce.TargetChat, ChatID: ch.ID}, Grounds: scamGrounds})
	p = reader.get(chat).wantStatus(t, "banned channel", http.StatusUnavailableForLegalReasons)
	p.contains(t, "banned channel", `data-hidden="true"`, `<p class="notice">This channel was banned: Scams and fraud.</p>`)
	p.lacks(t, "banned channel", "moon landing", `id="messages"><li`, "No messages yet")
	mine = author.get(chat).wantStatus(t, "banned channel, owner", http.StatusUnavailableForLegalReasons)
	mine.contains(t, "owner's banned channel", fmt.Sprintf(`<a href="/statements/%d">Why?</a>`, ban.ID))
	mine.lacks(t, "owner's banned channel", `id="compose"`)
	if strings.Contains(mine.Body, "grisly") {
		t.Errorf("the banned channel's page shows its posts")
	}
	author.get("/chats").wantStatus(t, "chat list", http.StatusOK).
		contains(t, "chat list", `<span class="chat-preview">This channel was banned: Scams and fraud.</span>`)
}
