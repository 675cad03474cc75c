package sqlite_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/internal/safety/banks"
)

func bankAct(action string) banks.Act {
	return banks.Act{Actor: banks.SystemActor("test", ""), At: time.Unix(1_700_000_000, 0), Action: action}
}

// TestBankChangeLogIsAppendOnly: the change log every matcher rebuilds
// from refuses updates and deletes, like the audit log.
func TestBankChangeLogIsAppendOnly(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	b := &banks.Bank{Name: "a", Kind: banks.KindAllow}
	if err := db.CreateBank(ctx, b, bankAct(banks.AuditBankCreated)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE bank_changes SET op = 'remove'`, `DELETE FROM bank_changes`} {
		if err := db.ExecForTest(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want a refusal", q, err)
		}
	}
}

// TestBankImportRestoresCache: the larger page cache of an import is
// given back after it, whether it succeeded or failed, and a failed import
// leaves the writer usable.
func TestBankImportRestoresCache(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	before, err := db.WriterCacheSizeForTest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := &banks.Bank{Name: "a", Kind: banks.KindAllow}
	if err := db.CreateBank(ctx, b, bankAct(banks.AuditBankCreated)); err != nil {
		t.Fatal(err)
	}
	entries := func(fail bool) func(func(*banks.Entry, error) bool) {
		return func(yield func(*banks.Entry, error) bool) {
			for i := range 250 {
				if !yield(&banks.Entry{Type: banks.TypeMD5, Value: fmt.Sprintf("%032x", i), Source: "t"}, nil) {
					return
				}
			}
			if fail {
				yield(nil, errors.New("bad input"))
			}
		}
	}
	if _, err := db.AddBankEntries(ctx, b.ID, entries(true), bankAct(banks.AuditEntriesImported)); err == nil {
		t.Fatal("the failing import succeeded")
	}
	if after, err := db.WriterCacheSizeForTest(ctx); err != nil || after != before {
		t.Fatalf("cache_size %d after a failed import, %d before (%v)", after, before, err)
	}
	o, err := db.AddBankEntries(ctx, b.ID, entries(false), bankAct(banks.AuditEntriesImported))
	if err != nil || o.Added != 250 {
		t.Fatalf("%+v, %v", o, err)
	}
	if after, err := db.WriterCacheSizeForTest(ctx); err != nil || after != before {
		t.Fatalf("cache_size %d after an import, %d before (%v)", after, before, err)
	}
}
