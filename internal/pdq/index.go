package pdq

import (
	"cmp"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Index design
//
// Query must find every stored hash within distance d ≤ 31 of a query. It
// uses multi-index hashing with the generalised pigeonhole principle: cut
// the 256 bits into m disjoint chunks and give chunk c a search radius t_c.
// If every chunk differed from the query by more than its radius, the total
// distance would be at least Σ (t_c + 1); so when Σ (t_c + 1) > d, at least
// one chunk is within its radius, and probing every chunk value within t_c of
// the query's chunk, for every chunk, finds every match. Candidates are then
// verified with a full 256-bit popcount.
//
// The cost is the probes (random reads of a bucket directory and of the
// bucket) plus the candidates (random reads of stored hashes). Meta's MIH
// uses 16 chunks of 16 bits with radius 1: 272 probes, but at 10M hashes a
// 16-bit bucket holds ~150 entries: ~41,000 candidates per query. Here there
// are 11 chunks of 23 bits (at bit offsets 0, 23, 46, ...; 11×23 = 253 ≤ 256),
// ten probed within radius 2 and one within radius 1 (Σ (t+1) = 32 > 31). A
// chunk's table is indexed by its first b bits (b ≤ 22, from the segment
// size); its 23rd bit (the "suffix bit") is stored in the top bit of each
// entry and filters the bucket: a probe that spends all of its radius on the
// b table bits needs the suffix bit equal. At 10M hashes that is 2,563
// probes (10×254 + 23) of 22-bit buckets holding ~2.4 entries each, and
// ~3,300 candidates. Smaller maxDist uses smaller radii (maxDist ≤ 10: one
// exact probe per chunk; ≤ 4: only some chunks).
//
// A table is a directory of 2^b+1 offsets into an array of entry positions
// sorted by chunk value (counting sort): 4 bytes per entry per chunk plus
// 4·2^b per chunk. At 10M hashes: 440 MB of entries, 176 MB of directories,
// 320 MB of hashes and 80 MB of ids, 902 MiB in all. A match found through
// chunk c is reported only if no earlier chunk is within its radius (it was
// found there), which removes duplicates without a visited set.
//
// Nearly every read misses the caches, so the query runs in phases over flat
// lists (buckets, their ranges, candidates, verification), each a tight loop
// of independent reads that the CPU overlaps, and touches bucket entries and
// candidate hashes in branch-free loops before using them. This halves query
// time compared with probing bucket by bucket.
//
// Updates: tables are built in bulk, so the index is a small log-structured
// set: a base segment, a delta segment, and a buffer of up to bufferCap
// recent additions scanned linearly. A full buffer is merged into the delta;
// a delta grown past an eighth of the base is merged into the base (so each
// hash is rebuilt O(log n) times over a growing index, and a delta rebuild
// costs at most an eighth of the base per bufferCap additions). Each segment
// keeps its ids sorted: Remove finds an id by binary search and sets its
// deletion bit; deleted entries are dropped at the next merge (or at once
// when half a segment is deleted). AddBatch indexes a large batch in one
// build. Queries read an immutable snapshot through an atomic pointer, so
// merges, however long, never hold them up.

// MaxIndexedDistance is the largest maxDist Query answers with the
// multi-index; larger distances are answered by a linear scan.
const MaxIndexedDistance = 31

const (
	numChunks    = 11
	chunkStride  = 23 // chunk c starts at bit 23c
	maxTableBits = 22
	minTableBits = 10
	// Segments smaller than this are scanned linearly, without tables.
	minIndexedSegment = 2048
	// bufferCap is the number of recent additions kept unindexed.
	bufferCap = 8192
)

// Match is a stored hash within the queried distance.
type Match struct {
	ID       int64
	Hash     Hash
	Distance int
}

// Index finds stored PDQ hashes near a query. The zero Index is empty and
// ready to use. It is safe for concurrent use, and queries never wait:
// they read an immutable snapshot (segments, and the buffer up to its length
// when the snapshot was taken; deletions are atomic bits), while additions
// and removals are serialised on a mutex and publish new snapshots. Merges
// (the buffer into the delta segment, the delta into the base) are built
// inside the Add that fills the buffer, holding up other writers — at 10M
// hashes a delta merge takes up to ~0.5 s and a base rebuild ~8 s — but not
// queries, which go on with the previous snapshot.
type Index struct {
	mu     sync.Mutex             // serialises writers
	state  atomic.Pointer[istate] // what queries read
	bufPos map[int64]int          // id → position in the buffer (writers only)
	bufCap int                    // bufferCap; smaller in tests
	live   atomic.Int64
}

// istate is a snapshot: never modified once published, except for deletion
// bits (set atomically) and buffer slots beyond its own length.
type istate struct {
	base, delta *segment
	bufIDs      []int64
	bufH        [][4]uint64
	bufDel      []atomic.Uint64 // deletion bits of the buffer (shared by snapshots of one buffer)
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{}
	x.init()
	return x
}

// init makes the zero Index usable; under mu.
func (x *Index) init() {
	if x.bufPos == nil {
		x.bufPos = make(map[int64]int)
	}
	if x.bufCap == 0 {
		x.bufCap = bufferCap
	}
	if x.state.Load() == nil {
		x.state.Store(x.emptyBuffer(nil, nil))
	}
}

// emptyBuffer returns a snapshot of the given segments with a new, empty
// buffer of capacity bufCap (which must not grow while the buffer is in use).
func (x *Index) emptyBuffer(base, delta *segment) *istate {
	clear(x.bufPos)
	return &istate{
		base:   base,
		delta:  delta,
		bufIDs: make([]int64, 0, x.bufCap),
		bufH:   make([][4]uint64, 0, x.bufCap),
		bufDel: make([]atomic.Uint64, (x.bufCap+63)/64),
	}
}

// Len returns the number of hashes stored.
func (x *Index) Len() int { return int(x.live.Load()) }

// Add stores h under id, replacing any hash already stored under id.
func (x *Index) Add(id int64, h Hash) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.init()
	x.removeLocked(id)
	x.appendLocked(id, h.words())
	if len(x.state.Load().bufIDs) >= x.bufCap {
		x.flushLocked(run{})
	}
}

