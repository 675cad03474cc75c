package banks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"parley"
	"parley/internal/safety/banks"
)

// importString imports text into bank b as the command line.
func (e *env) importString(t testing.TB, b *banks.Bank, text string, opts banks.ImportOptions) (*banks.ImportReport, error) {
	t.Helper()
	return e.svc.Import(t.Context(), e.cli, b.ID, strings.NewReader(text), opts)
}

func (e *env) entries(t testing.TB, b *banks.Bank) []*banks.Entry {
	t.Helper()
	var all []*banks.Entry
	for after := int64(0); ; {
		page, err := e.svc.Entries(t.Context(), e.mod, b.ID, after, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
}

// teFile is a threatexchange-format file as `threatexchange dataset -P
// --csv` writes it.
const teFile = "collab,signal_type,signal_str,category,tags\r\n" +
	"Sample Data,pdq," + bridgePDQ + ",TRUE_POSITIVE,media_priority_samples media_type_photo\r\n" +
	"Sample Data,video_md5," + emptyMD5 + ",TRUE_POSITIVE,\r\n" +
	"ThreatExchange privacy group 123,url,https://t.me/joinchat/AbC,POSITIVE_CLASS,phishing\r\n" +
	"\"Group, with comma\",video_sha256," + emptySHA + ",,\r\n"

func TestImportThreatExchange(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionBlockUpload)
	rep, err := e.importString(t, b, teFile, banks.ImportOptions{Format: banks.FormatThreatExchange, Name: "collab.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lines != 5 || rep.Entries != 4 || rep.Added != 4 || rep.Duplicates != 0 || rep.BadLines != 0 ||
		rep.LastChange-rep.FirstChange != 3 || rep.Bytes != int64(len(teFile)) {
		t.Fatalf("report %+v", rep)
	}
	got := e.entries(t, b)
	type short struct {
		Type          banks.EntryType
		Value, Source string
		Tags          []string
		AddedBy       int64
	}
	var s []short
	for _, en := range got {
		s = append(s, short{en.Type, en.Value, en.Source, en.Tags, en.AddedBy})
	}
	// In order of type and value, not of the file (docs/banks.md).
	want := []short{
		{banks.TypeMD5, emptyMD5, "Sample Data", nil, 0},
		{banks.TypePDQ, bridgePDQ, "Sample Data", []string{"media_priority_samples", "media_type_photo"}, 0},
		{banks.TypeSHA256, emptySHA, "Group, with comma", nil, 0},
		{banks.TypeURL, "t.me/joinchat/abc", "ThreatExchange privacy group 123", []string{"phishing"}, 0},
	}
	if g, w := fmt.Sprint(s), fmt.Sprint(want); g != w {
		t.Fatalf("entries\n got %s\nwant %s", g, w)
	}
	// The import is in the audit log, by the system, naming the command.
	audit, err := e.db.ListAuditEntries(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := audit[len(audit)-1]
	var d map[string]any
	json.Unmarshal([]byte(last.Details), &d)
	if last.Action != banks.AuditEntriesImported || last.ActorID != 0 || d["via"] != "parley banks test" || d["file"] != "collab.csv" ||
		d["format"] != "threatexchange" || d["added"] != float64(4) || d["lines"] != float64(5) || !last.At.Equal(t0) {
		t.Fatalf("audit entry %+v", last)
	}

	// The same file again changes nothing.
	before := e.changes(t)
	rep, err = e.importString(t, b, teFile, banks.ImportOptions{Format: banks.FormatThreatExchange})
	if err != nil || rep.Added != 0 || rep.Duplicates != 4 || rep.FirstChange != 0 {
		t.Fatalf("second import: %+v, %v", rep, err)
	}
	if after := e.changes(t); after != before {
		t.Fatalf("change log grew from %d to %d", before, after)
	}
	if n := len(e.entries(t, b)); n != 4 {
		t.Fatalf("%d entries after importing again", n)
	}
}

func (e *env) changes(t testing.TB) int64 {
	t.Helper()
	n, err := e.db.LastBankChange(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportReportsEveryBadLine: one file with many kinds of mistake. Every
// bad line is reported with its line, column and what is wrong, and
// nothing is imported, though most lines are good.
func TestImportReportsEveryBadLine(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionRemove)
	lines := []string{
		"collab,signal_type,signal_str,category,tags",
		"S,pdq," + bridgePDQ + ",TRUE_POSITIVE,a",                      // 2 good
		"S,pdq," + bridgePDQ[:60] + ",TRUE_POSITIVE,a",                 // 3
		"S,raw_text,hello,TRUE_POSITIVE,",                              // 4
		"S,video_md5," + emptyMD5 + ",FALSE_POSITIVE,",                 // 5
		"S,video_md5," + emptyMD5 + ",WORTH_INVESTIGATING,",            // 6
		"S,video_md5," + emptyMD5 + ",MAYBE,",                          // 7
		"S,video_md5," + emptyMD5 + ",TRUE_POSITIVE",                   // 8: four fields
		"S,url,\"t.me/x,TRUE_POSITIVE,",                                // 9: open quote
		"S,url,t.me/x\"y,TRUE_POSITIVE,",                               // 10: bare quote
		",url,t.me/x,TRUE_POSITIVE,",                                   // 11: no source
		"S,domain,evil.example/path,TRUE_POSITIVE,",                    // 12
		"S,pdq," + strings.Repeat("0", 64) + ",TRUE_POSITIVE,",         // 13: blank image
		"S,url,t.me/ok,TRUE_POSITIVE,bad\x01tag",                       // 14
		"",                                                             // 15: blank, skipped
		"S,video_sha256," + emptySHA + ",TRUE_POSITIVE,ok",             // 16 good
		"S,url,t.me/" + strings.Repeat("x", 20000) + ",TRUE_POSITIVE,", // 17: too long
		"S,video_md5,\xff\xfe,TRUE_POSITIVE,",                          // 18: not UTF-8
		"S,video_md5," + emptyMD5 + ",\"TRUE_POSITIVE\"x,",             // 19: text after quote
	}
	var seen []banks.LineError
	rep, err := e.importString(t, b, strings.Join(lines, "\n"), banks.ImportOptions{Format: banks.FormatThreatExchange,
		OnError: func(le banks.LineError) { seen = append(seen, le) }})
	wantErrorContains(t, err, parley.EInvalid, "15 lines are bad (the first: line 3, column 3 (signal_str):", "nothing was imported")
	want := []string{
		"line 3, column 3 (signal_str): pdq \"" + bridgePDQ[:60] + "\" has 60 hex digits, want 64",
		"line 4, column 2 (signal_type): signal type \"raw_text\" is not supported",
		"line 5, column 4 (category): is FALSE_POSITIVE: a known false positive belongs in an allow bank, not in block bank csam",
		"line 6, column 4 (category): is WORTH_INVESTIGATING: banks hold confirmed signals only",
		"line 7, column 4 (category): \"MAYBE\" is not an opinion category",
		"line 8, column 5: the line has 4 fields, the header 5",
		"line 9, column 3: a quoted field has no closing quote",
		"line 10, column 3: a quote appears inside an unquoted field",
		"line 11, column 1 (collab): is empty and the import names no source",
		"line 12, column 3 (signal_str): domain \"evil.example/path\" has a path",
		"line 13, column 3 (signal_str): pdq hash 0000000000000000000000000000000000000000000000000000000000000000 has 0 of 256 bits set",
		"line 14, column 5 (tags): \"bad\\x01tag\" contains a control character",
		"line 17: is longer than 16384 bytes",
		"line 18: is not valid UTF-8 text",
		"line 19, column 4: a quoted field is followed by 'x' instead of a comma",
	}
	var got []string
	for _, le := range rep.Errors {
		got = append(got, le.String())
	}
	if rep.BadLines != int64(len(want)) || len(got) != len(want) || len(seen) != len(want) {
		t.Fatalf("%d bad lines reported (%d to OnError), want %d:\n%s", rep.BadLines, len(seen), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("report %d:\n got %s\nwant %s…", i, got[i], w)
		}
	}
	if rep.Lines != 19 || rep.Entries != 2 {
		t.Fatalf("lines %d, good entries %d; want 19 and 2", rep.Lines, rep.Entries)
	}
	if n := len(e.entries(t, b)); n != 0 || e.changes(t) != 1 {
		t.Fatalf("%d entries and %d changes after a refused import", n, e.changes(t))
	}
}

func TestImportHMA(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "te-samples", banks.ActionReview)
	// As in hasher-matcher-actioner's sample_data/pdq.csv: no header.
	file := bridgePDQ + ",2880742865368386,2020-07-31T18:47:52+0000,media_priority_pdq_samples disputed media_type_photo\n" +
		strings.Replace(bridgePDQ, "d8", "08", 1) + ",3085240538237227\n" +
		strings.Replace(bridgePDQ, "d8", "18", 1) + "\n"
	_, err := e.importString(t, b, file, banks.ImportOptions{Format: banks.FormatHMA, Source: "ThreatExchange samples"})
	wantErrorContains(t, err, parley.EInvalid, "does not name the signal type")
	_, err = e.importString(t, b, file, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ})
	wantErrorContains(t, err, parley.EInvalid, "is required with the hma format")
	if parley.ErrorField(err) != "source" {
		t.Fatalf("field %q, want source", parley.ErrorField(err))
	}
	rep, err := e.importString(t, b, file, banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "ThreatExchange samples"})
	if err != nil || rep.Added != 3 {
		t.Fatalf("%+v, %v", rep, err)
	}
	// The entries are stored in order of value (08…, 18…, d8…), not of
	// the file: an import is written sorted (docs/banks.md).
	got := e.entries(t, b)
	if got[2].ExternalID != "2880742865368386" || !slices.Equal(got[2].Tags, []string{"media_priority_pdq_samples", "disputed", "media_type_photo"}) ||
		got[2].Source != "ThreatExchange samples" || got[0].ExternalID != "3085240538237227" || got[1].ExternalID != "" ||
		got[0].Value[:2] != "08" || got[1].Value[:2] != "18" || got[2].Value != bridgePDQ {
		t.Fatalf("entries %+v %+v %+v", got[0], got[1], got[2])
	}
	rep, err = e.importString(t, b, bridgePDQ+",1,yesterday\n"+bridgePDQ+",1,2,3,4\n", banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "x"})
	wantCode(t, err, parley.EInvalid)
	if len(rep.Errors) != 2 || !strings.Contains(rep.Errors[0].String(), `line 1, column 3 (added_on): "yesterday" is not a time`) ||
		!strings.Contains(rep.Errors[1].String(), "line 2, column 5: the line has 5 fields") {
		t.Fatalf("errors %v", rep.Errors)
	}
}

func TestImportPDQ(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "curated", banks.ActionBlockUpload)
	other := strings.Replace(bridgePDQ, "d8", "08", 1)
	file := bridgePDQ + ",100,photos/a, b.jpg\n" + other + ",,c.jpg\n"
	rep, err := e.importString(t, b, file, banks.ImportOptions{Format: banks.FormatPDQ, Source: "moderator"})
	if err != nil || rep.Added != 2 {
		t.Fatalf("%+v, %v", rep, err)
	}
	got := e.entries(t, b) // in order of value: 08…, d8…
	if got[1].Quality != 100 || got[1].Note != "photos/a, b.jpg" || got[0].Quality != 0 || got[0].Note != "c.jpg" {
		t.Fatalf("entries %+v %+v", got[0], got[1])
	}
	rep, err = e.importString(t, b, bridgePDQ+",49,x.jpg\n"+bridgePDQ+",101,y.jpg\n"+bridgePDQ+"\n", banks.ImportOptions{Format: banks.FormatPDQ, Source: "moderator"})
	wantCode(t, err, parley.EInvalid)
	var msgs []string
	for _, le := range rep.Errors {
		msgs = append(msgs, le.String())
	}
	if len(msgs) != 3 || !strings.Contains(msgs[0], "line 1, column 2 (quality): 49 is below 50") ||
		!strings.Contains(msgs[1], `"101" is not a quality`) || !strings.Contains(msgs[2], "line 3, column 2 (quality): is missing") {
		t.Fatalf("errors:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestImportCategoriesFollowTheBankKind(t *testing.T) {
	e := setup(t)
	allow := e.allowBank(t, "known-fp")
	file := "signal_type,signal_str,category\nvideo_md5," + emptyMD5 + ",FALSE_POSITIVE\nvideo_md5," + emptySHA[:32] + ",NEGATIVE_CLASS\n"
	if rep, err := e.importString(t, allow, file, banks.ImportOptions{Format: banks.FormatThreatExchange, Source: "moderator"}); err != nil || rep.Added != 2 {
		t.Fatalf("%+v, %v", rep, err)
	}
	rep, err := e.importString(t, allow, "signal_type,signal_str,category\nvideo_md5,"+emptyMD5+",TRUE_POSITIVE\n", banks.ImportOptions{Format: banks.FormatThreatExchange, Source: "moderator"})
	wantCode(t, err, parley.EInvalid)
	if !strings.Contains(rep.Errors[0].Message, "allow bank known-fp holds known false positives only") {
		t.Fatalf("errors %v", rep.Errors)
	}
}

func TestImportHeaderProblems(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionRemove)
	for _, tt := range []struct{ file, says string }{
		{"", "line 1: the file is empty"},
		{"\n\n", "line 1: the file is empty"},
		{"collab,signal_type,hash\nS,pdq," + bridgePDQ + "\n", `line 1, column 3 (hash): is not a column of the threatexchange format`},
		{"signal_type,signal_type,signal_str\n", "line 1, column 2 (signal_type): appears twice"},
		{"collab,signal_type\n", "line 1, column 1 (signal_str): is missing from the header"},
		{"\uFEFFcollab,signal_type,signal_str,category,tags\nS,pdq," + bridgePDQ + ",,\n", ""},
	} {
		rep, err := e.importString(t, b, tt.file, banks.ImportOptions{Format: banks.FormatThreatExchange})
		if tt.says == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.file, err)
			}
			continue
		}
		wantCode(t, err, parley.EInvalid)
		if len(rep.Errors) != 1 || !strings.HasPrefix(rep.Errors[0].String(), tt.says) {
			t.Errorf("%q: errors %v, want one starting %q", tt.file, rep.Errors, tt.says)
		}
	}
}

