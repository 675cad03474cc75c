package bench

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPoster runs the lean client against net/http's server, outside the
// benchmark's gate: a 201 is success, another status an *APIError with the
// body, the connection is kept alive, and a connection the server closed is
// dialled again.
func TestPoster(t *testing.T) {
	var conns atomic.Int64
	var texts []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Text string }
		if r.Method != "POST" || r.URL.Path != "/api/v1/chats/7/messages" || r.Header.Get("Authorization") != "Bearer tok" ||
			r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		texts = append(texts, in.Text)
		if in.Text == "last" {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"seq":1}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p, err := NewPoster(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := t.Context()
	for _, text := range []string{"hello", `"quoted" and ünïcode`, "last"} {
		if err := p.Post(ctx, "tok", 7, text); err != nil {
			t.Fatalf("post %q: %v", text, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for three posts, want 1", n)
	}
	var apiErr *APIError
	if err := p.Post(ctx, "wrong", 7, "x"); !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Body, "bad request") {
		t.Fatalf("wrong token: %v, want an *APIError 400 with the body", err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections after the server closed one, want 2", n)
	}
	if got := strings.Join(texts, "|"); got != `hello|"quoted" and ünïcode|last` {
		t.Errorf("the server got %q", got)
	}
	if _, err := NewPoster("https://example.org"); err == nil {
		t.Error("NewPoster accepted https")
	}
}
