package sqlite_test

import (
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
