package rules

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file holds the two views of a text that the engine matches against.
//
// The keyword view (Normalize) is a "skeleton": everything a spammer can
// change without changing what a reader sees is folded away, so that one
// keyword matches every disguise of it. Keywords are passed through the same
// function, so a keyword and the text it must find always agree, whatever the
// policy below decides. The steps, in order:
//
//  1. Bytes that are not valid UTF-8 are dropped (a client shows them as �,
//     and a keyword must not be split by them).
//  2. Unicode NFKD: compatibility forms (fullwidth ｆｒａｕｄ, mathematical
//     𝐟𝐫𝐚𝐮𝐝, circled ⓕ, ligatures ﬁ, superscripts) become plain letters,
//     and accented letters are split into a base letter and combining marks.
//  3. Dropped: combining marks (Mn, Me), so "fráud" and "fraud" are the same
//     and variation selectors disappear; format characters (Cf: zero-width
//     space, joiners, U+2060–U+2064, U+FEFF, the soft hyphen, bidi controls,
//     tag characters); control characters that are not whitespace; and
//     the blank "filler" letters (Hangul fillers, braille blank) used to hide
//     text. Dropping marks costs scripts that need them (Arabic vowel signs,
//     Indic viramas) some precision, never recall: keywords lose the same
//     marks.
//  4. Look-alike letters from Cyrillic, Greek, Armenian and Latin extensions
//     become the Latin letter they imitate (the table confusables below),
//     and regional-indicator symbols become letters. A look-alike is
//     replaced before step 2 too: NFKD turns a few of them into letters
//     that look different (the lunate sigma "ϲ", which looks like "c",
//     into "ς").
//  5. Full case folding: lower case, "ß" becomes "ss", final sigma is sigma.
//  6. "l" becomes "i". Lower case removes the difference between "I" and
//     "l" that a reader cannot see anyway ("kiII" written with capital I's
//     reads as "kill"), and "1", "|" and "!" stand for both letters, so the
//     two are one letter in the skeleton.
//  7. Digits and symbols standing for letters (0→o 1→i 3→e 4→a 5→s 7→t 8→b
//     9→g, @→a, $→s, !→i, |→i) are folded only inside a word (a run of
//     letters, digits and those four symbols) that holds at least one letter.
//     A number alone ("2", "455", "2024", "+49 170 1234567") is left as it
//     is: folding every digit would turn "price 455" into "price ass" and a
//     phone number into a word, and short keywords would then hit innocent
//     numbers. The four symbols are folded only where they cannot be
//     punctuation: between the first and the last letter or digit of the
//     word ("fr@ud", "k|ll"), and "$" also at the very start ("$cam"), so
//     "@alice", "yes!!" and "US$" keep theirs. See docs/benchmarks.md for the
//     measured cost of folding every digit instead.
//  8. Runs of whitespace become one space; leading and trailing space is
//     removed.
//  9. Unicode NFC, which puts back together what step 2 split and the other
//     steps left whole (Hangul syllables, Indic two-part vowels).
//
// Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s), which
// FuzzNormalize checks. Runs of ASCII, most of any post, take a byte loop
// that produces exactly what the general path would (the tests check it,
// and check the general path against NFKD of the whole text).
//
// The clean view (appendClean) is what regular expressions and link
// extraction see: NFKC, the same invisible characters dropped and whitespace
// collapsed, but case, accents, letters and digits as written. Regular
// expressions cannot be normalised the way keywords are, so folding the text
// under them would break patterns for phone numbers, URLs or Russian text;
// authors write (?i) for case and use keywords for disguise-resistant words.
// Known gaps of both views: letters split by punctuation ("f.r.a.u.d"),
// multi-letter look-alikes ("rn" for "m"), and words written with images.

// Normalize returns the skeleton of s that keywords are matched against; see
// the policy above. Keywords go through the same function.
func Normalize(s string) string {
	var tmp []byte
	return string(appendNormalized(nil, s, &tmp))
}

