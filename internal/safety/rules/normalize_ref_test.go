package rules

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file holds a second implementation of the skeleton (Normalize),
// written from the policy at the top of normalize.go and not from its code:
// it has its own tables — the look-alikes as Unicode publishes them in
// confusables.txt plus the few Parley adds, the blank letters, the ASCII,
// digit and symbol foldings — and works in plain passes over the whole text
// (NFKD first, then fold, collapse whitespace, fold words, NFC) instead of
// one streaming loop that decomposes one character at a time. Tests compare
// the two on every code point, so a wrong, missing or extra entry in one of
// normalize.go's tables fails them, and so does a mistake in its
// per-character decomposition. Nothing here reads normalize.go's tables.

// unicodeLookalikes are the lines of Unicode's confusables.txt (UTS #39
// security data, the file dated 2021-05-29, Unicode 14.0.0) for the letters
// the skeleton folds to the Latin letter Unicode gives as their prototype,
// copied as published: source ; prototype ; type # comment.
const unicodeLookalikes = `
0410 ;	0041 ;	MA	# ( А → A ) CYRILLIC CAPITAL LETTER A → LATIN CAPITAL LETTER A
0412 ;	0042 ;	MA	# ( В → B ) CYRILLIC CAPITAL LETTER VE → LATIN CAPITAL LETTER B
0415 ;	0045 ;	MA	# ( Е → E ) CYRILLIC CAPITAL LETTER IE → LATIN CAPITAL LETTER E
041A ;	004B ;	MA	# ( К → K ) CYRILLIC CAPITAL LETTER KA → LATIN CAPITAL LETTER K
041C ;	004D ;	MA	# ( М → M ) CYRILLIC CAPITAL LETTER EM → LATIN CAPITAL LETTER M
041D ;	0048 ;	MA	# ( Н → H ) CYRILLIC CAPITAL LETTER EN → LATIN CAPITAL LETTER H
041E ;	004F ;	MA	# ( О → O ) CYRILLIC CAPITAL LETTER O → LATIN CAPITAL LETTER O
0420 ;	0050 ;	MA	# ( Р → P ) CYRILLIC CAPITAL LETTER ER → LATIN CAPITAL LETTER P
0421 ;	0043 ;	MA	# ( С → C ) CYRILLIC CAPITAL LETTER ES → LATIN CAPITAL LETTER C
0422 ;	0054 ;	MA	# ( Т → T ) CYRILLIC CAPITAL LETTER TE → LATIN CAPITAL LETTER T
0425 ;	0058 ;	MA	# ( Х → X ) CYRILLIC CAPITAL LETTER HA → LATIN CAPITAL LETTER X
0423 ;	0059 ;	MA	# ( У → Y ) CYRILLIC CAPITAL LETTER U → LATIN CAPITAL LETTER Y
0405 ;	0053 ;	MA	# ( Ѕ → S ) CYRILLIC CAPITAL LETTER DZE → LATIN CAPITAL LETTER S
0406 ;	006C ;	MA	# ( І → l ) CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I → LATIN SMALL LETTER L
0408 ;	004A ;	MA	# ( Ј → J ) CYRILLIC CAPITAL LETTER JE → LATIN CAPITAL LETTER J
04C0 ;	006C ;	MA	# ( Ӏ → l ) CYRILLIC LETTER PALOCHKA → LATIN SMALL LETTER L
050C ;	0047 ;	MA	# ( Ԍ → G ) CYRILLIC CAPITAL LETTER KOMI SJE → LATIN CAPITAL LETTER G
0430 ;	0061 ;	MA	# ( а → a ) CYRILLIC SMALL LETTER A → LATIN SMALL LETTER A
0435 ;	0065 ;	MA	# ( е → e ) CYRILLIC SMALL LETTER IE → LATIN SMALL LETTER E
043E ;	006F ;	MA	# ( о → o ) CYRILLIC SMALL LETTER O → LATIN SMALL LETTER O
0440 ;	0070 ;	MA	# ( р → p ) CYRILLIC SMALL LETTER ER → LATIN SMALL LETTER P
0441 ;	0063 ;	MA	# ( с → c ) CYRILLIC SMALL LETTER ES → LATIN SMALL LETTER C
0443 ;	0079 ;	MA	# ( у → y ) CYRILLIC SMALL LETTER U → LATIN SMALL LETTER Y
0445 ;	0078 ;	MA	# ( х → x ) CYRILLIC SMALL LETTER HA → LATIN SMALL LETTER X
0455 ;	0073 ;	MA	# ( ѕ → s ) CYRILLIC SMALL LETTER DZE → LATIN SMALL LETTER S
0456 ;	0069 ;	MA	# ( і → i ) CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I → LATIN SMALL LETTER I
0458 ;	006A ;	MA	# ( ј → j ) CYRILLIC SMALL LETTER JE → LATIN SMALL LETTER J
04CF ;	0069 ;	MA	# ( ӏ → i ) CYRILLIC SMALL LETTER PALOCHKA → LATIN SMALL LETTER I
0501 ;	0064 ;	MA	# ( ԁ → d ) CYRILLIC SMALL LETTER KOMI DE → LATIN SMALL LETTER D
051B ;	0071 ;	MA	# ( ԛ → q ) CYRILLIC SMALL LETTER QA → LATIN SMALL LETTER Q
051D ;	0077 ;	MA	# ( ԝ → w ) CYRILLIC SMALL LETTER WE → LATIN SMALL LETTER W
04BB ;	0068 ;	MA	# ( һ → h ) CYRILLIC SMALL LETTER SHHA → LATIN SMALL LETTER H
04AF ;	0079 ;	MA	# ( ү → y ) CYRILLIC SMALL LETTER STRAIGHT U → LATIN SMALL LETTER Y
04BD ;	0065 ;	MA	# ( ҽ → e ) CYRILLIC SMALL LETTER ABKHASIAN CHE → LATIN SMALL LETTER E
0433 ;	0072 ;	MA	# ( г → r ) CYRILLIC SMALL LETTER GHE → LATIN SMALL LETTER R
0391 ;	0041 ;	MA	# ( Α → A ) GREEK CAPITAL LETTER ALPHA → LATIN CAPITAL LETTER A
0392 ;	0042 ;	MA	# ( Β → B ) GREEK CAPITAL LETTER BETA → LATIN CAPITAL LETTER B
0395 ;	0045 ;	MA	# ( Ε → E ) GREEK CAPITAL LETTER EPSILON → LATIN CAPITAL LETTER E
0396 ;	005A ;	MA	# ( Ζ → Z ) GREEK CAPITAL LETTER ZETA → LATIN CAPITAL LETTER Z
0397 ;	0048 ;	MA	# ( Η → H ) GREEK CAPITAL LETTER ETA → LATIN CAPITAL LETTER H
0399 ;	006C ;	MA	# ( Ι → l ) GREEK CAPITAL LETTER IOTA → LATIN SMALL LETTER L
039A ;	004B ;	MA	# ( Κ → K ) GREEK CAPITAL LETTER KAPPA → LATIN CAPITAL LETTER K
039C ;	004D ;	MA	# ( Μ → M ) GREEK CAPITAL LETTER MU → LATIN CAPITAL LETTER M
039D ;	004E ;	MA	# ( Ν → N ) GREEK CAPITAL LETTER NU → LATIN CAPITAL LETTER N
039F ;	004F ;	MA	# ( Ο → O ) GREEK CAPITAL LETTER OMICRON → LATIN CAPITAL LETTER O
03A1 ;	0050 ;	MA	# ( Ρ → P ) GREEK CAPITAL LETTER RHO → LATIN CAPITAL LETTER P
03A4 ;	0054 ;	MA	# ( Τ → T ) GREEK CAPITAL LETTER TAU → LATIN CAPITAL LETTER T
03A5 ;	0059 ;	MA	# ( Υ → Y ) GREEK CAPITAL LETTER UPSILON → LATIN CAPITAL LETTER Y
03A7 ;	0058 ;	MA	# ( Χ → X ) GREEK CAPITAL LETTER CHI → LATIN CAPITAL LETTER X
03F9 ;	0043 ;	MA	# ( Ϲ → C ) GREEK CAPITAL LUNATE SIGMA SYMBOL → LATIN CAPITAL LETTER C
03FA ;	004D ;	MA	# ( Ϻ → M ) GREEK CAPITAL LETTER SAN → LATIN CAPITAL LETTER M
03B1 ;	0061 ;	MA	# ( α → a ) GREEK SMALL LETTER ALPHA → LATIN SMALL LETTER A
03B3 ;	0079 ;	MA	# ( γ → y ) GREEK SMALL LETTER GAMMA → LATIN SMALL LETTER Y
03B9 ;	0069 ;	MA	# ( ι → i ) GREEK SMALL LETTER IOTA → LATIN SMALL LETTER I
03BD ;	0076 ;	MA	# ( ν → v ) GREEK SMALL LETTER NU → LATIN SMALL LETTER V
03BF ;	006F ;	MA	# ( ο → o ) GREEK SMALL LETTER OMICRON → LATIN SMALL LETTER O
03C1 ;	0070 ;	MA	# ( ρ → p ) GREEK SMALL LETTER RHO → LATIN SMALL LETTER P
03C5 ;	0075 ;	MA	# ( υ → u ) GREEK SMALL LETTER UPSILON → LATIN SMALL LETTER U
03F2 ;	0063 ;	MA	# ( ϲ → c ) GREEK LUNATE SIGMA SYMBOL → LATIN SMALL LETTER C
03F3 ;	006A ;	MA	# ( ϳ → j ) GREEK LETTER YOT → LATIN SMALL LETTER J
0585 ;	006F ;	MA	# ( օ → o ) ARMENIAN SMALL LETTER OH → LATIN SMALL LETTER O
057D ;	0075 ;	MA	# ( ս → u ) ARMENIAN SMALL LETTER SEH → LATIN SMALL LETTER U
0570 ;	0068 ;	MA	# ( հ → h ) ARMENIAN SMALL LETTER HO → LATIN SMALL LETTER H
0578 ;	006E ;	MA	# ( ո → n ) ARMENIAN SMALL LETTER VO → LATIN SMALL LETTER N
0581 ;	0067 ;	MA	# ( ց → g ) ARMENIAN SMALL LETTER CO → LATIN SMALL LETTER G
0566 ;	0071 ;	MA	# ( զ → q ) ARMENIAN SMALL LETTER ZA → LATIN SMALL LETTER Q
0251 ;	0061 ;	MA	# ( ɑ → a ) LATIN SMALL LETTER ALPHA → LATIN SMALL LETTER A
0261 ;	0067 ;	MA	# ( ɡ → g ) LATIN SMALL LETTER SCRIPT G → LATIN SMALL LETTER G
0269 ;	0069 ;	MA	# ( ɩ → i ) LATIN SMALL LETTER IOTA → LATIN SMALL LETTER I
01C0 ;	006C ;	MA	# ( ǀ → l ) LATIN LETTER DENTAL CLICK → LATIN SMALL LETTER L
0131 ;	0069 ;	MA	# ( ı → i ) LATIN SMALL LETTER DOTLESS I → LATIN SMALL LETTER I
026A ;	0069 ;	MA	# ( ɪ → i ) LATIN LETTER SMALL CAPITAL I → LATIN SMALL LETTER I
028F ;	0079 ;	MA	# ( ʏ → y ) LATIN LETTER SMALL CAPITAL Y → LATIN SMALL LETTER Y
2113 ;	006C ;	MA	# ( ℓ → l ) SCRIPT SMALL L → LATIN SMALL LETTER L
`

