package messaging_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/media"
	"parley/internal/messaging"
	"parley/internal/pdq"
	"parley/internal/safety/rules"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

// fixture is a messaging service on a real SQLite store in a temporary
// directory, with a clock the test controls.
type fixture struct {
	svc      *messaging.Service
	db       *sqlite.DB
	clock    *testclock.Clock
	mediaDir string
}

func setup(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	mediaDir := filepath.Join(dir, "media")
	blobs, err := media.NewBlobs(mediaDir)
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.At(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	svc := &messaging.Service{Store: db, Blobs: blobs, Clock: clock, Users: db,
		Limits: media.Limits{MaxBytes: 256 << 10, MaxPixels: 1 << 20}}
	return &fixture{svc: svc, db: db, clock: clock, mediaDir: mediaDir}
}

// user creates an account directly in the store: these tests are about
// messaging, not passwords.
func (f *fixture) user(t testing.TB, name string) *parley.User {
	t.Helper()
	u := &parley.User{Username: name, DisplayName: name, Role: parley.RoleMember, CreatedAt: f.clock.Now()}
	if err := f.db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// withKey gives u a secret-chat public key, as the browser would.
func (f *fixture) withKey(t *testing.T, u *parley.User) {
	t.Helper()
	u.PublicKey = `{"kty":"EC","crv":"P-256","x":"AAAA","y":"BBBB"}`
	if err := f.db.UpdateProfile(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) chat(t testing.TB, owner *parley.User, in messaging.CreateChatInput) *parley.Chat {
	t.Helper()
	c, err := f.svc.CreateChat(context.Background(), owner, in)
	if err != nil {
		t.Fatalf("CreateChat(%+v): %v", in, err)
	}
	return c
}

func (f *fixture) channel(t *testing.T, owner *parley.User, handle string) *parley.Chat {
	t.Helper()
	return f.chat(t, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: handle, Title: "Channel " + handle})
}

func (f *fixture) group(t testing.TB, owner *parley.User, limit int64) *parley.Chat {
	t.Helper()
	return f.chat(t, owner, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Group", MemberLimit: limit})
}

func (f *fixture) post(t *testing.T, u *parley.User, chatID int64, text string) *parley.Message {
	t.Helper()
	up, err := f.svc.PostMessage(context.Background(), u, chatID, messaging.PostInput{Text: text})
	if err != nil {
		t.Fatalf("PostMessage(%q): %v", text, err)
	}
	return &up.Message
}

func (f *fixture) join(t testing.TB, owner, u *parley.User, chatID int64) {
	t.Helper()
	inv, err := f.svc.CreateInvite(context.Background(), owner, chatID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.JoinByInvite(context.Background(), u, inv.Token); err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err is a *parley.Error with the given code and, when
// field is not empty, naming that field.
func wantErr(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error; want %s", what, code)
	}
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %s; want %s", what, err, got, code)
	}
	if field != "" && parley.ErrorField(err) != field {
		t.Fatalf("%s: error %v names field %q; want %q", what, err, parley.ErrorField(err), field)
	}
}

func seqs(msgs []*parley.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}

func TestChannelRules(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	owner, admin, sub, reader := f.user(t, "owner"), f.user(t, "admin"), f.user(t, "sub"), f.user(t, "reader")
	ch := f.channel(t, owner, "@news_room")
	if ch.Handle != "news_room" {
		t.Fatalf("handle = %q; want the @ stripped", ch.Handle)
	}

	// Subscribers are counted and may read but not post.
	for _, u := range []*parley.User{admin, sub} {
		if err := f.svc.Subscribe(ctx, u, ch.ID); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "subscribing twice", f.svc.Subscribe(ctx, sub, ch.ID), parley.EConflict, "")
	got, m, err := f.svc.GetChat(ctx, sub, ch.ID)
	if err != nil || m == nil || m.Role != parley.MemberSubscriber {
		t.Fatalf("GetChat by subscriber = membership %+v, %v; want a subscriber", m, err)
	}
	if got.MemberCount != 3 {
		t.Fatalf("member count = %d; want 3 (owner and two subscribers)", got.MemberCount)
	}
	first := f.post(t, owner, ch.ID, "hello subscribers")
	_, err = f.svc.PostMessage(ctx, sub, ch.ID, messaging.PostInput{Text: "me too"})
	wantErr(t, "subscriber posting", err, parley.EForbidden, "")
	_, err = f.svc.PostMessage(ctx, reader, ch.ID, messaging.PostInput{Text: "drive-by"})
	wantErr(t, "non-subscriber posting", err, parley.EForbidden, "")

	// Only the owner promotes; an admin then posts.
	wantErr(t, "subscriber promoting", f.svc.SetMemberRole(ctx, sub, ch.ID, admin.ID, parley.MemberAdmin), parley.EForbidden, "")
	wantErr(t, "member role in a channel", f.svc.SetMemberRole(ctx, owner, ch.ID, admin.ID, parley.MemberRegular), parley.EInvalid, "role")
	if err := f.svc.SetMemberRole(ctx, owner, ch.ID, admin.ID, parley.MemberAdmin); err != nil {
		t.Fatal(err)
	}
	f.post(t, admin, ch.ID, "admin speaking")

	// A public channel is readable without subscribing.
	c, m, err := f.svc.GetChat(ctx, reader, ch.ID)
	if err != nil || m != nil || c.ID != ch.ID {
		t.Fatalf("GetChat by a non-subscriber = %+v, %+v, %v; want the channel without membership", c, m, err)
	}
	msgs, err := f.svc.History(ctx, reader, ch.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[1].Text != first.Text || msgs[0].Text != "admin speaking" {
		t.Fatalf("history read by a non-subscriber = %+v", msgs)
	}
	ups, err := f.svc.Updates(ctx, reader, ch.ID, 0, 50)
	if err != nil || len(ups) != 2 {
		t.Fatalf("updates read by a non-subscriber = %d, %v; want 2", len(ups), err)
	}

	// Discovery by handle (any case, with or without @) and by title.
	byHandle, err := f.svc.FindChannel(ctx, reader, "@NEWS_ROOM")
	if err != nil || byHandle.ID != ch.ID {
		t.Fatalf("FindChannel = %+v, %v", byHandle, err)
	}
	other := f.chat(t, reader, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "weather", Title: "Rain Forecasts"})
	for q, want := range map[string][]int64{"news": {ch.ID}, "FORECAST": {other.ID}, "@weath": {other.ID}, "nothing-like-it": nil} {
		found, err := f.svc.SearchChannels(ctx, reader, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range found {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("SearchChannels(%q) = %v; want %v", q, ids, want)
		}
	}
	_, err = f.svc.CreateChat(ctx, reader, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "News_Room", Title: "Copycat"})
	wantErr(t, "taken handle in another case", err, parley.EConflict, "")
	_, err = f.svc.CreateChat(ctx, reader, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "a b", Title: "Bad"})
	wantErr(t, "bad handle", err, parley.EInvalid, "handle")
	_, err = f.svc.CreateChat(ctx, reader, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "notitle"})
	wantErr(t, "missing title", err, parley.EInvalid, "title")
	_, err = f.svc.CreateChat(ctx, reader, messaging.CreateChatInput{Kind: "forum", Title: "x"})
	wantErr(t, "unknown kind", err, parley.EInvalid, "kind")

	// Leaving: a subscriber may, the owner may not.
	if err := f.svc.Leave(ctx, sub, ch.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "owner leaving", f.svc.Leave(ctx, owner, ch.ID), parley.EConflict, "")
	if c, _, _ := f.svc.GetChat(ctx, owner, ch.ID); c.MemberCount != 2 {
		t.Fatalf("member count after leaving = %d; want 2", c.MemberCount)
	}
}

// TestPrivateChatsInvisible checks that a group, a direct chat and a secret
// chat answer a non-member exactly as a chat that does not exist.
func TestPrivateChatsInvisible(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b, stranger := f.user(t, "alice"), f.user(t, "bob"), f.user(t, "stranger")
	f.withKey(t, a)
	f.withKey(t, b)
	group := f.group(t, a, 0)
	direct := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: b.ID})
	secret := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatSecret, PeerID: b.ID})
	f.post(t, a, group.ID, "family plans")
	f.post(t, a, direct.ID, "just between us")

	for name, id := range map[string]int64{"group": group.ID, "direct": direct.ID, "secret": secret.ID, "nonexistent": 999_999} {
		t.Run(name, func(t *testing.T) {
			_, _, err := f.svc.GetChat(ctx, stranger, id)
			wantErr(t, "GetChat", err, parley.ENotFound, "")
			_, err = f.svc.History(ctx, stranger, id, 0, 10)
			wantErr(t, "History", err, parley.ENotFound, "")
			_, err = f.svc.Updates(ctx, stranger, id, 0, 10)
			wantErr(t, "Updates", err, parley.ENotFound, "")
			_, err = f.svc.PostMessage(ctx, stranger, id, messaging.PostInput{Text: "let me in"})
			wantErr(t, "PostMessage", err, parley.ENotFound, "")
			_, err = f.svc.EditMessage(ctx, stranger, id, 1, "changed")
			wantErr(t, "EditMessage", err, parley.ENotFound, "")
			_, err = f.svc.DeleteMessage(ctx, stranger, id, 1)
			wantErr(t, "DeleteMessage", err, parley.ENotFound, "")
			_, err = f.svc.RecordViews(ctx, stranger, id, []int64{1})
			wantErr(t, "RecordViews", err, parley.ENotFound, "")
			_, err = f.svc.CreateInvite(ctx, stranger, id, 0)
			wantErr(t, "CreateInvite", err, parley.ENotFound, "")
			wantErr(t, "Subscribe", f.svc.Subscribe(ctx, stranger, id), parley.ENotFound, "")
			wantErr(t, "Leave", f.svc.Leave(ctx, stranger, id), parley.ENotFound, "")
		})
	}
	// Nor does a stranger's chat list show them.
	list, err := f.svc.ListChats(ctx, stranger)
	if err != nil || len(list) != 0 {
		t.Fatalf("stranger's chat list = %d chats, %v; want none", len(list), err)
	}
	// Forwarding out of a chat one cannot read names the field.
	own := f.group(t, stranger, 0)
	_, err = f.svc.PostMessage(ctx, stranger, own.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: group.ID, Seq: 1}})
	wantErr(t, "forwarding from a group one is not in", err, parley.EInvalid, "forward_from")
}

