package rules

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// appendNormalizedReference is the skeleton computed the straightforward
// way, NFKD of the whole text first, as the policy in normalize.go
// describes it. appendNormalizedUnicode must produce the same; the tests
// and FuzzNormalize check that it does.
func appendNormalizedReference(dst []byte, s string, tmp *[]byte) []byte {
	tables := bmp()
	// Invalid bytes go first: left in place, they stop NFKD from
	// decomposing the character after them.
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	src := norm.NFKD.AppendString((*tmp)[:0], s)
	*tmp = src
	k := newSkeleton(dst)
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			switch c = asciiFold[c]; c {
			case 0:
			case ' ':
				k.white()
			default:
				k.ascii(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		i += size
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
			// The one full case folding that is more than one letter
			// after NFKD: "ß" and "ẞ" are "ss".
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
	k.endWord()
	dst = k.dst
	// Recompose what NFKD split (Hangul, Indic vowels); everything else
	// is already composed or has lost its marks.
	if out := dst[k.start:]; !norm.NFC.IsNormal(out) {
		*tmp = append((*tmp)[:0], out...)
		dst = norm.NFC.Append(dst[:k.start], *tmp...)
	}
	return dst
}

// TestNormalizeMatchesReference checks the per-character decomposition
// against NFKD of the whole text: every code point alone and between
// letters and marks, and random mixtures of the characters where order and
// composition matter (combining marks of different classes, Hangul jamo,
// Indic vowel parts, compatibility characters).
func TestNormalizeMatchesReference(t *testing.T) {
	var tmp []byte
	check := func(s string) {
		t.Helper()
		got := string(appendNormalizedUnicode(nil, s, &tmp))
		if want := string(appendNormalizedReference(nil, s, &tmp)); got != want {
			t.Fatalf("%+q: per character %+q, whole text %+q", s, got, want)
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
		"가각\u3131\u314f\uac00ﬁ①㎏Å\u2126ǅΐ\U0001D165\U0001D16Dﾞｶ\u0e33\u0f73\u0f81\u200b\u00ad")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		b := make([]rune, rng.IntN(12))
		for i := range b {
			b[i] = pool[rng.IntN(len(pool))]
		}
		check(string(b))
	}
}
