package web_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
)

func TestSignUpGoesToChats(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)

	p := b.post("/signup", url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "display_name": {"Alice A."}, "country": {"de"}})
	p.wantRedirect(t, "sign up", "/chats")
	var session *http.Cookie
	for _, c := range b.hc.Jar.Cookies(mustURL(t, s.URL)) {
		if c.Name == "parley_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("sign up set no session cookie")
	}

	chats := b.get("/chats").wantStatus(t, "chat list", http.StatusOK)
	chats.contains(t, "chat list", "<h1>Chats</h1>", "Welcome to Parley, alice.", `data-user-id="`, "No chats yet")
	if csp := chats.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want script-src 'self' and no unsafe-inline", csp)
	}
	// The notice is shown once.
	b.get("/chats").lacks(t, "chat list again", "Welcome to Parley")

	// The profile kept the country, upper-cased.
	b.get("/profile").contains(t, "profile", `value="Alice A."`, `value="DE"`)

	// Signing out ends the session.
	b.post("/signout", nil).wantRedirect(t, "sign out", "/signin")
	b.get("/chats").wantRedirect(t, "chats after sign-out", "/signin?next=%2Fchats")
}

func TestSignUpFormShowsFieldErrorsAndKeepsInput(t *testing.T) {
	s := startServer(t)
	newBrowser(t, s).signUp("taken_name")

	tests := []struct {
		name               string
		username, password string
		country            string
		status             int
		field, message     string
	}{
		{"short password", "bob_2", "short", "", http.StatusBadRequest, "password", "password must be at least 10 characters"},
		{"bad username", "2bob", "correct horse battery", "", http.StatusBadRequest, "username", "username must be 3 to 32 letters"},
		{"taken username", "taken_name", "correct horse battery", "", http.StatusConflict, "username", "taken"},
		{"unknown country", "bob_3", "correct horse battery", "XX", http.StatusBadRequest, "country", "ISO 3166-1 alpha-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, s)
			p := b.post("/signup", url.Values{"username": {tc.username}, "password": {tc.password}, "display_name": {"Kept Name"}, "country": {tc.country}})
			p.wantStatus(t, "sign up", tc.status)
			errRE := regexp.MustCompile(`<p class="field-error" id="f-` + tc.field + `-error">.*` + regexp.QuoteMeta(tc.message))
			if !errRE.MatchString(p.Body) {
				t.Errorf("no error %q next to field %s\n%s", tc.message, tc.field, p.Body)
			}
			p.contains(t, "sign up", `value="`+tc.username+`"`, `value="Kept Name"`, `aria-invalid="true"`,
				`aria-describedby="f-`+tc.field+`-hint f-`+tc.field+`-error"`)
			p.lacks(t, "sign up", `value="`+tc.password+`"`) // a password is never sent back
		})
	}
}

func TestSignInWithWrongPasswordKeepsUsername(t *testing.T) {
	s := startServer(t)
	newBrowser(t, s).signUp("carol")
	b := newBrowser(t, s)
	p := b.post("/signin", url.Values{"username": {"carol"}, "password": {"wrong password!"}, "next": {"/channels"}})
	p.wantStatus(t, "sign in", http.StatusUnauthorized)
	p.contains(t, "sign in", "wrong username or password", `value="carol"`, `name="next" value="/channels"`)

	p = b.post("/signin", url.Values{"username": {"carol"}, "password": {"correct horse battery"}, "next": {"/channels"}})
	p.wantRedirect(t, "sign in", "/channels")
	// A next that leads off the site is ignored.
	b2 := newBrowser(t, s)
	b2.post("/signin", url.Values{"username": {"carol"}, "password": {"correct horse battery"}, "next": {"//evil.example/"}}).
		wantRedirect(t, "sign in with foreign next", "/chats")
}

