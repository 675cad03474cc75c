package messaging_test

import (
	"context"
	"testing"

	"parley"
	"parley/internal/messaging"
)

// dirty carries what no member types on purpose: NUL, an escape sequence, a
// C1 control, a right-to-left override, a Windows line end and an isolate
// left open.
const dirty = "pay\x00 \x1b[2Jnow\u0085 \u202egpj.exe\r\nnext \u2067line"

// cleaned is dirty as the store keeps it.
const cleaned = "pay [2Jnow gpj.exe\nnext \u2067line\u2069"

// TestMemberTextIsCleaned checks every text a member writes through the
// messaging service: messages (with or without an image, so captions too),
// edits, forwards of text stored before cleaning, and chat titles and
// descriptions.
func TestMemberTextIsCleaned(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.user(t, "alice"), f.user(t, "bob")

	g := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "\u202eClub\x00\nNight ", Description: " " + dirty + " "})
	ch := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "clean_news", Title: "News\x1b", Description: "line one\r\nline two"})
	for _, c := range []struct{ what, got, want string }{
		{"group title", g.Title, "Club Night"},
		{"group description", g.Description, cleaned},
		{"channel title", ch.Title, "News"},
		{"channel description", ch.Description, "line one\nline two"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if stored, err := f.db.FindChatByID(ctx, g.ID); err != nil || stored.Title != "Club Night" || stored.Description != cleaned {
		t.Errorf("stored group = %+v, %v", stored, err)
	}
	_, err := f.svc.CreateChat(ctx, a, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "\x00\u202e\n"})
	wantErr(t, "a title of nothing but control characters", err, parley.EInvalid, "title")

	m := f.post(t, a, g.ID, dirty)
	if m.Text != cleaned {
		t.Errorf("posted text = %q, want %q", m.Text, cleaned)
	}
	img := f.upload(t, a, pngBytes(t, 16, 16, 3))
	up, err := f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{Text: "caption\x07 \u202dhere", MediaID: img.ID})
	if err != nil || up.Message.Text != "caption here" {
		t.Errorf("caption = %+v, %v; want %q", up, err, "caption here")
	}
	_, err = f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{Text: "\x00\x1b\u202e"})
	wantErr(t, "a message of nothing but control characters", err, parley.EInvalid, "text")
	_, err = f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{Text: "bad \xff utf-8"})
	wantErr(t, "invalid UTF-8", err, parley.EInvalid, "text")

	ed, err := f.svc.EditMessage(ctx, a, g.ID, m.Seq, "edited\x00 \u202bnow")
	if err != nil || ed.Message.Text != "edited now" {
		t.Errorf("edit = %+v, %v; want %q", ed, err, "edited now")
	}
	_, err = f.svc.EditMessage(ctx, a, g.ID, m.Seq, "\x00")
	wantErr(t, "an edit to nothing", err, parley.EInvalid, "text")

	// Text stored before cleaning existed is cleaned when it is forwarded.
	old := &parley.Message{ChatID: g.ID, SenderID: a.ID, Text: dirty, CreatedAt: f.clock.Now()}
	oldUp, err := f.db.InsertMessage(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	f.join(t, a, b, g.ID)
	d := f.chat(t, b, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: a.ID})
	fw, err := f.svc.PostMessage(ctx, b, d.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: g.ID, Seq: oldUp.Message.Seq}})
	if err != nil || fw.Message.Text != cleaned {
		t.Errorf("forward of old text = %+v, %v; want %q", fw, err, cleaned)
	}
}
