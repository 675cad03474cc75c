package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/screen"
	"parley/internal/store/sqlite"
)

// TestRescanTransactionSize measures how long one transaction of
// re-screening holds SQLite's writer: the removal of a batch of images
// that a new bank entry matched, each with the one post that carries it,
// for several batch sizes, and the removal of one image that
// PARLEY_BENCH_COPIES (1,000) posts carry (all its copies are removed in
// the transaction of the image). In process, through enforce.Service's
// ApplyMany as the re-screening worker calls it; while one transaction
// runs, every other write (a post) waits.
func TestRescanTransactionSize(t *testing.T) {
	Require(t)
	copies := EnvInt(t, "PARLEY_BENCH_COPIES", 1000)
	sizes := []int{1, 10, 25, 50, 100}
	const rounds = 10
	const groups = 10
	nImages := 2000 // rounds × (1+10+25+50+100) and the one carried by many, in a multiple of seedPurgeWorld's 200
	ctx := t.Context()
	dataDir := t.TempDir()
	seedPurgeWorld(t, dataDir, nImages, nImages, groups)
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := mediaWithPosts(t, dataDir)
	if len(ids) != nImages {
		t.Fatalf("%d images with a post, want %d", len(ids), nImages)
	}
	// One more image, carried by many posts (a picture forwarded
	// everywhere): the posts of the first group's chat, re-using its id.
	viral := ids[len(ids)-1]
	ids = ids[:len(ids)-1]
	var poster, chat int64
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, "parley.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRowContext(ctx, `SELECT sender_id, chat_id FROM messages WHERE media_id = ?`, viral).Scan(&poster, &chat); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for range copies - 1 {
		if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: chat, SenderID: poster, MediaID: viral}); err != nil {
			t.Fatal(err)
		}
	}
	svc := &enforce.Service{Store: db, Clock: parley.SystemClock{}, Namespace: "parley"}
	by := &parley.ScreeningMatch{Source: parley.MatchBank, SourceID: "1", Name: "bench", Version: 1, Decision: parley.ScreenRemove,
		Category: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"}
	remove := func(media []string) (time.Duration, int) {
		reqs := make([]enforce.Request, len(media))
		for i, id := range media {
			reqs[i] = enforce.Request{Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: id},
				Grounds: screen.Grounds(by), Note: "bench"}
		}
		start := time.Now()
		actions, errs, err := svc.ApplyMany(ctx, nil, reqs)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, a := range actions {
			if errs[i] != nil {
				t.Fatalf("removing %s: %v", media[i], errs[i])
			}
			n += 1 + a.Children
		}
		return took, n
	}
	var b strings.Builder
	fmt.Fprintf(&b, "re-screening transactions on %s\n\n", Machine())
	fmt.Fprintf(&b, "| images per transaction (each with 1 post) | removals | transaction p50 | max | per removal |\n|---:|---:|---:|---:|---:|\n")
	for _, size := range sizes {
		var ds []time.Duration
		removals := 0
		for range rounds {
			d, n := remove(ids[:size])
			ids = ids[size:]
			ds = append(ds, d)
			removals = n
		}
		slices.Sort(ds)
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %.2f ms |\n", size, removals, Ms(Percentile(ds, 50)), Ms(ds[len(ds)-1]),
			float64(Percentile(ds, 50).Microseconds())/1000/float64(removals))
	}
	d, n := remove([]string{viral})
	fmt.Fprintf(&b, "\none image carried by %d posts: %d removals in one transaction, %s (%.2f ms per removal)\n", copies, n, Ms(d),
		float64(d.Microseconds())/1000/float64(n))
	t.Log("\n" + b.String())
}