func TestChannelFormErrorsKeepInput(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signUp("owner")
	b.post("/channels", url.Values{"handle": {"city_news"}, "title": {"City News"}}).wantRedirect(t, "create channel", "/chats/")

	p := b.post("/channels", url.Values{"handle": {"x!"}, "title": {"My Title"}, "description": {"About <things>"}})
	p.wantStatus(t, "bad handle", http.StatusBadRequest)
	p.contains(t, "bad handle", `id="f-handle-error"`, "handle must be 5 to 32", `value="x!"`, `value="My Title"`, "About &lt;things&gt;</textarea>")

	p = b.post("/channels", url.Values{"handle": {"@City_News"}, "title": {"Again"}})
	p.wantStatus(t, "taken handle", http.StatusConflict)
	p.contains(t, "taken handle", `id="f-handle-error"`, "is taken", `value="Again"`)

	p = b.post("/groups", url.Values{"title": {""}, "member_limit": {"lots"}})
	p.wantStatus(t, "bad group", http.StatusBadRequest)
	p.contains(t, "bad group", `id="f-member_limit-error"`, `value="lots"`)
}

func TestPrivateChatsAreNotFoundForOutsiders(t *testing.T) {
	s := startServer(t)
	alice, bob, carol := newBrowser(t, s), newBrowser(t, s), newBrowser(t, s)
	alice.signUp("alice")
	bob.signUp("bob")
	carol.signUp("carol")

	group := alice.post("/groups", url.Values{"title": {"Family"}}).wantRedirect(t, "create group", "/chats/")
	alice.postMultipart(group+"/messages", map[string]string{"text": "the family secret"}, "", "", nil).wantRedirect(t, "post", group)
	direct := alice.post("/direct", url.Values{"username": {"carol"}}).wantRedirect(t, "direct chat", "/chats/")
	alice.postMultipart(direct+"/messages", map[string]string{"text": "just between us"}, "", "", nil).wantRedirect(t, "post", direct)

	alice.get(group).wantStatus(t, "member reads group", http.StatusOK).contains(t, "group", "the family secret")
	carol.get(direct).wantStatus(t, "peer reads direct chat", http.StatusOK).contains(t, "direct", "just between us")

	for _, path := range []string{group, direct} {
		p := bob.get(path).wantStatus(t, "outsider reads "+path, http.StatusNotFound)
		p.contains(t, "outsider", "<h1>Not found</h1>")
		p.lacks(t, "outsider", "the family secret", "just between us", "Family")
		bob.postMultipart(path+"/messages", map[string]string{"text": "let me in"}, "", "", nil).wantStatus(t, "outsider posts", http.StatusNotFound)
		bob.get(path+"/messages/1/forward").wantStatus(t, "outsider forwards", http.StatusNotFound)
	}
	bob.get(group+"/invites").wantStatus(t, "outsider manages invites", http.StatusNotFound)

	// A channel, by contrast, is public.
	ch := alice.post("/channels", url.Values{"handle": {"public_news"}, "title": {"Public News"}}).wantRedirect(t, "channel", "/chats/")
	bob.get(ch).wantStatus(t, "outsider reads channel", http.StatusOK).contains(t, "channel", "Subscribe</button>")
}

