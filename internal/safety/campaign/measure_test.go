package campaign

import (
	"fmt"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// shingleScheme turns the words of a text into shingle hashes. The
// measurement below compares the schemes that were considered.
type shingleScheme struct {
	name string
	fn   func(words []string) []uint64
}

func wordNgrams(n int, dropCommon bool) func([]string) []uint64 {
	return func(words []string) []uint64 {
		var out []uint64
		for i := n - 1; i < len(words); i++ {
			allCommon := true
			h := uint64(0)
			for _, wd := range words[i-n+1 : i+1] {
				wh := fnv1a([]byte(wd))
				if _, c := commonWords[wh]; !c {
					allCommon = false
				}
				h = mix64(h*0x9e3779b97f4a7c15 + wh)
			}
			if dropCommon && allCommon {
				continue
			}
			out = append(out, h)
		}
		return out
	}
}

func charNgrams(n int) func([]string) []uint64 {
	return func(words []string) []uint64 {
		s := []rune(strings.Join(words, " "))
		var out []uint64
		for i := n; i <= len(s); i++ {
			out = append(out, mix64(fnv1a([]byte(string(s[i-n:i])))))
		}
		return out
	}
}

func textWords(text string) []string {
	var out []string
	splitWords(text, nil, func(w []byte) { out = append(out, string(w)) })
	return out
}

func distinctSet(hashes []uint64) []uint64 {
	s := slices.Clone(hashes)
	slices.Sort(s)
	return slices.Compact(s)
}

// jaccard is the exact Jaccard similarity of two sorted sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// simhash64 is Charikar's SimHash of a set of shingle hashes, each of weight
// one: bit i is set when most shingles have bit i set.
func simhash64(set []uint64) uint64 {
	var counts [64]int
	for _, h := range set {
		for i := range 64 {
			if h>>i&1 == 1 {
				counts[i]++
			} else {
				counts[i]--
			}
		}
	}
	var out uint64
	for i, c := range counts {
		if c > 0 {
			out |= 1 << i
		}
	}
	return out
}

func quantiles(xs []float64, qs ...float64) string {
	s := slices.Clone(xs)
	sort.Float64s(s)
	var parts []string
	for _, q := range qs {
		parts = append(parts, fmt.Sprintf("p%g=%.2f", q*100, s[int(q*float64(len(s)-1))]))
	}
	return strings.Join(parts, " ")
}

func fraction(xs []float64, keep func(float64) bool) float64 {
	n := 0
	for _, x := range xs {
		if keep(x) {
			n++
		}
	}
	return float64(n) / float64(len(xs))
}

// TestFingerprintMeasurement compares shingle schemes and the two
// fingerprints that were considered, MinHash (Jaccard) and SimHash (Hamming
// distance), on the synthetic world: copies of the same template (1 to 3
// word edits plus disguises) must look alike, unrelated innocent posts must
// not. The numbers are quoted in docs/campaigns.md; run with -v to see them.
// Texts with fewer than minShinglesDefault shingles are left out, as the
// detector leaves them out.
//
// It takes about a minute, so it runs only when PARLEY_MEASURE is set:
//
//	PARLEY_MEASURE=1 go test ./internal/safety/campaign -run TestFingerprintMeasurement -v
func TestFingerprintMeasurement(t *testing.T) {
	if os.Getenv("PARLEY_MEASURE") == "" {
		t.Skip("set PARLEY_MEASURE=1 to run the measurement")
	}
	w := newSynthWorld(11)
	var templates [][]string // templates[i] = copies of template i
	for range 100 {
		tpl := w.template()
		var copies []string
		for range 8 {
			copies = append(copies, w.variant(tpl, edits{1, 3}))
		}
		templates = append(templates, copies)
	}
	var innocent []string
	for range 1000 {
		innocent = append(innocent, w.innocent())
	}
	schemes := []shingleScheme{
		{"word unigrams and bigrams, common dropped (chosen: appendShingles)", func(ws []string) []uint64 {
			words := make([]word, len(ws))
			for i, w := range ws {
				h := fnv1a([]byte(w))
				_, common := commonWords[h]
				words[i] = word{hash: h, common: common}
			}
			return appendShingles(nil, words)
		}},
		{"word bigrams, common pairs dropped", wordNgrams(2, true)},
		{"word bigrams, all", wordNgrams(2, false)},
		{"word unigrams, common dropped", wordNgrams(1, true)},
		{"word trigrams", wordNgrams(3, true)},
		{"character 5-grams", charNgrams(5)},
	}
	for k, sc := range schemes {
		chosen := k == 0
		sets := func(texts []string) [][]uint64 {
			var out [][]uint64
			for _, tx := range texts {
				if s := distinctSet(sc.fn(textWords(tx))); len(s) >= minShinglesDefault {
					out = append(out, s)
				}
			}
			return out
		}
		var sameJ, sameH []float64
		for _, copies := range templates {
			s := sets(copies)
			for i := range s {
				for j := i + 1; j < len(s); j++ {
					sameJ = append(sameJ, jaccard(s[i], s[j]))
					sameH = append(sameH, float64(bits.OnesCount64(simhash64(s[i])^simhash64(s[j]))))
				}
			}
		}
		inn := sets(innocent)
		var otherJ, otherH []float64
		for i := range inn {
			hi := simhash64(inn[i])
			for j := i + 1; j < len(inn); j++ {
				otherJ = append(otherJ, jaccard(inn[i], inn[j]))
				otherH = append(otherH, float64(bits.OnesCount64(hi^simhash64(inn[j]))))
			}
		}
		t.Logf("%s:", sc.name)
		var sameSig [][2]signature
		for _, copies := range templates {
			s := sets(copies)
			for i := range s {
				for j := i + 1; j < len(s); j++ {
					sameSig = append(sameSig, [2]signature{minhash(s[i]), minhash(s[j])})
				}
			}
		}
		var innSig []signature
		for _, s := range inn {
			innSig = append(innSig, minhash(s))
		}
		for _, cfg := range []struct{ bands, rows int }{{16, 4}, {21, 3}, {12, 5}} {
			collide := func(a, b *signature) bool {
				for band := range cfg.bands {
					if [4]uint16(a[band*cfg.rows:band*cfg.rows+4]) == [4]uint16(b[band*cfg.rows:band*cfg.rows+4]) && cfg.rows == 4 ||
						cfg.rows != 4 && slices.Equal(a[band*cfg.rows:(band+1)*cfg.rows], b[band*cfg.rows:(band+1)*cfg.rows]) {
						return true
					}
				}
				return false
			}
			for _, thr := range []float64{0.5, 0.6} {
				need := int(thr*signatureSlots + 0.999)
				above, found := 0, 0
				for _, p := range sameSig {
					if agreement(&p[0], &p[1]) >= need {
						above++
						if collide(&p[0], &p[1]) {
							found++
						}
					}
				}
				t.Logf("  LSH %d bands × %d rows, estimate ≥ %.1f: copies above %.1f%%, of which candidates %.2f%%",
					cfg.bands, cfg.rows, thr, 100*float64(above)/float64(len(sameSig)), 100*float64(found)/float64(max(above, 1)))
				if chosen && cfg.bands == bandCount && thr == DefaultThreshold {
					if float64(above) < 0.9*float64(len(sameSig)) || float64(found) < 0.99*float64(above) {
						t.Errorf("chosen scheme: %d of %d copy pairs above the threshold, %d of them candidates", above, len(sameSig), found)
					}
				}
			}
			cand, fp := 0, 0
			for i := range innSig {
				for j := i + 1; j < len(innSig); j++ {
					if collide(&innSig[i], &innSig[j]) {
						cand++
						if agreement(&innSig[i], &innSig[j]) >= signatureSlots/2 {
							fp++
						}
					}
				}
			}
			pairs := len(innSig) * (len(innSig) - 1) / 2
			t.Logf("  LSH %d bands × %d rows: unrelated pairs that are candidates: %d of %d (%.2g), estimate ≥ 0.5: %d",
				cfg.bands, cfg.rows, cand, pairs, float64(cand)/float64(pairs), fp)
			if chosen && fp > 0 {
				t.Errorf("chosen scheme: %d unrelated pairs pass the threshold", fp)
			}
		}
		t.Logf("  copies,   Jaccard: %s; ≥0.5: %.1f%% ≥0.6: %.1f%% ≥0.7: %.1f%% (%d pairs)", quantiles(sameJ, 0.01, 0.05, 0.5),
			100*fraction(sameJ, func(x float64) bool { return x >= 0.5 }), 100*fraction(sameJ, func(x float64) bool { return x >= 0.6 }),
			100*fraction(sameJ, func(x float64) bool { return x >= 0.7 }), len(sameJ))
		t.Logf("  unrelated, Jaccard: %s max=%.3f; ≥0.2: %d ≥0.3: %d (%d pairs of %d posts)", quantiles(otherJ, 0.5, 0.99, 0.9999),
			slices.Max(otherJ), int(fraction(otherJ, func(x float64) bool { return x >= 0.2 })*float64(len(otherJ))),
			int(fraction(otherJ, func(x float64) bool { return x >= 0.3 })*float64(len(otherJ))), len(otherJ), len(inn))
		t.Logf("  copies,   SimHash distance: %s; ≤3: %.1f%% ≤6: %.1f%% ≤10: %.1f%%", quantiles(sameH, 0.5, 0.95, 0.99),
			100*fraction(sameH, func(x float64) bool { return x <= 3 }), 100*fraction(sameH, func(x float64) bool { return x <= 6 }),
			100*fraction(sameH, func(x float64) bool { return x <= 10 }))
		t.Logf("  unrelated, SimHash distance: %s min=%.0f; ≤10: %d ≤14: %d", quantiles(otherH, 0.0001, 0.01, 0.5), slices.Min(otherH),
			int(fraction(otherH, func(x float64) bool { return x <= 10 })*float64(len(otherH))),
			int(fraction(otherH, func(x float64) bool { return x <= 14 })*float64(len(otherH))))
	}
}
