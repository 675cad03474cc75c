package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// accessLine waits for the access log line of a request, the one whose
// text matches re, and returns it. The line is written once the handler
// returns, which may be just after the client has read the answer.
func (s *server) accessLine(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(line, "msg=request ") && rx.MatchString(line) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access log line matching %q in:\n%s", re, tail(s.logs.String(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAccessLog checks the access log: one line per request at info with
// the method, path, status, bytes, duration, the account and the proxy's
// request id; health checks and metrics at debug; and nothing that grants
// access (the bearer token, the session cookie, invite tokens in a path or
// a query string).
func TestAccessLog(t *testing.T) {
	s := start(t)
	alice, bob := s.signUp(t, "alice"), s.signUp(t, "bob")

	resp, body := alice.do(t, "GET", "/api/v1/me", nil, "X-Request-Id", "req-7f3a")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/me = %d", resp.StatusCode)
	}
	line := s.accessLine(t, `path=/api/v1/me .*request_id=req-7f3a`)
	for _, want := range []string{"level=INFO", "method=GET", "status=200", fmt.Sprintf("bytes=%d", len(body)),
		"dur=", fmt.Sprintf("user=%d", alice.user.ID)} {
		if !strings.Contains(line, want) {
			t.Errorf("access line %q lacks %q", line, want)
		}
	}
	s.anon().do(t, "GET", "/api/v1/me", nil, "X-Request-Id", "has spaces in it")
	if line := s.accessLine(t, `path=/api/v1/me status=401`); strings.Contains(line, "user=") || strings.Contains(line, "request_id") {
		t.Errorf("anonymous request with a bad request id logged as %q; want neither account nor id", line)
	}

	// An invite token is the invitation: not in the path, nor in a query.
	g := alice.group(t, "Club")
	token := alice.invite(t, g.ID, bob)
	s.accessLine(t, fmt.Sprintf(`method=POST path=/api/v1/invites/\{token\}/join status=200 .*user=%d`, bob.user.ID))
	web := &http.Client{Jar: nil}
	resp, err := web.Get(s.url + "/join/" + url.PathEscape(token) + "?next=" + url.QueryEscape("/x?token="+token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.accessLine(t, `method=GET path=/join/\{token\} `)
	resp, err = web.Get(s.url + "/api/v1/live?resume=1:0&token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.accessLine(t, `method=GET path=/api/v1/live status=401`)

	// A web session: its cookie is not logged either.
	cookie := s.webSignIn(t, "alice")
	req, _ := http.NewRequest("GET", s.url+"/chats", nil)
	req.AddCookie(cookie)
	if resp, err = noRedirects.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.accessLine(t, fmt.Sprintf(`method=GET path=/chats status=200 .*user=%d`, alice.user.ID))

	// Health checks and metrics are logged at debug, not info.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		s.anon().do(t, "GET", path, nil)
		if line := s.accessLine(t, `path=`+path+` `); !strings.Contains(line, "level=DEBUG") {
			t.Errorf("access line %q; want level=DEBUG", line)
		}
	}

	// Every line above is written: nothing that grants access is in the log.
	logs := s.logs.String()
	for what, secret := range map[string]string{"alice's bearer token": alice.token, "bob's bearer token": bob.token,
		"the invite token": token, "the session cookie": cookie.Value} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %s", what)
		}
	}
	if strings.Contains(logs, "Authorization") || strings.Contains(logs, "parley_session=") {
		t.Errorf("the log holds a request header it must not")
	}
}
