package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"parley"
	"parley/internal/app"
	"parley/internal/auth"
)

func TestSignUpSignInSignOut(t *testing.T) {
	s := start(t)
	alice := s.signUp(t, "alice")
	if alice.user.Username != "alice" || alice.user.Role != parley.RoleMember {
		t.Fatalf("new account = %+v; want member alice", alice.user)
	}

	var me parley.User
	alice.mustJSON(t, "GET", "/api/v1/me", nil, http.StatusOK, &me)
	if me.ID != alice.user.ID || me.Username != "alice" {
		t.Fatalf("/me = %+v; want alice", me)
	}
	_, raw := alice.do(t, "GET", "/api/v1/me", nil)
	if strings.Contains(string(raw), "password") || strings.Contains(string(raw), "argon2") {
		t.Fatalf("/me shows the password hash: %s", raw)
	}

	// Sign in again: a second, independent session.
	var in struct {
		Token string      `json:"token"`
		User  parley.User `json:"user"`
	}
	s.anon().mustJSON(t, "POST", "/api/v1/auth/signin", map[string]string{"username": "ALICE", "password": password}, http.StatusOK, &in)
	if in.Token == "" || in.Token == alice.token || in.User.ID != alice.user.ID {
		t.Fatalf("sign-in = %+v; want a new token for alice", in)
	}
	second := &client{s: s, token: in.Token, user: in.User}

	// Sign out ends that session only.
	resp, _ := second.do(t, "POST", "/api/v1/auth/signout", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out = %d; want 204", resp.StatusCode)
	}
	second.wantError(t, "GET", "/api/v1/me", nil, http.StatusUnauthorized, parley.EUnauthorized, "")
	second.wantError(t, "POST", "/api/v1/chats", map[string]any{"kind": "group", "title": "after sign-out"}, http.StatusUnauthorized, parley.EUnauthorized, "")
	alice.mustJSON(t, "GET", "/api/v1/me", nil, http.StatusOK, nil)

	// Wrong passwords and unknown accounts get the same answer.
	a := s.anon()
	e1 := a.wantError(t, "POST", "/api/v1/auth/signin", map[string]string{"username": "alice", "password": "wrong password!"}, http.StatusUnauthorized, parley.EUnauthorized, "")
	e2 := a.wantError(t, "POST", "/api/v1/auth/signin", map[string]string{"username": "nobody", "password": "wrong password!"}, http.StatusUnauthorized, parley.EUnauthorized, "")
	if e1 != e2 {
		t.Fatalf("wrong password %+v and unknown account %+v answer differently", e1, e2)
	}

	// Profile: display name and country; GET /users shows a public view.
	var updated parley.User
	alice.mustJSON(t, "PATCH", "/api/v1/me", map[string]any{"display_name": "Alice A.", "country": "de"}, http.StatusOK, &updated)
	if updated.DisplayName != "Alice A." || updated.Country != "DE" {
		t.Fatalf("profile after PATCH = %+v", updated)
	}
	alice.wantError(t, "PATCH", "/api/v1/me", map[string]any{"country": "XX"}, http.StatusBadRequest, parley.EInvalid, "country")
	alice.wantError(t, "PATCH", "/api/v1/me", map[string]any{"public_key": `{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"secret"}`}, http.StatusBadRequest, parley.EInvalid, "public_key")
	bob := s.signUp(t, "bob")
	var pub map[string]any
	bob.mustJSON(t, "GET", "/api/v1/users/alice", nil, http.StatusOK, &pub)
	if pub["display_name"] != "Alice A." {
		t.Fatalf("public profile = %v", pub)
	}
	for _, private := range []string{"password_hash", "role", "country", "created_at"} {
		if _, ok := pub[private]; ok {
			t.Errorf("public profile shows %s: %v", private, pub)
		}
	}
	bob.wantError(t, "GET", "/api/v1/users/nobody", nil, http.StatusNotFound, parley.ENotFound, "")
}

