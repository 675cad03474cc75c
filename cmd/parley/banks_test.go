package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/safety/banks"
	"parley/internal/store/sqlite"
)

const (
	cliPDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	cliMD5 = "d41d8cd98f00b204e9800998ecf8427e"
)

// runBanksT runs 'parley banks' with args against the data directory dir.
func runBanksT(t *testing.T, dir, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	if len(args) > 0 {
		args = append([]string{args[0], "-data-dir", dir}, args[1:]...)
	}
	err = runBanks(context.Background(), args, strings.NewReader(stdin), &out, &errw)
	return out.String(), errw.String(), err
}

func mustRunBanks(t *testing.T, dir, stdin string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := runBanksT(t, dir, stdin, args...)
	if err != nil {
		t.Fatalf("parley banks %v: %v\nstderr:\n%s", args, err, errOut)
	}
	return out, errOut
}

func TestBanksCommand(t *testing.T) {
	dir := t.TempDir()
	out, _ := mustRunBanks(t, dir, "", "create", "-name", "csam", "-kind", "block", "-category", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
		"-action", "block_upload", "-keywords", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "-description", "NCMEC and own reports")
	if out != "created block bank csam (id 1)\n" {
		t.Fatalf("create: %q", out)
	}
	mustRunBanks(t, dir, "", "create", "-name", "memes", "-kind", "allow", "-disabled")
	if _, _, err := runBanksT(t, dir, "", "create", "-name", "CSAM", "-kind", "allow"); err == nil || !strings.Contains(err.Error(), "a bank named CSAM exists") {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, _, err := runBanksT(t, dir, "", "create", "-name", "x", "-kind", "block", "-action", "remove"); err == nil || !strings.Contains(err.Error(), "category") {
		t.Fatalf("no category: %v", err)
	}

	// Import from a file, flags after the file name, and from stdin.
	file := filepath.Join(dir, "signals.csv")
	os.WriteFile(file, []byte("collab,signal_type,signal_str,category,tags\nNCMEC,pdq,"+cliPDQ+",TRUE_POSITIVE,csam\nNCMEC,video_md5,"+cliMD5+",TRUE_POSITIVE,\n"), 0o644)
	out, errOut := mustRunBanks(t, dir, "", "import", file, "-bank", "csam", "-format", "threatexchange")
	if !strings.HasPrefix(out, "imported 2 entries into bank csam from 3 lines (changes ") {
		t.Fatalf("import: %q", out)
	}
	if !strings.Contains(errOut, "parley banks import: reading") || !strings.Contains(errOut, "parley banks import: writing") {
		t.Fatalf("no progress lines on stderr:\n%s", errOut)
	}
	out, _ = mustRunBanks(t, dir, "https://t.me/joinchat/AbC\n", "import", "-bank", "csam", "-format", "hma", "-type", "url", "-source", "moderator", "-")
	if !strings.HasPrefix(out, "imported 1 entry") {
		t.Fatalf("stdin import: %q", out)
	}
	out, _ = mustRunBanks(t, dir, "", "import", "-bank", "csam", "-format", "threatexchange", file)
	if !strings.Contains(out, "imported 0 entries into bank csam from 3 lines; 2 already held, ignored") {
		t.Fatalf("import again: %q", out)
	}

	out, _ = mustRunBanks(t, dir, "", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		strings.Join(strings.Fields(lines[1]), " ") != "1 csam block block_upload PROTECTION_OF_MINORS yes 3" ||
		strings.Join(strings.Fields(lines[2]), " ") != "2 memes allow - - no 0" {
		t.Fatalf("list:\n%s", out)
	}

	out, _ = mustRunBanks(t, dir, "", "enable", "memes")
	if out != "bank memes enabled\n" {
		t.Fatalf("enable: %q", out)
	}
	out, _ = mustRunBanks(t, dir, "", "enable", "-bank", "memes")
	if out != "bank memes was already enabled\n" {
		t.Fatalf("enable again: %q", out)
	}
	mustRunBanks(t, dir, "", "disable", "memes")

	// Export to stdout and to a file; the export imports back.
	out, errOut = mustRunBanks(t, dir, "", "export", "-bank", "csam", "-format", "threatexchange")
	// An import is stored in order of type and value (md5 before pdq).
	want := "collab,signal_type,signal_str,category,tags\nNCMEC,video_md5," + cliMD5 + ",TRUE_POSITIVE,\nNCMEC,pdq," + cliPDQ + ",TRUE_POSITIVE,csam\nmoderator,url,t.me/joinchat/abc,TRUE_POSITIVE,\n"
	if out != want || !strings.Contains(errOut, "exported 3 entries of bank csam") {
		t.Fatalf("export:\n%s\nstderr %q", out, errOut)
	}
	exported := filepath.Join(dir, "out", "pdq.csv")
	os.Mkdir(filepath.Dir(exported), 0o755)
	_, errOut = mustRunBanks(t, dir, "", "export", "-bank", "csam", "-format", "hma", "-type", "pdq", "-o", exported)
	if !strings.Contains(errOut, "exported 1 entry of bank csam; 2 entries of other types left out") {
		t.Fatalf("hma export: %q", errOut)
	}
	mustRunBanks(t, dir, "", "create", "-name", "copy", "-kind", "block", "-category", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "-action", "review")
	out, _ = mustRunBanks(t, dir, "", "import", "-bank", "copy", "-format", "hma", "-source", "copy of csam", exported) // type from the file name
	if !strings.HasPrefix(out, "imported 1 entry into bank copy") {
		t.Fatalf("import of the hma export: %q", out)
	}

	// Add and remove single entries.
	out, _ = mustRunBanks(t, dir, "", "add", "-bank", "copy", "-type", "md5", "-source", "moderator", strings.ToUpper(cliMD5))
	if !strings.HasPrefix(out, "added md5 "+cliMD5+" (entry ") {
		t.Fatalf("add: %q", out)
	}
	out, _ = mustRunBanks(t, dir, "", "add", "-bank", "copy", "-type", "md5", "-source", "moderator", cliMD5)
	if !strings.HasPrefix(out, "bank copy already holds md5 "+cliMD5) {
		t.Fatalf("add again: %q", out)
	}
	out, _ = mustRunBanks(t, dir, "", "remove", "-bank", "copy", "-type", "md5", "-reason", "test", cliMD5)
	if !strings.HasPrefix(out, "removed md5 "+cliMD5) {
		t.Fatalf("remove: %q", out)
	}
	if _, _, err := runBanksT(t, dir, "", "remove", "-bank", "copy", "-type", "md5", cliMD5); err == nil || !strings.Contains(err.Error(), "holds no md5") {
		t.Fatalf("remove again: %v", err)
	}

	// Every act is in the audit log as the system, naming the command.
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.ListAuditEntries(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		var d map[string]any
		json.Unmarshal([]byte(e.Details), &d)
		via, _ := d["via"].(string)
		if e.ActorID != 0 || !strings.HasPrefix(via, "parley banks ") {
			t.Fatalf("audit entry %+v does not name the command", e)
		}
		actions = append(actions, e.Action+" by "+via)
	}
	wantActions := []string{
		"bank.created by parley banks create", "bank.created by parley banks create",
		"bank.entries_imported by parley banks import", "bank.entries_imported by parley banks import", "bank.entries_imported by parley banks import",
		"bank.enabled by parley banks enable", "bank.disabled by parley banks disable",
		"bank.exported by parley banks export", "bank.exported by parley banks export",
		"bank.created by parley banks create", "bank.entries_imported by parley banks import",
		"bank.entry_added by parley banks add", "bank.entry_added by parley banks add", "bank.entry_removed by parley banks remove",
	}
	if strings.Join(actions, "\n") != strings.Join(wantActions, "\n") {
		t.Fatalf("audit log:\n%s", strings.Join(actions, "\n"))
	}
}

// TestBanksImportErrors: every bad line on stderr with file, line, column
// and what is wrong; a non-zero exit; nothing imported.
func TestBanksImportErrors(t *testing.T) {
	dir := t.TempDir()
	mustRunBanks(t, dir, "", "create", "-name", "csam", "-kind", "block", "-category", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "-action", "remove")
	file := filepath.Join(dir, "bad.csv")
	os.WriteFile(file, []byte("signal_type,signal_str\npdq,"+cliPDQ+"\npdq,"+cliPDQ[:10]+"\nraw_text,hello\nvideo_md5,"+cliMD5+"\n"), 0o644)
	out, errOut, err := runBanksT(t, dir, "", "import", "-bank", "csam", "-format", "threatexchange", "-source", "x", file)
	if err == nil || !strings.Contains(err.Error(), "2 lines are bad (listed above); nothing was imported") {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{
		"parley banks import: " + file + ": line 3, column 2 (signal_str): pdq \"" + cliPDQ[:10] + "\" has 10 hex digits, want 64\n",
		"parley banks import: " + file + ": line 4, column 1 (signal_type): signal type \"raw_text\" is not supported",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if out != "" {
		t.Errorf("stdout %q", out)
	}
	list, _ := mustRunBanks(t, dir, "", "list")
	if !strings.Contains(list, " 0\n") {
		t.Fatalf("entries were imported:\n%s", list)
	}
	for _, tt := range []struct {
		args []string
		says string
	}{
		{[]string{"import", "-bank", "csam", "-format", "csv", file}, `format "csv" is unknown`},
		{[]string{"import", "-bank", "nope", "-format", "hma", file}, "bank nope not found"},
		{[]string{"import", "-format", "hma", file}, "name the bank with -bank NAME"},
		{[]string{"import", "-bank", "csam", "-format", "hma", "-source", "x", file}, "does not name the signal type"},
		{[]string{"import", "-bank", "csam", "-format", "hma", "-type", "pdq", file}, "source"},
		{[]string{"import", "-bank", "csam", "-format", "threatexchange", filepath.Join(dir, "missing.csv")}, "no such file"},
		{[]string{"import", "-bank", "csam", "-format", "threatexchange"}, "name one FILE"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		if _, _, err := runBanksT(t, dir, "", tt.args...); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%v: %v, want an error saying %q", tt.args, err, tt.says)
		}
	}
}

func TestBanksUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runBanks(context.Background(), []string{"help"}, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "Usage: parley banks <command>") {
		t.Fatalf("help: %v %q", err, out.String())
	}
	if err := runBanks(context.Background(), nil, nil, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "Usage: parley banks") {
		t.Fatalf("no command: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "banks     manage hash banks") {
		t.Fatalf("parley help does not list banks: %q", out.String())
	}
}

// TestProgressBar renders the bar as a terminal shows it: redrawn in place
// at most every 100 ms, a bad line printed on its own line, each phase's
// last bar kept.
func TestProgressBar(t *testing.T) {
	var w bytes.Buffer
	now := time.Unix(0, 0)
	p := &progressPrinter{w: &w, name: "parley banks import", tty: true, size: 1000, now: func() time.Time { return now },
		every: 100 * time.Millisecond}
	p.update(banks.Progress{Phase: banks.PhaseReading, Bytes: 0})
	now = now.Add(50 * time.Millisecond)
	p.update(banks.Progress{Phase: banks.PhaseReading, Bytes: 100, Lines: 10}) // too soon: not drawn
	now = now.Add(100 * time.Millisecond)
	p.update(banks.Progress{Phase: banks.PhaseReading, Bytes: 500, Lines: 50})
	p.println("f.csv: line 51: is not valid UTF-8 text")
	now = now.Add(time.Second)
	p.update(banks.Progress{Phase: banks.PhaseReading, Bytes: 1000, Lines: 100, Entries: 99, Done: true})
	p.update(banks.Progress{Phase: banks.PhaseWriting, Total: 99})
	p.update(banks.Progress{Phase: banks.PhaseWriting, Entries: 99, Total: 99, Done: true})
	p.finish()
	got := w.String()
	want := "\r\x1b[Kreading  [..............................]   0%  0 lines, 0.0 MiB of 0.0 MiB" +
		"\r\x1b[Kreading  [###############...............]  50%  50 lines, 0.0 MiB of 0.0 MiB" +
		"\r\x1b[Kparley banks import: f.csv: line 51: is not valid UTF-8 text\n" +
		"\r\x1b[Kreading  [##############################] 100%  100 lines, 0.0 MiB of 0.0 MiB\n" +
		"\r\x1b[Kwriting  [..............................]   0%  0 of 99 entries" +
		"\r\x1b[Kwriting  [##############################] 100%  99 of 99 entries\n"
	if got != want {
		t.Fatalf("bar:\n%q\nwant\n%q", got, want)
	}
	if thousands(1234567) != "1,234,567" || thousands(999) != "999" || thousands(-1000) != "-1,000" {
		t.Fatal("thousands")
	}
}