// appendNormalized appends the skeleton of s to dst. tmp is a reusable
// buffer for the final recomposition, which few texts need, so that
// screening allocates nothing.
func appendNormalized(dst []byte, s string, tmp *[]byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return appendNormalizedUnicode(dst, s, tmp)
		}
	}
	return appendNormalizedASCII(dst, s)
}

// asciiFold maps each ASCII byte to what the skeleton holds for it outside
// the digit-and-symbol step: lower case, "l" as "i", whitespace marked with
// ' ' and other control characters with 0 (dropped).
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for c := range utf8.RuneSelf {
		switch {
		case c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == ' ':
			t[c] = ' '
		case c < 0x20 || c == 0x7f:
			t[c] = 0
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		default:
			t[c] = byte(c)
		}
	}
	t['l'], t['L'] = 'i', 'i'
	return t
}()

// The classes of ASCII bytes for the word step.
const (
	classOther  = 0 // punctuation and everything that ends a word
	classLetter = 1
	classDigit  = 2
	classSymbol = 3 // @ $ ! |: a letter inside a word, punctuation outside
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLetter
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = classLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	for _, c := range "@$!|" {
		t[c] = classSymbol
	}
	return t
}()

// leetDigit maps the digits that stand for letters; 2 and 6 stand for
// nothing common and are kept.
var leetDigit = [10]byte{'o', 'i', '2', 'e', 'a', 's', '6', 't', 'b', 'g'}

// skeleton is the state of the word and whitespace steps while a skeleton
// is appended to dst.
type skeleton struct {
	dst       []byte
	start     int  // where this skeleton begins in dst
	wordStart int  // where the current word begins in dst, or -1
	hasLetter bool // the current word holds a letter
	foldable  bool // the current word holds a digit or one of @ $ ! |
	space     bool // whitespace was seen since the last character written
}

func newSkeleton(dst []byte) skeleton {
	return skeleton{dst: dst, start: len(dst), wordStart: -1}
}

// endWord folds the word that has just ended, if it needs it.
func (k *skeleton) endWord() {
	if k.wordStart >= 0 {
		if k.hasLetter && k.foldable {
			foldWord(k.dst[k.wordStart:])
		}
		k.wordStart = -1
	}
}

// white records whitespace: it ends a word and, unless it leads the text,
// becomes one space before the next character.
func (k *skeleton) white() {
	k.endWord()
	k.space = len(k.dst) > k.start
}

// ascii appends the folded ASCII byte c (never 0 or ' ').
func (k *skeleton) ascii(c byte) {
	if k.space {
		k.dst = append(k.dst, ' ')
		k.space = false
	}
	switch asciiClass[c] {
	case classOther:
		k.endWord()
	case classLetter:
		if k.wordStart < 0 {
			k.wordStart, k.foldable = len(k.dst), false
		}
		k.hasLetter = true
	default:
		if k.wordStart < 0 {
			k.wordStart, k.hasLetter = len(k.dst), false
		}
		k.foldable = true
	}
	k.dst = append(k.dst, c)
}

