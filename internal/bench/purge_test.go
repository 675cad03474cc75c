package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/internal/pdq"
	"parley/internal/store/sqlite"
)

// TestHashAndPurge measures issue 3's "hash and purge": one new hash bank
// entry that matches PARLEY_BENCH_COPIES (10,000) stored images among
// PARLEY_BENCH_MEDIA (1,000,000), each posted once in one of 100 groups:
// the time from adding the entry through the API until every copy is
// removed (each with a statement of reasons) and a live client that is in
// every group has been told of each removal.
//
// The baseline in the same run is the scan alone: the same pass over the
// stored media comparing every hash with the new entry directly (what an
// index of one entry amounts to), which bounds what finding the copies can
// cost; the rest is removing them.
//
// Seeding: the media rows are written with SQL in one transaction (a
// million uploads through the API would measure the uploads); the posts,
// accounts and sessions with the store. The server is the real binary.
func TestHashAndPurge(t *testing.T) {
	Require(t)
	nMedia := EnvInt(t, "PARLEY_BENCH_MEDIA", 1_000_000)
	nCopies := EnvInt(t, "PARLEY_BENCH_COPIES", 10_000)
	const groups = 100
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()

	dataDir := t.TempDir()
	seedStart := time.Now()
	target, modToken, watcherToken := seedPurgeWorld(t, dataDir, nMedia, nCopies, groups)
	t.Logf("seeded %d media, %d copies in %d groups in %s", nMedia, nCopies, groups, time.Since(seedStart).Round(time.Second))

	// Baseline: one pass over the stored hashes, compared directly.
	scanStart := time.Now()
	found := scanBaseline(t, dataDir, target)
	scan := time.Since(scanStart)
	if found != nCopies {
		t.Fatalf("the baseline scan found %d copies, want %d", found, nCopies)
	}

	bin := BuildParley(t)
	srv := StartParley(t, bin, "-data-dir", dataDir)
	api := NewClient(srv.URL, 8)
	if err := WaitReady(ctx, api); err != nil {
		t.Fatal(err)
	}
	if _, err := api.WaitMetric(ctx, "parley_outbox_pending", 0); err != nil {
		t.Fatal(err)
	}
	// The watcher is in every group, live. A client that falls behind is
	// cut off by the hub and resumes from the last pts it saw in each chat,
	// as a real client does: each removal is counted once, by its pts.
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/live"
	var told atomic.Int64
	allTold := make(chan time.Time, 1)
	var reconnects atomic.Int64
	// The watcher starts from each chat's pts, as a client that has loaded
	// its chats does, so that a resume names every chat.
	var mine []parley.ChatSummary
	if _, err := api.Do(ctx, "GET", "/api/v1/chats", watcherToken, nil, &struct {
		Chats *[]parley.ChatSummary `json:"chats"`
	}{&mine}); err != nil {
		t.Fatal(err)
	}
	if len(mine) != groups {
		t.Fatalf("the watcher is in %d chats, want %d", len(mine), groups)
	}
	go func() {
		last := map[int64]int64{}
		for _, c := range mine {
			last[c.ID] = c.Pts
		}
		seen := map[[2]int64]bool{}
		dialer := newDialer()
		for ctx.Err() == nil {
			var resume []string
			for chat, pts := range last {
				resume = append(resume, fmt.Sprintf("%d:%d", chat, pts))
			}
			u := wsURL
			if len(resume) > 0 {
				u += "?resume=" + strings.Join(resume, ",")
			}
			// Every frame counts, the catch-up before "ready" too.
			conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: dialer.http,
				HTTPHeader: http.Header{"Authorization": []string{"Bearer " + watcherToken}}})
			if err != nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn.SetReadLimit(1 << 20)
			for {
				_, b, err := conn.Read(ctx)
				if err != nil {
					break
				}
				chat, pts, ok := quickUpdate(b)
				if !ok {
					continue
				}
				last[chat] = max(last[chat], pts)
				if !seen[[2]int64{chat, pts}] && strings.Contains(string(b), `"kind":"message.moderated"`) && strings.Contains(string(b), `"removed"`) {
					seen[[2]int64{chat, pts}] = true
					if told.Add(1) == int64(nCopies) {
						allTold <- time.Now()
					}
				}
			}
			conn.CloseNow()
			reconnects.Add(1)
		}
	}()
	time.Sleep(500 * time.Millisecond) // connected before the entry is added

	var bank struct{ ID int64 }
	if _, err := api.Do(ctx, "POST", "/api/v1/moderation/banks", modToken, map[string]any{"name": "purge-bench", "kind": "block",
		"category": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "keywords": []string{"KEYWORD_TERRORIST_CONTENT"},
		"action": "remove", "enabled": true}, &bank); err != nil {
		t.Fatal(err)
	}
	cpu0, machine0 := serverCPU(srv.PID()), MachineBusy()
	start := time.Now()
	if _, err := api.Do(ctx, "POST", fmt.Sprintf("/api/v1/moderation/banks/%d/entries", bank.ID), modToken,
		map[string]any{"type": "pdq", "value": target.String(), "source": "bench"}, nil); err != nil {
		t.Fatal(err)
	}
	var doneAt time.Time
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
wait:
	for {
		select {
		case doneAt = <-allTold:
			break wait
		case <-progress.C:
			t.Logf("%s: the live client has %d of %d removals", time.Since(start).Round(time.Second), told.Load(), nCopies)
		case <-ctx.Done():
			t.Fatalf("only %d of %d removals reached the live client", told.Load(), nCopies)
		}
	}
	total := doneAt.Sub(start)
	cpu, machine := serverCPU(srv.PID())-cpu0, MachineBusy()-machine0

	// Every copy was removed with a statement of reasons: one remove-media
	// action per copy, each with the removal of the one post that carried it.
	var removals, unlike int
	for before := int64(0); ; {
		var page struct {
			Actions []struct {
				ID        int64           `json:"id"`
				Children  int             `json:"children"`
				PUID      string          `json:"puid"`
				Statement json.RawMessage `json:"statement"`
			} `json:"actions"`
		}
		if _, err := api.Do(ctx, "GET", fmt.Sprintf("/api/v1/moderation/actions?kind=remove_media&limit=200&before=%d", before), modToken, nil, &page); err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Actions {
			if a.Children != 1 || a.PUID == "" || len(a.Statement) == 0 || string(a.Statement) == "null" {
				unlike++
			}
		}
		removals += len(page.Actions)
		if len(page.Actions) < 200 {
			break
		}
		before = page.Actions[len(page.Actions)-1].ID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hash and purge on %s\n", Machine())
	fmt.Fprintf(&b, "%d stored media, %d of them copies of the banned image (PDQ within 8 bits), each posted once in one of %d groups; one live client in every group\n\n", nMedia, nCopies, groups)
	fmt.Fprintf(&b, "| what | time |\n|---|---:|\n")
	fmt.Fprintf(&b, "| baseline: one pass over the %d stored hashes, compared directly | %s |\n", nMedia, scan.Round(time.Millisecond))
	fmt.Fprintf(&b, "| **new entry added → every copy removed and the live client told of each** | **%s** |\n", total.Round(time.Millisecond))
	fmt.Fprintf(&b, "| per copy (removed with its statement, audit entry and live update) | %.0f µs |\n", float64(total.Microseconds())/float64(nCopies))
	fmt.Fprintf(&b, "| server CPU, per copy | %.0f µs |\n", float64(cpu.Microseconds())/float64(nCopies))
	fmt.Fprintf(&b, "| others' load during the run | %.2f CPU |\n", float64((machine-cpu).Microseconds())/float64(total.Microseconds()))
	fmt.Fprintf(&b, "\nremove-media actions: %d; the live client fell behind and resumed %d times\n", removals, reconnects.Load())
	t.Log("\n" + b.String())
	if removals != nCopies || unlike > 0 {
		t.Errorf("%d remove-media actions, %d of them without one removed post and a statement; want %d, each with both", removals, unlike, nCopies)
	}
}