// mediaWithPosts lists the stored images that a post carries, by id.
func mediaWithPosts(t *testing.T, dataDir string) []string {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, "parley.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(context.Background(), `SELECT DISTINCT media_id FROM messages WHERE media_id != '' ORDER BY media_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestPostingDuringPurge measures posting through the HTTP API of the real
// binary while the server does its other long writes, against posting
// alone in the same run: re-screening after a new bank entry matches
// PARLEY_BENCH_COPIES (10,000) stored images among PARLEY_BENCH_MEDIA
// (100,000), each posted once (every copy removed with its statement of
// reasons), and then the purge of the evidence those removals kept, once
// its retention is over (the server purges at start and every hour; the
// test ends the retention of every row and restarts the server). Posting
// is paced as in TestPostingDuringImport (PARLEY_BENCH_CLIENTS,
// PARLEY_BENCH_RATE, PARLEY_BENCH_DURATION).
func TestPostingDuringPurge(t *testing.T) {
	Require(t)
	nMedia := EnvInt(t, "PARLEY_BENCH_MEDIA", 100_000)
	nCopies := EnvInt(t, "PARLEY_BENCH_COPIES", 10_000)
	rate := EnvInt(t, "PARLEY_BENCH_RATE", 500)
	clients := EnvInt(t, "PARLEY_BENCH_CLIENTS", 16)
	window := EnvDuration(t, DurationEnv, 20*time.Second)
	groups := max(1, clients/ingestGroupSize)
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()

	dataDir := t.TempDir()
	target, modToken, _ := seedPurgeWorld(t, dataDir, nMedia, nCopies, 100)
	bin := BuildParley(t)
	srv := StartParley(t, bin, "-data-dir", dataDir, "-signin-per-minute", "100000")
	api := NewClient(srv.URL, 8)
	if err := WaitReady(ctx, api); err != nil {
		t.Fatal(err)
	}
	tokens, chats := ingestWorld(t, api, clients, groups)
	posters := func(srv *Process) (func(ctx context.Context, w, i int) error, func()) {
		ps := make([]*Poster, clients)
		for w := range ps {
			p, err := NewPoster(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			ps[w] = p
		}
		return func(ctx context.Context, w, i int) error {
				return ps[w].Post(ctx, tokens[w], chats[w%groups], ingestText(w, i))
			}, func() {
				for _, p := range ps {
					p.Close()
				}
			}
	}
	post, closePosters := posters(srv)

	type row struct {
		name string
		run  Run
		work time.Duration
	}
	var rows []row
	measure := func(name string, post func(ctx context.Context, w, i int) error, pid int, until func() (<-chan struct{}, error), work *time.Duration) Run {
		r, err := Paced(ctx, clients, rate, until, post, pid)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rw := row{name: name, run: r}
		if work != nil {
			rw.work = *work
		}
		rows = append(rows, rw)
		t.Logf("%s: %d posts in %s, p50 %s, p99 %s, max %s, %d errors", name, r.Ops, r.Elapsed.Round(time.Millisecond),
			Ms(r.P(50)), Ms(r.P(99)), Ms(r.P(100)), r.Errors)
		return r
	}
	forWindow := forDuration(window)
	// until returns a window that ends when count() reaches want, and
	// sets took to the time it took.
	until := func(count func() int64, want int64, begin func() error, took *time.Duration) func() (<-chan struct{}, error) {
		return func() (<-chan struct{}, error) {
			start := time.Now()
			if begin != nil {
				if err := begin(); err != nil {
					return nil, err
				}
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ctx.Err() == nil && count() != want {
					time.Sleep(100 * time.Millisecond)
				}
				*took = time.Since(start)
			}()
			return done, nil
		}
	}
	Paced(ctx, clients, rate, forDuration(2*time.Second), post, 0) // a warm-up, not counted
	alone := measure("posting alone", post, srv.PID(), forWindow, nil)

	// Re-screening: one new entry matches every copy.
	var bank struct{ ID int64 }
	if _, err := api.Do(ctx, "POST", "/api/v1/moderation/banks", modToken, map[string]any{"name": "purge-bench", "kind": "block",
		"category": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "keywords": []string{"KEYWORD_TERRORIST_CONTENT"},
		"action": "remove", "enabled": true}, &bank); err != nil {
		t.Fatal(err)
	}
	var rescan time.Duration
	removed := func() int64 { return countRows(t, dataDir, `SELECT count(*) FROM media WHERE status = 'removed'`) }
	during := measure(fmt.Sprintf("posting while re-screening removes %d copies", nCopies), post, srv.PID(),
		until(removed, int64(nCopies), func() error {
			_, err := api.Do(ctx, "POST", fmt.Sprintf("/api/v1/moderation/banks/%d/entries", bank.ID), modToken,
				map[string]any{"type": "pdq", "value": target.String(), "source": "bench"}, nil)
			return err
		}, &rescan), &rescan)

	// The evidence purge, in this process on the same database (the
	// server purges at start and every hour, which a test cannot time):
	// every row's retention ends, and posts go through the store's group
	// commit, as the server's do, while enforce.Service.PurgeEvidence
	// deletes the rows a page per transaction.
	closePosters()
	if err := srv.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writers := make([]int64, clients)
	for w := range writers {
		u, err := db.FindUserByUsername(ctx, fmt.Sprintf("writer%03d", w))
		if err != nil {
			t.Fatal(err)
		}
		writers[w] = u.ID
	}
	storePost := func(ctx context.Context, w, i int) error {
		_, err := db.InsertMessage(ctx, &parley.Message{ChatID: chats[w%groups], SenderID: writers[w], Text: ingestText(w, i)})
		return err
	}
	storeAlone := measure("posting alone, through the store", storePost, 0, forWindow, nil)
	evidence := func() int64 { return countRows(t, dataDir, `SELECT count(*) FROM evidence`) }
	rowsBefore := evidence()
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, "parley.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE evidence SET kept_until = 1`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	svc := &enforce.Service{Store: db, Clock: parley.SystemClock{}, Namespace: "parley"}
	var purge time.Duration
	var purgeErr error
	purging := measure(fmt.Sprintf("posting through the store while %d evidence rows are purged", rowsBefore), storePost, 0, whileRunning(func() error {
		_, err := svc.PurgeEvidence(ctx)
		return err
	}, &purge, &purgeErr), &purge)
	if purgeErr != nil {
		t.Fatal(purgeErr)
	}
	if n := evidence(); n != 0 {
		t.Errorf("%d evidence rows left after the purge", n)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "posting during re-screening and the evidence purge on %s\n", Machine())
	fmt.Fprintf(&b, "%d clients posting %d msgs/s; %d stored images, %d of them copies of a newly banned one, each posted once\n\n", clients, rate, nMedia, nCopies)
	fmt.Fprintf(&b, "| what | work took | posts | p50 | p99 | max | errors | others' load |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rw := range rows {
		work := "-"
		if rw.work > 0 {
			work = rw.work.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %d | %.2f CPU |\n", rw.name, work, rw.run.Ops, Ms(rw.run.P(50)), Ms(rw.run.P(99)),
			Ms(rw.run.P(100)), rw.run.Errors, rw.run.OthersLoad())
	}
	fmt.Fprintf(&b, "\nposting p99 during re-screening %.1f× posting alone, during the purge %.1f× (aim ≤ 2×)\n",
		float64(during.P(99))/float64(alone.P(99)), float64(purging.P(99))/float64(storeAlone.P(99)))
	t.Log("\n" + b.String())
	for _, rw := range rows {
		if rw.run.Errors > 0 {
			t.Errorf("%s: %d posts failed; first: %v", rw.name, rw.run.Errors, rw.run.FirstErr)
		}
	}
}

// countRows runs a count query on the database of dataDir, read-only.
func countRows(t *testing.T, dataDir, query string) int64 {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, "parley.db")+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int64
	if err := raw.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
