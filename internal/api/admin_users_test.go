package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"parley"
	"parley/internal/auth"
)

// TestAdminFindsUsers searches accounts through the API by part of a
// username or display name; only admins may.
func TestAdminFindsUsers(t *testing.T) {
	s := start(t)
	if _, err := s.app.Auth.CreateUser(context.Background(), auth.SignUpInput{Username: "root", Password: password}, parley.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	var in struct {
		Token string `json:"token"`
	}
	s.anon().mustJSON(t, "POST", "/api/v1/auth/signin", map[string]string{"username": "root", "password": password}, http.StatusOK, &in)
	admin := &client{s: s, token: in.Token}
	grace := s.signUp(t, "ghopper")
	grace.mustJSON(t, "PATCH", "/api/v1/me", map[string]string{"display_name": "Grace Hopper"}, http.StatusOK, nil)
	s.signUp(t, "alan")

	find := func(q string) []string {
		t.Helper()
		var list struct {
			Users []parley.User `json:"users"`
		}
		admin.mustJSON(t, "GET", "/api/v1/admin/users?q="+url.QueryEscape(q), nil, http.StatusOK, &list)
		var names []string
		for _, u := range list.Users {
			names = append(names, u.Username)
		}
		return names
	}
	for q, want := range map[string]string{"HOPPER": "ghopper", "@ghop": "ghopper", "ala": "alan", "": "root,ghopper,alan", "nobody": ""} {
		if got := strings.Join(find(q), ","); got != want {
			t.Errorf("q=%q found %q, want %q", q, got, want)
		}
	}
	admin.wantError(t, "GET", "/api/v1/admin/users?q="+strings.Repeat("x", 65), nil, 400, parley.EInvalid, "q")
	grace.wantError(t, "GET", "/api/v1/admin/users?q=alan", nil, 403, parley.EForbidden, "")
}
