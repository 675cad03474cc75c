package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/internal/app"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/safety/enforce"
	"parley/internal/stream"
)

// runApp starts the real server on a free port with its data in dir. It is
// closed when the test ends (closing twice is harmless).
func runApp(t *testing.T, dir string) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.CampaignMinMembers = 0 // as the demo command runs it: its groups are small
	cfg.ShutdownTimeout = 5 * time.Second
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.Auth.Hasher = auth.NewHasher(2, auth.TestArgon2Params)
	if err := a.Start(); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func get(t *testing.T, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// waitRelayed waits until the outbox relay has published every event.
func waitRelayed(t *testing.T, a *app.App) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := a.DB.CountPendingEvents(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still in the outbox after 5s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestartKeepsEverything stops the server and starts it again on the
// same data directory: accounts, sessions, chats, messages, images and the
// event stream are all still there, and numbering carries on.
func TestRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := runApp(t, dir)
	alice, token, _, err := a.Auth.SignUp(ctx, auth.SignUpInput{Username: "alice", Password: "long enough password"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.Messaging.CreateChat(ctx, alice, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Kept"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"one", "two", "three"} {
		if _, err := a.Messaging.PostMessage(ctx, alice, g.ID, messaging.PostInput{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	m := image.NewNRGBA(image.Rect(0, 0, 30, 20))
	m.SetNRGBA(3, 4, color.NRGBA{200, 10, 10, 255})
	png.Encode(&buf, m)
	img, err := a.Messaging.UploadImage(ctx, alice, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	waitRelayed(t, a)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b := runApp(t, dir)
	u, _, err := b.Auth.Authenticate(ctx, token)
	if err != nil || u.ID != alice.ID {
		t.Fatalf("alice's session after a restart: %v, %v", u, err)
	}
	if _, _, _, err := b.Auth.SignIn(ctx, "alice", "long enough password", "api"); err != nil {
		t.Fatalf("signing in after a restart: %v", err)
	}
	msgs, err := b.Messaging.History(ctx, alice, g.ID, 0, 10)
	if err != nil || len(msgs) != 3 || msgs[0].Text != "three" || msgs[2].Text != "one" {
		t.Fatalf("history after a restart = %v, %v", msgs, err)
	}
	up, err := b.Messaging.PostMessage(ctx, alice, g.ID, messaging.PostInput{Text: "four"})
	if err != nil || up.Message.Seq != 4 || up.Pts != 4 {
		t.Fatalf("post after a restart = %+v, %v; want seq and pts 4", up, err)
	}
	resp, data := get(t, b.URL()+"/media/"+img.ID, token)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, buf.Bytes()) {
		t.Fatalf("image after a restart = %d, %d bytes", resp.StatusCode, len(data))
	}

	// The embedded event stream kept the events of before the restart.
	var mu sync.Mutex
	var texts []string
	stop, err := b.Stream.SubscribeFrom(ctx, "chat.>", 1, func(m stream.Message) {
		var u parley.Update
		if err := json.Unmarshal(m.Data, &u); err == nil {
			mu.Lock()
			texts = append(texts, u.Message.Text)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(texts, ",")
		mu.Unlock()
		if got == "one,two,three,four" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream after a restart has %q; want one,two,three,four", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCloseEndsLiveConnections checks that a graceful shutdown does not
// wait for WebSocket clients, which would never leave on their own.
func TestCloseEndsLiveConnections(t *testing.T) {
	ctx := context.Background()
	a := runApp(t, t.TempDir())
	_, token, _, err := a.Auth.SignUp(ctx, auth.SignUpInput{Username: "alice", Password: "long enough password"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, strings.Replace(a.URL(), "http", "ws", 1)+"/api/v1/live",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, data, err := ws.Read(dctx); err != nil || !strings.Contains(string(data), "ready") {
		t.Fatalf("first frame = %s, %v", data, err)
	}
	began := time.Now()
	if err := a.Close(); err != nil {
		t.Fatalf("Close with a live client: %v", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("Close took %v with one live client", d)
	}
	if _, _, err := ws.Read(dctx); err == nil {
		t.Fatal("the live connection is still open after Close")
	}
}

func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	a := runApp(t, t.TempDir())
	accounts, err := app.SeedDemo(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[parley.Role]bool{}
	for _, acc := range accounts {
		u, _, _, err := a.Auth.SignIn(ctx, acc.Username, acc.Password, "web")
		if err != nil {
			t.Fatalf("demo account %s cannot sign in with its printed password: %v", acc.Username, err)
		}
		if u.Role != acc.Role {
			t.Fatalf("demo account %s has role %s; printed %s", acc.Username, u.Role, acc.Role)
		}
		roles[u.Role] = true
	}
	for _, r := range []parley.Role{parley.RoleMember, parley.RoleModerator, parley.RoleLegalOfficer, parley.RoleAdmin} {
		if !roles[r] {
			t.Errorf("no demo account with role %s", r)
		}
	}
	found, err := a.Messaging.SearchChannels(ctx, nil, "", 10)
	if err != nil || len(found) < 2 {
		t.Fatalf("demo channels = %d, %v; want at least 2", len(found), err)
	}
	// The trust & safety side is there to explore: a stopped upload and a
	// held post in the queue, a removal, a withholding, and a campaign.
	mod, err := a.Auth.Store.FindUserByUsername(ctx, "moderator")
	if err != nil {
		t.Fatal(err)
	}
	cases, open, err := a.Review.Queue(ctx, mod, 10)
	if err != nil || open != 2 {
		t.Fatalf("demo review queue = %+v (%d open), %v; want a stopped upload and a held post", cases, open, err)
	}
	acts, err := a.Enforce.List(ctx, mod, enforce.Filter{})
	if err != nil || len(acts) != 3 {
		t.Fatalf("demo actions = %d, %v; want a blocked upload, a removal and a withholding", len(acts), err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		camps, err := a.Campaigns.List(ctx, mod, "", 10)
		if err == nil && len(camps) == 1 && camps[0].Accounts == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no demo campaign of three accounts: %+v, %v", camps, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Seeding again gives new passwords and makes no second world.
	again, err := app.SeedDemo(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := a.Auth.SignIn(ctx, again[0].Username, again[0].Password, "web"); err != nil {
		t.Fatalf("new demo password does not work: %v", err)
	}
	if _, _, _, err := a.Auth.SignIn(ctx, accounts[0].Username, accounts[0].Password, "web"); err == nil && accounts[0].Password != again[0].Password {
		t.Fatal("the old demo password still works after seeding again")
	}
	if n, _ := a.Messaging.SearchChannels(ctx, nil, "", 10); len(n) != len(found) {
		t.Fatalf("seeding twice made %d channels; want %d", len(n), len(found))
	}
}

func TestConfigValidate(t *testing.T) {
	ok := app.DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, change := range map[string]func(*app.Config){
		"no address":        func(c *app.Config) { c.Addr = "" },
		"no data dir":       func(c *app.Config) { c.DataDir = "" },
		"postgres url":      func(c *app.Config) { c.DatabaseURL = "postgres://db/parley" },
		"bad log level":     func(c *app.Config) { c.LogLevel = "loud" },
		"bad log format":    func(c *app.Config) { c.LogFormat = "xml" },
		"tiny image limit":  func(c *app.Config) { c.MaxImageBytes = 10 },
		"tiny pixel limit":  func(c *app.Config) { c.MaxImagePixels = 10 },
		"zero sign-in rate": func(c *app.Config) { c.SignInPerMinute = 0 },
	} {
		c := app.DefaultConfig()
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
		if c.Addr == "" || c.DataDir == "" {
			continue
		}
		c.Addr, c.DataDir = "127.0.0.1:0", t.TempDir()
		if a, err := app.New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
			a.Close()
			t.Errorf("%s: New started with an invalid configuration", name)
		}
	}
}

func TestConfigFlagsOverrideEnvironment(t *testing.T) {
	t.Setenv("PARLEY_ADDR", "0.0.0.0:9999")
	t.Setenv("PARLEY_DATA_DIR", "/from/env")
	t.Setenv("PARLEY_MAX_IMAGE_BYTES", "2048")
	t.Setenv("PARLEY_SECURE_COOKIES", "true")
	c := app.DefaultConfig()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs)
	if err := fs.Parse([]string{"-addr", "127.0.0.1:7000", "-shutdown-timeout", "3s"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || c.DataDir != "/from/env" || c.MaxImageBytes != 2048 || c.SecureCookies != "true" || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("config = %+v; want the flag's address, the rest from the environment", c)
	}
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	if !strings.Contains(help.String(), "PARLEY_DATA_DIR") {
		t.Fatalf("--help does not name the environment variables:\n%s", help.String())
	}
}
