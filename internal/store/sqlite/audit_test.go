package sqlite_test

import (
	"context"
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
