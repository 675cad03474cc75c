package pdq

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The index benchmarks build indexes of 1M and 10M hashes (10M takes about
// 1 GiB and a minute), so they run only when asked for with -bench, e.g.
//
//	go test ./internal/pdq -run '^$' -bench 'IndexQuery/.*/1M' -benchtime 2000x
//	go test ./internal/pdq -run '^$' -bench 'IndexQuery/.*/10M' -benchtime 2000x
//
// Each reports, in the same run: the build time, the index's heap
// (runtime.MemStats, hashes and ids included), the p50/p99 latency of Query
// at distance 31 (CPU time of the querying thread, and wall time), the same
// for a Go port of Meta's multi-index (16 chunks of 16 bits, radius 1) and for
// a linear scan, and the speed-ups. ns/op is the mean wall time of Query.

func benchData(kind string, n int, seed uint64) ([]int64, []Hash) {
	rng := rand.New(rand.NewPCG(seed, 99))
	ids := make([]int64, n)
	hs := make([]Hash, n)
	for i := range ids {
		ids[i] = int64(i)
	}
	switch kind {
	case "random":
		for i := range hs {
			hs[i] = randomHash(rng)
		}
	case "clustered":
		// Centres with 100 variants each at distances 0..40 (bits drawn with
		// replacement, which is fast and near enough).
		var c Hash
		for i := range hs {
			if i%100 == 0 {
				c = randomHash(rng)
				hs[i] = c
				continue
			}
			h := c
			for range rng.IntN(41) {
				b := rng.IntN(256)
				h[b/8] ^= 1 << (b % 8)
			}
			hs[i] = h
		}
	}
	return ids, hs
}

// benchQueries: half are stored hashes moved 0..30 bits (so they match),
// half random hashes (which match nothing, the common case for uploads).
func benchQueries(hs []Hash, n int) []Hash {
	rng := rand.New(rand.NewPCG(7, 7))
	qs := make([]Hash, n)
	for i := range qs {
		if i%2 == 0 {
			qs[i] = flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(31))
		} else {
			qs[i] = randomHash(rng)
		}
	}
	return qs
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

func BenchmarkIndexQuery(b *testing.B) {
	for _, kind := range []string{"random", "clustered"} {
		for _, n := range []int{1_000_000, 10_000_000} {
			b.Run(fmt.Sprintf("%s/%dM", kind, n/1_000_000), func(b *testing.B) {
				benchIndex(b, kind, n)
			})
		}
	}
}

func benchIndex(b *testing.B, kind string, n int) {
	ids, hs := benchData(kind, n, 1)
	qs := benchQueries(hs, 2000)
	before := heapInUse()
	t0 := time.Now()
	x := NewIndex()
	x.AddBatch(ids, hs)
	build := time.Since(t0)
	mem := heapInUse() - before

	// Latency: wall time, and the thread's CPU time (the machine is shared;
	// CPU time leaves out time spent waiting for a CPU).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, len(qs))
	clat := make([]time.Duration, len(qs))
	found := 0
	for i, q := range qs {
		t, c := time.Now(), threadCPU()
		found += len(x.Query(q, 31))
		clat[i] = threadCPU() - c
		lat[i] = time.Since(t)
	}
	p50, p99 := percentiles(lat)
	c50, c99 := percentiles(clat)

	// Meta's scheme, same data, same run.
	t0 = time.Now()
	mih := newMIH16(x.state.Load().base.hashes)
	mihBuild := time.Since(t0)
	mlat := make([]time.Duration, len(qs))
	mfound := 0
	for i, q := range qs {
		c := threadCPU()
		mfound += mih.query(q.words(), 31)
		mlat[i] = threadCPU() - c
	}
	m50, m99 := percentiles(mlat)
	mih = nil

	// Linear scan on a sample of the queries (it is slow).
	nl := 40
	llat := make([]time.Duration, nl)
	lfound, ifound := 0, 0
	for i := range nl {
		c := threadCPU()
		lfound += len(x.LinearScan(qs[i], 31))
		llat[i] = threadCPU() - c
		ifound += len(x.Query(qs[i], 31))
	}
	l50, l99 := percentiles(llat)

	// Queries while another goroutine adds hashes one by one (forcing
	// buffer merges into the delta segment): queries read snapshots and
	// never wait for a merge. Wall time, as the writer competes for the CPU.
	stop := make(chan struct{})
	var added atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(11, 11))
		id := int64(n)
		for {
			select {
			case <-stop:
				return
			default:
			}
			x.Add(id, randomHash(rng))
			id++
			added.Add(1)
		}
	})
	wlat := make([]time.Duration, len(qs))
	for i, q := range qs {
		t := time.Now()
		x.Query(q, 31)
		wlat[i] = time.Since(t)
	}
	close(stop)
	wg.Wait()
	w50, w99 := percentiles(wlat)
	if lfound != ifound || mfound != found {
		b.Fatalf("recall: index %d/%d, linear %d, mih16 %d/%d", ifound, found, lfound, mfound, found)
	}

	b.Logf("%s %d hashes: while adding %d hashes, Query wall p50 %v p99 %v", kind, n, added.Load(), w50, w99)
	b.Logf("%s %d hashes: build %v, heap %.0f MiB; Query(31) CPU p50 %v p99 %v, wall p50 %v p99 %v (%.1f matches/query); "+
		"Meta-style MIH 16×16 CPU p50 %v p99 %v (build %v); linear scan CPU p50 %v p99 %v; p50 speed-up %.0f× vs linear, %.1f× vs MIH16",
		kind, n, build.Round(time.Millisecond), float64(mem)/(1<<20), c50, c99, p50, p99, float64(found)/float64(len(qs)),
		m50, m99, mihBuild.Round(time.Millisecond), l50, l99, float64(l50)/float64(c50), float64(m50)/float64(c50))
	i := 0
	for b.Loop() {
		x.Query(qs[i%len(qs)], 31)
		i++
	}
	// (Reported after the loop, which would reset them.)
	b.ReportMetric(float64(c50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(c99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(p99.Microseconds()), "wall-p99-µs")
	b.ReportMetric(float64(w99.Microseconds()), "adding-wall-p99-µs")
	b.ReportMetric(float64(m50.Microseconds()), "mih16-p50-µs")
	b.ReportMetric(float64(m99.Microseconds()), "mih16-p99-µs")
	b.ReportMetric(float64(l50.Microseconds()), "linear-p50-µs")
	b.ReportMetric(float64(l50)/float64(c50), "x-vs-linear")
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(float64(mem)/(1<<20), "heap-MiB")

	runtime.KeepAlive(hs)
}

// mih16 is a Go port of the scheme of Meta's C++ MIH (pdq/cpp/index/mih.h):
// 16 chunks of 16 bits, each probed within radius 1, over sorted tables, with
// the same verification and de-duplication as Index. It is the baseline.
type mih16 struct {
	hashes [][4]uint64
	dir    [16][]uint32
	ent    [16][]uint32
}

func newMIH16(hashes [][4]uint64) *mih16 {
	m := &mih16{hashes: hashes}
	for c := range 16 {
		dir := make([]uint32, 1<<16+1)
		for p := range hashes {
			dir[int(uint16(hashes[p][c/4]>>(16*(c%4))))+1]++
		}
		for k := 1; k < len(dir); k++ {
			dir[k] += dir[k-1]
		}
		ent := make([]uint32, len(hashes))
		for p := range hashes {
			k := uint16(hashes[p][c/4] >> (16 * (c % 4)))
			ent[dir[k]] = uint32(p)
			dir[k]++
		}
		copy(dir[1:], dir[:len(dir)-1])
		dir[0] = 0
		m.dir[c], m.ent[c] = dir, ent
	}
	return m
}

func (m *mih16) query(q [4]uint64, maxDist int) int {
	found := 0
	for c := range 16 {
		key := uint16(q[c/4] >> (16 * (c % 4)))
		for v := -1; v < 16; v++ {
			k := key
			if v >= 0 {
				k ^= 1 << v
			}
			for _, p := range m.ent[c][m.dir[c][k]:m.dir[c][int(k)+1]] {
				h := &m.hashes[p]
				if dist(h, &q) > maxDist {
					continue
				}
				seen := false
				for c2 := range c {
					if bits.OnesCount16(uint16(h[c2/4]>>(16*(c2%4)))^uint16(q[c2/4]>>(16*(c2%4)))) <= 1 {
						seen = true
						break
					}
				}
				if !seen {
					found++
				}
			}
		}
	}
	return found
}

// BenchmarkIndexAdd is the amortised cost of one Add (buffer merges into the
// delta segment included) to an index already holding 1M hashes.
func BenchmarkIndexAdd(b *testing.B) {
	ids, hs := benchData("random", 1_000_000, 3)
	x := NewIndex()
	x.AddBatch(ids, hs)
	rng := rand.New(rand.NewPCG(4, 4))
	id := int64(len(ids))
	for b.Loop() {
		x.Add(id, randomHash(rng))
		id++
	}
}
