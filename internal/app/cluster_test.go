package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"parley/internal/app"
	"parley/internal/realtime"
	"parley/internal/stream"
)

// TestTwoProcessesShareTheStream runs two Parley processes on one database
// and one external NATS, as a deployment at scale does: a member connected
// to the second process receives, live and exactly once, every post made
// through the first.
func TestTwoProcessesShareTheStream(t *testing.T) {
	url := os.Getenv("PARLEY_TEST_NATS_URL")
	if url == "" {
		t.Skip("PARLEY_TEST_NATS_URL is not set; set it to a NATS server with JetStream (e.g. nats://127.0.0.1:4222) to run this test")
	}
	prefix := "cluster_" + randomHex(t)
	t.Cleanup(func() { deleteStream(t, url, prefix) })
	dir := t.TempDir()
	first := startApp(t, dir, url, prefix)
	second := startApp(t, dir, url, prefix)

	alice := signUp(t, first.URL(), "alice")
	bob := signUp(t, second.URL(), "bob")
	var channel struct{ ID int64 }
	call(t, first.URL(), alice, "POST", "/api/v1/chats", `{"kind":"channel","handle":"cluster_news","title":"Cluster News"}`, &channel)
	call(t, second.URL(), bob, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", channel.ID), ``, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(second.URL(), "http", "ws", 1)+"/api/v1/live",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + bob}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	readFrame(t, ctx, ws) // ready

	const posts = 20
	for i := 1; i <= posts; i++ {
		call(t, first.URL(), alice, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", channel.ID), fmt.Sprintf(`{"text":"post %d"}`, i), nil)
	}
	for i := 1; i <= posts; i++ {
		f := readFrame(t, ctx, ws)
		if f.Type != "update" || f.Update.Pts != int64(i) || f.Update.Message.Text != fmt.Sprintf("post %d", i) {
			t.Fatalf("frame %d: got %+v", i, f)
		}
	}
	// Nothing more: one more post marks the end, and the next frame must be
	// it. Events reach the socket in stream order, so a copy of an earlier
	// post stored in the stream before the marker would come first.
	call(t, first.URL(), alice, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", channel.ID), `{"text":"the end"}`, nil)
	if f := readFrame(t, ctx, ws); f.Type != "update" || f.Update.Pts != posts+1 || f.Update.Message.Text != "the end" {
		t.Fatalf("after the %d posts got %+v; want the end marker, pts %d", posts, f, posts+1)
	}
}

func startApp(t *testing.T, dir, natsURL, prefix string) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.NATSURL, cfg.NATSPrefix = "127.0.0.1:0", dir, natsURL, prefix
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func signUp(t *testing.T, base, name string) string {
	t.Helper()
	var out struct{ Token string }
	call(t, base, "", "POST", "/api/v1/auth/signup", fmt.Sprintf(`{"username":%q,"password":"correct horse battery"}`, name), &out)
	return out.Token
}

// call makes one API request and decodes the answer into out, failing the
// test on any status of 400 or more.
func call(t *testing.T, base, token, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

func readFrame(t *testing.T, ctx context.Context, ws *websocket.Conn) realtime.Frame {
	t.Helper()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var f realtime.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func deleteStream(t *testing.T, url, prefix string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Log(err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, stream.StreamName(prefix))
}