func TestGroupInvites(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	owner, m1, m2, m3 := f.user(t, "owner"), f.user(t, "member1"), f.user(t, "member2"), f.user(t, "member3")
	g := f.group(t, owner, 3)
	if g.MemberLimit != 3 {
		t.Fatalf("member limit = %d; want 3", g.MemberLimit)
	}

	// An expiring link works until it expires.
	inv, err := f.svc.CreateInvite(ctx, owner, g.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(59 * time.Minute)
	joined, err := f.svc.JoinByInvite(ctx, m1, inv.Token)
	if err != nil || joined.ID != g.ID {
		t.Fatalf("JoinByInvite before expiry = %+v, %v", joined, err)
	}
	_, err = f.svc.JoinByInvite(ctx, m1, inv.Token)
	wantErr(t, "joining twice", err, parley.EConflict, "")
	f.clock.Advance(2 * time.Minute)
	_, err = f.svc.JoinByInvite(ctx, m2, inv.Token)
	wantErr(t, "expired invite", err, parley.EConflict, "")
	if _, _, err := f.svc.GetChat(ctx, m2, g.ID); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("an expired invite let member2 in: %v", err)
	}

	// A revoked link stops working; only managers may make or revoke links.
	_, err = f.svc.CreateInvite(ctx, m1, g.ID, 0)
	wantErr(t, "member making an invite", err, parley.EForbidden, "")
	_, err = f.svc.CreateInvite(ctx, owner, g.ID, -time.Second)
	wantErr(t, "negative ttl", err, parley.EInvalid, "expires_in")
	forever, err := f.svc.CreateInvite(ctx, owner, g.ID, 0)
	if err != nil || forever.ExpiresAt != nil {
		t.Fatalf("CreateInvite(0) = %+v, %v; want no expiry", forever, err)
	}
	wantErr(t, "member revoking", f.svc.RevokeInvite(ctx, m1, forever.Token), parley.EForbidden, "")
	_, err = f.svc.ListInvites(ctx, m1, g.ID)
	wantErr(t, "member listing invites", err, parley.EForbidden, "")
	if list, err := f.svc.ListInvites(ctx, owner, g.ID); err != nil || len(list) != 1 || list[0].Token != forever.Token {
		t.Fatalf("ListInvites = %+v, %v; want the working link only", list, err)
	}
	if err := f.svc.RevokeInvite(ctx, owner, forever.Token); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.JoinByInvite(ctx, m2, forever.Token)
	wantErr(t, "revoked invite", err, parley.EConflict, "")
	_, err = f.svc.JoinByInvite(ctx, m2, "no-such-token")
	wantErr(t, "unknown invite", err, parley.ENotFound, "")

	// The member limit: owner + member1 + member2 fill a group of 3.
	open, err := f.svc.CreateInvite(ctx, owner, g.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.JoinByInvite(ctx, m2, open.Token); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.JoinByInvite(ctx, m3, open.Token)
	wantErr(t, "joining a full group", err, parley.ETooLarge, "")
	c, _, err := f.svc.GetChat(ctx, owner, g.ID)
	if err != nil || c.MemberCount != 3 {
		t.Fatalf("member count = %d, %v; want 3", c.MemberCount, err)
	}

	// Members post in a group; a group cannot be subscribed to.
	f.post(t, m2, g.ID, "hi all")
	wantErr(t, "subscribing to a group one is in", f.svc.Subscribe(ctx, m2, g.ID), parley.EForbidden, "")
	_, err = f.svc.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Big", MemberLimit: parley.DefaultMemberLimit + 1})
	wantErr(t, "member limit above the maximum", err, parley.EInvalid, "member_limit")
	_, err = f.svc.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Group", Handle: "group_handle"})
	wantErr(t, "group with a handle", err, parley.EInvalid, "handle")
	def := f.group(t, owner, 0)
	if def.MemberLimit != parley.DefaultMemberLimit {
		t.Fatalf("default member limit = %d; want %d", def.MemberLimit, parley.DefaultMemberLimit)
	}
}

func TestDirectChatUniquePerPair(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.user(t, "alice"), f.user(t, "bob")
	first := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: b.ID})
	again := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: b.ID})
	reverse := f.chat(t, b, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: a.ID})
	if again.ID != first.ID || reverse.ID != first.ID {
		t.Fatalf("direct chats = %d, %d, %d; want one chat", first.ID, again.ID, reverse.ID)
	}
	f.post(t, b, first.ID, "hi alice")
	list, err := f.svc.ListChats(ctx, a)
	if err != nil || len(list) != 1 || list[0].PeerID != b.ID || list[0].LastMessage == nil || list[0].LastMessage.Text != "hi alice" {
		t.Fatalf("alice's chat list = %+v, %v", list, err)
	}

	// Leaving does not cut the pair off: opening the chat again brings the
	// one who left back, with the history.
	if err := f.svc.Leave(ctx, b, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.History(ctx, b, first.ID, 0, 10); parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("history after leaving: %v; want not found", err)
	}
	back := f.chat(t, b, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: a.ID})
	if back.ID != first.ID || back.MemberCount != 2 {
		t.Fatalf("reopened direct chat = %+v; want chat %d with 2 members", back, first.ID)
	}
	if h, err := f.svc.History(ctx, b, first.ID, 0, 10); err != nil || len(h) != 1 {
		t.Fatalf("history after reopening = %v, %v", h, err)
	}

	_, err = f.svc.CreateChat(ctx, a, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: a.ID})
	wantErr(t, "direct chat with oneself", err, parley.EInvalid, "peer_id")
	_, err = f.svc.CreateChat(ctx, a, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: 424242})
	wantErr(t, "direct chat with nobody", err, parley.EInvalid, "peer_id")
	_, err = f.svc.CreateChat(ctx, a, messaging.CreateChatInput{Kind: parley.ChatDirect})
	wantErr(t, "direct chat without a peer", err, parley.EInvalid, "peer_id")
}

