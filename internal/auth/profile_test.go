package auth_test

import (
	"testing"

	"parley"
	"parley/internal/auth"
)

// TestDisplayNameIsCleaned checks that a display name, at sign-up and on a
// profile change, loses control characters, line breaks and direction
// overrides (parley.CleanLine) instead of being stored with them, and that
// a name of nothing else falls back to the username.
func TestDisplayNameIsCleaned(t *testing.T) {
	ctx := t.Context()
	a, db := newService(t)

	u, _, _, err := a.SignUp(ctx, auth.SignUpInput{Username: "mallory", Password: "correct horse battery", DisplayName: "Mal\x00lory\u202e\x1b\nAdmin"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "Mallory Admin" {
		t.Errorf("display name at sign-up = %q, want %q", u.DisplayName, "Mallory Admin")
	}
	for _, c := range []struct{ in, want string }{
		{"\u2067מלורי", "\u2067מלורי\u2069"},
		{"\t\x07\u202d", "mallory"},
	} {
		in := c.in
		got, err := a.UpdateProfile(ctx, u, auth.ProfileInput{DisplayName: &in})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := db.FindUserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != c.want || stored.DisplayName != c.want {
			t.Errorf("display name %q became %q (stored %q), want %q", c.in, got.DisplayName, stored.DisplayName, c.want)
		}
	}
	bad := "bad \xff"
	_, err = a.UpdateProfile(ctx, u, auth.ProfileInput{DisplayName: &bad})
	if parley.ErrorField(err) != "display_name" {
		t.Errorf("invalid UTF-8: %v; want an error on display_name", err)
	}
}
