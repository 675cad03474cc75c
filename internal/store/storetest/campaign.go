package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/safety/campaign"
	"parley/internal/safety/enforce"
)

// --- campaigns ---

// spam posts one message in chat for each offset, by the accounts in turn,
// at t0 plus the offset, and returns them as campaign members.
func spam(t *testing.T, s Store, chat *parley.Chat, accounts []*parley.User, offsets ...time.Duration) []campaign.Member {
	t.Helper()
	var ms []campaign.Member
	for i, d := range offsets {
		a := accounts[i%len(accounts)]
		u := post(t, s, chat, a, fmt.Sprintf("win a free phone, claim it now %d", d/time.Minute), at(d))
		ms = append(ms, campaign.Member{PostID: u.Message.ID, AccountID: a.ID, ChatID: chat.ID, At: at(d)})
	}
	return ms
}

// spamGroup is a group whose members are n fresh accounts.
func spamGroup(t *testing.T, s Store, n int) (*parley.Chat, []*parley.User) {
	t.Helper()
	owner := newUser(t, s, "owner")
	accounts := users(t, s, "spammer", n)
	g := newGroup(t, s, owner, "Bargains", 0)
	for _, a := range accounts {
		join(t, s, g, a, parley.MemberRegular)
	}
	return g, accounts
}

// found is an observation that made or grew campaign id (the first
// member's post when 0) with the members joined, at the last one's time.
func found(id int64, joined []campaign.Member, absorbed ...int64) campaign.Found {
	if id == 0 {
		id = joined[0].PostID
	}
	return campaign.Found{Campaign: id, Sample: fmt.Sprintf("sample of %d", id), Joined: joined, Absorbed: absorbed, At: joined[len(joined)-1].At}
}

func record(t *testing.T, s Store, fs ...campaign.Found) {
	t.Helper()
	must(t, s.RecordCampaigns(t.Context(), fs))
}

func findCampaign(t *testing.T, s Store, id int64) *campaign.Stored {
	t.Helper()
	c, err := s.FindCampaign(t.Context(), id)
	must(t, err)
	return c
}

// wantCampaign fails unless campaign id is open with these counts and
// times.
func wantCampaign(t *testing.T, s Store, id int64, status string, posts, accounts int64, first, last time.Time) *campaign.Stored {
	t.Helper()
	c := findCampaign(t, s, id)
	if c.ID != id || c.Status != status || c.Posts != posts || c.Accounts != accounts || !c.FirstAt.Equal(first) || !c.LastAt.Equal(last) {
		t.Fatalf("campaign %d = %+v, want %s with %d posts by %d accounts from %v to %v", id, c, status, posts, accounts, first, last)
	}
	return c
}

// memberPosts returns the message ids of a campaign's members, as listed.
func memberPosts(t *testing.T, s Store, id int64) []int64 {
	t.Helper()
	ms, err := s.ListCampaignMembers(t.Context(), id)
	must(t, err)
	return each(ms, func(m *campaign.StoredMember) int64 { return m.MessageID })
}

func postIDs(ms ...[]campaign.Member) []int64 {
	return each(slices.Concat(ms...), func(m campaign.Member) int64 { return m.PostID })
}

func campaignIDs(t *testing.T, s Store, status string, limit int) []int64 {
	t.Helper()
	cs, err := s.ListCampaigns(t.Context(), status, limit)
	must(t, err)
	return each(cs, func(c *campaign.Stored) int64 { return c.ID })
}

func testCampaignRecordAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	g, accounts := spamGroup(t, s, 2)
	ms := spam(t, s, g, accounts, time.Minute, 2*time.Minute, 3*time.Minute)
	f := found(0, ms)
	record(t, s, f)
	c := findCampaign(t, s, f.Campaign)
	want := &campaign.Stored{ID: f.Campaign, Status: campaign.StatusOpen, Sample: f.Sample, Posts: 3, Accounts: 2,
		FirstAt: at(time.Minute), LastAt: at(3 * time.Minute), CreatedAt: at(3 * time.Minute)}
	sameJSON(t, "FindCampaign", c, want)

	members, err := s.ListCampaignMembers(ctx, f.Campaign)
	must(t, err)
	if len(members) != 3 {
		t.Fatalf("%d members, want 3", len(members))
	}
	for i, m := range members {
		msg := findMsg(t, s, g.ID, int64(i+1))
		want := &campaign.StoredMember{MessageID: ms[i].PostID, ChatID: g.ID, Seq: msg.Seq, AccountID: ms[i].AccountID, Text: msg.Text, At: ms[i].At}
		sameJSON(t, fmt.Sprintf("member %d", i), m, want)
	}

	_, err = s.FindCampaign(ctx, f.Campaign+100)
	wantCode(t, err, parley.ENotFound)
	if got := memberPosts(t, s, f.Campaign+100); len(got) != 0 {
		t.Fatalf("members of no campaign = %v", got)
	}

	// A long sample is shortened at a character boundary.
	long := spam(t, s, g, accounts[1:], 4*time.Minute)
	lf := found(0, long)
	lf.Sample = strings.Repeat("é", 800) // 1,600 bytes
	record(t, s, lf)
	sample := findCampaign(t, s, lf.Campaign).Sample
	if len(sample) == 0 || len(sample) > 1000 || !utf8.ValidString(sample) || !strings.HasPrefix(lf.Sample, sample) {
		t.Fatalf("a sample of %d bytes was stored as %d bytes (valid UTF-8: %v)", len(lf.Sample), len(sample), utf8.ValidString(sample))
	}
}

// testCampaignRecordIdempotent: recording members a campaign has already
// changes nothing, so that a replay after a restart is harmless; new
// members count once each, and the sample and status stay.
func testCampaignRecordIdempotent(t *testing.T, s Store) {
	g, accounts := spamGroup(t, s, 3)
	ms := spam(t, s, g, accounts[:2], time.Minute, 2*time.Minute, 3*time.Minute)
	f := found(0, ms)
	record(t, s, f)
	before := findCampaign(t, s, f.Campaign)
	record(t, s, f, f)
	sameJSON(t, "campaign recorded again", findCampaign(t, s, f.Campaign), before)
	if got := memberPosts(t, s, f.Campaign); !slices.Equal(got, postIDs(ms)) {
		t.Fatalf("members recorded again = %v, want %v", got, postIDs(ms))
	}

	more := spam(t, s, g, accounts[2:], 10*time.Minute)
	grow := found(f.Campaign, append([]campaign.Member{ms[1]}, more...))
	grow.Sample = "another sample"
	record(t, s, grow)
	c := wantCampaign(t, s, f.Campaign, campaign.StatusOpen, 4, 3, at(time.Minute), at(10*time.Minute))
	if c.Sample != f.Sample || !c.CreatedAt.Equal(before.CreatedAt) {
		t.Fatalf("a campaign recorded again changed its sample or creation: %+v, was %+v", c, before)
	}
	if got := memberPosts(t, s, f.Campaign); !slices.Equal(got, postIDs(ms, more)) {
		t.Fatalf("members = %v, want %v", got, postIDs(ms, more))
	}
}

// testCampaignRecordConcurrent: observations recorded at once, each with
// members the others have too, count every member once.
func testCampaignRecordConcurrent(t *testing.T, s Store) {
	g, accounts := spamGroup(t, s, 5)
	var offsets []time.Duration
	for i := range 20 {
		offsets = append(offsets, time.Duration(i+1)*time.Minute)
	}
	ms := spam(t, s, g, accounts, offsets...)
	id := ms[0].PostID
	errs := race(8, func(i int) error {
		// Call i records a window of 6 members starting at 2i: each overlaps
		// the next two.
		f := found(id, ms[2*i:2*i+6])
		return s.RecordCampaigns(t.Context(), []campaign.Found{f})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent RecordCampaigns, call %d: %v", i, err)
		}
	}
	wantCampaign(t, s, id, campaign.StatusOpen, 20, 5, at(time.Minute), at(20*time.Minute))
	if got := memberPosts(t, s, id); !slices.Equal(got, postIDs(ms)) {
		t.Fatalf("members = %v, want %v", got, postIDs(ms))
	}
}

