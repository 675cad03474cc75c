package storetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/sor"
	"parley/internal/testclock"
)

// The enforcement tests run the real enforcement service over the store:
// every decision is the service's, so what they check is that each adapter
// reads and writes what the service asks for, atomically, and that the
// behaviour is the same over all of them.

// testGrounds are the grounds of the tests' actions.
var testGrounds = enforce.Grounds{
	Ground:      sor.GroundIncompatibleContent,
	TermsGround: "Section 4.2 (scams) of the Parley Terms of Service",
	Category:    sor.CategoryScamsAndFraud,
	Source:      sor.SourceVoluntary,
	Signal:      sor.Signal{Kind: sor.SignalModerator},
	Automation:  sor.NotAutomated,
}

// enforcer is the enforcement service over a store under test, with a
// clock at t0+1h, a moderator and a legal officer.
type enforcer struct {
	*enforce.Service
	clock      *testclock.Clock
	mod, legal *parley.User
}

// newEnforcer returns the service over s; evidence is kept until t0+180
// days for actions taken at t0+1h.
func newEnforcer(t *testing.T, s Store) *enforcer {
	t.Helper()
	e := &enforcer{clock: testclock.At(at(time.Hour))}
	e.Service = &enforce.Service{Store: s, Clock: e.clock, Namespace: "test", Retention: 180*24*time.Hour - time.Hour}
	e.mod, e.legal = newStaff(t, s, "moderator", parley.RoleModerator), newStaff(t, s, "officer", parley.RoleLegalOfficer)
	return e
}

// apply takes one action as the automated screen takes it (no actor), at
// t0+1h on testGrounds, through the real service: for tests that need an
// item acted on. req's Kind, Target, Countries, AlsoUnknown, Label, Until,
// Note and Media are the request.
func apply(t *testing.T, s Store, req enforce.Action) *enforce.Action {
	t.Helper()
	svc := &enforce.Service{Store: s, Clock: testclock.At(at(time.Hour)), Namespace: "test", Retention: 180*24*time.Hour - time.Hour}
	a, err := svc.Apply(t.Context(), nil, enforce.Request{Kind: req.Kind, Target: req.Target, Countries: req.Countries,
		AlsoUnknown: req.AlsoUnknown, Label: req.Label, Until: req.Until, Note: req.Note, Media: req.Media, Grounds: testGrounds})
	must(t, err)
	return a
}

func newStaff(t *testing.T, s Store, name string, role parley.Role) *parley.User {
	t.Helper()
	u := newUser(t, s, name)
	must(t, s.SetUserRole(t.Context(), 0, u.ID, role, t0))
	u.Role = role
	return u
}

// apply takes one action by the moderator, on testGrounds unless req has
// grounds of its own.
func (e *enforcer) apply(t *testing.T, req enforce.Request) *enforce.Action {
	t.Helper()
	if req.Grounds.Ground == "" {
		req.Grounds = testGrounds
	}
	a, err := e.Apply(t.Context(), e.mod, req)
	must(t, err)
	return a
}

// restore restores action id by the moderator, an hour later.
func (e *enforcer) restore(t *testing.T, id int64, reason string) *enforce.Action {
	t.Helper()
	e.clock.Advance(time.Hour)
	a, err := e.Restore(t.Context(), e.mod, id, reason)
	must(t, err)
	return a
}

