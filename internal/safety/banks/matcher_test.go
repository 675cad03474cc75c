package banks_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"parley/internal/pdq"
	"parley/internal/safety/banks"
)

// matcher returns a loaded matcher over e's database.
func (e *env) matcher(t testing.TB) *banks.Matcher {
	t.Helper()
	m := banks.NewMatcher(e.db)
	if err := m.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m
}

func refresh(t testing.TB, m *banks.Matcher) int {
	t.Helper()
	n, err := m.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// brief describes matches compactly: "bank/type/distance", with "!" for a
// suppressed one.
func brief(r banks.Result) []string {
	var out []string
	for _, m := range r.Matches {
		s := fmt.Sprintf("%s/%s/%d", m.Bank, m.Type, m.Distance)
		if m.Suppressed {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

func TestMatchPDQ(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionBlockUpload)
	rng := rand.New(rand.NewPCG(5, 6))
	listed := randomPDQ(rng)
	e.add(t, b, banks.TypePDQ, listed.String())
	for range 200 {
		e.add(t, b, banks.TypePDQ, randomPDQ(rng).String())
	}
	m := e.matcher(t)
	for _, d := range []int{0, 1, 10, 30, 31} {
		r := m.MatchMedia(banks.Media{PDQ: []pdq.Hash{flip(rng, listed, d)}, PDQQuality: 90})
		if len(r.Matches) != 1 || r.Matches[0].Distance != d || r.Matches[0].Value != listed.String() || r.Decision != banks.ActionBlockUpload {
			t.Fatalf("distance %d: %+v", d, r)
		}
		if got := r.Matches[0]; got.Bank != "csam" || got.Category != "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" || got.EntryID == 0 {
			t.Fatalf("match %+v", got)
		}
	}
	if r := m.MatchMedia(banks.Media{PDQ: []pdq.Hash{flip(rng, listed, 32)}, PDQQuality: 90}); len(r.Matches) != 0 {
		t.Fatalf("distance 32 matched: %+v", r)
	}
	// Hashes of low quality are not matched, and the result says so.
	r := m.MatchMedia(banks.Media{PDQ: []pdq.Hash{listed}, PDQQuality: 49})
	if len(r.Matches) != 0 || !r.PDQSkipped || r.Decision != banks.ActionNone {
		t.Fatalf("quality 49: %+v", r)
	}
	// Several hashes (an image's rotations) match once, at the nearest.
	r = m.MatchMedia(banks.Media{PDQ: []pdq.Hash{flip(rng, listed, 20), randomPDQ(rng), flip(rng, listed, 3)}, PDQQuality: 100})
	if got := brief(r); !slices.Equal(got, []string{"csam/pdq/3"}) {
		t.Fatalf("dihedral query: %v", got)
	}
}

// TestMatchPDQAgainstLinearScan checks the matcher's PDQ results against a
// linear scan over every stored hash, with clustered hashes, several banks
// and removals.
func TestMatchPDQAgainstLinearScan(t *testing.T) {
	e := setup(t)
	rng := rand.New(rand.NewPCG(7, 8))
	bs := []*banks.Bank{e.blockBank(t, "a", banks.ActionRemove), e.blockBank(t, "b", banks.ActionReview)}
	type stored struct {
		bank string
		h    pdq.Hash
		id   int64
	}
	var all []stored
	var centres []pdq.Hash
	for range 20 {
		centres = append(centres, randomPDQ(rng))
	}
	var file strings.Builder
	file.WriteString("signal_type,signal_str\n")
	seen := map[pdq.Hash]bool{}
	for i := 0; i < 3000; i++ {
		h := flip(rng, centres[rng.IntN(len(centres))], rng.IntN(40))
		if seen[h] {
			continue
		}
		seen[h] = true
		fmt.Fprintf(&file, "pdq,%s\n", h)
	}
	for _, b := range bs {
		if _, err := e.importString(t, b, file.String(), banks.ImportOptions{Format: banks.FormatThreatExchange, Source: "x"}); err != nil {
			t.Fatal(err)
		}
		for _, en := range e.entries(t, b) {
			h, _ := pdq.ParseHash(en.Value)
			all = append(all, stored{b.Name, h, en.ID})
		}
	}
	m := e.matcher(t)
	// Remove a tenth of the entries after loading.
	for i := 0; i < len(all); i += 10 {
		bank := bs[0]
		if all[i].bank == "b" {
			bank = bs[1]
		}
		if err := e.svc.RemoveEntry(t.Context(), e.mod, bank.ID, all[i].id, ""); err != nil {
			t.Fatal(err)
		}
		all[i].id = 0
	}
	refresh(t, m)
	for q := range 300 {
		query := flip(rng, centres[q%len(centres)], rng.IntN(40))
		var want []string
		for _, s := range all {
			if d := pdq.Distance(query, s.h); s.id != 0 && d <= banks.PDQMatchDistance {
				want = append(want, fmt.Sprintf("%d/%d", s.id, d))
			}
		}
		var got []string
		for _, mt := range m.MatchMedia(banks.Media{PDQ: []pdq.Hash{query}, PDQQuality: 100}).Matches {
			got = append(got, fmt.Sprintf("%d/%d", mt.EntryID, mt.Distance))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d: matcher found %d, linear scan %d:\n%v\n%v", q, len(got), len(want), got, want)
		}
	}
}

func TestMatchExactHashes(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "files", banks.ActionRemove)
	e.add(t, b, banks.TypeMD5, emptyMD5)
	e.add(t, b, banks.TypeSHA256, emptySHA)
	m := e.matcher(t)
	r := m.MatchMedia(banks.Media{MD5: strings.ToUpper(emptyMD5), SHA256: emptySHA})
	if got := brief(r); !slices.Equal(got, []string{"files/md5/0", "files/sha256/0"}) || r.Decision != banks.ActionRemove {
		t.Fatalf("%v %s", got, r.Decision)
	}
	if r := m.MatchMedia(banks.Media{MD5: emptySHA[:32], SHA256: "zz"}); len(r.Matches) != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestMatchFollowsChangeLog(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "files", banks.ActionRemove)
	m := e.matcher(t)
	if m.ChangeID() != e.changes(t) {
		t.Fatalf("matcher at change %d, log at %d", m.ChangeID(), e.changes(t))
	}
	md := banks.Media{MD5: emptyMD5, SHA256: emptySHA, PDQ: []pdq.Hash{mustHash(t, bridgePDQ)}, PDQQuality: 100}
	en := e.add(t, b, banks.TypeMD5, emptyMD5)
	pdqEntry := e.add(t, b, banks.TypePDQ, bridgePDQ)
	if r := m.MatchMedia(md); len(r.Matches) != 0 {
		t.Fatalf("matched before Refresh: %+v", r)
	}
	if n := refresh(t, m); n != 2 {
		t.Fatalf("applied %d changes, want 2", n)
	}
	r := m.MatchMedia(md)
	if got := brief(r); !slices.Equal(got, []string{"files/md5/0", "files/pdq/0"}) || r.ChangeID != e.changes(t) {
		t.Fatalf("after Refresh: %v at change %d", got, r.ChangeID)
	}

	// Disabled banks never match; enabling loads the entries again.
	if _, err := e.svc.SetBankEnabled(t.Context(), e.mod, b.ID, false); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	if r := m.MatchMedia(md); len(r.Matches) != 0 {
		t.Fatalf("disabled bank matched: %v", brief(r))
	}
	if s := m.Stats(); s.Banks != 0 || len(s.Entries) != 0 && (s.Entries[banks.TypeMD5] != 0 || s.Entries[banks.TypePDQ] != 0) {
		t.Fatalf("a disabled bank's entries are held: %+v", s)
	}
	e.add(t, b, banks.TypeSHA256, emptySHA) // added while disabled
	if _, err := e.svc.SetBankEnabled(t.Context(), e.mod, b.ID, true); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	if got := brief(m.MatchMedia(md)); !slices.Equal(got, []string{"files/md5/0", "files/sha256/0", "files/pdq/0"}) {
		t.Fatalf("after enabling: %v", got)
	}
	// Removed entries stop matching.
	if err := e.svc.RemoveEntry(t.Context(), e.mod, b.ID, en.ID, "false positive"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveEntry(t.Context(), e.mod, b.ID, pdqEntry.ID, ""); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	if got := brief(m.MatchMedia(md)); !slices.Equal(got, []string{"files/sha256/0"}) {
		t.Fatalf("after removing: %v", got)
	}
	// A fresh matcher agrees.
	if got := brief(e.matcher(t).MatchMedia(md)); !slices.Equal(got, []string{"files/sha256/0"}) {
		t.Fatalf("fresh matcher: %v", got)
	}
	// Changing a bank's action changes what its matches ask for.
	act := banks.ActionReview
	if _, err := e.svc.UpdateBank(t.Context(), e.mod, b.ID, banks.BankUpdate{Action: &act}); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	if r := m.MatchMedia(md); r.Decision != banks.ActionReview {
		t.Fatalf("decision %q after changing the action", r.Decision)
	}
}

func mustHash(t testing.TB, s string) pdq.Hash {
	t.Helper()
	h, err := pdq.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestMatchAllowSuppresses: the rules of suppression for media.
func TestMatchAllowSuppresses(t *testing.T) {
	e := setup(t)
	block := e.blockBank(t, "csam", banks.ActionBlockUpload)
	allow := e.allowBank(t, "known-fp")
	rng := rand.New(rand.NewPCG(9, 10))
	listed := randomPDQ(rng)
	e.add(t, block, banks.TypePDQ, listed.String())
	e.add(t, block, banks.TypeSHA256, emptySHA)
	benign := flip(rng, listed, 20) // a false positive 20 bits from the listed image
	e.add(t, allow, banks.TypePDQ, benign.String())
	m := e.matcher(t)

	// The benign image itself: closer to the allow entry (0) than to the
	// block entry (20): suppressed.
	r := m.MatchMedia(banks.Media{PDQ: []pdq.Hash{benign}, PDQQuality: 100})
	if got := brief(r); !slices.Equal(got, []string{"known-fp/pdq/0", "csam/pdq/20!"}) || r.Decision != banks.ActionNone {
		t.Fatalf("benign image: %v, decision %q", got, r.Decision)
	}
	if r.Matches[1].SuppressedBy != r.Matches[0].EntryID {
		t.Fatalf("suppressed by %d, want %d", r.Matches[1].SuppressedBy, r.Matches[0].EntryID)
	}
	// The listed image: closer to the block entry (0) than the allow one
	// (20): not suppressed.
	r = m.MatchMedia(banks.Media{PDQ: []pdq.Hash{listed}, PDQQuality: 100})
	if got := brief(r); !slices.Equal(got, []string{"csam/pdq/0", "known-fp/pdq/20"}) || r.Decision != banks.ActionBlockUpload {
		t.Fatalf("listed image: %v, decision %q", got, r.Decision)
	}
	// A perceptual allow match never overrides an exact block match.
	r = m.MatchMedia(banks.Media{PDQ: []pdq.Hash{benign}, PDQQuality: 100, SHA256: emptySHA})
	if got := brief(r); !slices.Equal(got, []string{"csam/sha256/0", "known-fp/pdq/0", "csam/pdq/20!"}) || r.Decision != banks.ActionBlockUpload {
		t.Fatalf("exact block match with a pdq allow match: %v, decision %q", got, r.Decision)
	}
	// An exact allow match (the same file moderators cleared) overrides all.
	e.add(t, allow, banks.TypeSHA256, emptySHA)
	refresh(t, m)
	r = m.MatchMedia(banks.Media{PDQ: []pdq.Hash{listed}, PDQQuality: 100, SHA256: emptySHA})
	if got := brief(r); !slices.Equal(got, []string{"csam/sha256/0!", "known-fp/sha256/0", "csam/pdq/0!", "known-fp/pdq/20"}) || r.Decision != banks.ActionNone {
		t.Fatalf("exact allow match: %v, decision %q", got, r.Decision)
	}
	// A disabled allow bank suppresses nothing.
	if _, err := e.svc.SetBankEnabled(t.Context(), e.mod, allow.ID, false); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	if r := m.MatchMedia(banks.Media{PDQ: []pdq.Hash{benign}, PDQQuality: 100}); r.Decision != banks.ActionBlockUpload {
		t.Fatalf("disabled allow bank: %v, decision %q", brief(r), r.Decision)
	}
}

func TestMatchDecisionIsStrongestAction(t *testing.T) {
	e := setup(t)
	for _, a := range []banks.Action{banks.ActionLabel, banks.ActionReview, banks.ActionRemove} {
		b := e.blockBank(t, string(a), a)
		e.add(t, b, banks.TypeMD5, emptyMD5)
	}
	m := e.matcher(t)
	r := m.MatchMedia(banks.Media{MD5: emptyMD5})
	if len(r.Matches) != 3 || r.Decision != banks.ActionRemove {
		t.Fatalf("%v, decision %q", brief(r), r.Decision)
	}
	if r.Matches[0].Action != banks.ActionLabel || r.Matches[0].Label != "graphic" {
		t.Fatalf("label bank match %+v", r.Matches[0])
	}
}

func TestMatchText(t *testing.T) {
	e := setup(t)
	scam := e.blockBank(t, "scam", banks.ActionRemove)
	allow := e.allowBank(t, "fine-links")
	e.add(t, scam, banks.TypeDomain, "evil.example")
	e.add(t, scam, banks.TypeURL, "https://t.me/scamchannel")
	e.add(t, allow, banks.TypeURL, "evil.example/help")
	e.add(t, scam, banks.TypeURL, "t.me/go?next=http://victim.example") // a URL, not every link to victim.example
	m := e.matcher(t)
	tests := []struct {
		text string
		want []string
	}{
		{"nothing here", nil},
		{"visit hxxps://mail.evil[.]example/join now", []string{"scam/domain/0"}},
		{"join T.ME/ScamChannel?start=1", []string{"scam/url/0"}},
		{"t.me/scamchannel2", nil},
		{"victim.example/login", nil},
		{"T.me/go?next=http://victim.example", []string{"scam/url/0"}},
		// The allowed link is suppressed; another link to the same domain
		// in the same post is not shielded by it.
		{"see evil.example/help", []string{"scam/domain/0!", "fine-links/url/0"}},
		{"see evil.example/help and evil.example/join", []string{"scam/domain/0", "fine-links/url/0"}},
		{"see evil.example/help and t.me/scamchannel", []string{"scam/domain/0!", "fine-links/url/0", "scam/url/0"}},
	}
	for _, tt := range tests {
		r := m.MatchText(tt.text)
		got := brief(r)
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", tt.text, brief(r), tt.want)
		}
		suppressedOnly := true
		for _, mt := range r.Matches {
			if mt.Kind == banks.KindBlock && !mt.Suppressed {
				suppressedOnly = false
			}
		}
		if wantDecision := map[bool]banks.Action{true: banks.ActionNone, false: banks.ActionRemove}[suppressedOnly]; r.Decision != wantDecision {
			t.Errorf("%q: decision %q, want %q", tt.text, r.Decision, wantDecision)
		}
	}
	// Links follow the change log like hashes.
	en := e.add(t, scam, banks.TypeDomain, "worse.example")
	refresh(t, m)
	if got := brief(m.MatchText("worse.example")); !slices.Equal(got, []string{"scam/domain/0"}) {
		t.Fatalf("after adding: %v", got)
	}
	if err := e.svc.RemoveEntry(t.Context(), e.mod, scam.ID, en.ID, ""); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	if got := brief(m.MatchText("worse.example")); got != nil {
		t.Fatalf("after removing: %v", got)
	}
}

// TestMatcherConcurrent matches while entries are added and removed and
// the matcher refreshes; run with -race.
func TestMatcherConcurrent(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "busy", banks.ActionRemove)
	rng := rand.New(rand.NewPCG(11, 12))
	keep := randomPDQ(rng)
	e.add(t, b, banks.TypePDQ, keep.String())
	e.add(t, b, banks.TypeDomain, "evil.example")
	m := e.matcher(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r := m.MatchMedia(banks.Media{PDQ: []pdq.Hash{keep}, PDQQuality: 100}); len(r.Matches) == 0 {
					t.Error("a held entry did not match during changes")
					return
				}
				if r := m.MatchText("evil.example"); len(r.Matches) == 0 {
					t.Error("a held domain did not match during changes")
					return
				}
			}
		})
	}
	for i := range 30 {
		h := randomPDQ(rng)
		en := e.add(t, b, banks.TypePDQ, h.String())
		d := e.add(t, b, banks.TypeDomain, fmt.Sprintf("x%d.example", i))
		refresh(t, m)
		if i%2 == 0 {
			e.svc.RemoveEntry(t.Context(), e.mod, b.ID, en.ID, "")
			e.svc.RemoveEntry(t.Context(), e.mod, b.ID, d.ID, "")
			refresh(t, m)
		}
	}
	close(stop)
	wg.Wait()
	s := m.Stats()
	if s.Entries[banks.TypePDQ] != 16 || s.Entries[banks.TypeDomain] != 16 || s.ChangeID != e.changes(t) {
		t.Fatalf("stats %+v", s)
	}
}
