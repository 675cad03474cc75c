package storetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// The enforcement tests pass actions with these grounds and build their
// statements with sor.Build, as the enforcement service does.
var testGrounds = enforce.Grounds{
	Ground:      sor.GroundIncompatibleContent,
	TermsGround: "Section 4.2 (scams) of the Parley Terms of Service",
	Category:    sor.CategoryScamsAndFraud,
	Source:      sor.SourceVoluntary,
	Signal:      sor.Signal{Kind: sor.SignalModerator},
	Automation:  sor.NotAutomated,
}

// buildStatement is the StatementFunc of the tests; it records the facts
// the store gave it.
func buildStatement(seen *[]enforce.Facts) enforce.StatementFunc {
	return func(a *enforce.Action, f enforce.Facts) (*sor.Statement, error) {
		if seen != nil {
			*seen = append(*seen, f)
		}
		d := sor.Decision{Namespace: "test", ActionID: a.ID, ContentPosted: f.ContentPosted, Applied: a.CreatedAt,
			Items: f.Items, Chat: f.Chat, Ground: a.Grounds.Ground, TermsGround: a.Grounds.TermsGround,
			Category: a.Grounds.Category, Source: a.Grounds.Source, Signal: a.Grounds.Signal, Automation: a.Grounds.Automation}
		for _, c := range a.Countries {
			d.Territory = append(d.Territory, sor.Country(c))
		}
		switch a.Kind {
		case enforce.WithholdMessage, enforce.WithholdChat:
			d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentDisabled}
		case enforce.LabelMessage:
			d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentLabelled}
		case enforce.SuspendAccount:
			d.Account, d.AccountUntil = sor.AccountSuspended, a.Until
		case enforce.TerminateAccount:
			d.Account = sor.AccountTerminated
		default:
			d.Visibility = []sor.DecisionVisibility{sor.VisibilityContentRemoved}
		}
		return sor.Build(d)
	}
}

// apply takes one action by moderator 0 at time t0+1h.
func apply(t *testing.T, s Store, req enforce.Action) *enforce.Action {
	t.Helper()
	a := req
	if a.Target.Type == "" {
		a.Target.Type = a.Kind.TargetType()
	}
	a.Grounds, a.CreatedAt = testGrounds, at(time.Hour)
	must(t, s.ApplyAction(t.Context(), &a, buildStatement(nil), at(180*24*time.Hour)))
	return &a
}

func findMsg(t *testing.T, s Store, chatID, seq int64) *parley.Message {
	t.Helper()
	m, err := s.FindMessage(t.Context(), chatID, seq)
	must(t, err)
	return m
}

func findUserT(t *testing.T, s Store, id int64) *parley.User {
	t.Helper()
	u, err := s.FindUserByID(t.Context(), id)
	must(t, err)
	return u
}

