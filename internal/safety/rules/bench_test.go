package rules

import (
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The full text screen benchmark. Run it with
//
//	go test ./internal/safety/rules -run '^$' -bench . -cpu 1,2 -benchtime 3s
//
// BenchmarkScreen screens generated 200-byte posts against 10,000 keywords,
// 200 regular expressions, 1,000 domains, 200 URLs and one condition-only
// rule; its "naive" sub-benchmarks match the same posts with one standard
// library regexp: an alternation of the quoted keywords and the regular
// expressions (which does less: no normalisation, no per-rule answer).
// The "parallel" sub-benchmarks use b.RunParallel, so -cpu 2 is the figure
// for two cores. Each reports posts/s. The results are in docs/benchmarks.md.

var (
	benchOnce  sync.Once
	bench      *benchWorld
	benchRS    *RuleSet
	benchNaive *regexp.Regexp
)

func benchSetup(b *testing.B) {
	b.Helper()
	benchOnce.Do(func() {
		bench = newBenchWorld(10_000, 200, 1_000, 200, 4096)
		rs, err := Compile(bench.rules)
		if err != nil {
			b.Fatal(err)
		}
		benchRS = rs
		alts := make([]string, 0, len(bench.keywords)+len(bench.regexps))
		for _, kw := range bench.keywords {
			alts = append(alts, regexp.QuoteMeta(kw))
		}
		for _, re := range bench.regexps {
			alts = append(alts, "(?:"+re+")")
		}
		for _, d := range bench.domains {
			alts = append(alts, regexp.QuoteMeta(d))
		}
		benchNaive = regexp.MustCompile(strings.Join(alts, "|"))
	})
	if benchRS == nil {
		b.Fatal("benchmark set-up failed")
	}
}

func reportPostsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// measureCPU runs fn, a whole benchmark loop, and reports the process CPU
// time per post and what it means for two cores: 2 s of CPU per second
// divided by the CPU time of one post. Other processes on the machine slow
// the wall-clock figures down but not these.
func measureCPU(b *testing.B, fn func()) {
	start := processCPU()
	fn()
	cpu := processCPU() - start
	if cpu <= 0 {
		return
	}
	perPost := float64(cpu.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perPost, "cpu-ns/post")
	b.ReportMetric(2e9/perPost, "posts/s/2cores")
}

func BenchmarkScreen(b *testing.B) {
	benchSetup(b)
	posts, ctxs := bench.posts, bench.ctxs
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		measureCPU(b, func() {
			for i := 0; b.Loop(); i++ {
				j := i % len(posts)
				benchRS.Screen(posts[j], ctxs[j])
			}
		})
		reportPostsPerSecond(b)
	})
	b.Run("engine-parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		measureCPU(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1000))
				for pb.Next() {
					j := i % len(posts)
					benchRS.Screen(posts[j], ctxs[j])
					i++
				}
			})
		})
		reportPostsPerSecond(b)
	})
	b.Run("naive", func(b *testing.B) {
		measureCPU(b, func() {
			for i := 0; b.Loop(); i++ {
				benchNaive.MatchString(posts[i%len(posts)])
			}
		})
		reportPostsPerSecond(b)
	})
	b.Run("naive-parallel", func(b *testing.B) {
		var next atomic.Int64
		measureCPU(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1000))
				for pb.Next() {
					benchNaive.MatchString(posts[i%len(posts)])
					i++
				}
			})
		})
		reportPostsPerSecond(b)
	})
}

// BenchmarkScreenParts times the stages of Screen one by one, on the same
// posts, to show where the time goes.
func BenchmarkScreenParts(b *testing.B) {
	benchSetup(b)
	posts := bench.posts
	var tmp, buf []byte
	b.Run("normalize", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = appendNormalized(buf[:0], posts[i%len(posts)], &tmp)
		}
		reportPostsPerSecond(b)
	})
	b.Run("keywords", func(b *testing.B) {
		views := make([][]byte, len(posts))
		for i, p := range posts {
			views[i] = appendNormalized(nil, p, &tmp)
		}
		for i := 0; b.Loop(); i++ {
			benchRS.ac.FindAllOverlapping(views[i%len(views)])
		}
		reportPostsPerSecond(b)
	})
	b.Run("clean", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = appendClean(buf[:0], posts[i%len(posts)], &tmp)
		}
		reportPostsPerSecond(b)
	})
	b.Run("regexps", func(b *testing.B) {
		views := make([][]byte, len(posts))
		for i, p := range posts {
			views[i] = appendClean(nil, p, &tmp)
		}
		for i := 0; b.Loop(); i++ {
			benchRS.reSet.FindAllWithError(views[i%len(views)], -1)
		}
		reportPostsPerSecond(b)
	})
	b.Run("links", func(b *testing.B) {
		views := make([][]byte, len(posts))
		for i, p := range posts {
			views[i] = appendLinkView(nil, appendClean(nil, p, &tmp))
		}
		sc := benchRS.pool.Get().(*scratch)
		for i := 0; b.Loop(); i++ {
			scanLinks(views[i%len(views)], func(host, path []byte) bool {
				sc.host = appendHostKey(sc.host[:0], host, &sc.tmp)
				benchRS.matchLink(sc, sc.host, path, -1)
				return true
			})
		}
		reportPostsPerSecond(b)
	})
}

// BenchmarkCompile is the time to compile the benchmark's rule set, which is
// what a rule change costs before the new set can be swapped in.
func BenchmarkCompile(b *testing.B) {
	benchSetup(b)
	for b.Loop() {
		if _, err := Compile(bench.rules); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileKeywords is the time and memory a keyword list costs, up
// to MaxKeywords: heap-MiB is the live heap one compiled RuleSet holds.
func BenchmarkCompileKeywords(b *testing.B) {
	for _, n := range []int{10_000, 50_000, MaxKeywords} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			w := newBenchWorld(n, 0, 0, 0, 0)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var rs *RuleSet
			for b.Loop() {
				var err error
				if rs, err = Compile(w.rules); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
			runtime.KeepAlive(rs)
		})
	}
}