// testCampaignAbsorb: the members of absorbed campaigns become the
// absorber's, counted once, its times spanning theirs; an open absorbed
// campaign says where it went and keeps its record, a decided one keeps
// its decision.
func testCampaignAbsorb(t *testing.T, s Store) {
	g, accounts := spamGroup(t, s, 4)
	mod := newUser(t, s, "moderator")
	b := spam(t, s, g, accounts[2:], time.Minute, 2*time.Minute)   // absorbed, open
	c := spam(t, s, g, accounts[3:], 3*time.Minute, 4*time.Minute) // absorbed, dismissed
	a := spam(t, s, g, accounts[:2], 5*time.Minute, 6*time.Minute) // the absorber
	fb, fc := found(0, b), found(0, c)
	record(t, s, fb, fc)
	must(t, s.DecideCampaign(t.Context(), fc.Campaign, campaign.StatusDismissed, mod.ID, at(time.Hour)))
	record(t, s, found(0, a))
	bBefore := findCampaign(t, s, fb.Campaign)

	// A post linking them; it is a member of c already.
	link := spam(t, s, g, accounts[:1], 7*time.Minute)
	fa := found(a[0].PostID, []campaign.Member{c[0], link[0]}, fb.Campaign, fc.Campaign)
	record(t, s, fa)
	wantCampaign(t, s, fa.Campaign, campaign.StatusOpen, 7, 4, at(time.Minute), at(7*time.Minute))
	if got, want := memberPosts(t, s, fa.Campaign), postIDs(b, c, a, link); !slices.Equal(got, want) {
		t.Fatalf("members of the absorber = %v, want %v (oldest first)", got, want)
	}
	gotB := findCampaign(t, s, fb.Campaign)
	if gotB.Status != campaign.StatusAbsorbed || gotB.AbsorbedInto != fa.Campaign || gotB.Posts != bBefore.Posts || gotB.Accounts != bBefore.Accounts {
		t.Fatalf("absorbed campaign = %+v, want absorbed into %d with its counts %d, %d", gotB, fa.Campaign, bBefore.Posts, bBefore.Accounts)
	}
	if got := memberPosts(t, s, fb.Campaign); !slices.Equal(got, postIDs(b)) {
		t.Fatalf("the absorbed campaign's members = %v, want its own %v", got, postIDs(b))
	}
	if gotC := findCampaign(t, s, fc.Campaign); gotC.Status != campaign.StatusDismissed || gotC.DecidedBy != mod.ID {
		t.Fatalf("a dismissed campaign absorbed = %+v, want its decision kept", gotC)
	}
	if got := campaignIDs(t, s, campaign.StatusAbsorbed, 10); !slices.Equal(got, []int64{fb.Campaign}) {
		t.Fatalf("absorbed campaigns = %v, want [%d]", got, fb.Campaign)
	}
	if got := campaignIDs(t, s, campaign.StatusOpen, 10); !slices.Equal(got, []int64{fa.Campaign}) {
		t.Fatalf("open campaigns = %v, want [%d]", got, fa.Campaign)
	}

	// Replaying it changes nothing.
	after := findCampaign(t, s, fa.Campaign)
	record(t, s, fa)
	sameJSON(t, "absorber after a replay", findCampaign(t, s, fa.Campaign), after)
}

// testCampaignList: campaigns of a status, the most recently active first.
func testCampaignList(t *testing.T, s Store) {
	g, accounts := spamGroup(t, s, 2)
	var ids []int64
	for _, last := range []time.Duration{3, 5, 1, 5} { // minutes
		ms := spam(t, s, g, accounts, last*time.Minute-30*time.Second, last*time.Minute)
		f := found(0, ms)
		record(t, s, f)
		ids = append(ids, f.Campaign)
	}
	if got, want := campaignIDs(t, s, campaign.StatusOpen, 10), []int64{ids[3], ids[1], ids[0], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("open campaigns = %v, want %v (latest activity first; of one instant, the highest id first)", got, want)
	}
	if got, want := campaignIDs(t, s, campaign.StatusOpen, 2), []int64{ids[3], ids[1]}; !slices.Equal(got, want) {
		t.Fatalf("open campaigns, limited to 2 = %v, want %v", got, want)
	}
	if got := campaignIDs(t, s, campaign.StatusOpen, 0); len(got) != 4 {
		t.Fatalf("open campaigns with limit 0 = %v, want all 4", got)
	}
	must(t, s.DecideCampaign(t.Context(), ids[1], campaign.StatusRemoved, accounts[0].ID, at(time.Hour)))
	if got := campaignIDs(t, s, campaign.StatusRemoved, 10); !slices.Equal(got, []int64{ids[1]}) {
		t.Fatalf("removed campaigns = %v, want [%d]", got, ids[1])
	}
	if got := campaignIDs(t, s, "nonsense", 10); len(got) != 0 {
		t.Fatalf("campaigns of an unknown status = %v", got)
	}
}