func messageTarget(chatID, seq int64) enforce.Target {
	return enforce.Target{Type: enforce.TargetMessage, ChatID: chatID, Seq: seq}
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

// wantStrikes fails unless each account has the strikes given.
func wantStrikes(t *testing.T, s Store, when string, want map[*parley.User]int) {
	t.Helper()
	for u, n := range want {
		if got := findUserT(t, s, u.ID).Strikes; got != n {
			t.Fatalf("%s: %s has %d strikes, want %d", when, u.Username, got, n)
		}
	}
}

func testEnforceRemoveAndRestoreMessage(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	owner, author := newUser(t, s, "owner"), newUser(t, s, "author")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, author, parley.MemberRegular)
	post(t, s, g, author, "buy my crypto now", t0)
	takeEvents(t, s)

	a := e.apply(t, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(g.ID, 1), Note: "spam wave"})
	if a.ID == 0 || a.PUID != "test-sor-"+strconv.FormatInt(a.ID, 10) || a.AffectedUserID != author.ID || a.Statement == nil || !a.Strike {
		t.Fatalf("applied action = %+v", a)
	}
	// The statement was made from the message as stored: posted at t0, a
	// text, in a group.
	st := a.Statement
	if d, err := st.ContentDate.Time(); err != nil || !d.Equal(t0.Truncate(24*time.Hour)) ||
		len(st.ContentType) != 1 || st.ContentType[0] != sor.ContentText || !strings.Contains(st.DecisionFacts, "in a group chat") {
		t.Fatalf("statement from the stored message: date %v (%v), content %v, facts %q", d, err, st.ContentType, st.DecisionFacts)
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
	wantStrikes(t, s, "after a removal", map[*parley.User]int{author: 1, owner: 0})
	ev, err := s.ListEvidence(ctx, a.Target)
	must(t, err)
	if len(ev) != 1 || !strings.Contains(ev[0].Content, "buy my crypto now") || ev[0].ActionID != a.ID || ev[0].ID == 0 ||
		!ev[0].KeptUntil.Equal(at(180*24*time.Hour)) {
		t.Fatalf("evidence = %+v", ev)
	}
	if e := lastAudit(t, s); e.Action != "enforcement.remove_message" || e.ActorID != a.ActorID || e.TargetID != a.Target.ID() {
		t.Fatalf("audit entry = %+v", e)
	}
	got, err := s.FindAction(ctx, a.ID)
	must(t, err)
	if got.Note != "spam wave" || got.Grounds.Category != sor.CategoryScamsAndFraud || got.Statement.PUID != a.PUID ||
		!got.Standing() || !got.Strike || got.ActorID != e.mod.ID || !got.CreatedAt.Equal(at(time.Hour)) {
		t.Fatalf("found action = %+v", got)
	}

	// Twice is a conflict, and changes nothing.
	_, err = e.Apply(ctx, e.mod, enforce.Request{Kind: enforce.RemoveMessage, Target: a.Target, Grounds: testGrounds})
	wantCode(t, err, parley.EConflict)
	wantStrikes(t, s, "after a refused second removal", map[*parley.User]int{author: 1})
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("a refused removal wrote events %+v", evs)
	}

	// Restore takes it back exactly.
	r := e.restore(t, a.ID, "appeal upheld")
	if r.ReversedAt == nil || r.ReversalReason != "appeal upheld" || r.ReversedBy != e.mod.ID {
		t.Fatalf("restored action = %+v", r)
	}
	if got, err := s.FindAction(ctx, a.ID); err != nil || got.Standing() || got.ReversalReason != "appeal upheld" || !got.ReversedAt.Equal(at(2*time.Hour)) {
		t.Fatalf("restored action as stored = %+v, %v", got, err)
	}
	m = findMsg(t, s, g.ID, 1)
	if m.Moderation != nil || m.Text != "buy my crypto now" {
		t.Fatalf("message after restore = %+v", m)
	}
	wantStrikes(t, s, "after the restore", map[*parley.User]int{author: 0})
	evs = takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("events of a restore = %+v", evs)
	}
	u = parley.Update{}
	must(t, json.Unmarshal(evs[0].Payload, &u))
	if u.Message.Text != "buy my crypto now" || u.Message.Moderation != nil || u.Pts != 3 {
		t.Fatalf("restore update = %+v", u)
	}
	if e := lastAudit(t, s); e.Action != "enforcement.restored" || e.ActorID != r.ReversedBy {
		t.Fatalf("audit entry of the restore = %+v", e)
	}
	_, err = e.Restore(ctx, e.mod, a.ID, "again")
	wantCode(t, err, parley.EConflict)
	_, err = e.Restore(ctx, e.mod, a.ID+100, "none")
	wantCode(t, err, parley.ENotFound)
}

