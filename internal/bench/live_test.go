package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/internal/auth"
	"parley/internal/store/sqlite"
)

// TestLive measures live delivery against the real binary in its own
// process, with the WebSocket clients in this one:
//
//   - fan-out: one post to a channel with PARLEY_BENCH_SUBSCRIBERS (10,000)
//     connected subscribers; the time from sending the post until each
//     subscriber has it, over PARLEY_BENCH_POSTS (20) posts;
//   - memory per idle connection: the server's resident memory (VmRSS) and
//     its Go heap and stacks (from /metrics) before and after connecting them;
//   - resume storm: every subscriber disconnects, the channel gets 10 posts,
//     and all reconnect at once naming the last pts they saw; each must get
//     exactly the 10 missed updates, in order, then "ready".
//
// The accounts, their sessions and the subscriptions are written with the
// store before the server starts (the server must be the only process
// writing its database), because 10,000 sign-ups through the API would spend
// minutes in argon2id, which is not what this measures.
func TestLive(t *testing.T) {
	Require(t)
	n := EnvInt(t, "PARLEY_BENCH_SUBSCRIBERS", 10_000)
	posts := EnvInt(t, "PARLEY_BENCH_POSTS", 20)
	const missed = 10
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	dataDir := t.TempDir()
	seedStart := time.Now()
	owner, tokens, chatID := seedChannel(t, dataDir, n)
	t.Logf("seeded %d subscribers with the store in %s", n, time.Since(seedStart).Round(time.Second))

	bin := BuildParley(t)
	srv := StartParley(t, bin, "-data-dir", dataDir)
	api := NewClient(srv.URL, 8)
	if err := WaitReady(ctx, api); err != nil {
		t.Fatal(err)
	}
	// The subscriptions' chat.joined events are relayed first.
	if _, err := api.WaitMetric(ctx, "parley_outbox_pending", 0); err != nil {
		t.Fatal(err)
	}
	// One post before measuring, so that every path has run once.
	if _, err := api.Post(ctx, owner, chatID, "warm-up"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	mem0 := serverMemory(t, srv, api)

	// Connect every subscriber; each waits for its "ready".
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/live"
	dialer := newDialer()
	conns := make([]*websocket.Conn, n)
	connectStart := time.Now()
	var connectErrs Errors
	forEach(n, 200, func(i int) {
		c, _, err := dialer.live(ctx, wsURL, tokens[i], "", 0)
		if err != nil {
			connectErrs.Add(err)
			return
		}
		conns[i] = c
	})
	connectTime := time.Since(connectStart)
	if e, first := connectErrs.Result(); e > 0 {
		t.Fatalf("%d of %d subscribers could not connect; first: %v\n%s", e, n, first, srv.Logs())
	}
	if _, err := api.WaitMetric(ctx, "parley_live_connections", float64(n)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // let the server settle with n idle connections
	mem1 := serverMemory(t, srv, api)
	// Then wait for the server's next garbage collection (the runtime forces
	// one every two minutes at the latest), which frees what connecting left
	// behind and shrinks stacks that grew while connecting: what remains is
	// what an idle connection holds for as long as it stays open.
	mem2 := mem1
	for deadline := time.Now().Add(150 * time.Second); mem2.lastGC == mem1.lastGC && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		mem2 = serverMemory(t, srv, api)
	}
	if mem2.lastGC == mem1.lastGC {
		t.Logf("no garbage collection in the server within 150s of connecting")
	}

	// Fan-out: each subscriber's reader records when each post arrives.
	var chat parley.Chat
	if _, err := api.Do(ctx, "GET", fmt.Sprintf("/api/v1/chats/%d", chatID), owner, nil, &chat); err != nil {
		t.Fatal(err)
	}
	basePts := chat.Pts
	arrivals := make([][]time.Time, posts)
	received := make([]atomic.Int64, posts)
	for p := range arrivals {
		arrivals[p] = make([]time.Time, n)
	}
	var frameErrs Errors
	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	for i, c := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_, b, err := c.Read(readCtx)
				at := time.Now()
				if err != nil {
					if readCtx.Err() == nil {
						frameErrs.Add(fmt.Errorf("subscriber %d: %w", i, err))
					}
					return
				}
				chat, pts, ok := quickUpdate(b)
				if !ok || chat != chatID {
					frameErrs.Add(fmt.Errorf("subscriber %d: unexpected frame %s", i, b))
					continue
				}
				p := int(pts - basePts - 1)
				if p < 0 || p >= posts || !arrivals[p][i].IsZero() {
					frameErrs.Add(fmt.Errorf("subscriber %d: unexpected or repeated pts %d", i, pts))
					continue
				}
				arrivals[p][i] = at
				received[p].Add(1)
			}
		}()
	}
	fanout := StartWindow(srv.PID())
	sent := make([]time.Time, posts)
	var allIn []time.Duration // per post: until the last subscriber had it
	var lat []time.Duration   // per post and subscriber
	incomplete := 0
	for p := range posts {
		sent[p] = time.Now()
		if _, err := api.Post(ctx, owner, chatID, fmt.Sprintf("fan-out %d", p)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for received[p].Load() < int64(n) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if received[p].Load() < int64(n) {
			incomplete++
			t.Errorf("post %d: only %d of %d subscribers had it after 30s", p, received[p].Load(), n)
		}
		var last time.Duration
		for i := range n {
			if at := arrivals[p][i]; !at.IsZero() {
				d := at.Sub(sent[p])
				lat = append(lat, d)
				last = max(last, d)
			}
		}
		allIn = append(allIn, last)
		time.Sleep(200 * time.Millisecond)
	}
	_, fanClientCPU, fanServerCPU, fanOthers := fanout.Stop()
	stopReading()
	for _, c := range conns {
		c.CloseNow()
	}
	readers.Wait()
	slices.Sort(lat)
	slices.Sort(allIn)

	// Resume storm: everyone is away while the channel gets missed posts,
	// then everyone comes back at once.
	if _, err := api.WaitMetric(ctx, "parley_live_connections", 0); err != nil {
		t.Fatal(err)
	}
	lastPts := basePts + int64(posts)
	for k := range missed {
		if _, err := api.Post(ctx, owner, chatID, fmt.Sprintf("missed %d", k)); err != nil {
			t.Fatal(err)
		}
	}
	resume := fmt.Sprintf("%d:%d", chatID, lastPts)
	storm := StartWindow(srv.PID())
	stormStart := time.Now()
	ready := make([]time.Duration, n)
	var stormErrs Errors
	forEach(n, n, func(i int) {
		c, got, err := dialer.live(ctx, wsURL, tokens[i], resume, missed)
		if err == nil {
			for k, u := range got {
				if u.ChatID != chatID || u.Pts != lastPts+int64(k)+1 {
					err = fmt.Errorf("update %d of the catch-up is chat %d pts %d, want pts %d", k, u.ChatID, u.Pts, lastPts+int64(k)+1)
					break
				}
			}
			if err == nil && len(got) != missed {
				err = fmt.Errorf("caught up %d updates, want %d", len(got), missed)
			}
		}
		if err != nil {
			stormErrs.Add(fmt.Errorf("subscriber %d: %w", i, err))
		} else {
			ready[i] = time.Since(stormStart)
		}
		if c != nil {
			c.CloseNow()
		}
	})
	stormTime := time.Since(stormStart)
	_, stormClientCPU, stormServerCPU, stormOthers := storm.Stop()
	var readyOK []time.Duration
	for _, d := range ready {
		if d > 0 {
			readyOK = append(readyOK, d)
		}
	}
	slices.Sort(readyOK)

	var b strings.Builder
	fmt.Fprintf(&b, "live delivery on %s\n", Machine())
	fmt.Fprintf(&b, "server: the parley binary, pid %d, embedded NATS; clients: this process\n\n", srv.PID())
	fmt.Fprintf(&b, "connect: %d subscribers in %s (200 dialing at a time)\n", n, connectTime.Round(time.Millisecond))
	fmt.Fprintf(&b, "server memory per idle connection, 3 s after connecting: VmRSS %.1f KiB (%.0f → %.0f MiB), Go heap in use %.1f KiB + stacks %.1f KiB; goroutines %.1f per connection\n",
		perConn(mem0.rss, mem1.rss, n), mib(mem0.rss), mib(mem1.rss), perConn(mem0.heap, mem1.heap, n), perConn(mem0.stack, mem1.stack, n),
		float64(mem1.goroutines-mem0.goroutines)/float64(n))
	if mem2.lastGC != mem1.lastGC {
		fmt.Fprintf(&b, "  after the server's next GC: Go heap in use %.1f KiB + stacks %.1f KiB per connection (VmRSS %.0f MiB: the runtime returns freed memory to the OS slowly)\n",
			perConn(mem0.heap, mem2.heap, n), perConn(mem0.stack, mem2.stack, n), mib(mem2.rss))
	}
	fmt.Fprintf(&b, "fan-out, %d posts, one at a time, to %d subscribers: per delivery p50 %s, p99 %s, max %s; all %d had it: median %s, worst %s (aim p99 < 1 s: %s)\n",
		posts, n, Ms(Percentile(lat, 50)), Ms(Percentile(lat, 99)), Ms(Percentile(lat, 100)), n,
		Ms(Percentile(allIn, 50)), Ms(Percentile(allIn, 100)), verdict(Percentile(lat, 99) < time.Second && incomplete == 0))
	fmt.Fprintf(&b, "  fan-out CPU: server %s, clients %s, other processes %.2f CPUs on average\n",
		fanServerCPU.Round(10*time.Millisecond), fanClientCPU.Round(10*time.Millisecond), fanOthers)
	fmt.Fprintf(&b, "memory aim < 30 KiB per idle connection: %s\n", verdict(perConn(mem0.rss, mem1.rss, n) < 30))
	fmt.Fprintf(&b, "resume storm: %d reconnect at once, %d missed updates each: all ready in %s; time to ready p50 %s, p99 %s; %d errors\n",
		n, missed, stormTime.Round(time.Millisecond), Ms(Percentile(readyOK, 50)), Ms(Percentile(readyOK, 99)), stormErrs.Count())
	fmt.Fprintf(&b, "  storm CPU: server %s (%.0f µs per reconnect), clients %s, other processes %.2f CPUs on average\n",
		stormServerCPU.Round(10*time.Millisecond), perOp(stormServerCPU, int64(n)), stormClientCPU.Round(10*time.Millisecond), stormOthers)
	t.Log("\n" + b.String())

	if e, first := frameErrs.Result(); e > 0 {
		t.Errorf("%d unexpected frames or read errors during fan-out; first: %v", e, first)
	}
	if e, first := stormErrs.Result(); e > 0 {
		t.Errorf("%d of %d resuming subscribers failed; first: %v", e, n, first)
	}
}

