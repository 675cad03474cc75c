package campaign

import (
	"math/rand/v2"
	"testing"
)

// TestBandTableDifferential runs random insertions, overwrites and
// deletions on a bandTable and a Go map side by side, with keys from a small
// range so that probe clusters and wrap-around at the end of the table are
// common, through growth and shrinking, and compares every look-up.
func TestBandTableDifferential(t *testing.T) {
	for _, keyRange := range []uint32{50, 5000, 1 << 31} {
		rng := rand.New(rand.NewPCG(uint64(keyRange), 7))
		table, ref := newBandTable(), map[uint32]int32{}
		key := func() uint32 { return tableKey(uint32(rng.Int64N(int64(keyRange)))) }
		for i := range 200_000 {
			// Grow for the first half, shrink in the second.
			grow := i < 100_000
			switch op := rng.IntN(10); {
			case op < 5 && grow || op < 2:
				k, v := key(), int32(rng.Uint32())
				table.set(k, v)
				ref[k] = v
			case op < 8:
				k := key()
				table.delete(k)
				delete(ref, k)
			default:
				k := key()
				got, ok := table.get(k)
				want, wantOK := ref[k]
				if ok != wantOK || ok && got != want {
					t.Fatalf("range %d, op %d: get(%d) = %d, %v; map has %d, %v", keyRange, i, k, got, ok, want, wantOK)
				}
			}
			if i%10_000 == 0 || i == 199_999 {
				if table.count != len(ref) {
					t.Fatalf("range %d, op %d: %d entries, map has %d", keyRange, i, table.count, len(ref))
				}
				for k, want := range ref {
					if got, ok := table.get(k); !ok || got != want {
						t.Fatalf("range %d, op %d: get(%d) = %d, %v; want %d", keyRange, i, k, got, ok, want)
					}
				}
			}
		}
		t.Logf("key range %d: %d entries left in a table of %d", keyRange, table.count, len(table.entries))
	}
}