// testEnforceApplyActionsIsolated: in a batch, an action that cannot be
// taken fails alone, with its error at its index, and leaves nothing of
// itself; the others commit together with consecutive ids. A second batch,
// which an adapter may run on what the first prepared, behaves the same.
func testEnforceApplyActionsIsolated(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	author := newUser(t, s, "author")
	ch := newChannel(t, s, author, "news", "News")
	for range 3 {
		post(t, s, ch, author, "spam", t0)
	}
	takeEvents(t, s)
	audits := auditCount(t, s)
	remove := func(seq int64) enforce.Request {
		return enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, seq), Grounds: testGrounds}
	}
	for _, round := range []struct {
		seqs     []int64
		conflict int // the index of the action that cannot be taken
	}{{[]int64{1, 1, 2}, 1}, {[]int64{2, 3}, 0}} {
		var reqs []enforce.Request
		for _, seq := range round.seqs {
			reqs = append(reqs, remove(seq))
		}
		as, errs, err := e.ApplyMany(ctx, e.mod, reqs)
		must(t, err)
		if len(errs) != len(reqs) || len(as) != len(reqs) {
			t.Fatalf("%d errors and %d actions for %d requests", len(errs), len(as), len(reqs))
		}
		var applied []*enforce.Action
		for i, a := range as {
			if i == round.conflict {
				wantCode(t, errs[i], parley.EConflict)
				if a != nil {
					t.Fatalf("a refused action is returned: %+v", a)
				}
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
	wantStrikes(t, s, "after the batches", map[*parley.User]int{author: 3})
}

// testEnforceFailureLeavesNothing: an action that fails late, after it has
// written its effect, its row, its strike, its evidence, its update and its
// audit entry (here: the review case it settles turns out to be decided),
// leaves nothing of itself, in a batch (Tx.Try) and alone (the
// transaction), while the others of its batch commit.
func testEnforceFailureLeavesNothing(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	author := newUser(t, s, "author")
	ch := newChannel(t, s, author, "news", "News")
	for range 4 {
		post(t, s, ch, author, "spam", t0)
	}
	takeEvents(t, s)
	audits := auditCount(t, s)
	const noCase = 424242 // no such review case: settling it fails
	req := func(seq, settles int64) enforce.Request {
		return enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, seq), Grounds: testGrounds, Settles: settles}
	}
	as, errs, err := e.ApplyMany(ctx, e.mod, []enforce.Request{req(1, 0), req(2, noCase), req(3, 0)})
	must(t, err)
	must(t, errs[0])
	must(t, errs[2])
	wantCode(t, errs[1], parley.EConflict)
	if as[1] != nil || as[2].ID != as[0].ID+1 {
		t.Fatalf("batch with a late failure: actions %+v", as)
	}
	_, err = e.Apply(ctx, e.mod, req(4, noCase))
	wantCode(t, err, parley.EConflict)

	// The positive control: the two that succeeded wrote all of it.
	if evs := takeEvents(t, s); len(evs) != 2 {
		t.Fatalf("%d events; want the 2 of the actions taken", len(evs))
	}
	if n := auditCount(t, s); n != audits+2 {
		t.Fatalf("%d audit entries, want %d", n, audits+2)
	}
	wantStrikes(t, s, "after a batch with a late failure", map[*parley.User]int{author: 2})
	for seq := int64(1); seq <= 4; seq++ {
		removed := seq == 1 || seq == 3
		if m := findMsg(t, s, ch.ID, seq); removed != (m.Moderation != nil && m.Moderation.Removed != nil) {
			t.Fatalf("message %d: moderation %+v, want removed %v", seq, m.Moderation, removed)
		}
		target := messageTarget(ch.ID, seq)
		list, err := s.ListActions(ctx, enforce.Filter{Target: &target, Limit: 10})
		must(t, err)
		ev, err := s.ListEvidence(ctx, target)
		must(t, err)
		if n := map[bool]int{true: 1}[removed]; len(list) != n || len(ev) != n {
			t.Fatalf("message %d: %d actions and %d evidence rows, want %d of each", seq, len(list), len(ev), n)
		}
	}
	all, err := s.ListActions(ctx, enforce.Filter{Limit: 10})
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("%d actions stored, want 2", len(all))
	}
	// The ids of what was undone are given again.
	a := e.apply(t, req(2, 0))
	if a.ID != as[2].ID+1 {
		t.Fatalf("next action id = %d, want %d", a.ID, as[2].ID+1)
	}
}

