package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/audit"
	"parley/internal/store/sqlite"
)

// TestAuditTamperingIsFound alters the stored audit log the way someone
// with the database file could, and checks that verification names the first
// entry whose link breaks.
func TestAuditTamperingIsFound(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql string
		broken    int64
		reason    string
	}{
		{"altered details", `UPDATE audit_log SET details = '{"to":"admin"}' WHERE id = 3`, 3, "altered"},
		{"altered actor", `UPDATE audit_log SET actor_id = 99 WHERE id = 2`, 2, "altered"},
		{"removed entry", `DELETE FROM audit_log WHERE id = 4`, 5, "missing"},
		{"rehashed entry", `UPDATE audit_log SET hash = X'00' WHERE id = 1`, 1, "altered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i := range 6 {
				e := &parley.AuditEntry{At: time.Unix(1_700_000_000+int64(i), 0), ActorID: 1, Action: "test.act", TargetType: "user", TargetID: "2"}
				if err := db.AppendAudit(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if r, err := audit.Verify(ctx, db.ListAuditEntries); err != nil || !r.Intact {
				t.Fatalf("before tampering: %+v, %v", r, err)
			}
			// The triggers refuse the change through SQL...
			if err := db.ExecForTest(ctx, tc.sql); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("tampering was not refused by the triggers: %v", err)
			}
			// ...so the tamperer drops them first.
			for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`, tc.sql} {
				if err := db.ExecForTest(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			r, err := audit.Verify(ctx, db.ListAuditEntries)
			if err != nil {
				t.Fatal(err)
			}
			if r.Intact || r.FirstBroken != tc.broken || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("report %+v, want first broken link at %d (%s)", r, tc.broken, tc.reason)
			}
		})
	}
}

// TestAuditCheckpointsAreNotTrustedBlindly: after a checkpoint, a change to
// an entry before it is not seen by the incremental verification of the
// audit page (it does not read those entries again) but is found by the
// full walk of 'parley audit verify'; a change to the checkpoint's own
// entry, or to the entries after it, is found by both.
func TestAuditCheckpointsAreNotTrustedBlindly(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql   string
		incremental int64 // the first broken entry the incremental verification names, 0 for none
		full        int64
	}{
		{"before the checkpoint", `UPDATE audit_log SET details = '{"x":1}' WHERE id = 3`, 0, 3},
		{"the checkpoint's entry", `UPDATE audit_log SET details = '{"x":1}' WHERE id = 8`, 8, 8},
		{"after the checkpoint", `UPDATE audit_log SET details = '{"x":1}' WHERE id = 9`, 9, 9},
		{"the chain rehashed from before the checkpoint", "", 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			appendN := func(n int) {
				for i := range n {
					e := &parley.AuditEntry{At: time.Unix(1_700_000_000+int64(i), 0), ActorID: 1, Action: "test.act", TargetType: "user", TargetID: "2"}
					if err := db.AppendAudit(ctx, e); err != nil {
						t.Fatal(err)
					}
				}
			}
			appendN(8)
			l := &audit.Log{Store: db, Clock: parley.SystemClock{}, Every: 4}
			if r, err := l.Verify(ctx); err != nil || !r.Intact || r.Read != 8 {
				t.Fatalf("first verification %+v, %v", r, err)
			}
			appendN(2)
			if err := db.ExecForTest(ctx, `DROP TRIGGER audit_log_no_update`); err != nil {
				t.Fatal(err)
			}
			if tc.sql != "" {
				if err := db.ExecForTest(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
			} else {
				// A careful tamperer changes entry 3 and recomputes every
				// hash after it, so that the chain itself holds.
				if err := db.ExecForTest(ctx, `UPDATE audit_log SET details = '{"x":1}' WHERE id = 3`); err != nil {
					t.Fatal(err)
				}
				entries, err := db.ListAuditEntries(ctx, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				var prev []byte
				for _, e := range entries {
					e.PrevHash = prev
					e.Hash = audit.Hash(prev, e)
					prev = e.Hash
					if err := db.ExecForTest(ctx, fmt.Sprintf(`UPDATE audit_log SET prev_hash = X'%x', hash = X'%x' WHERE id = %d`, e.PrevHash, e.Hash, e.ID)); err != nil {
						t.Fatal(err)
					}
				}
				if r, err := audit.Verify(ctx, db.ListAuditEntries); err != nil || !r.Intact {
					t.Fatalf("the rehashed chain does not hold by itself: %+v, %v", r, err)
				}
			}
			r, err := l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := map[bool]int64{true: 0, false: r.FirstBroken}[r.Intact]; got != tc.incremental || r.Checkpoint != 8 {
				t.Fatalf("incremental verification %+v, want broken at %d (0: intact) from the checkpoint at 8", r, tc.incremental)
			}
			full, err := l.VerifyAll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if full.Intact || full.FirstBroken != tc.full {
				t.Fatalf("full verification %+v, want broken at %d", full, tc.full)
			}
		})
	}
}
