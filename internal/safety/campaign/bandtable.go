package campaign

// bandTable maps the 32-bit keys of one band to an int32 (a slot or a list
// mark, see bandIndex). It is an open-addressing hash table with linear
// probing, each entry one uint64 holding key and value, so that a look-up
// at a million posts costs one cache miss where a Go map costs two or three
// (its directory, control word and slot), and so that bandIndex.touch can
// start the misses of all 21 bands at once. With it the update of a window
// of a million posts takes about half the CPU time it took with Go maps
// (docs/benchmarks.md).
//
// The table grows by half when three quarters full and shrinks by a third
// when a quarter full, so it is between half and three quarters full at any
// size: about 13 bytes per entry, what a Go map takes. Its size is not a
// power of two; home maps a key to an entry by multiplication.
//
// Deletion shifts the following entries back instead of leaving tombstones,
// so a table that sees as many deletions as insertions, as a sliding window
// does, never fills up with dead entries.
type bandTable struct {
	entries []uint64 // key<<32 | uint32(value); 0 is empty (keys are never 0)
	count   int
}

const bandTableMinSize = 1 << 10

func newBandTable() *bandTable {
	t := &bandTable{}
	t.init()
	return t
}

func (t *bandTable) init() {
	t.entries, t.count = make([]uint64, bandTableMinSize), 0
}

// tableKey makes a band key usable: 0 marks an empty entry, so key 0 is
// stored as 1. Merging the two costs a false candidate now and then, which
// the comparison of signatures rejects.
func tableKey(key uint32) uint32 {
	if key == 0 {
		return 1
	}
	return key
}

// home is where key's probe sequence starts: the key, multiplied by an odd
// constant so that keys that differ only in their low bits spread too
// (band keys are hashes, but the tests use small ones), scaled to the
// table's size.
func (t *bandTable) home(key uint32) int {
	return int(uint64(key*0x9e3779b9) * uint64(len(t.entries)) >> 32)
}

// next is the entry after i, wrapping around at the end.
func (t *bandTable) next(i int) int {
	if i++; i == len(t.entries) {
		return 0
	}
	return i
}

// find returns the index of key's entry, or of the empty entry where it
// would go, and whether it is there.
func (t *bandTable) find(key uint32) (int, bool) {
	for i := t.home(key); ; i = t.next(i) {
		e := t.entries[i]
		if e == 0 {
			return i, false
		}
		if uint32(e>>32) == key {
			return i, true
		}
	}
}

func (t *bandTable) get(key uint32) (int32, bool) {
	i, ok := t.find(tableKey(key))
	return int32(uint32(t.entries[i])), ok
}

func (t *bandTable) set(key uint32, value int32) {
	key = tableKey(key)
	i, ok := t.find(key)
	t.entries[i] = uint64(key)<<32 | uint64(uint32(value))
	if ok {
		return
	}
	if t.count++; t.count*4 > len(t.entries)*3 {
		t.resize(len(t.entries) * 3 / 2)
	}
}

func (t *bandTable) delete(key uint32) {
	i, ok := t.find(tableKey(key))
	if !ok {
		return
	}
	// Shift back every following entry of the cluster whose probe
	// sequence passes through the hole, so look-ups still reach it.
	for j := t.next(i); t.entries[j] != 0; j = t.next(j) {
		h := t.home(uint32(t.entries[j] >> 32))
		// The entry at j may move to i if its home is not in (i, j],
		// cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.entries[i] = t.entries[j]
			i = j
		}
	}
	t.entries[i] = 0
	t.count--
	if len(t.entries) > bandTableMinSize && t.count*4 < len(t.entries) {
		t.resize(max(bandTableMinSize, len(t.entries)*2/3))
	}
}

func (t *bandTable) resize(size int) {
	old := t.entries
	t.entries = make([]uint64, size)
	for _, e := range old {
		if e != 0 {
			i, _ := t.find(uint32(e >> 32))
			t.entries[i] = e
		}
	}
}
