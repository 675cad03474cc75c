package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley"
	"parley/internal/pdq"
	"parley/internal/safety/banks"
	"parley/internal/store/sqlite"
)

// TestPostingDuringImport measures what a large hash-bank import does to
// posting: posts go through the HTTP API of the real binary at a steady
// rate, first with nothing else going on, then while PARLEY_BENCH_ENTRIES
// (1,000,000) PDQ hashes are imported into a bank, in the same run. An
// import writes a batch of entries per transaction, and other writes take
// their turn between batches; the aim is a p99 within twice that of
// posting alone.
//
// The import runs twice, as an operator would run it: through the API (in
// the server's process, whose writes share one connection with the
// posts, queued in turn) and with 'parley banks import' beside the running
// server (another process on the same file, which takes SQLite's write
// lock in turn with the server, each waiting with SQLite's busy handler).
// After each import, posting is measured for a while longer: the server's
// matcher takes in the million new entries and re-screening looks at the
// stored media again.
//
// Posts are paced: PARLEY_BENCH_CLIENTS (16) clients together post
// PARLEY_BENCH_RATE (500) messages a second, each at its own slot, and a
// post's latency counts from its slot, not from when it was sent, so that
// a stall delays every post due during it (no coordinated omission).
// PARLEY_BENCH_DURATION (20s) is how long posting alone and the time after
// each import are measured; PARLEY_BENCH_IMPORT (api,cli) says which
// imports run.
func TestPostingDuringImport(t *testing.T) {
	Require(t)
	n := EnvInt(t, "PARLEY_BENCH_ENTRIES", 1_000_000)
	rate := EnvInt(t, "PARLEY_BENCH_RATE", 500)
	clients := EnvInt(t, "PARLEY_BENCH_CLIENTS", 16)
	window := EnvDuration(t, DurationEnv, 20*time.Second)
	ways := strings.Split(os.Getenv("PARLEY_BENCH_IMPORT"), ",")
	if os.Getenv("PARLEY_BENCH_IMPORT") == "" {
		ways = []string{"api", "cli"}
	}
	groups := max(1, clients/ingestGroupSize)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Hour)
	defer cancel()

	dataDir := t.TempDir()
	modToken := seedModerator(t, dataDir)
	file, size := writePDQList(t, n)
	bin := BuildParley(t)
	args := []string{"-data-dir", dataDir, "-signin-per-minute", "100000"}
	// PARLEY_BENCH_PROFILE names a directory for a CPU profile of the
	// server in each window (its first PARLEY_BENCH_DURATION), and with
	// PARLEY_BENCH_TRACE set an execution trace of 5 seconds after it.
	profileDir := os.Getenv("PARLEY_BENCH_PROFILE")
	debugAddr := ""
	var profiling sync.Mutex
	if profileDir != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		debugAddr = ln.Addr().String()
		ln.Close()
		args = append(args, "-debug-addr", debugAddr)
	}
	srv := StartParley(t, bin, args...)
	api := NewClient(srv.URL, 8)
	if err := WaitReady(ctx, api); err != nil {
		t.Fatal(err)
	}
	tokens, chats := ingestWorld(t, api, clients, groups)
	posters := make([]*Poster, clients)
	for w := range posters {
		p, err := NewPoster(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		posters[w] = p
	}
	post := func(ctx context.Context, w, i int) error {
		return posters[w].Post(ctx, tokens[w], chats[w%groups], ingestText(w, i))
	}
	fsync50, fsync99, err := FsyncLatency(dataDir, 300)
	if err != nil {
		t.Fatal(err)
	}

	type row struct {
		name string
		run  Run
	}
	var rows []row
	measure := func(name string, until func() (<-chan struct{}, error)) Run {
		if profileDir != "" && profiling.TryLock() {
			// One profile at a time: a window shorter than the last
			// profile goes without. With PARLEY_BENCH_TRACE, an import's
			// window gets an execution trace of 5 seconds instead, from
			// 10 seconds in.
			go func(path string, importing bool) {
				defer profiling.Unlock()
				if os.Getenv("PARLEY_BENCH_TRACE") != "" && importing {
					time.Sleep(10 * time.Second)
					saveProfile(ctx, t, debugAddr, "trace", 5*time.Second, path+".trace")
					return
				}
				saveProfile(ctx, t, debugAddr, "profile", window, path+".prof")
			}(filepath.Join(profileDir, fmt.Sprintf("%02d", len(rows))), strings.Contains(name, " while "))
		}
		r, err := Paced(ctx, clients, rate, until, post, srv.PID())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows = append(rows, row{name, r})
		t.Logf("%s: %d posts in %s, p50 %s, p99 %s, max %s, %d errors", name, r.Ops, r.Elapsed.Round(time.Millisecond),
			Ms(r.P(50)), Ms(r.P(99)), Ms(r.P(100)), r.Errors)
		return r
	}
	forWindow := forDuration(window)
	Paced(ctx, clients, rate, forDuration(2*time.Second), post, 0) // a warm-up, not counted

	alone := measure("posting alone", forWindow)
	imports := map[string]time.Duration{}
	busy := map[string]time.Duration{}
	for i, way := range ways {
		bank := fmt.Sprintf("import-%s", way)
		var bankID int64
		{
			var b struct{ ID int64 }
			if _, err := api.Do(ctx, "POST", "/api/v1/moderation/banks", modToken, map[string]any{"name": bank, "kind": "block",
				"category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "action": "block_upload", "enabled": true}, &b); err != nil {
				t.Fatal(err)
			}
			bankID = b.ID
		}
		var importErr error
		var took time.Duration
		var importing func() (<-chan struct{}, error)
		switch way {
		case "api":
			importing = whileRunning(func() error {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				return api.Upload(ctx, fmt.Sprintf("/api/v1/moderation/banks/%d/import?format=hma&type=pdq&source=bench", bankID), modToken, f, size)
			}, &took, &importErr)
		case "cli":
			importing = func() (<-chan struct{}, error) {
				cmd := exec.CommandContext(ctx, bin, "banks", "import", "-data-dir", dataDir, "-bank", bank, "-format", "hma", "-type", "pdq", "-source", "bench", file)
				cmd.Env = withoutParleyEnv()
				var out strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &out
				start := time.Now()
				if err := cmd.Start(); err != nil {
					return nil, err
				}
				done := make(chan struct{})
				go func() {
					defer close(done)
					if err := cmd.Wait(); err != nil {
						importErr = fmt.Errorf("parley banks import: %v\n%s", err, out.String())
					}
					took = time.Since(start)
				}()
				return done, nil
			}
		default:
			t.Fatalf("PARLEY_BENCH_IMPORT=%s: want api, cli or both", way)
		}
		measure(fmt.Sprintf("posting while %d entries are imported (%s)", n, way), importing)
		importDone := time.Now()
		if importErr != nil {
			t.Fatalf("import through %s: %v", way, importErr)
		}
		imports[way] = took
		measure(fmt.Sprintf("posting in the %s after the import (%s)", window, way), forWindow)
		var list struct {
			Banks []struct {
				ID      int64
				Entries int64
			}
		}
		if _, err := api.Do(ctx, "GET", "/api/v1/moderation/banks", modToken, nil, &list); err != nil {
			t.Fatal(err)
		}
		for _, b := range list.Banks {
			if b.ID == bankID && b.Entries != int64(n) {
				t.Errorf("bank %s holds %d entries after the import, want %d", bank, b.Entries, n)
			}
		}
		// The server takes the import into its matcher and re-screens
		// stored media, paced, for a while after the import: wait until
		// it is quiet before the next measurement.
		busy[way] = waitQuiet(ctx, t, srv.PID(), importDone)
		if i < len(ways)-1 {
			measure("posting alone, again", forWindow)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "posting during a bank import on %s\n", Machine())
	fmt.Fprintf(&b, "%d clients posting %d msgs/s in %d groups; %d PDQ hashes imported (%.0f MiB, hma); fsync p50 %s, p99 %s\n\n",
		clients, rate, groups, n, float64(size)/(1<<20), Ms(fsync50), Ms(fsync99))
	fmt.Fprintf(&b, "| %-56s | %8s | %7s | %8s | %8s | %8s | %6s | %s |\n", "what", "time", "posts", "p50", "p99", "max", "errors", "others' load")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 58), strings.Repeat("-", 10), strings.Repeat("-", 9), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 8), strings.Repeat("-", 14))
	for _, rw := range rows {
		fmt.Fprintf(&b, "| %-56s | %7.1fs | %7d | %8s | %8s | %8s | %6d | %8.2f CPU |\n", rw.name, rw.run.Elapsed.Seconds(), rw.run.Ops,
			Ms(rw.run.P(50)), Ms(rw.run.P(99)), Ms(rw.run.P(100)), rw.run.Errors, rw.run.OthersLoad())
	}
	fmt.Fprintln(&b)
	for _, way := range ways {
		during := rows[slices.IndexFunc(rows, func(r row) bool { return strings.HasSuffix(r.name, "("+way+")") })].run
		fmt.Fprintf(&b, "import through %s: %s (%.0f entries/s), the server quiet again %s after it; posting p99 during it %.1f× posting alone (aim ≤ 2×): %s\n",
			way, imports[way].Round(100*time.Millisecond), float64(n)/imports[way].Seconds(), busy[way].Round(time.Second),
			float64(during.P(99))/float64(alone.P(99)), verdict(during.P(99) <= 2*alone.P(99)))
	}
	t.Log("\n" + b.String())
	for _, rw := range rows {
		if rw.run.Errors > 0 {
			t.Errorf("%s: %d posts failed; first: %v", rw.name, rw.run.Errors, rw.run.FirstErr)
		}
	}
}

