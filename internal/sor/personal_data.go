package sor

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Article 24(5) DSA: statements go to the Transparency Database "without
// personal data". The database is public, so anything that points to a
// person (the author, the notifier, a victim) must stay out of every field.
//
// Two defences, in order of strength:
//
//  1. Structure. Build writes every free text from structured, non-personal
//     facts (which rule or bank matched, the category, the kind of item,
//     automation, the source type, the law or the clause of the terms); no
//     text typed about a case, no content, no name, no link to the item.
//     MakePUID makes the puid from the enforcement action's id, never from a
//     user's, a message's or a chat's.
//
//  2. A tripwire. CheckPersonalData looks at every free text for the shapes
//     of personal data that a machine can recognise: e-mail addresses, phone
//     numbers and other long numbers, @handles, IP addresses, and links. A
//     statement with any of them is refused.
//
// What the tripwire cannot catch, and why it is only the second defence: a
// name ("posted by Jane Doe"), an address, a date of birth, a description
// that identifies someone ("the mayor's daughter"), a quote of the content
// that contains any of those, identifiers spelt out ("alice at example dot
// com" without brackets, "zero six one two…"), numbers split by words, a
// handle without its "@", and a bare domain name without a path ("alice.example"), which it lets through because
// domain names of scam sites are legitimately part of some explanations. It
// also refuses some texts that are harmless: a link to a law in a free text
// (put it in decision_ground_reference_url instead) or a long reference
// number. Both kinds of mistake are why free texts should come from Build and
// from staff-written, reviewed lists of legal grounds and clauses, not from
// case notes.

// PersonalDataKind names a shape of personal data CheckPersonalData looks for.
type PersonalDataKind string

// The shapes looked for.
const (
	PersonalEmail     PersonalDataKind = "e-mail address"
	PersonalPhone     PersonalDataKind = "phone number or other personal number"
	PersonalHandle    PersonalDataKind = "@handle"
	PersonalIPAddress PersonalDataKind = "IP address"
	PersonalLink      PersonalDataKind = "link"
	PersonalProfile   PersonalDataKind = "link to a user profile"
)

// Finding is one place in a text that looks like personal data: its kind and
// its position, in characters from the start (not bytes, so that a person
// can find it). Findings never carry the matched text itself, so that an
// error message or a log line about them does not copy the personal data.
type Finding struct {
	Kind       PersonalDataKind
	Start, End int // characters, End exclusive
}

// minPhoneDigits is the fewest digits in a run that counts as a phone
// number: the shortest national numbers in the EU have seven or more, and
// the platform's own texts never hold a run that long (dates are excepted).
const minPhoneDigits = 7

var (
	emailPattern = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	// An address with its "@" and "." spelt out in brackets, a common way
	// of hiding an address from simple filters: alice [at] example (dot) com.
	obfuscatedEmailPattern = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+\s*[\[\(\{]\s*(?:at|@)\s*[\]\)\}]\s*[a-z0-9\-]+(?:\s*[\[\(\{]\s*(?:dot|\.)\s*[\]\)\}]\s*[a-z0-9\-]+)+`)
	// An @handle: "@" after the start or a character that cannot end an
	// e-mail's local part, then at least two handle characters.
	handlePattern = regexp.MustCompile(`(?:^|[^A-Za-z0-9._%+\-@])(@[A-Za-z0-9_][A-Za-z0-9_.]*[A-Za-z0-9_])`)
	schemePattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://\S+`)
	uriPattern    = regexp.MustCompile(`(?i)\b(?:mailto|tel|sms):\S+`)
	wwwPattern    = regexp.MustCompile(`(?i)\bwww\.\S+`)
	hostPattern   = regexp.MustCompile(`(?i)^[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}$`)

	isoDatePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// linkPatterns find links, each with the lower-case texts one of which a
// text must hold for the pattern to be worth running.
var linkPatterns = []struct {
	re    *regexp.Regexp
	hints []string
}{
	{schemePattern, []string{"://"}},
	{uriPattern, []string{"mailto:", "tel:", "sms:"}},
	{wwwPattern, []string{"www."}},
}

