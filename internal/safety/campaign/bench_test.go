package campaign

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The campaign detector's benchmarks. Run them with
//
//	go test ./internal/safety/campaign -run '^$' -bench . -benchtime 20000x -count 3
//
// BenchmarkObserve fills a detector with a day of posts (about 100,000 or
// 1,000,000 stored in the window: a fifth are copies of 2,000 spam templates with
// edits and disguises, the rest innocent posts of 3 to 60 words), then
// observes more of the same stream, so that every new post also pushes the
// oldest out of the window: the steady state of a scanner. It reports
// posts/s on the wall clock, the process CPU time per post (cpu-ns/post)
// and what that means for two cores (posts/s/2cores), the signatures
// compared per post, and the live heap per stored post after the fill
// (bytes/post). The results are in docs/benchmarks.md.

// benchStream generates the benchmark's posts one by one from a fixed seed.
type benchStream struct {
	w         *synthWorld
	templates []string
	step      time.Duration
	next      int64
}

// newBenchStream returns a stream whose posts are spaced so that a window
// of DefaultWindow holds about window stored posts. Posts too short to
// compare are not stored, so the spacing is set from the share of posts
// that are stored in a sample of the same stream.
func newBenchStream(window int) *benchStream {
	sample := &benchStream{w: newSynthWorld(1), step: time.Second}
	sample.init()
	var f fingerprinter
	stored := 0
	const n = 20_000
	for range n {
		if _, _, ok := f.fingerprint(sample.post().Text, DefaultMinShingles); ok {
			stored++
		}
	}
	s := &benchStream{w: newSynthWorld(2026), step: time.Duration(float64(DefaultWindow) * float64(stored) / n / float64(window))}
	s.init()
	return s
}

func (s *benchStream) init() {
	for range 2000 {
		s.templates = append(s.templates, s.w.template())
	}
}

func (s *benchStream) post() Post {
	s.next++
	p := Post{ID: s.next, ChatID: int64(s.w.rng.IntN(10_000)), At: t0.Add(time.Duration(s.next) * s.step)}
	if s.w.rng.IntN(5) == 0 {
		k := s.w.rng.IntN(len(s.templates))
		p.Text, p.AccountID = s.w.variant(s.templates[k], edits{0, 2}), int64(k*100+s.w.rng.IntN(20))
	} else {
		p.Text, p.AccountID = s.w.innocent(), int64(1_000_000+s.w.rng.IntN(1_000_000))
	}
	return p
}

// benchDetector is a detector filled with a window of posts, and the posts
// that come next.
type benchDetector struct {
	d            *Detector
	next         []Post
	bytesPerPost float64
	fill         time.Duration
}

var (
	benchMu        sync.Mutex
	benchDetectors = map[int]*benchDetector{}
)

// filledDetector returns the detector for a window of n posts, building it
// once per process. Its texts are generated while it fills and not kept, so
// the heap it adds is the detector's own.
func filledDetector(b *testing.B, n int) *benchDetector {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if bd, ok := benchDetectors[n]; ok {
		return bd
	}
	s := newBenchStream(n)
	// The posts observed after the fill: enough for -count 3 of every
	// benchmark at -benchtime 20000x.
	next := make([]Post, 400_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := New(Config{MaxPosts: 2 * n})
	if err != nil {
		b.Fatal(err)
	}
	// One window's worth of posts, and a little more so that the oldest
	// have started to leave.
	start := time.Now()
	for time.Duration(s.next)*s.step < DefaultWindow*101/100 {
		d.Observe(s.post())
	}
	fill := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	bd := &benchDetector{d: d, fill: fill,
		bytesPerPost: float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(d.Stats().Posts)}
	for i := range next {
		next[i] = s.post()
	}
	bd.next = next
	benchDetectors[n] = bd
	return bd
}

func reportPostsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// measureCPU runs fn, a whole benchmark loop, and reports the process CPU
// time per post and what it means for two cores: 2 s of CPU per second
// divided by the CPU time of one post. Other processes on the machine slow
// the wall-clock figures down but not these (much: they still share caches).
// others-cpus is how many CPUs the rest of the machine kept busy meanwhile,
// from /proc/stat; runs where it is high are not worth quoting.
func measureCPU(b *testing.B, fn func()) {
	start, busy, wall := processCPU(), machineBusy(), time.Now()
	fn()
	cpu := processCPU() - start
	elapsed := time.Since(wall)
	if cpu <= 0 {
		return
	}
	perPost := float64(cpu.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perPost, "cpu-ns/post")
	b.ReportMetric(2e9/perPost, "posts/s/2cores")
	if busy > 0 && elapsed > 0 {
		others := float64(machineBusy()-busy-cpu) / float64(elapsed)
		b.ReportMetric(max(others, 0), "others-cpus")
	}
}

func BenchmarkObserve(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("window=%dk", n/1000), func(b *testing.B) {
			bd := filledDetector(b, n)
			d := bd.d
			if b.N > len(bd.next) {
				b.Fatalf("at most %d posts per run", len(bd.next))
			}
			posts := bd.next[:b.N]
			bd.next = bd.next[b.N:] // a later run continues the stream
			compared := d.compared
			b.ReportAllocs()
			b.ResetTimer()
			measureCPU(b, func() {
				for _, p := range posts {
					d.Observe(p)
				}
			})
			reportPostsPerSecond(b)
			b.ReportMetric(float64(d.compared-compared)/float64(b.N), "compared/post")
			b.ReportMetric(bd.bytesPerPost, "bytes/post")
			b.ReportMetric(float64(d.Stats().Posts), "stored")
			b.ReportMetric(bd.fill.Seconds(), "fill-s")
		})
	}
}

