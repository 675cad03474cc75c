package banks

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"parley"
	"parley/internal/pdq"
	"parley/internal/safety/rules"
	"parley/internal/sor"
)

// Limits on banks and entries. They keep one entry small (the matcher holds
// every entry of every enabled bank in memory on every scanner) and make
// every field safe to show in a list and to write in a CSV cell.
const (
	MaxNameBytes        = 64
	MaxDescriptionBytes = 2000
	MaxLabelBytes       = 200
	MaxKeywords         = 20
	MaxSourceBytes      = 200
	MaxExternalIDBytes  = 200
	MaxTags             = 32
	MaxTagBytes         = 100
	MaxNoteBytes        = 2000
)

// PDQ hashes whose number of set bits lies outside this range are refused.
// The reference sets one bit per DCT coefficient above the median of 256, so
// a real hash has at most 128 bits set and almost always exactly 128; far
// fewer means the coefficients were mostly equal, as for a blank or tiny
// image (the reference's hash of those is all zeros). Such a hash would
// match other blank images, not the content it was meant to list.
const (
	minPDQOnes = 64
	maxPDQOnes = 192
)

// ParseType parses an entry type as Parley names it (pdq, md5, sha256, url,
// domain).
func ParseType(s string) (EntryType, error) {
	t := EntryType(s)
	if slices.Contains(EntryTypes, t) {
		return t, nil
	}
	return "", parley.FieldError("type", "entry type %q is unknown: use pdq, md5, sha256, url or domain", clip(s))
}

// ParseValue checks a value of type t and returns its canonical form, or an
// EInvalid error (field "value") saying what is wrong and where. Surrounding
// white space is ignored; everything else is checked strictly:
//
//   - pdq: exactly 64 hex digits (either case; canonical lower case), with
//     between 64 and 192 of its 256 bits set (see minPDQOnes);
//   - md5: exactly 32 hex digits; sha256: exactly 64 hex digits;
//   - url: a link as rules.CanonicalURL accepts it, canonical as it returns
//     it, without characters that end a link in a post (space, quotes, < > `),
//     since an entry holding one could never match;
//   - domain: a host name as rules.CanonicalDomain accepts it.
func ParseValue(t EntryType, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch t {
	case TypePDQ:
		v, err := parseHex(t, s, pdq.HexLen)
		if err != nil {
			return "", err
		}
		var h pdq.Hash
		hex.Decode(h[:], []byte(v)) // checked by parseHex
		if n := h.Ones(); n < minPDQOnes || n > maxPDQOnes {
			return "", parley.FieldError("value",
				"pdq hash %s has %d of 256 bits set; a hash of a real image has about 128 (this one is of a blank or corrupt image and would match unrelated images)", v, n)
		}
		return v, nil
	case TypeMD5:
		return parseHex(t, s, 32)
	case TypeSHA256:
		return parseHex(t, s, 64)
	case TypeURL:
		c, err := rules.CanonicalURL(withScheme(s))
		if err != nil {
			return "", parley.FieldError("value", "%s", parley.ErrorMessage(err))
		}
		if i := strings.IndexAny(c, " \"'<>`"); i >= 0 {
			return "", parley.FieldError("value", "url %q contains %q, which ends a link in a post, so the entry could never match", clip(s), c[i])
		}
		return c, nil
	case TypeDomain:
		c, err := rules.CanonicalDomain(s)
		if err != nil {
			return "", parley.FieldError("value", "%s", parley.ErrorMessage(err))
		}
		return c, nil
	}
	_, err := ParseType(string(t))
	return "", err
}

// withScheme gives a URL without a scheme whose path or query holds "://"
// ("t.me/join?next=http://evil.example") the scheme it lacks. The rules
// engine reads the first "://" of an entry as the end of its scheme, so
// without one such an entry would list the host after it, every link to
// evil.example, instead of the URL it is.
func withScheme(s string) string {
	scheme := strings.Index(s, "://")
	if scheme < 0 {
		return s
	}
	if path := strings.IndexAny(s, "/?#"); path < scheme {
		return "https://" + s
	}
	return s
}

// parseHex checks that s is exactly n hex digits and returns it in lower
// case.
func parseHex(t EntryType, s string, n int) (string, error) {
	if s == "" {
		return "", parley.FieldError("value", "%s is empty", t)
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return "", parley.FieldError("value", "%s %q: character %d (%q) is not a hex digit", t, clip(s), i+1, r)
		}
	}
	if len(s) != n {
		return "", parley.FieldError("value", "%s %q has %d hex digits, want %d", t, clip(s), len(s), n)
	}
	if strings.ContainsAny(s, "ABCDEF") {
		return strings.ToLower(s), nil
	}
	return s, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkProvenance checks everything of an entry but its type and value.
