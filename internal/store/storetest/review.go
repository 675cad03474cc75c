package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/sor"
)

// --- the review queue ---

// match is a screening match of one rule or bank asking for decision.
func match(source, id string, version int, decision string) parley.ScreeningMatch {
	return parley.ScreeningMatch{Source: source, SourceID: id, Name: "name of " + id, Version: version, Decision: decision,
		Detail: "matched by " + id, Category: string(sor.CategoryScamsAndFraud)}
}

// screened is a screening whose decision the first of ms made.
func screened(ms ...parley.ScreeningMatch) *parley.Screening {
	sc := &parley.Screening{Decision: ms[0].Decision, Matches: ms}
	sc.By = &sc.Matches[0]
	return sc
}

// holdPost stores a post by from that the rule hold-links held, with its
// open case.
func holdPost(t *testing.T, s Store, chat *parley.Chat, from *parley.User, text string, when time.Time) (*parley.Message, *review.Case) {
	t.Helper()
	sc := screened(match(parley.MatchRule, "hold-links", 1, parley.ScreenHold))
	m := &parley.Message{ChatID: chat.ID, SenderID: from.ID, Text: text, CreatedAt: when}
	c := &review.Case{Kind: review.KindHeldPost, Priority: review.Priority(sc), Screening: sc}
	must(t, s.InsertHeldMessage(t.Context(), m, sc, c))
	return m, c
}

// mediaCase opens a case about an image re-screening flagged.
func mediaCase(t *testing.T, s Store, uploader *parley.User, mediaID string, priority int, when time.Time) *review.Case {
	t.Helper()
	c := &review.Case{Kind: review.KindFlaggedMedia, TargetType: review.TargetMedia, TargetID: mediaID, UserID: uploader.ID,
		Priority: priority, Screening: screened(match(parley.MatchBank, "3", 17, parley.ScreenHold)), CreatedAt: when}
	must(t, s.OpenCase(t.Context(), c))
	return c
}

func findCaseT(t *testing.T, s Store, id int64) *review.Case {
	t.Helper()
	c, err := s.FindCase(t.Context(), id)
	must(t, err)
	return c
}

// decided is c as it reads once decided.
func decided(c *review.Case, decision string, by, actionID int64, when time.Time) *review.Case {
	d := *c
	d.Status, d.Decision, d.DecidedBy, d.DecidedAt, d.ActionID = review.StatusDecided, decision, by, &when, actionID
	return &d
}

// each returns f of every element of xs, in order: never nil, so that no
// result compares (and encodes) as an empty list.
func each[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func listCases(t *testing.T, s Store, status string, limit int) []int64 {
	t.Helper()
	cs, err := s.ListCases(t.Context(), status, limit)
	must(t, err)
	return each(cs, func(c *review.Case) int64 { return c.ID })
}

func countCases(t *testing.T, s Store, status string) int64 {
	t.Helper()
	n, err := s.CountCases(t.Context(), status)
	must(t, err)
	return n
}

// race runs f(0) to f(n-1) at once and returns their errors by index.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWins fails unless exactly one of errs is nil and all the others are
// EConflict, and returns the index of the one that succeeded.
func oneWins(t *testing.T, what string, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch parley.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Fatalf("%s: calls %d and %d both succeeded", what, winner, i)
			}
			winner = i
		case parley.EConflict:
		default:
			t.Fatalf("%s: call %d: %v", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no call succeeded", what)
	}
	return winner
}

// wantAuditOf fails unless e is the audit entry of an act by actor on the
// target at the instant when.
func wantAuditOf(t *testing.T, e *parley.AuditEntry, action string, actor int64, targetType, targetID string, when time.Time) {
	t.Helper()
	if e.Action != action || e.ActorID != actor || e.TargetType != targetType || e.TargetID != targetID || !e.At.Equal(when) {
		t.Fatalf("audit entry = %+v, want %s by %d on %s %s at %v", e, action, actor, targetType, targetID, when)
	}
}

func testReviewOpenAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "uploader")
	takeEvents(t, s)
	c := mediaCase(t, s, u, strings.Repeat("ab", 32), 25, at(time.Minute))
	if c.ID == 0 || c.Status != review.StatusOpen {
		t.Fatalf("opened case: id %d, status %q", c.ID, c.Status)
	}
	sameTime(t, "CreatedAt", c.CreatedAt, at(time.Minute))
	sameJSON(t, "FindCase", findCaseT(t, s, c.ID), c)

	// A case about a message gives its chat back; a zero CreatedAt is the
	// time it was opened.
	g := newGroup(t, s, u, "Group", 0)
	post(t, s, g, u, "hello", t0)
	mc := &review.Case{Kind: review.KindFlaggedPost, TargetType: review.TargetMessage, TargetID: fmt.Sprintf("%d:1", g.ID), UserID: u.ID, Priority: 3}
	before := time.Now().Add(-time.Minute)
	must(t, s.OpenCase(ctx, mc))
	if mc.CreatedAt.Before(before) || mc.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("CreatedAt = %v, want about now", mc.CreatedAt)
	}
	got := findCaseT(t, s, mc.ID)
	sameTime(t, "CreatedAt as found", got.CreatedAt, mc.CreatedAt)
	want := *mc
	want.ChatID, want.CreatedAt = g.ID, got.CreatedAt
	sameJSON(t, "FindCase of a message case", got, &want)

	// A case opened with the action that stopped an upload keeps it.
	img := &parley.Media{ID: strings.Repeat("cd", 32), Mime: "image/png", Size: 3, UploaderID: u.ID, CreatedAt: t0}
	block := apply(t, s, enforce.Action{Kind: enforce.BlockUpload, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: img.ID}, Media: img})
	takeEvents(t, s)
	bc := &review.Case{Kind: review.KindBlockedUpload, TargetType: review.TargetMedia, TargetID: img.ID, UserID: u.ID, Priority: 45,
		ActionID: block.ID, CreatedAt: at(2 * time.Hour)}
	must(t, s.OpenCase(ctx, bc))
	sameJSON(t, "FindCase of a blocked upload", findCaseT(t, s, bc.ID), bc)
	_, err := s.FindCase(ctx, bc.ID+100)
	wantCode(t, err, parley.ENotFound)
	if n, d := countCases(t, s, review.StatusOpen), countCases(t, s, review.StatusDecided); n != 3 || d != 0 {
		t.Fatalf("CountCases = %d open, %d decided; want 3, 0", n, d)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("opening cases wrote events: %+v", evs)
	}
}

// testReviewQueueOrder: the queue lists the highest priority first and,
// within one priority, the cases in the order they were opened; decided
// cases come the most recently decided first.
func testReviewQueueOrder(t *testing.T, s Store) {
	u, mod := newUser(t, s, "uploader"), newUser(t, s, "moderator")
	var cs []*review.Case
	for i, p := range []int{5, 9, 5, 1, 9} {
		cs = append(cs, mediaCase(t, s, u, hexValue(i, 64), p, at(time.Duration(i)*time.Minute)))
	}
	id := func(i ...int) []int64 {
		var out []int64
		for _, j := range i {
			out = append(out, cs[j].ID)
		}
		return out
	}
	if got, want := listCases(t, s, review.StatusOpen, 10), id(1, 4, 0, 2, 3); !slices.Equal(got, want) {
		t.Fatalf("queue = %v, want %v", got, want)
	}
	if got, want := listCases(t, s, review.StatusOpen, 2), id(1, 4); !slices.Equal(got, want) {
		t.Fatalf("queue limited to 2 = %v, want %v", got, want)
	}
	if got := listCases(t, s, review.StatusOpen, 0); len(got) != 5 {
		t.Fatalf("queue with limit 0 = %v, want all 5 cases", got)
	}

	for _, d := range []struct {
		i    int
		when time.Duration
	}{{2, 3 * time.Hour}, {0, time.Hour}, {3, 2 * time.Hour}, {4, 3 * time.Hour}} {
		must(t, s.CloseCase(t.Context(), cs[d.i].ID, review.DecisionApproved, mod.ID, 0, at(d.when)))
	}
	if got, want := listCases(t, s, review.StatusDecided, 10), id(4, 2, 3, 0); !slices.Equal(got, want) {
		t.Fatalf("decided = %v, want %v (latest decision first; of one instant, the last opened first)", got, want)
	}
	if got, want := listCases(t, s, review.StatusDecided, 1), id(4); !slices.Equal(got, want) {
		t.Fatalf("decided limited to 1 = %v, want %v", got, want)
	}
	if got, want := listCases(t, s, review.StatusOpen, 10), id(1); !slices.Equal(got, want) {
		t.Fatalf("queue after the decisions = %v, want %v", got, want)
	}
	if n, d := countCases(t, s, review.StatusOpen), countCases(t, s, review.StatusDecided); n != 1 || d != 4 {
		t.Fatalf("CountCases = %d open, %d decided; want 1, 4", n, d)
	}
	if got := listCases(t, s, "pending", 10); len(got) != 0 {
		t.Fatalf("cases of an unknown status = %v", got)
	}
}

