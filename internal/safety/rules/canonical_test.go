package rules

import (
	"slices"
	"strings"
	"testing"

	"parley"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://t.me/scamchannel", "t.me/scamchannel"},
		{"HXXPS://www.Evil[.]example:8443/Join/#top", "evil.example/join"},
		{"http://user@evil.example/a?b=1", "evil.example/a?b=1"},
		{"evil.example", "evil.example"},
		{"evil.example/", "evil.example"},
		{"evil.example?x=1", "evil.example?x=1"},
		{"  t.me/x  ", "t.me/x"},
		{"www.www.x.example/p", "www.www.x.example/p"}, // one "www." is stripped when read, so two stay two
		{"https://evil.example/r?u=http://x.example", "https://evil.example/r?u=http://x.example"},
		{"evil.example/r?u=http://x.example", "https://evil.example/r?u=http://x.example"}, // the "://" of a query is no scheme
		{"evil.example?next=hxxp://x.example", "https://evil.example?next=hxxp://x.example"},
		{"t.me/go#x://y", "t.me/go"}, // nor is that of a fragment, which goes
		{"ｅｖｉｌ．ｅｘａｍｐｌｅ/Ｐ", "evil.example/p"},
		{"203.0.113.9/x", "203.0.113.9/x"},
	}
	for _, tt := range tests {
		got, err := CanonicalURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCanonicalDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"evil.example", "evil.example"},
		{"*.Evil(dot)example.", "evil.example"},
		{"https://www.worse.example/", "worse.example"},
		{"evil [.] example", "evil.example"},
		{"mail.evil.example:25", "mail.evil.example"},
	}
	for _, tt := range tests {
		got, err := CanonicalDomain(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCanonicalRefusals(t *testing.T) {
	for _, tt := range []struct {
		in       string
		withPath bool
		want     string
	}{
		{"", true, "is empty"},
		{"example", true, "at least two labels"},
		{"evil.example/path", false, "has a path"},
		{"evil!.example", false, "is not a host name"},
		{"x." + strings.Repeat("a", 2100) + ".example", true, "longer than"},
		{"evil.example/a[(.)]b", true, "ambiguous"},
		{"3.14", false, "not a valid host name"},
		{"evil.example?u=https://x.example", false, "has a path"}, // not x.example
	} {
		var err error
		if tt.withPath {
			_, err = CanonicalURL(tt.in)
		} else {
			_, err = CanonicalDomain(tt.in)
		}
		if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want EInvalid containing %q", tt.in, err, tt.want)
		}
	}
}

// linkTexts are posts that exercise the link finder: disguises, ports,
// paths, several links, look-alike hosts.
var linkTexts = []string{
	"", "no links here", "visit evil.example now", "https://evil.example/join?x=1#top",
	"http://mail.evil.example:8080/", "evil[.]example and t.me/scamchannel/123",
	"T.ME/ScamChannel?start=1", "(see evil.example.)", "wait...evil.example",
	"раураl.example", "paypa1.example/login", "write to me@evil.example", "203.0.113.9/x",
	"www.www.x.example/p www.x.example/p", "evil.example/r?u=http://x.example",
	"notevil.example evil.examples", "a.b.c.evil.example/path, t.me/other",
	"t.me/go?next=https://evil.example/x", "https://t.me/go?next=https://evil.example/x&utm=1", "https://evil.example/x",
}

// linkEntries are entries as staff or feeds write them.
var linkEntries = struct{ urls, domains []string }{
	urls: []string{"https://t.me/scamchannel", "HXXPS://www.Evil[.]example:8443/Join/#top",
		"www.www.x.example/p", "https://evil.example/r?u=http://x.example", "paypal.example/login", "203.0.113.9/x",
		"t.me/go?next=https://evil.example/x"},
	domains: []string{"evil.example", "*.mail(dot)evil.example.", "раураl.example", "x.example"},
}

// TestCanonicalMatchesLikeOriginal checks the promise of the canonical form:
// a rule listing the canonical texts matches exactly what the rule listing
// the entries as written matches, and canonicalising again changes nothing.
func TestCanonicalMatchesLikeOriginal(t *testing.T) {
	orig := Rule{ID: "orig", Version: 1, URLs: linkEntries.urls, Domains: linkEntries.domains, Action: ActionBlock, Mode: ModeEnforce}
	canon := orig
	canon.ID, canon.URLs, canon.Domains = "canon", nil, nil
	for _, u := range linkEntries.urls {
		c, err := CanonicalURL(u)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := CanonicalURL(c); again != c {
			t.Errorf("CanonicalURL not idempotent: %q → %q → %q", u, c, again)
		}
		canon.URLs = append(canon.URLs, c)
	}
	for _, d := range linkEntries.domains {
		c, err := CanonicalDomain(d)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := CanonicalDomain(c); again != c {
			t.Errorf("CanonicalDomain not idempotent: %q → %q → %q", d, c, again)
		}
		canon.Domains = append(canon.Domains, c)
	}
	// One rule per entry, so the test sees every entry that matches, not
	// only the first of each rule.
	perEntry := func(r Rule) *RuleSet {
		var rs []Rule
		for i, u := range r.URLs {
			rs = append(rs, Rule{ID: "u" + itoa(i), Version: 1, URLs: []string{u}, Action: ActionBlock, Mode: ModeEnforce})
		}
		for i, d := range r.Domains {
			rs = append(rs, Rule{ID: "d" + itoa(i), Version: 1, Domains: []string{d}, Action: ActionBlock, Mode: ModeEnforce})
		}
		return mustCompile(t, rs...)
	}
	a, b := perEntry(orig), perEntry(canon)
	for _, text := range linkTexts {
		if ga, gb := matchedIDs(a.Screen(text, Context{})), matchedIDs(b.Screen(text, Context{})); !slices.Equal(ga, gb) {
			t.Errorf("%q: entries as written match %v, canonical %v", text, ga, gb)
		}
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"nothing", nil},
		{"HTTPS://Evil[.]example:8080/join?x=1#top", []string{"evil.example/join?x=1"}},
		{"see a.example, then b.example/x.", []string{"a.example", "b.example/x"}},
		{"wait...evil.example", []string{"evil.example"}},
		{"3.14 and v1.2.3", nil},
	}
	for _, tt := range tests {
		if got := Links(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Links(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// checkLinksAgree fails unless the link matches of text are exactly the
// union of the matches of each of its Links screened alone.
func checkLinksAgree(t *testing.T, rs *RuleSet, text string) {
	t.Helper()
	whole := matchedIDs(rs.Screen(text, Context{}))
	var union []string
	for _, l := range Links(text) {
		for _, id := range matchedIDs(rs.Screen(l, Context{})) {
			if !slices.Contains(union, id) {
				union = append(union, id)
			}
		}
	}
	slices.Sort(whole)
	slices.Sort(union)
	if !slices.Equal(whole, union) {
		t.Fatalf("%q matches %v, its links %q one by one %v", text, whole, Links(text), union)
	}
}

func linkRuleSet(t testing.TB) *RuleSet {
	var rs []Rule
	for i, u := range linkEntries.urls {
		rs = append(rs, Rule{ID: "u" + itoa(i), Version: 1, URLs: []string{u}, Action: ActionBlock, Mode: ModeEnforce})
	}
	for i, d := range linkEntries.domains {
		rs = append(rs, Rule{ID: "d" + itoa(i), Version: 1, Domains: []string{d}, Action: ActionBlock, Mode: ModeEnforce})
	}
	return mustCompile(t, rs...)
}

func TestLinksAgreeWithScreen(t *testing.T) {
	rs := linkRuleSet(t)
	for _, text := range linkTexts {
		checkLinksAgree(t, rs, text)
	}
}

// FuzzCanonicalLink checks that the canonical forms never panic, refuse
// only with EInvalid, are idempotent and compile; and that a text's link
// matches are the union of its links' matches.
func FuzzCanonicalLink(f *testing.F) {
	for _, s := range append(append(append([]string{}, linkEntries.urls...), linkEntries.domains...), linkTexts...) {
		f.Add(s)
	}
	f.Add("evil.example/a[(.)]b")
	f.Add("www.www.www.x.example")
	f.Add("example.com/r?u=https://evil.test/x")
	f.Add("example.com?u=https://evil.test")
	rs := linkRuleSet(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, withPath := range []bool{true, false} {
			c, err := canonicalLink(s, withPath)
			if err != nil {
				if parley.ErrorCode(err) != parley.EInvalid {
					t.Fatalf("canonicalLink(%q, %v): %v is not EInvalid", s, withPath, err)
				}
				continue
			}
			again, err := canonicalLink(c, withPath)
			if err != nil || again != c {
				t.Fatalf("not idempotent: %q → %q → %q, %v", s, c, again, err)
			}
			r := Rule{ID: "r", Version: 1, Action: ActionBlock, Mode: ModeEnforce}
			if withPath {
				r.URLs = []string{c}
			} else {
				r.Domains = []string{c}
			}
			if _, err := Compile([]Rule{r}); err != nil {
				t.Fatalf("canonical %q of %q does not compile: %v", c, s, err)
			}
			a, _ := parseLinkEntry(s, withPath)
			b, _ := parseLinkEntry(c, withPath)
			if a != b {
				t.Fatalf("%q reads as %+v, its canonical %q as %+v", s, a, c, b)
			}
		}
		checkLinksAgree(t, rs, s)
	})
}

// TestURLEntryWithSchemeInItsQuery: a URLs entry whose query holds another
// URL ("example.com/r?u=https://evil.test/x", an open redirect to a scam)
// means the redirect, host example.com, whether or not the entry is written
// with a scheme. The "://" of the query is not the end of a scheme: read so,
// the entry would list evil.test/x instead, matching that page linked
// directly and missing the redirect that was listed.
func TestURLEntryWithSchemeInItsQuery(t *testing.T) {
	const canonical = "https://example.com/r?u=https://evil.test/x"
	entries := []string{
		"https://example.com/r?u=https://evil.test/x",
		"example.com/r?u=https://evil.test/x",
		"hxxps://example[.]com/r?u=https://evil.test/x",
		"HTTP://www.Example.com:8080/r?u=https://evil.test/x#top",
		"example[.]com/r?u=https://evil(.)test/x",
	}
	texts := []struct {
		text  string
		match bool
	}{
		{"go to https://example.com/r?u=https://evil.test/x now", true},
		{"example.com/r?u=https://evil.test/x&utm=1", true},
		{"www.example.com/r?u=https://evil.test/x/more", true},
		{"https://evil.test/x", false},                          // the target linked directly is another link
		{"see evil.test/x", false},                              // the same without a scheme
		{"https://example.com/r?u=https://other.test/x", false}, // the redirect to elsewhere
		{"https://example.com/r", false},
		{"https://example.com/r?u=https://evil.test/xyz", false}, // not below the entry's path
	}
	for _, entry := range entries {
		t.Run(entry, func(t *testing.T) {
			if got, err := CanonicalURL(entry); err != nil || got != canonical {
				t.Errorf("CanonicalURL = %q, %v; want %q", got, err, canonical)
			}
			rs := mustCompile(t, Rule{ID: "redirect", Version: 1, URLs: []string{entry}, Action: ActionBlock, Mode: ModeEnforce})
			for _, tt := range texts {
				if got := len(rs.Screen(tt.text, Context{}).Matches) > 0; got != tt.match {
					t.Errorf("%q: matched %v, want %v (links %q)", tt.text, got, tt.match, Links(tt.text))
				}
			}
		})
	}
	// A domain entry with such a query has a path, whatever follows.
	if _, err := CanonicalDomain("example.com?u=https://evil.test"); err == nil || !strings.Contains(err.Error(), "has a path") {
		t.Errorf("CanonicalDomain of a host with a query: %v; want an error saying it has a path", err)
	}
}
