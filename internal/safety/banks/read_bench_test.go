package banks

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkReadImport measures reading and checking an import, without
// storing it: ns per line of HMA's sample-data shape.
func BenchmarkReadImport(b *testing.B) {
	var buf bytes.Buffer
	rng := rand.New(rand.NewPCG(1, 1))
	const lines = 100_000
	for i := range lines {
		var h [32]byte
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		fmt.Fprintf(&buf, "%x,%d,2020-07-31T18:47:52+0000,media_priority_samples media_type_photo\n", h, 2880742865368386+i)
	}
	bank := &Bank{Name: "b", Kind: KindBlock}
	opts := ImportOptions{Format: FormatHMA, Type: TypePDQ, Source: "bench"}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		rep, err := readImport(context.Background(), bytes.NewReader(buf.Bytes()), bank, opts, func(*Entry) error { return nil })
		if err != nil || rep.Entries != lines {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
}
