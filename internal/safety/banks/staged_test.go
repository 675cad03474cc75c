package banks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"parley/internal/safety/banks"
)

// md5File is an hma file of n distinct md5 values, from start.
func md5File(start, n int) string {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%032x\n", start+i)
	}
	return b.String()
}

// TestImportIsInvisibleUntilTheEnd: while an import is written, batch by
// batch, other writes go through between the batches (here, entries added
// to another bank, which waited for the whole import when it was one
// transaction), and a reader (the entry list, a lookup, a matcher brought
// up to date) sees the bank as it was; at the end every entry is there at
// once. The progress callback of each batch is the synchronisation point.
func TestImportIsInvisibleUntilTheEnd(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionBlockUpload)
	other := e.blockBank(t, "other", banks.ActionBlockUpload)
	old := e.add(t, b, banks.TypeMD5, fmt.Sprintf("%032x", 1_000_000))
	m := e.matcher(t)
	n := 2*banks.ImportBatch + 10
	file := md5File(0, n)
	batches := 0
	rep, err := e.importString(t, b, file, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeMD5, Source: "x",
		Progress: func(p banks.Progress) {
			if p.Phase != banks.PhaseWriting || p.Entries == 0 || p.Done {
				return
			}
			batches++
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, _, err := e.svc.AddEntry(ctx, e.mod, other.ID, banks.Entry{Type: banks.TypeMD5, Value: fmt.Sprintf("%032x", 2_000_000+batches)}); err != nil {
				t.Errorf("after batch %d: adding an entry to another bank: %v", batches, err)
			}
			if _, err := m.Refresh(context.Background()); err != nil {
				t.Error(err)
			}
			if r := m.MatchMedia(banks.Media{MD5: fmt.Sprintf("%032x", 5)}); len(r.Matches) != 0 {
				t.Errorf("after batch %d: an entry of the import matches", batches)
			}
			if r := m.MatchMedia(banks.Media{MD5: old.Value}); len(r.Matches) != 1 {
				t.Errorf("after batch %d: the entry held before does not match", batches)
			}
			if got := e.entries(t, b); len(got) != 1 || got[0].ID != old.ID {
				t.Errorf("after batch %d: %d entries listed, want the 1 held before", batches, len(got))
			}
			if bb, _ := e.svc.Bank(context.Background(), e.mod, b.ID); bb.Entries != 1 {
				t.Errorf("after batch %d: the bank counts %d entries", batches, bb.Entries)
			}
		}})
	if err != nil || rep.Added != int64(n) {
		t.Fatalf("%+v, %v", rep, err)
	}
	if batches != 3 {
		t.Fatalf("%d batches of %d entries, want 3", batches, n)
	}
	if _, err := m.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := m.MatchMedia(banks.Media{MD5: fmt.Sprintf("%032x", 5)}); len(r.Matches) != 1 {
		t.Fatalf("after the import: %d matches, want 1", len(r.Matches))
	}
	if got := e.entries(t, b); len(got) != n+1 {
		t.Fatalf("%d entries after the import, want %d", len(got), n+1)
	}
}

// TestImportFailingHalfWayLeavesNothing: an import that ends part-way
// through writing (here cancelled after its first batch) leaves no entry,
// change, audit entry or import behind, and the next import of the bank
// goes through.
func TestImportFailingHalfWayLeavesNothing(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionBlockUpload)
	changes := e.changes(t)
	audits, err := e.db.ListAuditEntries(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 3 * banks.ImportBatch
	written := int64(0)
	_, err = e.svc.Import(ctx, e.cli, b.ID, bytes.NewReader([]byte(md5File(0, n))), banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeMD5, Source: "x",
		Progress: func(p banks.Progress) {
			if p.Phase == banks.PhaseWriting && p.Entries > 0 {
				written = p.Entries
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || written != int64(banks.ImportBatch) {
		t.Fatalf("error %v after %d entries written; want the cancellation after one batch", err, written)
	}
	if got := e.entries(t, b); len(got) != 0 {
		t.Fatalf("%d entries after a failed import", len(got))
	}
	if c := e.changes(t); c != changes {
		t.Fatalf("change log moved from %d to %d", changes, c)
	}
	if after, _ := e.db.ListAuditEntries(t.Context(), 0, 1000); len(after) != len(audits) {
		t.Fatalf("audit log grew from %d to %d", len(audits), len(after))
	}
	if imps, err := e.db.ListBankImports(t.Context()); err != nil || len(imps) != 0 {
		t.Fatalf("imports left: %+v, %v", imps, err)
	}
	rep, err := e.importString(t, b, md5File(0, n), banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeMD5, Source: "x"})
	if err != nil || rep.Added != int64(n) {
		t.Fatalf("the next import: %+v, %v", rep, err)
	}
}

// TestCleanImports: the entries of an import whose process died are
// deleted at the next import or clean-up, and only those: an import of a
// process that runs is left alone until it has written nothing for
// ImportStaleAfter.
func TestCleanImports(t *testing.T) {
	e := setup(t)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	// A process that has ended: its id names no process now.
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Skipf("no process to end: %v", err)
	}
	deadOwner := host + ":" + strconv.Itoa(done.Process.Pid)
	liveOwner := host + ":" + strconv.Itoa(os.Getppid())
	rng := rand.New(rand.NewPCG(1, 2))
	staged := map[string]*banks.Bank{}
	for _, owner := range []string{deadOwner, liveOwner, "elsewhere:42", host + ":" + strconv.Itoa(os.Getpid())} {
		b := e.blockBank(t, fmt.Sprintf("bank-%d", len(staged)), banks.ActionRemove)
		imp := &banks.Import{BankID: b.ID, Owner: owner, StartedAt: e.clock.Now(), Total: 1}
		if err := e.db.BeginBankImport(t.Context(), imp); err != nil {
			t.Fatal(err)
		}
		h := randomPDQ(rng)
		if _, _, err := e.db.WriteBankImport(t.Context(), imp.ID, []*banks.Entry{{Type: banks.TypePDQ, Value: h.String(), Source: "x"}}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		staged[owner] = b
	}
	left := func() map[string]bool {
		imps, err := e.db.ListBankImports(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, imp := range imps {
			out[imp.Owner] = true
		}
		return out
	}
	// The dead process's import, and one of this process's that no
	// Import here is writing, go at once; the live process's and the
	// other host's stay.
	n, err := e.svc.CleanImports(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("cleaned %d, %v; want 2", n, err)
	}
	if got := left(); len(got) != 2 || !got[liveOwner] || !got["elsewhere:42"] {
		t.Fatalf("imports left: %v", got)
	}
	// Quiet for longer than ImportStaleAfter: abandoned, whoever wrote it.
	e.clock.advance(banks.ImportStaleAfter + time.Second)
	if _, err := e.importString(t, staged[liveOwner], pdqLine(rng), banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) != 0 {
		t.Fatalf("imports left after an import: %v", got)
	}
	for _, b := range staged {
		if got := e.entries(t, b); len(got) > 1 {
			t.Fatalf("bank %s holds %d entries", b.Name, len(got))
		}
	}
}

func pdqLine(rng *rand.Rand) string { return randomPDQ(rng).String() + "\n" }