func testReviewCloseCase(t *testing.T, s Store) {
	ctx := t.Context()
	u, mod, other := newUser(t, s, "uploader"), newUser(t, s, "moderator"), newUser(t, s, "other")
	c := mediaCase(t, s, u, strings.Repeat("ab", 32), 7, t0)
	takeEvents(t, s)
	audits := auditCount(t, s)

	must(t, s.CloseCase(ctx, c.ID, review.DecisionApproved, mod.ID, 0, at(2*time.Hour)))
	want := decided(c, review.DecisionApproved, mod.ID, 0, at(2*time.Hour))
	sameJSON(t, "closed case", findCaseT(t, s, c.ID), want)
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("%d audit entries, want %d", n, audits+1)
	}
	e := lastAudit(t, s)
	wantAuditOf(t, e, "review.decided", mod.ID, review.TargetMedia, c.TargetID, at(2*time.Hour))
	if d := auditDetails(t, e); d["case_id"] != float64(c.ID) || d["kind"] != review.KindFlaggedMedia || d["decision"] != review.DecisionApproved {
		t.Fatalf("audit details %s", e.Details)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("closing a case wrote events: %+v", evs)
	}

	// The first decision stands.
	wantCode(t, s.CloseCase(ctx, c.ID, review.DecisionRemoved, other.ID, 5, at(3*time.Hour)), parley.EConflict)
	sameJSON(t, "case after a second decision", findCaseT(t, s, c.ID), want)
	wantCode(t, s.CloseCase(ctx, c.ID+100, review.DecisionApproved, mod.ID, 0, at(3*time.Hour)), parley.ENotFound)
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("refused decisions wrote audit entries: %d, want %d", n, audits+1)
	}

	// The action a decision led to is kept.
	g := newGroup(t, s, u, "Group", 0)
	post(t, s, g, u, "spam", t0)
	fc := &review.Case{Kind: review.KindFlaggedPost, TargetType: review.TargetMessage, TargetID: fmt.Sprintf("%d:1", g.ID), ChatID: g.ID,
		UserID: u.ID, Priority: 3, CreatedAt: t0}
	must(t, s.OpenCase(ctx, fc))
	removal := apply(t, s, enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: g.ID, Seq: 1}})
	must(t, s.CloseCase(ctx, fc.ID, review.DecisionRemoved, mod.ID, removal.ID, at(2*time.Hour)))
	sameJSON(t, "case closed by a removal", findCaseT(t, s, fc.ID), decided(fc, review.DecisionRemoved, mod.ID, removal.ID, at(2*time.Hour)))
}

// testReviewCloseConcurrent: of many moderators deciding one case at once,
// exactly one succeeds, and the case and the audit log say who.
func testReviewCloseConcurrent(t *testing.T, s Store) {
	u := newUser(t, s, "uploader")
	mods := users(t, s, "mod", 8)
	c := mediaCase(t, s, u, strings.Repeat("ab", 32), 7, t0)
	audits := auditCount(t, s)
	decisionOf := func(i int) string { return []string{review.DecisionApproved, review.DecisionRemoved}[i%2] }
	errs := race(len(mods), func(i int) error {
		return s.CloseCase(t.Context(), c.ID, decisionOf(i), mods[i].ID, 0, at(time.Hour+time.Duration(i)*time.Minute))
	})
	w := oneWins(t, "concurrent CloseCase", errs)
	sameJSON(t, "case", findCaseT(t, s, c.ID), decided(c, decisionOf(w), mods[w].ID, 0, at(time.Hour+time.Duration(w)*time.Minute)))
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("%d audit entries, want %d (one decision)", n, audits+1)
	}
	if e := lastAudit(t, s); e.ActorID != mods[w].ID {
		t.Fatalf("audit entry by %d, want the winner %d", e.ActorID, mods[w].ID)
	}
}

