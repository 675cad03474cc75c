package campaign

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Free crypto, today!", []string{"free", "crypto", "today"}},
		{"fr.ee fr😀ee f-r-e-e FREE", []string{"free", "free", "free", "free"}}, // punctuation and emoji inside a word vanish
		{"free 🎁 crypto 🚀🚀", []string{"free", "crypto"}},                       // emoji between words leave no word
		{"ｆｒｅｅ  cгурtо", []string{"free", "crypto"}},                           // fullwidth, Cyrillic look-alikes
		{"fr33 t.me/w1nner42", []string{"free", "tmewinnera2"}},                // digits in words folded as rules.Normalize does (2 stands for no letter)
		{"price 455 € at 10:30", []string{"price", "455", "at", "1030"}},       // numbers alone stay numbers
		{"東京で会いましょう", []string{"東", "京", "て", "会", "い", "ま", "し", "ょ", "う"}},   // one word per letter where there are no spaces (Normalize drops the voicing mark)
		{"สวัสดี ครับ", []string{"ส", "ว", "ส", "ด", "ค", "ร", "บ"}},
		{"Привет,мир", []string{"npиbetmиp"}}, // the skeleton folds Cyrillic look-alikes; a comma without a space does not cut
		{"", nil},
	}
	for _, tt := range tests {
		var got []string
		splitWords(tt.text, nil, func(w []byte) { got = append(got, string(w)) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: words %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestSignatureEstimatesJaccard checks the MinHash hash functions: for sets
// of known Jaccard similarity, the fraction of agreeing slots must average
// to that similarity, with the spread of 64 independent trials.
func TestSignatureEstimatesJaccard(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, shared := range []int{10, 40, 70, 100} {
		// A and B have `shared` elements in common and 20 of their own
		// each, so J = shared / (shared + 40).
		const own = 20
		j := float64(shared) / float64(shared+2*own)
		const trials = 400
		var sum, sumSq float64
		for range trials {
			var a, b []uint64
			for range shared {
				x := mix64(rng.Uint64())
				a, b = append(a, x), append(b, x)
			}
			for range own {
				a = append(a, mix64(rng.Uint64()))
				b = append(b, mix64(rng.Uint64()))
			}
			sa, sb := minhash(a), minhash(b)
			est := float64(agreement(&sa, &sb)) / signatureSlots
			sum += est
			sumSq += est * est
		}
		mean := sum / trials
		sd := math.Sqrt(sumSq/trials - mean*mean)
		wantSD := math.Sqrt(j * (1 - j) / signatureSlots)
		t.Logf("J = %.3f: mean estimate %.3f, sd %.3f (binomial %.3f)", j, mean, sd, wantSD)
		if math.Abs(mean-j) > 0.015 {
			t.Errorf("J = %.3f: mean estimate %.3f", j, mean)
		}
		if j < 1 && (sd > 1.3*wantSD || sd < 0.7*wantSD) {
			t.Errorf("J = %.3f: spread %.3f, a binomial's is %.3f", j, sd, wantSD)
		}
	}
}

// TestSignatureIsStable pins one signature, so that a change to the hash
// functions, the word splitter or the shingles is a deliberate one: stored
// signatures, or a replay across versions, would no longer compare with new
// ones.
func TestSignatureIsStable(t *testing.T) {
	var f fingerprinter
	sig, n, ok := f.fingerprint(spamText, DefaultMinShingles)
	if !ok || n != 39 {
		t.Fatalf("%d shingles, ok %v; want 39", n, ok)
	}
	if got := [4]uint16{sig[0], sig[1], sig[62], sig[63]}; got != [4]uint16{0x02a0, 0x073b, 0x08db, 0x001f} {
		t.Errorf("signature slots 0, 1, 62, 63 are %#04x", got)
	}
}