func testEnforceRemoveAndRestoreMessage(t *testing.T, s Store) {
	ctx := t.Context()
	owner, author := newUser(t, s, "owner"), newUser(t, s, "author")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, author, parley.MemberRegular)
	post(t, s, g, author, "buy my crypto now", t0)
	takeEvents(t, s)

	var facts []enforce.Facts
	a := &enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: g.ID, Seq: 1},
		Grounds: testGrounds, ActorID: owner.ID, CreatedAt: at(time.Hour), Note: "spam wave"}
	must(t, s.ApplyAction(ctx, a, buildStatement(&facts), at(180*24*time.Hour)))
	if a.ID == 0 || a.PUID != "test-sor-"+strconv.FormatInt(a.ID, 10) || a.AffectedUserID != author.ID || a.Statement == nil {
		t.Fatalf("applied action = %+v", a)
	}
	if len(facts) != 1 || facts[0].AffectedUserID != author.ID || !facts[0].ContentPosted.Equal(t0) ||
		facts[0].Chat != parley.ChatGroup || len(facts[0].Items) != 1 || facts[0].Items[0] != sor.ItemText {
		t.Fatalf("facts given to the statement = %+v", facts)
	}

	m := findMsg(t, s, g.ID, 1)
	if m.Moderation == nil || m.Moderation.Removed == nil || m.Moderation.Removed.ActionID != a.ID {
		t.Fatalf("moderation after removal = %+v", m.Moderation)
	}
	if m.Text != "buy my crypto now" {
		t.Fatalf("the stored message lost its content (%q); it must stay as evidence", m.Text)
	}
	// The removed message is listed (as removed) to others; the update that
	// tells clients carries no content.
	msgs, err := s.ListMessages(ctx, g.ID, owner.ID, 0, 10)
	must(t, err)
	if len(msgs) != 1 || msgs[0].Moderation == nil || msgs[0].Moderation.Removed == nil {
		t.Fatalf("history after removal = %+v", msgs)
	}
	evs := takeEvents(t, s)
	if len(evs) != 1 || evs[0].Kind != parley.UpdateMessageModerated || evs[0].Subject != parley.ChatSubject(g.ID) {
		t.Fatalf("events of a removal = %+v", evs)
	}
	var u parley.Update
	must(t, json.Unmarshal(evs[0].Payload, &u))
	if u.Message.Text != "" || u.Message.Moderation == nil || u.Message.Moderation.Removed == nil || u.Pts != 2 {
		t.Fatalf("removal update = %+v", u)
	}
	// Catching up from before the removal gives no content either once the
	// current moderation is laid over the old snapshot.
	ups, err := s.ListUpdates(ctx, g.ID, 0, 10)
	must(t, err)
	if len(ups) != 2 || ups[0].Message.Moderation == nil || ups[0].Message.Moderation.Removed == nil {
		t.Fatalf("updates after removal = %+v", ups)
	}
	if got := parley.ViewMessage(&ups[0].Message, nil, parley.Viewer{UserID: owner.ID}); got.Text != "" || got.Notice == nil {
		t.Fatalf("old update as the owner sees it = %+v", got)
	}
	if n := findUserT(t, s, author.ID).Strikes; n != 1 {
		t.Fatalf("strikes after a removal = %d, want 1", n)
	}
	ev, err := s.ListEvidence(ctx, a.Target)
	must(t, err)
	if len(ev) != 1 || !strings.Contains(ev[0].Content, "buy my crypto now") || ev[0].ActionID != a.ID {
		t.Fatalf("evidence = %+v", ev)
	}
	if e := lastAudit(t, s); e.Action != "enforcement.remove_message" || e.ActorID != owner.ID || e.TargetID != a.Target.ID() {
		t.Fatalf("audit entry = %+v", e)
	}
	got, err := s.FindAction(ctx, a.ID)
	must(t, err)
	if got.Note != "spam wave" || got.Grounds.Category != sor.CategoryScamsAndFraud || got.Statement.PUID != a.PUID || !got.Standing() {
		t.Fatalf("found action = %+v", got)
	}

	// Twice is a conflict, and changes nothing.
	again := &enforce.Action{Kind: enforce.RemoveMessage, Target: a.Target, Grounds: testGrounds, CreatedAt: at(time.Hour)}
	wantCode(t, s.ApplyAction(ctx, again, buildStatement(nil), at(time.Hour)), parley.EConflict)

	// Restore takes it back exactly.
	r, err := s.RestoreAction(ctx, a.ID, owner.ID, "appeal upheld", at(2*time.Hour))
	must(t, err)
	if r.ReversedAt == nil || r.ReversalReason != "appeal upheld" {
		t.Fatalf("restored action = %+v", r)
	}
	m = findMsg(t, s, g.ID, 1)
	if m.Moderation != nil || m.Text != "buy my crypto now" {
		t.Fatalf("message after restore = %+v", m)
	}
	if n := findUserT(t, s, author.ID).Strikes; n != 0 {
		t.Fatalf("strikes after restore = %d, want 0", n)
	}
	evs = takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("events of a restore = %+v", evs)
	}
	u = parley.Update{}
	must(t, json.Unmarshal(evs[0].Payload, &u))
	if u.Message.Text != "buy my crypto now" || u.Message.Moderation != nil || u.Pts != 3 {
		t.Fatalf("restore update = %+v", u)
	}
	if e := lastAudit(t, s); e.Action != "enforcement.restored" || e.ActorID != owner.ID {
		t.Fatalf("audit entry of the restore = %+v", e)
	}
	_, err = s.RestoreAction(ctx, a.ID, owner.ID, "again", at(3*time.Hour))
	wantCode(t, err, parley.EConflict)
	_, err = s.RestoreAction(ctx, a.ID+100, owner.ID, "none", at(3*time.Hour))
	wantCode(t, err, parley.ENotFound)
}

