package campaign

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const spamText = "Congratulations! You have been selected to receive a free bitcoin airdrop worth 500 dollars, " +
	"claim your reward today at t.me/cryptogiftbonus before the offer expires tonight"

// TestDisguisedCopiesFormOneCampaign posts disguised copies of one scam
// from different accounts: the third account's copy forms the campaign and
// reports all three, later copies join one by one.
func TestDisguisedCopiesFormOneCampaign(t *testing.T) {
	copies := []string{
		spamText,
		"CONGRATULATIONS!!! 🎉 You have been selected to receive a FREE bitcoin airdrop worth 500 dollars, claim your reward today at t.me/cryptogiftbonus before the offer expires tonight 🚀",
		"Cоngrаtulаtiоns! Yоu hаvе bееn sеlесtеd tо rесеivе а frее bitсоin аirdrор wоrth 500 dоllаrs, сlаim yоur rеwаrd tоdаy аt t.mе/сryptоgiftbоnus bеfоrе thе оffеr ехpirеs tоnight", // Cyrillic look-alikes
		"C0ngratu1ations! You h4ve been se1ected to rece1ve a fr33 b1tcoin airdrop w0rth 500 dollars, cla1m your rew4rd today at t.me/crypt0giftb0nus before the 0ffer expires ton1ght",
		"Con\u200bgratu\u200blations! You have been sel\u200cected to receive a free bit\u200dcoin air\u2060drop worth 500 dollars, claim your reward today at t.me/cryptogiftbonus before the offer expires tonight",
		"Ｃｏｎｇｒａｔｕｌａｔｉｏｎｓ! You have been selected to receive a free bitcoin airdrop worth 500 dollars, claim your reward today at t.me/cryptogiftbonus before the offer expires tonight",
		"Congratulations! You have been chosen to receive a free bitcoin airdrop worth 800 dollars, claim your reward now at t.me/cryptogiftbonus2 before the offer expires tonight", // edited
		"f.r.e.e Congratulations! You have been selected to receive a free bitcoin airdrop worth 500 dollars, claim your reward today at t.me/cryptogiftbonus before the offer expires tonight #x7k2",
	}
	d := newDetector(t, Config{})
	var campaign CampaignID
	for i, text := range copies {
		p := Post{ID: int64(100 + i), AccountID: int64(1 + i), ChatID: 7, Text: text, At: t0.Add(time.Duration(i) * time.Minute)}
		r := d.Observe(p)
		switch {
		case i < 2:
			if r.Campaign != 0 {
				t.Fatalf("copy %d: campaign %d with only %d accounts", i, r.Campaign, i+1)
			}
		case i == 2:
			if !r.Formed || !slices.Equal(postIDs(r.Joined), []int64{100, 101, 102}) || r.Campaign != 100 {
				t.Fatalf("copy 2: %+v, want campaign 100 formed with posts 100-102", r)
			}
			campaign = r.Campaign
		default:
			if r.Campaign != campaign || r.Formed || !slices.Equal(postIDs(r.Joined), []int64{p.ID}) || len(r.Absorbed) != 0 {
				t.Errorf("copy %d (%q): %+v, want it to join campaign %d alone", i, text, r, campaign)
			}
		}
	}
	if got := postIDs(d.Members(campaign)); !slices.Equal(got, []int64{100, 101, 102, 103, 104, 105, 106, 107}) {
		t.Errorf("members %v", got)
	}
	m := d.Members(campaign)[1]
	if m.AccountID != 2 || m.ChatID != 7 || !m.At.Equal(t0.Add(time.Minute)) {
		t.Errorf("member %+v", m)
	}
	checkInvariants(t, d)
}

// TestDisguisesDoNotChangeTheSignature checks the claim the fingerprint
// rests on: what rules.Normalize and the word splitter undo leaves the
// signature exactly as it was.
func TestDisguisesDoNotChangeTheSignature(t *testing.T) {
	var f fingerprinter
	w := newSynthWorld(3)
	for range 300 {
		tpl := w.template()
		want, _, ok := f.fingerprint(tpl, 1)
		if !ok {
			t.Fatalf("no fingerprint for %q", tpl)
		}
		disguised := w.variant(tpl, edits{0, 0})
		if got, _, _ := f.fingerprint(disguised, 1); got != want {
			t.Errorf("%q and %q agree on %d of 64 slots", tpl, disguised, agreement(&got, &want))
		}
	}
}

