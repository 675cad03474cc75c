package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/internal/realtime"
	"parley/internal/store/sqlite"
)

// world is a hub on a real SQLite store. The test plays the outbox relay:
// relay hands the store's pending events to the hub, as the event stream
// would, and can hold some back to make gaps.
type world struct {
	db  *sqlite.DB
	hub *realtime.Hub
}

func newWorld(t testing.TB) *world {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &world{db: db, hub: realtime.NewHub(db, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

func (w *world) user(t *testing.T, name string) *parley.User {
	t.Helper()
	u := &parley.User{Username: name}
	if err := w.db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (w *world) group(t *testing.T, owner *parley.User, members ...*parley.User) *parley.Chat {
	t.Helper()
	c := &parley.Chat{Kind: parley.ChatGroup, Title: "g", OwnerID: owner.ID}
	if err := w.db.CreateChat(context.Background(), c, 0); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := w.db.AddMember(context.Background(), &parley.Member{ChatID: c.ID, UserID: m.ID, Role: parley.MemberRegular}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (w *world) post(t *testing.T, u *parley.User, chatID int64, text string) *parley.Update {
	t.Helper()
	up, err := w.db.InsertMessage(context.Background(), &parley.Message{ChatID: chatID, SenderID: u.ID, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// relay hands every pending outbox event to the hub, except those hold
// returns true for, which are dropped as if lost on the way.
func (w *world) relay(t *testing.T, hold func(parley.Event) bool) {
	t.Helper()
	ctx := context.Background()
	evs, err := w.db.PendingEvents(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, ev := range evs {
		if hold == nil || !hold(ev) {
			w.hub.HandleEvent(ev.Subject, ev.Kind, ev.Payload)
		}
		ids = append(ids, ev.ID)
	}
	if err := w.db.DeleteEvents(ctx, ids); err != nil {
		t.Fatal(err)
	}
}

// endMarker makes a new group of the user's and hands the hub the event of
// the user joining it, as the stream would, and returns the group's ID.
// The hub queues the "joined" frame it causes behind everything it queued
// for the user's clients before, so a test that reads up to that frame has
// seen every frame that was on its way, without waiting for one that might
// come late. Other events waiting in the outbox are left there.
func (w *world) endMarker(t *testing.T, userID int64) int64 {
	t.Helper()
	ctx := context.Background()
	marker := &parley.Chat{Kind: parley.ChatGroup, Title: "end marker", OwnerID: userID}
	if err := w.db.CreateChat(ctx, marker, 0); err != nil {
		t.Fatal(err)
	}
	evs, err := w.db.PendingEvents(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		var m parley.MembershipEvent
		if ev.Kind == parley.EventChatJoined && json.Unmarshal(ev.Payload, &m) == nil && m.ChatID == marker.ID {
			w.hub.HandleEvent(ev.Subject, ev.Kind, ev.Payload)
			if err := w.db.DeleteEvents(ctx, []int64{ev.ID}); err != nil {
				t.Fatal(err)
			}
			return marker.ID
		}
	}
	t.Fatalf("creating group %d wrote no chat.joined event", marker.ID)
	return 0
}

// conn is a running client: its frames arrive on frames. done is closed
// when Run has returned, with err.
type conn struct {
	w      *world
	c      *realtime.Client
	frames chan realtime.Frame
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

// connect registers a client and runs it, as the WebSocket handler does.
// The test user's Country stands for where a trusted source places the
// connection (the server never takes it from the profile).
func (w *world) connect(t *testing.T, u *parley.User, resume map[int64]int64) *conn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := realtime.NewClient(parley.Viewer{UserID: u.ID, Country: u.Country}, resume)
	if err := w.hub.Register(ctx, c); err != nil {
		t.Fatal(err)
	}
	k := &conn{w: w, c: c, frames: make(chan realtime.Frame, 1000), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(k.done)
		defer w.hub.Unregister(c)
		k.err = w.hub.Run(ctx, c, func(ctx context.Context, f realtime.Frame) error {
			k.frames <- f
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-k.done
	})
	return k
}

func (k *conn) next(t *testing.T) realtime.Frame {
	t.Helper()
	select {
	case f := <-k.frames:
		return f
	case <-k.done:
		select {
		case f := <-k.frames: // sent before Run returned
			return f
		default:
		}
		t.Fatalf("client stopped: %v", k.err)
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
	}
	return realtime.Frame{}
}

// quiet checks that no frame is on its way to the client: the next frame
// must be the "joined" of an end marker (see endMarker).
func (k *conn) quiet(t *testing.T) {
	t.Helper()
	marker := k.w.endMarker(t, k.c.Viewer.UserID)
	if f := k.next(t); f.Type != realtime.FrameJoined || f.ChatID != marker {
		t.Fatalf("unexpected frame %s %s before the end marker (joined chat %d)", f.Type, describe(f), marker)
	}
}

func describe(f realtime.Frame) string {
	if f.Update == nil {
		return fmt.Sprintf("chat %d", f.ChatID)
	}
	return fmt.Sprintf("chat %d pts %d %s %q", f.Update.ChatID, f.Update.Pts, f.Update.Kind, f.Update.Message.Text)
}

// updates reads n update frames and returns their pts.
func (k *conn) updates(t *testing.T, chatID int64, n int) []int64 {
	t.Helper()
	var pts []int64
	for range n {
		f := k.next(t)
		if f.Type != "update" || f.Update.ChatID != chatID {
			t.Fatalf("got %s %s; want an update of chat %d", f.Type, describe(f), chatID)
		}
		pts = append(pts, f.Update.Pts)
	}
	return pts
}

func span(from, to int64) []int64 {
	var out []int64
	for p := from; p <= to; p++ {
		out = append(out, p)
	}
	return out
}

func TestResumeSendsExactlyWhatWasMissed(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "alice"), w.user(t, "bob")
	g := w.group(t, a, b)
	for i := range 5 {
		w.post(t, a, g.ID, fmt.Sprint("old ", i))
	}
	w.relay(t, nil)

	k := w.connect(t, b, map[int64]int64{g.ID: 2})
	if got := k.updates(t, g.ID, 3); !slices.Equal(got, span(3, 5)) {
		t.Fatalf("catch-up pts = %v; want 3..5", got)
	}
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("after catch-up got %s; want ready", f.Type)
	}
	// Live: a new post arrives once, even if the stream repeats it.
	w.post(t, a, g.ID, "live")
	evs, _ := w.db.PendingEvents(context.Background(), 0)
	w.relay(t, nil)
	for _, ev := range evs {
		w.hub.HandleEvent(ev.Subject, ev.Kind, ev.Payload) // redelivery
	}
	f := k.next(t)
	if f.Type != "update" || f.Update.Pts != 6 || f.Update.Message.Text != "live" || f.Update.Message.SenderName != "alice" {
		t.Fatalf("live frame = %s %s", f.Type, describe(f))
	}
	k.quiet(t)
}

func TestGapInLiveFeedIsFilledFromStore(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "alice"), w.user(t, "bob")
	g := w.group(t, a, b)
	w.post(t, a, g.ID, "one")
	w.relay(t, nil)
	k := w.connect(t, b, map[int64]int64{g.ID: 0})
	k.updates(t, g.ID, 1)
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("got %s; want ready", f.Type)
	}
	// pts 2..4 are lost on the way; pts 5 arrives; then 2 arrives late.
	for _, text := range []string{"two", "three", "four"} {
		w.post(t, a, g.ID, text)
	}
	lost, _ := w.db.PendingEvents(context.Background(), 0)
	w.relay(t, func(parley.Event) bool { return true })
	w.post(t, a, g.ID, "five")
	w.relay(t, nil)
	if got := k.updates(t, g.ID, 4); !slices.Equal(got, span(2, 5)) {
		t.Fatalf("pts after a gap = %v; want 2..5", got)
	}
	w.hub.HandleEvent(lost[0].Subject, lost[0].Kind, lost[0].Payload)
	k.quiet(t)
}

func TestUpdatesDuringCatchUpAreNotDuplicated(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "alice"), w.user(t, "bob")
	g := w.group(t, a, b)
	w.post(t, a, g.ID, "before")
	w.relay(t, nil)

	// Register, then let updates arrive live before Run starts its
	// catch-up: they are both queued and in the store.
	c := realtime.NewClient(parley.Viewer{UserID: b.ID}, map[int64]int64{g.ID: 0})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.hub.Register(ctx, c); err != nil {
		t.Fatal(err)
	}
	defer w.hub.Unregister(c)
	for i := range 3 {
		w.post(t, a, g.ID, fmt.Sprint("during ", i))
	}
	w.relay(t, nil)
	frames := make(chan realtime.Frame, 100)
	go w.hub.Run(ctx, c, func(_ context.Context, f realtime.Frame) error { frames <- f; return nil })
	var got []int64
	deadline := time.After(5 * time.Second)
	for len(got) < 4 {
		select {
		case f := <-frames:
			if f.Type == "update" {
				got = append(got, f.Update.Pts)
			}
		case <-deadline:
			t.Fatalf("got pts %v; want 1..4", got)
		}
	}
	// Up to the end marker, nothing but "ready" may follow.
	marker := w.endMarker(t, b.ID)
	for done := false; !done; {
		select {
		case f := <-frames:
			switch {
			case f.Type == realtime.FrameJoined && f.ChatID == marker:
				done = true
			case f.Type != realtime.FrameReady:
				t.Fatalf("after pts %v got %s %s; want nothing more", got, f.Type, describe(f))
			}
		case <-deadline:
			t.Fatalf("the end marker did not come")
		}
	}
	if !slices.Equal(got, span(1, 4)) {
		t.Fatalf("pts = %v; want 1..4 once each", got)
	}
}

func TestResumeIgnoresChatsTheUserIsNotIn(t *testing.T) {
	w := newWorld(t)
	a, snoop := w.user(t, "alice"), w.user(t, "snoop")
	private := w.group(t, a)
	w.post(t, a, private.ID, "private words")
	w.relay(t, nil)
	k := w.connect(t, snoop, map[int64]int64{private.ID: 0})
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("a non-member resuming a private chat got %s %s; want only ready", f.Type, describe(f))
	}
	w.post(t, a, private.ID, "more private words")
	w.relay(t, nil)
	k.quiet(t)
}

func TestJoinAndLeaveWhileConnected(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "alice"), w.user(t, "bob")
	g := w.group(t, a)
	k := w.connect(t, b, nil)
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("got %s; want ready", f.Type)
	}
	w.post(t, a, g.ID, "before bob")
	w.relay(t, nil)
	k.quiet(t)

	if err := w.db.AddMember(context.Background(), &parley.Member{ChatID: g.ID, UserID: b.ID}); err != nil {
		t.Fatal(err)
	}
	w.post(t, a, g.ID, "welcome bob")
	w.relay(t, nil)
	if f := k.next(t); f.Type != "joined" || f.ChatID != g.ID {
		t.Fatalf("got %s %s; want joined chat %d", f.Type, describe(f), g.ID)
	}
	if f := k.next(t); f.Type != "update" || f.Update.Message.Text != "welcome bob" {
		t.Fatalf("got %s %s; want the post after joining", f.Type, describe(f))
	}

	if err := w.db.RemoveMember(context.Background(), g.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	w.post(t, a, g.ID, "bob has gone")
	w.relay(t, nil)
	if f := k.next(t); f.Type != "left" || f.ChatID != g.ID {
		t.Fatalf("got %s %s; want left chat %d", f.Type, describe(f), g.ID)
	}
	k.quiet(t)
}

func TestSlowClientIsDisconnected(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "alice"), w.user(t, "bob")
	g := w.group(t, a, b)
	c := realtime.NewClient(parley.Viewer{UserID: b.ID}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.hub.Register(ctx, c); err != nil {
		t.Fatal(err)
	}
	defer w.hub.Unregister(c)
	done := make(chan error, 1)
	go func() {
		done <- w.hub.Run(ctx, c, func(ctx context.Context, f realtime.Frame) error {
			if f.Type == "update" {
				time.Sleep(20 * time.Millisecond) // a client on a slow link
			}
			return nil
		})
	}()
	for i := range realtime.QueueSize + 5 {
		w.post(t, a, g.ID, fmt.Sprint(i))
	}
	w.relay(t, nil)
	select {
	case err := <-done:
		if !errors.Is(err, realtime.ErrTooSlow) {
			t.Fatalf("Run = %v; want ErrTooSlow", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a client that does not read was not cut off")
	}
	if w.hub.Dropped() != 1 {
		t.Fatalf("Dropped = %d; want 1", w.hub.Dropped())
	}
	// The rest of the hub goes on: another client still gets updates.
	k := w.connect(t, a, nil)
	k.next(t) // ready
	w.post(t, b, g.ID, "still flowing")
	w.relay(t, nil)
	if f := k.next(t); f.Type != "update" || f.Update.Message.Text != "still flowing" {
		t.Fatalf("got %s %s", f.Type, describe(f))
	}
}

// TestResumeAcrossPages checks a catch-up longer than one page of the
// store: nothing is lost or repeated at the page boundaries.
func TestResumeAcrossPages(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "alice"), w.user(t, "bob")
	g := w.group(t, a, b)
	const n = 2*parley.MaxPageSize + 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { // concurrently, so the store commits them in groups
			defer wg.Done()
			if _, err := w.db.InsertMessage(context.Background(), &parley.Message{ChatID: g.ID, SenderID: a.ID, Text: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	w.relay(t, nil)
	k := w.connect(t, b, map[int64]int64{g.ID: 7})
	if got := k.updates(t, g.ID, n-7); !slices.Equal(got, span(8, n)) {
		t.Fatalf("catch-up of %d updates has pts %v…; want 8..%d in order", n-7, got[:10], n)
	}
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("got %s %s after the catch-up; want ready", f.Type, describe(f))
	}
}

// A client that claims a pts beyond the chat's (say, after the database was
// restored from a backup) is moved back to the chat's real pts, so the next
// post reaches it instead of being taken for a duplicate.
func TestResumeBeyondTheChatStartsFromItsRealPts(t *testing.T) {
	w := newWorld(t)
	a, b := w.user(t, "anna"), w.user(t, "ben")
	g := w.group(t, a, b)
	w.post(t, a, g.ID, "one")
	w.relay(t, nil)

	k := w.connect(t, b, map[int64]int64{g.ID: 50})
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("got %s, want ready", f.Type)
	}
	w.post(t, a, g.ID, "two")
	w.relay(t, nil)
	f := k.next(t)
	if f.Type != "update" || f.Update.Pts != 2 || f.Update.Message.Text != "two" {
		t.Fatalf("got %s %s, want the update with pts 2", f.Type, describe(f))
	}
}

// A reader looking at a public channel without subscribing names it in its
// resume list and receives its new posts live; a private group named the
// same way stays silent.
func TestPublicChannelIsWatchedWithoutSubscribing(t *testing.T) {
	w := newWorld(t)
	owner, reader := w.user(t, "owner"), w.user(t, "reader")
	ch := &parley.Chat{Kind: parley.ChatChannel, Handle: "watched", Title: "Watched", OwnerID: owner.ID}
	if err := w.db.CreateChat(context.Background(), ch, 0); err != nil {
		t.Fatal(err)
	}
	private := w.group(t, owner)
	k := w.connect(t, reader, map[int64]int64{ch.ID: 0, private.ID: 0})
	if f := k.next(t); f.Type != "ready" {
		t.Fatalf("got %s, want ready", f.Type)
	}
	w.post(t, owner, private.ID, "members only")
	w.post(t, owner, ch.ID, "for everyone")
	w.relay(t, nil)
	f := k.next(t)
	if f.Type != "update" || f.Update.ChatID != ch.ID || f.Update.Message.Text != "for everyone" {
		t.Fatalf("got %s %s, want the channel post", f.Type, describe(f))
	}
	k.quiet(t)
}

// countingStore is the real store, counting the chats it reads.
type countingStore struct {
	realtime.Store
	reads atomic.Int64
}

func (s *countingStore) FindChatByID(ctx context.Context, id int64) (*parley.Chat, error) {
	s.reads.Add(1)
	return s.Store.FindChatByID(ctx, id)
}

// Registering a reader who watches a channel reads the channel once, both
// to learn that it is public and to know it; the next reader's Register
// does not read it at all: the hub knows it by then.
func TestWatchedChannelIsReadOnceByRegister(t *testing.T) {
	w := newWorld(t)
	owner := w.user(t, "owner")
	ch := &parley.Chat{Kind: parley.ChatChannel, Handle: "read_once", Title: "Read once", OwnerID: owner.ID}
	if err := w.db.CreateChat(context.Background(), ch, 0); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: w.db}
	hub := realtime.NewHub(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i, name := range []string{"first", "second"} {
		c := realtime.NewClient(parley.Viewer{UserID: w.user(t, name).ID}, map[int64]int64{ch.ID: 0})
		if err := hub.Register(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		defer hub.Unregister(c)
		if n := store.reads.Load(); n != 1 {
			t.Fatalf("after reader %d registered the channel was read %d times; want once", i+1, n)
		}
	}
}