func TestSignUpValidation(t *testing.T) {
	s := start(t)
	s.signUp(t, "taken")
	a := s.anon()
	for _, tc := range []struct {
		name   string
		body   map[string]string
		status int
		code   string
		field  string
	}{
		{"taken username", map[string]string{"username": "taken", "password": password}, 409, parley.EConflict, ""},
		{"taken in another case", map[string]string{"username": "TAKEN", "password": password}, 409, parley.EConflict, ""},
		{"bad username", map[string]string{"username": "x y", "password": password}, 400, parley.EInvalid, "username"},
		{"short username", map[string]string{"username": "ab", "password": password}, 400, parley.EInvalid, "username"},
		{"short password", map[string]string{"username": "newbie", "password": "short"}, 400, parley.EInvalid, "password"},
		{"long password", map[string]string{"username": "newbie", "password": strings.Repeat("p", 300)}, 400, parley.EInvalid, "password"},
		{"bad country", map[string]string{"username": "newbie", "password": password, "country": "Atlantis"}, 400, parley.EInvalid, "country"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.wantError(t, "POST", "/api/v1/auth/signup", tc.body, tc.status, tc.code, tc.field)
		})
	}
	// None of the refused sign-ups made an account.
	a.wantError(t, "POST", "/api/v1/auth/signin", map[string]string{"username": "newbie", "password": password}, 401, parley.EUnauthorized, "")
}

// TestErrorBodies sends one request for each way a request can go wrong and
// checks the status and the one error body.
func TestErrorBodies(t *testing.T) {
	s := start(t)
	alice := s.signUp(t, "alice")
	g := alice.group(t, "Alice's group")
	msgs := fmt.Sprintf("/api/v1/chats/%d/messages", g.ID)
	bigText := `{"text":"` + strings.Repeat("a", 200<<10) + `"}`

	for _, tc := range []struct {
		name         string
		c            *client
		method, path string
		body         any
		status       int
		code, field  string
	}{
		{"invalid JSON", alice, "POST", msgs, `{"text": "unfinished`, 400, parley.EInvalid, ""},
		{"not JSON at all", alice, "POST", msgs, `text=hello`, 400, parley.EInvalid, ""},
		{"empty body", alice, "POST", msgs, ``, 400, parley.EInvalid, ""},
		{"two objects", alice, "POST", msgs, `{"text":"a"}{"text":"b"}`, 400, parley.EInvalid, ""},
		{"array, not object", alice, "POST", msgs, `[1,2]`, 400, parley.EInvalid, ""},
		{"unknown field", alice, "POST", msgs, `{"text":"hi","colour":"red"}`, 400, parley.EInvalid, "colour"},
		{"wrong type", alice, "POST", msgs, `{"text":42}`, 400, parley.EInvalid, "text"},
		{"wrong nested type", alice, "POST", msgs, `{"forward_from":{"chat_id":"one","seq":1}}`, 400, parley.EInvalid, "forward_from.chat_id"},
		{"oversized body", alice, "POST", msgs, bigText, 413, parley.ETooLarge, ""},
		{"oversized by trailing space", alice, "POST", msgs, `{"text":"hi"}` + strings.Repeat(" ", 200<<10), 413, parley.ETooLarge, ""},
		{"text too long", alice, "POST", msgs, map[string]string{"text": strings.Repeat("z", 4097)}, 400, parley.EInvalid, "text"},
		{"no auth", s.anon(), "GET", "/api/v1/chats", nil, 401, parley.EUnauthorized, ""},
		{"unknown token", &client{s: s, token: "not-a-real-token"}, "GET", "/api/v1/me", nil, 401, parley.EUnauthorized, ""},
		{"member calls admin", alice, "GET", "/api/v1/admin/users", nil, 403, parley.EForbidden, ""},
		{"member sets a role", alice, "PUT", fmt.Sprintf("/api/v1/admin/users/%d/role", alice.user.ID), map[string]string{"role": "admin"}, 403, parley.EForbidden, ""},
		{"unknown route", alice, "GET", "/api/v1/no/such/thing", nil, 404, parley.ENotFound, ""},
		{"unknown route, anonymous", s.anon(), "POST", "/api/v2/chats", nil, 404, parley.ENotFound, ""},
		{"unknown chat", alice, "GET", "/api/v1/chats/987654", nil, 404, parley.ENotFound, ""},
		{"bad chat id", alice, "GET", "/api/v1/chats/abc", nil, 400, parley.EInvalid, "chatID"},
		{"bad query number", alice, "GET", msgs + "?limit=lots", nil, 400, parley.EInvalid, "limit"},
		{"page too large", alice, "GET", msgs + "?limit=100000", nil, 400, parley.EInvalid, "limit"},
		{"unknown message", alice, "PATCH", msgs + "/55", map[string]string{"text": "x"}, 404, parley.ENotFound, ""},
		{"bad resume", alice, "GET", "/api/v1/live?resume=1:2:3", nil, 400, parley.EInvalid, "resume"},
		{"unknown channel", alice, "GET", "/api/v1/channels/nosuchchannel", nil, 404, parley.ENotFound, ""},
		{"unknown media", alice, "GET", "/media/" + strings.Repeat("0", 64), nil, 404, parley.ENotFound, ""},
		{"media path traversal", alice, "GET", "/media/..%2F..%2Fparley.db", nil, 404, parley.ENotFound, ""},
		{"media without auth", s.anon(), "GET", "/media/" + strings.Repeat("0", 64), nil, 401, parley.EUnauthorized, ""},
		{"invite too long", alice, "POST", fmt.Sprintf("/api/v1/chats/%d/invites", g.ID), map[string]int64{"expires_in_seconds": 1 << 40}, 400, parley.EInvalid, "expires_in_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.wantError(t, tc.method, tc.path, tc.body, tc.status, tc.code, tc.field)
		})
	}

	// A JSON body with another content type is refused, and so is the
	// 409 of a taken channel handle.
	resp, data := alice.do(t, "POST", "/api/v1/chats", `{"kind":"group","title":"x"}`, "Content-Type", "text/plain")
	checkError(t, "text/plain body", resp, data, 400, parley.EInvalid, "")
	alice.channel(t, "alices_news", "News")
	bob := s.signUp(t, "bob")
	bob.wantError(t, "POST", "/api/v1/chats", map[string]any{"kind": "channel", "handle": "Alices_News", "title": "Copy"}, 409, parley.EConflict, "")

	// Nothing above was an internal error.
	if strings.Contains(s.logs.String(), "internal error") {
		t.Fatalf("a bad request caused an internal error:\n%s", s.logs.String())
	}
}

