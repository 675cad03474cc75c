package campaign

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// The synthetic world of the tests and benchmarks, generated from a seed:
// innocent posts that read like chat and channel traffic, and spam campaigns
// made of a template and copies of it that are disguised (look-alike
// letters, digits for letters, invisible characters, emoji, case, dots
// inside words) and edited (a word changed, inserted or deleted, two words
// swapped, a phrase moved, a tag appended, a typo).

// commonEnglish are the words innocent posts are mostly made of, most
// frequent first; the Zipf draw below favours the front of the list.
var commonEnglish = strings.Fields(`the of and to in is you that it he was for on are as with his
	they at be this have from or one had by word but not what all were we when your can said
	there use an each which she do how their if will up other about out many then them these
	so some her would make like him into time has look two more write go see number no way
	could people my than first water been call who oil its now find long down day did get come
	made may part channel news today update market price weather match team game city council
	school students report video photo link join read morning evening week month year good new
	great best free please thanks everyone friends family love happy birthday congratulations
	meeting project release version support question answer help issue fixed open closed
	money bitcoin crypto win prize offer limited click bonus account bank transfer send`)

var synthSyllables = strings.Fields(`ka ri to mo na be lu si de ra po vi ne ta ko mi
	sa do re li an ex ur ol in ma ve ro ti pa zu fe go hu jo qui wen dar mel ost`)

var emoji = []string{"😀", "🔥", "👍", "💰", "🚀", "✅", "❤️", "🎁", "⭐", "👉"}

// lookAlikes maps Latin letters to Cyrillic and Greek letters that look the
// same; rules.Normalize folds them back.
var lookAlikes = map[byte][]string{
	'a': {"а", "α"}, 'e': {"е"}, 'o': {"о", "ο"}, 'p': {"р"}, 'c': {"с"},
	'y': {"у"}, 'x': {"х"}, 'i': {"і"}, 'k': {"κ"},
}

// leet maps letters to the digits and symbols rules.Normalize reads as them.
var leet = map[byte]string{'o': "0", 'i': "1", 'e': "3", 'a': "4", 's': "5", 't': "7"}

type synthWorld struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

// newSynthWorld builds a vocabulary of the common words followed by 30,000
// generated ones, drawn with a Zipf law, as the words of real posts are.
func newSynthWorld(seed uint64) *synthWorld {
	rng := rand.New(rand.NewPCG(seed, 2026))
	w := &synthWorld{rng: rng, vocab: append([]string(nil), commonEnglish...)}
	seen := map[string]bool{}
	for _, v := range w.vocab {
		seen[v] = true
	}
	for len(w.vocab) < 30_000 {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(synthSyllables[rng.IntN(len(synthSyllables))])
		}
		if s := b.String(); !seen[s] {
			seen[s] = true
			w.vocab = append(w.vocab, s)
		}
	}
	w.zipf = rand.NewZipf(rng, 1.07, 2, uint64(len(w.vocab)-1))
	return w
}

func (w *synthWorld) word() string { return w.vocab[w.zipf.Uint64()] }

// rareWord is a word from the long tail, as the names, brands and made-up
// words of a spam text are.
func (w *synthWorld) rareWord() string {
	return w.vocab[len(commonEnglish)+w.rng.IntN(len(w.vocab)-len(commonEnglish))]
}

// innocent returns a post of 3 to 60 words.
func (w *synthWorld) innocent() string {
	n := 3 + w.rng.IntN(58)
	if w.rng.IntN(3) == 0 {
		n = 3 + w.rng.IntN(10) // many chat messages are short
	}
	words := make([]string, 0, n)
	for range n {
		switch x := w.rng.IntN(100); {
		case x < 3:
			words = append(words, fmt.Sprint(w.rng.IntN(10_000)))
		case x < 5:
			words = append(words, emoji[w.rng.IntN(len(emoji))])
		case x < 6:
			words = append(words, "https://example.com/"+w.rareWord())
		default:
			wd := w.word()
			if w.rng.IntN(15) == 0 {
				wd += []string{".", ",", "!", "?"}[w.rng.IntN(4)]
			}
			words = append(words, wd)
		}
	}
	return strings.Join(words, " ")
}

