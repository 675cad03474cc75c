package web_test

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// pngOf returns a w×h PNG whose bytes differ from pixel to pixel.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestChatPageImagesOnlyForItsReaders: the image a direct chat's page shows
// its two people is served, with its thumbnail, to them and to nobody else
// signed in to the web client.
func TestChatPageImagesOnlyForItsReaders(t *testing.T) {
	s := startServer(t)
	alice, bob, carol := newBrowser(t, s), newBrowser(t, s), newBrowser(t, s)
	alice.signUp("alice")
	bob.signUp("bob")
	carol.signUp("carol")
	chat := alice.post("/direct", url.Values{"username": {"bob"}}).wantRedirect(t, "direct chat", "/chats/")

	alice.postMultipart(chat+"/messages", map[string]string{"text": "for you"}, "image", "a.png", pngOf(t, 24, 16)).wantRedirect(t, "image post", chat)
	p := bob.get(chat).wantStatus(t, "the peer's chat page", http.StatusOK)
	m := regexp.MustCompile(`<a class="msg-image" href="/media/([0-9a-f]{64})"><img src="/media/([0-9a-f]{64})\?thumb=1"`).FindStringSubmatch(p.Body)
	if m == nil || m[1] != m[2] {
		t.Fatalf("the chat page shows no image\n%s", p.Body)
	}
	for _, path := range []string{"/media/" + m[1], "/media/" + m[1] + "?thumb=1"} {
		bob.get(path).wantStatus(t, "the peer: "+path, http.StatusOK)
		alice.get(path).wantStatus(t, "the uploader: "+path, http.StatusOK)
		carol.get(path).wantStatus(t, "someone outside the chat: "+path, http.StatusNotFound)
	}
	carol.get(chat).wantStatus(t, "someone outside the chat: the chat page", http.StatusNotFound)
}
