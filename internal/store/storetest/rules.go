package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/rules"
	"parley/internal/safety/screen"
)

// --- screening rules ---

// testRule is version of rule id, with every field set.
func testRule(id string, version int) rules.Rule {
	return rules.Rule{ID: id, Version: version, Name: "Rule " + id, Keywords: []string{"double your btc"},
		Regexps: []string{`(?i)\bget \d+ back\b`}, URLs: []string{"t.me/joinchat/abc"}, Domains: []string{"evil.example"},
		Condition: `account_age_days < 7`, Action: rules.ActionHold, Mode: rules.ModeShadow, Category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}
}

func findRuleT(t *testing.T, s Store, id string) *screen.StoredRule {
	t.Helper()
	r, err := s.FindRule(t.Context(), id)
	must(t, err)
	return r
}

func ruleVersions(t *testing.T, s Store, id string) []*screen.RuleVersion {
	t.Helper()
	vs, err := s.ListRuleVersions(t.Context(), id)
	must(t, err)
	return vs
}

// wantRuleChange fails unless the newest audit entry is the act on rule r
// by actor at when, and evs is exactly its rule.changed event.
func wantRuleChange(t *testing.T, s Store, evs []parley.Event, action string, r rules.Rule, enabled bool, actor int64, when time.Time) {
	t.Helper()
	e := lastAudit(t, s)
	wantAuditOf(t, e, action, actor, "rule", r.ID, when)
	if d := auditDetails(t, e); d["version"] != float64(r.Version) || d["enabled"] != enabled {
		t.Fatalf("audit details %s, want version %d, enabled %v", e.Details, r.Version, enabled)
	}
	if len(evs) != 1 || evs[0].Subject != screen.RulesSubject || evs[0].Kind != screen.EventRuleChanged {
		t.Fatalf("events = %+v, want one %s on %s", evs, screen.EventRuleChanged, screen.RulesSubject)
	}
	var p screen.RuleChangedEvent
	must(t, json.Unmarshal(evs[0].Payload, &p))
	if want := (screen.RuleChangedEvent{RuleID: r.ID, Version: r.Version, Enabled: enabled}); p != want {
		t.Fatalf("event payload %+v, want %+v", p, want)
	}
}

// wantRuleChanges fails unless n changes were made since there were
// audits audit entries: n more entries, and n events written (and taken).
func wantRuleChanges(t *testing.T, s Store, audits, n int) {
	t.Helper()
	if got := auditCount(t, s); got != audits+n {
		t.Fatalf("%d audit entries, want %d (%d changes)", got, audits+n, n)
	}
	if evs := takeEvents(t, s); len(evs) != n {
		t.Fatalf("%d events, want %d (%d changes): %+v", len(evs), n, n, evs)
	}
}

func testRuleCreateAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	takeEvents(t, s)
	r := testRule("crypto-doubling", 1)
	must(t, s.CreateRule(ctx, r, 7, at(time.Minute)))
	want := &screen.StoredRule{Rule: r, Enabled: false, CreatedBy: 7, UpdatedAt: at(time.Minute)}
	sameJSON(t, "FindRule", findRuleT(t, s, r.ID), want)
	wantRuleChange(t, s, takeEvents(t, s), screen.AuditRuleCreated, r, false, 7, at(time.Minute))
	sameJSON(t, "versions", ruleVersions(t, s, r.ID), []*screen.RuleVersion{{Rule: r, CreatedBy: 7, CreatedAt: at(time.Minute)}})

	// The id is taken: nothing is stored.
	audits := auditCount(t, s)
	again := rules.Rule{ID: r.ID, Version: 1, Keywords: []string{"other"}, Action: rules.ActionLabel, Mode: rules.ModeEnforce, Label: "x"}
	err := s.CreateRule(ctx, again, 8, at(2*time.Minute))
	wantCode(t, err, parley.EConflict)
	if f := parley.ErrorField(err); f != "id" {
		t.Fatalf("the refusal of a taken id names field %q, want id", f)
	}
	sameJSON(t, "rule after a refused create", findRuleT(t, s, r.ID), want)
	if vs := ruleVersions(t, s, r.ID); len(vs) != 1 {
		t.Fatalf("%d versions after a refused create, want 1", len(vs))
	}
	wantRuleChanges(t, s, audits, 0)

	_, err = s.FindRule(ctx, "nothing-here")
	wantCode(t, err, parley.ENotFound)
	_, err = s.ListRuleVersions(ctx, "nothing-here")
	wantCode(t, err, parley.ENotFound)
}