// parleyLookalikes are the letters the skeleton folds although Unicode's
// prototype for them is no plain Latin letter (a small capital such as ʜ or
// ᴛ, a rare letter such as ĸ, ʍ or ƅ), or that confusables.txt does not
// list: in a post a reader takes each for the Latin letter given.
var parleyLookalikes = []struct {
	from, to rune
	unicode  string // Unicode's prototype, or "" when it lists none
}{
	{'к', 'k', "ĸ LATIN SMALL LETTER KRA"},
	{'м', 'm', "ʍ LATIN SMALL LETTER TURNED W"},
	{'н', 'h', "ʜ LATIN LETTER SMALL CAPITAL H"},
	{'т', 't', "ᴛ LATIN LETTER SMALL CAPITAL T"},
	{'в', 'b', "ʙ LATIN LETTER SMALL CAPITAL B"},
	{'ь', 'b', "ƅ LATIN SMALL LETTER TONE SIX"},
	{'п', 'n', "π GREEK SMALL LETTER PI"},
	{'є', 'e', "ꞓ LATIN SMALL LETTER C WITH BAR"},
	{'ԍ', 'g', "ɢ LATIN LETTER SMALL CAPITAL G"},
	{'β', 'b', "ß LATIN SMALL LETTER SHARP S"},
	{'ε', 'e', "ꞓ LATIN SMALL LETTER C WITH BAR"},
	{'ζ', 'z', ""},
	{'η', 'n', "n̩ LATIN SMALL LETTER N, COMBINING VERTICAL LINE BELOW"},
	{'κ', 'k', "ĸ LATIN SMALL LETTER KRA"},
	{'μ', 'u', ""},
	{'τ', 't', "ᴛ LATIN LETTER SMALL CAPITAL T"},
	{'χ', 'x', ""},
	{'ω', 'w', ""},
	{'ʟ', 'i', ""}, // LATIN LETTER SMALL CAPITAL L, read as "l", which is "i"
}

