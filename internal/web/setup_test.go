package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/app"
)

// server is a real Parley process on a free loopback port, with its data in
// a temporary directory and its log kept for the tests to search.
type server struct {
	*app.App
	URL  string
	Logs *syncBuffer
}

// startServer starts the whole application, as cmd/parley would, and stops
// it when the test ends. Each option may change the configuration first.
func startServer(t *testing.T, opts ...func(*app.Config)) *server {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.SignInPerMinute = 6000 // tests sign many accounts up from one address
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.UserContact = "appeals@parley.example"
	cfg.CampaignMinMembers = 0 // the tests' groups are small; campaigns are looked for in all of them
	for _, o := range opts {
		o(&cfg)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		a.Close()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return &server{App: a, URL: a.URL(), Logs: logs}
}

// restart stops the server and starts it again on the same address with the
// same data, as an operator's restart would: connected clients lose their
// live connection and must resume.
func (s *server) restart(t *testing.T) {
	t.Helper()
	cfg := s.Config
	cfg.Addr = strings.TrimPrefix(s.URL, "http://")
	if err := s.Close(); err != nil {
		// A browser's idle pre-opened connections can outlast the graceful
		// shutdown's deadline; the restart goes on regardless.
		t.Logf("Close: %v", err)
	}
	a, err := app.New(context.Background(), cfg, s.Log)
	if err != nil {
		t.Fatalf("app.New after restart: %v", err)
	}
	if err := a.Start(); err != nil {
		a.Close()
		t.Fatalf("Start after restart: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	s.App = a
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write to
// while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// browser is a plain HTTP client with its own cookie jar that does not
// follow redirects, so tests see each POST-redirect-GET step.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, s *server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: s.URL, hc: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// page is one response, read in full.
type page struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	return &page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form the way a browser on this site does.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// postMultipart sends a form with a file, like the chat page's post form.
func (b *browser) postMultipart(path string, fields map[string]string, fileField, fileName string, file []byte) *page {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		if err != nil {
			b.t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.base+path, &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// signUp creates an account through the sign-up form and keeps its session.
func (b *browser) signUp(username string) {
	b.t.Helper()
	p := b.post("/signup", url.Values{"username": {username}, "password": {"correct horse battery"}, "display_name": {strings.ToUpper(username[:1]) + username[1:]}})
	if p.Status != http.StatusSeeOther || p.Location != "/chats" {
		b.t.Fatalf("sign up %s: status %d, location %q\n%s", username, p.Status, p.Location, p.Body)
	}
}

// wantStatus fails the test unless p has the given status.
func (p *page) wantStatus(t *testing.T, what string, status int) *page {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.Status, status, p.Body)
	}
	return p
}

// wantRedirect fails the test unless p redirects (303) to a location that
// starts with prefix, and returns the location.
func (p *page) wantRedirect(t *testing.T, what, prefix string) string {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, prefix) {
		t.Fatalf("%s: status %d location %q, want 303 to %s…\n%s", what, p.Status, p.Location, prefix, p.Body)
	}
	return p.Location
}

// contains fails the test unless the body contains each of the strings.
func (p *page) contains(t *testing.T, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.Body, s) {
			t.Errorf("%s: page does not contain %q\n%s", what, s, p.Body)
		}
	}
}

// lacks fails the test if the body contains any of the strings.
func (p *page) lacks(t *testing.T, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.Body, s) {
			t.Errorf("%s: page contains %q but must not", what, s)
		}
	}
}
