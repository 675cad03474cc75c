package enforce_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/sor"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

// world is the enforcement service on a real SQLite store, with a group,
// a channel and accounts of each role.
type world struct {
	svc                          *enforce.Service
	db                           *sqlite.DB
	clock                        *testclock.Clock
	mod, legal, member, outsider *parley.User
	group, channel               *parley.Chat
	changed                      []int64
}

func setup(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{db: db, clock: testclock.At(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))}
	w.svc = &enforce.Service{Store: db, Clock: w.clock, Namespace: "parley_test",
		AccountChanged: func(id int64) { w.changed = append(w.changed, id) }}
	mk := func(name string, role parley.Role) *parley.User {
		u := &parley.User{Username: name, Role: parley.RoleMember, Country: "DE", CreatedAt: w.clock.Now().Add(-time.Hour)}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if role != parley.RoleMember {
			if err := db.SetUserRole(ctx, 0, u.ID, role, w.clock.Now()); err != nil {
				t.Fatal(err)
			}
			u.Role = role
		}
		return u
	}
	w.mod, w.legal, w.member, w.outsider = mk("mod", parley.RoleModerator), mk("legal", parley.RoleLegalOfficer), mk("member", parley.RoleMember), mk("outsider", parley.RoleMember)
	w.group = &parley.Chat{Kind: parley.ChatGroup, Title: "Group", OwnerID: w.member.ID, CreatedAt: w.clock.Now()}
	w.channel = &parley.Chat{Kind: parley.ChatChannel, Handle: "dailynews", Title: "News", OwnerID: w.member.ID, CreatedAt: w.clock.Now()}
	for _, c := range []*parley.Chat{w.group, w.channel} {
		if err := db.CreateChat(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		for _, c := range []*parley.Chat{w.group, w.channel} {
			if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: c.ID, SenderID: w.member.ID, Text: "post", CreatedAt: w.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// terms are grounds a moderator gives for a terms violation.
var terms = enforce.Grounds{
	Ground:      sor.GroundIncompatibleContent,
	TermsGround: "Section 4.2 (scams) of the Parley Terms of Service",
	Category:    sor.CategoryScamsAndFraud,
	Source:      sor.SourceVoluntary,
	Signal:      sor.Signal{Kind: sor.SignalModerator},
	Automation:  sor.NotAutomated,
}

// law are grounds of an order under national law, applying in one country.
var law = enforce.Grounds{
	Ground:      sor.GroundIllegalContent,
	LegalGround: "§ 130 StGB (incitement to hatred)",
	Category:    sor.CategoryIllegalOrHarmfulSpeech,
	Keywords:    []sor.Keyword{sor.KeywordHateSpeech},
	Source:      sor.SourceTypeOtherNotification,
	Notifier:    "Federal Criminal Police Office",
	Signal:      sor.Signal{Kind: sor.SignalModerator},
	Automation:  sor.NotAutomated,
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if parley.ErrorCode(err) != code {
		t.Fatalf("%s: error %v (code %q), want %q", what, err, parley.ErrorCode(err), code)
	}
}

// TestEveryKindMakesAValidStatement takes one action of every kind a
// moderator can take here and checks each statement against the
// Transparency Database's rules and against personal data.
func TestEveryKindMakesAValidStatement(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	img := &parley.Media{ID: strings.Repeat("a1", 32), Mime: "image/png", Size: 3, UploaderID: w.member.ID, CreatedAt: w.clock.Now()}
	if err := w.db.SaveMedia(ctx, img); err != nil {
		t.Fatal(err)
	}
	blocked := &parley.Media{ID: strings.Repeat("b2", 32), Mime: "image/png", Size: 3, UploaderID: w.member.ID, CreatedAt: w.clock.Now()}
	msg := func(c *parley.Chat, seq int64) enforce.Target {
		return enforce.Target{Type: enforce.TargetMessage, ChatID: c.ID, Seq: seq}
	}
	reqs := []enforce.Request{
		{Kind: enforce.RemoveMessage, Target: msg(w.group, 1), Grounds: terms},
		{Kind: enforce.WithholdMessage, Target: msg(w.channel, 1), Countries: []string{"de"}, Grounds: law},
		{Kind: enforce.LabelMessage, Target: msg(w.channel, 2), Label: "Disputed claim", Grounds: terms},
		{Kind: enforce.AgeRestrictMessage, Target: msg(w.group, 2), Grounds: terms},
		{Kind: enforce.RemoveMedia, Target: enforce.Target{MediaID: img.ID}, Grounds: terms},
		{Kind: enforce.BlockUpload, Target: enforce.Target{MediaID: blocked.ID}, Media: blocked, Grounds: terms},
		{Kind: enforce.WithholdChat, Target: enforce.Target{ChatID: w.channel.ID}, Countries: []string{"AT", "DE"}, Grounds: law},
		{Kind: enforce.BanChat, Target: enforce.Target{ChatID: w.group.ID}, Grounds: terms},
		{Kind: enforce.SuspendAccount, Target: enforce.Target{UserID: w.outsider.ID}, Until: w.clock.Now().Add(7 * 24 * time.Hour), Grounds: terms},
	}
	seen := map[string]bool{}
	for _, req := range reqs {
		a, err := w.svc.Apply(ctx, w.mod, req)
		if err != nil {
			t.Fatalf("%s: %v", req.Kind, err)
		}
		if err := a.Statement.Check(); err != nil {
			t.Fatalf("%s: statement fails the database's rules: %v", req.Kind, err)
		}
		if seen[a.PUID] {
			t.Fatalf("%s: puid %s used twice", req.Kind, a.PUID)
		}
		seen[a.PUID] = true
		if a.ActorID != w.mod.ID || a.Automated {
			t.Fatalf("%s: actor %d automated %v", req.Kind, a.ActorID, a.Automated)
		}
	}
	withheld, err := w.svc.Find(ctx, w.mod, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sc := withheld.Statement.TerritorialScope; len(sc) != 1 || sc[0] != "DE" ||
		withheld.Statement.DecisionVisibility[0] != sor.VisibilityContentDisabled || withheld.Statement.SourceIdentity != law.Notifier {
		t.Fatalf("withholding in DE: scope %v, visibility %v, source %q", sc, withheld.Statement.DecisionVisibility, withheld.Statement.SourceIdentity)
	}
}

func TestApplyChecksRoleAndRequest(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	target := enforce.Target{Type: enforce.TargetMessage, ChatID: w.group.ID, Seq: 1}
	_, err := w.svc.Apply(ctx, w.member, enforce.Request{Kind: enforce.RemoveMessage, Target: target, Grounds: terms})
	wantCode(t, "a member takes an action", err, parley.EForbidden)

	bad := []struct {
		name  string
		req   enforce.Request
		field string
	}{
		{"unknown kind", enforce.Request{Kind: "erase", Target: target, Grounds: terms}, "kind"},
		{"wrong target", enforce.Request{Kind: enforce.BanChat, Target: target, Grounds: terms}, "target.type"},
		{"no seq", enforce.Request{Kind: enforce.RemoveMessage, Target: enforce.Target{ChatID: 1}, Grounds: terms}, "target"},
		{"no countries", enforce.Request{Kind: enforce.WithholdMessage, Target: target, Grounds: law}, "countries"},
		{"bad country", enforce.Request{Kind: enforce.WithholdMessage, Target: target, Countries: []string{"XX"}, Grounds: law}, "countries"},
		{"no label", enforce.Request{Kind: enforce.LabelMessage, Target: target, Grounds: terms}, "label"},
		{"suspension without end", enforce.Request{Kind: enforce.SuspendAccount, Target: enforce.Target{UserID: w.member.ID}, Grounds: terms}, "until"},
		{"no ground", enforce.Request{Kind: enforce.RemoveMessage, Target: target, Grounds: enforce.Grounds{Category: sor.CategoryScamsAndFraud}}, ""},
		{"personal data in the reason", enforce.Request{Kind: enforce.RemoveMessage, Target: target,
			Grounds: func() enforce.Grounds { g := terms; g.Reason = "Posted by jane.doe@example.com"; return g }()}, ""},
	}
	for _, tc := range bad {
		_, err := w.svc.Apply(ctx, w.mod, tc.req)
		if parley.ErrorCode(err) != parley.EInvalid || (tc.field != "" && parley.ErrorField(err) != tc.field) {
			t.Errorf("%s: error %v (field %q), want invalid on field %q", tc.name, err, parley.ErrorField(err), tc.field)
		}
	}
	// Nothing was written by the refused requests.
	list, err := w.svc.List(ctx, w.mod, enforce.Filter{})
	if err != nil || len(list) != 0 {
		t.Fatalf("actions after refused requests = %d, %v", len(list), err)
	}
	_, err = w.svc.List(ctx, w.member, enforce.Filter{})
	wantCode(t, "a member lists actions", err, parley.EForbidden)
}

func TestStatementVisibleToAffectedAccountOnly(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	a, err := w.svc.Apply(ctx, w.mod, enforce.Request{Kind: enforce.RemoveMessage,
		Target: enforce.Target{Type: enforce.TargetMessage, ChatID: w.channel.ID, Seq: 1}, Grounds: terms, Note: "internal: wave 12"})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.changed) == 0 || w.changed[len(w.changed)-1] != w.member.ID {
		t.Fatalf("accounts told of a change = %v; want the author's strike", w.changed)
	}
	if _, err := w.svc.Restore(ctx, w.mod, a.ID, "appeal upheld by the second reviewer"); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Find(ctx, w.outsider, a.ID)
	wantCode(t, "someone else reads the statement", err, parley.ENotFound)
	// Staff see who took and who reversed the decision, and why.
	staff, err := w.svc.Find(ctx, w.legal, a.ID)
	if err != nil || staff.Note != "internal: wave 12" || staff.ActorID != w.mod.ID || staff.ReversedBy != w.mod.ID ||
		staff.ReversalReason != "appeal upheld by the second reviewer" || staff.ReversedAt == nil {
		t.Fatalf("staff view = %+v, %v", staff, err)
	}
	// The author reads the statement and that it was reversed, without
	// what is for staff only.
	mine, err := w.svc.Find(ctx, w.member, a.ID)
	if err != nil || mine.Statement.PUID != a.PUID || mine.ReversedAt == nil {
		t.Fatalf("the author's view of the statement = %+v, %v", mine, err)
	}
	list, err := w.svc.Mine(ctx, w.member, 0, 10)
	if err != nil || len(list) != 1 || list[0].ID != a.ID || list[0].ReversedAt == nil {
		t.Fatalf("the author's statements = %+v, %v", list, err)
	}
	for _, v := range []*enforce.Action{mine, list[0]} {
		if v.Note != "" || v.ActorID != 0 || v.ReversedBy != 0 || v.ReversalReason != "" {
			t.Fatalf("the author's view has what is for staff only: note %q, actor %d, reversed by %d (%q)", v.Note, v.ActorID, v.ReversedBy, v.ReversalReason)
		}
	}
	// What the author was given is a copy: staff reading it again still
	// see all of it.
	if again, err := w.svc.Find(ctx, w.mod, a.ID); err != nil || again.ActorID != w.mod.ID {
		t.Fatalf("staff view after the author's = %+v, %v", again, err)
	}
}

// TestRestoreLeavesTheHold: a post held for review keeps its hold when an
// action on it is restored, even an action whose id is the hold's case id.
func TestRestoreLeavesTheHold(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	by := &parley.ScreeningMatch{Source: parley.MatchRule, SourceID: "r1", Name: "words", Decision: parley.ScreenHold, Category: string(sor.CategoryScamsAndFraud)}
	held := &parley.Message{ChatID: w.channel.ID, SenderID: w.member.ID, Text: "held", CreatedAt: w.clock.Now()}
	c := &review.Case{Kind: review.KindHeldPost, Status: review.StatusOpen}
	if err := w.db.InsertHeldMessage(ctx, held, &parley.Screening{Decision: parley.ScreenHold, Matches: []parley.ScreeningMatch{*by}, By: by}, c); err != nil {
		t.Fatal(err)
	}
	a, err := w.svc.Apply(ctx, w.legal, enforce.Request{Kind: enforce.WithholdMessage,
		Target: enforce.Target{Type: enforce.TargetMessage, ChatID: held.ChatID, Seq: held.Seq}, Countries: []string{"DE"}, Grounds: law})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != c.ID {
		t.Fatalf("action %d, case %d: the test needs the same id", a.ID, c.ID)
	}
	if _, err := w.svc.Restore(ctx, w.mod, a.ID, "order lifted"); err != nil {
		t.Fatal(err)
	}
	m, err := w.db.FindMessage(ctx, held.ChatID, held.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if m.Moderation == nil || m.Moderation.Held == nil || len(m.Moderation.Withheld) != 0 {
		t.Fatalf("held post after its withholding was restored: %+v; want it still held, not withheld", m.Moderation)
	}
}

func TestRestoreNeedsReasonAndStaff(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	a, err := w.svc.Apply(ctx, w.mod, enforce.Request{Kind: enforce.SuspendAccount, Target: enforce.Target{UserID: w.outsider.ID},
		Until: w.clock.Now().Add(time.Hour), Grounds: terms})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Restore(ctx, w.member, a.ID, "please")
	wantCode(t, "a member restores", err, parley.EForbidden)
	_, err = w.svc.Restore(ctx, w.mod, a.ID, "  ")
	wantCode(t, "restore without a reason", err, parley.EInvalid)
	r, err := w.svc.Restore(ctx, w.mod, a.ID, "appeal upheld")
	if err != nil || r.Standing() {
		t.Fatalf("restore = %+v, %v", r, err)
	}
	u, err := w.db.FindUserByID(ctx, w.outsider.ID)
	if err != nil || u.Status != "" {
		t.Fatalf("account after restore = %+v, %v", u, err)
	}
}

func TestHoldsAndPurge(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	w.svc.Retention = 24 * time.Hour
	target := enforce.Target{Type: enforce.TargetMessage, ChatID: w.group.ID, Seq: 1}
	if _, err := w.svc.Apply(ctx, w.mod, enforce.Request{Kind: enforce.RemoveMessage, Target: target, Grounds: terms}); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.PlaceHold(ctx, w.mod, target, "order 1")
	wantCode(t, "a moderator places a hold", err, parley.EForbidden)
	_, err = w.svc.PlaceHold(ctx, w.legal, target, "")
	wantCode(t, "a hold without a reason", err, parley.EInvalid)
	h, err := w.svc.PlaceHold(ctx, w.legal, enforce.Target{Type: enforce.TargetChat, ChatID: w.group.ID}, "preservation order EPOC-PR 2026/4411")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Holds(ctx, w.member)
	wantCode(t, "a member lists the holds", err, parley.EForbidden)
	if holds, err := w.svc.Holds(ctx, w.mod); err != nil || len(holds) != 1 || holds[0].ID != h.ID {
		t.Fatalf("holds a moderator sees = %+v, %v; want the one placed", holds, err)
	}
	w.clock.Advance(48 * time.Hour)
	if n, err := w.svc.PurgeEvidence(ctx); err != nil || n != 0 {
		t.Fatalf("purge under a hold on the chat = %d, %v; want nothing", n, err)
	}
	if err := w.svc.ReleaseHold(ctx, w.legal, h.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := w.svc.PurgeEvidence(ctx); err != nil || n != 1 {
		t.Fatalf("purge after release = %d, %v; want 1", n, err)
	}
}

// TestModeratorDecisionIsAReview checks that Apply and ApplyMany prepare a
// person's request alike: on the platform's own initiative with no detector
// named, the signal is the moderator's review.
func TestModeratorDecisionIsAReview(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	g := terms
	g.Signal = sor.Signal{}
	one, err := w.svc.Apply(ctx, w.mod, enforce.Request{Kind: enforce.RemoveMessage,
		Target: enforce.Target{Type: enforce.TargetMessage, ChatID: w.group.ID, Seq: 1}, Grounds: g})
	if err != nil {
		t.Fatal(err)
	}
	many, errs, err := w.svc.ApplyMany(ctx, w.mod, []enforce.Request{{Kind: enforce.RemoveMessage,
		Target: enforce.Target{Type: enforce.TargetMessage, ChatID: w.group.ID, Seq: 2}, Grounds: g}})
	if err != nil || errs[0] != nil {
		t.Fatalf("ApplyMany by a moderator = %v, %v", errs, err)
	}
	for _, a := range []*enforce.Action{one, many[0]} {
		if a.Grounds.Signal.Kind != sor.SignalModerator || a.ActorID != w.mod.ID || a.Automated {
			t.Errorf("action %d: signal %q, actor %d, automated %v; want a moderator's review by %d",
				a.ID, a.Grounds.Signal.Kind, a.ActorID, a.Automated, w.mod.ID)
		}
	}
}

// TestPurgeGoesPageByPage: a purge of more evidence than one page holds
// goes through every page, and one item a hold covers in the middle stays.
func TestPurgeGoesPageByPage(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	w.svc.Retention = time.Hour
	const n = 250 // two and a half pages
	var reqs []enforce.Request
	for range n {
		m, err := w.db.InsertMessage(ctx, &parley.Message{ChatID: w.channel.ID, SenderID: w.member.ID, Text: "spam", CreatedAt: w.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, enforce.Request{Kind: enforce.RemoveMessage, Grounds: terms,
			Target: enforce.Target{Type: enforce.TargetMessage, ChatID: m.ChatID, Seq: m.Message.Seq}})
	}
	_, errs, err := w.svc.ApplyMany(ctx, w.mod, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("removal %d: %v", i, err)
		}
	}
	kept := reqs[n/2].Target
	if _, err := w.svc.PlaceHold(ctx, w.legal, kept, "preservation order on one post"); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Hour)
	if got, err := w.svc.PurgeEvidence(ctx); err != nil || got != n-1 {
		t.Fatalf("purge = %d, %v; want %d (all but the held one)", got, err, n-1)
	}
	if ev, err := w.db.ListEvidence(ctx, kept); err != nil || len(ev) != 1 {
		t.Fatalf("evidence of the held post = %d items, %v; want it kept", len(ev), err)
	}
	if ev, err := w.db.ListEvidence(ctx, reqs[n-1].Target); err != nil || len(ev) != 0 {
		t.Fatalf("evidence of the last post after the purge = %d items, %v; want none", len(ev), err)
	}
}