// asciiRun takes a run of ASCII bytes of the input. It is ascii, input and
// white in one loop over local variables: ASCII is most of any post, and
// the loop is most of the time Normalize takes.
func (k *skeleton) asciiRun(s string) {
	dst, start, ws, letter, foldable, space := k.dst, k.start, k.wordStart, k.hasLetter, k.foldable, k.space
	for i := 0; i < len(s); i++ {
		c := asciiFold[s[i]]
		if c <= ' ' {
			if c == ' ' {
				if ws >= 0 {
					if letter && foldable {
						foldWord(dst[ws:])
					}
					ws = -1
				}
				space = len(dst) > start
			}
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		switch asciiClass[c] {
		case classLetter:
			if ws < 0 {
				ws, foldable = len(dst), false
			}
			letter = true
		case classOther:
			if ws >= 0 {
				if letter && foldable {
					foldWord(dst[ws:])
				}
				ws = -1
			}
		default:
			if ws < 0 {
				ws, letter = len(dst), false
			}
			foldable = true
		}
		dst = append(dst, c)
	}
	k.dst, k.wordStart, k.hasLetter, k.foldable, k.space = dst, ws, letter, foldable, space
}

// other appends the folded non-ASCII rune r with its flags.
func (k *skeleton) other(r rune, flags uint8) {
	if k.space {
		k.dst = append(k.dst, ' ')
		k.space = false
	}
	if flags&fWord != 0 {
		if k.wordStart < 0 {
			k.wordStart, k.hasLetter, k.foldable = len(k.dst), false, false
		}
		k.hasLetter = k.hasLetter || flags&fLetter != 0
	} else {
		k.endWord()
	}
	k.dst = utf8.AppendRune(k.dst, r)
}

// appendNormalizedASCII is the skeleton of pure ASCII text.
func appendNormalizedASCII(dst []byte, s string) []byte {
	k := newSkeleton(dst)
	k.asciiRun(s)
	k.endWord()
	return k.dst
}

// foldWord folds the digits and symbols of one word that holds a letter,
// in place. Symbols fold only inside the word's core, from its first
// to its last letter or digit, so that "yes!!", "@alice" and "US$" keep
// their punctuation while "fr@ud" and "k|ll" lose their disguise; "$" also
// folds when it starts the word right before the core ("$cam"). Digits and
// symbols are single ASCII bytes that become single ASCII letters, so the
// word keeps its length, boundaries and core, which is what makes the step
// idempotent.
func foldWord(w []byte) {
	first, last := -1, -1
	for i, c := range w {
		if c >= utf8.RuneSelf || asciiClass[c] != classSymbol {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first; i <= last; i++ {
		switch c := w[i]; {
		case c >= '0' && c <= '9':
			w[i] = leetDigit[c-'0']
		case c == '$':
			w[i] = 's'
		case c == '@':
			w[i] = 'a'
		case c == '!' || c == '|':
			w[i] = 'i'
		}
	}
	if first == 1 && w[0] == '$' {
		w[0] = 's'
	}
}

// appendNormalizedUnicode is the general path of Normalize. It computes
// NFKD one character at a time instead of calling norm.NFKD on the text:
// decomposition is a property of each character, and the only thing NFKD
// does across characters, putting combining marks in canonical order,
// matters neither to the marks (dropped) nor to what is left (the final NFC
// puts it in order). That lets ASCII, most of any post, skip the normaliser
// and saves its buffer; normalize_ref_test.go keeps the straightforward
// version to check this one against.
func appendNormalizedUnicode(dst []byte, s string, tmp *[]byte) []byte {
	tables := bmp()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	k := newSkeleton(dst)
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf {
				j++
			}
			k.asciiRun(s[i:j])
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r < bmpSize && tables.flags[r]&fDecomposes == 0 {
			k.inputRune(r, tables)
			continue
		}
		var b [utf8.UTFMax]byte
		d := norm.NFKD.Properties(b[:utf8.EncodeRune(b[:], r)]).Decomposition()
		if d == nil {
			k.inputRune(r, tables)
			continue
		}
		for j := 0; j < len(d); {
			if c := d[j]; c < utf8.RuneSelf {
				k.input(c)
				j++
				continue
			}
			r, size := utf8.DecodeRune(d[j:])
			j += size
			k.inputRune(r, tables)
		}
	}
	k.endWord()
	dst = k.dst
	// Recompose what decomposition split (Hangul, Indic vowels) and order
	// what is left; everything else is composed or has lost its marks.
	if out := dst[k.start:]; !norm.NFC.IsNormal(out) {
		*tmp = append((*tmp)[:0], out...)
		dst = norm.NFC.Append(dst[:k.start], *tmp...)
	}
	return dst
}

// input takes one ASCII byte of the decomposed text.
func (k *skeleton) input(c byte) {
	switch c = asciiFold[c]; c {
	case 0:
	case ' ':
		k.white()
	default:
		k.ascii(c)
	}
}

// inputRune takes one non-ASCII character of the decomposed text.
func (k *skeleton) inputRune(r rune, tables *bmpTables) {
	var flags uint8
	if r < bmpSize {
		flags = tables.flags[r]
		r = rune(tables.fold[r])
	} else {
		flags = runeFlags(r)
		r = foldRune(r)
	}
	switch {
	case flags&fDrop != 0:
	case flags&fSpace != 0:
		k.white()
	case r < utf8.RuneSelf:
		// A look-alike or a case folding that lands in ASCII.
		k.ascii(byte(r))
	case r == 'ß':
		// The one full case folding that is more than one letter after
		// NFKD: "ß" and "ẞ" are "ss".
		k.ascii('s')
		k.ascii('s')
	default:
		// The word step needs the flags of the folded letter.
		if r < bmpSize {
			flags = tables.flags[r]
		} else {
			flags = runeFlags(r)
		}
		k.other(r, flags)
	}
}

// Flags of a rune, precomputed for the Basic Multilingual Plane.
const (
	fDrop       = 1 << iota // dropped from the skeleton: see invisible
	fDropClean              // dropped from the clean view: see invisibleInClean
	fSpace                  // whitespace
	fLetter                 // a letter
	fWord                   // a letter, digit or mark: part of a word
	fDecomposes             // has an NFKD decomposition and is no look-alike (step 4)
)

const bmpSize = 0x10000

// bmpTables holds the flags and skeleton folding of every rune of the Basic
// Multilingual Plane, so that the loops above pay an array index per rune
// instead of several binary searches in Unicode's range tables. Building it
// takes a few milliseconds, so it is built on first use, not at start-up.
type bmpTables struct {
	flags [bmpSize]uint8
	fold  [bmpSize]uint16 // foldRune, which maps the BMP into itself
}

var bmp = sync.OnceValue(func() *bmpTables {
	t := new(bmpTables)
	for r := rune(0); r < bmpSize; r++ {
		t.flags[r] = runeFlags(r)
		f := foldRune(r)
		if f >= bmpSize {
			panic("rules: case folding leaves the Basic Multilingual Plane")
		}
		t.fold[r] = uint16(f)
	}
	return t
})

// runeFlags computes the flags of r.
func runeFlags(r rune) uint8 {
	var f uint8
	if invisible(r) {
		f |= fDrop
	}
	if invisibleInClean(r) {
		f |= fDropClean
	}
	if unicode.IsSpace(r) {
		f |= fSpace
	}
	if unicode.IsLetter(r) {
		f |= fLetter | fWord
	}
	if unicode.IsDigit(r) || unicode.IsMark(r) || (r < utf8.RuneSelf && asciiClass[r] == classSymbol) {
		f |= fWord
	}
	var b [utf8.UTFMax]byte
	if _, lookalike := confusables[r]; !lookalike && norm.NFKD.Properties(b[:utf8.EncodeRune(b[:], r)]).Decomposition() != nil {
		// A look-alike is replaced before it would be decomposed (step 4).
		f |= fDecomposes
	}
	return f
}

// invisible reports whether r is dropped from the skeleton: marks, format
// and control characters (other than whitespace), and letters that render
// as nothing.
func invisible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800:
		// Hangul fillers and the braille blank: letters (or a symbol) that
		// draw nothing, a favourite for blank names and split words.
		return true
	}
	if unicode.IsSpace(r) {
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc)
}