// wantVisible fails unless viewer's history of chat lists exactly the seqs.
func wantVisible(t *testing.T, s Store, chat *parley.Chat, viewer *parley.User, seqs ...int64) {
	t.Helper()
	ms, err := s.ListMessages(t.Context(), chat.ID, viewer.ID, 0, 100)
	must(t, err)
	var got []int64
	for _, m := range ms {
		got = append(got, m.Seq)
	}
	slices.Sort(got)
	if !slices.Equal(got, seqs) {
		t.Fatalf("%s sees messages %v, want %v", viewer.Username, got, seqs)
	}
}

func testReviewApproveHeld(t *testing.T, s Store) {
	ctx := t.Context()
	owner, author, reader := newUser(t, s, "owner"), newUser(t, s, "author"), newUser(t, s, "reader")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, author, parley.MemberRegular)
	join(t, s, g, reader, parley.MemberRegular)
	post(t, s, g, author, "first", t0)
	takeEvents(t, s)

	m, c := holdPost(t, s, g, author, "see my link", at(time.Minute))
	if m.ID == 0 || m.Seq != 2 || m.Moderation == nil || m.Moderation.Held == nil || m.Moderation.Held.ActionID != c.ID {
		t.Fatalf("held message = %+v", m)
	}
	if c.ID == 0 || c.Status != review.StatusOpen || c.TargetType != review.TargetMessage || c.TargetID != fmt.Sprintf("%d:2", g.ID) ||
		c.UserID != author.ID || c.ChatID != g.ID || !c.CreatedAt.Equal(at(time.Minute)) {
		t.Fatalf("case of the held message = %+v", c)
	}
	sameJSON(t, "FindCase", findCaseT(t, s, c.ID), c)
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("holding a post wrote events: %+v", evs)
	}
	wantVisible(t, s, g, reader, 1)
	wantVisible(t, s, g, author, 1, 2)

	audits := auditCount(t, s)
	must(t, s.ApproveHeld(ctx, c.ID, owner.ID, at(time.Hour)))
	if got := findMsg(t, s, g.ID, 2); got.Moderation != nil || got.Text != "see my link" {
		t.Fatalf("approved message = %+v", got)
	}
	wantVisible(t, s, g, reader, 1, 2)
	evs := takeEvents(t, s)
	if len(evs) != 1 || evs[0].Kind != parley.UpdateMessageModerated || evs[0].Subject != parley.ChatSubject(g.ID) {
		t.Fatalf("events of an approval = %+v", evs)
	}
	var u parley.Update
	must(t, json.Unmarshal(evs[0].Payload, &u))
	if u.ChatID != g.ID || u.Message.Seq != 2 || u.Message.Text != "see my link" || u.Message.Moderation != nil || u.Message.SenderID != author.ID {
		t.Fatalf("approval update = %+v", u)
	}
	sameJSON(t, "approved case", findCaseT(t, s, c.ID), decided(c, review.DecisionApproved, owner.ID, 0, at(time.Hour)))
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("%d audit entries, want %d", n, audits+1)
	}
	wantAuditOf(t, lastAudit(t, s), "review.decided", owner.ID, review.TargetMessage, c.TargetID, at(time.Hour))

	// Decided once; an unknown case; a case about an image.
	wantCode(t, s.ApproveHeld(ctx, c.ID, reader.ID, at(2*time.Hour)), parley.EConflict)
	wantCode(t, s.ApproveHeld(ctx, c.ID+100, owner.ID, at(2*time.Hour)), parley.ENotFound)
	mc := mediaCase(t, s, author, strings.Repeat("ab", 32), 7, t0)
	wantCode(t, s.ApproveHeld(ctx, mc.ID, owner.ID, at(2*time.Hour)), parley.EConflict)
	if got := findCaseT(t, s, mc.ID); got.Status != review.StatusOpen {
		t.Fatalf("a media case was decided by ApproveHeld: %+v", got)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("refused approvals wrote events: %+v", evs)
	}
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("refused approvals wrote audit entries: %d, want %d", n, audits+1)
	}

	// A flagged post is visible already: approving its case changes it not.
	fc := &review.Case{Kind: review.KindFlaggedPost, TargetType: review.TargetMessage, TargetID: fmt.Sprintf("%d:1", g.ID), UserID: author.ID, Priority: 3}
	must(t, s.OpenCase(ctx, fc))
	must(t, s.ApproveHeld(ctx, fc.ID, owner.ID, at(2*time.Hour)))
	if got := findCaseT(t, s, fc.ID); got.Status != review.StatusDecided || got.Decision != review.DecisionApproved {
		t.Fatalf("flagged post's case = %+v", got)
	}
	if got := findMsg(t, s, g.ID, 1); got.Moderation != nil || got.Text != "first" {
		t.Fatalf("flagged post after approval = %+v", got)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("approving a visible post wrote events: %+v", evs)
	}

	// A held post its author deleted meanwhile stays deleted.
	dm, dc := holdPost(t, s, g, author, "never mind", at(3*time.Hour))
	_, err := s.DeleteMessage(ctx, g.ID, dm.Seq, at(4*time.Hour))
	must(t, err)
	takeEvents(t, s)
	must(t, s.ApproveHeld(ctx, dc.ID, owner.ID, at(5*time.Hour)))
	if got := findMsg(t, s, g.ID, dm.Seq); got.DeletedAt == nil || got.Text != "" {
		t.Fatalf("deleted held message after approval = %+v", got)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("approving a deleted post wrote events: %+v", evs)
	}
	wantVisible(t, s, g, reader, 1, 2)
}

