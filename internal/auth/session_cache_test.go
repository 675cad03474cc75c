package auth_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"parley"
	"parley/internal/auth"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

// twoProcesses returns two account services on one database, as two
// server processes would be, sharing one clock.
func twoProcesses(t *testing.T) (a, b *auth.Service, clock *testclock.Clock) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock = testclock.At(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	hasher := auth.NewHasher(2, auth.TestArgon2Params)
	mk := func() *auth.Service {
		return &auth.Service{Store: db, Hasher: hasher, Clock: clock, Log: slog.New(slog.DiscardHandler)}
	}
	return mk(), mk(), clock
}

func TestSessionCacheSignOutHereTakesEffectAtOnce(t *testing.T) {
	a, _, _ := twoProcesses(t)
	ctx := t.Context()
	_, token, _, err := a.SignUp(ctx, auth.SignUpInput{Username: "alice", Password: "correct horse battery"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	_, sess, err := a.Authenticate(ctx, token) // now cached
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SignOut(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, token); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Fatalf("Authenticate right after signing out here = %v, want unauthorized", err)
	}
}

func TestSessionCacheRoleAndProfileChangesHereTakeEffectAtOnce(t *testing.T) {
	a, _, _ := twoProcesses(t)
	ctx := t.Context()
	admin, err := a.CreateUser(ctx, auth.SignUpInput{Username: "root", Password: "correct horse battery"}, parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	u, token, _, err := a.SignUp(ctx, auth.SignUpInput{Username: "mona", Password: "correct horse battery"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if err := a.SetRole(ctx, admin, u.ID, parley.RoleModerator); err != nil {
		t.Fatal(err)
	}
	got, _, err := a.Authenticate(ctx, token)
	if err != nil || got.Role != parley.RoleModerator {
		t.Fatalf("role right after the change = %v, %v; want moderator", got, err)
	}
	name := "Mona M."
	if _, err := a.UpdateProfile(ctx, got, auth.ProfileInput{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	if got, _, err = a.Authenticate(ctx, token); err != nil || got.DisplayName != name {
		t.Fatalf("display name right after the change = %v, %v; want %q", got, err, name)
	}
}

func TestSessionCacheChangesElsewhereTakeEffectWithinTTL(t *testing.T) {
	a, b, clock := twoProcesses(t)
	ctx := t.Context()
	_, token, _, err := a.SignUp(ctx, auth.SignUpInput{Username: "bob", Password: "correct horse battery"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	// The other process signs the session out.
	_, sess, err := b.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SignOut(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Authenticate(ctx, token); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Fatalf("the process that signed out still accepts the token: %v", err)
	}
	// This process may trust what it read for up to the TTL, never longer.
	clock.Advance(auth.DefaultSessionCacheTTL)
	if _, _, err := a.Authenticate(ctx, token); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Fatalf("Authenticate a TTL after signing out elsewhere = %v, want unauthorized", err)
	}
}

func TestSessionCacheNeverOutlivesTheSession(t *testing.T) {
	a, _, clock := twoProcesses(t)
	ctx := t.Context()
	_, token, sess, err := a.SignUp(ctx, auth.SignUpInput{Username: "carl", Password: "correct horse battery"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(sess.ExpiresAt.Sub(clock.Now()) - time.Millisecond)
	if _, _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatalf("session a millisecond before it expires: %v", err)
	}
	clock.Advance(time.Millisecond)
	if _, _, err := a.Authenticate(ctx, token); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Fatalf("cached session after it expired = %v, want unauthorized", err)
	}
}

func TestSessionCacheDisabled(t *testing.T) {
	a, b, _ := twoProcesses(t)
	a.SessionCacheTTL = -1
	ctx := t.Context()
	_, token, _, err := a.SignUp(ctx, auth.SignUpInput{Username: "dora", Password: "correct horse battery"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, sess, _ := b.Authenticate(ctx, token)
	if err := b.SignOut(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, token); parley.ErrorCode(err) != parley.EUnauthorized {
		t.Fatalf("with the cache off, a sign-out elsewhere = %v, want unauthorized at once", err)
	}
}

// countingStore is the real store, counting the reads of a session.
type countingStore struct {
	auth.Store
	reads int
}

func (s *countingStore) FindSessionWithUser(ctx context.Context, hash []byte) (*parley.Session, *parley.User, error) {
	s.reads++
	return s.Store.FindSessionWithUser(ctx, hash)
}

// TestSessionCacheReadsOncePerTTL: the point of the cache, a session read
// once serves the requests of the next TTL, and is read again after it.
func TestSessionCacheReadsOncePerTTL(t *testing.T) {
	a, _, clock := twoProcesses(t)
	store := &countingStore{Store: a.Store}
	a.Store = store
	ctx := t.Context()
	_, token, _, err := a.SignUp(ctx, auth.SignUpInput{Username: "erin", Password: "correct horse battery"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := a.Authenticate(ctx, token); err != nil {
			t.Fatal(err)
		}
		clock.Advance(auth.DefaultSessionCacheTTL / 4)
	}
	if store.reads != 1 {
		t.Fatalf("three requests within the TTL read the session %d times; want once", store.reads)
	}
	clock.Advance(auth.DefaultSessionCacheTTL)
	if _, _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if store.reads != 2 {
		t.Fatalf("a request after the TTL: %d reads in all; want 2", store.reads)
	}
}