// waitQuiet waits until process pid has used less than a tenth of a CPU
// for two seconds in a row (at most ten minutes), and returns how long
// after since that was.
func waitQuiet(ctx context.Context, t *testing.T, pid int, since time.Time) time.Duration {
	t.Helper()
	quiet := 0
	deadline := time.Now().Add(10 * time.Minute)
	for quiet < 2 && time.Now().Before(deadline) && ctx.Err() == nil {
		before, err := CPUTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		after, err := CPUTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		if after-before < 100*time.Millisecond {
			quiet++
		} else {
			quiet = 0
		}
	}
	return time.Since(since) - 2*time.Second
}

// saveProfile saves a CPU profile ("profile") or an execution trace
// ("trace") of d from the profiler at addr.
func saveProfile(ctx context.Context, t *testing.T, addr, kind string, d time.Duration, path string) {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, kind, int(d.Seconds())), nil)
	if err != nil {
		t.Log(err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Log(err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Log(err)
	}
}

// seedModerator writes a moderator and a session into a new database in
// dataDir, before the server opens it, and returns the bearer token.
func seedModerator(t *testing.T, dataDir string) string {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mod := &parley.User{Username: "bench_mod", PasswordHash: "unused"}
	if err := db.CreateUser(t.Context(), mod); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserRole(t.Context(), 0, mod.ID, parley.RoleModerator, time.Now()); err != nil {
		t.Fatal(err)
	}
	return storeSession(t, db, mod)
}

// writePDQList writes n random PDQ hashes (128 bits set, like real ones),
// one a line, as hasher-matcher-actioner's pdq.csv holds them without the
// optional columns, and returns the file's path and size.
func writePDQList(t *testing.T, n int) (string, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pdq.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 8))
	bits := make([]int, 256)
	for i := range bits {
		bits[i] = i
	}
	for range n {
		var h pdq.Hash
		rng.Shuffle(len(bits), func(i, j int) { bits[i], bits[j] = bits[j], bits[i] })
		for _, k := range bits[:128] {
			h[k/8] |= 1 << (k % 8)
		}
		w.WriteString(h.String())
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path, st.Size()
}