func TestPostEditDeleteAndReply(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signUp("writer")
	chat := b.post("/groups", url.Values{"title": {"Notes"}}).wantRedirect(t, "group", "/chats/")

	p := b.postMultipart(chat+"/messages", map[string]string{"text": ""}, "", "", nil)
	p.wantStatus(t, "empty post", http.StatusBadRequest)
	p.contains(t, "empty post", `id="f-text-error"`, "a message needs text or an image")

	long := strings.Repeat("é", parley.MaxMessageRunes+1)
	p = b.postMultipart(chat+"/messages", map[string]string{"text": long}, "", "", nil)
	p.wantStatus(t, "long post", http.StatusBadRequest)
	p.contains(t, "long post", "the limit is 4096", long+"</textarea>")

	b.postMultipart(chat+"/messages", map[string]string{"text": "first <draft>"}, "", "", nil).wantRedirect(t, "post", chat+"#m-1")
	b.postMultipart(chat+"/messages", map[string]string{"text": "an answer", "reply_to_seq": "1"}, "", "", nil).wantRedirect(t, "reply", chat+"#m-2")
	p = b.get(chat).wantStatus(t, "chat", http.StatusOK)
	p.contains(t, "chat", "first &lt;draft&gt;", `href="#m-1">In reply to message 1: “<bdi>first &lt;draft&gt;</bdi>”`, `data-pts="2"`)

	p = b.get(chat+"?reply=2").wantStatus(t, "reply form", http.StatusOK)
	p.contains(t, "reply form", `name="reply_to_seq" value="2"`, "Replying to <bdi>Writer</bdi>: “<bdi>an answer</bdi>”")

	edit := chat + "/messages/1/edit"
	b.get(edit).wantStatus(t, "edit form", http.StatusOK).contains(t, "edit form", "first &lt;draft&gt;</textarea>")
	b.post(edit, url.Values{"text": {strings.Repeat("x", 5000)}}).wantStatus(t, "bad edit", http.StatusBadRequest).
		contains(t, "bad edit", `id="f-text-error"`)
	b.post(edit, url.Values{"text": {"first, final"}}).wantRedirect(t, "edit", chat+"#m-1")
	b.get(chat).contains(t, "edited chat", "first, final", `<span class="msg-edited">edited</span>`)

	b.post(chat+"/messages/1/delete", nil).wantRedirect(t, "delete", chat)
	b.get(chat).lacks(t, "after delete", "first, final", `id="m-1"`)

	// Someone else's message cannot be edited.
	other := newBrowser(t, s)
	other.signUp("other")
	other.get(edit).wantStatus(t, "outsider edit", http.StatusNotFound)
}

func TestImagePostShowsThumbnail(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signUp("painter")
	chat := b.post("/channels", url.Values{"handle": {"paintings"}, "title": {"Paintings"}}).wantRedirect(t, "channel", "/chats/")

	p := b.postMultipart(chat+"/messages", map[string]string{"text": "kept caption"}, "image", "bad.png", []byte("not an image"))
	p.wantStatus(t, "bad image", http.StatusBadRequest)
	p.contains(t, "bad image", `id="f-image-error"`, "unsupported image format", "Choose the image again.", "kept caption</textarea>")

	huge := make([]byte, s.Config.MaxImageBytes+100<<10)
	p = b.postMultipart(chat+"/messages", map[string]string{"text": "too big"}, "image", "huge.png", huge)
	p.wantStatus(t, "huge image", http.StatusBadRequest)
	p.contains(t, "huge image", `id="f-image-error"`, "the image is larger than 10 MB")

	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b.postMultipart(chat+"/messages", map[string]string{"text": "sunset"}, "image", "sunset.png", buf.Bytes()).wantRedirect(t, "image post", chat)
	p = b.get(chat).wantStatus(t, "chat", http.StatusOK)
	m := regexp.MustCompile(`<a class="msg-image" href="/media/([0-9a-f]{64})"><img src="/media/([0-9a-f]{64})\?thumb=1" alt="Image from \x{2068}Painter\x{2069}, open full size"`).FindStringSubmatch(p.Body)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no thumbnail linking to the full image\n%s", p.Body)
	}
	thumb := b.get("/media/"+m[1]+"?thumb=1").wantStatus(t, "thumbnail", http.StatusOK)
	if ct := thumb.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("thumbnail Content-Type = %q", ct)
	}
	p.contains(t, "channel", "1 view")
}