// invisibleInClean is invisible without the combining marks that carry
// meaning (accents), keeping only the marks that draw nothing: variation
// selectors, Mongolian free variation selectors and the combining grapheme
// joiner.
func invisibleInClean(r rune) bool {
	switch {
	case r == 0x034F, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF, r >= 0x180B && r <= 0x180D:
		return true
	case unicode.In(r, unicode.Mn, unicode.Me):
		return false
	}
	return invisible(r)
}

// foldRune maps a non-ASCII rune to its skeleton letter: a look-alike to the
// Latin letter it imitates, otherwise its case folding. Looking the rune up
// before and after case folding lets the table hold only what a reader sees:
// capital Greek eta "Η" looks like "H", small eta "η" like "n".
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(asciiFold[r])
	}
	if c, ok := confusables[r]; ok {
		return c
	}
	switch r {
	case 'ß', 'ẞ':
		return 'ß'
	}
	f := unicode.ToLower(unicode.ToUpper(r))
	if f < utf8.RuneSelf {
		return rune(asciiFold[f])
	}
	if c, ok := confusables[f]; ok {
		return c
	}
	return f
}

// confusables maps letters that look like a Latin letter to it (in lower
// case, with "l" already as "i"). It is a short, curated list of what spam
// actually uses, not Unicode's full confusables table, which also maps
// letters of other scripts that merely resemble each other and would fold
// much ordinary Cyrillic and Greek text into noise.
var confusables = func() map[rune]rune {
	m := map[rune]rune{}
	add := func(from string, to string) {
		fr, tr := []rune(from), []rune(to)
		if len(fr) != len(tr) {
			panic("rules: confusables table rows differ in length")
		}
		for i, r := range fr {
			m[r] = tr[i]
		}
	}
	// Cyrillic, capital and small.
	add("АВЕКМНОРСТХУЅІЈӀԌ", "abekmhopctxysijig")
	add("аеорсухѕіјӏԁԛԝһүҽгкмнтвьпєԍ", "aeopcyxsijidqwhyerkmhtbbneg")
	// Greek, capital and small.
	add("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹϺ", "abezhikmnoptyxcm")
	add("αβγεζηικμνορτυχωϲϳ", "abyezniku"+"voptuxwcj")
	// Armenian, Latin extensions and a few symbols used as letters.
	add("օսհոցզ", "ouhngq")
	add("ɑɡɩǀıɪʏʟℓ", "agiiiiyii")
	// Regional indicator symbols (the letters of flag emoji): 🇫🇷🇦🇺🇩.
	for r := rune(0x1F1E6); r <= 0x1F1FF; r++ {
		m[r] = 'a' + (r - 0x1F1E6)
	}
	// Each target goes through the ASCII folding too ("l" is "i").
	for r, c := range m {
		m[r] = rune(asciiFold[c])
	}
	return m
}()

