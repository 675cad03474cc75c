package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"parley"
)

// externalEnv names the variable that points the tests at a real NATS
// server with JetStream, e.g. nats://127.0.0.1:4222.
const externalEnv = "PARLEY_TEST_NATS_URL"

// backend makes a fresh Config for one test: the embedded server with its
// own store directory, or the external server with a unique prefix (and so
// a stream of its own, deleted when the test ends).
type backend struct {
	name   string
	config func(t *testing.T) Config
}

func backends() []backend {
	return []backend{
		{"embedded", func(t *testing.T) Config {
			return Config{StoreDir: t.TempDir()}
		}},
		{"external", func(t *testing.T) Config {
			url := os.Getenv(externalEnv)
			if url == "" {
				t.Skipf("no external NATS server: set %s (e.g. nats://127.0.0.1:4222) to run this test against one", externalEnv)
			}
			prefix := "test_" + randomHex(t)
			t.Cleanup(func() { deleteStream(t, url, StreamName(prefix)) })
			return Config{URL: url, Prefix: prefix}
		}},
	}
}

// forEachBackend runs test once per backend, as subtests.
func forEachBackend(t *testing.T, test func(t *testing.T, cfg Config)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { test(t, b.config(t)) })
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func deleteStream(t *testing.T, url, name string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Errorf("cleanup: connect: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, name); err != nil {
		t.Errorf("cleanup: delete stream %s: %v", name, err)
	}
}

// testLog logs warnings and errors to the test's output. Writes after the
// test ended (from NATS callbacks) are dropped instead of failing the run.
func testLog(t *testing.T) *slog.Logger {
	w := &testWriter{w: t.Output()}
	t.Cleanup(w.end)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu    sync.Mutex
	w     io.Writer
	ended bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return len(p), nil
	}
	return w.w.Write(p)
}

