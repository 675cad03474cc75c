package bench

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/internal/app"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/store/sqlite"
)

// Shape of the ingest benchmark. The clients are spread over groups of
// ingestGroupSize members, every member posting: several writers per chat
// exercise the per-chat sequence numbers under contention the way a busy
// group does, and several chats exercise one outbox subject per chat, while
// the group commit batches across all of them.
const ingestGroupSize = 8

// ingestText returns writer w's message i: a typical chat message of about
// ninety bytes, words drawn from a small vocabulary so that no two writers
// send the same text. (Sixty-four accounts posting one text over and over is
// a spam campaign, which the campaign detector would rightly find; real
// chat is not like that.)
func ingestText(w, i int) string {
	var b strings.Builder
	x := uint32(w*7919 + i*104729 + 1)
	for b.Len() < 84 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ingestWords[x%uint32(len(ingestWords))])
	}
	fmt.Fprintf(&b, " #%d", i%1000)
	return b.String()
}

var ingestWords = strings.Fields(`meeting moved to room bring the draft of report please tomorrow morning lunch
	train late sorry coffee later call me when you can see you at five thanks great idea agreed tickets
	weekend plans photos from the trip dinner tonight who is coming new version ready for review budget
	numbers look fine send slides before noon kids school pickup rain again traffic on the bridge
	meeting notes attached football match starts at eight birthday cake for anna happy to help`)

