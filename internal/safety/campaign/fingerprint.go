package campaign

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"parley/internal/safety/rules"
)

// This file turns a post's text into the set of shingles that near-duplicate
// detection compares, and the set into a MinHash signature.
//
// Words. The text first goes through rules.Normalize, the skeleton the text
// rules match against: case, compatibility forms, accents, invisible
// characters, look-alike letters and digits standing for letters are folded
// away, so "FR€€ crураto" with Cyrillic letters and "free crypto" are the
// same words. The skeleton is then cut into words at whitespace only;
// everything that is neither a letter nor a digit (punctuation, emoji and
// other symbols) is dropped without cutting, so "fr.ee", "fr😀ee" and "free"
// are one word, and an emoji inserted between words leaves no trace. Letters
// of scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar)
// are a word each, so that Chinese or Thai spam still has words to compare.
//
// Shingles. The shingles of a text are its words (unigrams) and its pairs of
// consecutive words (bigrams), each hashed to 64 bits. Words alone make a
// copy robust to reordering and to edits: a changed word changes one
// unigram. Bigrams add word order, so that two unrelated texts made of the
// same vocabulary do not look alike. Very common words ("the", "и", "de")
// are not unigram shingles, and a bigram of two of them ("of the", "thank
// you") is not a bigram shingle: every text has them, and keeping them would
// make unrelated texts alike. Per edited word a copy loses about three
// shingles out of two per word. See docs/campaigns.md for the measurement
// that chose this over bigrams alone, trigrams and character 5-grams.
//
// Signature. Jaccard similarity of two shingle sets, |A∩B| / |A∪B|, is what
// "near-duplicate" means here, and MinHash estimates it: for each of
// signatureSlots independent hash functions, the slot holds the smallest hash
// of any shingle in the set, and two sets agree on a slot with probability
// exactly their Jaccard similarity. The fraction of agreeing slots is the
// estimate.

// signatureSlots is the number of MinHash values in a signature. With 64,
// the estimate of a similarity of 0.75 has a standard deviation of 0.054,
// and a signature costs 128 bytes.
const signatureSlots = 64

// signature is a MinHash signature: slot i holds the top 16 bits of the
// smallest value of hash function i over the post's shingles. Keeping 16 of
// 64 bits makes two different minima agree by chance with probability
// 1/65536, which raises every estimate by at most 0.0015% and halves memory.
type signature [signatureSlots]uint16

// agreement is the number of slots on which a and b are equal: the
// estimated Jaccard similarity times signatureSlots.
func agreement(a, b *signature) int {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

// minhashMul and minhashAdd define the hash functions of the signature:
// h_i(x) = minhashMul[i]*x + minhashAdd[i] (mod 2^64), applied to a shingle
// hash x that is already well mixed. They come from a fixed seed, so that a
// signature computed today equals the one computed from the same text after
// a restart or on another machine.
var minhashMul, minhashAdd = func() (mul, add [signatureSlots]uint64) {
	state := uint64(0x5eed_ca4a_9a16_2026)
	for i := range signatureSlots {
		mul[i] = splitmix64(&state) | 1
		add[i] = splitmix64(&state)
	}
	return mul, add
}()

// splitmix64 advances state and returns the next value of the SplitMix64
// generator.
func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	return mix64(*state)
}

// mix64 is the SplitMix64 finaliser: every input bit affects every output
// bit, which the multiply-add hash functions above rely on.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fnv1a hashes a word. Words are short, and FNV-1a is the cheapest hash
// whose value does not change between processes (hash/maphash is seeded at
// random on every start).
func fnv1a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// word is one word of a text: its hash and whether it is a very common word.
type word struct {
	hash   uint64
	common bool
}

// fingerprinter holds the buffers one fingerprint computation needs, so that
// observing a post allocates little. It is not safe for concurrent use.
type fingerprinter struct {
	hashes   []uint64
	words    []word
	shingles []uint64
	token    []byte
}

// appendWords appends the words of text to dst; see the policy at the top of
// this file.
func (f *fingerprinter) appendWords(dst []word, text string) []word {
	f.hashes = appendWordHashes(f.hashes[:0], &f.token, text)
	for _, h := range f.hashes {
		_, common := commonWords[h]
		dst = append(dst, word{hash: h, common: common})
	}
	return dst
}

// appendWordHashes appends the hash of each word of text to dst. token is a
// reusable buffer.
func appendWordHashes(dst []uint64, token *[]byte, text string) []uint64 {
	*token = splitWords(text, *token, func(w []byte) { dst = append(dst, fnv1a(w)) })
	return dst
}