// withoutParleyEnv is this process's environment without PARLEY_*
// variables, so a developer's settings cannot point a child elsewhere.
func withoutParleyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// forDuration is a Paced window of d.
func forDuration(d time.Duration) func() (<-chan struct{}, error) {
	return func() (<-chan struct{}, error) {
		done := make(chan struct{})
		time.AfterFunc(d, func() { close(done) })
		return done, nil
	}
}

// whileRunning is a Paced window that lasts as long as job, which it runs
// in a goroutine; once the window is over, *took is how long the job ran
// and *err what it returned.
func whileRunning(job func() error, took *time.Duration, err *error) func() (<-chan struct{}, error) {
	return func() (<-chan struct{}, error) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			start := time.Now()
			*err = job()
			*took = time.Since(start)
		}()
		return done, nil
	}
}

// Paced runs op from workers goroutines that together start rate
// operations a second, each worker at its own evenly spaced slots, from
// when until is called until the channel it returns is closed. A latency
// counts from the operation's slot, so an operation that had to wait for
// the one before it (the server stalled) counts the wait. serverPID, when
// not 0, is a process whose CPU time is reported.
func Paced(ctx context.Context, workers, rate int, until func() (<-chan struct{}, error), op func(ctx context.Context, worker, i int) error, serverPID int) (Run, error) {
	period := time.Duration(float64(time.Second) * float64(workers) / float64(rate))
	var (
		stop     atomic.Bool
		ops      atomic.Int64
		errs     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, workers)
	win := StartWindow(serverPID)
	start := time.Now()
	done, err := until()
	if err != nil {
		return Run{}, err
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slot := start.Add(period * time.Duration(w) / time.Duration(workers))
			for i := 0; !stop.Load() && ctx.Err() == nil; i++ {
				if d := time.Until(slot); d > 0 {
					time.Sleep(d)
				}
				if stop.Load() {
					return
				}
				err := op(ctx, w, i)
				took := time.Since(slot)
				slot = slot.Add(period)
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				ops.Add(1)
				lat[w] = append(lat[w], took)
			}
		}()
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	stop.Store(true)
	elapsed, self, server, others := win.Stop()
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := Run{Workers: workers, Elapsed: elapsed, Ops: ops.Load(), Errors: errs.Load(), FirstErr: firstErr, Latencies: all,
		CPU: self, ServerCPU: server}
	r.MachineCPU = self + server + time.Duration(others*float64(elapsed))
	return r, ctx.Err()
}