// TestShortAndCommonTextsNeverFormCampaigns: greetings and one-word answers
// from a hundred accounts are not a campaign; they have too few shingles to
// be compared at all.
func TestShortAndCommonTextsNeverFormCampaigns(t *testing.T) {
	texts := []string{"ok", "thanks", "hi all", "Good morning everyone!", "thank you so much", "lol 😂😂😂",
		"yes", "+1", "Happy birthday!!! 🎂", "спасибо", "hello there, how are you all doing today?", "see you all tomorrow at the meeting"}
	d := newDetector(t, Config{})
	id := int64(1)
	for acct := range 100 {
		for _, text := range texts {
			if r := d.Observe(Post{ID: id, AccountID: int64(acct), Text: text, At: t0.Add(time.Duration(id) * time.Second)}); r.Campaign != 0 {
				t.Fatalf("%q from %d accounts formed campaign %+v", text, acct+1, r)
			}
			id++
		}
	}
	if s := d.Stats(); s.Posts != 0 {
		t.Errorf("%d short posts stored", s.Posts)
	}
}

// TestMinShinglesBoundary pins where "too short" begins: a text of exactly
// MinShingles distinct shingles is compared, one fewer is not.
func TestMinShinglesBoundary(t *testing.T) {
	var f fingerprinter
	// Four uncommon words: 4 words and 3 word pairs, 7 shingles.
	text := "zorblat quintex varnish plumbago"
	if _, n, _ := f.fingerprint(text, 1); n != 7 {
		t.Fatalf("%q has %d shingles, want 7", text, n)
	}
	for _, tt := range []struct {
		min  int
		want bool
	}{{7, true}, {8, false}} {
		d := newDetector(t, Config{MinShingles: tt.min})
		var r Result
		for i := range 3 {
			r = d.Observe(Post{ID: int64(i + 1), AccountID: int64(i), Text: text, At: t0})
		}
		if got := r.Formed; got != tt.want {
			t.Errorf("MinShingles %d: formed %v, want %v", tt.min, got, tt.want)
		}
	}
}

// TestUnrelatedTextsStayApart: texts that share a topic, a template of
// speech or common words, but are not copies, do not link.
func TestUnrelatedTextsStayApart(t *testing.T) {
	tests := []struct{ a, b string }{
		{"The city council meeting about the new school budget is moved to Thursday evening at seven",
			"The school football team won the city championship on Thursday evening, great game everyone"},
		{"Bitcoin price today: market update, BTC falls under 60000 dollars as traders fear new regulation",
			"Bitcoin airdrop: claim free BTC today at t.me/freebtcnow, limited offer for new members only"},
		{"Selling my old bicycle, barely used, red frame, 150 euros, pick up in Berlin Kreuzberg",
			"Selling my old laptop, barely used, silver, 400 euros, pick up in Munich Schwabing"},
		{spamText, "Congratulations to our students who have been selected to receive the national science award this year"},
	}
	for _, tt := range tests {
		d := newDetector(t, Config{MinAccounts: 2})
		d.Observe(Post{ID: 1, AccountID: 1, Text: tt.a, At: t0})
		if r := d.Observe(Post{ID: 2, AccountID: 2, Text: tt.b, At: t0}); r.Campaign != 0 {
			var f fingerprinter
			sa, _, _ := f.fingerprint(tt.a, 1)
			sb, _, _ := f.fingerprint(tt.b, 1)
			t.Errorf("%q and %q linked (agree on %d of 64)", tt.a, tt.b, agreement(&sa, &sb))
		}
	}
}

// TestRepeatsByOneAccountCountOnce: one account posting the same text five
// times, and a second account once, is not a campaign; the third account
// makes it one, and all seven posts are members.
func TestRepeatsByOneAccountCountOnce(t *testing.T) {
	d := newDetector(t, Config{})
	id := int64(0)
	post := func(acct int64) Result {
		id++
		return d.Observe(Post{ID: id, AccountID: acct, Text: spamText, At: t0.Add(time.Duration(id) * time.Second)})
	}
	for range 5 {
		if r := post(1); r.Campaign != 0 {
			t.Fatalf("one account: %+v", r)
		}
	}
	if r := post(2); r.Campaign != 0 {
		t.Fatalf("two accounts: %+v", r)
	}
	r := post(3)
	if !r.Formed || len(r.Joined) != 7 || r.Campaign != 1 {
		t.Fatalf("three accounts: %+v, want a campaign of 7 posts", r)
	}
	checkInvariants(t, d)
}

