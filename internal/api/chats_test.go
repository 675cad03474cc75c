package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"parley"
	"parley/internal/app"
)

func TestChannelLifecycle(t *testing.T) {
	s := start(t)
	owner, fan, passer := s.signUp(t, "owner"), s.signUp(t, "fan"), s.signUp(t, "passer")
	ch := owner.channel(t, "@daily_bread", "Daily Bread")
	if ch.Kind != parley.ChatChannel || ch.Handle != "daily_bread" || ch.MemberCount != 1 {
		t.Fatalf("new channel = %+v", ch)
	}
	owner.channel(t, "weather_now", "Weather")

	// Discovery by handle and by title.
	var found struct {
		Channels []parley.Chat `json:"channels"`
	}
	fan.mustJSON(t, "GET", "/api/v1/channels?q=BREAD", nil, http.StatusOK, &found)
	if len(found.Channels) != 1 || found.Channels[0].ID != ch.ID {
		t.Fatalf("search for BREAD = %+v", found.Channels)
	}
	fan.mustJSON(t, "GET", "/api/v1/channels?q=%40daily", nil, http.StatusOK, &found)
	if len(found.Channels) != 1 || found.Channels[0].ID != ch.ID {
		t.Fatalf("search for @daily = %+v", found.Channels)
	}
	fan.mustJSON(t, "GET", "/api/v1/channels?q=zzzz", nil, http.StatusOK, &found)
	if len(found.Channels) != 0 {
		t.Fatalf("search for zzzz = %+v", found.Channels)
	}
	var byHandle struct {
		parley.Chat
		Membership *parley.Member `json:"membership"`
	}
	fan.mustJSON(t, "GET", "/api/v1/channels/@Daily_Bread", nil, http.StatusOK, &byHandle)
	if byHandle.ID != ch.ID || byHandle.Membership != nil {
		t.Fatalf("channel by handle = %+v", byHandle)
	}

	// Subscribe; only the owner posts.
	sub := fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID)
	if resp, data := fan.do(t, "POST", sub, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("subscribe = %d %s", resp.StatusCode, data)
	}
	fan.wantError(t, "POST", sub, nil, 409, parley.EConflict, "")
	var got struct {
		parley.Chat
		Membership *parley.Member `json:"membership"`
	}
	fan.mustJSON(t, "GET", fmt.Sprintf("/api/v1/chats/%d", ch.ID), nil, http.StatusOK, &got)
	if got.MemberCount != 2 || got.Membership == nil || got.Membership.Role != parley.MemberSubscriber {
		t.Fatalf("channel seen by a subscriber = %+v (membership %+v)", got.Chat, got.Membership)
	}
	p1 := owner.post(t, ch.ID, "first loaf")
	p2 := owner.post(t, ch.ID, "second loaf")
	fan.wantError(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), map[string]string{"text": "me too"}, 403, parley.EForbidden, "")

	// Subscribers and passers-by read history; views count once each.
	for _, c := range []*client{fan, passer} {
		h := c.history(t, ch.ID)
		if len(h) != 2 || h[0].Seq != p2.Seq || h[1].Text != p1.Text {
			t.Fatalf("history read by %s = %+v", c.user.Username, h)
		}
	}
	views := fmt.Sprintf("/api/v1/chats/%d/views", ch.ID)
	for _, c := range []*client{fan, fan, passer} {
		c.mustJSON(t, "POST", views, map[string]any{"seqs": []int64{p1.Seq, p2.Seq}}, http.StatusOK, nil)
	}
	var v struct {
		Views map[string]int64 `json:"views"`
	}
	owner.mustJSON(t, "POST", views, map[string]any{"seqs": []int64{p1.Seq}}, http.StatusOK, &v)
	if v.Views[fmt.Sprint(p1.Seq)] != 3 {
		t.Fatalf("views = %v; want 3 for seq %d (fan, passer, owner)", v.Views, p1.Seq)
	}
	if h := passer.history(t, ch.ID); h[1].Views != 3 || h[0].Views != 2 {
		t.Fatalf("views in history = %d, %d; want 3 and 2", h[1].Views, h[0].Views)
	}

	// Paging by sequence number.
	for i := range 5 {
		owner.post(t, ch.ID, fmt.Sprint("loaf ", i+3))
	}
	var page struct {
		Messages []parley.Message `json:"messages"`
	}
	fan.mustJSON(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages?limit=3&before=6", ch.ID), nil, http.StatusOK, &page)
	var seqs []int64
	for _, m := range page.Messages {
		seqs = append(seqs, m.Seq)
	}
	if !slices.Equal(seqs, []int64{5, 4, 3}) {
		t.Fatalf("page before 6 = %v; want [5 4 3]", seqs)
	}
	var ups struct {
		Updates []parley.Update `json:"updates"`
	}
	fan.mustJSON(t, "GET", fmt.Sprintf("/api/v1/chats/%d/updates?after_pts=5", ch.ID), nil, http.StatusOK, &ups)
	if len(ups.Updates) != 2 || ups.Updates[0].Pts != 6 || ups.Updates[1].Pts != 7 {
		t.Fatalf("updates after pts 5 = %+v", ups.Updates)
	}

	// Edit and delete, through the API.
	var edited parley.Message
	owner.mustJSON(t, "PATCH", fmt.Sprintf("/api/v1/chats/%d/messages/%d", ch.ID, p1.Seq), map[string]string{"text": "first loaf, sliced"}, http.StatusOK, &edited)
	if edited.Text != "first loaf, sliced" || edited.EditedAt == nil {
		t.Fatalf("edited = %+v", edited)
	}
	fan.wantError(t, "DELETE", fmt.Sprintf("/api/v1/chats/%d/messages/%d", ch.ID, p1.Seq), nil, 403, parley.EForbidden, "")
	if resp, data := owner.do(t, "DELETE", fmt.Sprintf("/api/v1/chats/%d/messages/%d", ch.ID, p2.Seq), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.StatusCode, data)
	}
	for _, m := range fan.history(t, ch.ID) {
		if m.Seq == p2.Seq || strings.Contains(m.Text, "second loaf") {
			t.Fatalf("deleted message still in history: %+v", m)
		}
	}

	// Chat lists and leaving.
	var list struct {
		Chats []parley.ChatSummary `json:"chats"`
	}
	fan.mustJSON(t, "GET", "/api/v1/chats", nil, http.StatusOK, &list)
	if len(list.Chats) != 1 || list.Chats[0].ID != ch.ID || list.Chats[0].MyRole != parley.MemberSubscriber {
		t.Fatalf("fan's chats = %+v", list.Chats)
	}
	if resp, _ := fan.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/leave", ch.ID), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("leave = %d", resp.StatusCode)
	}
	fan.mustJSON(t, "GET", "/api/v1/chats", nil, http.StatusOK, &list)
	if len(list.Chats) != 0 {
		t.Fatalf("fan's chats after leaving = %+v", list.Chats)
	}
	owner.wantError(t, "POST", fmt.Sprintf("/api/v1/chats/%d/leave", ch.ID), nil, 409, parley.EConflict, "")
}

