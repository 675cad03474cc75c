package parley

import (
	"strings"
	"unicode/utf8"
)

// What members write (messages and captions, chat titles and descriptions,
// display names) is cleaned before it is stored, by CleanText for text of
// several lines and CleanLine for a name or title. Cleaning removes what no
// one types on purpose and what is used to disguise text:
//
//   - C0 and C1 control characters (NUL, ESC, DEL and the like), which a
//     terminal, a log or another client may act on; a line break and a tab
//     stay in text of several lines, and CR LF becomes one line break;
//   - the bidirectional embeddings and overrides U+202A–U+202E (LRE, RLE,
//     PDF, LRO, RLO), which force a direction on characters that do not
//     have it: RLO turns "exe.jpg" into "gpj.exe" on screen. Nothing a
//     person writes needs them; the isolates replaced them in Unicode 6.3;
//   - the deprecated format characters U+206A–U+206F.
//
// The isolates U+2066–U+2069 (LRI, RLI, FSI, PDI) are kept: they are how a
// writer puts an Arabic name inside an English sentence, and they reorder
// nothing outside their own span. They are balanced, so that no span stays
// open past the end of its line or of the text: a PDI that closes nothing
// is dropped, and the spans left open are closed. The marks U+200E, U+200F
// and U+061C, which only state a direction, are kept.
//
// The web client also isolates every member-written string where it shows
// it, so that text stored before this cleaning, or a right-to-left name,
// cannot reorder the page around it.

// CleanText cleans text of several lines, such as a message or a chat's
// description. s must be valid UTF-8.
func CleanText(s string) string { return clean(s, false) }

// CleanLine cleans a one-line text, such as a display name or a chat
// title: line breaks and tabs become spaces, and spaces at either end are
// trimmed. s must be valid UTF-8.
func CleanLine(s string) string {
	return strings.TrimSpace(clean(strings.TrimSpace(s), true))
}

func clean(s string, oneLine bool) string {
	if isClean(s, oneLine) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	open := 0 // isolates opened and not yet closed on this line
	closeIsolates := func() {
		for ; open > 0; open-- {
			b.WriteRune(pdi)
		}
	}
	lineBreak := func() {
		closeIsolates()
		if oneLine {
			b.WriteByte(' ')
		} else {
			b.WriteByte('\n')
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			lineBreak()
		case r == '\n' || r == '\u2028' || r == '\u2029':
			lineBreak()
		case r == '\t':
			if oneLine {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\t')
			}
		case r == lri || r == rli || r == fsi:
			open++
			b.WriteRune(r)
		case r == pdi:
			if open > 0 {
				open--
				b.WriteRune(r)
			}
		case dropped(r):
		default:
			b.WriteRune(r)
		}
	}
	closeIsolates()
	return b.String()
}

// The directional isolates: left-to-right, right-to-left, first strong,
// and pop directional isolate.
const (
	lri = '\u2066'
	rli = '\u2067'
	fsi = '\u2068'
	pdi = '\u2069'
)

// dropped reports whether cleaning removes r wherever it appears.
func dropped(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x206a && r <= 0x206f)
}

// isClean reports whether cleaning would leave s as it is, so that the
// common case (plain text) is not copied.
func isClean(s string, oneLine bool) bool {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			if oneLine {
				return false
			}
		case dropped(r), r == '\r', r == '\u2028', r == '\u2029', r >= lri && r <= pdi:
			return false
		}
	}
	return true
}