// FindPersonalData returns the places in text that look like personal data,
// in order of position. See the package comment on personal data for what it
// can and cannot find.
//
// Each regular expression runs only when a cheap test shows it could match
// (an '@', a "://", a bracketed "at"), since most texts hold none of those
// and Build checks every statement it makes.
func FindPersonalData(text string) []Finding {
	var found []Finding
	add := func(kind PersonalDataKind, start, end int) {
		found = append(found, Finding{Kind: kind, Start: start, End: end})
	}
	if strings.IndexByte(text, '@') >= 0 {
		for _, m := range emailPattern.FindAllStringIndex(text, -1) {
			add(PersonalEmail, m[0], m[1])
		}
		for _, m := range handlePattern.FindAllStringSubmatchIndex(text, -1) {
			add(PersonalHandle, m[2], m[3])
		}
	}
	if hasBracketedAt(text) {
		for _, m := range obfuscatedEmailPattern.FindAllStringIndex(text, -1) {
			add(PersonalEmail, m[0], m[1])
		}
	}
	lower := strings.ToLower(text)
	for _, p := range linkPatterns {
		if slices.ContainsFunc(p.hints, func(h string) bool { return strings.Contains(lower, h) }) {
			for _, m := range p.re.FindAllStringIndex(text, -1) {
				add(PersonalLink, m[0], m[1])
			}
		}
	}
	findHostPaths(text, add)
	findIPAddresses(text, add)
	findNumbers(text, add)

	// Report each place once. An e-mail address may also hold a long number
	// and an IP address is also a run of digits: of findings that overlap,
	// the one found first above (the more specific kind) names the group.
	slices.SortStableFunc(found, func(a, b Finding) int { return a.Start - b.Start })
	out := found[:0]
	for _, f := range found {
		if n := len(out); n > 0 && f.Start < out[n-1].End {
			if f.End > out[n-1].End {
				out[n-1].End = f.End
			}
			continue
		}
		out = append(out, f)
	}
	// Byte offsets to character offsets, in one pass: the findings are in
	// order and do not overlap.
	pos, chars := 0, 0
	for i := range out {
		chars += utf8.RuneCountInString(text[pos:out[i].Start])
		pos, out[i].Start = out[i].Start, chars
		chars += utf8.RuneCountInString(text[pos:out[i].End])
		pos, out[i].End = out[i].End, chars
	}
	return out
}

// findHostPaths reports links written without a scheme, a host name then a
// path ("t.me/alice", "parley.example/u/alice"): at each '/', the word before
// it must be a host name with a top-level domain of letters, standing alone.
// "2011/93/EU" and "and/or" are not host names.
func findHostPaths(text string, add func(PersonalDataKind, int, int)) {
	for i := 0; i < len(text); i++ {
		if text[i] != '/' {
			continue
		}
		start := i
		for start > 0 && isHostByte(text[start-1]) {
			start--
		}
		if start == i || (start > 0 && isWordByte(text[start-1])) || !hostPattern.MatchString(text[start:i]) {
			continue
		}
		if start > 0 && text[start-1] == '/' {
			continue // part of a scheme://host/ link, found already
		}
		end := i
		for end < len(text) && !unicode.IsSpace(rune(text[end])) {
			end++
		}
		add(PersonalLink, start, end)
		i = end
	}
}

func isHostByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '.'
}

// isWordByte is a byte that would make a host name part of a longer word.
func isWordByte(b byte) bool { return b >= 0x80 || b == '_' || b == '@' }