// appendClean appends the clean view of s: NFKC, invisible characters
// dropped, whitespace collapsed, everything else as written. Regular
// expressions and link extraction read it.
func appendClean(dst []byte, s string, tmp *[]byte) []byte {
	start := len(dst)
	space := false
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	src := s
	if !ascii {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "")
		}
		*tmp = norm.NFKC.AppendString((*tmp)[:0], s)
		src = unsafeString(*tmp)
	}
	var tables *bmpTables
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			i++
			switch asciiFold[c] {
			case 0:
				continue
			case ' ':
				space = len(dst) > start
				continue
			}
			if space {
				dst = append(dst, ' ')
				space = false
			}
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		i += size
		var flags uint8
		if r < bmpSize {
			if tables == nil {
				tables = bmp()
			}
			flags = tables.flags[r]
		} else {
			flags = runeFlags(r)
		}
		switch {
		case flags&fSpace != 0:
			space = len(dst) > start
			continue
		case flags&fDropClean != 0:
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = utf8.AppendRune(dst, r)
	}
	if ascii {
		return dst
	}
	// Dropping a zero-width character between a letter and its accent can
	// leave a sequence that NFC would compose; compose it, so that a
	// pattern with "é" finds it.
	if out := dst[start:]; !norm.NFKC.IsNormal(out) {
		*tmp = append((*tmp)[:0], out...)
		dst = norm.NFKC.Append(dst[:start], *tmp...)
	}
	return dst
}
