package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/app"
	"parley/internal/auth"
)

// logBuffer collects the server's logs; the server writes from many
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is the real Parley server, on a free loopback port, with its data
// in a temporary directory.
type server struct {
	app     *app.App
	url     string
	dataDir string
	logs    *logBuffer
}

// start runs a server. Each option may change the configuration first.
// Passwords are hashed with the cheapest argon2id settings so that tests
// can sign many accounts up; everything else is the production wiring.
func start(t *testing.T, opts ...func(*app.Config)) *server {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.LogLevel = "debug"
	cfg.SignInPerMinute = 10_000 // only the rate-limit test lowers it
	cfg.ShutdownTimeout = 5 * time.Second
	for _, o := range opts {
		o(&cfg)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a.Auth.Hasher = auth.NewHasher(2, auth.TestArgon2Params)
	if err := a.Start(); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", tail(logs.String(), 4000))
		}
	})
	return &server{app: a, url: a.URL(), dataDir: cfg.DataDir, logs: logs}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// client is a signed-in account talking to the server with a bearer token.
type client struct {
	s     *server
	token string
	user  parley.User
}

const password = "correct horse battery"

// signUp makes an account through the API and returns its client.
func (s *server) signUp(t *testing.T, username string) *client {
	t.Helper()
	var out struct {
		User  parley.User `json:"user"`
		Token string      `json:"token"`
	}
	anon := &client{s: s}
	anon.mustJSON(t, "POST", "/api/v1/auth/signup", map[string]string{"username": username, "password": password}, http.StatusCreated, &out)
	if out.Token == "" || out.User.ID == 0 {
		t.Fatalf("sign-up answer has no token or user: %+v", out)
	}
	return &client{s: s, token: out.Token, user: out.User}
}

// anon returns a client that is not signed in.
func (s *server) anon() *client { return &client{s: s} }

// do sends a request. body is sent as is when it is []byte or string, and
// as JSON otherwise (nil sends no body).
func (c *client) do(t *testing.T, method, path string, body any, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp, data
}

// mustJSON sends a request, checks the status and decodes the answer into
// out (when not nil).
func (c *client) mustJSON(t *testing.T, method, path string, body any, status int, out any) {
	t.Helper()
	resp, data := c.do(t, method, path, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d %s; want %d", method, path, resp.StatusCode, data, status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: answer %s: %v", method, path, data, err)
		}
	}
}

// apiError is the one error body, decoded strictly.
type apiError struct {
	Code    string
	Message string
	Field   string
}

// checkError fails unless the answer is the API's one error body with the
// given status, code and (when not empty) field, and nothing else in it.
func checkError(t *testing.T, what string, resp *http.Response, data []byte, status int, code, field string) apiError {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d %s; want %d", what, resp.StatusCode, data, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q; want JSON", what, ct)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("%s: body %s is not the error body: %v", what, data, err)
	}
	e, ok := body["error"]
	if !ok || len(body) != 1 {
		t.Fatalf("%s: body %s; want exactly {\"error\": ...}", what, data)
	}
	var got apiError
	for k, v := range e {
		s, isString := v.(string)
		if !isString {
			t.Fatalf("%s: error.%s is %T; want a string", what, k, v)
		}
		switch k {
		case "code":
			got.Code = s
		case "message":
			got.Message = s
		case "field":
			got.Field = s
		default:
			t.Fatalf("%s: unexpected key error.%s in %s", what, k, data)
		}
	}
	if got.Message == "" {
		t.Fatalf("%s: error body %s has no message", what, data)
	}
	if got.Code != code {
		t.Fatalf("%s: code %q (%s); want %q", what, got.Code, got.Message, code)
	}
	if field != "" && got.Field != field {
		t.Fatalf("%s: field %q (%s); want %q", what, got.Field, got.Message, field)
	}
	return got
}

// wantError sends a request and checks that it fails as described.
func (c *client) wantError(t *testing.T, method, path string, body any, status int, code, field string) apiError {
	t.Helper()
	resp, data := c.do(t, method, path, body)
	return checkError(t, fmt.Sprintf("%s %s", method, path), resp, data, status, code, field)
}

// createChat makes a chat through the API.
func (c *client) createChat(t *testing.T, in map[string]any) *parley.Chat {
	t.Helper()
	var chat parley.Chat
	c.mustJSON(t, "POST", "/api/v1/chats", in, http.StatusCreated, &chat)
	return &chat
}

func (c *client) channel(t *testing.T, handle, title string) *parley.Chat {
	t.Helper()
	return c.createChat(t, map[string]any{"kind": "channel", "handle": handle, "title": title})
}

func (c *client) group(t *testing.T, title string) *parley.Chat {
	t.Helper()
	return c.createChat(t, map[string]any{"kind": "group", "title": title})
}

func (c *client) post(t *testing.T, chatID int64, body any) *parley.Message {
	t.Helper()
	if s, ok := body.(string); ok {
		body = map[string]any{"text": s}
	}
	var m parley.Message
	c.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", chatID), body, http.StatusCreated, &m)
	return &m
}

func (c *client) history(t *testing.T, chatID int64) []*parley.Message {
	t.Helper()
	var out struct {
		Messages []*parley.Message `json:"messages"`
	}
	c.mustJSON(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages?limit=200", chatID), nil, http.StatusOK, &out)
	return out.Messages
}

// invite makes an invite link to a group and has each of members join.
func (c *client) invite(t *testing.T, chatID int64, members ...*client) string {
	t.Helper()
	var inv parley.Invite
	c.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/invites", chatID), map[string]any{}, http.StatusCreated, &inv)
	for _, m := range members {
		m.mustJSON(t, "POST", "/api/v1/invites/"+inv.Token+"/join", nil, http.StatusOK, nil)
	}
	return inv.Token
}