func testEnforceWithholdTwiceRestoreOne(t *testing.T, s Store) {
	e := newEnforcer(t, s)
	owner := newUser(t, s, "owner")
	ch := newChannel(t, s, owner, "news", "News")
	post(t, s, ch, owner, "a report", t0)
	target := messageTarget(ch.ID, 1)
	de := e.apply(t, enforce.Request{Kind: enforce.WithholdMessage, Target: target, Countries: []string{"DE"}})
	fr := e.apply(t, enforce.Request{Kind: enforce.WithholdMessage, Target: target, Countries: []string{"FR"}})
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
	e.restore(t, de.ID, "order lifted")
	m = findMsg(t, s, ch.ID, 1)
	if got := m.Moderation.WithheldCountries(); len(got) != 1 || got[0] != "FR" || m.Moderation.Withheld[0].ActionID != fr.ID {
		t.Fatalf("after restoring DE: withheld in %v (%+v), want [FR] by action %d", got, m.Moderation, fr.ID)
	}
	// An order that also covers viewers of unknown country is stored so.
	austria := e.apply(t, enforce.Request{Kind: enforce.WithholdMessage, Target: target, Countries: []string{"AT"}, AlsoUnknown: true})
	m = findMsg(t, s, ch.ID, 1)
	if w := m.Moderation.Withheld; len(w) != 2 || w[0].AlsoUnknown || w[1].ActionID != austria.ID || !w[1].AlsoUnknown {
		t.Fatalf("withholdings %+v: want FR's, then AT's that also covers viewers of unknown country", w)
	}
	if got, err := s.FindAction(t.Context(), austria.ID); err != nil || !got.AlsoUnknown {
		t.Fatalf("the AT action as stored = %+v, %v", got, err)
	}
	if de.Strike || fr.Strike || austria.Strike || findUserT(t, s, owner.ID).Strikes != 0 {
		t.Fatal("a withholding counted as a strike")
	}
}

