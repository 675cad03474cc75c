package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/realtime"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// moderation is a world with the enforcement service on its store and a
// moderator to act through it, as the API and the moderator pages do.
type moderation struct {
	*world
	svc *enforce.Service
	mod *parley.User
}

func newModeration(t *testing.T) *moderation {
	t.Helper()
	w := newWorld(t)
	mod := &parley.User{Username: "moderator", Role: parley.RoleModerator}
	if err := w.db.CreateUser(context.Background(), mod); err != nil {
		t.Fatal(err)
	}
	return &moderation{world: w, mod: mod,
		svc: &enforce.Service{Store: w.db, Clock: parley.SystemClock{}, Namespace: "parley_test"}}
}

// byTerms are the grounds of a moderator's decision under the terms.
var byTerms = enforce.Grounds{
	Ground:      sor.GroundIncompatibleContent,
	TermsGround: "Section 4.2 (scams) of the Parley Terms of Service",
	Category:    sor.CategoryScamsAndFraud,
	Source:      sor.SourceVoluntary,
	Automation:  sor.NotAutomated,
}

// byLaw are the grounds of an order under one country's law.
var byLaw = enforce.Grounds{
	Ground:      sor.GroundIllegalContent,
	LegalGround: "§ 130 StGB (incitement to hatred)",
	Category:    sor.CategoryIllegalOrHarmfulSpeech,
	Source:      sor.SourceTypeOtherNotification,
	Notifier:    "Federal Criminal Police Office",
	Automation:  sor.NotAutomated,
}

// act takes an action and relays its events to the hub.
func (m *moderation) act(t *testing.T, req enforce.Request) *enforce.Action {
	t.Helper()
	a, err := m.svc.Apply(context.Background(), m.mod, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Kind, err)
	}
	m.relay(t, nil)
	return a
}

// undo restores an action and relays its events to the hub.
func (m *moderation) undo(t *testing.T, a *enforce.Action) {
	t.Helper()
	if _, err := m.svc.Restore(context.Background(), m.mod, a.ID, "appeal upheld"); err != nil {
		t.Fatalf("restore %d: %v", a.ID, err)
	}
	m.relay(t, nil)
}

