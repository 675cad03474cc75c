package pdq

import (
	"encoding/csv"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

const testdataDir = "../../testdata/pdq"

type refRow struct {
	file    string
	hash    Hash
	quality int
}

func loadExpected(t testing.TB) []refRow {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []refRow
	for i, r := range recs {
		if i == 0 {
			continue // header
		}
		h, err := ParseHash(r[1])
		if err != nil {
			t.Fatalf("expected.csv line %d: %v", i+1, err)
		}
		q, err := strconv.Atoi(r[2])
		if err != nil {
			t.Fatalf("expected.csv line %d: %v", i+1, err)
		}
		rows = append(rows, refRow{r[0], h, q})
	}
	if len(rows) < 29 {
		t.Fatalf("expected.csv has %d rows", len(rows))
	}
	return rows
}

func decodeFile(t testing.TB, name string) image.Image {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(data, DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

// TestReferenceCSV is the reference's compatibility rule: for every image of
// quality ≥ 80 in expected.csv (printed by Meta's C++ pdq-photo-hasher), our
// hash is within Hamming distance 10 and our quality is ≥ 80 too; low-detail
// images get a low quality.
func TestReferenceCSV(t *testing.T) {
	maxD, sumD, n := 0, 0, 0
	for _, r := range loadExpected(t) {
		h, q, err := HashFile(filepath.Join(testdataDir, r.file))
		if err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		d := Distance(h, r.hash)
		t.Logf("%-26s distance %3d  quality %3d (reference %3d)", r.file, d, q, r.quality)
		if r.quality >= 80 {
			n++
			sumD += d
			maxD = max(maxD, d)
			if d > 10 {
				t.Errorf("%s: distance %d to the reference hash (limit 10)\n got %s\nwant %s", r.file, d, h, r.hash)
			}
			if q < 80 {
				t.Errorf("%s: quality %d, reference %d", r.file, q, r.quality)
			}
		} else if q >= 50 {
			t.Errorf("%s: low-detail image (reference quality %d) got quality %d, want < 50", r.file, r.quality, q)
		}
	}
	t.Logf("%d images of quality ≥ 80: max distance %d, mean %.2f", n, maxD, float64(sumD)/float64(n))
}
