package api_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/app"
	"parley/internal/media/mediatest"
)

// bigPNG16 is a 6300×6300 PNG of 16-bit RGBA pixels: 39.7 megapixels, just
// under the default pixel limit, 317 MB once decoded whole, and about 310 KB
// as a file (every row is the same, so the "up" filter makes it zeros). It
// is written a row at a time, so making it costs the test nothing like that.
func bigPNG16() []byte {
	const side = 6300
	return mediatest.PNG{Width: side, Height: side, Depth: 16, ColorType: mediatest.RGBA, Filters: []int{2},
		Row: func(y int, raw []byte) {
			for x := range side {
				p := raw[8*x : 8*x+8]
				binary.BigEndian.PutUint16(p[0:], uint16(x*10))
				binary.BigEndian.PutUint16(p[2:], uint16(x*x))
				binary.BigEndian.PutUint16(p[4:], uint16(x<<4))
				binary.BigEndian.PutUint16(p[6:], 0xffff)
			}
		}}.Encode()
}

// heapObjects reads the bytes of heap objects, live and not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestUploadBurstMemory is the probe of issue 7: one member sends twelve
// 40-megapixel 16-bit PNGs at once through the API. The server (in this
// process) must stay under a stated bound of heap, sampled from the
// runtime during the burst, and the uploads beyond the member's rate must
// get 429 rather than memory. Before the bound, the same burst took the
// heap past 600 MB: two decodes at once of 317 MB each.
func TestUploadBurstMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 12 × 40 megapixels")
	}
	const (
		uploads = 12
		rate    = 10 // per minute, so 2 of the 12 are refused
		budget  = 64 << 20
		// heapBound is the most the heap may grow during the burst: the
		// decoding budget twice over (with GOGC at 100, garbage may grow
		// as large as the live heap before a collection) and 32 MiB for
		// the request bodies (360 KB each) and the server's own work.
		heapBound = 2*budget + 32<<20
	)
	s := start(t, func(c *app.Config) {
		c.UploadsPerMinute = rate
		c.DecodeMemory = budget
		c.MaxImageDecodeBytes = budget
		c.DecodeWait = 5 * time.Minute // this test is about memory, not time
	})
	member := s.signUp(t, "burster")
	img := bigPNG16()
	t.Logf("the PNG is %d bytes", len(img))

	runtime.GC()
	debug.FreeOSMemory()
	base := heapObjects()
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if h := heapObjects(); h > peak {
				peak = h
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	statuses := make([]int, uploads)
	bodies := make([]string, uploads)
	retryAfter := make([]string, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := member.upload(t, img, "image/png")
			statuses[i], bodies[i], retryAfter[i] = resp.StatusCode, string(body), resp.Header.Get("Retry-After")
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled

	counts := map[int]int{}
	for i, st := range statuses {
		counts[st]++
		switch st {
		case http.StatusCreated:
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if retryAfter[i] == "" {
				t.Errorf("a %d without Retry-After: %s", st, bodies[i])
			}
		default:
			t.Errorf("upload %d: %d %s", i, st, bodies[i])
		}
	}
	grew := int64(peak) - int64(base)
	t.Logf("statuses %v; heap objects %d MiB before, peak %d MiB during the burst (+%d MiB, bound %d MiB)",
		counts, base>>20, peak>>20, grew>>20, heapBound>>20)
	if counts[http.StatusCreated] == 0 {
		t.Error("no upload went through: the burst proves nothing")
	}
	if counts[http.StatusTooManyRequests] != uploads-rate {
		t.Errorf("%d uploads refused for the rate, want %d", counts[http.StatusTooManyRequests], uploads-rate)
	}
	if grew > heapBound {
		t.Errorf("the heap grew by %d MiB during the burst, over the %d MiB bound", grew>>20, heapBound>>20)
	}
}

// TestUploadRefusedWhenBusyOrEmpty: an upload that finds the decoding
// budget full for its whole wait gets 503 with Retry-After, and succeeds
// once the budget has room; an empty body gets a message of its own.
func TestUploadRefusedWhenBusyOrEmpty(t *testing.T) {
	s := start(t, func(c *app.Config) { c.DecodeWait = 100 * time.Millisecond })
	member := s.signUp(t, "patient")
	img := testPNG(t, 40, 30, 1)

	budget := s.app.Messaging.DecodeMemory
	release, err := budget.Acquire(context.Background(), budget.Size())
	if err != nil {
		t.Fatal(err)
	}
	resp, body := member.upload(t, img, "image/png")
	if e := checkError(t, "busy", resp, body, http.StatusServiceUnavailable, parley.EUnavailable, ""); !strings.Contains(e.Message, "busy decoding other images") {
		t.Errorf("busy: %q", e.Message)
	}
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", resp.Header.Get("Retry-After"))
	}
	release()
	if resp, body := member.upload(t, img, "image/png"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("with room again: %d %s", resp.StatusCode, body)
	}

	for name, send := range map[string]func() (*http.Response, []byte){
		"raw":       func() (*http.Response, []byte) { return member.upload(t, nil, "image/png") },
		"multipart": func() (*http.Response, []byte) { return member.uploadForm(t, "file", nil) },
	} {
		resp, body := send()
		e := checkError(t, "empty "+name, resp, body, http.StatusBadRequest, parley.EInvalid, "file")
		if want := "the upload is empty: send the image as the request body or as the file field of a multipart form"; e.Message != want {
			t.Errorf("empty %s: %q, want %q", name, e.Message, want)
		}
	}
}

// TestUploadRateLimit: a member who uploads faster than the rate gets 429
// with a Retry-After and a message; another member is not held back.
func TestUploadRateLimit(t *testing.T) {
	s := start(t, func(c *app.Config) { c.UploadsPerMinute = 2 })
	a, b := s.signUp(t, "eager1"), s.signUp(t, "calm01")
	img := testPNG(t, 40, 30, 1)
	for i := range 2 {
		if resp, body := a.upload(t, img, "image/png"); resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := a.upload(t, img, "image/png")
	if e := checkError(t, "third upload", resp, body, http.StatusTooManyRequests, parley.ERateLimited, ""); !strings.Contains(e.Message, "uploaded too many images in a short time") {
		t.Errorf("rate limited: %q", e.Message)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if resp, body := b.upload(t, img, "image/png"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("another member: %d %s", resp.StatusCode, body)
	}
}