func (w *world) userIn(t *testing.T, name, country string) *parley.User {
	t.Helper()
	u := &parley.User{Username: name, Country: country}
	if err := w.db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (w *world) channel(t *testing.T, owner *parley.User, handle string, subscribers ...*parley.User) *parley.Chat {
	t.Helper()
	c := &parley.Chat{Kind: parley.ChatChannel, Handle: handle, Title: handle, OwnerID: owner.ID}
	if err := w.db.CreateChat(context.Background(), c, 0); err != nil {
		t.Fatal(err)
	}
	for _, s := range subscribers {
		if err := w.db.AddMember(context.Background(), &parley.Member{ChatID: c.ID, UserID: s.ID, Role: parley.MemberSubscriber}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func messageTarget(chatID, seq int64) enforce.Target {
	return enforce.Target{Type: enforce.TargetMessage, ChatID: chatID, Seq: seq}
}

func chatTarget(chatID int64) enforce.Target {
	return enforce.Target{Type: enforce.TargetChat, ChatID: chatID}
}

// ready reads frames up to "ready" and fails on anything else.
func (k *conn) ready(t *testing.T) {
	t.Helper()
	if f := k.next(t); f.Type != realtime.FrameReady {
		t.Fatalf("got %s %s; want ready", f.Type, describe(f))
	}
}

// update reads one update frame of the chat with the given pts and kind.
func (k *conn) update(t *testing.T, chatID, pts int64, kind string) *parley.Update {
	t.Helper()
	f := k.next(t)
	if f.Type != realtime.FrameUpdate || f.Update.ChatID != chatID || f.Update.Pts != pts || f.Update.Kind != kind {
		t.Fatalf("got %s %s; want update pts %d %s of chat %d", f.Type, describe(f), pts, kind, chatID)
	}
	return f.Update
}

// chatFrame reads one "chat" frame of the chat.
func (k *conn) chatFrame(t *testing.T, chatID int64) *parley.Notice {
	t.Helper()
	f := k.next(t)
	if f.Type != realtime.FrameChat || f.ChatID != chatID {
		t.Fatalf("got %s %s; want a chat frame of chat %d", f.Type, describe(f), chatID)
	}
	return f.Notice
}

// wire is a frame as it would go over the connection.
func wire(t *testing.T, f realtime.Frame) string {
	t.Helper()
	if f.Encoded != nil {
		return string(f.Encoded)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWithheldMessageIsShownPerCountry withholds a channel post in Germany:
// viewers there get a notice in place of the post (its author with the
// statement to read), viewers in France the post. Each distinct rendering
// is encoded once, however many viewers share it.
func TestWithheldMessageIsShownPerCountry(t *testing.T) {
	m := newModeration(t)
	author := m.userIn(t, "author", "DE")
	var inDE, inFR []*parley.User
	for i := range 3 {
		inDE = append(inDE, m.userIn(t, fmt.Sprint("de", i), "DE"))
	}
	for i := range 5 {
		inFR = append(inFR, m.userIn(t, fmt.Sprint("fr", i), "FR"))
	}
	ch := m.channel(t, author, "news", append(slices.Clone(inDE), inFR...)...)
	var de, fr []*conn
	for _, u := range inDE {
		de = append(de, m.connect(t, u, nil))
	}
	for _, u := range inFR {
		fr = append(fr, m.connect(t, u, nil))
	}
	own := m.connect(t, author, nil)
	everyone := append(append(slices.Clone(de), fr...), own)
	for _, k := range everyone {
		k.ready(t)
	}

	const text = "the forbidden words"
	before := m.hub.Encoded()
	m.post(t, author, ch.ID, text)
	m.relay(t, nil)
	for _, k := range everyone {
		if u := k.update(t, ch.ID, 1, parley.UpdateMessageNew); u.Message.Text != text || u.Message.Notice != nil {
			t.Fatalf("a plain post reached a viewer as %+v", u.Message)
		}
	}
	if n := m.hub.Encoded() - before; n != 1 {
		t.Errorf("a post no moderation touches was encoded %d times for %d viewers; want once", n, len(everyone))
	}

	before = m.hub.Encoded()
	a := m.act(t, enforce.Request{Kind: enforce.WithholdMessage, Target: messageTarget(ch.ID, 1), Countries: []string{"DE"}, Grounds: byLaw})
	for i, k := range de {
		f := k.next(t)
		u := f.Update
		if f.Type != realtime.FrameUpdate || u.Kind != parley.UpdateMessageModerated || u.Pts != 2 {
			t.Fatalf("DE viewer %d got %s %s; want the message.moderated update", i, f.Type, describe(f))
		}
		if strings.Contains(wire(t, f), text) || u.Message.Text != "" {
			t.Fatalf("DE viewer %d was sent the withheld text: %s", i, wire(t, f))
		}
		if u.Message.Notice == nil || u.Message.Notice.Kind != parley.NoticeWithheld || !strings.Contains(u.Message.Notice.Text, "(DE)") || u.Message.Notice.StatementID != 0 {
			t.Fatalf("DE viewer %d got notice %+v; want a withheld notice for DE without the author's statement", i, u.Message.Notice)
		}
	}
	var frFrames []realtime.Frame
	for i, k := range fr {
		f := k.next(t)
		if u := f.Update; f.Type != realtime.FrameUpdate || u.Pts != 2 || u.Message.Text != text || u.Message.Notice != nil ||
			!slices.Equal(u.Message.Moderation.WithheldCountries(), []string{"DE"}) {
			t.Fatalf("FR viewer %d got %s %s; want the post, marked withheld in DE only", i, f.Type, describe(f))
		}
		frFrames = append(frFrames, f)
	}
	f := own.next(t)
	if f.Type != realtime.FrameUpdate || f.Update.Message.Notice == nil || f.Update.Message.Notice.StatementID != a.ID || f.Update.Message.Text != "" {
		t.Fatalf("the author in DE got %s %s; want the notice with statement %d", f.Type, wire(t, f), a.ID)
	}
	// One encoding for the DE viewers, one for the FR viewers, one for the
	// author: not one per viewer.
	if n := m.hub.Encoded() - before; n != 3 {
		t.Errorf("the withholding was encoded %d times for 9 viewers in 3 renderings; want 3", n)
	}
	if &frFrames[0].Encoded[0] != &frFrames[len(frFrames)-1].Encoded[0] {
		t.Errorf("FR viewers were sent separately encoded frames of the same rendering")
	}

	// The chat itself is not moderated: the next post is encoded once again.
	before = m.hub.Encoded()
	m.post(t, author, ch.ID, "harmless")
	m.relay(t, nil)
	for _, k := range everyone {
		if u := k.update(t, ch.ID, 3, parley.UpdateMessageNew); u.Message.Text != "harmless" {
			t.Fatalf("got %+v", u.Message)
		}
	}
	if n := m.hub.Encoded() - before; n != 1 {
		t.Errorf("a plain post after a withholding was encoded %d times; want once", n)
	}
}

// TestRemovalDuringConnectionAndAfterReconnecting removes a message while a
// reader is connected (the content goes, a notice comes), and checks that a
// reader who was away catches up on the post and its removal without ever
// being sent the content.
func TestRemovalDuringConnectionAndAfterReconnecting(t *testing.T) {
	m := newModeration(t)
	a, live, away := m.user(t, "alice"), m.user(t, "bob"), m.user(t, "carol")
	g := m.group(t, a, live, away)
	m.post(t, a, g.ID, "hello")
	m.relay(t, nil)

	k := m.connect(t, live, map[int64]int64{g.ID: 1})
	k.ready(t)
	const scam = "send 1 BTC to this address"
	m.post(t, a, g.ID, scam)
	m.relay(t, nil)
	if u := k.update(t, g.ID, 2, parley.UpdateMessageNew); u.Message.Text != scam {
		t.Fatalf("got %+v", u.Message)
	}
	m.act(t, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(g.ID, 2), Grounds: byTerms})
	f := k.next(t)
	u := f.Update
	if f.Type != realtime.FrameUpdate || u.Kind != parley.UpdateMessageModerated || u.Message.Seq != 2 || strings.Contains(wire(t, f), scam) {
		t.Fatalf("after the removal got %s", wire(t, f))
	}
	if u.Message.Notice == nil || u.Message.Notice.Kind != parley.NoticeRemoved || u.Message.Notice.Text != "This message was removed: Scams and fraud." {
		t.Fatalf("removal notice = %+v", u.Message.Notice)
	}
	if u.Message.Moderation == nil || u.Message.Moderation.Removed == nil {
		t.Fatalf("the update does not say the message was removed: %+v", u.Message.Moderation)
	}

	// Carol saw pts 1 before going away; she comes back after the removal.
	back := m.connect(t, away, map[int64]int64{g.ID: 1})
	for _, want := range []struct {
		pts  int64
		kind string
	}{{2, parley.UpdateMessageNew}, {3, parley.UpdateMessageModerated}} {
		f := back.next(t)
		if f.Type != realtime.FrameUpdate || f.Update.Pts != want.pts || f.Update.Kind != want.kind {
			t.Fatalf("catch-up got %s %s; want pts %d %s", f.Type, describe(f), want.pts, want.kind)
		}
		if strings.Contains(wire(t, f), scam) || f.Update.Message.Notice == nil || f.Update.Message.Notice.Kind != parley.NoticeRemoved {
			t.Fatalf("catch-up update pts %d shows the removed message: %s", want.pts, wire(t, f))
		}
	}
	back.ready(t)
	k.quiet(t)
}

// TestChatBanStopsDeliveryAndRestoreResumes bans a channel: its subscriber
// is told why (its owner with the statement) and sent nothing more of it;
// restored, the subscriber is told so, gets exactly what changed meanwhile
// and then live updates, each once.
func TestChatBanStopsDeliveryAndRestoreResumes(t *testing.T) {
	m := newModeration(t)
	owner, reader := m.user(t, "owner"), m.user(t, "reader")
	ch := m.channel(t, owner, "shady", reader)
	m.post(t, owner, ch.ID, "one")
	m.post(t, owner, ch.ID, "two")
	m.relay(t, nil)
	k := m.connect(t, reader, map[int64]int64{ch.ID: 2})
	mine := m.connect(t, owner, nil)
	k.ready(t)
	mine.ready(t)

	ban := m.act(t, enforce.Request{Kind: enforce.BanChat, Target: chatTarget(ch.ID), Grounds: byTerms})
	if n := k.chatFrame(t, ch.ID); n == nil || n.Kind != parley.NoticeBanned || n.Text != "This channel was banned: Scams and fraud." || n.StatementID != 0 {
		t.Fatalf("the reader's notice = %+v", n)
	}
	if n := mine.chatFrame(t, ch.ID); n == nil || n.StatementID != ban.ID {
		t.Fatalf("the owner's notice = %+v; want the statement of action %d", n, ban.ID)
	}
	// While banned nothing can be posted, but the history still changes: a
	// moderator removes a post. The reader is sent nothing.
	if _, err := m.db.InsertMessage(context.Background(), &parley.Message{ChatID: ch.ID, SenderID: owner.ID, Text: "three"}); parley.ErrorCode(err) != parley.EForbidden {
		t.Fatalf("posting in a banned channel: %v; want EForbidden", err)
	}
	m.act(t, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, 2), Grounds: byTerms})
	k.quiet(t)
	mine.quiet(t)

	m.undo(t, ban)
	if n := k.chatFrame(t, ch.ID); n != nil {
		t.Fatalf("restored, the reader was sent notice %+v; want none", n)
	}
	if u := k.update(t, ch.ID, 3, parley.UpdateMessageModerated); u.Message.Notice == nil || u.Message.Notice.Kind != parley.NoticeRemoved {
		t.Fatalf("the update missed while banned = %+v", u.Message)
	}
	mine.chatFrame(t, ch.ID)
	mine.quiet(t) // it had no position in the chat: it starts live
	m.post(t, owner, ch.ID, "four")
	m.relay(t, nil)
	if u := k.update(t, ch.ID, 4, parley.UpdateMessageNew); u.Message.Text != "four" {
		t.Fatalf("got %+v", u.Message)
	}
	mine.update(t, ch.ID, 4, parley.UpdateMessageNew)
	k.quiet(t)
}

// TestChatWithheldInOneCountry withholds a channel in Germany: a reader
// there is told why and sent nothing while a reader in France goes on; a
// reader in Germany who connects meanwhile gets the notice instead of the
// catch-up; restored, the German readers get exactly the posts they
// missed, in order, once.
func TestChatWithheldInOneCountry(t *testing.T) {
	m := newModeration(t)
	owner := m.userIn(t, "owner", "FR")
	de, fr, late := m.userIn(t, "hans", "DE"), m.userIn(t, "jeanne", "FR"), m.userIn(t, "greta", "DE")
	ch := m.channel(t, owner, "chronicle", de, fr, late)
	m.post(t, owner, ch.ID, "one")
	m.relay(t, nil)
	kde := m.connect(t, de, map[int64]int64{ch.ID: 1})
	kfr := m.connect(t, fr, map[int64]int64{ch.ID: 1})
	kde.ready(t)
	kfr.ready(t)

	wh := m.act(t, enforce.Request{Kind: enforce.WithholdChat, Target: chatTarget(ch.ID), Countries: []string{"DE"}, Grounds: byLaw})
	if n := kde.chatFrame(t, ch.ID); n == nil || n.Kind != parley.NoticeWithheld || !strings.Contains(n.Text, "(DE)") {
		t.Fatalf("DE notice = %+v", n)
	}
	kfr.quiet(t) // not hidden in France: nothing to say

	m.post(t, owner, ch.ID, "two")
	m.post(t, owner, ch.ID, "three")
	m.relay(t, nil)
	for pts, text := range []string{"two", "three"} {
		if u := kfr.update(t, ch.ID, int64(pts)+2, parley.UpdateMessageNew); u.Message.Text != text {
			t.Fatalf("FR got %+v", u.Message)
		}
	}
	kde.quiet(t)

	klate := m.connect(t, late, map[int64]int64{ch.ID: 1})
	if n := klate.chatFrame(t, ch.ID); n == nil || n.Kind != parley.NoticeWithheld {
		t.Fatalf("a DE reader connecting to a withheld channel got notice %+v", n)
	}
	klate.ready(t)

	m.undo(t, wh)
	for _, k := range []*conn{kde, klate} {
		if n := k.chatFrame(t, ch.ID); n != nil {
			t.Fatalf("restored, got notice %+v", n)
		}
		if got := k.updates(t, ch.ID, 2); !slices.Equal(got, span(2, 3)) {
			t.Fatalf("after the restore got pts %v; want 2..3", got)
		}
	}
	kfr.quiet(t)
	m.post(t, owner, ch.ID, "four")
	m.relay(t, nil)
	for _, k := range []*conn{kde, klate, kfr} {
		k.update(t, ch.ID, 4, parley.UpdateMessageNew)
		k.quiet(t)
	}
}

// TestPlainPostInChatWithheldElsewhereIsEncodedOnce: in a channel withheld
// in Germany, a plain post reaches the viewers it is not hidden from,
// author included, in one encoding: neither the author nor the country
// changes how an unmoderated message looks.
func TestPlainPostInChatWithheldElsewhereIsEncodedOnce(t *testing.T) {
	m := newModeration(t)
	owner := m.userIn(t, "owner", "FR")
	de, fr, it := m.userIn(t, "hans", "DE"), m.userIn(t, "jeanne", "FR"), m.userIn(t, "giulia", "IT")
	ch := m.channel(t, owner, "gazette", de, fr, it)
	m.act(t, enforce.Request{Kind: enforce.WithholdChat, Target: chatTarget(ch.ID), Countries: []string{"DE"}, Grounds: byLaw})
	kde := m.connect(t, de, nil)
	kde.ready(t)
	shown := []*conn{m.connect(t, owner, nil), m.connect(t, fr, nil), m.connect(t, it, nil)}
	for _, k := range shown {
		k.ready(t)
	}

	before := m.hub.Encoded()
	m.post(t, owner, ch.ID, "news")
	m.relay(t, nil)
	for _, k := range shown {
		if u := k.update(t, ch.ID, 1, parley.UpdateMessageNew); u.Message.Text != "news" || u.Message.Notice != nil {
			t.Fatalf("got %+v", u.Message)
		}
	}
	kde.quiet(t)
	if n := m.hub.Encoded() - before; n != 1 {
		t.Errorf("a plain post was encoded %d times for its author and two readers; want once", n)
	}
}

// TestAccountSuspensionClosesConnections suspends an account with two live
// connections: both end, another account's connection goes on, and the
// suspended account cannot register again until it is restored.
func TestAccountSuspensionClosesConnections(t *testing.T) {
	m := newModeration(t)
	bad, good := m.user(t, "spammer"), m.user(t, "bystander")
	g := m.group(t, good, bad)
	k1, k2, other := m.connect(t, bad, nil), m.connect(t, bad, nil), m.connect(t, good, nil)
	for _, k := range []*conn{k1, k2, other} {
		k.ready(t)
	}
	s := m.act(t, enforce.Request{Kind: enforce.SuspendAccount, Target: enforce.Target{Type: enforce.TargetUser, UserID: bad.ID},
		Until: time.Now().Add(24 * time.Hour), Grounds: byTerms})
	for i, k := range []*conn{k1, k2} {
		select {
		case <-k.done:
			if !errors.Is(k.err, realtime.ErrAccountRestricted) {
				t.Fatalf("connection %d ended with %v; want ErrAccountRestricted", i, k.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d of the suspended account is still open", i)
		}
	}
	if n := m.hub.Connected(); n != 1 {
		t.Fatalf("Connected = %d; want 1", n)
	}
	m.post(t, good, g.ID, "still here")
	m.relay(t, nil)
	other.update(t, g.ID, 1, parley.UpdateMessageNew)

	// A connection authenticated just before the suspension may register
	// just after it; it is refused.
	c := realtime.NewClient(parley.Viewer{UserID: bad.ID}, nil)
	if err := m.hub.Register(context.Background(), c); !errors.Is(err, realtime.ErrAccountRestricted) {
		t.Fatalf("Register after the suspension = %v; want ErrAccountRestricted", err)
	}
	m.undo(t, s)
	back := m.connect(t, bad, nil)
	back.ready(t)
}

// stallingStore is the real store, with a pause after FindChatByID has
// read a chat and before it answers: time for a moderator's action to be
// committed and its event handled, so that the read is out of date.
type stallingStore struct {
	realtime.Store
	read, answer chan struct{}
}

func (s *stallingStore) FindChatByID(ctx context.Context, id int64) (*parley.Chat, error) {
	c, err := s.Store.FindChatByID(ctx, id)
	if s.read != nil {
		s.read <- struct{}{}
		<-s.answer
	}
	return c, err
}

// TestBanWhileTheChatIsReadIsNotLost bans a chat while a connecting client
// has read it and not yet been registered for it: the event's moderation
// wins over the read, and the client is told the chat is banned.
func TestBanWhileTheChatIsReadIsNotLost(t *testing.T) {
	m := newModeration(t)
	owner, reader := m.user(t, "owner"), m.user(t, "reader")
	ch := m.channel(t, owner, "soon_banned", reader)
	m.post(t, owner, ch.ID, "one")
	m.relay(t, nil)
	store := &stallingStore{Store: m.db, read: make(chan struct{}), answer: make(chan struct{})}
	m.hub = realtime.NewHub(store, slog.New(slog.NewTextHandler(io.Discard, nil)))

	registered := make(chan error, 1)
	c := realtime.NewClient(parley.Viewer{UserID: reader.ID}, map[int64]int64{ch.ID: 0})
	go func() { registered <- m.hub.Register(context.Background(), c) }()
	<-store.read
	m.act(t, enforce.Request{Kind: enforce.BanChat, Target: chatTarget(ch.ID), Grounds: byTerms})
	store.read = nil
	close(store.answer)
	if err := <-registered; err != nil {
		t.Fatal(err)
	}
	defer m.hub.Unregister(c)
	frames := make(chan realtime.Frame, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.hub.Run(ctx, c, func(_ context.Context, f realtime.Frame) error { frames <- f; return nil })
	select {
	case f := <-frames:
		if f.Type != realtime.FrameChat || f.Notice == nil || f.Notice.Kind != parley.NoticeBanned {
			t.Fatalf("first frame %s %s; want the ban's notice instead of the catch-up", f.Type, describe(f))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no frame")
	}
}

// TestJoiningAChatWithheldHere tells a reader who subscribes to a channel
// withheld in their country why its posts do not come.
func TestJoiningAChatWithheldHere(t *testing.T) {
	m := newModeration(t)
	owner, reader := m.userIn(t, "owner", "FR"), m.userIn(t, "reader", "DE")
	ch := m.channel(t, owner, "elsewhere")
	m.act(t, enforce.Request{Kind: enforce.WithholdChat, Target: chatTarget(ch.ID), Countries: []string{"DE"}, Grounds: byLaw})
	k := m.connect(t, reader, nil)
	k.ready(t)
	if err := m.db.AddMember(context.Background(), &parley.Member{ChatID: ch.ID, UserID: reader.ID, Role: parley.MemberSubscriber}); err != nil {
		t.Fatal(err)
	}
	m.post(t, owner, ch.ID, "not for Germany")
	m.relay(t, nil)
	if f := k.next(t); f.Type != realtime.FrameJoined || f.ChatID != ch.ID {
		t.Fatalf("got %s %s; want joined", f.Type, describe(f))
	}
	if n := k.chatFrame(t, ch.ID); n == nil || n.Kind != parley.NoticeWithheld {
		t.Fatalf("notice = %+v", n)
	}
	k.quiet(t)
}

// TestWithheldFromUnknownCountryIsRenderedApart withholds a post in Germany
// and from viewers whose country is unknown: the viewer whom nothing places
// gets a notice that names no country, the viewer in Germany one that
// names it, and the viewer in France the post. The viewer of unknown
// country and the one in France both have no country in common with the
// order, so they must not share a rendering.
func TestWithheldFromUnknownCountryIsRenderedApart(t *testing.T) {
	m := newModeration(t)
	author := m.userIn(t, "author", "FR")
	de, fr, nowhere := m.userIn(t, "hans", "DE"), m.userIn(t, "jeanne", "FR"), m.userIn(t, "anon", "")
	ch := m.channel(t, author, "bulletin", de, fr, nowhere)
	kde, kfr, knowhere := m.connect(t, de, nil), m.connect(t, fr, nil), m.connect(t, nowhere, nil)
	for _, k := range []*conn{kde, kfr, knowhere} {
		k.ready(t)
	}
	const text = "a report under a court order"
	m.post(t, author, ch.ID, text)
	m.relay(t, nil)
	for _, k := range []*conn{kde, kfr, knowhere} {
		k.update(t, ch.ID, 1, parley.UpdateMessageNew)
	}

	before := m.hub.Encoded()
	m.act(t, enforce.Request{Kind: enforce.WithholdMessage, Target: messageTarget(ch.ID, 1), Countries: []string{"DE"}, AlsoUnknown: true, Grounds: byLaw})
	u := knowhere.update(t, ch.ID, 2, parley.UpdateMessageModerated)
	if u.Message.Text != "" || u.Message.Notice == nil || u.Message.Notice.Kind != parley.NoticeWithheld ||
		!strings.Contains(u.Message.Notice.Text, "not available where you are") || strings.Contains(u.Message.Notice.Text, "(") {
		t.Fatalf("the viewer of unknown country got %+v (notice %+v); want a withheld notice naming no country", u.Message, u.Message.Notice)
	}
	if u := kde.update(t, ch.ID, 2, parley.UpdateMessageModerated); u.Message.Text != "" || u.Message.Notice == nil || !strings.Contains(u.Message.Notice.Text, "(DE)") {
		t.Fatalf("the viewer in DE got %+v", u.Message)
	}
	if u := kfr.update(t, ch.ID, 2, parley.UpdateMessageModerated); u.Message.Text != text || u.Message.Notice != nil {
		t.Fatalf("the viewer in FR got %+v (notice %+v); want the post", u.Message, u.Message.Notice)
	}
	if n := m.hub.Encoded() - before; n != 3 {
		t.Errorf("the withholding was encoded %d times for 3 viewers in 3 renderings; want 3", n)
	}
}
