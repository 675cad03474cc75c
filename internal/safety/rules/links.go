package rules

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"parley"
)

// Links in a post are found by looking for host names, not for "http://":
// spam writes "evil.example/join", "evil[.]example" or "hxxps://evil(.)example"
// precisely because naive URL finders need a scheme. A host name here is a
// run of letters, digits, '-' and '_' in at least two dot-separated labels
// whose last label (the top-level domain) has a letter and two or more
// characters, or a dotted IPv4 address. That also finds words joined by a
// period without a space ("end.next"), which costs two map look-ups and never
// matches a listed domain by accident.

// defangs are the spellings of a dot used to defang or disguise links.
var defangs = []string{"[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"}

// appendLinkView appends the text that links are looked for in: the clean
// view with ASCII in lower case and disguised dots ("[.]", "(dot)", "。",
// with any spaces around them) replaced by ".".
func appendLinkView(dst, clean []byte) []byte {
	for i := 0; i < len(clean); {
		c := clean[i]
		switch {
		case c == '[' || c == '(' || c == '{':
			if n := defangAt(clean[i:]); n > 0 {
				dst = bytes.TrimRight(dst, " ")
				dst = append(dst, '.')
				i += n
				for i < len(clean) && clean[i] == ' ' {
					i++
				}
				continue
			}
		case c == 0xE3 && bytes.HasPrefix(clean[i:], []byte("。")):
			// The ideographic full stop, which IDNA also reads as a dot
			// (NFKC has already turned the halfwidth and fullwidth forms
			// into it or into ".").
			dst = append(dst, '.')
			i += len("。")
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		i++
	}
	return dst
}

// defangAt returns the length of the disguised dot at the start of b, or 0.
func defangAt(b []byte) int {
	for _, d := range defangs {
		if len(b) >= len(d) && strings.EqualFold(unsafeString(b[:len(d)]), d) {
			return len(d)
		}
	}
	return 0
}

// hostASCII marks the ASCII bytes that may be part of a host name.
var hostASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	return t
}()

// hostRune reports whether r may be part of a host name (dots included).
func hostRune(r rune) bool {
	if r < utf8.RuneSelf {
		return hostASCII[r]
	}
	if r < bmpSize {
		return bmp().flags[r]&fWord != 0
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// scanLinks calls fn for each host name in the link view, with the path
// (and query) that follows it, if any: "/join?x=1" for
// "https://evil.example:8080/join?x=1#top". It returns early when fn
// returns false. It jumps from dot to dot, so the words of a post that hold
// no dot cost nothing.
func scanLinks(view []byte, fn func(host, path []byte) bool) {
	for i := 0; i < len(view); {
		d := bytes.IndexByte(view[i:], '.')
		if d < 0 {
			return
		}
		// The run of host characters around the dot, not reaching back
		// into the previous run (which ended at a non-host character).
		start, end := i+d, i+d+1
		for start > i {
			c := view[start-1]
			if c < utf8.RuneSelf {
				if !hostASCII[c] {
					break
				}
				start--
				continue
			}
			r, size := utf8.DecodeLastRune(view[i:start])
			if !hostRune(r) {
				break
			}
			start -= size
		}
		for end < len(view) {
			c := view[end]
			if c < utf8.RuneSelf {
				if !hostASCII[c] {
					break
				}
				end++
				continue
			}
			r, size := utf8.DecodeRune(view[end:])
			if !hostRune(r) {
				break
			}
			end += size
		}
		i = end
		// A run may hold several names separated by ".." ("wait...
		// evil.example" written without a space); each is a candidate.
		run := view[start:end]
		for len(run) > 0 {
			piece := run
			if next := bytes.Index(run, []byte("..")); next >= 0 {
				piece, run = run[:next], run[next+2:]
			} else {
				run = nil
			}
			piece = trimHost(piece)
			if !validHost(piece) {
				continue
			}
			var path []byte
			if run == nil {
				path = pathAfter(view[end:])
			}
			if !fn(piece, path) {
				return
			}
		}
	}
}

// trimHost removes the dots, hyphens and underscores that may surround a
// host name in a run ("(see evil.example.)").
func trimHost(b []byte) []byte {
	for len(b) > 0 && (b[0] == '.' || b[0] == '-' || b[0] == '_') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == '.' || b[len(b)-1] == '-' || b[len(b)-1] == '_') {
		b = b[:len(b)-1]
	}
	return b
}

// pathAfter returns the path and query that follow a host name, without a
// port, fragment or trailing punctuation of the sentence around the link.
func pathAfter(b []byte) []byte {
	if len(b) > 0 && b[0] == ':' {
		n := 1
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			n++
		}
		b = b[n:]
	}
	if len(b) == 0 || (b[0] != '/' && b[0] != '?') {
		return nil
	}
	end := bytes.IndexAny(b, " \"'<>`#")
	if end >= 0 {
		b = b[:end]
	}
	return bytes.TrimRight(b, ".,;:!?)]}/")
}