// frame is what the benchmark reads of a live frame.
type frame struct {
	Type   string `json:"type"`
	Update *struct {
		ChatID int64 `json:"chat_id"`
		Pts    int64 `json:"pts"`
	} `json:"update"`
}

// quickUpdate reads the chat and pts of an update frame without decoding
// the rest, so that the 10,000 readers of the fan-out spend as little of the
// machine's two CPUs as they can: the server encodes frames as
// {"type":"update","update":{"chat_id":N,"pts":N,...}}. It falls back to
// decoding the whole frame when the fields are not where it expects them.
func quickUpdate(b []byte) (chat, pts int64, ok bool) {
	const prefix = `{"type":"update","update":{"chat_id":`
	if rest, found := bytes.CutPrefix(b, []byte(prefix)); found {
		chat, rest, ok1 := leadingInt(rest)
		if rest, found = bytes.CutPrefix(rest, []byte(`,"pts":`)); ok1 && found {
			if pts, _, ok2 := leadingInt(rest); ok2 {
				return chat, pts, true
			}
		}
	}
	f, err := decodeFrame(b)
	if err != nil || f.Type != "update" {
		return 0, 0, false
	}
	return f.Update.ChatID, f.Update.Pts, true
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (int64, []byte, bool) {
	i := 0
	var n int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	return n, b[i:], i > 0
}

func decodeFrame(b []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return f, err
	}
	if f.Type == "update" && f.Update == nil {
		return f, errors.New("update frame without an update")
	}
	return f, nil
}

