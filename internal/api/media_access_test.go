package api_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"parley"
	"parley/internal/app"
	"parley/internal/safety/enforce"
)

// uploadImage uploads data and returns the media item as the API answered
// it, with the raw answer.
func (c *client) uploadImage(t *testing.T, data []byte) (parley.Media, []byte) {
	t.Helper()
	resp, body := c.upload(t, data, "image/png")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s: upload = %d %s", c.user.Username, resp.StatusCode, body)
	}
	var m parley.Media
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m, body
}

// wantImage fails unless c is served the image id, full size (the bytes
// uploaded) and as a JPEG thumbnail, with the caching headers that let a
// removal take effect at once. header is sent with both requests.
func (c *client) wantImage(t *testing.T, what, id string, want []byte, header ...string) {
	t.Helper()
	resp, data := c.do(t, "GET", "/media/"+id, nil, header...)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, want) {
		t.Fatalf("%s: %s gets the image: %d, %d bytes (%.80s); want 200 and the %d bytes uploaded",
			what, c.user.Username, resp.StatusCode, len(data), data, len(want))
	}
	if cc, etag := resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"); cc != "private, no-cache" || etag == "" {
		t.Fatalf("%s: Cache-Control %q, ETag %q; want private, no-cache and an ETag", what, cc, etag)
	}
	// Asking again with the ETag is a cheap 304, for the same viewer only.
	resp, _ = c.do(t, "GET", "/media/"+id, nil, append([]string{"If-None-Match", resp.Header.Get("ETag")}, header...)...)
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("%s: revalidating = %d; want 304", what, resp.StatusCode)
	}
	resp, data = c.do(t, "GET", "/media/"+id+"?thumb=1", nil, header...)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("%s: %s gets the thumbnail: %d %s %.80s", what, c.user.Username, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
}

// wantNoImage fails unless c gets 404 for the image id and its thumbnail,
// even when revalidating a copy it might hold, and the answer is exactly
// the one for an id that never existed: it must not tell whether the
// image exists.
func (c *client) wantNoImage(t *testing.T, what, id string, header ...string) {
	t.Helper()
	_, absent := c.do(t, "GET", "/media/"+randomID(t), nil, header...)
	for _, path := range []string{"/media/" + id, "/media/" + id + "?thumb=1"} {
		resp, data := c.do(t, "GET", path, nil, header...)
		checkError(t, what+": "+c.user.Username+" GET "+path, resp, data, http.StatusNotFound, parley.ENotFound, "")
		if !bytes.Equal(data, absent) {
			t.Fatalf("%s: the 404 for %s is %s; for an id that never existed it is %s", what, path, data, absent)
		}
		resp, _ = c.do(t, "GET", path, nil, append([]string{"If-None-Match", `"` + id + `"`}, header...)...)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: revalidating %s = %d; want 404", what, path, resp.StatusCode)
		}
	}
}