// refBlankLetters are the characters that draw nothing although Unicode
// does not class them as format characters or marks.
var refBlankLetters = []rune{
	0x115F, // HANGUL CHOSEONG FILLER
	0x1160, // HANGUL JUNGSEONG FILLER
	0x3164, // HANGUL FILLER
	0xFFA0, // HALFWIDTH HANGUL FILLER
	0x2800, // BRAILLE PATTERN BLANK
}

// refLeet is step 7's folding of the digits and symbols that stand for
// letters inside a word.
var refLeet = map[rune]rune{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g',
	'@': 'a', '$': 's', '!': 'i', '|': 'i',
}

// unicodeLookalike is one line of unicodeLookalikes.
type unicodeLookalike struct {
	line     string
	from, to rune // to is an ASCII letter
}

// parseUnicodeLookalikes reads the lines of unicodeLookalikes.
func parseUnicodeLookalikes() []unicodeLookalike {
	var out []unicodeLookalike
	for _, line := range strings.Split(strings.TrimSpace(unicodeLookalikes), "\n") {
		fields := strings.Split(line, ";")
		from, err1 := strconv.ParseUint(strings.TrimSpace(fields[0]), 16, 32)
		to, err2 := strconv.ParseUint(strings.TrimSpace(fields[1]), 16, 32)
		if err1 != nil || err2 != nil || to >= utf8.RuneSelf || !unicode.IsLetter(rune(to)) {
			panic("unicodeLookalikes: bad line " + line)
		}
		out = append(out, unicodeLookalike{line, rune(from), rune(to)})
	}
	return out
}