func TestSecretChat(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.user(t, "alice"), f.user(t, "bob")

	_, err := f.svc.CreateChat(ctx, a, messaging.CreateChatInput{Kind: parley.ChatSecret, PeerID: b.ID})
	wantErr(t, "secret chat without keys", err, parley.EConflict, "")
	f.withKey(t, a)
	_, err = f.svc.CreateChat(ctx, a, messaging.CreateChatInput{Kind: parley.ChatSecret, PeerID: b.ID})
	wantErr(t, "secret chat with a peer without a key", err, parley.EConflict, "")
	f.withKey(t, b)
	sc := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatSecret, PeerID: b.ID})

	_, err = f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{Text: "plain words"})
	wantErr(t, "plaintext in a secret chat", err, parley.EInvalid, "text")
	ct := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA7}, 40))
	nonce := base64.StdEncoding.EncodeToString([]byte("twelve bytes"))
	_, err = f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{Text: "plain words", Ciphertext: ct, Nonce: nonce})
	wantErr(t, "plaintext beside ciphertext", err, parley.EInvalid, "text")
	_, err = f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{Ciphertext: ct, Nonce: "c2hvcnQ="})
	wantErr(t, "short nonce", err, parley.EInvalid, "nonce")
	_, err = f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{Ciphertext: "not base64!", Nonce: nonce})
	wantErr(t, "ciphertext not base64", err, parley.EInvalid, "ciphertext")
	_, err = f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{Nonce: nonce})
	wantErr(t, "no ciphertext", err, parley.EInvalid, "ciphertext")

	up, err := f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{Ciphertext: ct, Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.svc.History(ctx, b, sc.ID, 0, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("bob's secret history = %v, %v", msgs, err)
	}
	if msgs[0].Ciphertext != ct || msgs[0].Nonce != nonce || msgs[0].Text != "" || msgs[0].Seq != up.Message.Seq {
		t.Fatalf("stored secret message = %+v; want the ciphertext and nonce as given and no text", msgs[0])
	}

	// Ciphertext is refused outside secret chats; secret messages are not
	// edited or forwarded.
	g := f.group(t, a, 0)
	_, err = f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{Ciphertext: ct, Nonce: nonce})
	wantErr(t, "ciphertext in a group", err, parley.EInvalid, "ciphertext")
	_, err = f.svc.EditMessage(ctx, a, sc.ID, up.Message.Seq, "new words")
	wantErr(t, "editing a secret message", err, parley.EConflict, "")
	_, err = f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: sc.ID, Seq: up.Message.Seq}})
	wantErr(t, "forwarding from a secret chat", err, parley.EInvalid, "forward_from")
	_, err = f.svc.PostMessage(ctx, a, sc.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: g.ID, Seq: 1}})
	wantErr(t, "forwarding into a secret chat", err, parley.EInvalid, "text")

	// Secret chats are not unique per pair: each has its own keys.
	sc2 := f.chat(t, b, messaging.CreateChatInput{Kind: parley.ChatSecret, PeerID: a.ID})
	if sc2.ID == sc.ID {
		t.Fatalf("a second secret chat reused chat %d", sc.ID)
	}
}