// TestImportLimits: the limits on entries and on reported errors, and
// OnError seeing every bad line.
func TestImportLimits(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionRemove)
	var buf bytes.Buffer
	buf.WriteString("signal_type,signal_str\n")
	for i := range 1500 {
		fmt.Fprintf(&buf, "video_md5,%031x\n", i) // 31 digits: every line bad
	}
	calls := 0
	rep, err := e.svc.Import(t.Context(), e.cli, b.ID, bytes.NewReader(buf.Bytes()), banks.ImportOptions{Format: banks.FormatThreatExchange,
		Source: "x", OnError: func(banks.LineError) { calls++ }})
	wantErrorContains(t, err, parley.EInvalid, "1500 lines are bad")
	if rep.BadLines != 1500 || len(rep.Errors) != banks.MaxReportedErrors || calls != 1500 {
		t.Fatalf("bad %d, listed %d, OnError %d", rep.BadLines, len(rep.Errors), calls)
	}

	buf.Reset()
	buf.WriteString("signal_type,signal_str\n")
	for i := range 11 {
		fmt.Fprintf(&buf, "video_md5,%032x\n", i)
	}
	_, err = e.svc.Import(t.Context(), e.cli, b.ID, &buf, banks.ImportOptions{Format: banks.FormatThreatExchange, Source: "x", MaxEntries: 10})
	wantErrorContains(t, err, parley.ETooLarge, "line 12: the import has more than 10 entries")
	if n := len(e.entries(t, b)); n != 0 {
		t.Fatalf("%d entries stored", n)
	}
}

