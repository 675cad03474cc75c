package banks

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parley/internal/pace"
)

// TestSpoolSorted: the spool gives its entries back sorted by type and
// value, equal ones in the order they were put, whether they fit in one
// run in memory or are merged from many runs on disk, with every field
// intact; and it leaves no file behind.
func TestSpoolSorted(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, tc := range []struct {
		name     string
		runBytes int
		wantRuns bool
	}{
		{"one run in memory", 16 << 20, false},
		{"merged runs", 4 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(old int) { sortRunBytes = old }(sortRunBytes)
			sortRunBytes = tc.runBytes
			rng := rand.New(rand.NewPCG(5, 6))
			types := []EntryType{TypePDQ, TypeMD5, TypeURL}
			var put []Entry
			sp, err := newSpool()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3000 {
				e := Entry{Type: types[rng.IntN(len(types))], Value: fmt.Sprintf("v%03d", rng.IntN(700)), Quality: i % 101,
					Source: "s", ExternalID: fmt.Sprint(i), Note: strings.Repeat("n", i%7)}
				if i%3 == 0 {
					e.Tags = []string{"a", fmt.Sprint(i)}
				}
				put = append(put, e)
				if err := sp.put(&e); err != nil {
					t.Fatal(err)
				}
			}
			want := slices.Clone(put)
			slices.SortStableFunc(want, func(a, b Entry) int {
				return strings.Compare(string(a.Type)+"\x00"+a.Value, string(b.Type)+"\x00"+b.Value)
			})
			var got []Entry
			for e, err := range sp.sorted(pace.New(t.Context())) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, *e)
			}
			if len(got) != len(want) {
				t.Fatalf("%d entries back, want %d", len(got), len(want))
			}
			for i := range want {
				if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
					t.Fatalf("entry %d: %+v, want %+v", i, got[i], want[i])
				}
			}
			if (len(sp.runs) > 1) != tc.wantRuns {
				t.Fatalf("%d runs on disk", len(sp.runs))
			}
			sp.close()
			left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "parley-bank-import-*"))
			if len(left) != 0 {
				t.Fatalf("files left: %v", left)
			}
		})
	}
}