func TestTextLimit(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := f.user(t, "alice")
	g := f.group(t, a, 0)
	// "é" is two bytes: the limit counts characters, not bytes.
	atLimit := strings.Repeat("é", parley.MaxMessageRunes)
	if m := f.post(t, a, g.ID, atLimit); m.Text != atLimit {
		t.Fatalf("a message of %d characters was changed", parley.MaxMessageRunes)
	}
	for name, text := range map[string]string{
		"4097 characters": strings.Repeat("é", parley.MaxMessageRunes+1),
		"empty":           "",
		"invalid UTF-8":   "bad \xff byte",
	} {
		_, err := f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{Text: text})
		wantErr(t, name, err, parley.EInvalid, "text")
	}
	_, err := f.svc.EditMessage(ctx, a, g.ID, 1, strings.Repeat("x", parley.MaxMessageRunes+1))
	wantErr(t, "editing to 4097 characters", err, parley.EInvalid, "text")
	msgs, _ := f.svc.History(ctx, a, g.ID, 0, 10)
	if len(msgs) != 1 || msgs[0].Text != atLimit {
		t.Fatalf("history after refused posts has %d messages; want only the first, unchanged", len(msgs))
	}
}

func TestReply(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.user(t, "alice"), f.user(t, "bob")
	g := f.group(t, a, 0)
	f.join(t, a, b, g.ID)
	q := f.post(t, a, g.ID, "lunch?")
	up, err := f.svc.PostMessage(ctx, b, g.ID, messaging.PostInput{Text: "yes", ReplyToSeq: q.Seq})
	if err != nil || up.Message.ReplyToSeq != q.Seq {
		t.Fatalf("reply = %+v, %v", up, err)
	}
	for _, seq := range []int64{-1, 3, 99} {
		_, err := f.svc.PostMessage(ctx, b, g.ID, messaging.PostInput{Text: "to nothing", ReplyToSeq: seq})
		wantErr(t, "reply to a message that does not exist", err, parley.EInvalid, "reply_to_seq")
	}
}