// seedPurgeWorld writes the benchmark's world into dataDir and returns the
// banned hash, a moderator's token and the watcher's token.
func seedPurgeWorld(t *testing.T, dataDir string, nMedia, nCopies, groups int) (pdq.Hash, string, string) {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(dataDir, "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	poster := &parley.User{Username: "bench_poster", PasswordHash: "unused"}
	watcher := &parley.User{Username: "bench_watcher", PasswordHash: "unused"}
	mod := &parley.User{Username: "bench_mod", PasswordHash: "unused"}
	for _, u := range []*parley.User{poster, watcher, mod} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetUserRole(ctx, 0, mod.ID, parley.RoleModerator, time.Now()); err != nil {
		t.Fatal(err)
	}
	chats := make([]int64, groups)
	for g := range chats {
		c := &parley.Chat{Kind: parley.ChatGroup, Title: fmt.Sprintf("Group %d", g), OwnerID: poster.ID, MemberLimit: parley.DefaultMemberLimit}
		if err := db.CreateChat(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		if err := db.AddMember(ctx, &parley.Member{ChatID: c.ID, UserID: watcher.ID, Role: parley.MemberRegular}); err != nil {
			t.Fatal(err)
		}
		chats[g] = c.ID
	}
	modToken, watcherToken := storeSession(t, db, mod), storeSession(t, db, watcher)
	posterID := poster.ID
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The media, with SQL: random hashes, and nCopies near-duplicates of
	// the target.
	var target pdq.Hash
	rand.Read(target[:])
	rng := mrand.New(mrand.NewPCG(1, 2))
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	const per = 200
	stmt, err := tx.Prepare(`INSERT INTO media (id, mime, size, width, height, thumb_id, uploader_id, created_at, pdq, pdq_quality, md5) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, 'image/jpeg', 1000, 100, 100, '', ?, ?, ?, 90, ''), ", per), ", "))
	if err != nil {
		t.Fatal(err)
	}
	copyIDs := make([]string, 0, nCopies)
	args := make([]any, 0, per*4)
	now := time.Now().UnixMicro()
	for i := 0; i < nMedia; i++ {
		var id [32]byte
		rand.Read(id[:])
		var h pdq.Hash
		if i < nCopies {
			h = target
			for k := rng.IntN(9); k > 0; k-- {
				bit := rng.IntN(256)
				h[bit/8] ^= 1 << (bit % 8)
			}
			copyIDs = append(copyIDs, hex.EncodeToString(id[:]))
		} else {
			rand.Read(h[:])
			if pdq.Distance(h, target) <= pdq.MatchDistance {
				h[0] ^= 0xff // a random hash is ~128 bits away; never near by accident
			}
		}
		args = append(args, hex.EncodeToString(id[:]), posterID, now, h.String())
		if len(args) == per*4 {
			if _, err := stmt.Exec(args...); err != nil {
				t.Fatal(err)
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		t.Fatalf("media count %d is not a multiple of %d", nMedia, per)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	// One post of each copy, spread over the groups.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	next := atomic.Int64{}
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(copyIDs) {
					return
				}
				if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: chats[i%groups], SenderID: posterID, MediaID: copyIDs[i]}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	return target, modToken, watcherToken
}

// scanBaseline reads every stored hash and compares it with target, as a
// rescan does with one new entry, and returns how many are within
// pdq.MatchDistance (31 bits).
func scanBaseline(t *testing.T, dataDir string, target pdq.Hash) int {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, "parley.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT pdq FROM media WHERE status = '' AND pdq != ''`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	var s string
	for rows.Next() {
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		h, err := pdq.ParseHash(s)
		if err != nil {
			t.Fatal(err)
		}
		if pdq.Distance(h, target) <= pdq.MatchDistance {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