func TestGroupsInvitesAndDirectChats(t *testing.T) {
	s := start(t)
	owner, a, b, c := s.signUp(t, "owner"), s.signUp(t, "anna"), s.signUp(t, "boris"), s.signUp(t, "chloe")
	g := owner.createChat(t, map[string]any{"kind": "group", "title": "Book club", "member_limit": 3})
	path := fmt.Sprintf("/api/v1/chats/%d", g.ID)

	// Not a member: the group does not exist as far as anna can tell.
	a.wantError(t, "GET", path, nil, 404, parley.ENotFound, "")
	a.wantError(t, "GET", path+"/messages", nil, 404, parley.ENotFound, "")
	a.wantError(t, "POST", path+"/subscribe", nil, 404, parley.ENotFound, "")

	var inv parley.Invite
	owner.mustJSON(t, "POST", path+"/invites", map[string]any{"expires_in_seconds": 3600}, http.StatusCreated, &inv)
	if inv.ExpiresAt == nil || inv.Token == "" {
		t.Fatalf("invite = %+v; want a token and an expiry", inv)
	}
	a.mustJSON(t, "POST", "/api/v1/invites/"+inv.Token+"/join", nil, http.StatusOK, nil)
	a.wantError(t, "POST", path+"/invites", map[string]any{}, 403, parley.EForbidden, "")
	a.wantError(t, "DELETE", "/api/v1/invites/"+inv.Token, nil, 403, parley.EForbidden, "")
	a.wantError(t, "GET", path+"/invites", nil, 403, parley.EForbidden, "")
	a.post(t, g.ID, "hello club")

	var list struct {
		Invites []parley.Invite `json:"invites"`
	}
	owner.mustJSON(t, "GET", path+"/invites", nil, http.StatusOK, &list)
	if len(list.Invites) != 1 || list.Invites[0].Token != inv.Token || list.Invites[0].Uses != 1 {
		t.Fatalf("working invites = %+v; want the one link, used once", list.Invites)
	}

	if resp, _ := owner.do(t, "DELETE", "/api/v1/invites/"+inv.Token, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke = %d", resp.StatusCode)
	}
	b.wantError(t, "POST", "/api/v1/invites/"+inv.Token+"/join", nil, 409, parley.EConflict, "")
	owner.mustJSON(t, "GET", path+"/invites", nil, http.StatusOK, &list)
	if len(list.Invites) != 0 {
		t.Fatalf("working invites after revoking = %+v; want none", list.Invites)
	}
	b.wantError(t, "POST", "/api/v1/invites/nonsense/join", nil, 404, parley.ENotFound, "")

	// The member limit: owner, anna and boris fill a group of 3.
	token := owner.invite(t, g.ID, b)
	c.wantError(t, "POST", "/api/v1/invites/"+token+"/join", nil, 413, parley.ETooLarge, "")
	if h := b.history(t, g.ID); len(h) != 1 || h[0].Text != "hello club" {
		t.Fatalf("boris's history = %+v", h)
	}

	// Roles within the group: the owner promotes anna, who may then delete
	// boris's message.
	m := b.post(t, g.ID, "spam spam")
	a.wantError(t, "DELETE", fmt.Sprintf("%s/messages/%d", path, m.Seq), nil, 403, parley.EForbidden, "")
	if resp, data := owner.do(t, "PUT", fmt.Sprintf("%s/members/%d", path, a.user.ID), map[string]string{"role": "admin"}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("promote = %d %s", resp.StatusCode, data)
	}
	if resp, data := a.do(t, "DELETE", fmt.Sprintf("%s/messages/%d", path, m.Seq), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin deleting a member's message = %d %s", resp.StatusCode, data)
	}
	owner.wantError(t, "PUT", fmt.Sprintf("%s/members/%d", path, a.user.ID), map[string]string{"role": "subscriber"}, 400, parley.EInvalid, "role")

	// Direct chats: one per pair, by peer name or id.
	d1 := a.createChat(t, map[string]any{"kind": "direct", "peer": "chloe"})
	d2 := c.createChat(t, map[string]any{"kind": "direct", "peer_id": a.user.ID})
	if d1.ID != d2.ID {
		t.Fatalf("direct chats %d and %d; want one per pair", d1.ID, d2.ID)
	}
	a.wantError(t, "POST", "/api/v1/chats", map[string]any{"kind": "direct", "peer": "ghost"}, 400, parley.EInvalid, "peer")
	c.post(t, d1.ID, "hi anna")
	if h := a.history(t, d1.ID); len(h) != 1 || h[0].Text != "hi anna" || h[0].SenderName != "chloe" {
		t.Fatalf("direct history = %+v", h)
	}
	b.wantError(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", d1.ID), nil, 404, parley.ENotFound, "")
}

// testPNG encodes a w×h PNG whose pixels depend on seed.
func testPNG(t *testing.T, w, h int, seed uint8) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x*3) + seed, uint8(y*5) ^ seed, seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload sends an image as a raw body with the given content type.
func (c *client) upload(t *testing.T, data []byte, ctype string) (*http.Response, []byte) {
	t.Helper()
	return c.do(t, "POST", "/api/v1/media", data, "Content-Type", ctype)
}