func checkProvenance(e *Entry) error {
	switch {
	case e.Quality != 0 && e.Type != TypePDQ:
		return parley.FieldError("quality", "only pdq hashes have a quality")
	case e.Quality < 0 || e.Quality > 100:
		return parley.FieldError("quality", "pdq quality %d is not between 0 and 100", e.Quality)
	case e.Quality != 0 && e.Quality < pdq.MinQuality:
		return parley.FieldError("quality", "pdq quality %d is below %d: such hashes are too unreliable to match on", e.Quality, pdq.MinQuality)
	}
	if err := checkText("source", e.Source, MaxSourceBytes, true); err != nil {
		return err
	}
	if e.Source == "" {
		return parley.FieldError("source", "is required: say where the entry comes from (NCMEC, a ThreatExchange privacy group, moderator, ...)")
	}
	if err := checkToken("external_id", e.ExternalID, MaxExternalIDBytes); err != nil {
		return err
	}
	if len(e.Tags) > MaxTags {
		return parley.FieldError("tags", "has %d tags, the limit is %d", len(e.Tags), MaxTags)
	}
	for _, tag := range e.Tags {
		if tag == "" {
			return parley.FieldError("tags", "holds an empty tag")
		}
		if err := checkToken("tags", tag, MaxTagBytes); err != nil {
			return err
		}
	}
	return checkText("note", e.Note, MaxNoteBytes, false)
}

// checkText checks a free-text field: valid UTF-8, at most max bytes, no
// control characters (so it prints on one line and in one CSV cell);
// oneLine also refuses surrounding spaces.
func checkText(field, s string, max int, oneLine bool) error {
	if len(s) <= max && plainASCII(s) && (!oneLine || s == "" || s[0] != ' ' && s[len(s)-1] != ' ') {
		return nil // the common case, checked without decoding
	}
	switch {
	case !utf8.ValidString(s):
		return parley.FieldError(field, "is not valid UTF-8")
	case len(s) > max:
		return parley.FieldError(field, "is %d bytes long, the limit is %d", len(s), max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return parley.FieldError(field, "%q contains a control character", clip(s))
	case oneLine && strings.TrimSpace(s) != s:
		return parley.FieldError(field, "%q has leading or trailing spaces", clip(s))
	}
	return nil
}

// checkToken checks a field that must be one word: like checkText, and
// without white space.
func checkToken(field, s string, max int) error {
	if len(s) <= max && plainASCII(s) && strings.IndexByte(s, ' ') < 0 {
		return nil
	}
	if err := checkText(field, s, max, true); err != nil {
		return err
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return parley.FieldError(field, "%q contains white space", clip(s))
	}
	return nil
}

// plainASCII reports whether s is printable ASCII (spaces included), which
// needs no further checks for control characters or encoding.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// checkBank checks everything of a bank that staff choose.
func checkBank(b *Bank) error {
	if err := checkName(b.Name); err != nil {
		return err
	}
	if err := checkText("description", b.Description, MaxDescriptionBytes, false); err != nil {
		return err
	}
	switch b.Kind {
	case KindBlock:
		if b.Category == "" {
			return parley.FieldError("category", "is required for a block bank: the DSA category of what it lists (e.g. STATEMENT_CATEGORY_PROTECTION_OF_MINORS)")
		}
		switch b.Action {
		case ActionBlockUpload, ActionRemove, ActionReview:
			if b.Label != "" {
				return parley.FieldError("label", "is only for the label action")
			}
		case ActionLabel:
			if strings.TrimSpace(b.Label) == "" {
				return parley.FieldError("label", "is required when the action is label")
			}
		case ActionNone:
			return parley.FieldError("action", "is required for a block bank: block_upload, remove, review or label")
		default:
			return parley.FieldError("action", "%q is unknown: use block_upload, remove, review or label", clip(string(b.Action)))
		}
	case KindAllow:
		if b.Action != ActionNone || b.Label != "" {
			return parley.FieldError("action", "an allow bank takes no action: its matches suppress block matches")
		}
	case "":
		return parley.FieldError("kind", "is required: block or allow")
	default:
		return parley.FieldError("kind", "%q is unknown: use block or allow", clip(string(b.Kind)))
	}
	if b.Category != "" && !sor.IsCategory(sor.Category(b.Category)) {
		return parley.FieldError("category", "%q is not a DSA statement category (STATEMENT_CATEGORY_...)", clip(b.Category))
	}
	if err := checkText("label", b.Label, MaxLabelBytes, true); err != nil {
		return err
	}
	if len(b.Keywords) > MaxKeywords {
		return parley.FieldError("keywords", "has %d keywords, the limit is %d", len(b.Keywords), MaxKeywords)
	}
	for i, k := range b.Keywords {
		if !sor.IsKeyword(sor.Keyword(k)) {
			return parley.FieldError(fmt.Sprintf("keywords[%d]", i), "%q is not a DSA category specification (KEYWORD_...)", clip(k))
		}
		if slices.Contains(b.Keywords[:i], k) {
			return parley.FieldError(fmt.Sprintf("keywords[%d]", i), "%s is listed twice", k)
		}
	}
	return nil
}

// checkName checks a bank name: 1 to 64 letters, digits, '.', '-' or '_',
// starting with a letter or digit, so that it can be typed on a command
// line and put in a URL path without quoting.
func checkName(name string) error {
	if name == "" {
		return parley.FieldError("name", "is required")
	}
	if len(name) > MaxNameBytes {
		return parley.FieldError("name", "is %d bytes long, the limit is %d", len(name), MaxNameBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letterOrDigit := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !letterOrDigit && (i == 0 || c != '.' && c != '-' && c != '_') {
			r, _ := utf8.DecodeRuneInString(name[i:])
			return parley.FieldError("name", "%q: character %d (%q) is not allowed; use letters, digits, '.', '-' and '_', starting with a letter or digit", clip(name), i+1, r)
		}
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}