// testEnforceApplyActionsIsolated: in a batch, an action that cannot be
// taken fails alone, with its error at its index, and leaves no trace; the
// others commit together with consecutive ids. A second batch, which an
// adapter may run on what the first prepared, behaves the same.
func testEnforceApplyActionsIsolated(t *testing.T, s Store) {
	ctx := t.Context()
	owner, author := newUser(t, s, "owner"), newUser(t, s, "author")
	ch := newChannel(t, s, author, "news", "News")
	for range 3 {
		post(t, s, ch, author, "spam", t0)
	}
	takeEvents(t, s)
	audits := auditCount(t, s)
	remove := func(seq int64) *enforce.Action {
		return &enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: seq},
			Grounds: testGrounds, ActorID: owner.ID, CreatedAt: at(time.Hour)}
	}
	for _, round := range []struct {
		seqs     []int64
		conflict int // the index of the action that cannot be taken
	}{{[]int64{1, 1, 2}, 1}, {[]int64{2, 3}, 0}} {
		var as []*enforce.Action
		for _, seq := range round.seqs {
			as = append(as, remove(seq))
		}
		errs, err := s.ApplyActions(ctx, as, buildStatement(nil), at(180*24*time.Hour))
		must(t, err)
		if len(errs) != len(as) {
			t.Fatalf("%d errors for %d actions", len(errs), len(as))
		}
		var applied []*enforce.Action
		for i, a := range as {
			if i == round.conflict {
				wantCode(t, errs[i], parley.EConflict)
				continue
			}
			must(t, errs[i])
			applied = append(applied, a)
		}
		for i, a := range applied {
			if i > 0 && a.ID != applied[i-1].ID+1 {
				t.Fatalf("applied action ids %d, %d: not consecutive", applied[i-1].ID, a.ID)
			}
			if got, err := s.FindAction(ctx, a.ID); err != nil || got.Target != a.Target {
				t.Fatalf("action %d as stored = %+v, %v", a.ID, got, err)
			}
		}
		if evs := takeEvents(t, s); len(evs) != len(applied) {
			t.Fatalf("%d events for %d applied actions", len(evs), len(applied))
		}
		audits += len(applied)
		if n := auditCount(t, s); n != audits {
			t.Fatalf("%d audit entries, want %d", n, audits)
		}
	}
	for seq := int64(1); seq <= 3; seq++ {
		if m := findMsg(t, s, ch.ID, seq); m.Moderation == nil || m.Moderation.Removed == nil {
			t.Fatalf("message %d not removed: %+v", seq, m.Moderation)
		}
	}
	if n := findUserT(t, s, author.ID).Strikes; n != 3 {
		t.Fatalf("strikes = %d, want 3 (one per removal, none for the refused ones)", n)
	}
}

func testEnforceWithholdTwiceRestoreOne(t *testing.T, s Store) {
	owner := newUser(t, s, "owner")
	ch := newChannel(t, s, owner, "news", "News")
	post(t, s, ch, owner, "a report", t0)
	target := enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: 1}
	de := apply(t, s, enforce.Action{Kind: enforce.WithholdMessage, Target: target, Countries: []string{"DE"}})
	fr := apply(t, s, enforce.Action{Kind: enforce.WithholdMessage, Target: target, Countries: []string{"FR"}})
	m := findMsg(t, s, ch.ID, 1)
	if got := m.Moderation.WithheldCountries(); len(got) != 2 || got[0] != "DE" || got[1] != "FR" {
		t.Fatalf("withheld in %v, want [DE FR]", got)
	}
	for country, hidden := range map[string]bool{"DE": true, "FR": true, "IT": false, "": false} {
		v := parley.ViewMessage(m, nil, parley.Viewer{UserID: 999, Country: country})
		if hidden != (v.Text == "" && v.Notice != nil && v.Notice.Kind == parley.NoticeWithheld) {
			t.Fatalf("viewer in %q sees %+v", country, v)
		}
	}
	if _, err := s.RestoreAction(t.Context(), de.ID, owner.ID, "order lifted", at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	m = findMsg(t, s, ch.ID, 1)
	if got := m.Moderation.WithheldCountries(); len(got) != 1 || got[0] != "FR" || m.Moderation.Withheld[0].ActionID != fr.ID {
		t.Fatalf("after restoring DE: withheld in %v (%+v), want [FR] by action %d", got, m.Moderation, fr.ID)
	}
	if findUserT(t, s, owner.ID).Strikes != 0 {
		t.Fatal("a withholding counted as a strike")
	}
}

