package campaign

import (
	"cmp"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The differential tests compare the detector with naive baselines that
// compare every pair of posts in the window.

// refDetector is the naive detector: the posts of the window in a slice, a
// new post compared with every one of them, a merge relabelling every post.
// It applies the same rules as Detector (single linkage, the oldest group
// survives, the founding post names the campaign) with none of its data
// structures. near decides whether two signatures link.
type refDetector struct {
	cfg    Config
	near   func(a, b *signature) bool
	now    int64
	seq    uint64
	posts  []*refPost
	groups map[int]*refGroup
	nextID int
}

type refPost struct {
	Post
	at    int64
	seq   uint64
	sig   signature
	group int
}

type refGroup struct {
	firstSeq, formedSeq uint64
	campaign            CampaignID
}

func newRefDetector(t testing.TB, cfg Config, near func(a, b *signature) bool) *refDetector {
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return &refDetector{cfg: cfg, near: near, now: math.MinInt64, groups: map[int]*refGroup{}}
}

func (r *refDetector) members(g int) []*refPost {
	var out []*refPost
	for _, p := range r.posts {
		if p.group == g {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *refPost) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

func (r *refDetector) forget(keep func(p *refPost) bool) {
	r.posts = slices.DeleteFunc(r.posts, func(p *refPost) bool { return !keep(p) })
	for g := range r.groups {
		if len(r.members(g)) == 0 {
			delete(r.groups, g)
		}
	}
}

func (r *refDetector) cutoff() int64 {
	if r.now < math.MinInt64+int64(r.cfg.Window) {
		return math.MinInt64
	}
	return r.now - int64(r.cfg.Window)
}

func (r *refDetector) observe(p Post) Result {
	for _, q := range r.posts {
		if q.ID == p.ID {
			return Result{Campaign: r.groups[q.group].campaign}
		}
	}
	at := unixNano(p.At)
	if at > r.now {
		r.now = at
		r.forget(func(q *refPost) bool { return q.at >= r.cutoff() })
	}
	var f fingerprinter
	sig, _, ok := f.fingerprint(p.Text, r.cfg.MinShingles)
	if !ok || at < r.cutoff() {
		return Result{}
	}
	for len(r.posts) >= r.cfg.MaxPosts {
		oldest := slices.MinFunc(r.posts, func(a, b *refPost) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
		if at < oldest.at {
			return Result{} // the new post is the oldest: it goes
		}
		r.forget(func(q *refPost) bool { return q != oldest })
	}
	linked := map[int]bool{}
	for _, q := range r.posts {
		if r.near(&sig, &q.sig) {
			linked[q.group] = true
		}
	}
	r.seq++
	r.nextID++
	np := &refPost{Post: p, at: at, seq: r.seq, sig: sig, group: r.nextID}
	r.groups[np.group] = &refGroup{firstSeq: r.seq}
	r.posts = append(r.posts, np)
	if len(linked) == 0 {
		return Result{}
	}
	var gs []int
	for g := range linked {
		gs = append(gs, g)
	}
	older := func(a, b *refGroup) int {
		switch {
		case a.campaign != 0 && b.campaign != 0:
			return cmp.Compare(a.formedSeq, b.formedSeq)
		case a.campaign != 0:
			return -1
		case b.campaign != 0:
			return 1
		}
		return cmp.Compare(a.firstSeq, b.firstSeq)
	}
	survivor := slices.MinFunc(gs, func(a, b int) int { return older(r.groups[a], r.groups[b]) })
	s := r.groups[survivor]
	var joined []*refPost
	var absorbed []CampaignID
	for _, g := range gs {
		if g == survivor {
			continue
		}
		if c := r.groups[g].campaign; c != 0 {
			absorbed = append(absorbed, c)
		} else if s.campaign != 0 {
			joined = append(joined, r.members(g)...)
		}
		for _, q := range r.posts {
			if q.group == g {
				q.group = survivor
			}
		}
		delete(r.groups, g)
	}
	delete(r.groups, np.group)
	np.group = survivor
	describe := func(ps []*refPost) []Member {
		slices.SortFunc(ps, func(a, b *refPost) int { return cmp.Compare(a.seq, b.seq) })
		var out []Member
		for _, q := range ps {
			out = append(out, Member{PostID: q.ID, AccountID: q.AccountID, ChatID: q.ChatID, At: time.Unix(0, q.at).UTC()})
		}
		return out
	}
	if s.campaign != 0 {
		slices.Sort(absorbed)
		return Result{Campaign: s.campaign, Joined: describe(append(joined, np)), Absorbed: absorbed}
	}
	members := r.members(survivor)
	accounts := map[int64]bool{}
	for _, q := range members {
		accounts[q.AccountID] = true
	}
	if len(accounts) < r.cfg.MinAccounts {
		return Result{}
	}
	for _, q := range members {
		taken := false
		for _, g := range r.groups {
			taken = taken || g.campaign == CampaignID(q.ID)
		}
		if !taken {
			s.campaign = CampaignID(q.ID)
			break
		}
	}
	s.formedSeq = r.seq
	return Result{Campaign: s.campaign, Formed: true, Joined: describe(members)}
}

// shareBand is the banding rule computed from the slots themselves, with no
// hashing and no tables.
func shareBand(a, b *signature) bool {
	for band := range bandCount {
		lo, hi := band*bandRows, (band+1)*bandRows
		if slices.Equal(a[lo:hi], b[lo:hi]) {
			return true
		}
	}
	return false
}

// TestDetectorDifferential runs the detector and the naive detector side by
// side on streams with campaigns, edits, disguises, innocent posts, a short
// window and a post cap, and requires the same Result for every post. The
// naive detector links two posts when their signatures agree on enough
// slots and share a band: that is the rule the index implements, so any
// difference is a bug in the index, the groups or the eviction. The
// probability part of LSH, pairs that agree but share no band, is measured
// in TestIndexRecall.
func TestDetectorDifferential(t *testing.T) {
	for _, tt := range []struct {
		name    string
		seed    uint64
		n       int
		e       edits
		cfg     Config
		sliding bool // posts are windows over long texts instead of template copies
	}{
		{"sliding windows, many merges", 6, 1500, edits{0, 1}, Config{Window: time.Hour}, true},
		{"exact copies", 1, 1500, edits{0, 0}, Config{Window: 20 * time.Minute}, false},
		{"small edits", 2, 1500, edits{1, 3}, Config{Window: 30 * time.Minute}, false},
		{"heavy edits, low threshold", 3, 1500, edits{3, 6}, Config{Window: time.Hour}, false},
		{"cap below the window", 4, 1500, edits{0, 2}, Config{Window: time.Hour, MaxPosts: 100}, false},
		{"high threshold, two accounts", 5, 1500, edits{0, 3}, Config{Window: time.Hour, Threshold: 0.8, MinAccounts: 2}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newSynthWorld(tt.seed)
			posts := clusteredStream(w, tt.n, 25, tt.e, 10*time.Second)
			if tt.sliding {
				posts = slidingStream(w, tt.n, tt.e, 10*time.Second)
			}
			// Some posts arrive late, some twice.
			for i := 0; i+3 < len(posts); i += 17 {
				posts[i], posts[i+3] = posts[i+3], posts[i]
			}
			for i := 50; i < len(posts); i += 97 {
				posts = slices.Insert(posts, i, posts[i-40])
			}
			d := newDetector(t, tt.cfg)
			ref := newRefDetector(t, tt.cfg, func(a, b *signature) bool {
				return agreement(a, b) >= d.minAgreement && shareBand(a, b)
			})
			formed, merged := 0, 0
			for i, p := range posts {
				got, want := d.Observe(p), ref.observe(p)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("post %d (ID %d): detector %+v\nnaive    %+v", i, p.ID, got, want)
				}
				if got.Formed {
					formed++
				}
				merged += len(got.Absorbed)
				if i%100 == 0 {
					checkInvariants(t, d)
				}
			}
			if d.index.forgotten != 0 {
				t.Fatalf("buckets overflowed %d times; the comparison needs them not to", d.index.forgotten)
			}
			if formed == 0 || tt.sliding && merged == 0 {
				t.Fatalf("%d campaigns formed, %d absorbed: the stream tests too little", formed, merged)
			}
			t.Logf("%d posts, %d campaigns formed, %d absorbed, %d stored at the end", len(posts), formed, merged, d.Stats().Posts)
		})
	}
}

// slidingStream makes n posts a step apart, each a window of 20 words at a
// random place in one of five long texts of 150 rare words, from 12
// accounts. Windows a few words apart are near-duplicates, so groups grow
// from several places in a text at once and merge when they meet: the
// stream that exercises merges of groups and of campaigns.
func slidingStream(w *synthWorld, n int, e edits, step time.Duration) []Post {
	var texts [][]string
	for range 5 {
		var words []string
		for range 150 {
			words = append(words, w.rareWord())
		}
		texts = append(texts, words)
	}
	posts := make([]Post, n)
	for i := range posts {
		k := w.rng.IntN(len(texts))
		at := w.rng.IntN(150 - 20)
		text := w.variant(strings.Join(texts[k][at:at+20], " "), e)
		posts[i] = Post{ID: int64(i + 1), AccountID: int64(k*100 + w.rng.IntN(12)), ChatID: int64(k), Text: text,
			At: t0.Add(time.Duration(i) * step)}
	}
	return posts
}

// TestIndexRecall measures the index against brute force on similarity
// alone. Random and clustered signatures are filed in a window of 2,000;
// for each new one, every stored signature that agrees on at least 32 of 64
// slots (the default threshold) should be found. The index guarantees those
// that agree on guaranteedAgreement (44) or more, and finds the others by
// chance, 1-(1-J³)^21; the test requires the guarantee and reports the
// rest. On unrelated texts it reports how many candidates a lookup has to
// compare and how many pairs pass the threshold (precision).
func TestIndexRecall(t *testing.T) {
	w := newSynthWorld(8)
	var f fingerprinter
	sigOf := func(text string) (signature, bool) {
		s, _, ok := f.fingerprint(text, DefaultMinShingles)
		return s, ok
	}
	var random, clustered, innocent []signature
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var s signature
		for i := range s {
			s[i] = uint16(rng.Uint32())
		}
		random = append(random, s)
	}
	// Clustered: a centre and copies with 0 to 30 slots changed, so every
	// level of agreement is represented; and copies of text templates.
	for range 100 {
		centre := random[rng.IntN(len(random))]
		for range 15 {
			s := centre
			for range rng.IntN(31) {
				s[rng.IntN(signatureSlots)] = uint16(rng.Uint32())
			}
			clustered = append(clustered, s)
		}
	}
	for range 100 {
		tpl := w.template()
		for range 10 {
			if s, ok := sigOf(w.variant(tpl, edits{1, 4})); ok {
				clustered = append(clustered, s)
			}
		}
	}
	rng.Shuffle(len(clustered), func(i, j int) { clustered[i], clustered[j] = clustered[j], clustered[i] })
	for len(innocent) < 3000 {
		if s, ok := sigOf(w.innocent()); ok {
			innocent = append(innocent, s)
		}
	}
	const window, need = 2000, 32
	for _, data := range []struct {
		name string
		sigs []signature
	}{{"random", random}, {"clustered", clustered}, {"innocent texts", innocent}} {
		x := newBandIndex()
		var guaranteed, guaranteedFound, chance, chanceFound, candidates, lookups int
		for i := range data.sigs {
			if i >= window {
				x.remove(int32(i-window), &data.sigs[i-window])
			}
			found := map[int32]bool{}
			keys := keysOf(&data.sigs[i])
			x.candidates(&keys, func(c int32) {
				if !found[c] {
					candidates++
				}
				found[c] = true
			})
			lookups++
			for j := max(0, i-window+1); j < i; j++ {
				a := agreement(&data.sigs[i], &data.sigs[j])
				switch {
				case a >= guaranteedAgreement:
					guaranteed++
					if found[int32(j)] {
						guaranteedFound++
					} else {
						t.Errorf("%s: %d and %d agree on %d slots but were not found", data.name, i, j, a)
					}
				case a >= need:
					chance++
					if found[int32(j)] {
						chanceFound++
					}
				}
				if found[int32(j)] && !shareBand(&data.sigs[i], &data.sigs[j]) {
					t.Errorf("%s: %d and %d share no band but were found (a 32-bit key collision, or a bug)", data.name, i, j)
				}
			}
			x.insert(int32(i), &keys)
		}
		if x.forgotten != 0 {
			t.Errorf("%s: buckets overflowed", data.name)
		}
		t.Logf("%s: %d lookups, %.2f candidates per lookup; pairs agreeing on ≥44 of 64: %d, found %d; on 32-43: %d, found %d (%.1f%%)",
			data.name, lookups, float64(candidates)/float64(lookups), guaranteed, guaranteedFound, chance, chanceFound,
			100*float64(chanceFound)/float64(max(chance, 1)))
		switch data.name {
		case "clustered":
			if chance < 500 || float64(chanceFound) < 0.9*float64(chance) {
				t.Errorf("clustered: found %d of %d pairs agreeing on 32-43 slots, want ≥ 90%%", chanceFound, chance)
			}
		case "random", "innocent texts":
			if guaranteed+chance > 0 && data.name == "random" {
				t.Errorf("random signatures agree: %d pairs", guaranteed+chance)
			}
			if candidates > lookups/10 {
				t.Errorf("%s: %d candidates for %d lookups", data.name, candidates, lookups)
			}
		}
	}
}

// TestCampaignQuality runs the detector over a stream of innocent posts and
// copies of spam templates with one to three edits each, and checks the
// campaigns against the truth: no innocent post in a campaign, no campaign
// mixing two templates, and (measured) how many templates were found and
// whether each ended as one campaign.
func TestCampaignQuality(t *testing.T) {
	w := newSynthWorld(9)
	const templates = 60
	posts := clusteredStream(w, 12_000, templates, edits{1, 3}, 5*time.Second)
	truth := map[int64]int{} // post ID to template, -1 for innocent
	for _, p := range posts {
		if p.AccountID >= 1000 {
			truth[p.ID] = -1
		} else {
			truth[p.ID] = int(p.AccountID / 10)
		}
	}
	d := newDetector(t, Config{Window: 24 * time.Hour})
	for _, p := range posts {
		d.Observe(p)
	}
	campaignTemplates := map[CampaignID]map[int]bool{}
	templateCampaigns := map[int]map[CampaignID]bool{}
	inCampaign, spam := 0, 0
	for _, p := range posts {
		tpl := truth[p.ID]
		if tpl >= 0 {
			spam++
		}
		c := d.CampaignOf(p.ID)
		if c == 0 {
			continue
		}
		if tpl < 0 {
			t.Errorf("innocent post %d (%q) is in campaign %d", p.ID, p.Text, c)
			continue
		}
		inCampaign++
		if campaignTemplates[c] == nil {
			campaignTemplates[c] = map[int]bool{}
		}
		campaignTemplates[c][tpl] = true
		if templateCampaigns[tpl] == nil {
			templateCampaigns[tpl] = map[CampaignID]bool{}
		}
		templateCampaigns[tpl][c] = true
	}
	for c, tpls := range campaignTemplates {
		if len(tpls) > 1 {
			t.Errorf("campaign %d mixes templates %v", c, tpls)
		}
	}
	split := 0
	for _, cs := range templateCampaigns {
		if len(cs) > 1 {
			split++
		}
	}
	t.Logf("%d posts, %d copies of %d templates: %d templates found, %d split in more than one campaign; %.1f%% of copies in a campaign",
		len(posts), spam, templates, len(templateCampaigns), split, 100*float64(inCampaign)/float64(spam))
	if len(templateCampaigns) < templates || float64(inCampaign) < 0.95*float64(spam) {
		t.Errorf("found %d of %d templates and %d of %d copies", len(templateCampaigns), templates, inCampaign, spam)
	}
}

// TestLargeCampaignStaysCheap: 20,000 copies of one template with an edit
// each. Buckets fill up and forget their oldest posts, yet every copy joins
// the one campaign, and a lookup compares a bounded number of signatures
// instead of one per stored copy.
func TestLargeCampaignStaysCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 posts")
	}
	w := newSynthWorld(10)
	tpl := w.template()
	d := newDetector(t, Config{})
	const n = 20_000
	for i := range n {
		r := d.Observe(Post{ID: int64(i + 1), AccountID: int64(i % 500), Text: w.variant(tpl, edits{1, 1}), At: t0.Add(time.Duration(i) * time.Second)})
		if i >= 2 && r.Campaign != 1 {
			t.Fatalf("copy %d: %+v, want campaign 1", i, r)
		}
	}
	perLookup := float64(d.compared) / n
	t.Logf("%d copies: %.1f comparisons per lookup, buckets forgot %d entries", n, perLookup, d.index.forgotten)
	if d.index.forgotten == 0 || perLookup > bandCount*bucketCap {
		t.Errorf("forgot %d, %.1f comparisons per lookup", d.index.forgotten, perLookup)
	}
	if got := len(d.Members(1)); got != n {
		t.Errorf("campaign has %d members, want %d", got, n)
	}
	checkInvariants(t, d)
}