// testEnforceRemoveMediaEveryCopy: removing an image removes every message
// that carries it, each by a child action with a statement for its own
// author, and strikes each account it affects once: the uploader for the
// image (not again for the uploader's own copy), every other author once
// however many copies they posted.
func testEnforceRemoveMediaEveryCopy(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	a, b, c := newUser(t, s, "anna"), newUser(t, s, "boris"), newUser(t, s, "cyril")
	g := newGroup(t, s, a, "Group", 0)
	join(t, s, g, b, parley.MemberRegular)
	join(t, s, g, c, parley.MemberRegular)
	ch := newChannel(t, s, b, "pics", "Pictures")
	img := &parley.Media{ID: strings.Repeat("ab", 32), Mime: "image/png", Size: 10, Width: 1, Height: 1,
		ThumbID: strings.Repeat("cd", 32), UploaderID: a.ID, CreatedAt: t0, PDQ: strings.Repeat("0f", 32), PDQQuality: 90, MD5: strings.Repeat("1", 32)}
	must(t, s.SaveMedia(ctx, img))
	got, err := s.FindMedia(ctx, img.ID)
	must(t, err)
	if got.PDQ != img.PDQ || got.PDQQuality != 90 || got.MD5 != img.MD5 || got.Status != "" {
		t.Fatalf("media hashes and status as stored = %+v", got)
	}
	copies := []struct {
		chat *parley.Chat
		from *parley.User
	}{{g, a}, {g, b}, {ch, b}, {g, c}}
	for _, cp := range copies {
		_, err := s.InsertMessage(ctx, &parley.Message{ChatID: cp.chat.ID, SenderID: cp.from.ID, MediaID: img.ID, CreatedAt: t0})
		must(t, err)
	}
	post(t, s, g, a, "unrelated", t0)
	// A copy deleted by its author is not there to remove.
	_, err = s.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: c.ID, MediaID: img.ID, CreatedAt: t0})
	must(t, err)
	_, err = s.DeleteMessage(ctx, g.ID, 5, at(time.Minute))
	must(t, err)
	takeEvents(t, s)

	parent := e.apply(t, enforce.Request{Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: img.ID}})
	if parent.Children != 4 || parent.AffectedUserID != a.ID || !parent.Strike {
		t.Fatalf("remove media: %d children, affected %d, strike %v; want 4 copies, uploader %d, a strike", parent.Children, parent.AffectedUserID, parent.Strike, a.ID)
	}
	if m, _ := s.FindMedia(ctx, img.ID); m.Status != parley.MediaRemoved || m.Moderation == nil || m.Moderation.Removed.ActionID != parent.ID {
		t.Fatalf("media after removal = %+v", m)
	}
	refs := [][2]int64{{g.ID, 1}, {g.ID, 2}, {ch.ID, 1}, {g.ID, 3}}
	for _, ref := range refs {
		if m := findMsg(t, s, ref[0], ref[1]); m.Moderation == nil || m.Moderation.Removed == nil {
			t.Fatalf("copy %v not removed: %+v", ref, m.Moderation)
		}
	}
	for _, seq := range []int64{4, 5} {
		if m := findMsg(t, s, g.ID, seq); m.Moderation != nil {
			t.Fatalf("message %d (unrelated, or deleted) was touched: %+v", seq, m.Moderation)
		}
	}
	wantStrikes(t, s, "after removing an image", map[*parley.User]int{a: 1, b: 1, c: 1})
	children, err := s.ListActions(ctx, enforce.Filter{Kind: enforce.RemoveMessage, Limit: 10})
	must(t, err)
	authors, strikes := map[int64]int{}, map[int64]int{}
	puids := map[string]bool{parent.PUID: true}
	for _, ca := range children {
		if ca.ParentID != parent.ID {
			t.Fatalf("child %d has parent %d, want %d", ca.ID, ca.ParentID, parent.ID)
		}
		authors[ca.AffectedUserID]++
		if ca.Strike {
			strikes[ca.AffectedUserID]++
		}
		puids[ca.PUID] = true
	}
	if len(children) != 4 || authors[a.ID] != 1 || authors[b.ID] != 2 || authors[c.ID] != 1 || len(puids) != 5 {
		t.Fatalf("children: %d, statements by author %v, %d puids; want 4, {anna:1 boris:2 cyril:1}, 5 distinct", len(children), authors, len(puids))
	}
	if strikes[a.ID] != 0 || strikes[b.ID] != 1 || strikes[c.ID] != 1 {
		t.Fatalf("children that counted a strike, by author: %v; want none for the uploader, one for each other author", strikes)
	}
	if n := len(takeEvents(t, s)); n != 4 {
		t.Fatalf("%d events, want one update per copy (4)", n)
	}
	_, err = e.Restore(ctx, e.mod, children[0].ID, "just this one")
	wantCode(t, err, parley.EConflict)

	e.restore(t, parent.ID, "false positive")
	if m, _ := s.FindMedia(ctx, img.ID); m.Status != "" || m.Moderation != nil {
		t.Fatalf("media after restore = %+v", m)
	}
	for _, ref := range refs {
		if m := findMsg(t, s, ref[0], ref[1]); m.Moderation != nil {
			t.Fatalf("copy %v still moderated after restore: %+v", ref, m.Moderation)
		}
	}
	children, err = s.ListActions(ctx, enforce.Filter{Kind: enforce.RemoveMessage, Limit: 10})
	must(t, err)
	for _, ca := range children {
		if ca.Standing() {
			t.Fatalf("child %d stands after its parent was restored", ca.ID)
		}
	}
	wantStrikes(t, s, "after restoring the image", map[*parley.User]int{a: 0, b: 0, c: 0})
}

func testEnforceBlockUpload(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	u := newUser(t, s, "uploader")
	img := &parley.Media{ID: strings.Repeat("ef", 32), Mime: "image/jpeg", Size: 5, UploaderID: u.ID, CreatedAt: t0}
	a := apply(t, s, enforce.Action{Kind: enforce.BlockUpload, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: img.ID}, Media: img})
	m, err := s.FindMedia(ctx, img.ID)
	must(t, err)
	if m.Status != parley.MediaBlocked || m.Moderation == nil || m.Moderation.Removed.ActionID != a.ID || a.AffectedUserID != u.ID || !a.Strike {
		t.Fatalf("blocked upload = %+v (action %+v)", m, a)
	}
	if ev, err := s.ListEvidence(ctx, a.Target); err != nil || len(ev) != 1 || !strings.Contains(ev[0].Content, img.ID) {
		t.Fatalf("evidence of a blocked upload = %+v, %v", ev, err)
	}
	wantStrikes(t, s, "after a blocked upload", map[*parley.User]int{u: 1})
	e.restore(t, a.ID, "false positive")
	if m, _ := s.FindMedia(ctx, img.ID); m.Status != "" || m.Moderation != nil {
		t.Fatalf("upload after its block was restored = %+v", m)
	}
	wantStrikes(t, s, "after the block was restored", map[*parley.User]int{u: 0})
}