// TestObserveTwiceChangesNothing: an event delivered twice is acted on once.
func TestObserveTwiceChangesNothing(t *testing.T) {
	d := newDetector(t, Config{})
	var posts []Post
	for i := range 3 {
		posts = append(posts, Post{ID: int64(i + 1), AccountID: int64(i + 1), Text: spamText, At: t0.Add(time.Duration(i) * time.Second)})
	}
	d.Observe(posts[0])
	if r := d.Observe(posts[0]); r.Campaign != 0 || len(r.Joined) != 0 {
		t.Errorf("lone post again: %+v", r)
	}
	d.Observe(posts[1])
	first := d.Observe(posts[2])
	before := d.Stats()
	for _, p := range posts {
		if r := d.Observe(p); r.Campaign != first.Campaign || r.Formed || len(r.Joined) != 0 || len(r.Absorbed) != 0 {
			t.Errorf("post %d again: %+v, want campaign %d and nothing else", p.ID, r, first.Campaign)
		}
	}
	// A repeat with another text or time is still the same post.
	changed := posts[1]
	changed.Text, changed.At = "something else entirely, with enough words to be compared here", t0.Add(time.Hour)
	d.Observe(changed)
	if after := d.Stats(); after != before {
		t.Errorf("stats %+v after repeats, were %+v", after, before)
	}
	checkInvariants(t, d)
}

// TestWindow: copies further apart than the window do not link; a group
// counts only the accounts still in the window; a campaign ends when its
// last post leaves, and a later wave is a new campaign.
func TestWindow(t *testing.T) {
	d := newDetector(t, Config{Window: time.Hour})
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	obs := func(id, acct int64, m int) Result {
		return d.Observe(Post{ID: id, AccountID: acct, Text: spamText, At: at(m)})
	}
	obs(1, 1, 0)
	obs(2, 2, 30)
	// Post 1 (minute 0) leaves at minute 61: accounts 2 and 3 are not enough.
	if r := obs(3, 3, 61); r.Campaign != 0 {
		t.Fatalf("account 1's post had left the window: %+v", r)
	}
	if d.CampaignOf(1) != 0 || d.Stats().Posts != 2 {
		t.Fatalf("post 1 still stored: %+v", d.Stats())
	}
	r := obs(4, 4, 62)
	if !r.Formed || !slices.Equal(postIDs(r.Joined), []int64{2, 3, 4}) || r.Campaign != 2 {
		t.Fatalf("%+v, want campaign 2 of posts 2-4", r)
	}
	// A post exactly one window old is still in; older is not stored.
	if r := obs(5, 5, 2); r.Campaign != 2 {
		t.Errorf("post at the edge of the window: %+v", r)
	}
	if r := obs(6, 6, 1); r.Campaign != 0 || d.CampaignOf(6) != 0 {
		t.Errorf("post older than the window: %+v", r)
	}
	// Out of order but inside the window: stored.
	if r := obs(7, 7, 40); r.Campaign != 2 {
		t.Errorf("late post inside the window: %+v", r)
	}
	checkInvariants(t, d)
	// An unrelated post three hours later empties the window.
	d.Observe(Post{ID: 50, AccountID: 50, Text: "weather report for the weekend: sunny skies, light wind from the west and warm afternoons", At: at(240)})
	if s := d.Stats(); s.Posts != 1 || s.Campaigns != 0 || s.Groups != 0 || d.Members(2) != nil {
		t.Fatalf("after the window: %+v", s)
	}
	obs(8, 1, 241)
	obs(9, 2, 242)
	if r := obs(10, 3, 243); !r.Formed || r.Campaign != 8 {
		t.Errorf("second wave: %+v, want new campaign 8", r)
	}
	checkInvariants(t, d)
}