func TestForwardKeepsOriginalOrigin(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	author, relay, reader := f.user(t, "author"), f.user(t, "relay"), f.user(t, "reader")
	ch := f.channel(t, author, "origin_news")
	orig := f.post(t, author, ch.ID, "the original words")
	g1 := f.group(t, relay, 0)
	g2 := f.group(t, reader, 0)
	f.join(t, relay, reader, g1.ID)

	// relay forwards from a public channel it does not even subscribe to.
	up, err := f.svc.PostMessage(ctx, relay, g1.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: ch.ID, Seq: orig.Seq}})
	if err != nil {
		t.Fatal(err)
	}
	want := parley.Origin{ChatID: ch.ID, Seq: orig.Seq, SenderID: author.ID, ChatTitle: ch.Title}
	if up.Message.Forward == nil || *up.Message.Forward != want || up.Message.Text != orig.Text || up.Message.SenderID != relay.ID {
		t.Fatalf("forward = %+v (origin %+v); want the text of the original and origin %+v", up.Message, up.Message.Forward, want)
	}
	// reader forwards the forward: the origin is still the channel.
	up2, err := f.svc.PostMessage(ctx, reader, g2.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: g1.ID, Seq: up.Message.Seq}})
	if err != nil {
		t.Fatal(err)
	}
	if up2.Message.Forward == nil || *up2.Message.Forward != want {
		t.Fatalf("forward of a forward has origin %+v; want %+v", up2.Message.Forward, want)
	}
	stored, err := f.db.FindMessage(ctx, g2.ID, up2.Message.Seq)
	if err != nil || stored.Forward == nil || *stored.Forward != want {
		t.Fatalf("stored forward of a forward = %+v, %v", stored, err)
	}

	_, err = f.svc.PostMessage(ctx, reader, g2.ID, messaging.PostInput{Text: "my comment", ForwardFrom: &messaging.MsgRef{ChatID: ch.ID, Seq: orig.Seq}})
	wantErr(t, "forward with text", err, parley.EInvalid, "text")
	_, err = f.svc.PostMessage(ctx, reader, g2.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: ch.ID, Seq: 42}})
	wantErr(t, "forward of a message that does not exist", err, parley.EInvalid, "forward_from")
	if _, err := f.svc.DeleteMessage(ctx, author, ch.ID, orig.Seq); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.PostMessage(ctx, reader, g2.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: ch.ID, Seq: orig.Seq}})
	wantErr(t, "forward of a deleted message", err, parley.EInvalid, "forward_from")
}