func testEnforceBanChat(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	owner := newUser(t, s, "owner")
	ch := newChannel(t, s, owner, "scamchan", "Scam Channel")
	post(t, s, ch, owner, "first", t0)
	takeEvents(t, s)
	a := e.apply(t, enforce.Request{Kind: enforce.BanChat, Target: enforce.Target{Type: enforce.TargetChat, ChatID: ch.ID}})
	c := findChat(t, s, ch.ID)
	if c.Moderation == nil || c.Moderation.Removed == nil || c.Moderation.Removed.ActionID != a.ID || !a.Strike {
		t.Fatalf("banned chat = %+v (action %+v)", c.Moderation, a)
	}
	if !c.Hidden(parley.Viewer{Country: "IT"}) {
		t.Fatal("a banned chat is not hidden")
	}
	evs := takeEvents(t, s)
	if len(evs) != 1 || evs[0].Kind != parley.EventChatModerated {
		t.Fatalf("events of a ban = %+v", evs)
	}
	wantStrikes(t, s, "after a ban", map[*parley.User]int{owner: 1})
	_, err := s.InsertMessage(ctx, &parley.Message{ChatID: ch.ID, SenderID: owner.ID, Text: "still here", CreatedAt: t0})
	wantCode(t, err, parley.EForbidden)
	found, err := s.SearchChannels(ctx, "scam", 10)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("a banned channel is still found: %+v", found)
	}
	// The handle stays reserved.
	wantCode(t, s.CreateChat(ctx, &parley.Chat{Kind: parley.ChatChannel, Handle: "scamchan", Title: "Again", OwnerID: owner.ID, CreatedAt: t0}, 0), parley.EConflict)
	_, err = e.Apply(ctx, e.mod, enforce.Request{Kind: enforce.BanChat, Target: a.Target, Grounds: testGrounds})
	wantCode(t, err, parley.EConflict)

	e.restore(t, a.ID, "mistaken")
	if c := findChat(t, s, ch.ID); c.Moderation != nil {
		t.Fatalf("chat after restore = %+v", c.Moderation)
	}
	wantStrikes(t, s, "after the ban was restored", map[*parley.User]int{owner: 0})
	post(t, s, ch, owner, "back", t0)
}

func testEnforceSuspendAccount(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	owner, u := newUser(t, s, "owner"), newUser(t, s, "troll")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, u, parley.MemberRegular)
	sess := newSession(t, s, u, "troll-token", at(24*time.Hour))
	takeEvents(t, s)
	until := at(72 * time.Hour)
	a := e.apply(t, enforce.Request{Kind: enforce.SuspendAccount, Target: enforce.Target{Type: enforce.TargetUser, UserID: u.ID}, Until: until})
	got := findUserT(t, s, u.ID)
	if got.Status != parley.AccountSuspended || got.SuspendedUntil == nil || !got.SuspendedUntil.Equal(until) || got.Usable(at(2*time.Hour)) {
		t.Fatalf("suspended account = %+v", got)
	}
	if !got.Usable(until) {
		t.Fatal("the account is still unusable when its suspension ends")
	}
	if got.Strikes != 0 || a.Strike {
		t.Fatalf("a suspension counted a strike (%d, %v)", got.Strikes, a.Strike)
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
	// Staff accounts are not suspended this way; a terminated account is
	// not terminated twice.
	_, err = e.Apply(ctx, e.mod, enforce.Request{Kind: enforce.TerminateAccount, Target: enforce.Target{Type: enforce.TargetUser, UserID: e.legal.ID}, Grounds: testGrounds})
	wantCode(t, err, parley.EConflict)

	e.restore(t, a.ID, "appeal upheld")
	if got := findUserT(t, s, u.ID); got.Status != "" || got.SuspendedUntil != nil || got.Moderation != nil {
		t.Fatalf("account after restore = %+v", got)
	}
	post(t, s, g, u, "thanks", t0)

	term := e.apply(t, enforce.Request{Kind: enforce.TerminateAccount, Target: enforce.Target{Type: enforce.TargetUser, UserID: u.ID}})
	if got := findUserT(t, s, u.ID); got.Status != parley.AccountTerminated || got.SuspendedUntil != nil || term.Strike {
		t.Fatalf("terminated account = %+v (action %+v)", got, term)
	}
	_, err = e.Apply(ctx, e.mod, enforce.Request{Kind: enforce.TerminateAccount, Target: term.Target, Grounds: testGrounds})
	wantCode(t, err, parley.EConflict)
}