// testRuleCreateConcurrent: of editors creating a rule with one id at
// once, exactly one succeeds.
func testRuleCreateConcurrent(t *testing.T, s Store) {
	audits := auditCount(t, s)
	errs := race(6, func(i int) error {
		r := testRule("same-id", 1)
		r.Name = fmt.Sprintf("by %d", i)
		return s.CreateRule(t.Context(), r, int64(i+1), at(time.Minute))
	})
	w := oneWins(t, "concurrent CreateRule", errs)
	if got := findRuleT(t, s, "same-id"); got.Name != fmt.Sprintf("by %d", w) || got.CreatedBy != int64(w+1) {
		t.Fatalf("rule = %+v, want the winner's (%d)", got, w)
	}
	wantRuleChanges(t, s, audits, 1)
}

func testRuleAddVersion(t *testing.T, s Store) {
	ctx := t.Context()
	v1 := testRule("crypto-doubling", 1)
	must(t, s.CreateRule(ctx, v1, 7, at(time.Minute)))
	must(t, s.SetRuleEnabled(ctx, v1.ID, true, 8, at(2*time.Minute)))
	takeEvents(t, s)

	v2 := v1
	v2.Version, v2.Keywords, v2.Mode, v2.Condition = 2, []string{"triple your btc"}, rules.ModeEnforce, ""
	must(t, s.AddRuleVersion(ctx, v2, 9, at(3*time.Minute)))
	sameJSON(t, "FindRule after an edit", findRuleT(t, s, v1.ID), &screen.StoredRule{Rule: v2, Enabled: true, CreatedBy: 9, UpdatedAt: at(3 * time.Minute)})
	wantRuleChange(t, s, takeEvents(t, s), screen.AuditRuleEdited, v2, true, 9, at(3*time.Minute))
	sameJSON(t, "versions, newest first", ruleVersions(t, s, v1.ID), []*screen.RuleVersion{
		{Rule: v2, CreatedBy: 9, CreatedAt: at(3 * time.Minute)}, {Rule: v1, CreatedBy: 7, CreatedAt: at(time.Minute)}})

	// A version that does not follow the current one: someone else edited.
	audits := auditCount(t, s)
	for _, version := range []int{1, 2, 4} {
		r := v2
		r.Version, r.Name = version, "stale"
		wantCode(t, s.AddRuleVersion(ctx, r, 9, at(4*time.Minute)), parley.EConflict)
	}
	none := testRule("nothing-here", 2)
	wantCode(t, s.AddRuleVersion(ctx, none, 9, at(4*time.Minute)), parley.ENotFound)
	if got := findRuleT(t, s, v1.ID); got.Version != 2 || got.Name == "stale" {
		t.Fatalf("rule after refused edits = %+v", got)
	}
	if vs := ruleVersions(t, s, v1.ID); len(vs) != 2 {
		t.Fatalf("%d versions after refused edits, want 2", len(vs))
	}
	wantRuleChanges(t, s, audits, 0)

	// Of editors of one version at once, exactly one succeeds.
	errs := race(6, func(i int) error {
		r := v2
		r.Version, r.Name = 3, fmt.Sprintf("edit %d", i)
		return s.AddRuleVersion(t.Context(), r, int64(10+i), at(5*time.Minute))
	})
	w := oneWins(t, "concurrent AddRuleVersion", errs)
	if got := findRuleT(t, s, v1.ID); got.Version != 3 || got.Name != fmt.Sprintf("edit %d", w) || got.CreatedBy != int64(10+w) {
		t.Fatalf("rule after concurrent edits = %+v, want edit %d", got, w)
	}
	if vs := ruleVersions(t, s, v1.ID); len(vs) != 3 {
		t.Fatalf("%d versions after concurrent edits, want 3", len(vs))
	}
	wantRuleChanges(t, s, audits, 1)
}