func TestImportProgress(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionRemove)
	var buf bytes.Buffer
	buf.WriteString("signal_type,signal_str\n")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		fmt.Fprintf(&buf, "pdq,%s\n", randomPDQ(rng))
	}
	size := int64(buf.Len())
	var ps []banks.Progress
	rep, err := e.svc.Import(t.Context(), e.cli, b.ID, &buf, banks.ImportOptions{Format: banks.FormatThreatExchange, Source: "x",
		Progress: func(p banks.Progress) { ps = append(ps, p) }})
	if err != nil || rep.Added != 20_000 {
		t.Fatalf("%+v, %v", rep, err)
	}
	var reading, writing []banks.Progress
	for _, p := range ps {
		if p.Phase == banks.PhaseReading {
			reading = append(reading, p)
		} else {
			writing = append(writing, p)
		}
	}
	if len(reading) < 3 || len(writing) < 2 {
		t.Fatalf("%d reading and %d writing reports", len(reading), len(writing))
	}
	for i := 1; i < len(reading); i++ {
		if reading[i].Bytes < reading[i-1].Bytes || reading[i].Lines < reading[i-1].Lines {
			t.Fatalf("progress went back: %+v after %+v", reading[i], reading[i-1])
		}
	}
	if last := reading[len(reading)-1]; !last.Done || last.Bytes != size || last.Lines != 20_001 || last.Entries != 20_000 {
		t.Fatalf("last reading report %+v (size %d)", last, size)
	}
	if last := writing[len(writing)-1]; !last.Done || last.Entries != 20_000 || last.Total != 20_000 {
		t.Fatalf("last writing report %+v", last)
	}
	if reading[len(reading)-1] != ps[len(reading)-1] {
		t.Fatal("writing reports came before reading was done")
	}
}