func testEnforceEvidenceAndHolds(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	e.Retention = 47 * time.Hour // kept until t0+48h
	owner, held, free := newUser(t, s, "owner"), newUser(t, s, "held"), newUser(t, s, "free")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, held, parley.MemberRegular)
	join(t, s, g, free, parley.MemberRegular)
	post(t, s, g, held, "evidence one", t0)
	post(t, s, g, free, "evidence two", t0)
	for seq := int64(1); seq <= 2; seq++ {
		e.apply(t, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(g.ID, seq)})
	}
	_, err := e.PlaceHold(ctx, e.mod, enforce.Target{Type: enforce.TargetUser, UserID: held.ID}, "order 2025/17")
	wantCode(t, err, parley.EForbidden)
	h, err := e.PlaceHold(ctx, e.legal, enforce.Target{Type: enforce.TargetUser, UserID: held.ID}, "order 2025/17")
	must(t, err)
	if a := lastAudit(t, s); a.Action != "legal_hold.placed" || a.ActorID != e.legal.ID || h.ID == 0 {
		t.Fatalf("audit entry of hold %d = %+v", h.ID, a)
	}

	// Before the retention ends, nothing goes.
	e.clock.Set(at(24 * time.Hour))
	n, err := e.PurgeEvidence(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("purged %d items before their retention ended", n)
	}
	// After it, only what no hold covers.
	e.clock.Set(at(72 * time.Hour))
	n, err = e.PurgeEvidence(ctx)
	must(t, err)
	left := func(seq int64) int {
		ev, err := s.ListEvidence(ctx, messageTarget(g.ID, seq))
		must(t, err)
		return len(ev)
	}
	if n != 1 || left(1) != 1 || left(2) != 0 {
		t.Fatalf("purged %d items, evidence left %d and %d; want only the message of the account without a hold purged", n, left(1), left(2))
	}
	if m := findMsg(t, s, g.ID, 2); m.Text != "" || m.Moderation == nil || m.Moderation.Removed == nil {
		t.Fatalf("purged message = %+v; want it removed, without content", m)
	}
	if m := findMsg(t, s, g.ID, 1); m.Text != "evidence one" {
		t.Fatalf("held message lost its content: %q", m.Text)
	}
	holds, err := s.ListLegalHolds(ctx)
	must(t, err)
	if len(holds) != 1 || holds[0].ID != h.ID || holds[0].Target.UserID != held.ID || holds[0].Reason != "order 2025/17" {
		t.Fatalf("holds = %+v", holds)
	}
	must(t, e.ReleaseHold(ctx, e.legal, h.ID))
	if a := lastAudit(t, s); a.Action != "legal_hold.released" || a.ActorID != e.legal.ID {
		t.Fatalf("audit entry of the release = %+v", a)
	}
	wantCode(t, e.ReleaseHold(ctx, e.legal, h.ID), parley.EConflict)
	wantCode(t, e.ReleaseHold(ctx, e.legal, h.ID+100), parley.ENotFound)
	if holds, err := s.ListLegalHolds(ctx); err != nil || len(holds) != 0 {
		t.Fatalf("holds after the release = %+v, %v", holds, err)
	}
	e.clock.Set(at(74 * time.Hour))
	n, err = e.PurgeEvidence(ctx)
	must(t, err)
	if n != 1 || left(1) != 0 {
		t.Fatalf("after the release purged %d, evidence left %d; want the held message's purged", n, left(1))
	}
}