// TestIngest measures acknowledged, durable messages per second through the
// HTTP API of the real binary, beside the raw rates of the same SQLite store
// without HTTP: one message per transaction from one goroutine and from as
// many goroutines as there are API clients (the baseline the API must beat),
// and the group commit that the API uses.
func TestIngest(t *testing.T) {
	Require(t)
	d := EnvDuration(t, DurationEnv, 10*time.Second)
	clients := EnvInt(t, "PARLEY_BENCH_CLIENTS", 64)
	groups := max(1, clients/ingestGroupSize)
	warmup := time.Second
	ctx := t.Context()
	fsync50, fsync99, err := FsyncLatency(t.TempDir(), 300)
	if err != nil {
		t.Fatal(err)
	}

	type row struct {
		name string
		run  Run
		note string
	}
	var rows []row
	storeRun := func(name string, workers int, insert func(*sqlite.DB) func(context.Context, *parley.Message) (*parley.Update, error)) {
		db, users, chats := seedStore(t, clients, groups)
		ins := insert(db)
		r := RunFor(ctx, RunOptions{Workers: workers, Warmup: warmup, Duration: d}, func(ctx context.Context, w, i int) error {
			_, err := ins(ctx, &parley.Message{ChatID: chats[w%groups], SenderID: users[w], Text: ingestText(w, i)})
			return err
		})
		rows = append(rows, row{name, r, fmt.Sprintf("%.0f µs", perOp(r.CPU, r.Ops))})
		db.Close()
	}
	single := func(db *sqlite.DB) func(context.Context, *parley.Message) (*parley.Update, error) {
		return db.InsertMessageSingle
	}
	group := func(db *sqlite.DB) func(context.Context, *parley.Message) (*parley.Update, error) {
		return db.InsertMessage
	}
	storeRun("store, 1 msg/transaction, 1 goroutine", 1, single)
	storeRun(fmt.Sprintf("store, 1 msg/transaction, %d goroutines", clients), clients, single)
	storeRun(fmt.Sprintf("store, group commit, %d goroutines", clients), clients, group)

	// The services the API calls, in process, without HTTP: what HTTP adds
	// is the difference between this row and the next.
	svc := serviceWorld(t, clients, groups)
	r := RunFor(ctx, RunOptions{Workers: clients, Warmup: warmup, Duration: d}, func(ctx context.Context, w, i int) error {
		u, _, err := svc.app.Auth.Authenticate(ctx, svc.tokens[w])
		if err != nil {
			return err
		}
		_, err = svc.app.Messaging.PostMessage(ctx, u, svc.chats[w%groups], messaging.PostInput{Text: ingestText(w, i)})
		return err
	})
	rows = append(rows, row{fmt.Sprintf("services without HTTP, %d goroutines", clients), r, fmt.Sprintf("%.0f µs", perOp(r.CPU, r.Ops))})
	if err := svc.app.Close(); err != nil {
		t.Error(err)
	}

	// The API of the real binary, in its own process as in production.
	bin := BuildParley(t)
	dataDir := t.TempDir()
	srv := StartParley(t, bin, "-data-dir", dataDir, "-signin-per-minute", "100000")
	api := NewClient(srv.URL, clients+8)
	if err := WaitReady(ctx, api); err != nil {
		t.Fatal(err)
	}
	tokens, chats := ingestWorld(t, api, clients, groups)
	// The same server, first with Go's net/http client (two goroutines per
	// connection and ~85 µs of client CPU per request here), then with a
	// hand-rolled keep-alive client that leaves more of the two cores to the
	// server (Poster). Both count a message when its 201 has arrived.
	// acked counts every 201 per chat, those of the warm-up and of the
	// calls that end after the window too, to hold the store to below.
	acked := make([]atomic.Int64, groups)
	ack := func(g int, err error) error {
		if err == nil {
			acked[g].Add(1)
		}
		return err
	}
	r = RunFor(ctx, RunOptions{Workers: clients, Warmup: warmup, Duration: d, ServerPID: srv.PID()}, func(ctx context.Context, w, i int) error {
		_, err := api.Post(ctx, tokens[w], chats[w%groups], ingestText(w, i))
		return ack(w%groups, err)
	})
	rows = append(rows, row{fmt.Sprintf("HTTP API, %d clients (net/http client)", clients), r,
		fmt.Sprintf("server %.0f + client %.0f µs", perOp(r.ServerCPU, r.Ops), perOp(r.CPU, r.Ops))})
	posters := make([]*Poster, clients)
	for w := range posters {
		if posters[w], err = NewPoster(srv.URL); err != nil {
			t.Fatal(err)
		}
		defer posters[w].Close()
	}
	r = RunFor(ctx, RunOptions{Workers: clients, Warmup: warmup, Duration: d, ServerPID: srv.PID()}, func(ctx context.Context, w, i int) error {
		return ack(w%groups, posters[w].Post(ctx, tokens[w], chats[w%groups], ingestText(w, i)))
	})
	rows = append(rows, row{fmt.Sprintf("**HTTP API, %d clients (lean client)**", clients), r,
		fmt.Sprintf("server %.0f + client %.0f µs", perOp(r.ServerCPU, r.Ops), perOp(r.CPU, r.Ops))})
	drainStart := time.Now()
	pending, _ := api.Metric(ctx, "parley_outbox_pending")
	if _, err := api.WaitMetric(ctx, "parley_outbox_pending", 0); err != nil {
		t.Errorf("outbox did not drain after the run: %v", err)
	}
	drained := time.Since(drainStart)

	// Every acknowledged message is in its chat: each chat's stored rows
	// are at least its 201s (a post that failed may have been stored all
	// the same). Read from the server's database, which it shares with
	// readers in other processes.
	stored := storedMessages(t, dataDir)
	for g, id := range chats {
		if n := acked[g].Load(); stored[id] < n {
			t.Errorf("chat %d holds %d messages, fewer than the %d acknowledged", id, stored[id], n)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "ingest on %s\n", Machine())
	fmt.Fprintf(&b, "%d writers, %d groups of %d members, ~%d-byte messages, %s warm-up then %s measured per row\n",
		clients, groups, ingestGroupSize, len(ingestText(0, 0)), warmup, d)
	fmt.Fprintf(&b, "fsync of 4 KiB on the data disk just before: p50 %s, p99 %s\n\n", Ms(fsync50), Ms(fsync99))
	fmt.Fprintf(&b, "| %-44s | %9s | %8s | %8s | %6s | %-36s | %s |\n", "what", "msgs/s", "p50", "p99", "errors", "CPU per message", "others' load")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 46), strings.Repeat("-", 11), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 8), strings.Repeat("-", 38), strings.Repeat("-", 14))
	for _, rw := range rows {
		fmt.Fprintf(&b, "| %-44s | %9.0f | %8s | %8s | %6d | %-36s | %8.2f CPU |\n", rw.name, rw.run.Rate(), Ms(rw.run.P(50)), Ms(rw.run.P(99)), rw.run.Errors, rw.note, rw.run.OthersLoad())
		if rw.run.FirstErr != nil {
			fmt.Fprintf(&b, "    first error: %v\n", rw.run.FirstErr)
		}
	}
	api64 := max(r.Rate(), rows[len(rows)-2].run.Rate())
	base := rows[1].run.Rate()
	fmt.Fprintf(&b, "\nAPI / store 1 msg per transaction (%d goroutines): %.1f×; aim ≥ 10,000 msgs/s: %s\n",
		clients, api64/base, verdict(api64 >= 10_000))
	fmt.Fprintf(&b, "outbox after the run: %.0f events pending, relayed in %s\n", pending, drained.Round(time.Millisecond))
	t.Log("\n" + b.String())
	for _, rw := range rows {
		if rw.run.Errors > 0 {
			t.Errorf("%s: %d posts failed; first: %v", rw.name, rw.run.Errors, rw.run.FirstErr)
		}
	}
}