func randomID(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestMediaServedOnlyWithAMessageTheViewerSees: an upload is the
// uploader's alone until it is posted; then it is served to whoever sees a
// message that carries it, here the two people of a direct chat and, once
// one of them forwards it, the members of a group.
func TestMediaServedOnlyWithAMessageTheViewerSees(t *testing.T) {
	s := start(t)
	alice, bob, carol := s.signUp(t, "alice"), s.signUp(t, "bob"), s.signUp(t, "carol")
	img := testPNG(t, 40, 30, 11)
	m, _ := alice.uploadImage(t, img)

	alice.wantImage(t, "an upload not yet posted", m.ID, img)
	bob.wantNoImage(t, "someone else's upload not yet posted", m.ID)

	d := alice.createChat(t, map[string]any{"kind": "direct", "peer": "bob"})
	alice.post(t, d.ID, map[string]any{"media_id": m.ID})
	bob.wantImage(t, "the peer of the direct chat", m.ID, img)
	alice.wantImage(t, "the uploader, in the direct chat", m.ID, img)
	carol.wantNoImage(t, "someone outside the direct chat", m.ID)

	// Knowing the id is not enough to make a copy of one's own.
	own := carol.group(t, "Carol's")
	carol.wantError(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", own.ID), map[string]any{"media_id": m.ID}, 400, parley.EInvalid, "media_id")
	carol.wantNoImage(t, "after trying to post it", m.ID)

	// A forward is a message carrying it that carol sees; deleted, it no
	// longer is.
	g := bob.group(t, "Friends")
	bob.invite(t, g.ID, carol)
	fwd := bob.post(t, g.ID, map[string]any{"forward_from": map[string]any{"chat_id": d.ID, "seq": 1}})
	if fwd.MediaID != m.ID {
		t.Fatalf("the forward = %+v", fwd)
	}
	carol.wantImage(t, "a member of the group it was forwarded to", m.ID, img)
	bob.mustJSON(t, "DELETE", fmt.Sprintf("/api/v1/chats/%d/messages/%d", g.ID, fwd.Seq), nil, http.StatusNoContent, nil)
	carol.wantNoImage(t, "after the forward was deleted", m.ID)

	// Leaving the direct chat ends bob's access too.
	bob.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/leave", d.ID), nil, http.StatusNoContent, nil)
	bob.wantNoImage(t, "after leaving the direct chat", m.ID)
	alice.wantImage(t, "the uploader, still in the direct chat", m.ID, img)
}

// TestMediaOfWithheldContent: a viewer where a message, or its whole
// channel, is withheld gets none of its image; a viewer elsewhere does.
// The country is the one the trusted proxy's header gives.
func TestMediaOfWithheldContent(t *testing.T) {
	s := start(t, func(c *app.Config) {
		c.CountryHeader, c.TrustedProxies = "X-Viewer-Country", "127.0.0.1"
	})
	legal := s.staffClient(t, "officer", parley.RoleLegalOfficer)
	author, viewer := s.signUp(t, "author"), s.signUp(t, "viewer")
	law := map[string]any{"ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "§ 130 StGB (incitement to hatred)",
		"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "source": "SOURCE_TYPE_OTHER_NOTIFICATION",
		"notifier": "Federal Criminal Police Office", "automation": "AUTOMATED_DECISION_NOT_AUTOMATED"}

	ch := author.channel(t, "streetphotos", "Street photos")
	img := testPNG(t, 40, 30, 21)
	m, _ := author.uploadImage(t, img)
	msg := author.post(t, ch.ID, map[string]any{"media_id": m.ID, "text": "the march"})
	viewer.wantImage(t, "a channel post, before the order", m.ID, img, "X-Viewer-Country", "DE")
	legal.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "withhold_message",
		"target": map[string]any{"chat_id": ch.ID, "seq": msg.Seq}, "countries": []string{"DE"}, "grounds": law}, http.StatusCreated, nil)
	viewer.wantNoImage(t, "the withheld message's image, from DE", m.ID, "X-Viewer-Country", "DE")
	viewer.wantImage(t, "the withheld message's image, from FR", m.ID, img, "X-Viewer-Country", "FR")
	// A forward does not carry it past the order: where the original is
	// withheld, it cannot be forwarded.
	g := viewer.group(t, "Mine")
	viewer.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", g.ID), map[string]any{"forward_from": map[string]any{"chat_id": ch.ID, "seq": msg.Seq}},
		"X-Viewer-Country", "DE")
	viewer.wantNoImage(t, "after trying to forward it from DE", m.ID, "X-Viewer-Country", "DE")

	ch2 := author.channel(t, "streetphotos2", "Street photos 2")
	img2 := testPNG(t, 40, 30, 22)
	m2, _ := author.uploadImage(t, img2)
	author.post(t, ch2.ID, map[string]any{"media_id": m2.ID})
	viewer.wantImage(t, "a channel post, before the channel is withheld", m2.ID, img2, "X-Viewer-Country", "FR")
	legal.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "withhold_chat",
		"target": map[string]any{"type": "chat", "chat_id": ch2.ID}, "countries": []string{"FR"}, "grounds": law}, http.StatusCreated, nil)
	viewer.wantNoImage(t, "an image of a channel withheld in FR, from FR", m2.ID, "X-Viewer-Country", "FR")
	viewer.wantImage(t, "an image of a channel withheld in FR, from DE", m2.ID, img2, "X-Viewer-Country", "DE")
}

