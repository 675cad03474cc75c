package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
	"parley/internal/sor/sortest"
	"parley/internal/store/sqlite"
)

// seedActions writes n removals with statements into a fresh data
// directory, as the server would, and returns the directory.
func seedActions(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := &parley.User{Username: "author", Role: parley.RoleMember}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := &parley.Chat{Kind: parley.ChatChannel, Handle: "spamchan", Title: "Spam", OwnerID: u.ID}
	if err := db.CreateChat(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	svc := &enforce.Service{Store: db, Clock: parley.SystemClock{}, Namespace: "parley"}
	mod := &parley.User{ID: 99, Role: parley.RoleModerator}
	for i := 0; i < n; i++ {
		if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: fmt.Sprint("spam ", i)}); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Apply(ctx, mod, enforce.Request{Kind: enforce.RemoveMessage,
			Target: enforce.Target{Type: enforce.TargetMessage, ChatID: c.ID, Seq: int64(i + 1)},
			Grounds: enforce.Grounds{Ground: sor.GroundIncompatibleContent, TermsGround: "Section 4.3 (spam) of the Parley Terms of Service",
				Category: sor.CategoryScamsAndFraud, Source: sor.SourceVoluntary, Automation: sor.NotAutomated}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSORExportBatches(t *testing.T) {
	dir := seedActions(t, 205)
	today := time.Now().UTC().Format("2006-01-02")
	var out, errw bytes.Buffer
	if err := runSOR(context.Background(), []string{"export", "-data-dir", dir, "-since", today}, &out, &errw); err != nil {
		t.Fatalf("export: %v (%s)", err, errw.String())
	}
	var sizes []int
	puids := map[string]bool{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var body struct{ Statements []sor.Statement }
		if err := json.Unmarshal(sc.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if err := sor.CheckSubmission(body.Statements); err != nil {
			t.Fatalf("batch %d fails the database's rules: %v", len(sizes), err)
		}
		if strings.Contains(sc.Text(), "author") {
			t.Fatal("an export names the account")
		}
		for _, s := range body.Statements {
			if puids[s.PUID] {
				t.Fatalf("puid %s exported twice", s.PUID)
			}
			puids[s.PUID] = true
		}
		sizes = append(sizes, len(body.Statements))
	}
	if fmt.Sprint(sizes) != "[100 100 5]" {
		t.Fatalf("batch sizes %v, want [100 100 5]", sizes)
	}
	// An earlier range holds nothing.
	out.Reset()
	if err := runSOR(context.Background(), []string{"export", "-data-dir", dir, "-since", "2025-01-01", "-until", "2025-01-31"}, &out, &errw); err != nil || out.Len() != 0 {
		t.Fatalf("export of January 2025 = %q, %v", out.String(), err)
	}
}

func TestSORExportSubmits(t *testing.T) {
	dir := seedActions(t, 3)
	srv := sortest.Start(t, "secret-token")
	today := time.Now().UTC().Format("2006-01-02")
	var out, errw bytes.Buffer
	args := []string{"export", "-data-dir", dir, "-since", today, "-submit", "-endpoint", srv.URL, "-token", "secret-token"}
	if err := runSOR(context.Background(), args, &out, &errw); err != nil {
		t.Fatalf("submit: %v (%s %s)", err, out.String(), errw.String())
	}
	if !strings.Contains(out.String(), "3 accepted") || len(srv.Stored()) != 3 {
		t.Fatalf("submit said %q; the database holds %d", out.String(), len(srv.Stored()))
	}
	// Again: the database has them already, and nothing is stored twice.
	out.Reset()
	if err := runSOR(context.Background(), args, &out, &errw); err != nil || !strings.Contains(out.String(), "3 already there") {
		t.Fatalf("second submit said %q, %v", out.String(), err)
	}
	// A wrong token is a clear failure.
	bad := append([]string(nil), args...)
	bad[len(bad)-1] = "wrong"
	if err := runSOR(context.Background(), bad, &out, &errw); err == nil {
		t.Fatal("a submission with a wrong token succeeded")
	}
}

func TestSORExportUsage(t *testing.T) {
	// -submit without -endpoint and -token must not find them here.
	t.Setenv("PARLEY_TDB_ENDPOINT", "")
	t.Setenv("PARLEY_TDB_TOKEN", "")
	var out, errw bytes.Buffer
	for _, tt := range []struct {
		args []string
		says string
	}{
		{nil, "name a subcommand"},
		{[]string{"import"}, "name a subcommand"},
		{[]string{"export"}, "-since is required"},
		{[]string{"export", "-since", "yesterday"}, `-since "yesterday" is not a date`},
		{[]string{"export", "-since", "2026-02-01", "-until", "2026-01-01"}, "-until is before -since"},
		{[]string{"export", "-since", "2026-01-01", "-submit"}, "-submit needs -endpoint and -token"},
		{[]string{"export", "-since", "2026-01-01", "extra"}, `unexpected argument "extra"`},
	} {
		if err := runSOR(context.Background(), tt.args, &out, &errw); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("parley sor %v: %v, want an error saying %q", tt.args, err, tt.says)
		}
	}
}