func testEnforceRemoveMediaEveryCopy(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "anna"), newUser(t, s, "boris")
	g := newGroup(t, s, a, "Group", 0)
	join(t, s, g, b, parley.MemberRegular)
	ch := newChannel(t, s, b, "pics", "Pictures")
	img := &parley.Media{ID: strings.Repeat("ab", 32), Mime: "image/png", Size: 10, Width: 1, Height: 1,
		ThumbID: strings.Repeat("cd", 32), UploaderID: a.ID, CreatedAt: t0, PDQ: strings.Repeat("0f", 32), PDQQuality: 90, MD5: strings.Repeat("1", 32)}
	must(t, s.SaveMedia(ctx, img))
	got, err := s.FindMedia(ctx, img.ID)
	must(t, err)
	if got.PDQ != img.PDQ || got.PDQQuality != 90 || got.MD5 != img.MD5 || got.Status != "" {
		t.Fatalf("media hashes and status as stored = %+v", got)
	}
	for _, c := range []struct {
		chat *parley.Chat
		from *parley.User
	}{{g, a}, {g, b}, {ch, b}} {
		_, err := s.InsertMessage(ctx, &parley.Message{ChatID: c.chat.ID, SenderID: c.from.ID, MediaID: img.ID, CreatedAt: t0})
		must(t, err)
	}
	post(t, s, g, a, "unrelated", t0)
	takeEvents(t, s)

	parent := apply(t, s, enforce.Action{Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: img.ID}})
	if parent.Children != 3 || parent.AffectedUserID != a.ID {
		t.Fatalf("remove media: %d children, affected %d; want 3 copies, uploader %d", parent.Children, parent.AffectedUserID, a.ID)
	}
	if m, _ := s.FindMedia(ctx, img.ID); m.Status != parley.MediaRemoved || m.Moderation == nil || m.Moderation.Removed.ActionID != parent.ID {
		t.Fatalf("media after removal = %+v", m)
	}
	for _, ref := range [][2]int64{{g.ID, 1}, {g.ID, 2}, {ch.ID, 1}} {
		if m := findMsg(t, s, ref[0], ref[1]); m.Moderation == nil || m.Moderation.Removed == nil {
			t.Fatalf("copy %v not removed: %+v", ref, m.Moderation)
		}
	}
	if m := findMsg(t, s, g.ID, 3); m.Moderation != nil {
		t.Fatalf("the unrelated message was touched: %+v", m.Moderation)
	}
	children, err := s.ListActions(ctx, enforce.Filter{Kind: enforce.RemoveMessage, Limit: 10})
	must(t, err)
	authors := map[int64]int{}
	puids := map[string]bool{parent.PUID: true}
	for _, c := range children {
		if c.ParentID != parent.ID {
			t.Fatalf("child %d has parent %d, want %d", c.ID, c.ParentID, parent.ID)
		}
		authors[c.AffectedUserID]++
		puids[c.PUID] = true
	}
	if len(children) != 3 || authors[a.ID] != 1 || authors[b.ID] != 2 || len(puids) != 4 {
		t.Fatalf("children: %d, statements by author %v, %d puids; want 3, {anna:1 boris:2}, 4 distinct", len(children), authors, len(puids))
	}
	if n := len(takeEvents(t, s)); n != 3 {
		t.Fatalf("%d events, want one update per copy (3)", n)
	}
	_, err = s.RestoreAction(ctx, children[0].ID, a.ID, "just this one", at(2*time.Hour))
	wantCode(t, err, parley.EConflict)

	_, err = s.RestoreAction(ctx, parent.ID, a.ID, "false positive", at(2*time.Hour))
	must(t, err)
	if m, _ := s.FindMedia(ctx, img.ID); m.Status != "" || m.Moderation != nil {
		t.Fatalf("media after restore = %+v", m)
	}
	for _, ref := range [][2]int64{{g.ID, 1}, {g.ID, 2}, {ch.ID, 1}} {
		if m := findMsg(t, s, ref[0], ref[1]); m.Moderation != nil {
			t.Fatalf("copy %v still moderated after restore: %+v", ref, m.Moderation)
		}
	}
	if sa, sb := findUserT(t, s, a.ID).Strikes, findUserT(t, s, b.ID).Strikes; sa != 0 || sb != 0 {
		t.Fatalf("strikes after restore = %d, %d; want 0, 0", sa, sb)
	}
}