func testRuleSetEnabled(t *testing.T, s Store) {
	ctx := t.Context()
	r := testRule("crypto-doubling", 1)
	must(t, s.CreateRule(ctx, r, 7, at(time.Minute)))
	takeEvents(t, s)

	must(t, s.SetRuleEnabled(ctx, r.ID, true, 8, at(2*time.Minute)))
	enabled := &screen.StoredRule{Rule: r, Enabled: true, CreatedBy: 7, UpdatedAt: at(2 * time.Minute)}
	sameJSON(t, "enabled rule", findRuleT(t, s, r.ID), enabled)
	wantRuleChange(t, s, takeEvents(t, s), screen.AuditRuleEnabled, r, true, 8, at(2*time.Minute))

	// Enabling an enabled rule changes nothing and writes nothing.
	audits := auditCount(t, s)
	must(t, s.SetRuleEnabled(ctx, r.ID, true, 9, at(3*time.Minute)))
	sameJSON(t, "rule enabled twice", findRuleT(t, s, r.ID), enabled)
	wantRuleChanges(t, s, audits, 0)

	must(t, s.SetRuleEnabled(ctx, r.ID, false, 9, at(4*time.Minute)))
	sameJSON(t, "disabled rule", findRuleT(t, s, r.ID), &screen.StoredRule{Rule: r, Enabled: false, CreatedBy: 7, UpdatedAt: at(4 * time.Minute)})
	wantRuleChange(t, s, takeEvents(t, s), screen.AuditRuleDisabled, r, false, 9, at(4*time.Minute))

	audits = auditCount(t, s)
	wantCode(t, s.SetRuleEnabled(ctx, "nothing-here", true, 9, at(5*time.Minute)), parley.ENotFound)
	wantRuleChanges(t, s, audits, 0)
}

func testRuleList(t *testing.T, s Store) {
	ctx := t.Context()
	if got, err := s.ListRules(ctx); err != nil || len(got) != 0 {
		t.Fatalf("rules of an empty store = %+v, %v", got, err)
	}
	for _, id := range []string{"b-rule", "a-rule", "c-rule"} {
		must(t, s.CreateRule(ctx, testRule(id, 1), 7, at(time.Minute)))
	}
	b2 := testRule("b-rule", 2)
	b2.Name = "second"
	must(t, s.AddRuleVersion(ctx, b2, 8, at(2*time.Minute)))
	must(t, s.SetRuleEnabled(ctx, "c-rule", true, 8, at(3*time.Minute)))
	got, err := s.ListRules(ctx)
	must(t, err)
	sameJSON(t, "ListRules", got, []*screen.StoredRule{
		{Rule: testRule("a-rule", 1), CreatedBy: 7, UpdatedAt: at(time.Minute)},
		{Rule: b2, CreatedBy: 8, UpdatedAt: at(2 * time.Minute)},
		{Rule: testRule("c-rule", 1), Enabled: true, CreatedBy: 7, UpdatedAt: at(3 * time.Minute)},
	})
}