// findNumbers reports runs of digits, with the separators people put in
// phone numbers (spaces, '+', '(', ')', '-', '.'), that hold at least
// minPhoneDigits digits. A run that is exactly an ISO date is skipped: the
// platform's texts hold dates, and a date is not a personal number. Digits of
// every script count, so that "０６１２…" in full-width digits is found too.
func findNumbers(text string, add func(PersonalDataKind, int, int)) {
	start, end, digits := -1, -1, 0
	flush := func() {
		if start >= 0 && digits >= minPhoneDigits && !isoDatePattern.MatchString(text[start:end]) {
			add(PersonalPhone, start, end)
		}
		start, end, digits = -1, -1, 0
	}
	for i, r := range text {
		switch {
		case unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
			digits++
			end = i + utf8.RuneLen(r)
		case start < 0 && (r == '+' || r == '('):
			start, end = i, i // a run may open with these; end stays before them until a digit
		case start >= 0 && strings.ContainsRune(" +()-.\u00a0", r):
			// a separator inside a run: keep going
		default:
			flush()
		}
	}
	flush()
}

// findIPAddresses reports words that parse as IPv4 or IPv6 addresses. Only
// words made of hex digits, '.' and ':' are parsed.
func findIPAddresses(text string, add func(PersonalDataKind, int, int)) {
	for i := 0; i < len(text); {
		if !isAddressByte(text[i]) {
			i++
			continue
		}
		start := i
		for i < len(text) && isAddressByte(text[i]) {
			i++
		}
		if i < len(text) && !isWordEnd(text[i]) {
			for i < len(text) && !isWordEnd(text[i]) {
				i++
			}
			continue // part of a longer word
		}
		if start > 0 && !isWordEnd(text[start-1]) {
			continue
		}
		w := strings.TrimRight(text[start:i], ".:")
		if strings.Count(w, ".") != 3 && strings.Count(w, ":") < 2 {
			continue
		}
		if _, err := netip.ParseAddr(w); err == nil {
			add(PersonalIPAddress, start, start+len(w))
		}
	}
}

func isAddressByte(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' || b == '.' || b == ':'
}

// isWordEnd is a byte that may stand next to an address: a space or
// punctuation that does not belong to one.
func isWordEnd(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || strings.IndexByte(",;()[]<>\"'!?/", b) >= 0
}

// hasBracketedAt reports whether text holds an "at" or "@" in brackets,
// "[at]", "( at )", "{@}": the sign of an e-mail address written to slip
// past filters, and the test before the costlier regular expression.
func hasBracketedAt(text string) bool {
	for i := 0; i < len(text); i++ {
		if b := text[i]; b != '[' && b != '(' && b != '{' {
			continue
		}
		j := skipSpaces(text, i+1)
		switch {
		case j+2 <= len(text) && strings.EqualFold(text[j:j+2], "at"):
			j += 2
		case j < len(text) && text[j] == '@':
			j++
		default:
			continue
		}
		j = skipSpaces(text, j)
		if j < len(text) && (text[j] == ']' || text[j] == ')' || text[j] == '}') {
			return true
		}
	}
	return false
}

func skipSpaces(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
		i++
	}
	return i
}

// maxScannedBytes is the longest text CheckPersonalData scans: the longest
// valid field, decision_facts, at four bytes per character.
const maxScannedBytes = 4 * MaxFactsLength

// freeTexts returns the statement's free texts with their field names: every
// field a person types or a program composes, where personal data could hide.
// The puid is not among them: its alphabet cannot hold an e-mail address or
// a handle, its digits are the action's id, and MakePUID is what keeps it
// free of personal data.
func (s *Statement) freeTexts() [][2]string {
	return [][2]string{
		{"decision_visibility_other", s.DecisionVisibilityOther},
		{"decision_monetary_other", s.DecisionMonetaryOther},
		{"illegal_content_legal_ground", s.IllegalContentLegalGround},
		{"illegal_content_explanation", s.IllegalContentExplanation},
		{"incompatible_content_ground", s.IncompatibleContentGround},
		{"incompatible_content_explanation", s.IncompatibleContentExplanation},
		{"content_type_other", s.ContentTypeOther},
		{"category_specification_other", s.CategorySpecificationOther},
		{"decision_facts", s.DecisionFacts},
		{"source_identity", s.SourceIdentity},
	}
}