// TestMaxPostsForgetsOldestFirst: with room for three posts, a fourth
// pushes out the oldest by time, wherever it arrived.
func TestMaxPostsForgetsOldestFirst(t *testing.T) {
	d := newDetector(t, Config{MaxPosts: 3})
	texts := []string{
		"first unrelated text about gardening tomatoes peppers cucumbers and herbs",
		"second unrelated text about mountain hiking trails lakes glaciers and huts",
		"third unrelated text about classical piano sonatas concertos etudes nocturnes",
		"fourth unrelated text about sourdough bread flour starter hydration baking",
	}
	// Post 2 is the oldest though it arrives second.
	ats := []time.Duration{2 * time.Minute, 0, 3 * time.Minute, 4 * time.Minute}
	for i, text := range texts {
		d.Observe(Post{ID: int64(i + 1), AccountID: 1, Text: text, At: t0.Add(ats[i])})
	}
	d.mu.Lock()
	_, has2 := d.byID[2]
	_, has1 := d.byID[1]
	d.mu.Unlock()
	if has2 || !has1 || d.Stats().Posts != 3 {
		t.Errorf("post 2 kept %v, post 1 kept %v, %d posts", has2, has1, d.Stats().Posts)
	}
	// A late post older than every stored one is the oldest: it is not
	// stored, and nothing is pushed out for it.
	d.Observe(Post{ID: 5, AccountID: 1, Text: "fifth unrelated text about sailing boats harbours tides knots and anchors", At: t0.Add(time.Minute)})
	d.mu.Lock()
	_, has5 := d.byID[5]
	_, has1 = d.byID[1]
	d.mu.Unlock()
	if has5 || !has1 {
		t.Errorf("late oldest post kept %v, post 1 kept %v", has5, has1)
	}
	checkInvariants(t, d)
}

// mergeTexts returns two texts that are not near-duplicates of each other
// and a bridge that is a near-duplicate of both, and checks that it is so.
func mergeTexts(t *testing.T, threshold float64) (a, b, bridge string) {
	t.Helper()
	words := func(prefix string, from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("%s%c%c", prefix, 'a'+i%26, 'k'+i/26))
		}
		return out
	}
	x, y, z := words("zorb", 0, 9), words("quix", 0, 9), words("plim", 0, 9)
	a = strings.Join(slices.Concat(x, y), " ")
	b = strings.Join(slices.Concat(y, z), " ")
	bridge = strings.Join(slices.Concat(x[5:], y, z[:5]), " ")
	var f fingerprinter
	sa, _, _ := f.fingerprint(a, 1)
	sb, _, _ := f.fingerprint(b, 1)
	sm, _, _ := f.fingerprint(bridge, 1)
	need := int(threshold * signatureSlots)
	if agreement(&sa, &sb) >= need || agreement(&sm, &sa) < need || agreement(&sm, &sb) < need {
		t.Fatalf("construction broken: a~b %d, bridge~a %d, bridge~b %d of 64 (need %d)",
			agreement(&sa, &sb), agreement(&sm, &sa), agreement(&sm, &sb), need)
	}
	return a, b, bridge
}

// TestMerge covers the three ways a post can link groups: two campaigns
// (the older survives, the other is reported absorbed), a campaign and a
// group that is not one yet (its members join), and two groups that are not
// campaigns but are together (the merged group forms).
func TestMerge(t *testing.T) {
	a, b, bridge := mergeTexts(t, DefaultThreshold)
	type obs struct {
		id, acct int64
		text     string
	}
	tests := []struct {
		name  string
		posts []obs
		want  Result // the bridge's
	}{
		{"two campaigns", []obs{{10, 1, b}, {11, 2, b}, {1, 3, a}, {2, 4, a}, {3, 5, a}, {12, 6, b}, {20, 7, bridge}},
			// a's campaign formed first (at post 3), though b's posts came first.
			Result{Campaign: 1, Joined: []Member{{PostID: 20, AccountID: 7}}, Absorbed: []CampaignID{10}}},
		{"campaign and group", []obs{{1, 1, a}, {2, 2, a}, {3, 3, a}, {10, 4, b}, {11, 5, b}, {20, 6, bridge}},
			Result{Campaign: 1, Joined: []Member{{PostID: 10, AccountID: 4}, {PostID: 11, AccountID: 5}, {PostID: 20, AccountID: 6}}}},
		{"two groups", []obs{{1, 1, a}, {10, 2, b}, {2, 1, a}, {20, 3, bridge}},
			Result{Campaign: 1, Formed: true, Joined: []Member{{PostID: 1, AccountID: 1}, {PostID: 10, AccountID: 2}, {PostID: 2, AccountID: 1}, {PostID: 20, AccountID: 3}}}},
		{"two groups, still too few accounts", []obs{{1, 1, a}, {10, 2, b}, {20, 1, bridge}}, Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetector(t, Config{})
			var got Result
			for i, o := range tt.posts {
				got = d.Observe(Post{ID: o.id, AccountID: o.acct, Text: o.text, At: t0})
				if i < len(tt.posts)-1 && len(got.Absorbed) > 0 {
					t.Fatalf("post %d absorbed %v before the bridge", o.id, got.Absorbed)
				}
			}
			for i := range got.Joined {
				got.Joined[i].At = time.Time{}
			}
			for i := range tt.want.Joined {
				tt.want.Joined[i].At = time.Time{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bridge: %+v\nwant     %+v", got, tt.want)
			}
			if got.Campaign != 0 {
				for _, o := range tt.posts {
					if c := d.CampaignOf(o.id); c != got.Campaign {
						t.Errorf("post %d is in campaign %d, want %d", o.id, c, got.Campaign)
					}
				}
				if s := d.Stats(); s.Campaigns != 1 || s.Groups != 1 {
					t.Errorf("stats %+v, want one campaign", s)
				}
			}
			checkInvariants(t, d)
		})
	}
}