// validHost reports whether b, a run of host characters and dots without
// leading or trailing dots, is a plausible host name.
func validHost(b []byte) bool {
	if len(b) < 3 || len(b) > 253 {
		return false
	}
	lastDot := bytes.LastIndexByte(b, '.')
	if lastDot < 0 || bytes.Contains(b, []byte("..")) {
		return false
	}
	tld := b[lastDot+1:]
	for _, r := range unsafeString(tld) {
		if unicode.IsLetter(r) {
			return utf8.RuneCount(tld) >= 2
		}
	}
	// No letter in the top-level domain: only a dotted IPv4 address
	// ("203.0.113.9") is a host; "3.14" and "v1.2.3" are not.
	return isIPv4(b)
}

// isIPv4 reports whether b is four dot-separated decimal numbers ≤ 255.
func isIPv4(b []byte) bool {
	parts := 0
	for len(b) > 0 {
		n, digits := 0, 0
		for digits < len(b) && b[digits] >= '0' && b[digits] <= '9' {
			n = n*10 + int(b[digits]-'0')
			digits++
			if digits > 3 {
				return false
			}
		}
		if digits == 0 || n > 255 {
			return false
		}
		parts++
		b = b[digits:]
		if len(b) > 0 {
			if b[0] != '.' {
				return false
			}
			b = b[1:]
			if len(b) == 0 {
				return false
			}
		}
	}
	return parts == 4
}

// appendHostKey appends the key a host name is looked up under: its
// skeleton (see Normalize), so that look-alike spellings of a listed domain
// find it. Dots, hyphens and the word structure survive normalisation, so
// the key keeps the host's labels.
func appendHostKey(dst, host []byte, tmp *[]byte) []byte {
	return appendNormalized(dst, unsafeString(host), tmp)
}

// unsafeString views b as a string without copying. The caller must not
// change b while the string is in use; every use here is a look-up or a
// comparison that ends before b is touched again.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// linkEntry is a parsed URLs or Domains entry: its host key and, for URLs,
// its lower-case path without a trailing slash.
type linkEntry struct {
	key  string
	path string
}

// parseLinkEntry parses a URLs (withPath) or Domains entry as staff write
// it, defanged or not, with or without a scheme. The error text names what
// is wrong; the caller adds the rule and field.
func parseLinkEntry(s string, withPath bool) (linkEntry, string) {
	host, path, msg := splitLinkEntry(s, withPath)
	if msg != "" {
		return linkEntry{}, msg
	}
	var tmp []byte
	return linkEntry{
		key:  string(appendHostKey(nil, []byte(host), &tmp)),
		path: path,
	}, ""
}