// TestImportBatchSize measures, for several sizes of an import's batches
// (PARLEY_BENCH_BATCHES, default 250,1000,4000,16000), how long writing one
// batch takes and what it does to posts written at the same time, in
// process through the store's group commit (no HTTP: the writer is what
// is measured). Each size imports PARLEY_BENCH_ENTRIES (default 300,000)
// PDQ hashes into a bank of a fresh database while PARLEY_BENCH_CLIENTS
// (16) writers post PARLEY_BENCH_RATE (500) messages a second; posting
// alone on the same database comes first.
func TestImportBatchSize(t *testing.T) {
	Require(t)
	n := EnvInt(t, "PARLEY_BENCH_ENTRIES", 300_000)
	rate := EnvInt(t, "PARLEY_BENCH_RATE", 500)
	clients := EnvInt(t, "PARLEY_BENCH_CLIENTS", 16)
	window := EnvDuration(t, DurationEnv, 10*time.Second)
	sizes := []int{250, 1000, 4000, 16000}
	if v := os.Getenv("PARLEY_BENCH_BATCHES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			k, err := strconv.Atoi(f)
			if err != nil || k <= 0 {
				t.Fatalf("PARLEY_BENCH_BATCHES=%s: want sizes such as 250,1000", v)
			}
			sizes = append(sizes, k)
		}
	}
	groups := max(1, clients/ingestGroupSize)
	ctx := t.Context()
	file, _ := writePDQList(t, n)

	var b strings.Builder
	fmt.Fprintf(&b, "import batch size on %s\n", Machine())
	fmt.Fprintf(&b, "%d PDQ hashes into an empty bank while %d writers post %d msgs/s through the store's group commit\n\n", n, clients, rate)
	fmt.Fprintf(&b, "| batch | import | entries/s | batch write p50 | p99 | max | posts alone p50 / p99 | posts during p50 / p99 / max | others' load |\n")
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---|---|---:|\n")
	for _, size := range sizes {
		db, users, chats := seedStore(t, clients, groups)
		post := func(ctx context.Context, w, i int) error {
			_, err := db.InsertMessage(ctx, &parley.Message{ChatID: chats[w%groups], SenderID: users[w], Text: ingestText(w, i)})
			return err
		}
		alone, err := Paced(ctx, clients, rate, forDuration(window), post, 0)
		if err != nil {
			t.Fatal(err)
		}
		ts := &timedStore{Store: db}
		svc := banks.NewService(ts, parley.SystemClock{})
		actor := banks.SystemActor("bench", "")
		bank, err := svc.CreateBank(ctx, actor, banks.Bank{Name: "bench", Kind: banks.KindBlock,
			Category: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", Action: banks.ActionBlockUpload, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		var took time.Duration
		var importErr error
		during, err := Paced(ctx, clients, rate, whileRunning(func() error {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = svc.Import(ctx, actor, bank.ID, f, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "bench", Batch: size})
			return err
		}, &took, &importErr), post, 0)
		if err != nil || importErr != nil {
			t.Fatalf("batch %d: %v, %v", size, err, importErr)
		}
		writes := ts.durations()
		fmt.Fprintf(&b, "| %d | %.1f s | %.0f | %s | %s | %s | %s / %s | %s / %s / %s | %.2f CPU |\n", size, took.Seconds(), float64(n)/took.Seconds(),
			Ms(Percentile(writes, 50)), Ms(Percentile(writes, 99)), Ms(Percentile(writes, 100)),
			Ms(alone.P(50)), Ms(alone.P(99)), Ms(during.P(50)), Ms(during.P(99)), Ms(during.P(100)), during.OthersLoad())
		if alone.Errors+during.Errors > 0 {
			t.Errorf("batch %d: posts failed: %v %v", size, alone.FirstErr, during.FirstErr)
		}
		db.Close()
	}
	t.Log("\n" + b.String())
}

// timedStore times every batch an import writes.
type timedStore struct {
	banks.Store
	mu sync.Mutex
	d  []time.Duration
}

func (s *timedStore) WriteBankImport(ctx context.Context, importID int64, es []*banks.Entry, at time.Time) (int64, int64, error) {
	start := time.Now()
	added, dups, err := s.Store.WriteBankImport(ctx, importID, es, at)
	s.mu.Lock()
	s.d = append(s.d, time.Since(start))
	s.mu.Unlock()
	return added, dups, err
}

func (s *timedStore) durations() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := slices.Clone(s.d)
	slices.Sort(d)
	return d
}