// BenchmarkObserveParallel is BenchmarkObserve/window=1000k from all CPUs:
// fingerprints are computed outside the lock, the update of the window
// under it.
func BenchmarkObserveParallel(b *testing.B) {
	bd := filledDetector(b, 1_000_000)
	d := bd.d
	if b.N > len(bd.next) {
		b.Fatalf("at most %d posts per run", len(bd.next))
	}
	posts := bd.next[:b.N]
	bd.next = bd.next[b.N:]
	var next atomic.Int64
	b.ResetTimer()
	measureCPU(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d.Observe(posts[next.Add(1)-1])
			}
		})
	})
	reportPostsPerSecond(b)
}

// BenchmarkObserveBatchParallel is BenchmarkObserveParallel with batches of
// 64 posts per call to ObserveBatch, as a stream consumer reading batches
// would make them.
func BenchmarkObserveBatchParallel(b *testing.B) {
	bd := filledDetector(b, 1_000_000)
	d := bd.d
	if b.N > len(bd.next) {
		b.Fatalf("at most %d posts per run", len(bd.next))
	}
	posts := bd.next[:b.N]
	bd.next = bd.next[b.N:]
	const batch = 64
	var next atomic.Int64
	b.ResetTimer()
	measureCPU(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]Post, 0, batch)
			for pb.Next() {
				buf = append(buf, posts[next.Add(1)-1])
				if len(buf) == batch {
					d.ObserveBatch(buf)
					buf = buf[:0]
				}
			}
			d.ObserveBatch(buf)
		})
	})
	reportPostsPerSecond(b)
}

// BenchmarkObserveParts splits Observe at window=1000k into the fingerprint
// (computed without the lock) and the update of the window (under it),
// which is what bounds the rate on more cores.
func BenchmarkObserveParts(b *testing.B) {
	bd := filledDetector(b, 1_000_000)
	d := bd.d
	// take returns the next n posts of the stream and their fingerprints.
	// Each run takes its own (sub-benchmarks run -count times inside one
	// run of this function), so no post is observed twice.
	take := func(b *testing.B, n int) ([]Post, []signature, []bool) {
		if n > len(bd.next) {
			b.Fatalf("at most %d posts left", len(bd.next))
		}
		posts := bd.next[:n]
		bd.next = bd.next[n:]
		sigs, ok := make([]signature, n), make([]bool, n)
		var f fingerprinter
		for i, p := range posts {
			sigs[i], _, ok[i] = f.fingerprint(p.Text, d.cfg.MinShingles)
		}
		return posts, sigs, ok
	}
	b.Run("fingerprint", func(b *testing.B) {
		posts, _, _ := take(b, 5000)
		var f fingerprinter
		measureCPU(b, func() {
			for i := 0; b.Loop(); i++ {
				f.fingerprint(posts[i%len(posts)].Text, d.cfg.MinShingles)
			}
		})
		reportPostsPerSecond(b)
	})
	b.Run("update", func(b *testing.B) {
		posts, sigs, ok := take(b, b.N)
		b.ResetTimer()
		measureCPU(b, func() {
			for i := range b.N {
				d.mu.Lock()
				d.observeLocked(posts[i], &sigs[i], ok[i])
				d.mu.Unlock()
			}
		})
		reportPostsPerSecond(b)
	})
}