// TestTypeErrorsNameTheField checks that a wrongly typed field is reported
// in words a client developer understands, not Go's type names.
func TestTypeErrorsNameTheField(t *testing.T) {
	s := start(t)
	alice := s.signUp(t, "alice")
	e := alice.wantError(t, "POST", "/api/v1/chats", `{"kind":"group","title":"t","member_limit":"many"}`, 400, parley.EInvalid, "member_limit")
	if strings.Contains(e.Message, "int64") {
		t.Errorf("message %q names a Go type", e.Message)
	}
	e = alice.wantError(t, "POST", "/api/v1/auth/signin", `["alice"]`, 400, parley.EInvalid, "")
	if strings.Contains(e.Message, "struct") || strings.Contains(e.Message, "api.") {
		t.Errorf("message %q names a Go type", e.Message)
	}
}

func TestSignInRateLimit(t *testing.T) {
	s := start(t, func(c *app.Config) { c.SignInPerMinute = 3 })
	a := s.anon()
	body := map[string]string{"username": "someone", "password": "guessing123"}
	for i := range 3 {
		resp, data := a.do(t, "POST", "/api/v1/auth/signin", body)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d %s; want 401 within the limit", i+1, resp.StatusCode, data)
		}
	}
	resp, data := a.do(t, "POST", "/api/v1/auth/signin", body)
	e := checkError(t, "fourth sign-in", resp, data, http.StatusTooManyRequests, parley.ERateLimited, "")
	if !strings.Contains(e.Message, "try again") {
		t.Errorf("rate-limit message %q does not say when to try again", e.Message)
	}
	// At 3 a minute the next attempt is allowed in about 20 seconds.
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 20 {
		t.Errorf("Retry-After = %q; want the seconds until the next attempt (1 to 20)", resp.Header.Get("Retry-After"))
	}
	// Sign-up shares the limit, so it cannot be used to keep the hasher busy.
	a.wantError(t, "POST", "/api/v1/auth/signup", map[string]string{"username": "fresh", "password": password}, http.StatusTooManyRequests, parley.ERateLimited, "")
}

