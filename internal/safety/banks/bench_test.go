package banks_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"parley/internal/pdq"
	"parley/internal/safety/banks"
)

// Benchmarks, with the numbers in docs/benchmarks.md ("Hash banks"):
//
//	go test ./internal/safety/banks -run '^$' -bench . -benchtime 1x
//
// BenchmarkImport imports BANKS_IMPORT_N (default 1,000,000) PDQ hashes
// from an hma file into an empty bank on a fresh SQLite file; the matcher
// benchmarks query banks of 1,000,000 entries.

// cpuTime is the CPU time the process has used, user and system: on a
// shared machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func importSize() int {
	if n, err := strconv.Atoi(os.Getenv("BANKS_IMPORT_N")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// writeHMAFile writes n random PDQ hashes in the hma format, with a
// descriptor id and tags as in HMA's sample data.
func writeHMAFile(tb testing.TB, n int, seed uint64) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "pdq.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range n {
		fmt.Fprintf(w, "%s,%d,2020-07-31T18:47:52+0000,media_priority_samples media_type_photo\n", randomPDQ(rng), 2880742865368386+i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

func BenchmarkImport(b *testing.B) {
	n := importSize()
	path := writeHMAFile(b, n, 1)
	st, _ := os.Stat(path)
	for b.Loop() {
		b.StopTimer()
		e := setup(b)
		bank := e.blockBank(b, "big", banks.ActionBlockUpload)
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var readDone time.Time
		start, cpu0 := time.Now(), cpuTime()
		b.StartTimer()
		rep, err := e.svc.Import(b.Context(), e.cli, bank.ID, f, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "bench",
			Progress: func(p banks.Progress) {
				if p.Phase == banks.PhaseReading && p.Done {
					readDone = time.Now()
				}
			}})
		b.StopTimer()
		total, cpu := time.Since(start), cpuTime()-cpu0
		f.Close()
		if err != nil || rep.Added != int64(n) {
			b.Fatalf("%+v, %v", rep, err)
		}
		b.ReportMetric(readDone.Sub(start).Seconds(), "read-s")
		b.ReportMetric(total.Seconds()-readDone.Sub(start).Seconds(), "write-s")
		b.ReportMetric(float64(n)/total.Seconds(), "entries/s")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
		dbSize := int64(0)
		if fi, err := os.Stat(e.dbPath); err == nil {
			dbSize = fi.Size()
		}
		if fi, err := os.Stat(e.dbPath + "-wal"); err == nil {
			dbSize += fi.Size()
		}
		b.ReportMetric(float64(dbSize)/(1<<20), "db-MiB")

		// Loading a matcher from that bank.
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		m := e.matcher(b)
		b.ReportMetric(time.Since(t0).Seconds(), "load-s")
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "matcher-MiB")
		runtime.KeepAlive(m)

		// The same file again: every entry is a duplicate.
		f, err = os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		rep, err = e.svc.Import(b.Context(), e.cli, bank.ID, f, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "bench"})
		f.Close()
		if err != nil || rep.Added != 0 || rep.Duplicates != int64(n) {
			b.Fatalf("re-import: %+v, %v", rep, err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "reimport-s")
		b.StartTimer()
	}
}

// matcherWith returns a matcher over one bank of n random PDQ hashes, n
// MD5s and 10,000 domains, and the stored hashes.
func matcherWith(b *testing.B, n int) (*banks.Matcher, []pdq.Hash) {
	e := setup(b)
	bank := e.blockBank(b, "big", banks.ActionBlockUpload)
	path := writeHMAFile(b, n, 2)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := e.svc.Import(b.Context(), e.cli, bank.ID, f, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "bench"}); err != nil {
		b.Fatal(err)
	}
	md5Path := filepath.Join(b.TempDir(), "md5.csv")
	mf, _ := os.Create(md5Path)
	w := bufio.NewWriter(mf)
	for i := range n {
		fmt.Fprintf(w, "%032x\n", uint64(i)*0x9e3779b97f4a7c15)
	}
	w.Flush()
	mf.Seek(0, 0)
	if _, err := e.svc.Import(b.Context(), e.cli, bank.ID, mf, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeMD5, Source: "bench"}); err != nil {
		b.Fatal(err)
	}
	mf.Close()
	df, _ := os.Create(filepath.Join(b.TempDir(), "domains.csv"))
	w = bufio.NewWriter(df)
	for i := range 10_000 {
		fmt.Fprintf(w, "scam%d.example\n", i)
	}
	w.Flush()
	df.Seek(0, 0)
	if _, err := e.svc.Import(b.Context(), e.cli, bank.ID, df, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeDomain, Source: "bench"}); err != nil {
		b.Fatal(err)
	}
	df.Close()
	var stored []pdq.Hash
	for _, en := range e.entries(b, bank)[:1000] {
		h, _ := pdq.ParseHash(en.Value)
		stored = append(stored, h)
	}
	return e.matcher(b), stored
}

func BenchmarkMatchMedia(b *testing.B) {
	m, stored := matcherWith(b, importSize())
	rng := rand.New(rand.NewPCG(9, 9))
	var near, far []banks.Media
	for i := range 1000 {
		near = append(near, banks.Media{PDQ: []pdq.Hash{flip(rng, stored[i], 12)}, PDQQuality: 100, MD5: fmt.Sprintf("%032x", i), SHA256: emptySHA})
		far = append(far, banks.Media{PDQ: []pdq.Hash{randomPDQ(rng)}, PDQQuality: 100, MD5: emptyMD5, SHA256: emptySHA})
	}
	b.Run("one-hash-match", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if r := m.MatchMedia(near[i%len(near)]); len(r.Matches) == 0 {
				b.Fatal("no match")
			}
			i++
		}
	})
	b.Run("one-hash-no-match", func(b *testing.B) {
		i := 0
		for b.Loop() {
			m.MatchMedia(far[i%len(far)])
			i++
		}
	})
	b.Run("dihedral-8-no-match", func(b *testing.B) {
		var md []banks.Media
		for range 100 {
			var hs []pdq.Hash
			for range 8 {
				hs = append(hs, randomPDQ(rng))
			}
			md = append(md, banks.Media{PDQ: hs, PDQQuality: 100, MD5: emptyMD5})
		}
		i := 0
		for b.Loop() {
			m.MatchMedia(md[i%len(md)])
			i++
		}
	})
	b.Run("text-200-bytes", func(b *testing.B) {
		text := "Big giveaway today only! Join https://t.me/joinchat/AAAA and visit scam123.example/claim or www.fine.example, reply here. No fees, limited places, act now before it is gone."
		for b.Loop() {
			if r := m.MatchText(text); len(r.Matches) != 1 {
				b.Fatalf("%+v", r)
			}
		}
	})
}
