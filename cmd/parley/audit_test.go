package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"parley"
	"parley/internal/store/sqlite"
)

func TestAuditVerifyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := db.AppendAudit(ctx, &parley.AuditEntry{ActorID: 1, Action: "test.act", TargetType: "user", TargetID: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	var out, errOut bytes.Buffer
	if err := runAudit(ctx, []string{"verify", "-data-dir", dir}, &out, &errOut); err != nil {
		t.Fatalf("verify: %v\n%s", err, errOut.String())
	}
	if got := out.String(); got != "audit log intact: 3 entries\n" {
		t.Fatalf("output %q", got)
	}
	if err := runAudit(ctx, nil, &out, &errOut); err == nil {
		t.Fatal("no subcommand: want an error")
	}
	if err := runAudit(ctx, []string{"verify", "-data-dir", dir, "-log-level", "loud"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "log-level") {
		t.Fatalf("bad flag value: %v", err)
	}
}
