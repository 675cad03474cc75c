package auth_test

import (
	"fmt"
	"testing"
	"time"

	"parley"
	"parley/internal/auth"
	"parley/internal/testclock"
)

// The sweep deletes every expired session however many there are (more
// than one page of them), and no session that is still valid.
func TestSweepSessionsDeletesEveryExpiredOne(t *testing.T) {
	ctx := t.Context()
	a, db := newService(t)
	clock := a.Clock.(*testclock.Clock)
	u, err := a.CreateUser(ctx, auth.SignUpInput{Username: "sweepme", Password: "correct horse battery"}, parley.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	const expired = 1203 // two full pages and part of a third
	for i := range expired {
		s := &parley.Session{TokenHash: []byte(fmt.Sprintf("old-%d", i)), UserID: u.ID, Kind: "web",
			CreatedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-time.Duration(i+1) * time.Second)}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	_, token, _, err := a.SignIn(ctx, "sweepme", "correct horse battery", "web")
	if err != nil {
		t.Fatal(err)
	}
	n, err := a.SweepSessions(ctx)
	if err != nil || n != expired {
		t.Fatalf("SweepSessions = %d, %v; want %d", n, err, expired)
	}
	if _, err := db.FindSessionByTokenHash(ctx, []byte("old-0")); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("an expired session is still there: %v", err)
	}
	if _, _, err := a.Authenticate(ctx, token); err != nil {
		t.Errorf("the valid session no longer works after the sweep: %v", err)
	}
	if n, err := a.SweepSessions(ctx); err != nil || n != 0 {
		t.Errorf("a second sweep = %d, %v; want nothing to delete", n, err)
	}
}