func testEnforceStatementRange(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	owner := newUser(t, s, "owner")
	ch := newChannel(t, s, owner, "news", "News")
	for i := 0; i < 3; i++ {
		post(t, s, ch, owner, "post", t0)
	}
	var ids []int64
	for i, day := range []int{0, 1, 2} {
		e.clock.Set(at(time.Duration(day) * 24 * time.Hour))
		a := e.apply(t, enforce.Request{Kind: enforce.LabelMessage, Label: "context", Target: messageTarget(ch.ID, int64(i+1))})
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

// testEnforceSettlesReviewCases: an action settles, in its own
// transaction, the review case its request names and the case of a held
// post it removes or labels; a case decided already refuses the action.
func testEnforceSettlesReviewCases(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEnforcer(t, s)
	author := newUser(t, s, "author")
	ch := newChannel(t, s, author, "news", "News")
	post(t, s, ch, author, "visible, flagged later", t0)
	post(t, s, ch, author, "another post", t0)
	flagged := &review.Case{Kind: review.KindFlaggedPost, TargetType: review.TargetMessage, TargetID: messageTarget(ch.ID, 1).ID(),
		ChatID: ch.ID, UserID: author.ID, Status: review.StatusOpen, CreatedAt: t0}
	must(t, s.OpenCase(ctx, flagged))
	by := &parley.ScreeningMatch{Source: parley.MatchRule, SourceID: "r1", Name: "scam words", Decision: parley.ScreenHold, Category: string(sor.CategoryScamsAndFraud)}
	held := &parley.Message{ChatID: ch.ID, SenderID: author.ID, Text: "held for review", CreatedAt: t0}
	heldCase := &review.Case{Kind: review.KindHeldPost, Status: review.StatusOpen}
	must(t, s.InsertHeldMessage(ctx, held, &parley.Screening{Decision: parley.ScreenHold, Matches: []parley.ScreeningMatch{*by}, By: by}, heldCase))

	// A person removes the flagged post, settling its case.
	a := e.apply(t, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, 1), Settles: flagged.ID})
	if d := auditDetails(t, lastAudit(t, s)); lastAudit(t, s).Action != "review.decided" || d["decision"] != review.DecisionRemoved ||
		d["case_id"] != float64(flagged.ID) || d["kind"] != review.KindFlaggedPost || d["action_id"] != float64(a.ID) {
		t.Fatalf("audit entry of the settled case = %+v", lastAudit(t, s))
	}
	// The case is decided: naming it again refuses the action, which
	// leaves nothing.
	_, err := e.Apply(ctx, e.mod, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, 2), Grounds: testGrounds, Settles: flagged.ID})
	wantCode(t, err, parley.EConflict)
	if m := findMsg(t, s, ch.ID, 2); m.Moderation != nil {
		t.Fatalf("an action refused for its decided case changed the message: %+v", m.Moderation)
	}

	// The screen's own removal of the held post settles its case.
	ha := apply(t, s, enforce.Action{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, held.Seq)})
	if !ha.Automated || ha.ActorID != 0 {
		t.Fatalf("the screen's removal = %+v", ha)
	}
	m := findMsg(t, s, ch.ID, held.Seq)
	if m.Moderation == nil || m.Moderation.Held != nil || m.Moderation.Removed == nil || m.Moderation.Removed.ActionID != ha.ID {
		t.Fatalf("held post after its removal: %+v", m.Moderation)
	}
	if d := auditDetails(t, lastAudit(t, s)); d["decision"] != review.DecisionAutomated || d["case_id"] != float64(heldCase.ID) {
		t.Fatalf("audit entry of the held post's case = %+v", lastAudit(t, s))
	}
	_, err = e.Apply(ctx, e.mod, enforce.Request{Kind: enforce.RemoveMessage, Target: messageTarget(ch.ID, 2), Grounds: testGrounds, Settles: heldCase.ID})
	wantCode(t, err, parley.EConflict)
	wantStrikes(t, s, "after two removals and two refused ones", map[*parley.User]int{author: 2})
}