// uploadForm sends an image as the "file" part of a multipart form.
func (c *client) uploadForm(t *testing.T, field string, data []byte) (*http.Response, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("caption", "ignored")
	fw, err := mw.CreateFormFile(field, "picture.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return c.do(t, "POST", "/api/v1/media", body.Bytes(), "Content-Type", mw.FormDataContentType())
}

func TestMediaUploadAndServe(t *testing.T) {
	s := start(t, func(c *app.Config) {
		c.MaxImageBytes = 64 << 10
		c.MaxImagePixels = 100_000
	})
	a, b := s.signUp(t, "alice"), s.signUp(t, "bob")
	img := testPNG(t, 120, 80, 3)

	resp, data := a.upload(t, img, "image/png")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("raw upload = %d %s", resp.StatusCode, data)
	}
	var m parley.Media
	json.Unmarshal(data, &m)
	if m.Mime != "image/png" || m.Width != 120 || m.Height != 80 || len(m.ID) != 64 {
		t.Fatalf("media = %+v", m)
	}
	resp, data = b.uploadForm(t, "file", img)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("multipart upload = %d %s", resp.StatusCode, data)
	}
	var m2 parley.Media
	json.Unmarshal(data, &m2)
	if m2.ID == m.ID || len(m2.ID) != 64 {
		t.Fatalf("the same image uploaded twice has ids %s and %s; want two items", m.ID, m2.ID)
	}

	// Served back to its uploader byte for byte, and as a JPEG thumbnail.
	resp, data = b.do(t, "GET", "/media/"+m2.ID, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, img) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET /media = %d %s, %d bytes; want the uploaded PNG", resp.StatusCode, resp.Header.Get("Content-Type"), len(data))
	}
	resp, data = b.do(t, "GET", "/media/"+m2.ID+"?thumb=1", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET thumbnail = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}

	// A post may carry it.
	g := a.group(t, "Photos")
	p := a.post(t, g.ID, map[string]string{"media_id": m.ID, "text": "look"})
	if p.MediaID != m.ID {
		t.Fatalf("post = %+v", p)
	}

	// Refused uploads.
	tooBig := append(bytes.Clone(img), make([]byte, 200<<10)...)
	for _, tc := range []struct {
		name   string
		send   func() (*http.Response, []byte)
		status int
		code   string
	}{
		{"oversized raw", func() (*http.Response, []byte) { return a.upload(t, tooBig, "image/png") }, 413, parley.ETooLarge},
		{"oversized multipart", func() (*http.Response, []byte) { return a.uploadForm(t, "file", tooBig) }, 413, parley.ETooLarge},
		{"just over the byte limit", func() (*http.Response, []byte) {
			return a.upload(t, append(bytes.Clone(img), make([]byte, 64<<10-len(img)+1)...), "image/png")
		}, 413, parley.ETooLarge},
		{"too many pixels", func() (*http.Response, []byte) { return a.upload(t, testPNG(t, 400, 300, 1), "image/png") }, 413, parley.ETooLarge},
		{"not an image", func() (*http.Response, []byte) { return a.upload(t, []byte("just some text, honestly"), "image/png") }, 400, parley.EInvalid},
		{"truncated image", func() (*http.Response, []byte) { return a.upload(t, img[:len(img)/2], "application/octet-stream") }, 400, parley.EInvalid},
		{"wrong content type", func() (*http.Response, []byte) { return a.upload(t, img, "text/plain") }, 400, parley.EInvalid},
		{"form without file", func() (*http.Response, []byte) { return a.uploadForm(t, "picture", img) }, 400, parley.EInvalid},
		{"broken form", func() (*http.Response, []byte) {
			return a.upload(t, []byte("--x\r\nbroken"), "multipart/form-data; boundary=x")
		}, 400, parley.EInvalid},
		{"not signed in", func() (*http.Response, []byte) { return s.anon().upload(t, img, "image/png") }, 401, parley.EUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.send()
			checkError(t, tc.name, resp, data, tc.status, tc.code, "")
		})
	}
	if strings.Contains(s.logs.String(), "internal error") {
		t.Fatalf("a refused upload caused an internal error:\n%s", s.logs.String())
	}
}