// appendLocked adds one entry to the buffer and publishes the snapshot. The
// buffer never grows past bufCap, so appending writes only beyond the
// length that older snapshots see.
func (x *Index) appendLocked(id int64, w [4]uint64) {
	st := x.state.Load()
	n := *st
	x.bufPos[id] = len(n.bufIDs)
	n.bufIDs = append(n.bufIDs, id)
	n.bufH = append(n.bufH, w)
	x.live.Add(1)
	x.state.Store(&n)
}

// AddBatch stores many hashes at once (hashes[i] under ids[i]), replacing
// hashes already stored under those ids; within the batch the last of
// repeated ids wins. Large batches are indexed in one build, far faster than
// as many Adds.
func (x *Index) AddBatch(ids []int64, hashes []Hash) {
	if len(ids) != len(hashes) {
		panic("pdq: AddBatch: ids and hashes differ in length")
	}
	if len(ids) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.init()
	if len(ids)+len(x.state.Load().bufIDs) < x.bufCap {
		for i, id := range ids {
			x.removeLocked(id)
			x.appendLocked(id, hashes[i].words())
		}
		return
	}
	// Sort the batch by id, keeping the last of equal ids.
	var order []int32 // positions in the batch, by id
	if slices.IsSorted(ids) {
		order = make([]int32, 0, len(ids))
		for i, id := range ids {
			if i+1 < len(ids) && ids[i+1] == id {
				continue
			}
			order = append(order, int32(i))
		}
	} else {
		perm := make([]int32, len(ids))
		for i := range perm {
			perm[i] = int32(i)
		}
		slices.SortFunc(perm, func(a, b int32) int {
			if c := cmp.Compare(ids[a], ids[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		order = perm[:0]
		for i, p := range perm {
			if i+1 < len(perm) && ids[perm[i+1]] == ids[p] {
				continue // a later entry has the same id
			}
			order = append(order, p)
		}
	}
	sids := make([]int64, len(order))
	sh := make([][4]uint64, len(order))
	for i, p := range order {
		if x.live.Load() > 0 {
			x.removeLocked(ids[p])
		}
		sids[i] = ids[p]
		sh[i] = hashes[p].words()
	}
	x.live.Add(int64(len(sids)))
	x.flushLocked(run{ids: sids, hashes: sh})
}

// Remove deletes the hash stored under id and reports whether there was one.
func (x *Index) Remove(id int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.init()
	return x.removeLocked(id)
}

// Get returns the hash stored under id.
func (x *Index) Get(id int64) (Hash, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.init()
	st := x.state.Load()
	if i, ok := x.bufPos[id]; ok {
		return fromWords(st.bufH[i]), true
	}
	for _, s := range []*segment{st.delta, st.base} {
		if p, ok := s.find(id); ok {
			return fromWords(s.hashes[p]), true
		}
	}
	return Hash{}, false
}

func (x *Index) removeLocked(id int64) bool {
	st := x.state.Load()
	if i, ok := x.bufPos[id]; ok {
		st.bufDel[i/64].Or(1 << (i % 64))
		delete(x.bufPos, id)
		x.live.Add(-1)
		return true
	}
	for _, s := range []*segment{st.delta, st.base} {
		if p, ok := s.find(id); ok {
			s.deleted[p/64].Or(1 << (p % 64))
			s.ndeleted++
			x.live.Add(-1)
			if s.ndeleted*2 > len(s.ids) {
				// Compact: publish a snapshot with the rebuilt segment.
				n := *st
				rebuilt := buildSegment(mergeRuns(s.run()), buildWorkers(true)) // nil when empty
				if s == st.delta {
					n.delta = rebuilt
				} else {
					n.base = rebuilt
				}
				x.state.Store(&n)
			}
			return true
		}
	}
	return false
}

// flushLocked merges the buffer and the sorted batch (if any) into the
// delta segment, and the delta into the base when it has grown past an
// eighth of the base, then publishes a snapshot with an empty buffer.
func (x *Index) flushLocked(batch run) {
	st := x.state.Load()
	runs := []run{}
	if len(st.bufIDs) > 0 {
		var live []int
		for i := range st.bufIDs {
			if st.bufDel[i/64].Load()>>(i%64)&1 == 0 {
				live = append(live, i)
			}
		}
		slices.SortFunc(live, func(a, b int) int { return cmp.Compare(st.bufIDs[a], st.bufIDs[b]) })
		bids := make([]int64, len(live))
		bh := make([][4]uint64, len(live))
		for i, p := range live {
			bids[i], bh[i] = st.bufIDs[p], st.bufH[p]
		}
		if len(live) > 0 {
			runs = append(runs, run{ids: bids, hashes: bh})
		}
	}
	if len(batch.ids) > 0 {
		runs = append(runs, batch)
	}
	if st.delta != nil {
		runs = append(runs, st.delta.run())
	}
	n := 0
	for _, r := range runs {
		n += len(r.ids) - r.ndeleted
	}
	baseN := 0
	if st.base != nil {
		baseN = len(st.base.ids) - st.base.ndeleted
	}
	if n*8 > baseN {
		if st.base != nil {
			runs = append(runs, st.base.run())
		}
		x.state.Store(x.emptyBuffer(buildSegment(mergeRuns(runs...), buildWorkers(st.base != nil || st.delta != nil)), nil))
		return
	}
	x.state.Store(x.emptyBuffer(st.base, buildSegment(mergeRuns(runs...), buildWorkers(true))))
}

// Query returns every stored hash within maxDist of h, nearest first (ties
// by id). Up to MaxIndexedDistance it uses the multi-index; above, it scans.
func (x *Index) Query(h Hash, maxDist int) []Match {
	return x.search(h, maxDist, false)
}

func (x *Index) search(h Hash, maxDist int, linear bool) []Match {
	st := x.state.Load()
	if maxDist < 0 || st == nil {
		return nil
	}
	q := h.words()
	var out []Match
	radii, indexed := chunkRadii(maxDist)
	for _, s := range []*segment{st.base, st.delta} {
		if s != nil {
			out = s.query(&q, &radii, indexed && !linear, maxDist, out)
		}
	}
	for i := range st.bufH {
		if d := dist(&st.bufH[i], &q); d <= maxDist && st.bufDel[i/64].Load()>>(i%64)&1 == 0 {
			out = append(out, Match{ID: st.bufIDs[i], Hash: fromWords(st.bufH[i]), Distance: d})
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

// LinearScan is the baseline: every stored hash within maxDist of h found by
// comparing against all of them, in Query's order. It exists for tests and
// benchmarks.
func (x *Index) LinearScan(h Hash, maxDist int) []Match {
	return x.search(h, maxDist, true)
}

// chunkRadii spreads the maxDist+1 units the pigeonhole argument needs over
// the chunks: chunk c is probed within radius radii[c] (-1: not probed). It
// reports false when maxDist is beyond the indexed range.
func chunkRadii(maxDist int) (radii [numChunks]int, indexed bool) {
	if maxDist > MaxIndexedDistance {
		return radii, false
	}
	units := maxDist + 1
	for c := range radii {
		radii[c] = units/numChunks - 1
		if c < units%numChunks {
			radii[c]++
		}
	}
	return radii, true
}

func dist(a, b *[4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// chunkKey returns the low b bits of chunk c of w.
func chunkKey(w *[4]uint64, c, b int) uint32 {
	start := c * chunkStride
	word, sh := start/64, uint(start%64)
	v := w[word] >> sh
	if sh+uint(b) > 64 {
		v |= w[word+1] << (64 - sh)
	}
	return uint32(v) & (1<<b - 1)
}

// run is a sorted sequence of (id, hash) with optional deletions.
type run struct {
	ids      []int64
	hashes   [][4]uint64
	deleted  []atomic.Uint64
	ndeleted int
}

// mergeRuns merges runs sorted by id into one, dropping deleted entries.
// Ids are unique across the runs.
func mergeRuns(runs ...run) run {
	if len(runs) == 1 && runs[0].ndeleted == 0 {
		r := runs[0] // segments never modify ids and hashes
		return run{ids: r.ids, hashes: r.hashes}
	}
	n := 0
	for _, r := range runs {
		n += len(r.ids) - r.ndeleted
	}
	ids := make([]int64, n)
	hs := make([][4]uint64, n)
	o := 0
	pos := make([]int, len(runs))
	for {
		best := -1
		for k, r := range runs {
			p := pos[k]
			for p < len(r.ids) && r.deleted != nil && r.deleted[p/64].Load()>>(p%64)&1 == 1 {
				p++
			}
			pos[k] = p
			if p < len(r.ids) && (best < 0 || r.ids[p] < runs[best].ids[pos[best]]) {
				best = k
			}
		}
		if best < 0 {
			return run{ids: ids[:o], hashes: hs[:o]}
		}
		r, p := runs[best], pos[best]
		// Copy the stretch of best that precedes every other run's head.
		end := len(r.ids)
		for k, other := range runs {
			if k != best && pos[k] < len(other.ids) {
				lim := other.ids[pos[k]]
				end = p + sort.Search(end-p, func(i int) bool { return r.ids[p+i] > lim })
			}
		}
		for ; p < end; p++ {
			if r.deleted != nil && r.deleted[p/64].Load()>>(p%64)&1 == 1 {
				continue
			}
			ids[o], hs[o] = r.ids[p], r.hashes[p]
			o++
		}
		pos[best] = p
	}
}

// segment is an immutable set of hashes sorted by id, with a deletion bitset
// and, when large enough, one table per chunk.
type segment struct {
	ids      []int64
	hashes   [][4]uint64
	deleted  []atomic.Uint64
	ndeleted int
	bits     int                 // table bits per chunk; 0 = no tables
	dir      [numChunks][]uint32 // dir[c][k]..dir[c][k+1]: entries with chunk value k
	ent      [numChunks][]uint32 // positions, grouped by chunk value
}

func (s *segment) run() run {
	return run{ids: s.ids, hashes: s.hashes, deleted: s.deleted, ndeleted: s.ndeleted}
}

// find returns the position of a live id.
func (s *segment) find(id int64) (int, bool) {
	if s == nil {
		return 0, false
	}
	p, ok := slices.BinarySearch(s.ids, id)
	if !ok || s.deleted[p/64].Load()>>(p%64)&1 == 1 {
		return 0, false
	}
	return p, true
}

// tableBits picks the directory size for n entries: about one entry per
// bucket, at most 2^22 buckets (memory: 16 MiB per chunk).
func tableBits(n int) int {
	return max(minTableBits, min(maxTableBits, bits.Len(uint(n))))
}

// buildWorkers is how many goroutines build a segment's tables: all CPUs
// for a first build, one fewer when queries are being served, so that a
// merge leaves them a CPU.
func buildWorkers(serving bool) int {
	n := runtime.GOMAXPROCS(0)
	if serving {
		n--
	}
	return max(1, n)
}

func buildSegment(r run, workers int) *segment {
	ids, hashes := r.ids, r.hashes
	n := len(ids)
	if n == 0 {
		return nil
	}
	if n >= 1<<31 {
		panic("pdq: index segment over 2^31 hashes")
	}
	s := &segment{ids: ids, hashes: hashes, deleted: make([]atomic.Uint64, (n+63)/64)}
	if n < minIndexedSegment {
		return s
	}
	b := tableBits(n)
	s.bits = b
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for c := range numChunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// Counting sort of positions by chunk value.
			mask := uint32(1)<<b - 1
			dir := make([]uint32, 1<<b+1)
			for p := range hashes {
				dir[chunkKey(&hashes[p], c, b)+1]++
			}
			for k := 1; k < len(dir); k++ {
				dir[k] += dir[k-1]
			}
			ent := make([]uint32, n)
			for p := range hashes {
				ext := chunkKey(&hashes[p], c, b+1)
				k := ext & mask
				ent[dir[k]] = uint32(p) | (ext>>b)<<31 // the suffix bit on top
				dir[k]++
			}
			// dir[k] is now the end of bucket k; shift to starts.
			copy(dir[1:], dir[:len(dir)-1])
			dir[0] = 0
			s.dir[c], s.ent[c] = dir, ent
		}()
	}
	wg.Wait()
	return s
}

// scan appends the live entries within maxDist of q, comparing all.
func (s *segment) scan(q *[4]uint64, maxDist int, out []Match) []Match {
	for p := range s.hashes {
		if d := dist(&s.hashes[p], q); d <= maxDist && s.deleted[p/64].Load()>>(p%64)&1 == 0 {
			out = append(out, Match{ID: s.ids[p], Hash: fromWords(s.hashes[p]), Distance: d})
		}
	}
	return out
}

// probeMasks[b] lists the XOR masks of b-bit values within distance 2 of
// zero: first 0, then the b single bits, then the b(b-1)/2 pairs. The masks
// of radius r are the first maskCount(b, r).
var probeMasks = func() (m [maxTableBits + 1][]uint32) {
	for b := minTableBits; b <= maxTableBits; b++ {
		ms := []uint32{0}
		for i := range b {
			ms = append(ms, 1<<i)
		}
		for i := range b {
			for j := i + 1; j < b; j++ {
				ms = append(ms, 1<<i|1<<j)
			}
		}
		m[b] = ms
	}
	return m
}()

func maskCount(b, r int) int {
	switch r {
	case -1:
		return 0
	case 0:
		return 1
	case 1:
		return 1 + b
	}
	return 1 + b + b*(b-1)/2
}

// queryScratch holds a query's intermediate lists; pooled.
type queryScratch struct {
	keys   []uint32 // bucket to probe
	chunk  []uint8  // its chunk
	need   []uint8  // the suffix bit its entries need (2: either)
	lo, hi []uint32 // its range of entries
	cand   []uint32 // candidate positions
	candC  []uint8  // the chunk each was found through
	sink   uint32
}

var scratchPool = sync.Pool{New: func() any { return new(queryScratch) }}

// query appends the live entries within maxDist of q.
//
// It works in phases over flat lists rather than bucket by bucket: list the
// buckets to probe, read all their ranges, gather all candidate positions,
// then verify them all. Each phase is a tight loop of independent memory
// reads, which the CPU overlaps (the directory, entry and hash arrays are far
// larger than the caches, so nearly every read misses); a bucket-by-bucket
// loop would wait for three misses in a row per bucket.
func (s *segment) query(q *[4]uint64, radii *[numChunks]int, indexed bool, maxDist int, out []Match) []Match {
	if s.bits == 0 || !indexed {
		return s.scan(q, maxDist, out)
	}
	b := s.bits
	var qk [numChunks]uint32
	for c := range qk {
		qk[c] = chunkKey(q, c, b+1) // table bits and the suffix bit
	}
	mask := uint32(1)<<b - 1
	w := scratchPool.Get().(*queryScratch)
	defer scratchPool.Put(w)

	// 1. The buckets: every chunk value within the chunk's radius. With k
	// of the r flips in the table bits, the suffix bit may differ only when
	// k < r: need is the suffix bit required (0 or 1), or 2 for either.
	keys, chunk, need := w.keys[:0], w.chunk[:0], w.need[:0]
	for c := range numChunks {
		r := radii[c]
		if r < 0 {
			continue
		}
		key, suf := qk[c]&mask, uint8(qk[c]>>b)
		masks := probeMasks[b]
		for i, m := range masks[:maskCount(b, r)] {
			keys = append(keys, key^m)
			chunk = append(chunk, uint8(c))
			nd := uint8(2)
			if i >= maskCount(b, r-1) { // r flips in the table bits
				nd = suf
			}
			need = append(need, nd)
		}
	}
	// 2. Their ranges of entries.
	lo, hi := grow(w.lo, len(keys)), grow(w.hi, len(keys))
	for i, k := range keys {
		dir := s.dir[chunk[i]]
		lo[i], hi[i] = dir[k], dir[k+1]
	}
	// 3. The candidates.
	// First touch each bucket's entries in a loop without branches, so the
	// reads overlap; the gathering loop below then finds them in cache.
	var sink uint32
	for i := range keys {
		e := s.ent[chunk[i]]
		sink += e[min(lo[i], uint32(len(e)-1))]
	}
	cand, candC := w.cand[:0], w.candC[:0]
	for i := range keys {
		nd := uint32(need[i])
		for _, e := range s.ent[chunk[i]][lo[i]:hi[i]] {
			if nd < 2 && e>>31 != nd {
				continue
			}
			cand = append(cand, e&(1<<31-1))
			candC = append(candC, chunk[i])
		}
	}
	// 4. Verification.
	hashes := s.hashes
	// The same for the candidates' hashes (this halves query time at 10M).
	for _, p := range cand {
		sink += uint32(hashes[p][0])
	}
	w.sink = sink // keeps the touching reads
	for i, p := range cand {
		h := &hashes[p]
		d := bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1]) +
			bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3])
		if d > maxDist || s.deleted[p/64].Load()>>(p%64)&1 == 1 {
			continue
		}
		// Reported already if an earlier chunk is within its radius: it was
		// a candidate there too.
		seen := false
		for c2 := 0; c2 < int(candC[i]); c2++ {
			if radii[c2] >= 0 && bits.OnesCount32(chunkKey(h, c2, b+1)^qk[c2]) <= radii[c2] {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, Match{ID: s.ids[p], Hash: fromWords(*h), Distance: d})
		}
	}
	w.keys, w.chunk, w.need, w.lo, w.hi, w.cand, w.candC = keys, chunk, need, lo, hi, cand, candC
	return out
}

func grow(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n, n+n/4)
	}
	return s[:n]
}
