package auth_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"parley"
	"parley/internal/auth"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

// newService is an account service on a fresh SQLite store, with a test
// clock and the cheapest password hashing.
func newService(t *testing.T) (*auth.Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &auth.Service{Store: db, Hasher: auth.NewHasher(2, auth.TestArgon2Params), Clock: testclock.New(), Log: slog.New(slog.DiscardHandler)}, db
}

// TestAccountLookupsAreForAdmins checks the role check in the service: the
// web pages and the API both rely on it.
func TestAccountLookupsAreForAdmins(t *testing.T) {
	ctx := t.Context()
	a, _ := newService(t)
	mk := func(name string, role parley.Role) *parley.User {
		u, err := a.CreateUser(ctx, auth.SignUpInput{Username: name, Password: "correct horse battery", DisplayName: name + " Display"}, role)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin, mod, member := mk("root", parley.RoleAdmin), mk("moddy", parley.RoleModerator), mk("member", parley.RoleMember)

	for _, actor := range []*parley.User{mod, member, nil} {
		if _, err := a.FindUsers(ctx, actor, "", 0, 10); parley.ErrorCode(err) != parley.EForbidden {
			t.Errorf("FindUsers by %v: %v; want forbidden", actor, err)
		}
		if _, err := a.UserForAdmin(ctx, actor, member.ID); parley.ErrorCode(err) != parley.EForbidden {
			t.Errorf("UserForAdmin by %v: %v; want forbidden", actor, err)
		}
		if actor != nil {
			if err := a.SetRole(ctx, actor, member.ID, parley.RoleModerator); parley.ErrorCode(err) != parley.EForbidden {
				t.Errorf("SetRole by %s: %v; want forbidden", actor.Username, err)
			}
		}
	}
	found, err := a.FindUsers(ctx, admin, " @MODD ", 0, 10)
	if err != nil || len(found) != 1 || found[0].ID != mod.ID {
		t.Fatalf("FindUsers(@MODD) = %v, %v; want the moderator", found, err)
	}
	if u, err := a.UserForAdmin(ctx, admin, member.ID); err != nil || u.Username != "member" {
		t.Fatalf("UserForAdmin = %v, %v", u, err)
	}
	if _, err := a.FindUsers(ctx, admin, "x", 0, 0); parley.ErrorField(err) != "limit" {
		t.Errorf("limit 0: %v; want an error on limit", err)
	}
}