// splitWords calls yield with each word of the skeleton of text, in order;
// see the policy at the top of this file. token is a reusable buffer, which
// it returns; yield must not keep the slice it is given.
func splitWords(text string, token []byte, yield func(word []byte)) []byte {
	skeleton := rules.Normalize(text)
	tok := token[:0]
	flush := func() {
		if len(tok) > 0 {
			yield(tok)
			tok = tok[:0]
		}
	}
	for i := 0; i < len(skeleton); {
		c := skeleton[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ':
				flush()
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				tok = append(tok, c)
			}
			// Normalize leaves no upper-case ASCII and no whitespace but
			// single spaces; the rest is punctuation, dropped.
			continue
		}
		r, size := utf8.DecodeRuneInString(skeleton[i:])
		i += size
		switch {
		case unicode.IsSpace(r):
			flush()
		case isUnspacedScript(r):
			flush()
			tok = utf8.AppendRune(tok, r)
			flush()
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
			tok = utf8.AppendRune(tok, r)
		}
	}
	flush()
	return tok
}

// isUnspacedScript reports whether r belongs to a script written without
// spaces between words, whose letters are therefore words of their own.
func isUnspacedScript(r rune) bool {
	if r < 0x0e00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// appendShingles appends to dst the hashes of the shingles of words: every
// word that is not common, and every bigram whose words are not both common.
// Duplicates are kept here and removed by the caller.
func appendShingles(dst []uint64, words []word) []uint64 {
	for i, w := range words {
		if !w.common {
			dst = append(dst, mix64(w.hash))
		}
		if i > 0 {
			if prev := words[i-1]; !prev.common || !w.common {
				dst = append(dst, mix64(prev.hash*0x9e3779b97f4a7c15+w.hash))
			}
		}
	}
	return dst
}

// fingerprint computes the shingles of text and, if it has at least
// minShingles distinct ones, its signature. ok is false for texts too short
// to compare: the few shingles of "ok", "thanks" or "good morning everyone"
// are shared by countless unrelated posts.
func (f *fingerprinter) fingerprint(text string, minShingles int) (sig signature, distinct int, ok bool) {
	f.words = f.appendWords(f.words[:0], text)
	f.shingles = appendShingles(f.shingles[:0], f.words)
	slices.Sort(f.shingles)
	f.shingles = slices.Compact(f.shingles)
	distinct = len(f.shingles)
	if distinct < minShingles || distinct == 0 {
		return sig, distinct, false
	}
	return minhash(f.shingles), distinct, true
}

// minhash computes the signature of a non-empty set of shingle hashes. The
// loop runs over the shingles once per slot, so that the slot's multiplier,
// addend and running minimum stay in registers.
func minhash(shingles []uint64) signature {
	var sig signature
	for i := range sig {
		mul, add, lowest := minhashMul[i], minhashAdd[i], ^uint64(0)
		for _, x := range shingles {
			lowest = min(lowest, mul*x+add)
		}
		sig[i] = uint16(lowest >> 48)
	}
	return sig
}

// commonWords are the hashes of the skeletons of very common words in the
// languages most posts are written in. A bigram of two of them is not a
// shingle. The list is fixed, not learned from traffic: a signature must not
// change after it is stored, or posts stored yesterday could no longer be
// compared with posts arriving today.
var commonWords = func() map[uint64]struct{} {
	m := make(map[uint64]struct{})
	var token []byte
	for _, h := range appendWordHashes(nil, &token, commonWordList) {
		m[h] = struct{}{}
	}
	return m
}()

const commonWordList = `
a about after all also am an and any are as at be because been but by can could
did do does for from get got had has have he her here him his how i if in into
is it its just like me my no not now of on one or our out so some than that the
their them then there these they this to too up us very was we were what when
where which who will with would you your yes ok okay hi hello hey thanks thank
please good morning night day all everyone guys

и в не на я что он с как а то это по к но все она так его за от из у же вы ты мы
бы да для нет ну вот до если или о мне меня уже когда только еще спасибо привет

de la que el en y a los se del las un por con no una su para es al lo como más
o pero sus le ha me si sin sobre este ya entre cuando todo esta ser son dos
también fue había era muy años hasta desde está mi porque qué sólo han yo hay
vez puede todos así nos ni parte tiene él uno donde bien tiempo mismo ese ahora
gracias hola buenos días

der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als
auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie
einem über einen so zum war haben nur oder aber vor zur bis mehr durch man
danke hallo guten

le de un à être et en avoir que pour dans ce il qui ne sur se pas plus pouvoir
par je avec tout faire son mettre autre on mais nous comme ou si leur y dire
elle devoir avant deux même prendre aussi celui donner bien où fois vous encore
merci bonjour

o de a e do da em um para com não uma os no se na por mais as dos como mas ao
ele das à seu sua ou quando muito nos já eu também só pelo pela até isso ela
entre depois sem mesmo aos seus quem nas me esse eles você obrigado olá
`

// minShinglesDefault is the default Config.MinShingles.
const minShinglesDefault = 8
