package review_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/sor"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

func screening(decision string, category sor.Category) *parley.Screening {
	m := parley.ScreeningMatch{Source: parley.MatchRule, SourceID: "r", Decision: decision, Category: string(category)}
	return &parley.Screening{Decision: decision, Matches: []parley.ScreeningMatch{m}, By: &m}
}

// The decision asked for comes first, then how grave the category is.
func TestPriorityOrdersByDecisionThenGravity(t *testing.T) {
	order := []*parley.Screening{
		screening(parley.ScreenBlock, sor.CategoryProtectionOfMinors),
		screening(parley.ScreenBlock, sor.CategoryOtherViolationTC),
		screening(parley.ScreenHold, sor.CategoryProtectionOfMinors),
		screening(parley.ScreenHold, sor.CategoryScamsAndFraud),
		screening(parley.ScreenHold, sor.CategoryOtherViolationTC),
		screening(parley.ScreenLabel, sor.CategoryViolence),
	}
	for i := 1; i < len(order); i++ {
		a, b := review.Priority(order[i-1]), review.Priority(order[i])
		if a <= b {
			t.Errorf("Priority(%s %s) = %d, not above Priority(%s %s) = %d",
				order[i-1].Decision, order[i-1].By.Category, a, order[i].Decision, order[i].By.Category, b)
		}
	}
	if p := review.Priority(nil); p != 0 {
		t.Errorf("Priority(nil) = %d, want 0", p)
	}
	if p := review.Priority(&parley.Screening{}); p != 0 {
		t.Errorf("Priority(no match) = %d, want 0", p)
	}
}

func TestQueueSortsItselfAndChecksRoles(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := testclock.At(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	svc := &review.Service{Store: db, Enforce: &enforce.Service{Store: db, Clock: clock, Namespace: "test"}, Clock: clock}

	mk := func(name string, role parley.Role) *parley.User {
		u := &parley.User{Username: name, Role: parley.RoleMember, Country: "FR", CreatedAt: clock.Now()}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if role != parley.RoleMember {
			if err := db.SetUserRole(ctx, 0, u.ID, role, clock.Now()); err != nil {
				t.Fatal(err)
			}
			u.Role = role
		}
		return u
	}
	mod, member := mk("mod", parley.RoleModerator), mk("member", parley.RoleMember)

	// Three flagged images, opened least urgent first and at different times.
	open := func(id string, sc *parley.Screening, at time.Duration) *review.Case {
		c := &review.Case{Kind: review.KindFlaggedMedia, TargetType: review.TargetMedia, TargetID: id,
			UserID: member.ID, Priority: review.Priority(sc), Screening: sc, CreatedAt: clock.Now().Add(at)}
		if err := db.OpenCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	spam := open("spam", screening(parley.ScreenHold, sor.CategoryOtherViolationTC), 0)
	older := open("minors-older", screening(parley.ScreenHold, sor.CategoryProtectionOfMinors), time.Minute)
	newer := open("minors-newer", screening(parley.ScreenHold, sor.CategoryProtectionOfMinors), 2*time.Minute)

	if _, _, err := svc.Queue(ctx, member, 10); parley.ErrorCode(err) != parley.EForbidden {
		t.Fatalf("a member reading the queue: %v, want forbidden", err)
	}
	if err := svc.Approve(ctx, member, spam.ID); parley.ErrorCode(err) != parley.EForbidden {
		t.Fatalf("a member deciding a case: %v, want forbidden", err)
	}
	queue, n, err := svc.Queue(ctx, mod, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(queue) != 3 {
		t.Fatalf("queue has %d of %d open, want 3 of 3", len(queue), n)
	}
	want := []string{older.TargetID, newer.TargetID, spam.TargetID}
	for i, c := range queue {
		if c.TargetID != want[i] {
			t.Fatalf("queue[%d] = %s, want %s (most urgent first, then oldest)", i, c.TargetID, want[i])
		}
	}

	// A decision that does not fit the case is refused and leaves it open.
	if err := svc.ConfirmBlock(ctx, mod, spam.ID); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("confirming an upload block on a flagged image: %v, want conflict", err)
	}
	if err := svc.Approve(ctx, mod, spam.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Approve(ctx, mod, spam.ID); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("deciding a decided case again: %v, want conflict", err)
	}
	got, err := svc.Find(ctx, mod, spam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != review.StatusDecided || got.Decision != review.DecisionApproved || got.DecidedBy != mod.ID || got.DecidedAt == nil {
		t.Fatalf("decided case = %+v, want approved by the moderator with a time", got)
	}
	if _, n, _ := svc.Queue(ctx, mod, 10); n != 2 {
		t.Fatalf("%d open after one decision, want 2", n)
	}
	decided, err := svc.Decided(ctx, mod, 10)
	if err != nil || len(decided) != 1 || decided[0].ID != spam.ID {
		t.Fatalf("decided = %v, %v; want the approved case", decided, err)
	}
}
