package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/safety/enforce"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the work of each browser in a test, after it has
// started. The work takes 5 to 10 seconds on an idle machine with two cores;
// the margin is for a machine busy with other tests.
const browserTimeout = 30 * time.Second

// chrome is one browser with its own profile, as a separate person would
// have: its own cookies, IndexedDB (so its own secret-chat keys) and tab.
type chrome struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string

	mu       sync.Mutex
	console  []string
	requests map[network.RequestID]string // id → URL, of every request the page made
	posted   [][]byte                     // bodies the browser sent
	frames   [][]byte                     // WebSocket frames, both ways
}

// newChrome starts a headless chromium with a fresh profile. The test is
// skipped, saying why, where chromium is not installed.
func newChrome(t *testing.T, name string, s *server) *chrome {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser tests need Debian's chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // the tests run as root, where chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Do starts the browser; its context must outlive the test's
	// deadline, so the browser is closed by cleanup, not by the timeout.
	if err := chromedp.Do(browserCtx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	ctx, cancel := context.WithTimeout(browserCtx, browserTimeout)
	t.Cleanup(cancel)
	c := &chrome{t: t, name: name, ctx: ctx, base: s.URL, requests: map[network.RequestID]string{}}
	c.record(browserCtx)
	return c
}

// record keeps the console messages and the network traffic of the tab, so
// tests can check for script errors and for what went over the wire.
func (c *chrome) record(ctx context.Context) {
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.console = append(c.console, fmt.Sprintf("%s: %s", m.Type, m))
			c.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.requests[ev.RequestID] = ev.Request.URL
			for _, e := range ev.Request.PostDataEntries {
				c.posted = append(c.posted, e.Bytes)
			}
			c.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, network.WebSocketFrameReceived) {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.frames = append(c.frames, ev.Response.PayloadData)
			c.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, network.WebSocketFrameSent) {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.frames = append(c.frames, ev.Response.PayloadData)
			c.mu.Unlock()
		}
	}()
}

// do runs browser steps, failing the test with the step's purpose.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.fail(what, err)
	}
}

func (c *chrome) fail(what string, err error) {
	c.t.Helper()
	c.mu.Lock()
	console := strings.Join(c.console, "\n")
	c.mu.Unlock()
	// The test's own deadline may have passed; read the page with a short one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 2*time.Second)
	defer cancel()
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	c.t.Fatalf("%s: %s: %v\nconsole:\n%s\npage:\n%s", c.name, what, err, console, html)
}

// waitJS waits until a JavaScript expression is true, without reloading.
func (c *chrome) waitJS(what, expr string, args ...any) {
	c.t.Helper()
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(12*time.Second),
		chromedp.WithPollingArgs(args...))); err != nil {
		c.fail(what, err)
	}
}

func (c *chrome) eval(what, expr string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		c.fail(what, err)
	}
	return v
}

func (c *chrome) location() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.fail("read location", err)
	}
	return strings.TrimPrefix(loc, c.base)
}