func (w *testWriter) end() {
	w.mu.Lock()
	w.ended = true
	w.mu.Unlock()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, cfg Config) *Stream {
	t.Helper()
	s, err := Open(testContext(t), cfg, testLog(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func event(id int64, subject string) parley.Event {
	return parley.Event{
		ID:      id,
		Subject: subject,
		Kind:    "message.new",
		Payload: fmt.Appendf(nil, `{"n":%d}`, id),
	}
}

// collector gathers the messages of a subscription.
type collector struct {
	mu   sync.Mutex
	msgs []Message
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) handle(m Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

func (c *collector) snapshot() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// wait returns the messages once there are at least n, failing the test
// after timeout.
func (c *collector) wait(t *testing.T, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if msgs := c.snapshot(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("got %d messages after %v, want %d", len(c.snapshot()), timeout, n)
		}
	}
}

func ids(msgs []Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func streamMsgs(t *testing.T, s *Stream) uint64 {
	t.Helper()
	st, err := s.js.Stream(testContext(t), s.name)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return st.CachedInfo().State.Msgs
}

func TestPublishSubscribe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		s := open(t, cfg)
		if got, want := s.Embedded(), cfg.URL == ""; got != want {
			t.Errorf("Embedded() = %v, want %v", got, want)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("Ready: %v", err)
		}
		// Published before the subscription: not delivered.
		if err := s.Publish(ctx, event(1, "chat.1")); err != nil {
			t.Fatal(err)
		}
		c := newCollector()
		stop, err := s.Subscribe(ctx, "chat.>", c.handle)
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		defer stop()
		// Event 5 marks the end: the subscription delivers in stream order,
		// so once it has arrived, so has anything wrongly delivered before it
		// (event 1, or event 3 outside the filter).
		for _, ev := range []parley.Event{event(2, "chat.42"), event(3, "user.7"), event(4, "chat.43"), event(5, "chat.end")} {
			if err := s.Publish(ctx, ev); err != nil {
				t.Fatalf("Publish %d: %v", ev.ID, err)
			}
		}
		msgs := c.wait(t, 3, 10*time.Second)
		want := []Message{
			{Subject: "chat.42", Kind: "message.new", Data: []byte(`{"n":2}`), StreamSeq: 2, ID: 2},
			{Subject: "chat.43", Kind: "message.new", Data: []byte(`{"n":4}`), StreamSeq: 4, ID: 4},
			{Subject: "chat.end", Kind: "message.new", Data: []byte(`{"n":5}`), StreamSeq: 5, ID: 5},
		}
		if len(msgs) != len(want) || msgs[len(msgs)-1].ID != 5 {
			t.Fatalf("got messages %v, want ids [2 4 5]", ids(msgs))
		}
		for i := range want {
			g, w := msgs[i], want[i]
			if g.Subject != w.Subject || g.Kind != w.Kind || string(g.Data) != string(w.Data) || g.StreamSeq != w.StreamSeq || g.ID != w.ID {
				t.Errorf("message %d = %+v, want %+v", i, g, w)
			}
		}
	})
}

func TestPublishRejectsBadEvents(t *testing.T) {
	s := open(t, Config{})
	ctx := testContext(t)
	for _, ev := range []parley.Event{event(0, "chat.1"), event(1, ""), event(1, "chat..1"), event(1, "chat.*"), event(1, "chat 1")} {
		if err := s.Publish(ctx, ev); err == nil {
			t.Errorf("Publish(id %d, subject %q) succeeded, want an error", ev.ID, ev.Subject)
		}
	}
	// A bad event in a batch stops the batch there; the events before it
	// are acknowledged.
	acked, err := s.PublishBatch(ctx, []parley.Event{event(1, "chat.1"), event(2, "chat.1"), event(3, ""), event(4, "chat.1")})
	if err == nil || acked != 2 {
		t.Errorf("PublishBatch = %d, %v; want 2 and an error", acked, err)
	}
	if _, err := s.Subscribe(ctx, "chat.>.x", func(Message) {}); err == nil {
		t.Error("Subscribe with a misplaced '>' succeeded")
	}
}

func TestDedup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		s := open(t, cfg)
		ev := event(7, "chat.1")
		for range 2 {
			if err := s.Publish(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		if n := streamMsgs(t, s); n != 1 {
			t.Errorf("after publishing one id twice the stream holds %d messages, want 1", n)
		}
		// The same within a batch and across Publish and PublishBatch.
		acked, err := s.PublishBatch(ctx, []parley.Event{ev, event(8, "chat.1"), event(8, "chat.1"), event(9, "chat.2")})
		if err != nil || acked != 4 {
			t.Fatalf("PublishBatch = %d, %v; want 4, nil", acked, err)
		}
		if n := streamMsgs(t, s); n != 3 {
			t.Errorf("stream holds %d messages, want 3", n)
		}
		if d := s.Duplicates(); d != 3 {
			t.Errorf("Duplicates() = %d, want 3", d)
		}
	})
}

func TestReopenKeepsEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		s := open(t, cfg)
		acked, err := s.PublishBatch(ctx, []parley.Event{event(1, "chat.1"), event(2, "chat.2"), event(3, "user.3")})
		if err != nil || acked != 3 {
			t.Fatalf("PublishBatch = %d, %v", acked, err)
		}
		s.Close()
		if err := s.Ready(ctx); err == nil {
			t.Error("Ready after Close = nil")
		}
		if err := s.Publish(ctx, event(4, "chat.1")); err != ErrClosed {
			t.Errorf("Publish after Close = %v, want ErrClosed", err)
		}

		s = open(t, cfg)
		if n := streamMsgs(t, s); n != 3 {
			t.Errorf("reopened stream holds %d messages, want 3", n)
		}
		c := newCollector()
		stop, err := s.SubscribeFrom(ctx, ">", 1, c.handle)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		msgs := c.wait(t, 3, 10*time.Second)
		if got := ids(msgs); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("replayed ids %v, want [1 2 3]", got)
		}
		if msgs[2].Subject != "user.3" || msgs[2].StreamSeq != 3 {
			t.Errorf("third message %+v", msgs[2])
		}
		// A replay published again after the restart is still a duplicate.
		if err := s.Publish(ctx, event(2, "chat.2")); err != nil {
			t.Fatal(err)
		}
		if n := streamMsgs(t, s); n != 3 {
			t.Errorf("stream holds %d messages after re-publishing, want 3", n)
		}
	})
}