func TestInviteLinks(t *testing.T) {
	s := startServer(t)
	alice, bob, carol := newBrowser(t, s), newBrowser(t, s), newBrowser(t, s)
	alice.signUp("alice")
	bob.signUp("bob")
	carol.signUp("carol")
	group := alice.post("/groups", url.Values{"title": {"Book Club"}}).wantRedirect(t, "group", "/chats/")
	alice.get(group).contains(t, "group", `href="`+group+`/invites">Invite links</a>`)

	alice.post(group+"/invites", url.Values{"expires_in": {"-5"}}).wantStatus(t, "bad expiry", http.StatusBadRequest).
		contains(t, "bad expiry", `id="f-expires_in-error"`)
	created := alice.post(group+"/invites", url.Values{"expires_in": {"86400"}}).wantRedirect(t, "invite", group+"/invites?created=")
	p := alice.get(created).wantStatus(t, "invites page", http.StatusOK)
	m := regexp.MustCompile(`value="(http://[^"]+/join/([A-Za-z0-9_-]+))" data-invite-link`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no invite link shown\n%s", p.Body)
	}
	link, token := m[1], m[2]
	p.contains(t, "invites page", "It works until")

	bob.get("/join/"+token).wantStatus(t, "join page", http.StatusOK).contains(t, "join page", "Join <bdi>Book Club</bdi>", "Join group</button>")
	bob.post("/join/"+token, nil).wantRedirect(t, "join", group)
	bob.get(group).wantStatus(t, "member reads", http.StatusOK)
	bob.get(group+"/invites").wantStatus(t, "member manages invites", http.StatusForbidden)

	alice.post(group+"/invites/revoke", url.Values{"link": {"https://elsewhere/join/nope"}}).wantStatus(t, "revoke unknown", http.StatusBadRequest).
		contains(t, "revoke unknown", `id="f-link-error"`, `value="https://elsewhere/join/nope"`)
	// The working link is listed, with its use, until it is revoked.
	alice.get(group+"/invites").contains(t, "working links", `id="invite-`+token+`"`, "used 1 time")
	alice.post(group+"/invites/revoke", url.Values{"link": {link}}).wantRedirect(t, "revoke", group+"/invites")
	alice.get(group+"/invites").contains(t, "no working links", "No link works at the moment")

	carol.get("/join/"+token).wantStatus(t, "revoked join page", http.StatusGone).contains(t, "revoked", "expired or was revoked")
	carol.post("/join/"+token, nil).wantStatus(t, "revoked join", http.StatusConflict)
	carol.get(group).wantStatus(t, "not joined", http.StatusNotFound)
	carol.get("/join/unknown-token").wantStatus(t, "unknown invite", http.StatusNotFound)
}

func TestDiscoverAndSubscribe(t *testing.T) {
	s := startServer(t)
	owner, reader := newBrowser(t, s), newBrowser(t, s)
	owner.signUp("owner")
	reader.signUp("reader")
	ch := owner.post("/channels", url.Values{"handle": {"harbour_cam"}, "title": {"Harbour Cam"}, "description": {"Boats."}}).wantRedirect(t, "channel", "/chats/")
	owner.post("/channels", url.Values{"handle": {"other_thing"}, "title": {"Something else"}}).wantRedirect(t, "channel", "/chats/")

	p := reader.get("/channels?q=harb").wantStatus(t, "search", http.StatusOK)
	p.contains(t, "search", "Harbour Cam", "@harbour_cam", `action="`+ch+`/subscribe"`)
	p.lacks(t, "search", "Something else")
	reader.get("/channels?q="+strings.Repeat("a", 65)).wantStatus(t, "long search", http.StatusBadRequest).contains(t, "long search", `id="q-error"`)

	reader.post(ch+"/subscribe", nil).wantRedirect(t, "subscribe", ch)
	reader.post(ch+"/subscribe", nil).wantRedirect(t, "subscribe twice", ch)
	reader.get("/chats").contains(t, "chat list", `<bdi class="chat-item-name">Harbour Cam</bdi>`)
	reader.get("/channels?q=harb").contains(t, "search after", `href="`+ch+`">Open`)
	reader.post(ch+"/leave", nil).wantRedirect(t, "unsubscribe", "/chats")
	p = reader.get("/chats")
	p.contains(t, "chat list after leaving", "You left \u2068Harbour Cam\u2069.")
	p.lacks(t, "chat list after leaving", `<bdi class="chat-item-name">Harbour Cam</bdi>`)
}