func testEnforceBlockUpload(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "uploader")
	img := &parley.Media{ID: strings.Repeat("ef", 32), Mime: "image/jpeg", Size: 5, UploaderID: u.ID, CreatedAt: t0}
	a := apply(t, s, enforce.Action{Kind: enforce.BlockUpload, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: img.ID}, Media: img})
	m, err := s.FindMedia(ctx, img.ID)
	must(t, err)
	if m.Status != parley.MediaBlocked || m.Moderation == nil || m.Moderation.Removed.ActionID != a.ID || a.AffectedUserID != u.ID {
		t.Fatalf("blocked upload = %+v (action %+v)", m, a)
	}
	if findUserT(t, s, u.ID).Strikes != 1 {
		t.Fatal("a blocked upload did not count as a strike")
	}
}

func testEnforceBanChat(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	ch := newChannel(t, s, owner, "scamchan", "Scam Channel")
	post(t, s, ch, owner, "first", t0)
	takeEvents(t, s)
	a := apply(t, s, enforce.Action{Kind: enforce.BanChat, Target: enforce.Target{Type: enforce.TargetChat, ChatID: ch.ID}})
	c := findChat(t, s, ch.ID)
	if c.Moderation == nil || c.Moderation.Removed == nil || c.Moderation.Removed.ActionID != a.ID {
		t.Fatalf("banned chat = %+v", c.Moderation)
	}
	if !c.Hidden(parley.Viewer{Country: "IT"}) {
		t.Fatal("a banned chat is not hidden")
	}
	evs := takeEvents(t, s)
	if len(evs) != 1 || evs[0].Kind != parley.EventChatModerated {
		t.Fatalf("events of a ban = %+v", evs)
	}
	_, err := s.InsertMessage(ctx, &parley.Message{ChatID: ch.ID, SenderID: owner.ID, Text: "still here", CreatedAt: t0})
	wantCode(t, err, parley.EForbidden)
	found, err := s.SearchChannels(ctx, "scam", 10)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("a banned channel is still found: %+v", found)
	}
	// The handle stays reserved.
	wantCode(t, s.CreateChat(ctx, &parley.Chat{Kind: parley.ChatChannel, Handle: "scamchan", Title: "Again", OwnerID: owner.ID, CreatedAt: t0}, 0), parley.EConflict)

	_, err = s.RestoreAction(ctx, a.ID, owner.ID, "mistaken", at(2*time.Hour))
	must(t, err)
	if c := findChat(t, s, ch.ID); c.Moderation != nil {
		t.Fatalf("chat after restore = %+v", c.Moderation)
	}
	post(t, s, ch, owner, "back", t0)
}

func testEnforceSuspendAccount(t *testing.T, s Store) {
	ctx := t.Context()
	owner, u := newUser(t, s, "owner"), newUser(t, s, "troll")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, u, parley.MemberRegular)
	sess := newSession(t, s, u, "troll-token", at(24*time.Hour))
	takeEvents(t, s)
	until := at(72 * time.Hour)
	a := apply(t, s, enforce.Action{Kind: enforce.SuspendAccount, Target: enforce.Target{Type: enforce.TargetUser, UserID: u.ID}, Until: until})
	got := findUserT(t, s, u.ID)
	if got.Status != parley.AccountSuspended || got.SuspendedUntil == nil || !got.SuspendedUntil.Equal(until) || got.Usable(at(2*time.Hour)) {
		t.Fatalf("suspended account = %+v", got)
	}
	if !got.Usable(until) {
		t.Fatal("the account is still unusable when its suspension ends")
	}
	if ss := findSession(t, s, "troll-token"); ss.RevokedAt == nil || ss.ID != sess.ID {
		t.Fatalf("session of a suspended account = %+v", ss)
	}
	_, err := s.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: u.ID, Text: "still posting", CreatedAt: t0})
	wantCode(t, err, parley.EForbidden)
	evs := takeEvents(t, s)
	if len(evs) != 1 || evs[0].Kind != parley.EventAccountRestricted || evs[0].Subject != parley.UserSubject(u.ID) {
		t.Fatalf("events of a suspension = %+v", evs)
	}
	// Staff accounts are not suspended this way.
	staff := newUser(t, s, "staffer")
	must(t, s.SetUserRole(ctx, owner.ID, staff.ID, parley.RoleModerator, t0))
	st := &enforce.Action{Kind: enforce.TerminateAccount, Target: enforce.Target{Type: enforce.TargetUser, UserID: staff.ID}, Grounds: testGrounds, CreatedAt: at(time.Hour)}
	wantCode(t, s.ApplyAction(ctx, st, buildStatement(nil), at(time.Hour)), parley.EConflict)

	_, err = s.RestoreAction(ctx, a.ID, owner.ID, "appeal upheld", at(2*time.Hour))
	must(t, err)
	if got := findUserT(t, s, u.ID); got.Status != "" || got.SuspendedUntil != nil || got.Moderation != nil {
		t.Fatalf("account after restore = %+v", got)
	}
	post(t, s, g, u, "thanks", t0)
}

