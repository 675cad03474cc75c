package banks

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"parley"
)

// The fuzz targets' seed corpus is in testdata/fuzz; these are added too.
const (
	seedPDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	seedMD5 = "d41d8cd98f00b204e9800998ecf8427e"
)

var importSeeds = []struct {
	format uint8
	data   string
}{
	{0, "collab,signal_type,signal_str,category,tags\nS,pdq," + seedPDQ + ",TRUE_POSITIVE,a b\n\"G, x\",video_md5," + seedMD5 + ",,\n"},
	{0, "signal_str,signal_type\n" + seedPDQ + ",pdq\r\nhttps://t.me/x,url\n*.evil(dot)example,domain\n"},
	{0, "collab,signal_type,signal_str,category,tags\nS,raw_text,x,FALSE_POSITIVE,\n\"open,pdq\n"},
	{1, seedPDQ + ",2880742865368386,2020-07-31T18:47:52+0000,media_type_photo disputed\n" + seedPDQ[:63] + "\n"},
	{2, seedPDQ + ",100,a, b.jpg\n" + seedPDQ + ",49,x\n"},
	{0, "\uFEFFsignal_type,signal_str\npdq," + strings.Repeat("0", 64) + "\n"},
}

var fuzzFormats = []Format{FormatThreatExchange, FormatHMA, FormatPDQ}

// FuzzImport feeds arbitrary input to the import reader in each format. It
// checks that reading never panics, that every bad line is reported with a
// line number within the input, that the entries it accepts are valid and
// canonical, and that when no line is bad, writing those entries in the
// threatexchange format and reading them back gives the same entries.
func FuzzImport(f *testing.F) {
	for _, s := range importSeeds {
		f.Add(s.format, s.data)
	}
	bank := &Bank{Name: "fuzz", Kind: KindBlock, Action: ActionRemove, Category: "STATEMENT_CATEGORY_VIOLENCE"}
	f.Fuzz(func(t *testing.T, format uint8, data string) {
		opts := ImportOptions{Format: fuzzFormats[int(format)%len(fuzzFormats)], Source: "fuzz", MaxLineBytes: 512, MaxEntries: 1000}
		if opts.Format == FormatHMA {
			opts.Type = EntryTypes[int(format/3)%len(EntryTypes)]
		}
		var got []Entry
		rep, err := readImport(context.Background(), strings.NewReader(data), bank, opts, func(e *Entry) error {
			got = append(got, *e)
			got[len(got)-1].Tags = slices.Clone(e.Tags)
			return nil
		})
		if err != nil {
			if c := parley.ErrorCode(err); c != parley.ETooLarge {
				t.Fatalf("readImport failed with %v (%s)", err, c)
			}
			return
		}
		for _, le := range rep.Errors {
			if le.Line < 1 || le.Line > max(rep.Lines, 1) || le.Message == "" || le.Column < 0 {
				t.Fatalf("bad report %+v (of %d lines)", le, rep.Lines)
			}
		}
		if rep.BadLines > 0 {
			if len(rep.Errors) == 0 {
				t.Fatal("bad lines without reports")
			}
			return
		}
		if rep.Bytes != int64(len(data)) {
			t.Fatalf("read %d bytes of %d", rep.Bytes, len(data))
		}
		if int64(len(got)) != rep.Entries {
			t.Fatalf("%d entries emitted, report says %d", len(got), rep.Entries)
		}
		for i := range got {
			if err := checkEntry(&got[i]); err != nil {
				t.Fatalf("accepted an invalid entry %+v: %v", got[i], err)
			}
		}
		// Round trip through the threatexchange format.
		var out bytes.Buffer
		ew, err := newEntryWriter(&out, FormatThreatExchange, bank, "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if _, err := ew.write(&got[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := ew.flush(); err != nil {
			t.Fatal(err)
		}
		var back []Entry
		rep2, err := readImport(context.Background(), &out, bank, ImportOptions{Format: FormatThreatExchange, Source: "fuzz", MaxEntries: 1000},
			func(e *Entry) error {
				back = append(back, *e)
				back[len(back)-1].Tags = slices.Clone(e.Tags)
				return nil
			})
		if err != nil || rep2.BadLines > 0 {
			t.Fatalf("re-reading the export: %v %v\n%s", err, rep2.Errors, out.String())
		}
		if len(back) != len(got) {
			t.Fatalf("%d entries back of %d", len(back), len(got))
		}
		for i := range got {
			a, b := got[i], back[i]
			if a.Type != b.Type || a.Value != b.Value || a.Source != b.Source || !slices.Equal(a.Tags, b.Tags) {
				t.Fatalf("entry %d changed in the round trip:\n%+v\n%+v", i, a, b)
			}
		}
	})
}