func TestDirectAndSecretChatForms(t *testing.T) {
	s := startServer(t)
	alice, bob := newBrowser(t, s), newBrowser(t, s)
	alice.signUp("alice")
	bob.signUp("bob")

	alice.post("/direct", url.Values{"username": {"nobody"}}).wantStatus(t, "unknown peer", http.StatusBadRequest).
		contains(t, "unknown peer", `id="f-username-error"`, `there is no account named &#34;nobody&#34;`, `value="nobody"`)
	chat := alice.post("/direct", url.Values{"username": {"@bob"}}).wantRedirect(t, "direct", "/chats/")
	alice.post("/direct", url.Values{"username": {"bob"}}).wantRedirect(t, "direct again", chat) // one per pair
	alice.get("/users/bob").wantStatus(t, "user page", http.StatusOK).contains(t, "user page", "Send a message", "has not set up secret chats yet")

	// Without keys made in a browser, a secret chat cannot start, and the
	// form says why.
	alice.post("/secret", url.Values{"username": {"bob"}}).wantStatus(t, "secret without keys", http.StatusConflict).
		contains(t, "secret without keys", "set up secret chats first", `value="bob"`)

	// With keys (as the browsers would publish them) it opens, and the page
	// renders only ciphertext, with no form that would post text.
	ctx := context.Background()
	a := setKey(t, s, "alice")
	setKey(t, s, "bob")
	secret := alice.post("/secret", url.Values{"username": {"bob"}}).wantRedirect(t, "secret", "/chats/")
	var id int64
	fmt.Sscanf(secret, "/chats/%d", &id)
	if _, err := s.Messaging.PostMessage(ctx, a, id, messaging.PostInput{Ciphertext: base64.StdEncoding.EncodeToString(make([]byte, 40)), Nonce: base64.StdEncoding.EncodeToString(make([]byte, 12))}); err != nil {
		t.Fatal(err)
	}
	p := bob.get(secret).wantStatus(t, "secret chat page", http.StatusOK)
	p.contains(t, "secret chat page", `data-kind="secret"`, `data-peer="alice"`, `data-ciphertext="AAAA`, `data-nonce="AAAAAAAAAAAAAAAA"`, "Send encrypted</button>", "Encrypted message (decrypting…)")
	p.lacks(t, "secret chat page", `name="text"`, `action="`+secret+`/messages"`)
	bob.postMultipart(secret+"/messages", map[string]string{"text": "plain"}, "", "", nil).wantStatus(t, "plain text into secret chat", http.StatusBadRequest)
	bob.get("/chats").contains(t, "chat list", "Secret chat with \u2068Alice\u2069", "Encrypted message")
}

