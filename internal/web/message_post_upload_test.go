package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"testing"
	"time"

	"parley/internal/app"
)

// TestImagePostRefusals: on the chat page's form, an empty image file, a
// member over the upload rate (429) and a server with no decoding memory
// free (503) are each told next to the image field, with Retry-After where
// waiting helps, and the text is kept.
func TestImagePostRefusals(t *testing.T) {
	s := startServer(t, func(c *app.Config) {
		c.DecodeWait = 50 * time.Millisecond
		c.UploadsPerMinute = 4
	})
	b := newBrowser(t, s)
	b.signUp("uploader")
	chat := b.post("/channels", url.Values{"handle": {"uploads"}, "title": {"Uploads"}}).wantRedirect(t, "channel", "/chats/")

	p := b.postMultipart(chat+"/messages", map[string]string{"text": "kept caption"}, "image", "empty.png", nil)
	p.wantStatus(t, "empty image", http.StatusBadRequest)
	p.contains(t, "empty image", `id="f-image-error"`, "the chosen file is empty (0 bytes): choose the image itself", "kept caption</textarea>")

	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	img := buf.Bytes()

	// No decoding memory free: refused after the wait, on the form.
	budget := s.Messaging.DecodeMemory
	release, err := budget.Acquire(context.Background(), budget.Size())
	if err != nil {
		t.Fatal(err)
	}
	p = b.postMultipart(chat+"/messages", map[string]string{"text": "busy caption"}, "image", "a.png", img)
	release()
	p.wantStatus(t, "busy", http.StatusServiceUnavailable)
	p.contains(t, "busy", `id="f-image-error"`, "busy decoding other images", "busy caption</textarea>")
	if p.Header.Get("Retry-After") == "" {
		t.Error("busy: no Retry-After")
	}

	// The upload rate (a burst of -uploads-per-minute, then 429). The busy
	// upload above took a token too: a refusal for memory still counts.
	n := int(s.Config.UploadsPerMinute) - 1
	for i := range n {
		b.postMultipart(chat+"/messages", map[string]string{"text": "ok"}, "image", "a.png", img).wantRedirect(t, fmt.Sprintf("upload %d", i), chat)
	}
	p = b.postMultipart(chat+"/messages", map[string]string{"text": "one too many"}, "image", "a.png", img)
	p.wantStatus(t, "over the rate", http.StatusTooManyRequests)
	p.contains(t, "over the rate", `id="f-image-error"`, "uploaded too many images in a short time", "one too many</textarea>")
	if p.Header.Get("Retry-After") == "" {
		t.Error("over the rate: no Retry-After")
	}
}