type wsDialer struct{ http *http.Client }

func newDialer() *wsDialer {
	tr := &http.Transport{
		DialContext:     (&net.Dialer{Timeout: 60 * time.Second}).DialContext,
		MaxIdleConns:    -1,
		IdleConnTimeout: time.Second,
	}
	return &wsDialer{http: &http.Client{Transport: tr}}
}

type ptsUpdate struct{ ChatID, Pts int64 }

// live opens /api/v1/live with the given resume list and reads until the
// "ready" frame, failing if more than maxUpdates updates come first. It returns
// the connection and the updates read before "ready".
func (d *wsDialer) live(ctx context.Context, url, token, resume string, maxUpdates int) (*websocket.Conn, []ptsUpdate, error) {
	if resume != "" {
		url += "?resume=" + resume
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{
		HTTPClient: d.http,
		HTTPHeader: http.Header{"Authorization": []string{"Bearer " + token}},
	})
	if err != nil {
		return nil, nil, err
	}
	var got []ptsUpdate
	for {
		_, b, err := c.Read(dctx)
		if err != nil {
			return c, got, fmt.Errorf("before ready: %w", err)
		}
		f, err := decodeFrame(b)
		if err != nil {
			return c, got, fmt.Errorf("frame %s: %w", b, err)
		}
		switch f.Type {
		case "ready":
			return c, got, nil
		case "update":
			got = append(got, ptsUpdate{f.Update.ChatID, f.Update.Pts})
			if len(got) > maxUpdates {
				return c, got, fmt.Errorf("more than %d updates before ready", maxUpdates)
			}
		default:
			return c, got, fmt.Errorf("unexpected frame before ready: %s", b)
		}
	}
}