// refLookalikes is the look-alike folding of step 4, built from the two
// tables above and the regional indicator symbols, each target already
// through step 6 ("l" is "i").
var refLookalikes = func() map[rune]rune {
	m := map[rune]rune{}
	for _, l := range parseUnicodeLookalikes() {
		m[l.from] = refASCII(l.to)
	}
	for _, l := range parleyLookalikes {
		m[l.from] = l.to
	}
	for r := rune(0x1F1E6); r <= 0x1F1FF; r++ { // REGIONAL INDICATOR SYMBOL LETTER A to Z
		m[r] = refASCII('a' + r - 0x1F1E6)
	}
	return m
}()

// refASCII is steps 5 and 6 for an ASCII letter: lower case, "l" as "i".
func refASCII(r rune) rune {
	r = unicode.ToLower(r)
	if r == 'l' {
		return 'i'
	}
	return r
}

// refInvisible is step 3: marks, format and control characters other than
// whitespace, and the blank letters.
func refInvisible(r rune) bool {
	return slices.Contains(refBlankLetters, r) ||
		!unicode.IsSpace(r) && unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc)
}

// refFold is steps 4 to 6 for one character of the decomposed text: a
// look-alike (as written, or in lower case: capital "Η" looks like "H",
// small "η" like "n") becomes its Latin letter, anything else its full case
// folding.
func refFold(r rune) string {
	if r < utf8.RuneSelf {
		return string(refASCII(r))
	}
	if c, ok := refLookalikes[r]; ok {
		return string(c)
	}
	if r == 'ß' || r == 'ẞ' {
		return "ss"
	}
	f := unicode.ToLower(unicode.ToUpper(r))
	if f < utf8.RuneSelf {
		return string(refASCII(f))
	}
	if c, ok := refLookalikes[f]; ok {
		return string(c)
	}
	return string(f)
}