func TestTemporaryStoreRemovedOnClose(t *testing.T) {
	s := open(t, Config{})
	dir := s.tmpDir
	if dir == "" {
		t.Fatal("no temporary store directory")
	}
	if err := s.Publish(testContext(t), event(1, "chat.1")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary store %s still exists after Close (stat: %v)", dir, err)
	}
}

func TestCloseStopsSubscriptions(t *testing.T) {
	s := open(t, Config{})
	ctx := testContext(t)
	stop, err := s.Subscribe(ctx, ">", func(Message) {})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	if _, err := s.Subscribe(cctx, ">", func(Message) {}); err != nil {
		t.Fatal(err)
	}
	cancel() // ends the second subscription
	done := make(chan struct{})
	go func() {
		s.Close()
		stop() // after Close: returns at once
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close or stop hangs")
	}
	if _, err := s.Subscribe(ctx, ">", func(Message) {}); err != ErrClosed {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
}

// memOutbox is an in-memory Outbox, in id order. onDelete, when set, runs
// before each delete and can fail it.
type memOutbox struct {
	mu       sync.Mutex
	evs      []parley.Event
	reads    int
	deletes  int
	onDelete func(call int) error
}

func (o *memOutbox) add(evs ...parley.Event) {
	o.mu.Lock()
	o.evs = append(o.evs, evs...)
	o.mu.Unlock()
}

func (o *memOutbox) PendingEvents(_ context.Context, limit int) ([]parley.Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	return slices.Clone(o.evs[:min(limit, len(o.evs))]), nil
}

func (o *memOutbox) DeleteEvents(_ context.Context, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deletes++
	if o.onDelete != nil {
		if err := o.onDelete(o.deletes); err != nil {
			return err
		}
	}
	o.evs = slices.DeleteFunc(o.evs, func(ev parley.Event) bool { return slices.Contains(ids, ev.ID) })
	return nil
}

func (o *memOutbox) CountPendingEvents(context.Context) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int64(len(o.evs)), nil
}

func (o *memOutbox) pending() int {
	n, _ := o.CountPendingEvents(context.Background())
	return int(n)
}

func (o *memOutbox) readCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reads
}

func events(n int) []parley.Event {
	evs := make([]parley.Event, n)
	for i := range evs {
		evs[i] = event(int64(i+1), fmt.Sprintf("chat.%d", i%7))
	}
	return evs
}

// runRelay starts r.Run and returns a function that stops it and checks
// that it returned nil.
func runRelay(t *testing.T, r *Relay) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRelay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		const n = 1000
		ctx := testContext(t)
		s := open(t, cfg)
		c := newCollector()
		stopSub, err := s.Subscribe(ctx, ">", c.handle)
		if err != nil {
			t.Fatal(err)
		}
		defer stopSub()
		ob := &memOutbox{}
		ob.add(events(n)...)
		r := &Relay{Outbox: ob, Stream: s, Batch: 128, Log: testLog(t)}
		start := time.Now()
		stop := runRelay(t, r)
		c.wait(t, n, 15*time.Second)
		t.Logf("relayed %d events to a subscriber in %v", n, time.Since(start))
		waitFor(t, "the outbox to empty", 5*time.Second, func() bool { return ob.pending() == 0 })
		// With the relay stopped, one more event published directly marks
		// the end: the subscription delivers in stream order, so anything
		// the relay stored beyond the n events (a copy, a stray) arrives
		// before it.
		stop()
		if err := s.Publish(ctx, event(n+1, "chat.end")); err != nil {
			t.Fatal(err)
		}
		msgs := c.wait(t, n+1, 15*time.Second)
		if got := ids(msgs); !slices.Equal(got, seq(1, n+1)) {
			t.Fatalf("subscriber got %d events, want ids 1..%d exactly once in order, then the end marker", len(got), n)
		}
		for i, m := range msgs[:n] {
			if m.StreamSeq != uint64(i+1) || m.Subject != fmt.Sprintf("chat.%d", i%7) {
				t.Fatalf("message %d = %+v", i, m)
			}
		}
		if r.Relayed() != n || r.Failures() != 0 {
			t.Errorf("Relayed() = %d, Failures() = %d; want %d, 0", r.Relayed(), r.Failures(), n)
		}
	})
}