// template returns a spam text of 12 to 45 words: common words with rare
// ones mixed in and a link.
func (w *synthWorld) template() string {
	n := 12 + w.rng.IntN(34)
	words := make([]string, 0, n+1)
	for range n {
		if w.rng.IntN(4) == 0 {
			words = append(words, w.rareWord())
		} else {
			words = append(words, w.word())
		}
	}
	at := w.rng.IntN(len(words))
	words = append(words[:at], append([]string{"t.me/" + w.rareWord() + fmt.Sprint(w.rng.IntN(100))}, words[at:]...)...)
	return strings.Join(words, " ")
}

// edits are the changes a copy of a template gets that change its words.
type edits struct {
	min, max int // how many word edits, drawn uniformly
}

// variant returns a copy of tpl with e's number of word edits and a few
// disguises that rules.Normalize and the word splitter undo.
func (w *synthWorld) variant(tpl string, e edits) string {
	words := strings.Fields(tpl)
	for range e.min + w.rng.IntN(e.max-e.min+1) {
		i := w.rng.IntN(len(words))
		switch w.rng.IntN(7) {
		case 0: // a word replaced
			words[i] = w.word()
		case 1: // a word inserted
			words = append(words[:i], append([]string{w.word()}, words[i:]...)...)
		case 2: // a word deleted
			if len(words) > 4 {
				words = append(words[:i], words[i+1:]...)
			}
		case 3: // two neighbours swapped
			if i+1 < len(words) {
				words[i], words[i+1] = words[i+1], words[i]
			}
		case 4: // a tag that differs in every copy appended
			words = append(words, fmt.Sprintf("#%s%d", w.rareWord(), w.rng.IntN(1000)))
		case 5: // a typo: one letter doubled
			if wd := words[i]; len(wd) > 2 {
				j := 1 + w.rng.IntN(len(wd)-1)
				words[i] = wd[:j] + wd[j-1:j] + wd[j:]
			}
		case 6: // a phrase of up to three words moved elsewhere
			n := min(1+w.rng.IntN(3), len(words)-i)
			phrase := slices.Clone(words[i : i+n])
			rest := slices.Delete(slices.Clone(words), i, i+n)
			at := w.rng.IntN(len(rest) + 1)
			words = slices.Insert(rest, at, phrase...)
		}
	}
	for i, wd := range words {
		words[i] = w.disguise(wd)
	}
	if w.rng.IntN(2) == 0 {
		at := w.rng.IntN(len(words) + 1)
		words = append(words[:at], append([]string{emoji[w.rng.IntN(len(emoji))]}, words[at:]...)...)
	}
	return strings.Join(words, " ")
}

// disguise changes how a word looks without changing what it reads as.
func (w *synthWorld) disguise(wd string) string {
	if len(wd) < 3 || w.rng.IntN(4) != 0 || strings.ContainsAny(wd, "/#") {
		return wd
	}
	b := []byte(wd)
	i := w.rng.IntN(len(b))
	var out string
	switch w.rng.IntN(6) {
	case 0:
		if alts, ok := lookAlikes[b[i]]; ok {
			out = wd[:i] + alts[w.rng.IntN(len(alts))] + wd[i+1:]
		}
	case 1:
		if d, ok := leet[b[i]]; ok {
			out = wd[:i] + d + wd[i+1:]
		}
	case 2:
		out = wd[:i] + "\u200b" + wd[i:]
	case 3:
		out = strings.ToUpper(wd)
	case 4:
		out = wd[:i] + emoji[w.rng.IntN(len(emoji))] + wd[i:]
	case 5:
		if i > 0 {
			out = wd[:i] + "." + wd[i:]
		}
	}
	if out == "" {
		return wd
	}
	return out
}