// setKey gives an account a secret-chat public key, as its browser would.
func setKey(t *testing.T, s *server, username string) *parley.User {
	t.Helper()
	ctx := context.Background()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.PublicKey().Bytes() // 0x04 || X || Y
	jwk, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(pub[1:33]), "y": base64.RawURLEncoding.EncodeToString(pub[33:])})
	key := string(jwk)
	u, err := s.Auth.Store.FindUserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	u, err = s.Auth.UpdateProfile(ctx, u, auth.ProfileInput{PublicKey: &key})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestErrorPages(t *testing.T) {
	s := startServer(t)
	anon := newBrowser(t, s)
	p := anon.get("/no/such/page").wantStatus(t, "unknown page", http.StatusNotFound)
	p.contains(t, "404", "<h1>Not found</h1>", "there is no page at /no/such/page")
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("404 Content-Type = %q", ct)
	}
	anon.get("/chats/1").wantRedirect(t, "signed out", "/signin?next=%2Fchats%2F1")
	anon.get("/api/v1/nothing").wantStatus(t, "unknown API path", http.StatusNotFound).contains(t, "API 404", `"code":"not_found"`)

	b := newBrowser(t, s)
	b.signUp("someone")
	for _, path := range []string{"/chats/abc", "/chats/999", "/chats/0", "/users/ghost", "/chats/1/messages/x/edit"} {
		p := b.get(path).wantStatus(t, path, http.StatusNotFound)
		p.lacks(t, path, "goroutine", ".go:", "sql")
	}
	b.get("/chats/1?before=-3").wantStatus(t, "bad before", http.StatusBadRequest)

	// A form posted from another site is refused before it reaches a handler.
	req, _ := http.NewRequest("POST", s.URL+"/channels", strings.NewReader("handle=evil_one&title=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	b.do(req).wantStatus(t, "cross-site post", http.StatusForbidden)
}

func TestPagesHaveNoInlineScriptAndStaticFilesAreServed(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signUp("viewer")
	p := b.get("/chats")
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(p.Body, -1)
	if len(scripts) != 2 {
		t.Fatalf("want the two script files, got %q", scripts)
	}
	for _, tag := range scripts {
		if !strings.Contains(tag, `src="/static/`) {
			t.Errorf("inline or foreign script %s", tag)
		}
	}
	if strings.Contains(p.Body, "http://") || strings.Contains(p.Body, "https://") {
		t.Errorf("page refers to another site; it must work offline")
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		path := strings.ReplaceAll(m[1], "&amp;", "&")
		f := b.get(path).wantStatus(t, path, http.StatusOK)
		if cc := f.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable for a versioned file", path, cc)
		}
	}
	b.get("/static/nothing.js").wantStatus(t, "missing static", http.StatusNotFound)
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHistoryPagesAndForward(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.signUp("keeper")
	ctx := context.Background()
	keeper, err := s.Auth.Store.FindUserByUsername(ctx, "keeper")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Messaging.CreateChat(ctx, keeper, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "logbook", Title: "Logbook"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 55; i++ {
		if _, err := s.Messaging.PostMessage(ctx, keeper, ch.ID, messaging.PostInput{Text: fmt.Sprintf("entry %d.", i)}); err != nil {
			t.Fatal(err)
		}
	}
	chat := fmt.Sprintf("/chats/%d", ch.ID)

	// The newest page shows the newest 50, oldest first, and links to older.
	p := b.get(chat).wantStatus(t, "newest page", http.StatusOK)
	p.contains(t, "newest page", `data-latest="true"`, `data-pts="55"`, "entry 6.", "entry 55.", `href="`+chat+`?before=6">Older messages`)
	p.lacks(t, "newest page", "entry 5.<")
	if strings.Index(p.Body, "entry 6.") > strings.Index(p.Body, "entry 55.") {
		t.Error("messages are not oldest first")
	}
	p = b.get(chat+"?before=6").wantStatus(t, "older page", http.StatusOK)
	p.contains(t, "older page", `data-latest="false"`, "entry 1.", "entry 5.", `href="`+chat+`">Newest messages`)
	p.lacks(t, "older page", "entry 6.", "Older messages")

	// A forward keeps its origin.
	group := b.post("/groups", url.Values{"title": {"Crew"}}).wantRedirect(t, "group", "/chats/")
	fwd := b.get(chat+"/messages/3/forward").wantStatus(t, "forward form", http.StatusOK)
	fwd.contains(t, "forward form", "entry 3.", ">\u2068Crew\u2069</option>", ">\u2068Logbook\u2069</option>")
	b.post(chat+"/messages/3/forward", url.Values{"to": {"0"}}).wantStatus(t, "forward nowhere", http.StatusBadRequest).
		contains(t, "forward nowhere", `id="f-to-error"`)
	var groupID int64
	fmt.Sscanf(group, "/chats/%d", &groupID)
	b.post(chat+"/messages/3/forward", url.Values{"to": {fmt.Sprint(groupID)}}).wantRedirect(t, "forward", group+"#m-1")
	b.get(group).contains(t, "forwarded", `Forwarded from <a href="`+chat+`#m-3"><bdi>Logbook</bdi></a>`, "entry 3.")
}

func TestSignUpFromAnInviteReturnsToIt(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	b.get("/join/sometoken").wantRedirect(t, "join signed out", "/signin?next=%2Fjoin%2Fsometoken")
	b.get("/signin?next=%2Fjoin%2Fsometoken").contains(t, "sign in", `href="/signup?next=%2fjoin%2fsometoken"`)
	p := b.post("/signup", url.Values{"username": {"newbie"}, "password": {"correct horse battery"}, "next": {"/join/sometoken"}})
	p.wantRedirect(t, "sign up", "/join/sometoken")
}