func TestEditWindow(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.user(t, "alice"), f.user(t, "bob")
	g := f.group(t, a, 0)
	f.join(t, a, b, g.ID)
	m := f.post(t, a, g.ID, "first draft")
	late := f.post(t, a, g.ID, "also a draft")

	_, err := f.svc.EditMessage(ctx, b, g.ID, m.Seq, "bob's words")
	wantErr(t, "editing another's message", err, parley.EForbidden, "")
	_, err = f.svc.EditMessage(ctx, a, g.ID, 77, "nothing here")
	wantErr(t, "editing a message that does not exist", err, parley.ENotFound, "")

	f.clock.Advance(47*time.Hour + 59*time.Minute)
	up, err := f.svc.EditMessage(ctx, a, g.ID, m.Seq, "final text")
	if err != nil {
		t.Fatalf("edit after 47h59m: %v", err)
	}
	if up.Kind != parley.UpdateMessageEdited || up.Message.Text != "final text" || up.Message.EditedAt == nil || !up.Message.EditedAt.Equal(f.clock.Now()) {
		t.Fatalf("edit update = %+v", up)
	}
	f.clock.Advance(2 * time.Minute) // 48h01m after sending
	_, err = f.svc.EditMessage(ctx, a, g.ID, late.Seq, "too late")
	wantErr(t, "edit after 48h01m", err, parley.EConflict, "")

	msgs, err := f.svc.History(ctx, b, g.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[1].Text != "final text" || msgs[1].EditedAt == nil {
		t.Fatalf("edited message in history = %+v; want new text, marked edited", msgs[1])
	}
	if msgs[0].Text != "also a draft" || msgs[0].EditedAt != nil {
		t.Fatalf("message whose edit was refused = %+v; want it unchanged", msgs[0])
	}
}

func TestDeleteForEveryone(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	owner, a, b := f.user(t, "owner"), f.user(t, "alice"), f.user(t, "bob")
	g := f.group(t, owner, 0)
	f.join(t, owner, a, g.ID)
	f.join(t, owner, b, g.ID)
	img := f.upload(t, a, pngBytes(t, 20, 10, 1))
	up, err := f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{Text: "regrettable words", MediaID: img.ID})
	if err != nil {
		t.Fatal(err)
	}
	m1 := up.Message
	m2 := f.post(t, a, g.ID, "also regrettable")
	m3 := f.post(t, b, g.ID, "bob stays")

	_, err = f.svc.DeleteMessage(ctx, b, g.ID, m1.Seq)
	wantErr(t, "deleting another's message", err, parley.EForbidden, "")
	del, err := f.svc.DeleteMessage(ctx, a, g.ID, m1.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if del.Kind != parley.UpdateMessageDeleted || del.Message.Text != "" || del.Message.MediaID != "" {
		t.Fatalf("delete update = %+v; want no content", del)
	}
	if _, err := f.svc.DeleteMessage(ctx, owner, g.ID, m2.Seq); err != nil {
		t.Fatalf("owner deleting a member's message: %v", err)
	}
	_, err = f.svc.DeleteMessage(ctx, a, g.ID, m1.Seq)
	wantErr(t, "deleting twice", err, parley.ENotFound, "")

	stored, err := f.db.FindMessage(ctx, g.ID, m1.Seq)
	if err != nil || stored.DeletedAt == nil || stored.Text != "" || stored.MediaID != "" {
		t.Fatalf("deleted message in the store = %+v, %v; want no content", stored, err)
	}
	msgs, err := f.svc.History(ctx, b, g.ID, 0, 10)
	if err != nil || !slices.Equal(seqs(msgs), []int64{m3.Seq}) {
		t.Fatalf("history after deletes = %v, %v; want only bob's message", seqs(msgs), err)
	}
	// A client catching up from the update log does not see the content either.
	ups, err := f.svc.Updates(ctx, b, g.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups {
		if strings.Contains(u.Message.Text, "regrettable") || (u.Message.Seq == m1.Seq && u.Message.MediaID != "") {
			t.Fatalf("update %d still carries deleted content: %+v", u.Pts, u.Message)
		}
	}
	_, err = f.svc.EditMessage(ctx, a, g.ID, m2.Seq, "resurrected")
	wantErr(t, "editing a deleted message", err, parley.ENotFound, "")
}

// TestUpdatesLog checks that every change gets the next pts, so clients
// can resume from it.
func TestUpdatesLog(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := f.user(t, "alice")
	g := f.group(t, a, 0)
	m1 := f.post(t, a, g.ID, "one")
	f.post(t, a, g.ID, "two")
	if _, err := f.svc.EditMessage(ctx, a, g.ID, m1.Seq, "one, edited"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteMessage(ctx, a, g.ID, 2); err != nil {
		t.Fatal(err)
	}
	ups, err := f.svc.Updates(ctx, a, g.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, u := range ups {
		if u.Pts != int64(i+1) {
			t.Fatalf("update %d has pts %d; want %d", i, u.Pts, i+1)
		}
		kinds = append(kinds, u.Kind)
	}
	want := []string{parley.UpdateMessageNew, parley.UpdateMessageNew, parley.UpdateMessageEdited, parley.UpdateMessageDeleted}
	if !slices.Equal(kinds, want) {
		t.Fatalf("update kinds = %v; want %v", kinds, want)
	}
	after, err := f.svc.Updates(ctx, a, g.ID, 2, 50)
	if err != nil || len(after) != 2 || after[0].Pts != 3 {
		t.Fatalf("updates after pts 2 = %d, %v", len(after), err)
	}
	_, err = f.svc.Updates(ctx, a, g.ID, -1, 50)
	wantErr(t, "negative after_pts", err, parley.EInvalid, "after_pts")
}

func TestHistoryPaging(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := f.user(t, "alice")
	g := f.group(t, a, 0)
	for i := range 25 {
		f.post(t, a, g.ID, strings.Repeat("m", i+1))
	}
	var got []int64
	before := int64(0)
	for {
		page, err := f.svc.History(ctx, a, g.ID, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 10 {
			t.Fatalf("page of %d messages; limit was 10", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, seqs(page)...)
		before = page[len(page)-1].Seq
	}
	want := make([]int64, 25)
	for i := range want {
		want[i] = int64(25 - i)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged history = %v; want %v", got, want)
	}
	for _, limit := range []int{0, -1, parley.MaxPageSize + 1} {
		_, err := f.svc.History(ctx, a, g.ID, 0, limit)
		wantErr(t, "bad limit", err, parley.EInvalid, "limit")
	}
	_, err := f.svc.History(ctx, a, g.ID, -5, 10)
	wantErr(t, "negative before", err, parley.EInvalid, "before")
}

func TestViewsCountedOncePerUser(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	owner, a, b := f.user(t, "owner"), f.user(t, "alice"), f.user(t, "bob")
	ch := f.channel(t, owner, "viewed_channel")
	m := f.post(t, owner, ch.ID, "look at me")
	for _, u := range []*parley.User{a, a, b, b, a} {
		if _, err := f.svc.RecordViews(ctx, u, ch.ID, []int64{m.Seq, m.Seq}); err != nil {
			t.Fatal(err)
		}
	}
	views, err := f.svc.RecordViews(ctx, owner, ch.ID, []int64{m.Seq, 999})
	if err != nil {
		t.Fatal(err)
	}
	if views[m.Seq] != 3 {
		t.Fatalf("views = %d after alice, bob and the owner looked; want 3", views[m.Seq])
	}
	msgs, _ := f.svc.History(ctx, a, ch.ID, 0, 1)
	if msgs[0].Views != 3 {
		t.Fatalf("views in history = %d; want 3", msgs[0].Views)
	}
	_, err = f.svc.RecordViews(ctx, a, ch.ID, nil)
	wantErr(t, "no seqs", err, parley.EInvalid, "seqs")
	_, err = f.svc.RecordViews(ctx, a, ch.ID, make([]int64, messaging.MaxViewsPerCall+1))
	wantErr(t, "too many seqs", err, parley.EInvalid, "seqs")
}

// pngBytes encodes a w×h PNG whose pixels depend on seed.
func pngBytes(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x) + seed, uint8(y) * seed, seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *fixture) upload(t testing.TB, u *parley.User, data []byte) *parley.Media {
	t.Helper()
	m, err := f.svc.UploadImage(context.Background(), u, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// files lists the regular files under dir, by path relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImageUpload(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.user(t, "alice"), f.user(t, "bob")
	data := pngBytes(t, 64, 48, 7)

	m1 := f.upload(t, a, data)
	after1 := files(t, f.mediaDir)
	m2 := f.upload(t, b, bytes.Clone(data))
	after2 := files(t, f.mediaDir)
	if m1.ID == m2.ID || m1.ThumbID == m2.ThumbID || m2.UploaderID != b.ID {
		t.Fatalf("the same bytes uploaded by two accounts: %+v and %+v; want two items", m1, m2)
	}
	if m1.Mime != "image/png" || m1.Width != 64 || m1.Height != 48 || m1.Size != int64(len(data)) || m1.ThumbID == "" {
		t.Fatalf("media = %+v", m1)
	}
	// One file for the image and one for its thumbnail, each named by its
	// random id, and two more for the second upload.
	for _, m := range []*parley.Media{m1, m2} {
		for _, id := range []string{m.ID, m.ThumbID} {
			if !slices.Contains(after2, filepath.Join(id[0:2], id[2:4], id)) {
				t.Fatalf("files %v do not include %s", after2, id)
			}
		}
	}
	if len(after1) != 2 || len(after2) != 4 {
		t.Fatalf("files after one upload %v, after two %v; want 2 and 4", after1, after2)
	}
	// The hashes are kept for the banks, never as the id.
	if m1.SHA256 != pdq.SHA256Hex(data) || m2.SHA256 != m1.SHA256 || m1.MD5 != pdq.MD5Hex(data) || m1.ID == m1.SHA256 {
		t.Fatalf("hashes: %+v", m1)
	}

	// Bad images are refused and leave nothing behind.
	truncated := data[:len(data)/2]
	huge := pngBytes(t, 2048, 1024, 1) // 2 Mpx, over the fixture's 1 Mpx limit
	for name, bad := range map[string][]byte{
		"not an image":  []byte("GIF87a but not really an image at all"),
		"text":          []byte("hello"),
		"empty":         nil,
		"truncated PNG": truncated,
		"too many px":   huge,
		"too many byte": append(bytes.Clone(data), make([]byte, 300<<10)...),
	} {
		_, err := f.svc.UploadImage(ctx, a, bad)
		if err == nil {
			t.Errorf("%s: upload accepted", name)
			continue
		}
		if c := parley.ErrorCode(err); c != parley.EInvalid && c != parley.ETooLarge {
			t.Errorf("%s: error code %s (%v); want invalid or too_large", name, c, err)
		}
	}
	if got := files(t, f.mediaDir); !slices.Equal(got, after2) {
		t.Fatalf("refused uploads changed the media directory: %v; want %v", got, after2)
	}

	// A message may carry an uploaded image, and only an uploaded one.
	g := f.group(t, a, 0)
	up, err := f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{MediaID: m1.ID})
	if err != nil || up.Message.MediaID != m1.ID {
		t.Fatalf("posting an image = %+v, %v", up, err)
	}
	_, err = f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{MediaID: strings.Repeat("ab", 32)})
	wantErr(t, "posting an image never uploaded", err, parley.EInvalid, "media_id")
}

// TestMemberLimitHoldsUnderConcurrentJoins has many accounts use one
// invite at once: exactly as many get in as the limit allows.
func TestMemberLimitHoldsUnderConcurrentJoins(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	owner := f.user(t, "owner")
	g := f.group(t, owner, 5)
	inv, err := f.svc.CreateInvite(ctx, owner, g.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var joiners []*parley.User
	for i := range 20 {
		joiners = append(joiners, f.user(t, "joiner"+strings.Repeat("x", i)))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for _, u := range joiners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.JoinByInvite(ctx, u, inv.Token)
			mu.Lock()
			codes[parley.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 4 || codes[parley.ETooLarge] != 16 {
		t.Fatalf("join results by code = %v; want 4 joined and 16 too_large", codes)
	}
	c, _, err := f.svc.GetChat(ctx, owner, g.ID)
	if err != nil || c.MemberCount != 5 {
		t.Fatalf("member count = %d, %v; want 5", c.MemberCount, err)
	}
}

// TestMembershipChangedElsewhereStopsPosts: a second service on the same
// store (another server process) removes a member or demotes a channel
// admin; this service, which saw them post a moment before, must refuse
// their next post all the same, and accept it again once they are back.
func TestMembershipChangedElsewhereStopsPosts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	other := &messaging.Service{Store: f.db, Blobs: f.svc.Blobs, Clock: f.clock, Users: f.db, Limits: f.svc.Limits}
	owner, member, admin := f.user(t, "owner"), f.user(t, "member"), f.user(t, "admin")
	g := f.group(t, owner, 0)
	f.join(t, owner, member, g.ID)
	ch := f.channel(t, owner, "bulletin")
	if err := f.svc.Subscribe(ctx, admin, ch.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetMemberRole(ctx, owner, ch.ID, admin.ID, parley.MemberAdmin); err != nil {
		t.Fatal(err)
	}
	f.post(t, member, g.ID, "first")
	f.post(t, admin, ch.ID, "first news")

	if err := other.Leave(ctx, member, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.SetMemberRole(ctx, owner, ch.ID, admin.ID, parley.MemberSubscriber); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.PostMessage(ctx, member, g.ID, messaging.PostInput{Text: "after leaving"})
	wantErr(t, "post after leaving elsewhere", err, parley.ENotFound, "")
	_, err = f.svc.PostMessage(ctx, admin, ch.ID, messaging.PostInput{Text: "after demotion"})
	wantErr(t, "post after demotion elsewhere", err, parley.EForbidden, "")

	f.join(t, owner, member, g.ID)
	f.post(t, member, g.ID, "back again")
	if msgs, err := f.svc.History(ctx, owner, g.ID, 0, 10); err != nil || len(msgs) != 2 {
		t.Fatalf("group history = %d messages, %v; want 2", len(msgs), err)
	}
}

// TestPromotionElsewhereLetsRefusedPosterPost: a subscriber's post in a
// channel is refused; promoted to admin by another server process, their
// next post here goes in at once. A refusal is not remembered.
func TestPromotionElsewhereLetsRefusedPosterPost(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	other := &messaging.Service{Store: f.db, Blobs: f.svc.Blobs, Clock: f.clock, Users: f.db, Limits: f.svc.Limits}
	owner, sub := f.user(t, "owner"), f.user(t, "sub")
	ch := f.channel(t, owner, "notices")
	if err := f.svc.Subscribe(ctx, sub, ch.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.PostMessage(ctx, sub, ch.ID, messaging.PostInput{Text: "may I?"})
	wantErr(t, "a subscriber's post", err, parley.EForbidden, "")
	if err := other.SetMemberRole(ctx, owner, ch.ID, sub.ID, parley.MemberAdmin); err != nil {
		t.Fatal(err)
	}
	f.post(t, sub, ch.ID, "now I may")
}

// TestScreenSeesTheAudienceGrow: a rule for channels of at least three
// subscribers. The owner's first post, to a channel of one, passes; the
// channel grows, and a minute later the owner's post is held, although
// this process remembers the owner's right to post.
func TestScreenSeesTheAudienceGrow(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.screenWith(t, f.staff(t, "mod", parley.RoleModerator), rules.Rule{ID: "big-channel-sales", Keywords: []string{"sale"},
		Condition: "subscriber_count >= 3", Action: rules.ActionHold, Mode: rules.ModeEnforce})
	owner := f.user(t, "owner")
	ch := f.channel(t, owner, "market")
	if m := f.post(t, owner, ch.ID, "sale today"); m.Notice != nil {
		t.Fatalf("a post to a channel of one got notice %+v", m.Notice)
	}
	for _, name := range []string{"sub1", "sub2"} {
		if err := f.svc.Subscribe(ctx, f.user(t, name), ch.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(time.Minute)
	if m := f.post(t, owner, ch.ID, "sale tomorrow"); m.Notice == nil || m.Notice.Kind != parley.NoticeHeld {
		t.Fatalf("a post to a channel of three got notice %+v; want held", m.Notice)
	}
}