func testEnforceEvidenceAndHolds(t *testing.T, s Store) {
	ctx := t.Context()
	owner, held, free := newUser(t, s, "owner"), newUser(t, s, "held"), newUser(t, s, "free")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, held, parley.MemberRegular)
	join(t, s, g, free, parley.MemberRegular)
	post(t, s, g, held, "evidence one", t0)
	post(t, s, g, free, "evidence two", t0)
	for seq := int64(1); seq <= 2; seq++ {
		a := &enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: g.ID, Seq: seq},
			Grounds: testGrounds, CreatedAt: at(time.Hour)}
		must(t, s.ApplyAction(ctx, a, buildStatement(nil), at(48*time.Hour)))
	}
	h := &enforce.LegalHold{Target: enforce.Target{Type: enforce.TargetUser, UserID: held.ID}, Reason: "order 2025/17", CreatedBy: owner.ID, CreatedAt: t0}
	must(t, s.PlaceLegalHold(ctx, h))
	if e := lastAudit(t, s); e.Action != "legal_hold.placed" {
		t.Fatalf("audit entry of a hold = %+v", e)
	}

	// Before the retention ends, nothing goes.
	purged, err := s.PurgeEvidence(ctx, at(24*time.Hour))
	must(t, err)
	if len(purged) != 0 {
		t.Fatalf("purged %d items before their retention ended", len(purged))
	}
	// After it, only what no hold covers.
	purged, err = s.PurgeEvidence(ctx, at(72*time.Hour))
	must(t, err)
	if len(purged) != 1 || purged[0].Target.Seq != 2 {
		t.Fatalf("purged %+v, want only the message of the account without a hold", purged)
	}
	if m := findMsg(t, s, g.ID, 2); m.Text != "" {
		t.Fatalf("purged message still holds %q", m.Text)
	}
	if m := findMsg(t, s, g.ID, 1); m.Text != "evidence one" {
		t.Fatalf("held message lost its content: %q", m.Text)
	}
	holds, err := s.ListLegalHolds(ctx)
	must(t, err)
	if len(holds) != 1 || holds[0].ID != h.ID {
		t.Fatalf("holds = %+v", holds)
	}
	must(t, s.ReleaseLegalHold(ctx, h.ID, owner.ID, at(73*time.Hour)))
	wantCode(t, s.ReleaseLegalHold(ctx, h.ID, owner.ID, at(73*time.Hour)), parley.EConflict)
	purged, err = s.PurgeEvidence(ctx, at(74*time.Hour))
	must(t, err)
	if len(purged) != 1 || purged[0].Target.Seq != 1 {
		t.Fatalf("after the release purged %+v, want the held message", purged)
	}
}

func testEnforceStatementRange(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	ch := newChannel(t, s, owner, "news", "News")
	for i := 0; i < 3; i++ {
		post(t, s, ch, owner, "post", t0)
	}
	var ids []int64
	for i, day := range []int{0, 1, 2} {
		a := &enforce.Action{Kind: enforce.LabelMessage, Label: "context", Target: enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: int64(i + 1)},
			Grounds: testGrounds, CreatedAt: at(time.Duration(day) * 24 * time.Hour)}
		must(t, s.ApplyAction(ctx, a, buildStatement(nil), at(time.Hour)))
		ids = append(ids, a.ID)
	}
	got, err := s.ListStatementActions(ctx, enforce.StatementRange{Since: at(24 * time.Hour), Until: at(48 * time.Hour)})
	must(t, err)
	if len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("statements of day 2 = %d, want action %d", len(got), ids[1])
	}
	got, err = s.ListStatementActions(ctx, enforce.StatementRange{Since: t0, AfterID: ids[0], Limit: 1})
	must(t, err)
	if len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("next page after %d = %+v", ids[0], got)
	}
	list, err := s.ListActions(ctx, enforce.Filter{BeforeID: ids[2], Limit: 10})
	must(t, err)
	if len(list) != 2 || list[0].ID != ids[1] || list[1].ID != ids[0] {
		t.Fatalf("actions before %d, newest first = %+v", ids[2], list)
	}
}
