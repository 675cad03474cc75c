package pdq

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func randomHash(rng *rand.Rand) Hash {
	var h Hash
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	return h
}

// flipBits returns h with k distinct random bits flipped (distance exactly k).
func flipBits(rng *rand.Rand, h Hash, k int) Hash {
	for _, b := range rng.Perm(256)[:k] {
		h[b/8] ^= 1 << (b % 8)
	}
	return h
}

// clustered returns hashes around random centres: each centre and variants
// of it at distances 0..40 (many near-duplicates, as real hash lists have).
func clustered(rng *rand.Rand, centres, perCentre int) []Hash {
	var out []Hash
	for range centres {
		c := randomHash(rng)
		out = append(out, c)
		for range perCentre - 1 {
			out = append(out, flipBits(rng, c, rng.IntN(41)))
		}
	}
	return out
}

// oracle is the obvious model: ids and hashes in slices, scanned in full.
type oracle struct {
	ids []int64
	hs  []Hash
	pos map[int64]int
}

func newOracle() *oracle { return &oracle{pos: map[int64]int{}} }

func (o *oracle) len() int { return len(o.ids) }

func (o *oracle) get(id int64) Hash { return o.hs[o.pos[id]] }

func (o *oracle) set(id int64, h Hash) {
	if i, ok := o.pos[id]; ok {
		o.hs[i] = h
		return
	}
	o.pos[id] = len(o.ids)
	o.ids = append(o.ids, id)
	o.hs = append(o.hs, h)
}

func (o *oracle) remove(id int64) {
	i, ok := o.pos[id]
	if !ok {
		return
	}
	last := len(o.ids) - 1
	o.ids[i], o.hs[i] = o.ids[last], o.hs[last]
	o.pos[o.ids[i]] = i
	o.ids, o.hs = o.ids[:last], o.hs[:last]
	delete(o.pos, id)
}

func (o *oracle) query(q Hash, maxDist int) []Match {
	var out []Match
	for i, h := range o.hs {
		if d := Distance(q, h); d <= maxDist {
			out = append(out, Match{ID: o.ids[i], Hash: h, Distance: d})
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// checkAgainst compares Query with the oracle for many queries: stored
// hashes, variants of them at distances up to 40, and random hashes.
func checkAgainst(t *testing.T, rng *rand.Rand, x *Index, o *oracle, stored []Hash, nq int) (matches int) {
	t.Helper()
	if x.Len() != o.len() {
		t.Fatalf("Len() = %d, want %d", x.Len(), o.len())
	}
	for i := range nq {
		var q Hash
		switch i % 3 {
		case 0:
			q = stored[rng.IntN(len(stored))]
		case 1:
			q = flipBits(rng, stored[rng.IntN(len(stored))], rng.IntN(41))
		default:
			q = randomHash(rng)
		}
		all := o.query(q, 40) // sorted by distance: a prefix for each d
		for _, d := range []int{0, 3, 10, 17, 24, 31, 32, 40} {
			want := all[:0:0]
			for _, m := range all {
				if m.Distance <= d {
					want = append(want, m)
				}
			}
			got := x.Query(q, d)
			if !slices.Equal(got, want) {
				t.Fatalf("query %d (%s) maxDist %d: index found %d matches, linear scan %d\n got %v\nwant %v",
					i, q, d, len(got), len(want), head(got), head(want))
			}
			if d == 31 {
				matches += len(want)
				if lin := x.LinearScan(q, d); !slices.Equal(lin, want) {
					t.Fatalf("LinearScan disagrees with the oracle")
				}
			}
		}
	}
	return matches
}

func head(m []Match) []Match { return m[:min(len(m), 5)] }

// TestIndexRecall is the differential test: on random and on clustered
// hashes, bulk-loaded and added one by one, before and after removals and
// replacements, Query returns exactly what a linear scan returns, for
// distances up to and beyond 31.
func TestIndexRecall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hashes func(*rand.Rand) []Hash
	}{
		{"random", func(rng *rand.Rand) []Hash {
			hs := make([]Hash, 30000)
			for i := range hs {
				hs[i] = randomHash(rng)
			}
			return hs
		}},
		{"clustered", func(rng *rand.Rand) []Hash { return clustered(rng, 600, 50) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			hs := tc.hashes(rng)
			rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
			x := NewIndex()
			x.bufCap = 512 // so that the buffer is merged into a delta often
			o := newOracle()
			// Most in one batch (the base segment), the rest one by one:
			// the buffer fills and is merged into a delta segment.
			nb := len(hs) - 3000
			ids := make([]int64, nb)
			for i := range ids {
				ids[i] = int64(i)*7 - 1000 // not dense, some negative
				o.set(ids[i], hs[i])
			}
			x.AddBatch(ids, hs[:nb])
			for i := nb; i < len(hs); i++ {
				id := int64(i)*7 - 1000
				x.Add(id, hs[i])
				o.set(id, hs[i])
			}
			if st := x.state.Load(); st.base == nil || st.delta == nil || len(st.bufIDs) == 0 || st.base.bits == 0 || st.delta.bits == 0 {
				t.Fatalf("want base, delta and buffer all in use")
			}
			m := checkAgainst(t, rng, x, o, hs, 300)
			t.Logf("%d hashes: %d matches at distance ≤ 31 over 300 queries", o.len(), m)

			// Remove a third (from every tier), replace some, re-check.
			all := slices.Clone(o.ids)
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			for _, id := range all[:len(all)/3] {
				if !x.Remove(id) {
					t.Fatalf("Remove(%d) = false for a stored id", id)
				}
				o.remove(id)
			}
			if x.Remove(all[0]) {
				t.Fatalf("second Remove(%d) = true", all[0])
			}
			for _, id := range all[len(all)/3 : len(all)/3+500] {
				h := flipBits(rng, o.get(id), 5)
				x.Add(id, h) // replaces
				o.set(id, h)
			}
			m = checkAgainst(t, rng, x, o, hs, 300)
			t.Logf("after removals: %d hashes, %d matches", o.len(), m)
			for _, id := range all[len(all)/3 : len(all)/3+10] {
				if h, ok := x.Get(id); !ok || h != o.get(id) {
					t.Fatalf("Get(%d) = %v, %v; want %v", id, h, ok, o.get(id))
				}
			}

			// Remove most of what is left: segments compact themselves.
			for _, id := range all[len(all)/3+500 : len(all)-200] {
				x.Remove(id)
				o.remove(id)
			}
			checkAgainst(t, rng, x, o, hs, 100)
		})
	}
}

// TestIndexBatchDuplicates: within a batch the last of repeated ids wins,
// and a batch replaces hashes already stored.
func TestIndexBatchDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := NewIndex()
	n := bufferCap + 100
	ids := make([]int64, n)
	hs := make([]Hash, n)
	for i := range ids {
		ids[i] = int64(i % 5000)
		hs[i] = randomHash(rng)
	}
	x.Add(1, randomHash(rng))
	x.AddBatch(ids, hs)
	if x.Len() != 5000 {
		t.Fatalf("Len = %d, want 5000", x.Len())
	}
	for i := n - 5000; i < n; i++ {
		if h, ok := x.Get(ids[i]); !ok || h != hs[i] {
			t.Fatalf("id %d: got %v, want the last hash of the batch", ids[i], h)
		}
		if got := x.Query(hs[i], 0); len(got) != 1 || got[0].ID != ids[i] {
			t.Fatalf("Query of id %d's hash: %v", ids[i], got)
		}
	}
}