func TestAdminChangesRoles(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	if _, err := s.app.Auth.CreateUser(ctx, auth.SignUpInput{Username: "root", Password: password}, parley.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	var in struct {
		Token string      `json:"token"`
		User  parley.User `json:"user"`
	}
	s.anon().mustJSON(t, "POST", "/api/v1/auth/signin", map[string]string{"username": "root", "password": password}, http.StatusOK, &in)
	admin := &client{s: s, token: in.Token, user: in.User}
	mod := s.signUp(t, "future_mod")

	var list struct {
		Users []parley.User `json:"users"`
	}
	admin.mustJSON(t, "GET", "/api/v1/admin/users?limit=10", nil, http.StatusOK, &list)
	if len(list.Users) != 2 {
		t.Fatalf("admin user list has %d users; want 2", len(list.Users))
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), "argon2") {
		t.Fatalf("the user list shows password hashes")
	}

	rolePath := fmt.Sprintf("/api/v1/admin/users/%d/role", mod.user.ID)
	resp, data := admin.do(t, "PUT", rolePath, map[string]string{"role": "moderator"})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("role change = %d %s; want 204", resp.StatusCode, data)
	}
	var me parley.User
	mod.mustJSON(t, "GET", "/api/v1/me", nil, http.StatusOK, &me)
	if me.Role != parley.RoleModerator {
		t.Fatalf("role after change = %s; want moderator", me.Role)
	}
	// A moderator is still not an admin.
	mod.wantError(t, "GET", "/api/v1/admin/users", nil, 403, parley.EForbidden, "")
	admin.wantError(t, "PUT", rolePath, map[string]string{"role": "king"}, 400, parley.EInvalid, "role")
	admin.wantError(t, "PUT", "/api/v1/admin/users/999999/role", map[string]string{"role": "member"}, 404, parley.ENotFound, "")
	admin.wantError(t, "PUT", fmt.Sprintf("/api/v1/admin/users/%d/role", admin.user.ID), map[string]string{"role": "member"}, 400, parley.EInvalid, "role")
	admin.wantError(t, "GET", "/api/v1/admin/users?limit=0", nil, 400, parley.EInvalid, "limit")

	// The role change is in the audit log, whose chain verifies; only
	// admins may read either.
	var log struct {
		Entries []parley.AuditEntry `json:"entries"`
	}
	admin.mustJSON(t, "GET", "/api/v1/admin/audit", nil, http.StatusOK, &log)
	if len(log.Entries) != 1 || log.Entries[0].Action != parley.AuditUserRoleChanged ||
		log.Entries[0].ActorID != admin.user.ID || log.Entries[0].TargetID != fmt.Sprint(mod.user.ID) {
		t.Fatalf("audit log = %+v; want the one role change by the admin", log.Entries)
	}
	var report struct {
		Entries int64 `json:"entries"`
		Intact  bool  `json:"intact"`
	}
	admin.mustJSON(t, "GET", "/api/v1/admin/audit/verify", nil, http.StatusOK, &report)
	if !report.Intact || report.Entries != 1 {
		t.Fatalf("audit verification = %+v; want intact with 1 entry", report)
	}
	// The whole walk, as 'parley audit verify' makes it, says the same.
	report.Intact, report.Entries = false, 0
	admin.mustJSON(t, "GET", "/api/v1/admin/audit/verify?all=true", nil, http.StatusOK, &report)
	if !report.Intact || report.Entries != 1 {
		t.Fatalf("whole audit verification = %+v; want intact with 1 entry", report)
	}
	admin.wantError(t, "GET", "/api/v1/admin/audit/verify?all=yes", nil, 400, parley.EInvalid, "")
	mod.wantError(t, "GET", "/api/v1/admin/audit", nil, 403, parley.EForbidden, "")
	mod.wantError(t, "GET", "/api/v1/admin/audit/verify", nil, 403, parley.EForbidden, "")
}

func TestHealthAndOpenAPI(t *testing.T) {
	s := start(t)
	a := s.anon()
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, data := a.do(t, "GET", path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s = %d %s", path, resp.StatusCode, data)
		}
	}
	var doc map[string]any
	a.mustJSON(t, "GET", "/api/v1/openapi.json", nil, http.StatusOK, &doc)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi.json has openapi %v", doc["openapi"])
	}
	resp, data := a.do(t, "GET", "/metrics", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), "parley_http_requests_total") {
		t.Fatalf("/metrics = %d, without the request counter", resp.StatusCode)
	}
}