// testReviewApproveRace: moderators approving a held post while others
// close its case: exactly one decision is taken, and the message is
// released exactly when the approval won.
func testReviewApproveRace(t *testing.T, s Store) {
	owner, author := newUser(t, s, "owner"), newUser(t, s, "author")
	mods := users(t, s, "mod", 6)
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, author, parley.MemberRegular)
	for round := range 3 {
		m, c := holdPost(t, s, g, author, fmt.Sprintf("post %d", round), at(time.Duration(round)*time.Minute))
		takeEvents(t, s)
		errs := race(len(mods), func(i int) error {
			if (i+round)%2 == 0 {
				return s.ApproveHeld(t.Context(), c.ID, mods[i].ID, at(time.Hour))
			}
			return s.CloseCase(t.Context(), c.ID, review.DecisionRemoved, mods[i].ID, 0, at(time.Hour))
		})
		w := oneWins(t, "ApproveHeld racing CloseCase", errs)
		approved := (w+round)%2 == 0
		got := findCaseT(t, s, c.ID)
		if got.DecidedBy != mods[w].ID || (got.Decision == review.DecisionApproved) != approved {
			t.Fatalf("round %d: case = %+v, want decided by the winner %d (approved: %v)", round, got, mods[w].ID, approved)
		}
		msg := findMsg(t, s, g.ID, m.Seq)
		held := msg.Moderation != nil && msg.Moderation.Held != nil
		if evs := takeEvents(t, s); held == approved || len(evs) != map[bool]int{true: 1, false: 0}[approved] {
			t.Fatalf("round %d: approved %v, message held %v, %d events", round, approved, held, len(evs))
		}
	}
}

// testReviewHeldInsertChecks: InsertHeldMessage makes the checks of
// InsertMessage, and a post it refuses leaves no trace: no case, no
// recorded match, no sequence number.
func testReviewHeldInsertChecks(t *testing.T, s Store) {
	ctx := t.Context()
	owner, subscriber, stranger := newUser(t, s, "owner"), newUser(t, s, "subscriber"), newUser(t, s, "stranger")
	g := newGroup(t, s, owner, "Group", 0)
	ch := newChannel(t, s, owner, "news", "News")
	join(t, s, ch, subscriber, parley.MemberRegular)
	sc := screened(match(parley.MatchRule, "hold-links", 1, parley.ScreenHold))
	for _, tc := range []struct {
		chat int64
		from *parley.User
		code string
	}{{g.ID, stranger, parley.ENotFound}, {ch.ID, subscriber, parley.EForbidden}, {ch.ID + g.ID + 100, owner, parley.ENotFound}} {
		c := &review.Case{Kind: review.KindHeldPost, Priority: 20, Screening: sc}
		err := s.InsertHeldMessage(ctx, &parley.Message{ChatID: tc.chat, SenderID: tc.from.ID, Text: "x", CreatedAt: t0}, sc, c)
		wantCode(t, err, tc.code)
	}
	if n := countCases(t, s, review.StatusOpen); n != 0 {
		t.Fatalf("refused posts opened %d cases", n)
	}
	if ms, err := s.ListScreeningMatches(ctx, parley.MatchRule, "hold-links", 10); err != nil || len(ms) != 0 {
		t.Fatalf("refused posts recorded matches: %+v, %v", ms, err)
	}
	for _, c := range []*parley.Chat{g, ch} {
		if u := post(t, s, c, owner, "first", t0); u.Message.Seq != 1 {
			t.Fatalf("first post in %s has seq %d: a refused post took a number", c.Title, u.Message.Seq)
		}
	}
}