// refInWord reports whether r, a character of the folded text, belongs to a
// word: a letter, a digit, a mark, or one of the symbols standing for
// letters.
func refInWord(r rune) bool {
	return strings.ContainsRune("@$!|", r) || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// refFoldWord is step 7 for one word.
func refFoldWord(w []rune) {
	letter := slices.ContainsFunc(w, unicode.IsLetter)
	foldable := slices.ContainsFunc(w, func(r rune) bool { return r >= '0' && r <= '9' || strings.ContainsRune("@$!|", r) })
	if !letter || !foldable {
		return
	}
	symbol := func(r rune) bool { return strings.ContainsRune("@$!|", r) }
	first := slices.IndexFunc(w, func(r rune) bool { return !symbol(r) })
	last := len(w) - 1
	for last > first && symbol(w[last]) {
		last--
	}
	for i := first; i <= last; i++ {
		if c, ok := refLeet[w[i]]; ok {
			w[i] = c
		}
	}
	if first == 1 && w[0] == '$' {
		w[0] = 's'
	}
}

// appendNormalizedReference appends the skeleton of s, computed the
// straightforward way from the policy. tmp is unused; the signature is
// appendNormalizedUnicode's.
func appendNormalizedReference(dst []byte, s string, _ *[]byte) []byte {
	// Step 1, and step 4 before step 2: NFKD would turn some look-alikes
	// into letters that look different.
	s = strings.Map(func(r rune) rune {
		if c, ok := refLookalikes[r]; ok {
			return c
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	// Steps 2 to 6: NFKD of the whole text, then each character dropped,
	// made a space or folded.
	var folded []rune
	for _, r := range norm.NFKD.String(s) {
		switch {
		case refInvisible(r):
		case unicode.IsSpace(r):
			folded = append(folded, ' ')
		default:
			folded = append(folded, []rune(refFold(r))...)
		}
	}
	// Step 8: one space between words, none at the ends.
	var out []rune
	for _, r := range folded {
		if r == ' ' && (len(out) == 0 || out[len(out)-1] == ' ') {
			continue
		}
		out = append(out, r)
	}
	if n := len(out); n > 0 && out[n-1] == ' ' {
		out = out[:n-1]
	}
	// Step 7: each word, a run of word characters.
	for i := 0; i < len(out); {
		if !refInWord(out[i]) {
			i++
			continue
		}
		j := i
		for j < len(out) && refInWord(out[j]) {
			j++
		}
		refFoldWord(out[i:j])
		i = j
	}
	// Step 9.
	return norm.NFC.AppendString(dst, string(out))
}

// TestNormalizeMatchesReference checks Normalize against the reference on
// every code point alone and between letters and marks, and on random
// mixtures of the characters where order and composition matter (combining
// marks of different classes, Hangul jamo, Indic vowel parts, compatibility
// characters, look-alikes, digits and symbols).
func TestNormalizeMatchesReference(t *testing.T) {
	var tmp []byte
	check := func(s string) {
		t.Helper()
		got := string(appendNormalizedUnicode(nil, s, &tmp))
		if want := string(appendNormalizedReference(nil, s, &tmp)); got != want {
			t.Fatalf("%+q: Normalize gives %+q, the reference %+q", s, got, want)
		}
	}
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if r >= 0x30000 && r < 0xE0000 {
			r = 0xE0000 // unassigned planes
		}
		check(string(r))
		check("a" + string(r) + "\u0301b")
	}
	pool := []rune("ae1 \u0301\u0327\u0345\u05b0\u0591\u093f\u094d\u09c7\u09be\u0b47\u0b3e\u1100\u1161\u11a8" +
		"가각\u3131\u314f\uac00ﬁ①㎏Å\u2126ǅΐ\U0001D165\U0001D16Dﾞｶ\u0e33\u0f73\u0f81\u200b\u00ad" +
		"ΗηаА4$@!|l.\u3164ßẞ🇫")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		b := make([]rune, rng.IntN(12))
		for i := range b {
			b[i] = pool[rng.IntN(len(pool))]
		}
		check(string(b))
	}
}

// TestNormalizeUnicodeExamples checks Normalize on examples Unicode
// publishes: each look-alike line of confusables.txt above, and the
// compatibility decompositions that Unicode Standard Annex #15 (Unicode
// Normalization Forms) shows in its figures, with the skeleton's own steps
// after them.
func TestNormalizeUnicodeExamples(t *testing.T) {
	for _, l := range parseUnicodeLookalikes() {
		in, want := "x"+string(l.from)+"x", "x"+strings.ReplaceAll(strings.ToLower(string(l.to)), "l", "i")+"x"
		if got := Normalize(in); got != want {
			t.Errorf("%s\n\tNormalize(%q) = %q, want %q", l.line, in, got, want)
		}
	}
	for _, l := range parleyLookalikes {
		if got := Normalize(string(l.from)); got != string(l.to) {
			t.Errorf("Normalize(%q) = %q, want %q (Unicode's prototype: %s)", l.from, got, l.to, l.unicode)
		}
	}
	for _, tt := range []struct{ figure, in, want string }{
		{"ﬁ (U+FB01) → f i", "\uFB01nance", "finance"},
		{"2⁵ → 2 5: a number alone keeps its digits", "2\u2075", "25"},
		{"ẛ̣ (U+1E9B U+0323) → s U+0323 U+0307, marks dropped", "\u1E9B\u0323", "s"},
		{"Å (U+212B ANGSTROM SIGN) → A U+030A", "\u212B", "a"},
		{"Ω (U+2126 OHM SIGN) → Ω, whose small ω looks like w", "\u2126", "w"},
		{"ｶ (U+FF76 HALFWIDTH KATAKANA LETTER KA) → カ", "\uFF76", "\u30AB"},
		{"ﾞ (U+FF9E HALFWIDTH VOICED SOUND MARK) → U+3099, a mark, dropped", "\uFF76\uFF9E", "\u30AB"},
		{"ǆ (U+01C6) → d ž, the caron dropped", "\u01C6", "dz"},
		{"① (U+2460) → 1", "\u2460", "1"},
		{"가 (U+AC00) → ᄀ ᅡ, composed again", "\uAC00", "\uAC00"},
	} {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("UAX #15: %s: Normalize(%+q) = %+q, want %+q", tt.figure, tt.in, got, tt.want)
		}
	}
}