// FuzzParseValue checks that ParseValue never panics, refuses only with
// EInvalid, and that what it accepts is canonical: parsing it again gives
// it back, and hashes are lower-case hex of the right length.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{seedPDQ, strings.ToUpper(seedMD5), " " + seedMD5, "HXXPS://www.Evil[.]example:8443/Join/#top",
		"*.evil(dot)example.", "evil.example/a[(.)]b", "t.me/x?u=http://y.example", strings.Repeat("0", 64), "é"} {
		for i := range EntryTypes {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, s string) {
		et := EntryTypes[int(typ)%len(EntryTypes)]
		v, err := ParseValue(et, s)
		if err != nil {
			if parley.ErrorCode(err) != parley.EInvalid || parley.ErrorMessage(err) == "" {
				t.Fatalf("ParseValue(%s, %q): %v", et, s, err)
			}
			return
		}
		again, err := ParseValue(et, v)
		if err != nil || again != v {
			t.Fatalf("ParseValue(%s, %q) = %q, but that parses as %q, %v", et, s, v, again, err)
		}
		switch et {
		case TypePDQ, TypeSHA256, TypeMD5:
			want := map[EntryType]int{TypePDQ: 64, TypeSHA256: 64, TypeMD5: 32}[et]
			if len(v) != want || strings.ToLower(v) != v {
				t.Fatalf("%s value %q", et, v)
			}
		}
		if strings.ContainsAny(v, " \t\r\n\",") && et != TypeURL {
			t.Fatalf("%s value %q holds a separator", et, v)
		}
	})
}

// FuzzSplitCSV checks the line splitter against encoding/csv: fields it
// returns, written by encoding/csv, split back into the same fields; and a
// line encoding/csv reads as one record without a quote problem splits the
// same way.
func FuzzSplitCSV(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `"a,b",c`, `"a ""q"" b",`, `a"b`, `"open`, `"x"y`, ",,", ` "a"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") {
			return // lines never hold line breaks
		}
		fields, fe := splitCSV([]byte(line), nil)
		if fe != nil {
			if fe.column < 1 || fe.msg == "" {
				t.Fatalf("error %+v", fe)
			}
			return
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(fields)
		w.Flush()
		again, fe := splitCSV(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil)
		if fe != nil || !slices.Equal(again, fields) {
			t.Fatalf("%q splits as %q; written back as %q it splits as %q (%v)", line, fields, buf.String(), again, fe)
		}
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		rec, err := r.Read()
		if err == nil && line != "" && !slices.Equal(rec, fields) {
			t.Fatalf("%q: encoding/csv reads %q, splitCSV %q", line, rec, fields)
		}
	})
}

// checkEntry checks an entry's type, value (which must already be
// canonical) and provenance.
func checkEntry(e *Entry) error {
	v, err := ParseValue(e.Type, e.Value) // refuses an unknown type too
	if err != nil {
		return err
	}
	if v != e.Value {
		return parley.FieldError("value", "%s %q is not in canonical form (%q)", e.Type, clip(e.Value), v)
	}
	return checkProvenance(e)
}