func testReviewScreeningMatches(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "author")
	g := newGroup(t, s, u, "Group", 0)
	takeEvents(t, s)

	refused := screened(match(parley.MatchRule, "r1", 2, parley.ScreenBlock))
	must(t, s.RecordScreening(ctx, "post", "", u.ID, g.ID, refused, "refused text", at(time.Minute)))
	shadow := match(parley.MatchRule, "r1", 3, parley.ScreenLabel)
	shadow.Shadow = true
	suppressed := match(parley.MatchBank, "5", 10, parley.ScreenBlock)
	suppressed.Suppressed = true
	stored := &parley.Screening{Decision: parley.ScreenNone, Matches: []parley.ScreeningMatch{shadow, suppressed}}
	must(t, s.RecordScreening(ctx, "message", fmt.Sprintf("%d:1", g.ID), u.ID, g.ID, stored, "", at(2*time.Minute)))
	must(t, s.RecordScreening(ctx, "media", "img", u.ID, 0, nil, "", at(3*time.Minute)))
	must(t, s.RecordScreening(ctx, "media", "img", u.ID, 0, &parley.Screening{}, "", at(3*time.Minute)))
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("recording matches wrote events: %+v", evs)
	}
	_, c := holdPost(t, s, g, u, "held", at(4*time.Minute))

	got, err := s.ListScreeningMatches(ctx, parley.MatchRule, "r1", 0)
	must(t, err)
	want := []*review.RecordedMatch{
		{At: at(2 * time.Minute), TargetType: "message", TargetID: fmt.Sprintf("%d:1", g.ID), UserID: u.ID, ChatID: g.ID, Version: 3,
			Decision: parley.ScreenLabel, Mode: "shadow", Detail: "matched by r1"},
		{At: at(time.Minute), TargetType: "post", UserID: u.ID, ChatID: g.ID, Version: 2,
			Decision: parley.ScreenBlock, Mode: "enforce", Detail: "matched by r1", Content: "refused text"},
	}
	if len(got) != len(want) || got[0].ID <= got[1].ID {
		t.Fatalf("matches of rule r1 = %+v, want %d, newest first", got, len(want))
	}
	for i := range got {
		want[i].ID = got[i].ID
	}
	sameJSON(t, "matches of rule r1", got, want)

	if got, err := s.ListScreeningMatches(ctx, parley.MatchRule, "r1", 1); err != nil || len(got) != 1 || got[0].Version != 3 {
		t.Fatalf("matches of rule r1, limited to 1 = %+v, %v", got, err)
	}
	got, err = s.ListScreeningMatches(ctx, parley.MatchBank, "5", 10)
	must(t, err)
	if len(got) != 1 || got[0].Mode != "suppressed" || got[0].Decision != parley.ScreenBlock || got[0].Version != 10 {
		t.Fatalf("matches of bank 5 = %+v", got)
	}
	got, err = s.ListScreeningMatches(ctx, parley.MatchRule, "hold-links", 10)
	must(t, err)
	if len(got) != 1 || got[0].TargetType != review.TargetMessage || got[0].TargetID != c.TargetID || got[0].Mode != "enforce" ||
		got[0].Decision != parley.ScreenHold || !got[0].At.Equal(at(4*time.Minute)) {
		t.Fatalf("matches of the rule that held a post = %+v", got)
	}
	for _, src := range [][2]string{{parley.MatchBank, "r1"}, {parley.MatchRule, "5"}, {parley.MatchRule, "nothing"}} {
		if got, err := s.ListScreeningMatches(ctx, src[0], src[1], 10); err != nil || len(got) != 0 {
			t.Fatalf("matches of %s %s = %+v, %v; want none", src[0], src[1], got, err)
		}
	}
}
