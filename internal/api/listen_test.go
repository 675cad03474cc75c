package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"parley/internal/app"
)

// get fetches a URL with an optional Authorization header.
func get(t *testing.T, u, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// noRedirects is a client that shows each redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// webSignIn signs an account in through the web form and returns the
// session cookie the server set.
func (s *server) webSignIn(t *testing.T, username string) *http.Cookie {
	t.Helper()
	resp, err := noRedirects.PostForm(s.url+"/signin", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			return c
		}
	}
	t.Fatalf("web sign-in of %s set no session cookie (status %d)", username, resp.StatusCode)
	return nil
}

// TestMetricsOnTheirOwnAddress checks that with -metrics-addr the public
// port refuses /metrics and the metrics address serves them.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	s := start(t, func(c *app.Config) { c.MetricsAddr = "127.0.0.1:0" })
	if status, _ := get(t, s.url+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("public port: /metrics = %d, want 404", status)
	}
	mu := s.app.MetricsURL()
	if mu == "" || strings.HasPrefix(mu, s.url) {
		t.Fatalf("MetricsURL = %q, want an address apart from %s", mu, s.url)
	}
	if status, body := get(t, mu, ""); status != http.StatusOK || !strings.Contains(body, "parley_http_requests_total") {
		t.Errorf("metrics address: %d, without the request counter", status)
	}
}

// TestMetricsToken checks that with -metrics-token /metrics asks for the
// token: refused without it or with another, served with it.
func TestMetricsToken(t *testing.T) {
	const token = "scrape-me-9f8e7d6c5b4a"
	s := start(t, func(c *app.Config) { c.MetricsToken = token })
	for _, auth := range []string{"", "Bearer wrong-token-of-some-length", "Basic " + token, token} {
		status, body := get(t, s.url+"/metrics", auth)
		if status != http.StatusUnauthorized || strings.Contains(body, "parley_") {
			t.Errorf("/metrics with Authorization %q = %d; want 401 and no metrics", auth, status)
		}
	}
	if status, body := get(t, s.url+"/metrics", "Bearer "+token); status != http.StatusOK || !strings.Contains(body, "parley_http_requests_total") {
		t.Errorf("/metrics with the token = %d, without the request counter", status)
	}
}

// TestSessionCookieSecureFlag signs in through the web form and reads the
// session cookie's attributes: on the loopback test server it is not
// Secure by default (the demo works over http://127.0.0.1), and it is with
// -secure-cookies=true.
func TestSessionCookieSecureFlag(t *testing.T) {
	for _, c := range []struct {
		flag   string
		secure bool
	}{{"auto", false}, {"true", true}} {
		s := start(t, func(cfg *app.Config) { cfg.SecureCookies = c.flag })
		s.signUp(t, "walker")
		session := s.webSignIn(t, "walker")
		if session.Secure != c.secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
			t.Errorf("-secure-cookies=%s: cookie Secure=%v HttpOnly=%v SameSite=%v; want Secure=%v, HttpOnly, Lax",
				c.flag, session.Secure, session.HttpOnly, session.SameSite, c.secure)
		}
	}
}