func testCampaignDecide(t *testing.T, s Store) {
	ctx := t.Context()
	g, accounts := spamGroup(t, s, 2)
	mod, other := newUser(t, s, "moderator"), newUser(t, s, "other")
	ms := spam(t, s, g, accounts, time.Minute, 2*time.Minute)
	f := found(0, ms)
	record(t, s, f)
	audits := auditCount(t, s)

	must(t, s.DecideCampaign(ctx, f.Campaign, campaign.StatusDismissed, mod.ID, at(time.Hour)))
	c := findCampaign(t, s, f.Campaign)
	if c.Status != campaign.StatusDismissed || c.DecidedBy != mod.ID || c.DecidedAt == nil || !c.DecidedAt.Equal(at(time.Hour)) {
		t.Fatalf("dismissed campaign = %+v", c)
	}
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("%d audit entries, want %d", n, audits+1)
	}
	e := lastAudit(t, s)
	wantAuditOf(t, e, "campaign.decided", mod.ID, "campaign", fmt.Sprint(f.Campaign), at(time.Hour))
	if d := auditDetails(t, e); d["status"] != campaign.StatusDismissed {
		t.Fatalf("audit details %s", e.Details)
	}
	if got := campaignIDs(t, s, campaign.StatusOpen, 10); len(got) != 0 {
		t.Fatalf("open campaigns after the decision = %v", got)
	}

	// The first decision stands; an unknown campaign; an absorbed one.
	wantCode(t, s.DecideCampaign(ctx, f.Campaign, campaign.StatusRemoved, other.ID, at(2*time.Hour)), parley.EConflict)
	sameJSON(t, "campaign after a second decision", findCampaign(t, s, f.Campaign), c)
	wantCode(t, s.DecideCampaign(ctx, f.Campaign+100, campaign.StatusRemoved, other.ID, at(2*time.Hour)), parley.ENotFound)
	x, y := spam(t, s, g, accounts, 3*time.Minute, 4*time.Minute), spam(t, s, g, accounts, 5*time.Minute, 6*time.Minute)
	fx, fy := found(0, x), found(0, y)
	record(t, s, fy)
	record(t, s, fx)
	record(t, s, found(fx.Campaign, x[1:], fy.Campaign))
	wantCode(t, s.DecideCampaign(ctx, fy.Campaign, campaign.StatusRemoved, other.ID, at(2*time.Hour)), parley.EConflict)
	if got := findCampaign(t, s, fy.Campaign); got.Status != campaign.StatusAbsorbed {
		t.Fatalf("absorbed campaign after a decision = %+v", got)
	}
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("refused decisions wrote audit entries: %d, want %d", n, audits+1)
	}

	// A decided campaign keeps its decision as members join.
	more := spam(t, s, g, accounts, 7*time.Minute)
	record(t, s, found(f.Campaign, more))
	wantCampaign(t, s, f.Campaign, campaign.StatusDismissed, 3, 2, at(time.Minute), at(7*time.Minute))

	// Of moderators deciding at once, exactly one succeeds.
	mods := users(t, s, "mod", 6)
	statusOf := func(i int) string { return []string{campaign.StatusRemoved, campaign.StatusDismissed}[i%2] }
	errs := race(len(mods), func(i int) error {
		return s.DecideCampaign(t.Context(), fx.Campaign, statusOf(i), mods[i].ID, at(3*time.Hour))
	})
	w := oneWins(t, "concurrent DecideCampaign", errs)
	if got := findCampaign(t, s, fx.Campaign); got.Status != statusOf(w) || got.DecidedBy != mods[w].ID {
		t.Fatalf("campaign decided at once = %+v, want %s by %d", got, statusOf(w), mods[w].ID)
	}
	if n := auditCount(t, s); n != audits+2 {
		t.Fatalf("%d audit entries, want %d (one more decision)", n, audits+2)
	}
}

