package rules

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"parley"
)

// normalizeSeeds are inputs that exercise each step of the policy; the fuzz
// targets start from them.
var normalizeSeeds = []string{
	"", " ", "fraud", "FRÁUD", "ＦＲＡＵＤ", "fr\u200baud", "frаud", "fr4ud", "fr@ud", "$cam", "US$",
	"@alice", "wow!", "k|ll", "ki11", "Straße ẞ", "ΗΕΛΛΟ ς", "ϲoin Ϲ", "🇫🇷🇦🇺🇩", "한국어", "हिन्दी", "ﬁ 𝐟𝐫𝐞𝐞 ①",
	"a\u0301\u200b\u0301", "\xff\xfe", "e\u200b\u0301", "1 2 3 4 5", "a5$@!|0", "\u3164\u115f\u2800",
	"x\u00adx", "\ufe0fok", "İstanbul ı", "ǅ ǈ ǋ", "ᾼ ῌ", "\u0345", "ꭰꭱ Ꭰ", "ﾞﾟ", "\u0e33", "ㄱㅏ",
}

// FuzzNormalize checks that Normalize never panics, always returns valid
// UTF-8 without leading, trailing or doubled spaces, is idempotent, and that
// its three implementations agree: the ASCII fast path, the general path
// and the reference, written from the policy with tables of its own, that
// decomposes the whole text with NFKD first.
func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q, not valid UTF-8", s, n)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q: whitespace not collapsed", s, n)
		}
		if nn := Normalize(n); nn != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize(%q) = %q", s, n, n, nn)
		}
		var tmp []byte
		if slow := string(appendNormalizedUnicode(nil, s, &tmp)); slow != n {
			t.Fatalf("paths disagree on %q: %q (fast) vs %q (general)", s, n, slow)
		}
		if ref := string(appendNormalizedReference(nil, s, &tmp)); ref != n {
			t.Fatalf("Normalize(%q) = %q, but the reference gives %q", s, n, ref)
		}
		c := string(appendClean(nil, s, &tmp))
		if !utf8.ValidString(c) {
			t.Fatalf("clean view of %q = %q, not valid UTF-8", s, c)
		}
	})
}

// FuzzCompileRule checks that compiling a rule built from arbitrary strings
// never panics, that every refusal is an *parley.Error with code EInvalid,
// and that a rule that compiles can screen arbitrary text.
func FuzzCompileRule(f *testing.F) {
	f.Add("r1", "fraud", `\bscam\b`, "evil.example", "t.me/x", `account_age_days < 7`, "block", "enforce", "text fraud evil.example")
	f.Add("r 2", "", "(", "evil", "::", `account_age_days +`, "nope", "maybe", "")
	f.Add("r3", "\u200b", "a{1001}", "*.evil[.]example", "hxxps://evil(.)example/a?b", `chat_kind == 1`, "label", "shadow", "x")
	f.Add("r4", "ab", `(?i)\pL{600}`, "http://x.example/p", "x.example", `1/0 == 1`, "hold", "enforce", "x.example/p ab")
	f.Fuzz(func(t *testing.T, id, kw, re, domain, url, cond, action, mode, text string) {
		r := Rule{ID: id, Version: 1, Action: Action(action), Mode: Mode(mode), Label: "l", Condition: cond}
		if kw != "" {
			r.Keywords = []string{kw}
		}
		if re != "" {
			r.Regexps = []string{re}
		}
		if domain != "" {
			r.Domains = []string{domain}
		}
		if url != "" {
			r.URLs = []string{url}
		}
		rs, err := Compile([]Rule{r})
		if err != nil {
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Code != parley.EInvalid || pe.Message == "" {
				t.Fatalf("Compile error %#v is not an EInvalid *parley.Error", err)
			}
			return
		}
		rs.Screen(text, Context{AccountAgeDays: 1, ChatKind: "channel"})
	})
}