// CheckPersonalData refuses a statement whose free texts hold something that
// looks like personal data, or whose decision_ground_reference_url looks like
// a link to a person rather than to the terms or the law. It returns nil or
// Problems naming each field and the character position of each finding,
// never the finding itself. It is a heuristic: see the comment at the top of
// this file for what it misses.
func (s *Statement) CheckPersonalData() error {
	var c checker
	s.checkPersonalData(&c)
	return c.result().err()
}

func (s *Statement) checkPersonalData(c *checker) {
	for _, ft := range s.freeTexts() {
		field, text := ft[0], ft[1]
		if len(text) > maxScannedBytes {
			// No valid field is this long, and scanning megabytes costs
			// seconds: refuse rather than let an unscanned text through.
			c.add(field, "%s is too long to check for personal data (%d bytes)", field, len(text))
			continue
		}
		for _, f := range FindPersonalData(text) {
			hint := ""
			if f.Kind == PersonalLink {
				hint = " (a link can lead to a person's profile, post or chat; a link to the law or the terms belongs in decision_ground_reference_url)"
			}
			c.add(field, "%s seems to hold personal data: a %s at characters %d to %d%s; the Transparency Database must receive none",
				field, f.Kind, f.Start, f.End, hint)
		}
	}
	if u := s.DecisionGroundReferenceURL; u != "" {
		if why := profileLink(u); why != "" {
			c.add("decision_ground_reference_url", "decision_ground_reference_url seems to be a %s (%s); it must point to the terms or the law relied on", PersonalProfile, why)
		}
	}
}

// profileHosts are services whose links, with any path, name a person or a
// chat rather than a document.
var profileHosts = map[string]bool{
	"t.me": true, "telegram.me": true, "telegram.dog": true, "wa.me": true, "m.me": true,
	"facebook.com": true, "fb.com": true, "instagram.com": true, "x.com": true, "twitter.com": true,
	"tiktok.com": true, "linkedin.com": true, "threads.net": true, "snapchat.com": true,
}

// profileSegments are path segments that introduce a person in the URL
// schemes of most services, Parley's own included.
var profileSegments = map[string]bool{
	"u": true, "user": true, "users": true, "profile": true, "profiles": true, "people": true,
	"person": true, "member": true, "members": true, "account": true, "accounts": true, "author": true,
}

// profileQueryKeys are query parameters that identify a person.
var profileQueryKeys = map[string]bool{
	"user": true, "userid": true, "user_id": true, "uid": true, "username": true, "handle": true,
	"profile": true, "profile_id": true, "email": true, "phone": true, "member": true, "account": true,
}

// profileLink says why u looks like a link to a person, or returns "".
func profileLink(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "" // Validate reports a malformed URL
	}
	if parsed.User != nil {
		return "it carries a user name before the host"
	}
	host := strings.TrimPrefix(strings.ToLower(parsed.Hostname()), "www.")
	host = strings.TrimPrefix(host, "m.")
	if profileHosts[host] && strings.Trim(parsed.Path, "/") != "" {
		return "a link into " + host
	}
	for _, seg := range strings.Split(parsed.Path, "/") {
		seg = strings.ToLower(seg)
		if strings.HasPrefix(seg, "@") || strings.HasPrefix(seg, "%40") {
			return "its path names an @handle"
		}
		if profileSegments[seg] {
			return "its path has a /" + seg + "/ segment"
		}
	}
	for key := range parsed.Query() {
		if profileQueryKeys[strings.ToLower(key)] {
			return "its query names a " + key
		}
	}
	if f := FindPersonalData(parsed.RawQuery + " " + parsed.Fragment); slices.ContainsFunc(f, func(f Finding) bool {
		return f.Kind == PersonalEmail || f.Kind == PersonalHandle
	}) {
		return "its query or fragment holds an e-mail address or a handle"
	}
	return ""
}

// Check runs Validate and CheckPersonalData and returns all their problems
// together: what a statement must pass before it is stored for export or
// submitted.
func (s *Statement) Check() error {
	var c checker
	s.validate(&c)
	s.checkPersonalData(&c)
	return c.result().err()
}