// TestMediaOfRemovedContent: a removed message's image is not served to
// those who saw it there, while a copy they can still see serves it; a
// removed image answers 451 to those who would see it and 404 to others;
// a removed message cannot be forwarded.
func TestMediaOfRemovedContent(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	alice, bob, carol, dave := s.signUp(t, "alice"), s.signUp(t, "bob"), s.signUp(t, "carol"), s.signUp(t, "dave")
	img := testPNG(t, 40, 30, 31)
	m, _ := alice.uploadImage(t, img)
	a := alice.group(t, "A")
	alice.invite(t, a.ID, bob)
	b := alice.group(t, "B")
	alice.invite(t, b.ID, carol)
	inA := alice.post(t, a.ID, map[string]any{"media_id": m.ID, "text": "buy now"})
	alice.post(t, b.ID, map[string]any{"forward_from": map[string]any{"chat_id": a.ID, "seq": inA.Seq}})
	bob.wantImage(t, "a member of A", m.ID, img)

	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_message",
		"target": map[string]any{"chat_id": a.ID, "seq": inA.Seq}, "grounds": scamGrounds}, http.StatusCreated, nil)
	bob.wantNoImage(t, "the removed message's image, for a member of A only", m.ID)
	carol.wantImage(t, "the copy in B, not removed", m.ID, img)
	alice.wantImage(t, "the uploader, who sees the copy in B", m.ID, img)
	own := bob.group(t, "Bob's")
	bob.wantError(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", own.ID),
		map[string]any{"forward_from": map[string]any{"chat_id": a.ID, "seq": inA.Seq}}, 400, parley.EInvalid, "forward_from")
	if h := bob.history(t, own.ID); len(h) != 0 {
		t.Fatalf("forwarding the removed message stored %+v", h)
	}
	bob.wantNoImage(t, "after trying to forward the removed message", m.ID)

	// The image itself removed: 451 with the reason for those who would
	// see it, 404 for everyone else.
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_media",
		"target": map[string]any{"media_id": m.ID}, "grounds": scamGrounds}, http.StatusCreated, nil)
	for _, c := range []*client{carol, alice} {
		resp, data := c.do(t, "GET", "/media/"+m.ID, nil)
		e := checkError(t, c.user.Username+": removed image", resp, data, http.StatusUnavailableForLegalReasons, parley.EWithheld, "")
		if !strings.Contains(e.Message, "Scams and fraud") {
			t.Fatalf("451 message %q does not name the reason", e.Message)
		}
	}
	dave.wantNoImage(t, "a removed image someone who never saw it asks for", m.ID)
}

// TestSameBytesUploadedTwice: each upload is its own item, and nothing in
// the second answer tells of the first upload or of the bytes' hashes.
func TestSameBytesUploadedTwice(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	alice, bob, carol := s.signUp(t, "alice"), s.signUp(t, "bob"), s.signUp(t, "carol")
	img := testPNG(t, 40, 30, 41)
	first, firstJSON := alice.uploadImage(t, img)
	second, secondJSON := bob.uploadImage(t, bytes.Clone(img))
	if first.ID == second.ID || second.UploaderID != bob.user.ID || first.UploaderID != alice.user.ID || first.ThumbID == second.ThumbID {
		t.Fatalf("two uploads of the same bytes: %s and %s", firstJSON, secondJSON)
	}
	sha, md := sha256.Sum256(img), md5.Sum(img)
	created, _ := json.Marshal(first.CreatedAt)
	for what, secret := range map[string]string{
		"the first upload's id": first.ID, "the first upload's thumbnail": first.ThumbID,
		"the first upload's time": strings.Trim(string(created), `"`), "the SHA-256 of the bytes": hex.EncodeToString(sha[:]),
		"the MD5 of the bytes": hex.EncodeToString(md[:]), "the first uploader": fmt.Sprintf(`"uploader_id":%d`, alice.user.ID),
	} {
		if strings.Contains(string(secondJSON), secret) {
			t.Errorf("the second upload's answer %s contains %s (%s)", secondJSON, what, secret)
		}
	}
	if strings.Contains(string(firstJSON), hex.EncodeToString(sha[:])) || strings.Contains(string(firstJSON), hex.EncodeToString(md[:])) {
		t.Errorf("an upload's answer %s shows the bytes' hashes", firstJSON)
	}
	alice.wantImage(t, "the first upload, by its uploader", first.ID, img)
	bob.wantImage(t, "the second upload, by its uploader", second.ID, img)
	bob.wantNoImage(t, "the first upload, by the second uploader", first.ID)
	alice.wantNoImage(t, "the second upload, by the first uploader", second.ID)
	bob.wantNoImage(t, "an id made of the bytes' SHA-256", hex.EncodeToString(sha[:]))

	// The same bytes removed once are refused to anyone after.
	g := alice.group(t, "G")
	alice.post(t, g.ID, map[string]any{"media_id": first.ID})
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_media",
		"target": map[string]any{"media_id": first.ID}, "grounds": scamGrounds}, http.StatusCreated, nil)
	resp, data := carol.upload(t, bytes.Clone(img), "image/png")
	checkError(t, "uploading bytes removed before", resp, data, http.StatusBadRequest, parley.EInvalid, "file")
}