// snapshot is everything a user can read back about some stored data.
func snapshot(t *testing.T, c *client, chatIDs []int64, mediaID string) string {
	t.Helper()
	var out bytes.Buffer
	read := func(path string) {
		resp, data := c.do(t, "GET", path, nil)
		if strings.HasPrefix(path, "/media/") {
			data = fmt.Appendf(nil, "%d bytes, SHA-256 %x", len(data), sha256.Sum256(data))
		}
		fmt.Fprintf(&out, "%s %d %s\n", path, resp.StatusCode, bytes.TrimSpace(data))
	}
	read("/api/v1/me")
	read("/api/v1/chats")
	for _, id := range chatIDs {
		read(fmt.Sprintf("/api/v1/chats/%d", id))
		read(fmt.Sprintf("/api/v1/chats/%d/messages?limit=200", id))
		read(fmt.Sprintf("/api/v1/chats/%d/updates?limit=200", id))
	}
	read("/media/" + mediaID)
	read("/media/" + mediaID + "?thumb=1")
	return out.String()
}

// TestBadRequestsDamageNothing stores some data, throws every kind of bad
// request at it, and checks that everything reads back exactly as before.
func TestBadRequestsDamageNothing(t *testing.T) {
	s := start(t, func(c *app.Config) { c.MaxImageBytes = 64 << 10 })
	owner, member, outsider := s.signUp(t, "owner"), s.signUp(t, "member"), s.signUp(t, "outsider")
	ch := owner.channel(t, "sturdy_news", "Sturdy")
	g := owner.group(t, "Sturdy group")
	owner.invite(t, g.ID, member)
	member.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)
	_, data := owner.upload(t, testPNG(t, 50, 50, 9), "image/png")
	var m parley.Media
	json.Unmarshal(data, &m)
	owner.post(t, ch.ID, "channel post")
	owner.post(t, g.ID, map[string]string{"text": "with picture", "media_id": m.ID})
	mine := member.post(t, g.ID, "member's words")
	chats := []int64{ch.ID, g.ID}
	before := map[*client]string{owner: snapshot(t, owner, chats, m.ID), member: snapshot(t, member, chats, m.ID)}

	chPath := fmt.Sprintf("/api/v1/chats/%d", ch.ID)
	gPath := fmt.Sprintf("/api/v1/chats/%d", g.ID)
	huge := strings.Repeat("x", 300<<10)
	bad := []struct {
		c            *client
		method, path string
		body         any
	}{
		{member, "POST", chPath + "/messages", map[string]string{"text": "subscriber posting"}},
		{outsider, "POST", gPath + "/messages", map[string]string{"text": "outsider posting"}},
		{owner, "POST", gPath + "/messages", `{"text": "half`},
		{owner, "POST", gPath + "/messages", `{"text":"ok","evil":true}`},
		{owner, "POST", gPath + "/messages", `{"text":"` + huge + `"}`},
		{owner, "POST", gPath + "/messages", map[string]string{"text": strings.Repeat("y", 4097)}},
		{owner, "POST", gPath + "/messages", map[string]any{"text": "reply", "reply_to_seq": 99}},
		{owner, "POST", gPath + "/messages", map[string]any{"media_id": strings.Repeat("f", 64)}},
		{owner, "POST", gPath + "/messages", map[string]any{"ciphertext": "AAAAAAAAAAAAAAAAAAAAAAAA", "nonce": "AAAAAAAAAAAAAAAA"}},
		{owner, "PATCH", fmt.Sprintf("%s/messages/%d", gPath, mine.Seq), map[string]string{"text": "owner rewriting"}},
		{member, "PATCH", fmt.Sprintf("%s/messages/%d", gPath, mine.Seq), map[string]string{"text": strings.Repeat("y", 4097)}},
		{member, "PATCH", fmt.Sprintf("%s/messages/%d", gPath, mine.Seq), map[string]string{"text": ""}},
		{member, "PATCH", fmt.Sprintf("%s/messages/%d", gPath, mine.Seq), `{"text": 7}`},
		{member, "DELETE", gPath + "/messages/1", nil}, // the owner's message
		{outsider, "DELETE", fmt.Sprintf("%s/messages/%d", chPath, 1), nil},
		{member, "DELETE", fmt.Sprintf("%s/messages/%d", chPath, 1), nil},
		{outsider, "POST", gPath + "/views", map[string]any{"seqs": []int64{1}}},
		{member, "POST", chPath + "/views", map[string]any{"seqs": make([]int64, 500)}},
		{outsider, "POST", gPath + "/subscribe", nil},
		{member, "POST", gPath + "/invites", map[string]any{}},
		{outsider, "POST", "/api/v1/invites/forged-token/join", nil},
		{member, "PUT", fmt.Sprintf("%s/members/%d", gPath, member.user.ID), map[string]string{"role": "admin"}},
		{owner, "PUT", fmt.Sprintf("%s/members/%d", gPath, owner.user.ID), map[string]string{"role": "member"}},
		{owner, "PATCH", "/api/v1/me", map[string]any{"display_name": strings.Repeat("n", 500)}},
		{owner, "PATCH", "/api/v1/me", map[string]any{"country": "ZZ", "display_name": "Renamed"}},
		{owner, "PATCH", "/api/v1/me", `{"display_name": "Renamed", "role": "admin"}`},
		{member, "PUT", fmt.Sprintf("/api/v1/admin/users/%d/role", member.user.ID), map[string]string{"role": "admin"}},
		{owner, "POST", "/api/v1/chats", map[string]any{"kind": "channel", "handle": "Sturdy_News", "title": "Dup"}},
		{owner, "POST", "/api/v1/media", []byte("not an image at all")},
		{owner, "POST", "/api/v1/media", append(testPNG(t, 50, 50, 9)[:100], make([]byte, 100<<10)...)},
		{outsider, "POST", "/api/v1/auth/signup", map[string]string{"username": "owner", "password": "another password"}},
		{s.anon(), "POST", gPath + "/messages", map[string]string{"text": "anonymous"}},
	}
	for _, b := range bad {
		resp, data := b.c.do(t, b.method, b.path, b.body)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %s by %s = %d %s; want a refusal", b.method, b.path, b.c.user.Username, resp.StatusCode, data)
		}
	}
	for c, want := range before {
		got := snapshot(t, c, chats, m.ID)
		wantLines, gotLines := strings.Split(want, "\n"), strings.Split(got, "\n")
		for i := range wantLines {
			if i >= len(gotLines) || gotLines[i] != wantLines[i] {
				t.Errorf("what %s reads changed after bad requests:\nbefore: %s\nafter:  %s", c.user.Username, wantLines[i], gotLines[min(i, len(gotLines)-1)])
			}
		}
	}
	if strings.Contains(s.logs.String(), "internal error") {
		t.Fatalf("a bad request caused an internal error:\n%s", s.logs.String())
	}
	// And the data is still usable.
	owner.post(t, g.ID, "still works")
}