// testRuleScanMessages: the stored posts a backtest or a re-screening
// reads, with the facts a rule's condition looks at.
func testRuleScanMessages(t *testing.T, s Store) {
	ctx := t.Context()
	if got, err := s.ScanMessages(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("messages of an empty store = %+v, %v", got, err)
	}
	owner, reader, late := newUser(t, s, "owner"), newUser(t, s, "reader"), newUser(t, s, "late")
	author := &parley.User{Username: "author", Role: parley.RoleMember, CreatedAt: at(-10 * 24 * time.Hour)}
	must(t, s.CreateUser(ctx, author))
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, author, parley.MemberRegular)
	join(t, s, g, reader, parley.MemberRegular)
	ch := newChannel(t, s, owner, "news", "News")
	join(t, s, ch, reader, parley.MemberRegular)
	direct := &parley.Chat{Kind: parley.ChatDirect, OwnerID: owner.ID, MemberLimit: 2, CreatedAt: t0}
	must(t, s.CreateChat(ctx, direct, author.ID))
	// ageDays is how old an account created at created was at posted.
	ageDays := func(u *parley.User, posted time.Duration) float64 { return at(posted).Sub(u.CreatedAt).Hours() / 24 }

	post(t, s, g, author, "one", at(10*time.Minute))
	post(t, s, direct, owner, "private", at(10*time.Minute))
	post(t, s, ch, owner, "news", at(30*time.Minute))
	gone := post(t, s, g, author, "deleted", at(35*time.Minute))
	_, err := s.DeleteMessage(ctx, g.ID, gone.Message.Seq, at(36*time.Minute))
	must(t, err)
	held, _ := holdPost(t, s, g, author, "held", at(40*time.Minute))
	removed := post(t, s, g, author, "removed", at(50*time.Minute)).Message
	apply(t, s, enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{Type: enforce.TargetMessage, ChatID: g.ID, Seq: removed.Seq}})
	join(t, s, g, late, parley.MemberRegular) // the count is the chat's now

	type scanned struct {
		chat, seq     int64
		kind          string
		members       int64
		ageDays       float64
		strikes       int
		held, removed bool
	}
	want := []scanned{
		{g.ID, 1, "group", 4, ageDays(author, 10*time.Minute), 1, false, false},
		{ch.ID, 1, "channel", 2, ageDays(owner, 30*time.Minute), 0, false, false},
		{g.ID, held.Seq, "group", 4, ageDays(author, 40*time.Minute), 1, true, false},
		{g.ID, removed.Seq, "group", 4, ageDays(author, 50*time.Minute), 1, false, true},
	}
	got, err := s.ScanMessages(ctx, 0, 0)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("scanned %d messages, want %d", len(got), len(want))
	}
	for i, sm := range got {
		m, c := sm.Message, sm.Context
		mod := m.Moderation
		have := scanned{m.ChatID, m.Seq, c.ChatKind, c.SubscriberCount, c.AccountAgeDays, c.Strikes,
			mod != nil && mod.Held != nil, mod != nil && mod.Removed != nil}
		if have != want[i] {
			t.Fatalf("scanned message %d = %+v, want %+v", i, have, want[i])
		}
		if i > 0 && m.ID <= got[i-1].Message.ID {
			t.Fatalf("scanned messages not in id order: %d after %d", m.ID, got[i-1].Message.ID)
		}
	}
	sameJSON(t, "a scanned message", got[0].Message, findMsg(t, s, g.ID, 1))

	page, err := s.ScanMessages(ctx, 0, 2)
	must(t, err)
	if len(page) != 2 || page[1].Message.ID != got[1].Message.ID {
		t.Fatalf("first page of 2 = %d messages", len(page))
	}
	page, err = s.ScanMessages(ctx, got[1].Message.ID, 10)
	must(t, err)
	ids := each(page, func(sm *screen.ScannedMessage) int64 { return sm.Message.ID })
	if want := []int64{got[2].Message.ID, got[3].Message.ID}; !slices.Equal(ids, want) {
		t.Fatalf("page after %d = %v, want %v", got[1].Message.ID, ids, want)
	}
}