// TestStaffSeeMediaAudited: a moderator is served an image no message
// shows them, and the audit log names who saw which image, once an hour
// however often it is fetched; what a moderator sees as anyone would is not
// audited.
func TestStaffSeeMediaAudited(t *testing.T) {
	s := start(t)
	admin := s.staffClient(t, "root", parley.RoleAdmin)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	alice, bob := s.signUp(t, "alice"), s.signUp(t, "bob")
	img := testPNG(t, 40, 30, 51)
	m, _ := alice.uploadImage(t, img)
	d := alice.createChat(t, map[string]any{"kind": "direct", "peer": "bob"})
	alice.post(t, d.ID, map[string]any{"media_id": m.ID})
	public, _ := alice.uploadImage(t, testPNG(t, 40, 30, 52))
	ch := alice.channel(t, "alicepics", "Alice's pictures")
	alice.post(t, ch.ID, map[string]any{"media_id": public.ID})

	viewed := func() []parley.AuditEntry {
		var out struct{ Entries []parley.AuditEntry }
		admin.mustJSON(t, "GET", "/api/v1/admin/audit?limit=1000", nil, http.StatusOK, &out)
		var views []parley.AuditEntry
		for _, e := range out.Entries {
			if e.Action == "media.viewed" {
				views = append(views, e)
			}
		}
		return views
	}
	bob.wantImage(t, "the peer", m.ID, img)
	mod.wantImage(t, "a moderator, in a public channel", public.ID, testPNG(t, 40, 30, 52))
	if v := viewed(); len(v) != 0 {
		t.Fatalf("views as anyone would see were audited: %+v", v)
	}
	for range 3 {
		mod.wantImage(t, "a moderator, outside the direct chat", m.ID, img)
	}
	v := viewed()
	if len(v) != 1 || v[0].ActorID != mod.user.ID || v[0].TargetType != "media" || v[0].TargetID != m.ID {
		t.Fatalf("audit entries of the moderator's views = %+v; want one naming %d and %s", v, mod.user.ID, m.ID)
	}
}

// TestPublicChannelImage: an image in a public channel is served to any
// signed-in account that can read the channel, subscribed or not, and to
// nobody once the channel is banned.
func TestPublicChannelImage(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	author, reader := s.signUp(t, "author"), s.signUp(t, "reader")
	ch := author.channel(t, "openskies", "Open skies")
	img := testPNG(t, 40, 30, 61)
	m, _ := author.uploadImage(t, img)
	author.post(t, ch.ID, map[string]any{"media_id": m.ID})
	reader.wantImage(t, "a reader who never subscribed", m.ID, img)
	if resp, data := s.anon().do(t, "GET", "/media/"+m.ID, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("not signed in: %d %s", resp.StatusCode, data)
	}
	var a enforce.Action
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "ban_chat",
		"target": map[string]any{"type": "chat", "chat_id": ch.ID}, "grounds": scamGrounds}, http.StatusCreated, &a)
	reader.wantNoImage(t, "an image of a banned channel", m.ID)
	author.wantNoImage(t, "its author, in the banned channel", m.ID)
	// Nor does a forward out of the banned channel carry it.
	own := reader.group(t, "Reader's")
	reader.wantError(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", own.ID),
		map[string]any{"forward_from": map[string]any{"chat_id": ch.ID, "seq": 1}}, 400, parley.EInvalid, "forward_from")
	reader.wantNoImage(t, "after trying to forward it out of the banned channel", m.ID)
}
