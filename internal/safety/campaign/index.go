package campaign

// This file holds the candidate index: locality-sensitive hashing of MinHash
// signatures by banding. The first bandCount*bandRows slots of a signature
// are cut into bandCount bands of bandRows slots; each band's values are
// hashed to a key, and a post is filed under its key in each band's table.
// Two posts that agree on every slot of at least one band share a bucket and
// are candidates; every other pair is never looked at, so a lookup costs
// bandCount table probes and the comparisons with the candidates found, not
// a scan of the window.
//
// What it finds (the pigeonhole argument): if two signatures differ in at
// most bandCount-1 slots, at least one band holds none of the differences,
// so they share that band's bucket. With 64 slots and 21 bands of 3, every
// pair that agrees on at least 44 of 64 slots (an estimated similarity of
// 0.69) is a candidate, always. Below that it is a matter of chance: a pair
// whose shingle sets have Jaccard similarity J agrees on a band with
// probability J³, so it is a candidate with probability 1-(1-J³)^21: 94% at
// J = 0.5, 99% at J = 0.6. Unrelated posts (J near 0) are almost never
// candidates. docs/campaigns.md has the measurements.
//
// Buckets are bounded: a bucket keeps the newest bucketCap posts filed under
// its key and forgets the oldest when a newer one arrives. A bucket with
// that many posts belongs to a large campaign, whose newest copies are the
// ones a new copy needs to find and the last to leave the window; without
// the bound, every copy of a campaign of 100,000 posts would look at all
// the others. The price: a post can miss an older post that it shares only
// an overflowing bucket with, which the differential tests measure.

const (
	bandCount = 21
	bandRows  = 3
	// guaranteedAgreement is the agreement from which the index finds a
	// pair whatever the chance: bandCount-1 differences at most.
	guaranteedAgreement = signatureSlots - (bandCount - 1)
	// bucketCap is the number of newest posts a bucket keeps.
	bucketCap = 32
)

// bandIndex maps each band's keys to the posts filed under them. Posts are
// slot numbers of the detector's post table. It is not safe for concurrent
// use; the detector's lock guards it.
type bandIndex struct {
	// tables[b] maps a key to either a slot (>= 0), the only post filed
	// under it, or -1-i, where lists[i] holds two or more slots, oldest
	// first. Most keys belong to one post, which then costs one table
	// entry and no slice.
	tables    [bandCount]bandTable
	lists     [][]int32
	freeLists []int32
	// forgotten counts posts a full bucket forgot, for the tests and
	// benchmarks: results are exact (see the differential tests) while it
	// is zero.
	forgotten int
	sink      uint64 // what touch loaded, kept so that the loads stay
}

func newBandIndex() *bandIndex {
	x := &bandIndex{}
	for b := range x.tables {
		x.tables[b].init()
	}
	return x
}

// bandKey hashes band b of sig. The band number is mixed in so that equal
// values in different bands do not make a pattern in the tables.
func bandKey(sig *signature, b int) uint32 {
	i := b * bandRows
	v := uint64(sig[i]) | uint64(sig[i+1])<<16 | uint64(sig[i+2])<<32 | uint64(b)<<48
	return uint32(mix64(v) >> 32)
}

// bandKeys are the keys of a signature's bands, computed once per post for
// its look-up and its insertion.
type bandKeys [bandCount]uint32

func keysOf(sig *signature) (k bandKeys) {
	for b := range k {
		k[b] = tableKey(bandKey(sig, b))
	}
	return k
}

// touch loads the first entry of each key's probe sequence and returns
// them combined, which the caller keeps so the loads are not optimised
// away. The loads do not depend on each other, so the processor waits for
// the 21 cache misses of a large window at once instead of one after the
// other; the probes that follow find the entries in the cache.
func (x *bandIndex) touch(keys *bandKeys) uint64 {
	var sum uint64
	for b := range keys {
		t := &x.tables[b]
		sum += t.entries[t.home(keys[b])]
	}
	return sum
}

// insert files slot under each of keys.
func (x *bandIndex) insert(slot int32, keys *bandKeys) {
	for b, key := range keys {
		t := &x.tables[b]
		v, ok := t.get(key)
		switch {
		case !ok:
			t.set(key, slot)
		case v >= 0:
			t.set(key, x.newList(v, slot))
		default:
			l := x.lists[-1-v]
			if len(l) == bucketCap {
				x.forgotten++
				copy(l, l[1:])
				l[len(l)-1] = slot
			} else {
				l = append(l, slot)
			}
			x.lists[-1-v] = l
		}
	}
}

func (x *bandIndex) newList(a, b int32) int32 {
	var i int32
	if n := len(x.freeLists); n > 0 {
		i = x.freeLists[n-1]
		x.freeLists = x.freeLists[:n-1]
		x.lists[i] = append(x.lists[i][:0], a, b)
	} else {
		i = int32(len(x.lists))
		x.lists = append(x.lists, []int32{a, b})
	}
	return -1 - i
}

// remove takes slot out of the buckets of sig it is still in (a full bucket
// may have forgotten it already).
func (x *bandIndex) remove(slot int32, sig *signature) {
	keys := keysOf(sig)
	x.sink += x.touch(&keys)
	for b, key := range keys {
		t := &x.tables[b]
		v, ok := t.get(key)
		switch {
		case !ok:
		case v >= 0:
			if v == slot {
				t.delete(key)
			}
		default:
			i := -1 - v
			l := x.lists[i]
			for j, s := range l {
				if s == slot {
					l = append(l[:j], l[j+1:]...)
					break
				}
			}
			if len(l) == 1 {
				t.set(key, l[0])
				x.lists[i] = l[:0]
				x.freeLists = append(x.freeLists, i)
			} else {
				x.lists[i] = l
			}
		}
	}
}

// candidates calls visit with every slot filed under one of keys, newest
// first within a bucket. A slot in several shared buckets is visited once
// per bucket; visit is where duplicates are skipped.
func (x *bandIndex) candidates(keys *bandKeys, visit func(slot int32)) {
	x.sink += x.touch(keys)
	for b, key := range keys {
		v, ok := x.tables[b].get(key)
		switch {
		case !ok:
		case v >= 0:
			visit(v)
		default:
			l := x.lists[-1-v]
			for j := len(l) - 1; j >= 0; j-- {
				visit(l[j])
			}
		}
	}
}
