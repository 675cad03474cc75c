package banks_test

import (
	"strings"
	"testing"

	"parley"
	"parley/internal/safety/banks"
)

// A real PDQ hash (the bridge test image of the reference implementation)
// and digests of nothing, used across the tests.
const (
	bridgePDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	emptyMD5  = "d41d8cd98f00b204e9800998ecf8427e"
	emptySHA  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func TestParseValue(t *testing.T) {
	tests := []struct {
		typ       banks.EntryType
		in, want  string
		errSubstr string
	}{
		{banks.TypePDQ, bridgePDQ, bridgePDQ, ""},
		{banks.TypePDQ, strings.ToUpper(bridgePDQ), bridgePDQ, ""},
		{banks.TypePDQ, "  " + bridgePDQ + "\t", bridgePDQ, ""},
		{banks.TypePDQ, bridgePDQ[:63], "", "has 63 hex digits, want 64"},
		{banks.TypePDQ, bridgePDQ + "0", "", "has 65 hex digits, want 64"},
		{banks.TypePDQ, "g" + bridgePDQ[1:], "", `character 1 ('g') is not a hex digit`},
		{banks.TypePDQ, bridgePDQ[:10] + "é" + bridgePDQ[12:], "", `character 11 ('é') is not a hex digit`},
		{banks.TypePDQ, strings.Repeat("0", 64), "", "has 0 of 256 bits set"},
		{banks.TypePDQ, strings.Repeat("f", 64), "", "has 256 of 256 bits set"},
		{banks.TypePDQ, strings.Repeat("0", 48) + strings.Repeat("f", 16), strings.Repeat("0", 48) + strings.Repeat("f", 16), ""}, // 64 bits: the lower bound
		{banks.TypePDQ, strings.Repeat("0", 49) + strings.Repeat("f", 15), "", "has 60 of 256 bits set"},
		{banks.TypePDQ, "", "", "pdq is empty"},
		{banks.TypeMD5, emptyMD5, emptyMD5, ""},
		{banks.TypeMD5, strings.ToUpper(emptyMD5), emptyMD5, ""},
		{banks.TypeMD5, emptyMD5[:31], "", "has 31 hex digits, want 32"},
		{banks.TypeMD5, emptySHA, "", "has 64 hex digits, want 32"},
		{banks.TypeMD5, emptyMD5[:30] + "-1", "", `character 31 ('-') is not a hex digit`},
		{banks.TypeSHA256, emptySHA, emptySHA, ""},
		{banks.TypeSHA256, emptyMD5, "", "has 32 hex digits, want 64"},
		{banks.TypeURL, "HXXPS://www.Evil[.]example:8443/Join/#top", "evil.example/join", ""},
		{banks.TypeURL, "https://t.me/joinchat/AbC", "t.me/joinchat/abc", ""},
		{banks.TypeURL, "t.me/join?next=http://evil.example", "https://t.me/join?next=http://evil.example", ""}, // not every link to evil.example
		{banks.TypeURL, "https://t.me/join?next=http://evil.example", "https://t.me/join?next=http://evil.example", ""},
		{banks.TypeURL, "example", "", "at least two labels"},
		{banks.TypeURL, "evil.example/a b", "", `contains ' ', which ends a link`},
		{banks.TypeURL, "evil.example/a\"b", "", `contains '"', which ends a link`},
		{banks.TypeDomain, "*.Evil(dot)example.", "evil.example", ""},
		{banks.TypeDomain, "evil.example/path", "", "has a path"},
		{banks.TypeDomain, "", "", "is empty"},
		{"sha1", "x", "", `entry type "sha1" is unknown`},
	}
	for _, tt := range tests {
		got, err := banks.ParseValue(tt.typ, tt.in)
		if tt.errSubstr == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseValue(%s, %q) = %q, %v; want %q", tt.typ, tt.in, got, err, tt.want)
			}
			continue
		}
		if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), tt.errSubstr) {
			t.Errorf("ParseValue(%s, %q) = %q, %v; want EInvalid saying %q", tt.typ, tt.in, got, err, tt.errSubstr)
		}
	}
}