func TestChunkRadii(t *testing.T) {
	for d := 0; d <= MaxIndexedDistance; d++ {
		r, ok := chunkRadii(d)
		if !ok {
			t.Fatal(d)
		}
		units := 0
		for _, t := range r {
			units += t + 1
		}
		if units <= d {
			t.Fatalf("maxDist %d: radii %v give only %d units", d, r, units)
		}
	}
	if _, ok := chunkRadii(32); ok {
		t.Fatal("32 should not be indexed")
	}
	// The chunks (table bits and suffix bit) are disjoint and within 256 bits.
	var used [256]bool
	for c := range numChunks {
		for b := c * chunkStride; b < c*chunkStride+maxTableBits+1; b++ {
			if b >= 256 || used[b] {
				t.Fatalf("chunk %d bit %d", c, b)
			}
			used[b] = true
		}
	}
}

// TestIndexConcurrent: queries run while hashes are added and removed (run
// with -race); the zero Index is usable.
func TestIndexConcurrent(t *testing.T) {
	var x Index
	rng := rand.New(rand.NewPCG(5, 6))
	base := make([]Hash, 3000)
	ids := make([]int64, len(base))
	for i := range base {
		base[i], ids[i] = randomHash(rng), int64(i)
	}
	x.AddBatch(ids, base)
	x.bufCap = 256
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := range 2000 {
				id := int64(len(base) + g*10000 + i)
				x.Add(id, randomHash(rng))
				if i%3 == 0 {
					x.Remove(id)
				}
			}
		})
	}
	for g := range 2 {
		wg.Go(func() {
			for i := range 300 {
				q := base[(g*300+i)%len(base)]
				if m := x.Query(q, 31); len(m) == 0 || m[0].Distance != 0 {
					t.Errorf("stored hash not found: %v", m)
					return
				}
			}
		})
	}
	wg.Wait()
	if x.Len() != len(base)+2*(2000-667) {
		t.Errorf("Len = %d", x.Len())
	}
}

// TestIndexEmptying: removing everything, from every tier, leaves a working
// empty index.
func TestIndexEmptying(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	x := NewIndex()
	x.bufCap = 64
	n := 5000
	ids := make([]int64, n)
	hs := make([]Hash, n)
	for i := range ids {
		ids[i], hs[i] = int64(i), randomHash(rng)
	}
	x.AddBatch(ids, hs)
	for i := range 300 {
		x.Add(int64(n+i), randomHash(rng))
	}
	for i := range n + 300 {
		if !x.Remove(int64(i)) {
			t.Fatalf("Remove(%d) = false", i)
		}
	}
	if x.Len() != 0 || len(x.Query(hs[0], 40)) != 0 || len(x.Query(hs[0], 31)) != 0 {
		t.Fatalf("not empty: Len %d", x.Len())
	}
	x.Add(1, hs[1])
	if m := x.Query(hs[1], 0); len(m) != 1 || m[0].ID != 1 {
		t.Fatalf("after refilling: %v", m)
	}
	x.Add(1, hs[2]) // replace
	if m := x.Query(hs[1], 0); len(m) != 0 {
		t.Fatalf("replaced hash still found: %v", m)
	}
	if x.Query(hs[1], -1) != nil {
		t.Fatal("negative distance")
	}
}