// testCampaignMembersRemoved: a member says whether its post is removed or
// deleted now.
func testCampaignMembersRemoved(t *testing.T, s Store) {
	g, accounts := spamGroup(t, s, 3)
	ms := spam(t, s, g, accounts, time.Minute, 2*time.Minute, 3*time.Minute)
	f := found(0, ms)
	record(t, s, f)
	apply(t, s, enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: g.ID, Seq: 2}})
	_, err := s.DeleteMessage(t.Context(), g.ID, 3, at(time.Hour))
	must(t, err)
	members, err := s.ListCampaignMembers(t.Context(), f.Campaign)
	must(t, err)
	if len(members) != 3 || members[0].Removed || !members[1].Removed || !members[2].Removed || members[2].Text != "" || members[0].Text == "" {
		t.Fatalf("members = %+v, want the first up, the second removed, the third deleted", members)
	}
}

// testCampaignPostsSince: the posts a restarted detector replays.
func testCampaignPostsSince(t *testing.T, s Store) {
	ctx := t.Context()
	posts, err := s.PostsSince(ctx, t0, 0, 10)
	must(t, err)
	if len(posts) != 0 {
		t.Fatalf("posts of an empty store = %+v", posts)
	}
	owner, peer := newUser(t, s, "owner"), newUser(t, s, "peer")
	g := newGroup(t, s, owner, "Group", 0)
	ch := newChannel(t, s, owner, "news", "News")
	direct := &parley.Chat{Kind: parley.ChatDirect, OwnerID: owner.ID, MemberLimit: 2, CreatedAt: t0}
	must(t, s.CreateChat(ctx, direct, peer.ID))
	img := &parley.Media{ID: strings.Repeat("ab", 32), Mime: "image/png", Size: 3, UploaderID: owner.ID, CreatedAt: t0}
	must(t, s.SaveMedia(ctx, img))

	old := post(t, s, g, owner, "before the window", t0)
	want := []campaign.Post{}
	add := func(c *parley.Chat, text string, d time.Duration) {
		u := post(t, s, c, owner, text, at(d))
		want = append(want, campaign.Post{ID: u.Message.ID, AccountID: owner.ID, ChatID: c.ID, Text: text, At: at(d)})
	}
	add(ch, "in a channel", time.Hour)
	post(t, s, direct, owner, "in a direct chat", at(time.Hour+time.Minute))
	_, err = s.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: owner.ID, MediaID: img.ID, CreatedAt: at(time.Hour + 2*time.Minute)})
	must(t, err)
	gone := post(t, s, g, owner, "deleted", at(time.Hour+3*time.Minute))
	_, err = s.DeleteMessage(ctx, g.ID, gone.Message.Seq, at(2*time.Hour))
	must(t, err)
	add(g, "in a group", time.Hour+4*time.Minute)
	add(ch, "in the channel again", time.Hour+5*time.Minute)

	since := at(time.Hour)
	postsSince := func(since time.Time, after int64, limit int) []campaign.Post {
		t.Helper()
		ps, err := s.PostsSince(ctx, since, after, limit)
		must(t, err)
		if ps == nil {
			ps = []campaign.Post{}
		}
		return ps
	}
	sameJSON(t, "posts since", postsSince(since, 0, 0), want)
	sameJSON(t, "first page", postsSince(since, 0, 2), want[:2])
	sameJSON(t, "next page", postsSince(since, want[1].ID, 2), want[2:])
	sameJSON(t, "after the last", postsSince(since, want[2].ID, 2), []campaign.Post{})
	sameJSON(t, "after a post before the window", postsSince(since, old.Message.ID, 10), want)
	sameJSON(t, "since after every post", postsSince(at(3*time.Hour), 0, 10), []campaign.Post{})
	if got := postsSince(t0, 0, 10); len(got) != 4 || got[0].ID != old.Message.ID {
		t.Fatalf("posts since t0 = %+v, want the old post first and the three others", got)
	}
}