// TestExportRoundTrip: for each format, a bank exported and imported into
// an empty bank gives the same entries as far as the format holds them, and
// exporting that bank gives the same lines (in the order of the copy).
func TestExportRoundTrip(t *testing.T) {
	e := setup(t)
	src := e.blockBank(t, "source", banks.ActionRemove)
	rng := rand.New(rand.NewPCG(3, 4))
	var file strings.Builder
	file.WriteString("collab,signal_type,signal_str,category,tags\n")
	for i := range 50 {
		fmt.Fprintf(&file, "\"Group %d, NCMEC\",pdq,%s,TRUE_POSITIVE,t%d media_type_photo\n", i%3, randomPDQ(rng), i)
	}
	file.WriteString("S,video_md5," + emptyMD5 + ",TRUE_POSITIVE,\nS,url,\"https://evil.example/r?u=http://x.example\",TRUE_POSITIVE,x\nS,domain,evil.example,TRUE_POSITIVE,\n")
	if _, err := e.importString(t, src, file.String(), banks.ImportOptions{Format: banks.FormatThreatExchange}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Import(t.Context(), e.cli, src.ID, strings.NewReader(bridgePDQ+",93,file, with comma.jpg\n"),
		banks.ImportOptions{Format: banks.FormatPDQ, Source: "moderator"}); err != nil {
		t.Fatal(err)
	}
	en, _, err := e.svc.AddEntry(t.Context(), e.mod, src.ID, banks.Entry{Type: banks.TypePDQ, Value: strings.Replace(bridgePDQ, "d8", "08", 1),
		Source: "NCMEC", ExternalID: "ncmec-77", Tags: []string{"a", "b"}, Quality: 80})
	if err != nil {
		t.Fatal(err)
	}
	_ = en
	for _, tt := range []struct {
		format banks.Format
		typ    banks.EntryType
		// fields compares what the format holds of an entry.
		fields func(e *banks.Entry) string
	}{
		{banks.FormatThreatExchange, "", func(e *banks.Entry) string { return fmt.Sprint(e.Type, e.Value, e.Source, e.Tags) }},
		{banks.FormatHMA, banks.TypePDQ, func(e *banks.Entry) string { return fmt.Sprint(e.Type, e.Value, e.ExternalID, e.Tags) }},
		{banks.FormatPDQ, "", func(e *banks.Entry) string { return fmt.Sprint(e.Type, e.Value, e.Quality, e.Note) }},
	} {
		t.Run(string(tt.format), func(t *testing.T) {
			var out bytes.Buffer
			rep, err := e.svc.Export(t.Context(), e.mod, src.ID, &out, banks.ExportOptions{Format: tt.format, Type: tt.typ})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, x := range e.entries(t, src) {
				if tt.format == banks.FormatThreatExchange || x.Type == banks.TypePDQ {
					want = append(want, tt.fields(x))
				}
			}
			if rep.Entries != int64(len(want)) || rep.Entries+rep.Skipped != int64(len(e.entries(t, src))) {
				t.Fatalf("export report %+v, want %d entries", rep, len(want))
			}
			dst := e.blockBank(t, "copy-"+string(tt.format), banks.ActionRemove)
			opts := banks.ImportOptions{Format: tt.format, Type: tt.typ}
			if tt.format != banks.FormatThreatExchange {
				opts.Source = "copy"
			}
			if _, err := e.svc.Import(t.Context(), e.cli, dst.ID, bytes.NewReader(out.Bytes()), opts); err != nil {
				t.Fatalf("re-import: %v\n%s", err, out.String())
			}
			var got []string
			for _, x := range e.entries(t, dst) {
				got = append(got, tt.fields(x))
			}
			// An import is stored in order of type and value, so the
			// copy holds the same entries in another order.
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("after the round trip\n got %q\nwant %q", got, want)
			}
			if tt.format == banks.FormatHMA {
				return // the added_on column is when the entry entered the bank
			}
			var again bytes.Buffer
			if _, err := e.svc.Export(t.Context(), e.mod, dst.ID, &again, banks.ExportOptions{Format: tt.format, Type: tt.typ}); err != nil {
				t.Fatal(err)
			}
			if tt.format == banks.FormatThreatExchange || tt.format == banks.FormatPDQ {
				if sortedLines(again.String()) != sortedLines(out.String()) {
					t.Fatalf("second export differs:\n%s\nfirst:\n%s", again.String(), out.String())
				}
			}
		})
	}
	// The hma format needs a type; exports are in the audit log.
	_, err = e.svc.Export(t.Context(), e.mod, src.ID, &bytes.Buffer{}, banks.ExportOptions{Format: banks.FormatHMA})
	wantErrorContains(t, err, parley.EInvalid, "one signal type per file")
	audit, _ := e.db.ListAuditEntries(t.Context(), 0, 1000)
	exports := 0
	for _, a := range audit {
		if a.Action == banks.AuditBankExported {
			exports++
		}
	}
	if exports != 5 {
		t.Fatalf("%d exports in the audit log, want 5", exports)
	}
}

// sortedLines is the lines of a file, sorted (the header too, if any).
func sortedLines(file string) string {
	lines := strings.Split(strings.TrimSuffix(file, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