// TestMergeIsDeterministic: the surviving ID depends on which campaign
// formed first, not on the order the bridge's candidates are found in or
// where groups sit in memory; observing the same posts again in a new
// detector gives the same results.
func TestMergeIsDeterministic(t *testing.T) {
	a, b, bridge := mergeTexts(t, DefaultThreshold)
	run := func() []Result {
		d := newDetector(t, Config{})
		var out []Result
		for i, text := range []string{b, a, b, a, b, a, bridge} {
			out = append(out, d.Observe(Post{ID: int64(100 - i), AccountID: int64(i), Text: text, At: t0}))
		}
		return out
	}
	first := run()
	if got := first[6]; got.Campaign != 100 || !slices.Equal(got.Absorbed, []CampaignID{99}) {
		t.Errorf("bridge: %+v, want campaign 100 (formed at the 5th post) absorbing 99", got)
	}
	if again := run(); !reflect.DeepEqual(first, again) {
		t.Errorf("second run differs:\n%+v\n%+v", first, again)
	}
}

// TestConfig checks defaults and refusals.
func TestConfig(t *testing.T) {
	d := newDetector(t, Config{})
	if got := d.Config(); got != (Config{Window: 24 * time.Hour, Threshold: 0.5, MinAccounts: 3, MinShingles: 8, MaxPosts: 1_000_000}) {
		t.Errorf("defaults %+v", got)
	}
	if d.minAgreement != 32 {
		t.Errorf("threshold 0.5 needs %d slots, want 32", d.minAgreement)
	}
	if d := newDetector(t, Config{Threshold: 0.7}); d.minAgreement != 45 {
		t.Errorf("threshold 0.7 needs %d slots, want 45 (44.8 rounded up)", d.minAgreement)
	}
	for _, tt := range []struct {
		cfg   Config
		field string
	}{
		{Config{Window: -time.Second}, "window"},
		{Config{Threshold: 0.4}, "threshold"},
		{Config{Threshold: 1.01}, "threshold"},
		{Config{MinAccounts: 1}, "min_accounts"},
		{Config{MinShingles: -1}, "min_shingles"},
		{Config{MaxPosts: -5}, "max_posts"},
	} {
		_, err := New(tt.cfg)
		wantInvalid(t, err, tt.field)
	}
}