// TestRelayCrashAfterPublish kills the relay between publishing a batch and
// deleting it from the outbox, then starts a new one: the batch is published
// again and de-duplicated by the stream.
func TestRelayCrashAfterPublish(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		const n, batch = 1000, 100
		ctx := testContext(t)
		s := open(t, cfg)
		ob := &memOutbox{}
		ob.add(events(n)...)

		crashCtx, crash := context.WithCancel(ctx)
		ob.onDelete = func(call int) error {
			if call == 4 {
				crash()
				return fmt.Errorf("killed")
			}
			return nil
		}
		r1 := &Relay{Outbox: ob, Stream: s, Batch: batch, Log: testLog(t)}
		if err := r1.Run(crashCtx); err != nil {
			t.Fatalf("Run = %v", err)
		}
		if got, want := ob.pending(), n-3*batch; got != want {
			t.Fatalf("%d events pending after the crash, want %d", got, want)
		}
		if got := streamMsgs(t, s); got != 4*batch {
			t.Fatalf("stream holds %d messages after the crash, want %d", got, 4*batch)
		}

		ob.mu.Lock()
		ob.onDelete = nil
		ob.mu.Unlock()
		r2 := &Relay{Outbox: ob, Stream: s, Batch: batch, Log: testLog(t)}
		stop := runRelay(t, r2)
		waitFor(t, "the outbox to empty", 15*time.Second, func() bool { return ob.pending() == 0 })
		stop()
		if got := streamMsgs(t, s); got != n {
			t.Errorf("stream holds %d messages, want %d (no duplicates)", got, n)
		}
		if d := s.Duplicates(); d != batch {
			t.Errorf("Duplicates() = %d, want %d (the re-published batch)", d, batch)
		}
		c := newCollector()
		stopSub, err := s.SubscribeFrom(ctx, ">", 1, c.handle)
		if err != nil {
			t.Fatal(err)
		}
		defer stopSub()
		if got := ids(c.wait(t, n, 15*time.Second)); !slices.Equal(got, seq(1, n)) {
			t.Errorf("stream does not hold ids 1..%d exactly once in order", n)
		}
	})
}

// TestRelayCancelMidway stops a relay at an arbitrary point while it works
// and restarts it: every event reaches the stream exactly once.
func TestRelayCancelMidway(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		const n = 1000
		s := open(t, cfg)
		ob := &memOutbox{}
		ob.add(events(n)...)
		r1 := &Relay{Outbox: ob, Stream: s, Batch: 50, Log: testLog(t)}
		stop := runRelay(t, r1)
		waitFor(t, "some events relayed", 10*time.Second, func() bool { return r1.Relayed() >= 200 })
		stop()
		r2 := &Relay{Outbox: ob, Stream: s, Batch: 50, Log: testLog(t)}
		stop = runRelay(t, r2)
		waitFor(t, "the outbox to empty", 15*time.Second, func() bool { return ob.pending() == 0 })
		stop()
		if got := streamMsgs(t, s); got != n {
			t.Errorf("stream holds %d messages, want %d", got, n)
		}
	})
}