// TestDirectChatAfterLeaving checks that leaving a direct chat does not cut
// the two accounts off from each other for good: opening it again brings
// the one who left back in.
func TestDirectChatAfterLeaving(t *testing.T) {
	s := start(t)
	a, b := s.signUp(t, "anna"), s.signUp(t, "boris")
	d := a.createChat(t, map[string]any{"kind": "direct", "peer": "boris"})
	a.post(t, d.ID, "hello boris")
	b.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/leave", d.ID), nil, http.StatusNoContent, nil)
	b.wantError(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", d.ID), nil, 404, parley.ENotFound, "")

	again := b.createChat(t, map[string]any{"kind": "direct", "peer": "anna"})
	if again.ID != d.ID {
		t.Fatalf("reopened direct chat is %d; want %d", again.ID, d.ID)
	}
	if h := b.history(t, d.ID); len(h) != 1 || h[0].Text != "hello boris" {
		t.Fatalf("boris's history after reopening = %+v", h)
	}
	b.post(t, d.ID, "I'm back")
	if h := a.history(t, d.ID); len(h) != 2 {
		t.Fatalf("anna sees %d messages; want 2", len(h))
	}
}

// TestCookieSessionsAndCrossOrigin checks the browser's way in: the session
// cookie works for the API, and a request from another site carrying it is
// refused with the API's error body.
func TestCookieSessionsAndCrossOrigin(t *testing.T) {
	s := start(t)
	a := s.signUp(t, "anna")
	cookie := &client{s: s}
	resp, data := cookie.do(t, "GET", "/api/v1/me", nil, "Cookie", "parley_session="+a.token)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), `"anna"`) {
		t.Fatalf("GET /me with the session cookie = %d %s", resp.StatusCode, data)
	}
	resp, data = cookie.do(t, "POST", "/api/v1/chats", map[string]any{"kind": "group", "title": "same site"},
		"Cookie", "parley_session="+a.token, "Origin", s.url, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("same-origin POST with the cookie = %d %s", resp.StatusCode, data)
	}
	resp, data = cookie.do(t, "POST", "/api/v1/chats", map[string]any{"kind": "group", "title": "forged"},
		"Cookie", "parley_session="+a.token, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	checkError(t, "cross-site POST with the cookie", resp, data, http.StatusForbidden, parley.EForbidden, "")
	var list struct {
		Chats []parley.ChatSummary `json:"chats"`
	}
	a.mustJSON(t, "GET", "/api/v1/chats", nil, http.StatusOK, &list)
	if len(list.Chats) != 1 {
		t.Fatalf("anna has %d chats; the cross-site request must not have made one", len(list.Chats))
	}
}