// storedMessages counts the message rows of each chat in the database of
// dataDir, read-only.
func storedMessages(t *testing.T, dataDir string) map[int64]int64 {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, "parley.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(t.Context(), `SELECT chat_id, count(*) FROM messages GROUP BY chat_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := map[int64]int64{}
	for rows.Next() {
		var chat, count int64
		if err := rows.Scan(&chat, &count); err != nil {
			t.Fatal(err)
		}
		n[chat] = count
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func perOp(cpu time.Duration, ops int64) float64 {
	if ops == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(ops)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// seedStore opens a fresh store with users accounts and groups groups,
// user w being a member of group w%groups.
func seedStore(t *testing.T, users, groups int) (*sqlite.DB, []int64, []int64) {
	t.Helper()
	return seedStoreAt(t, filepath.Join(t.TempDir(), "parley.db"), users, groups)
}

// seedStoreAt is seedStore with the database at path.
func seedStoreAt(t *testing.T, path string, users, groups int) (*sqlite.DB, []int64, []int64) {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	uids := make([]int64, users)
	for i := range uids {
		u := &parley.User{Username: fmt.Sprintf("writer%03d", i), PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		uids[i] = u.ID
	}
	cids := make([]int64, groups)
	for g := range cids {
		c := &parley.Chat{Kind: parley.ChatGroup, Title: fmt.Sprintf("Group %d", g), OwnerID: uids[g], MemberLimit: parley.DefaultMemberLimit}
		if err := db.CreateChat(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		cids[g] = c.ID
	}
	for w, uid := range uids {
		if w < groups {
			continue // the owner
		}
		if err := db.AddMember(ctx, &parley.Member{ChatID: cids[w%groups], UserID: uid}); err != nil {
			t.Fatal(err)
		}
	}
	return db, uids, cids
}

// ingestWorld signs up clients accounts through the API and makes groups
// groups, account w a member of group w%groups. It returns the tokens and
// the chat ids.
func ingestWorld(t *testing.T, api *Client, clients, groups int) ([]string, []int64) {
	t.Helper()
	ctx := t.Context()
	tokens := make([]string, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	sem := make(chan struct{}, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := api.SignUp(ctx, fmt.Sprintf("writer%03d", i), "correct horse battery staple")
			if err != nil {
				errs <- err
				return
			}
			tokens[i] = s.Token
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	chats := make([]int64, groups)
	for g := range chats {
		c, err := api.CreateChat(ctx, tokens[g], map[string]any{"kind": "group", "title": fmt.Sprintf("Group %d", g)})
		if err != nil {
			t.Fatal(err)
		}
		chats[g] = c.ID
		var members []string
		for w := g + groups; w < clients; w += groups {
			members = append(members, tokens[w])
		}
		if err := api.JoinGroup(ctx, tokens[g], c.ID, members...); err != nil {
			t.Fatal(err)
		}
	}
	return tokens, chats
}

// service is an in-process app with accounts and groups made through its
// services.
type service struct {
	app    *app.App
	tokens []string
	chats  []int64
}

// serviceWorld starts an in-process app (listening on a free loopback port,
// unused) with clients accounts in groups groups, account w a member of
// group w%groups. Its password hasher is swapped for the cheapest settings:
// sign-ups are set-up here, not what is measured.
func serviceWorld(t *testing.T, clients, groups int) *service {
	t.Helper()
	ctx := t.Context()
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.Auth.Hasher = auth.NewHasher(2, auth.TestArgon2Params)
	if err := a.Start(); err != nil {
		a.Close()
		t.Fatal(err)
	}
	s := &service{app: a, tokens: make([]string, clients), chats: make([]int64, groups)}
	users := make([]*parley.User, clients)
	for i := range users {
		u, tok, _, err := a.Auth.SignUp(ctx, auth.SignUpInput{Username: fmt.Sprintf("writer%03d", i), Password: "correct horse battery staple"}, "api")
		if err != nil {
			t.Fatal(err)
		}
		users[i], s.tokens[i] = u, tok
	}
	for g := range s.chats {
		c, err := a.Messaging.CreateChat(ctx, users[g], messaging.CreateChatInput{Kind: parley.ChatGroup, Title: fmt.Sprintf("Group %d", g)})
		if err != nil {
			t.Fatal(err)
		}
		s.chats[g] = c.ID
		inv, err := a.Messaging.CreateInvite(ctx, users[g], c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for w := g + groups; w < clients; w += groups {
			if _, err := a.Messaging.JoinByInvite(ctx, users[w], inv.Token); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}