func TestRelaySignal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg Config) {
		ctx := testContext(t)
		s := open(t, cfg)
		c := newCollector()
		stopSub, err := s.Subscribe(ctx, ">", c.handle)
		if err != nil {
			t.Fatal(err)
		}
		defer stopSub()
		ob := &memOutbox{}
		signal := make(chan struct{}, 1)
		// With an hour between polls, only the signal can wake the relay.
		r := &Relay{Outbox: ob, Stream: s, Signal: signal, Interval: time.Hour, Log: testLog(t)}
		runRelay(t, r)
		// After its first read of the (empty) outbox the relay waits for the
		// signal or the hour; an event added now was not in that read.
		waitFor(t, "the relay's first read", 5*time.Second, func() bool { return ob.readCount() >= 1 })

		for i := range int64(3) {
			ob.add(event(i+1, "chat.1"))
			start := time.Now()
			signal <- struct{}{}
			c.wait(t, int(i+1), 5*time.Second)
			// The poll interval is an hour, so arriving at all within the
			// wait proves the signal woke the relay; the bound is loose so a
			// busy machine does not fail the test.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("event %d arrived %v after the signal, want well under the hour-long poll", i+1, d)
			}
		}
	})
}

// TestSubscribeSurvivesServerRestart restarts a (listening) NATS server under
// a subscription and a relay: both carry on once the server is back.
func TestSubscribeSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	startServer := func(port int) *server.Server {
		ns, err := server.NewServer(&server.Options{
			Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("server did not start")
		}
		return ns
	}
	ns := startServer(-1)
	port := ns.Addr().(*net.TCPAddr).Port
	url := ns.ClientURL()
	t.Cleanup(func() { ns.Shutdown() })

	ctx := testContext(t)
	s := open(t, Config{URL: url})
	c := newCollector()
	stopSub, err := s.Subscribe(ctx, "chat.>", c.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSub()
	ob := &memOutbox{}
	r := &Relay{Outbox: ob, Stream: s, Interval: 20 * time.Millisecond, Log: testLog(t)}
	runRelay(t, r)

	ob.add(event(1, "chat.1"))
	c.wait(t, 1, 5*time.Second)

	ns.Shutdown()
	ns.WaitForShutdown()
	// Event 2 is relayed while the server is down: the round fails (its
	// publish is not acknowledged) and is retried once the server is back.
	ob.add(event(2, "chat.1"))
	waitFor(t, "a failed relay round while the server is down", 15*time.Second, func() bool { return r.Failures() > 0 })
	if n := ob.pending(); n != 1 {
		t.Fatalf("%d events in the outbox after a failed round, want 1: a failed round must keep its events", n)
	}
	ns = startServer(port)

	waitFor(t, "Ready after the restart", 10*time.Second, func() bool { return s.Ready(ctx) == nil })
	ob.add(event(3, "chat.1"))
	msgs := c.wait(t, 3, 15*time.Second)
	if got := ids(msgs); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("ids %v, want [1 2 3]", got)
	}
}

func TestStreamName(t *testing.T) {
	for prefix, want := range map[string]string{
		"parley":       "PARLEY",
		"test_1a2b":    "TEST_1A2B",
		"acme.parley":  "ACME_PARLEY",
		"dev-Parley-2": "DEV_PARLEY_2",
	} {
		if got := StreamName(prefix); got != want {
			t.Errorf("StreamName(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestOpenRejectsBadPrefix(t *testing.T) {
	for _, prefix := range []string{"a..b", "a.*", "a b", ".a"} {
		if s, err := Open(t.Context(), Config{Prefix: prefix}, nil); err == nil {
			s.Close()
			t.Errorf("Open with prefix %q succeeded", prefix)
		}
	}
}

func BenchmarkPublishBatch(b *testing.B) {
	s, err := Open(b.Context(), Config{StoreDir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var id atomic.Int64
	evs := make([]parley.Event, DefaultRelayBatch)
	for b.Loop() {
		for i := range evs {
			evs[i] = event(id.Add(1), "chat.1")
		}
		if _, err := s.PublishBatch(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
