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