// splitLinkEntry is the first half of parseLinkEntry: the entry's host in
// the link view (lower-case ASCII, disguised dots replaced, without scheme,
// user, port, trailing dot and one leading "www."; for Domains also without
// a leading "*.") and, for URLs, its path and query without the fragment and
// trailing slashes. The host is not yet reduced to its look-up key.
func splitLinkEntry(s string, withPath bool) (host, path, msg string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", "is empty"
	}
	if len(s) > maxLinkBytes {
		return "", "", "is longer than " + itoa(maxLinkBytes) + " bytes"
	}
	var tmp []byte
	clean := appendClean(nil, s, &tmp)
	v := string(appendLinkView(nil, clean))
	// A "://" ends a scheme only if it comes before the path, query and
	// fragment: in "t.me/go?next=https://evil.example" it is part of the
	// query, and the entry is the t.me link, not evil.example.
	if i := strings.Index(v, "://"); i >= 0 && !strings.ContainsAny(v[:i], "/?#") {
		v = v[i+3:]
	}
	host, rest := v, ""
	if i := strings.IndexAny(v, "/?#"); i >= 0 {
		host, rest = v[:i], v[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && isDigits(host[i+1:]) {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if !withPath {
		if strings.Trim(rest, "/") != "" {
			return "", "", "has a path; a domain is a bare host name (put links with a path in urls)"
		}
		host = strings.TrimPrefix(host, "*.")
	}
	host = strings.TrimPrefix(host, "www.")
	for _, r := range host {
		if !hostRune(r) {
			return "", "", "is not a host name: it contains " + quoteRune(r)
		}
	}
	if !strings.Contains(host, ".") {
		return "", "", "is not a domain name with at least two labels (a top-level domain alone would match too much)"
	}
	if !validHost([]byte(host)) {
		return "", "", "is not a valid host name"
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	return host, strings.TrimRight(rest, "/"), ""
}

// CanonicalURL returns the canonical text of an entry for Rule.URLs: the
// form in which it matches exactly the links the entry as written matches,
// written without what matching ignores (scheme, user, port, fragment,
// "www.", trailing slashes, disguised dots, upper-case ASCII), so that two
// spellings of one URL have one canonical text: "HXXPS://www.Evil[.]example:8443/Join/#top"
// becomes "evil.example/join". Entries whose path holds "://" are written
// with a scheme ("https://evil.example/r?u=http://x"), which shows a reader
// that the host is the one before the path, not the one after "://" (both
// forms read the same). It returns an EInvalid
// *parley.Error saying what is wrong for an entry that Compile would refuse,
// or one that cannot be written in a form that reads back the same.
func CanonicalURL(s string) (string, error) { return canonicalLink(s, true) }

// CanonicalDomain returns the canonical text of an entry for Rule.Domains,
// as CanonicalURL does for URLs: "*.Evil(dot)example." becomes
// "evil.example".
func CanonicalDomain(s string) (string, error) { return canonicalLink(s, false) }

func canonicalLink(s string, withPath bool) (string, error) {
	what := "domain"
	if withPath {
		what = "url"
	}
	host, path, msg := splitLinkEntry(s, withPath)
	if msg != "" {
		return "", parley.Errorf(parley.EInvalid, "%s %q %s", what, clipText(s), msg)
	}
	c := host
	if strings.HasPrefix(host, "www.") {
		// Reading strips one "www.", so a host that still starts with
		// one after that keeps it only if written twice.
		c = "www." + host
	}
	c += path
	if strings.Contains(c, "://") {
		c = "https://" + c
	}
	// The canonical text must read back as the same host and path, or it
	// would match something else. The few entries for which that fails (a
	// path in which replacing one disguised dot forms another, such as
	// "a[(.)]b", which reads as "a[.]b") are refused rather than changed.
	if h2, p2, msg := splitLinkEntry(c, withPath); msg != "" || h2 != host || p2 != path {
		return "", parley.Errorf(parley.EInvalid, "%s %q is ambiguous: written without disguise it reads differently (%q)", what, clipText(s), c)
	}
	return c, nil
}

// clipText shortens s for an error message.
func clipText(s string) string {
	if len(s) > 100 {
		return strings.ToValidUTF8(s[:100], "") + "…"
	}
	return s
}

// Links returns the links that Screen finds in text, in order, each as the
// host and path that URLs and Domains entries are matched against: the link
// view ("evil.example/join?x=1" for "HTTPS://Evil[.]example:8080/join?x=1#top").
// Screening one of them alone with a rule set of URLs and Domains gives the
// matches that link gives within the text, which lets a caller tell which
// link of a post matched what.
func Links(text string) []string {
	var tmp []byte
	clean := appendClean(nil, text, &tmp)
	view := appendLinkView(nil, clean)
	var out []string
	scanLinks(view, func(host, path []byte) bool {
		out = append(out, string(host)+string(path))
		return true
	})
	return out
}

// pathMatches reports whether a link's path (lower case, trailing slashes
// removed) is the entry's path or lies below it.
func pathMatches(path []byte, prefix string) bool {
	if prefix == "" {
		return true
	}
	if !bytes.HasPrefix(path, []byte(prefix)) {
		return false
	}
	if len(path) == len(prefix) {
		return true
	}
	switch path[len(prefix)] {
	case '/', '?', '&':
		return true
	}
	return prefix[len(prefix)-1] == '?' || prefix[len(prefix)-1] == '&'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
