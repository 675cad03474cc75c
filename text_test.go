package parley

import (
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	text, line := CleanText, CleanLine
	for _, c := range []struct {
		name     string
		clean    func(string) string
		in, want string
	}{
		{"plain text is kept", text, "Hello, wörld! 👋🏽", "Hello, wörld! 👋🏽"},
		{"line breaks and tabs are kept", text, "one\n\ttwo", "one\n\ttwo"},
		{"CR LF and lone CR become a line break", text, "a\r\nb\rc", "a\nb\nc"},
		{"line and paragraph separators become line breaks", text, "a\u2028b\u2029c", "a\nb\nc"},
		{"NUL, ESC, BEL and DEL are dropped", text, "a\x00b\x1b[31mc\x07d\x7f", "ab[31mcd"},
		{"C1 controls are dropped", text, "a\u0085b\u009bc", "abc"},
		{"embeddings and overrides are dropped", text, "file\u202egpj.exe \u202aLRE\u202b\u202c\u202d", "filegpj.exe LRE"},
		{"deprecated format characters are dropped", text, "a\u206ab\u206fc", "abc"},
		{"direction marks are kept", text, "a\u200eb\u200fc\u061c", "a\u200eb\u200fc\u061c"},
		{"joiners are kept", text, "👩\u200d💻", "👩\u200d💻"},
		{"balanced isolates are kept", text, "x \u2067שלום\u2069 y", "x \u2067שלום\u2069 y"},
		{"an isolate left open is closed at the end", text, "x \u2068abc", "x \u2068abc\u2069"},
		{"an isolate is closed before a line break", text, "\u2067a\nb", "\u2067a\u2069\nb"},
		{"nested isolates are closed in turn", text, "\u2066\u2067a", "\u2066\u2067a\u2069\u2069"},
		{"a PDI that closes nothing is dropped", text, "a\u2069b\u2066c\u2069\u2069", "ab\u2066c\u2069"},
		{"spaces are kept in text", text, "  indented  ", "  indented  "},
		{"a plain name is kept", line, "Ada Lovelace", "Ada Lovelace"},
		{"in a line, breaks and tabs become spaces", line, "Ada\r\nLove\tlace\nX", "Ada Love lace X"},
		{"a line's ends are trimmed", line, " \tAda\n", "Ada"},
		{"controls and overrides are dropped from a line", line, "\x1bAda\u202e\x00", "Ada"},
		{"an isolate left open in a line is closed", line, "\u2067אדה", "\u2067אדה\u2069"},
		{"a line of only controls leaves nothing", line, "\x00\x01\u202e", ""},
	} {
		if got := c.clean(c.in); got != c.want {
			t.Errorf("%s: %q became %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

// TestCleanIsStable checks that cleaning clean text changes nothing, so
// text cleaned when it was written and cleaned again on an edit or a
// forward stays the same.
func TestCleanIsStable(t *testing.T) {
	for _, s := range []string{"a\r\nb\u202e\u2067c", "\u2069\u2066\u2066x\ny\u2069", "\x00\u2028\t"} {
		for _, f := range []func(string) string{CleanText, CleanLine} {
			once := f(s)
			if twice := f(once); twice != once {
				t.Errorf("cleaning %q twice gives %q, once %q", s, twice, once)
			}
		}
	}
}

// FuzzCleanText checks what cleaning promises for any text: nothing it
// drops is left, isolates are balanced on every line, and cleaning again
// changes nothing.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "plain", "a\r\nb", "\u202egpj.exe", "\u2067\u2069\u2069\u2066", "\x00\x1b\u0085\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip()
		}
		for _, oneLine := range []bool{false, true} {
			out := clean(s, oneLine)
			open := 0
			for _, r := range out {
				switch {
				case r == '\n':
					if oneLine || open != 0 {
						t.Fatalf("clean(%q, %v) = %q: a line break in a line, or inside an isolate", s, oneLine, out)
					}
				case r == '\t':
					if oneLine {
						t.Fatalf("clean(%q, true) = %q keeps a tab", s, out)
					}
				case dropped(r) || r == '\r' || r == '\u2028' || r == '\u2029':
					t.Fatalf("clean(%q, %v) = %q keeps %U", s, oneLine, out, r)
				case r == lri || r == rli || r == fsi:
					open++
				case r == pdi:
					if open--; open < 0 {
						t.Fatalf("clean(%q, %v) = %q has a PDI that closes nothing", s, oneLine, out)
					}
				}
			}
			if open != 0 {
				t.Fatalf("clean(%q, %v) = %q leaves %d isolates open", s, oneLine, out, open)
			}
			if again := clean(out, oneLine); again != out {
				t.Fatalf("clean(%q, %v) = %q, and again %q", s, oneLine, out, again)
			}
		}
	})
}