// forEach calls f(0..n-1) from at most par goroutines at once.
func forEach(n, par int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

type memory struct {
	rss, heap, stack int64
	goroutines       int64
	lastGC           float64 // unix seconds of the last garbage collection
}

// serverMemory reads the server's resident memory from /proc and its Go
// heap in use, stack in use, goroutines and last GC time from /metrics.
func serverMemory(t *testing.T, srv *Process, api *Client) memory {
	t.Helper()
	rss, err := srv.RSS()
	if err != nil {
		t.Fatal(err)
	}
	m := memory{rss: rss}
	for name, p := range map[string]*int64{
		"go_memstats_heap_inuse_bytes":  &m.heap,
		"go_memstats_stack_inuse_bytes": &m.stack,
		"go_goroutines":                 &m.goroutines,
	} {
		v, err := api.Metric(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		*p = int64(v)
	}
	if m.lastGC, err = api.Metric(t.Context(), "go_memstats_last_gc_time_seconds"); err != nil {
		t.Fatal(err)
	}
	return m
}

// perConn returns the growth from a to b per connection, in KiB.
func perConn(a, b int64, n int) float64 { return float64(b-a) / float64(n) / 1024 }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// seedChannel writes, with the store, a channel owned by an account and n
// subscriber accounts, each with an API session, into the database of
// dataDir. It returns the owner's token, the subscribers' tokens and the
// channel's id.
func seedChannel(t *testing.T, dataDir string, n int) (string, []string, int64) {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The password hash is never checked: the benchmark signs in with the
	// sessions made here.
	owner := &parley.User{Username: "bench_owner", PasswordHash: "unused"}
	if err := db.CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	chat := &parley.Chat{Kind: parley.ChatChannel, Handle: "bench_news", Title: "Bench News", OwnerID: owner.ID}
	if err := db.CreateChat(ctx, chat, 0); err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, n)
	for i := range tokens {
		u := &parley.User{Username: fmt.Sprintf("sub%05d", i), PasswordHash: "unused"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		tokens[i] = storeSession(t, db, u)
		if err := db.AddMember(ctx, &parley.Member{ChatID: chat.ID, UserID: u.ID, Role: parley.MemberSubscriber}); err != nil {
			t.Fatal(err)
		}
	}
	return storeSession(t, db, owner), tokens, chat.ID
}

// storeSession writes, with the store, an API session for u that lasts a
// day, and returns its bearer token: the benchmarks sign in with these
// instead of spending argon2id on thousands of sign-ins.
func storeSession(t *testing.T, db *sqlite.DB, u *parley.User) string {
	t.Helper()
	tok, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.CreateSession(t.Context(), &parley.Session{TokenHash: auth.HashToken(tok), UserID: u.ID, Kind: "api",
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return tok
}