// TestConcurrentObserve observes disguised exact copies of 20 templates from
// 8 goroutines at once, half of them with ObserveBatch. Which post forms a campaign depends on the
// interleaving, but exact copies are near-duplicates of each other whatever
// the order, so each template must end as one campaign of all its posts.
// Run with -race.
func TestConcurrentObserve(t *testing.T) {
	w := newSynthWorld(21)
	var templates []string
	for range 20 {
		templates = append(templates, w.template())
	}
	type job struct {
		post     Post
		template int
	}
	var jobs []job
	for i := range 400 {
		tpl := i % len(templates)
		jobs = append(jobs, job{Post{ID: int64(i + 1), AccountID: int64(i % 7), Text: w.variant(templates[tpl], edits{0, 0}),
			At: t0.Add(time.Duration(i) * time.Second)}, tpl})
	}
	d := newDetector(t, Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	formed := map[CampaignID]int{}
	record := func(r Result) {
		if r.Formed {
			mu.Lock()
			formed[r.Campaign]++
			mu.Unlock()
		}
	}
	for g := range 8 {
		wg.Go(func() {
			var batch []Post // odd goroutines observe in batches of 5
			for i := g; i < len(jobs); i += 8 {
				if g%2 == 0 {
					record(d.Observe(jobs[i].post))
				} else if batch = append(batch, jobs[i].post); len(batch) == 5 || i+8 >= len(jobs) {
					for _, r := range d.ObserveBatch(batch) {
						record(r)
					}
					batch = batch[:0]
				}
				if i%50 == 0 {
					d.Stats()
					d.Members(d.CampaignOf(jobs[i].post.ID))
				}
			}
		})
	}
	wg.Wait()
	byTemplate := map[int]CampaignID{}
	for _, j := range jobs {
		c := d.CampaignOf(j.post.ID)
		if c == 0 {
			t.Fatalf("post %d is in no campaign", j.post.ID)
		}
		if prev, ok := byTemplate[j.template]; ok && prev != c {
			t.Fatalf("template %d split over campaigns %d and %d", j.template, prev, c)
		}
		byTemplate[j.template] = c
	}
	if len(formed) != len(templates) || d.Stats().Campaigns != len(templates) {
		t.Errorf("%d campaigns formed, %d live, want %d", len(formed), d.Stats().Campaigns, len(templates))
	}
	checkInvariants(t, d)
}

// TestRebuild: a detector rebuilt by replaying the same posts (as
// Worker.Rebuild does at start) holds the same campaigns with the same IDs
// and members.
func TestRebuild(t *testing.T) {
	posts := clusteredStream(newSynthWorld(5), 3000, 40, edits{0, 2}, 10*time.Second)
	cfg := Config{Window: time.Hour}
	live := newDetector(t, cfg)
	for _, p := range posts {
		live.Observe(p)
	}
	rebuilt := newDetector(t, cfg)
	for _, p := range posts {
		rebuilt.Observe(p)
	}
	if live.Stats() != rebuilt.Stats() || live.Stats().Campaigns == 0 {
		t.Fatalf("stats %+v and %+v", live.Stats(), rebuilt.Stats())
	}
	for _, p := range posts {
		c := live.CampaignOf(p.ID)
		if rc := rebuilt.CampaignOf(p.ID); rc != c {
			t.Fatalf("post %d: campaign %d live, %d rebuilt", p.ID, c, rc)
		}
		if c != 0 && !reflect.DeepEqual(live.Members(c), rebuilt.Members(c)) {
			t.Fatalf("campaign %d has other members after the rebuild", c)
		}
	}
}

// clusteredStream makes n posts a step apart: a third innocent, the rest
// copies of the templates with edits e, each template posted by six
// accounts of its own, interleaved at random. Post IDs are 1..n.
func clusteredStream(w *synthWorld, n, templates int, e edits, step time.Duration) []Post {
	var tpls []string
	for range templates {
		tpls = append(tpls, w.template())
	}
	posts := make([]Post, n)
	for i := range posts {
		p := Post{ID: int64(i + 1), ChatID: int64(w.rng.IntN(50)), At: t0.Add(time.Duration(i) * step)}
		if w.rng.IntN(3) == 0 {
			p.Text, p.AccountID = w.innocent(), int64(1000+w.rng.IntN(100_000))
		} else {
			k := w.rng.IntN(len(tpls))
			p.Text, p.AccountID = w.variant(tpls[k], e), int64(k*10+w.rng.IntN(6))
		}
		posts[i] = p
	}
	return posts
}

// TestObserveBatchMatchesObserve: a batch gives the Results that observing
// its posts one by one gives, in the same order, duplicates within a batch
// included.
func TestObserveBatchMatchesObserve(t *testing.T) {
	posts := clusteredStream(newSynthWorld(12), 2000, 30, edits{0, 2}, 5*time.Second)
	posts = append(posts, posts[100:150]...)
	one, batched := newDetector(t, Config{Window: time.Hour}), newDetector(t, Config{Window: time.Hour})
	var want, got []Result
	for _, p := range posts {
		want = append(want, one.Observe(p))
	}
	for i := 0; i < len(posts); i += 37 {
		got = append(got, batched.ObserveBatch(posts[i:min(i+37, len(posts))])...)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("post %d: batch %+v, one by one %+v", i, got[i], want[i])
			}
		}
	}
	if len(batched.ObserveBatch(nil)) != 0 {
		t.Error("an empty batch has Results")
	}
	checkInvariants(t, batched)
}