func TestParseSignalType(t *testing.T) {
	for in, want := range map[string]banks.EntryType{
		"pdq": banks.TypePDQ, "video_md5": banks.TypeMD5, "photo_md5": banks.TypeMD5, "md5": banks.TypeMD5,
		"video_sha256": banks.TypeSHA256, "sha256": banks.TypeSHA256, "url": banks.TypeURL, "domain": banks.TypeDomain,
	} {
		if got, err := banks.ParseSignalType(in); err != nil || got != want {
			t.Errorf("ParseSignalType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"raw_text", "url_md5", "trend_query", "video_tmk_pdqf", "PDQ", ""} {
		if _, err := banks.ParseSignalType(in); parley.ErrorCode(err) != parley.EInvalid {
			t.Errorf("ParseSignalType(%q): %v, want EInvalid", in, err)
		}
	}
}

func TestCreateBankValidation(t *testing.T) {
	e := setup(t)
	ok := banks.Bank{Name: "ok", Kind: banks.KindBlock, Category: "STATEMENT_CATEGORY_VIOLENCE", Action: banks.ActionRemove}
	tests := []struct {
		name  string
		edit  func(b *banks.Bank)
		field string
		says  string
	}{
		{"no name", func(b *banks.Bank) { b.Name = "" }, "name", "is required"},
		{"space in name", func(b *banks.Bank) { b.Name = "my bank" }, "name", "character 3 (' ')"},
		{"leading dash", func(b *banks.Bank) { b.Name = "-x" }, "name", "starting with a letter or digit"},
		{"long name", func(b *banks.Bank) { b.Name = strings.Repeat("n", 65) }, "name", "the limit is 64"},
		{"no kind", func(b *banks.Bank) { b.Kind = "" }, "kind", "is required"},
		{"odd kind", func(b *banks.Bank) { b.Kind = "deny" }, "kind", `"deny" is unknown`},
		{"no category", func(b *banks.Bank) { b.Category = "" }, "category", "is required for a block bank"},
		{"odd category", func(b *banks.Bank) { b.Category = "STATEMENT_CATEGORY_SPAM" }, "category", "is not a DSA statement category"},
		{"no action", func(b *banks.Bank) { b.Action = "" }, "action", "is required for a block bank"},
		{"odd action", func(b *banks.Bank) { b.Action = "block" }, "action", `"block" is unknown`},
		{"label without text", func(b *banks.Bank) { b.Action = banks.ActionLabel }, "label", "is required when the action is label"},
		{"text without label", func(b *banks.Bank) { b.Label = "x" }, "label", "is only for the label action"},
		{"allow with action", func(b *banks.Bank) { b.Kind = banks.KindAllow }, "action", "an allow bank takes no action"},
		{"odd keyword", func(b *banks.Bank) { b.Keywords = []string{"KEYWORD_SPAM"} }, "keywords[0]", "is not a DSA category specification"},
		{"repeated keyword", func(b *banks.Bank) { b.Keywords = []string{"KEYWORD_HATE_SPEECH", "KEYWORD_HATE_SPEECH"} }, "keywords[1]", "listed twice"},
	}
	for _, tt := range tests {
		b := ok
		tt.edit(&b)
		_, err := e.svc.CreateBank(t.Context(), e.mod, b)
		if parley.ErrorCode(err) != parley.EInvalid || parley.ErrorField(err) != tt.field || !strings.Contains(parley.ErrorMessage(err), tt.says) {
			t.Errorf("%s: %v (field %q), want EInvalid on %s saying %q", tt.name, err, parley.ErrorField(err), tt.field, tt.says)
		}
	}
	if list, _ := e.svc.Banks(t.Context(), e.mod); len(list) != 0 {
		t.Fatalf("refused banks were stored: %v", list)
	}
	if _, err := e.svc.CreateBank(t.Context(), e.mod, ok); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateBank(t.Context(), e.mod, banks.Bank{Name: "OK", Kind: banks.KindAllow})
	wantCode(t, err, parley.EConflict)
}