// signUp creates an account through the sign-up form and waits until the
// chat list is live and the browser has made and published its keys.
func (c *chrome) signUp(username string) {
	c.t.Helper()
	c.do("sign up "+username,
		chromedp.Navigate(c.base+"/signup"),
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.ID("f-display_name"), strings.ToUpper(username[:1])+username[1:]),
		chromedp.Click(chromedp.CSS(`form[action="/signup"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-live-list]")),
		chromedp.WaitReady(chromedp.CSS(`body[data-secret-ready="true"]`)),
	)
}

// noScriptErrors fails the test if a page threw, or the browser refused
// something under the Content-Security-Policy.
func (c *chrome) noScriptErrors() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.console {
		if strings.HasPrefix(m, "exception") || strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			c.t.Errorf("%s: console: %s", c.name, m)
		}
	}
}

func (c *chrome) screenshot(path string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		c.fail("screenshot", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot of %s's chat page: %s", c.name, path)
}

func TestBrowserChannelPostAppearsLive(t *testing.T) {
	s := startServer(t)
	ann := newChrome(t, "ann", s)
	ben := newChrome(t, "ben", s)
	ann.signUp("ann")
	ben.signUp("ben")

	// Ann creates a channel.
	ann.do("create channel",
		chromedp.Navigate(ann.base+"/channels/new"),
		chromedp.SendKeys(chromedp.ID("f-handle"), "harbour_news"),
		chromedp.SendKeys(chromedp.ID("f-title"), "Harbour News"),
		chromedp.SendKeys(chromedp.ID("f-description"), "Ships in, ships out."),
		chromedp.Click(chromedp.CSS(`form[action="/channels"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-live-chat][data-kind="channel"]`)),
	)
	chatPath := ann.location()

	// Ben finds it, subscribes, and keeps the page open; his chat list is
	// open in a second tab.
	ben.do("subscribe",
		chromedp.Navigate(ben.base+"/channels?q=harbour"),
		chromedp.Click(chromedp.CSS(`form[action="`+chatPath+`/subscribe"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="`+chatPath+`/leave"]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
	)
	benList, cancel := chromedp.NewContext(ben.ctx)
	defer cancel()
	listTab := &chrome{t: t, name: "ben's chat list", ctx: benList, base: s.URL, requests: map[network.RequestID]string{}}
	listTab.do("open chat list",
		chromedp.Navigate(s.URL+"/chats"),
		chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)),
	)

	// Ann posts; Ben sees the post appear without reloading.
	text := "Ferry delayed by fog " + randomHex(4)
	ann.do("post",
		chromedp.Navigate(ann.base+chatPath),
		chromedp.SendKeys(chromedp.ID("f-text"), text),
		chromedp.Click(chromedp.CSS(`#compose button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-1`)),
	)
	ben.waitJS("see the post live", `(() => { const m = document.querySelector("#m-1 .msg-text"); return !!m && m.textContent === arguments[0]; })()`, text)
	if got := ben.eval("same page", `String(window.__sameDocument === true)`); got != "true" {
		t.Fatalf("Ben's page reloaded; the post must arrive live")
	}
	// (Ben has the chat open in the other tab, so it is not marked new here;
	// the reconnect test checks the mark.)
	listTab.waitJS("chat list shows the post", `(() => {
		const li = document.querySelector(".chat-list li");
		return !!li && li.querySelector(".chat-item-name").textContent === "Harbour News" &&
			li.querySelector(".chat-preview").textContent.includes(arguments[0]);
	})()`, text)

	// Ann edits and then deletes a second post; Ben's page follows in place.
	ann.do("post again",
		chromedp.SendKeys(chromedp.ID("f-text"), "Tide at noon"),
		chromedp.Click(chromedp.CSS(`#compose button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-2`)),
		chromedp.Navigate(ann.base+chatPath+"/messages/2/edit"),
		chromedp.Clear(chromedp.ID("f-text")),
		chromedp.SendKeys(chromedp.ID("f-text"), "Tide at one"),
		chromedp.Click(chromedp.CSS(`form[action$="/edit"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-2 .msg-edited`)),
	)
	ben.waitJS("see the edit live", `(() => { const m = document.querySelector("#m-2"); return !!m && m.querySelector(".msg-text").textContent === "Tide at one" && !!m.querySelector(".msg-edited"); })()`)
	ben.screenshot("/tmp/parley-chat.png")
	ann.do("delete", chromedp.Click(chromedp.CSS(`form[action="`+chatPath+`/messages/2/delete"] button`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	ben.waitJS("see the deletion live", `!document.querySelector("#m-2") && !!document.querySelector("#m-1")`)
	if got := ben.eval("no duplicates", `String(document.querySelectorAll("#messages > li").length)`); got != "1" {
		t.Errorf("Ben's page shows %s messages, want 1", got)
	}
	if got := ben.eval("same page", `String(window.__sameDocument === true)`); got != "true" {
		t.Fatalf("Ben's page reloaded; updates must arrive live")
	}

	ann.noScriptErrors()
	ben.noScriptErrors()
}

func TestBrowserReconnectResumesWithoutGapsOrDuplicates(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	owner, err := s.Auth.CreateUser(ctx, auth.SignUpInput{Username: "lighthouse", Password: "correct horse battery"}, parley.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Messaging.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "beacon", Title: "Beacon"})
	if err != nil {
		t.Fatal(err)
	}
	post := func(text string) {
		t.Helper()
		if _, err := s.Messaging.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	post("one")

	reader := newChrome(t, "reader", s)
	reader.signUp("reader")
	chatPath := fmt.Sprintf("/chats/%d", ch.ID)
	reader.do("subscribe",
		chromedp.Navigate(reader.base+chatPath),
		chromedp.Click(chromedp.CSS(`form[action="`+chatPath+`/subscribe"] button`)),
		// Subscribed, the page offers to unsubscribe.
		chromedp.WaitVisible(chromedp.CSS(`form[action="`+chatPath+`/leave"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-1`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
	)
	post("two")
	reader.waitJS("see two live", `!!document.querySelector("#m-2")`)

	// The server restarts. The page notices, and while it waits to
	// reconnect, more is posted.
	reader.do("watch the connection", chromedp.Evaluate[chromedp.Void](`new MutationObserver(() => {
		if (document.body.dataset.live !== "open") window.__wentOffline = true;
	}).observe(document.body, {attributes: true, attributeFilter: ["data-live"]})`))
	s.restart(t)
	reader.waitJS("notice the lost connection", `window.__wentOffline === true`)
	post("three")
	post("four")
	reader.waitJS("resume after reconnecting", `document.body.dataset.live === "open" && !!document.querySelector("#m-4")`)
	post("five")
	reader.waitJS("live again", `!!document.querySelector("#m-5")`)
	got := reader.eval("messages", `[...document.querySelectorAll("#messages > li .msg-text")].map(e => e.textContent).join(",")`)
	if got != "one,two,three,four,five" {
		t.Errorf("reader's page shows %q, want each message once, in order", got)
	}
	if reader.eval("same page", `String(window.__sameDocument === true)`) != "true" {
		t.Errorf("the page reloaded; it must resume in place")
	}

	// On the chat list, a chat with a new message moves to the top and is
	// marked new.
	other, err := s.Messaging.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "quiet_one", Title: "Quiet"})
	if err != nil {
		t.Fatal(err)
	}
	reader.do("subscribe to another channel and open the list",
		chromedp.Navigate(reader.base+fmt.Sprintf("/chats/%d", other.ID)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/chats/%d/subscribe"] button`, other.ID))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form[action="/chats/%d/leave"]`, other.ID))),
		chromedp.Navigate(reader.base+"/chats"),
		chromedp.WaitVisible(chromedp.CSS(`.chat-list li:first-child[data-chat-id="`+fmt.Sprint(other.ID)+`"]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)),
	)
	post("six")
	reader.waitJS("chat list marks the chat", `(() => {
		const li = document.querySelector(".chat-list li");
		return li.dataset.chatId === arguments[0] && li.querySelector("[data-unread]").checkVisibility() &&
			li.classList.contains("is-unread") && li.querySelector(".chat-preview").textContent === "lighthouse: six";
	})()`, fmt.Sprint(ch.ID))
	reader.noScriptErrors()
}

func TestBrowserSecretChatRoundTrip(t *testing.T) {
	s := startServer(t)
	sara := newChrome(t, "sara", s)
	tom := newChrome(t, "tom", s)
	sara.signUp("sara")
	tom.signUp("tom")

	// Both browsers published a public key, and only a public key.
	for _, name := range []string{"sara", "tom"} {
		u, err := s.Auth.Store.FindUserByUsername(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		var jwk map[string]any
		if err := json.Unmarshal([]byte(u.PublicKey), &jwk); err != nil || jwk["crv"] != "P-256" || jwk["d"] != nil {
			t.Fatalf("%s's published key = %q, want a P-256 public JWK", name, u.PublicKey)
		}
	}

	sara.do("start secret chat",
		chromedp.Navigate(sara.base+"/secret/new"),
		chromedp.SendKeys(chromedp.ID("f-username"), "tom"),
		chromedp.Click(chromedp.CSS(`form[action="/secret"] button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-live-chat][data-kind="secret"][data-secret-key="ready"]`)),
	)
	chatPath := sara.location()
	tom.do("open secret chat",
		chromedp.Navigate(tom.base+chatPath),
		chromedp.WaitReady(chromedp.CSS(`[data-live-chat][data-secret-key="ready"]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)),
	)

	plaintext := "Meet at the lighthouse, 21:00 — " + randomHex(6)
	sara.do("send secret message",
		chromedp.SendKeys(chromedp.ID("secret-text"), plaintext),
		chromedp.Click(chromedp.CSS(`[data-secret-send]`)),
	)
	shown := `[...document.querySelectorAll('#messages li[data-decrypted="true"] .msg-text')].some(e => e.textContent === arguments[0])`
	sara.waitJS("sender sees her message", shown, plaintext)
	tom.waitJS("recipient sees the decrypted message live", shown, plaintext)

	// Reloaded, the history arrives as ciphertext and is decrypted again.
	tom.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`#m-1[data-decrypted]`)))
	tom.waitJS("recipient decrypts history", shown, plaintext)
	tom.screenshot("/tmp/parley-secret.png")

	// Tom replies; Sara reads it.
	reply := "On my way " + randomHex(6)
	tom.do("reply", chromedp.SendKeys(chromedp.ID("secret-text"), reply), chromedp.Click(chromedp.CSS(`[data-secret-send]`)))
	sara.waitJS("sender reads the reply", shown, reply)

	// The plaintext is nowhere on the server's side.
	secrets := [][]byte{[]byte(plaintext), []byte(reply)}
	sawCiphertext := false
	history := s.apiGet(t, tom, "/api/v1"+chatPath+"/messages")
	var body struct {
		Messages []struct {
			Ciphertext string `json:"ciphertext"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(history), &body); err != nil || len(body.Messages) != 2 || body.Messages[0].Ciphertext == "" {
		t.Fatalf("history = %s, want two ciphertext messages", history)
	}
	err := filepath.WalkDir(s.Config.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, secret := range secrets {
			if bytes.Contains(data, secret) {
				t.Errorf("the plaintext of a secret message is in %s", path)
			}
		}
		if bytes.Contains(data, []byte(body.Messages[0].Ciphertext)) {
			sawCiphertext = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawCiphertext {
		t.Errorf("the ciphertext was not found in the data directory either; the search looked in the wrong place")
	}
	for _, secret := range secrets {
		if strings.Contains(s.Logs.String(), string(secret)) {
			t.Errorf("the plaintext of a secret message is in the server log")
		}
		if page := s.apiGet(t, tom, chatPath); strings.Contains(page, string(secret)) || !strings.Contains(page, "data-ciphertext=") {
			t.Errorf("the rendered secret chat page holds the plaintext, or no ciphertext")
		}
		if strings.Contains(history, string(secret)) {
			t.Errorf("the API history holds the plaintext")
		}
	}
	for _, c := range []*chrome{sara, tom} {
		c.checkTraffic(secrets)
		c.noScriptErrors()
	}
}

// checkTraffic fails the test if a secret appears in anything the browser
// sent or received: request bodies, response bodies, WebSocket frames.
func (c *chrome) checkTraffic(secrets [][]byte) {
	c.t.Helper()
	c.mu.Lock()
	requests := make(map[network.RequestID]string, len(c.requests))
	for id, u := range c.requests {
		requests[id] = u
	}
	blobs := append(append([][]byte{}, c.posted...), c.frames...)
	c.mu.Unlock()
	if len(c.frames) == 0 {
		c.t.Errorf("%s: recorded no WebSocket frames; the recording is broken", c.name)
	}
	responses := 0
	for id, u := range requests {
		res, err := chromedp.Call(c.ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
		if err != nil {
			continue // a redirect, or a body the browser no longer keeps
		}
		responses++
		for _, secret := range secrets {
			if bytes.Contains(res.Body, secret) {
				c.t.Errorf("%s: the response of %s holds the plaintext of a secret message", c.name, u)
			}
		}
	}
	if responses == 0 {
		c.t.Errorf("%s: read no response bodies; the recording is broken", c.name)
	}
	for _, b := range blobs {
		for _, secret := range secrets {
			if bytes.Contains(b, secret) {
				c.t.Errorf("%s: the plaintext of a secret message went over the wire: %.200s", c.name, b)
			}
		}
	}
}

// apiGet fetches a path from outside the browser with the browser's session
// cookie, to see exactly what the server sends.
func (s *server) apiGet(t *testing.T, c *chrome, path string) string {
	t.Helper()
	res, err := chromedp.Call(c.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	for _, ck := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestBrowserModerationAppearsLive has a moderator act on a channel while
// its owner and a subscriber have it open: a removed post loses its content
// and shows the notice (the owner's with a link to the statement), a label
// appears beside a post, age-restricted content hides behind a button, and
// a ban puts a banner over the channel and stops the owner's composer until
// it is restored. Nothing reloads.
func TestBrowserModerationAppearsLive(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	mod := s.moderator(t)
	ann := newChrome(t, "ann", s)
	ben := newChrome(t, "ben", s)
	ann.signUp("ann")
	ben.signUp("ben")
	owner, err := s.Auth.Store.FindUserByUsername(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Messaging.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "night_market", Title: "Night Market"})
	if err != nil {
		t.Fatal(err)
	}
	scam := "Double your coins tonight " + randomHex(4)
	for _, text := range []string{scam, "The harbour is closed for good", "Photos of the crash"} {
		if _, err := s.Messaging.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	chatPath := fmt.Sprintf("/chats/%d", ch.ID)
	ben.do("subscribe",
		chromedp.Navigate(ben.base+chatPath),
		chromedp.Click(chromedp.CSS(`form[action="`+chatPath+`/subscribe"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="`+chatPath+`/leave"]`)),
	)
	for _, c := range []*chrome{ann, ben} {
		c.do("open the channel",
			chromedp.Navigate(c.base+chatPath),
			chromedp.WaitVisible(chromedp.CSS(`#m-3`)),
			chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)),
			chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
		)
	}

	msg := func(seq int64) enforce.Target {
		return enforce.Target{Type: enforce.TargetMessage, ChatID: ch.ID, Seq: seq}
	}
	removal := s.act(t, mod, enforce.Request{Kind: enforce.RemoveMessage, Target: msg(1), Grounds: scamGrounds})
	removed := `(() => {
		const m = document.querySelector("#m-1");
		const n = m && m.querySelector(".notice");
		return !!n && n.textContent.startsWith("This message was removed: Scams and fraud.") && !m.textContent.includes(arguments[0]);
	})()`
	ben.waitJS("see the removal live", removed, scam)
	ann.waitJS("see the removal live", removed, scam)
	if got := ben.eval("no statement for others", `String(!!document.querySelector('#m-1 a[href^="/statements/"]'))`); got != "false" {
		t.Errorf("a subscriber is offered the author's statement")
	}
	ann.waitJS("the author is pointed at the statement", `!!document.querySelector('#m-1 .notice a[href="/statements/`+fmt.Sprint(removal.ID)+`"]')`)
	ben.waitJS("announce the notice", `document.querySelector("[data-live-announce]").textContent.includes("Message 1: This message was removed")`)

	s.act(t, mod, enforce.Request{Kind: enforce.LabelMessage, Target: msg(2), Label: "Disputed claim", Grounds: scamGrounds})
	ben.waitJS("see the label", `(() => { const l = document.querySelector("#m-2 .msg-meta .label"); return !!l && l.textContent === "Disputed claim" && document.querySelector("#m-2 .msg-text").textContent === "The harbour is closed for good"; })()`)

	s.act(t, mod, enforce.Request{Kind: enforce.AgeRestrictMessage, Target: msg(3), Grounds: scamGrounds})
	ben.waitJS("age-restricted content is hidden", `(() => { const t = document.querySelector("#m-3 details.age-gate .msg-text"); return !!t && !t.checkVisibility(); })()`)
	ben.do("reveal it with the keyboard", chromedp.Focus(chromedp.CSS(`#m-3 details.age-gate > summary`)), chromedp.KeyEvent("\r"))
	ben.waitJS("revealed", `document.querySelector("#m-3 details.age-gate").open && document.querySelector("#m-3 .msg-text").checkVisibility()`)

	ban := s.act(t, mod, enforce.Request{Kind: enforce.BanChat, Target: enforce.Target{Type: enforce.TargetChat, ChatID: ch.ID}, Grounds: scamGrounds})
	banner := `(() => { const n = document.querySelector("[data-chat-notice] .notice"); return !!n && n.textContent.startsWith("This channel was banned: Scams and fraud."); })()`
	ben.waitJS("see the ban", banner)
	ann.waitJS("see the ban", banner)
	ann.waitJS("the owner's composer stops", `document.querySelector("#compose textarea").disabled && document.querySelector("#compose button[type=submit]").disabled &&
		!!document.querySelector('[data-chat-notice] a[href="/statements/`+fmt.Sprint(ban.ID)+`"]')`)
	ann.screenshot("/tmp/parley-banned.png")
	if _, err := s.Enforce.Restore(ctx, mod, ban.ID, "appeal upheld"); err != nil {
		t.Fatal(err)
	}
	ann.waitJS("the ban is lifted", `!document.querySelector("[data-chat-notice] .notice") && !document.querySelector("#compose textarea").disabled`)
	ben.waitJS("the ban is lifted", `!document.querySelector("[data-chat-notice] .notice")`)
	if _, err := s.Messaging.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: "Open again"}); err != nil {
		t.Fatal(err)
	}
	ben.waitJS("posts flow again", `!!document.querySelector("#m-4") && document.querySelectorAll("#messages > li").length === 4`)
	for _, c := range []*chrome{ann, ben} {
		if got := c.eval("same page", `String(window.__sameDocument === true)`); got != "true" {
			t.Errorf("%s's page reloaded; moderation must arrive live", c.name)
		}
	}
	ben.screenshot("/tmp/parley-moderation.png")

	// Reloaded, the page renders the same from the server.
	ben.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#m-4`)))
	ben.waitJS("the notice after a reload", removed, scam)
	ben.waitJS("still hidden after a reload", `!document.querySelector("#m-3 details.age-gate").open && !document.querySelector("#m-3 .msg-text").checkVisibility()`)
	ann.noScriptErrors()
	ben.noScriptErrors()
}
