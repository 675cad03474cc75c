package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/webp"

	"parley"
	"parley/internal/media/mediatest"
)

// Tiny WebP files from the three WebP encodings, as hex literals: a 1×1
// lossless (VP8L) image, a 1×1 lossy (VP8) image, and a 1×1 lossy image with
// an alpha channel in the extended (VP8X) container.
var (
	webpLossless1x1 = mustHex("524946461a000000574542505650384c0d0000002f00000010071011118888fe0700")
	webpLossy1x1    = mustHex("52494646220000005745425056503820160000003001009d012a010001000ec0fe25a400037000000000")
	webpAlpha1x1    = mustHex("524946464a00000057454250565038580a00000010000000000000000000414c50480c00000011071011fd0f4444ff03000056503820180000001401009d012a010001000000fe00000dc000fee6b5000000")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// gradient returns a w×h image whose colours vary across it, so encoders
// cannot shrink it to nothing and the thumbnail has something to scale.
func gradient(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 128, 255})
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bitWriter packs bits least significant first, the order VP8L uses.
type bitWriter struct {
	buf   []byte
	nbits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if w.nbits%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		w.buf[len(w.buf)-1] |= byte((v>>i)&1) << (w.nbits % 8)
		w.nbits++
	}
}

// solidWebP returns a lossless WebP of w×h pixels (each at most 16,384) in
// one colour. Every Huffman code has a single symbol, so each pixel costs
// zero bits and the file is about 40 bytes whatever its size: exactly the
// shape of a WebP decompression bomb.
func solidWebP(w, h int, c color.NRGBA) []byte {
	var bw bitWriter
	bw.write(0x2f, 8)                                    // VP8L signature
	bw.write(uint32(w-1), 14)                            // width - 1
	bw.write(uint32(h-1), 14)                            // height - 1
	bw.write(0, 1)                                       // alpha hint
	bw.write(0, 3)                                       // version
	bw.write(0, 1)                                       // no transform
	bw.write(0, 1)                                       // no colour cache
	bw.write(0, 1)                                       // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // the symbol takes 8 bits
		bw.write(uint32(sym), 8)
	}
	return riffWebP("VP8L", bw.buf)
}

// riffWebP wraps one chunk in a RIFF WEBP container.
func riffWebP(fourcc string, payload []byte) []byte {
	chunk := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
	chunk = append(chunk, payload...)
	if len(payload)%2 == 1 {
		chunk = append(chunk, 0)
	}
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(chunk)))
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

// pngHeader returns a PNG signature and an IHDR chunk claiming w×h pixels of
// 8-bit RGBA, followed by nothing: all a decompression bomb needs to show
// before its small, highly compressed pixel data.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth 8, RGBA, deflate, no filter, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, uint32(len(ihdr)))
	typed := append([]byte("IHDR"), ihdr...)
	out = append(out, typed...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(typed))
}

// decodeThumb decodes a thumbnail, failing the test unless it is a JPEG.
func decodeThumb(t testing.TB, b []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	return m
}

func TestIntakeFormats(t *testing.T) {
	translucent := image.NewNRGBA(image.Rect(0, 0, 30, 10))
	for i := range translucent.Pix {
		translucent.Pix[i] = 0 // fully transparent black
	}

	tests := []struct {
		name           string
		data           []byte
		mime           string
		w, h           int
		thumbW, thumbH int
	}{
		{"png", encodePNG(t, gradient(40, 20)), "image/png", 40, 20, 40, 20},
		{"png transparent", encodePNG(t, translucent), "image/png", 30, 10, 30, 10},
		{"png wide", encodePNG(t, gradient(640, 100)), "image/png", 640, 100, 320, 50},
		{"png one pixel high", encodePNG(t, gradient(2000, 1)), "image/png", 2000, 1, 320, 1},
		{"png large", encodePNG(t, gradient(2000, 1500)), "image/png", 2000, 1500, 320, 240},
		{"jpeg", encodeJPEG(t, gradient(640, 480)), "image/jpeg", 640, 480, 320, 240},
		{"jpeg large", encodeJPEG(t, gradient(1500, 3000)), "image/jpeg", 1500, 3000, 160, 320},
		{"jpeg gray", encodeJPEG(t, image.NewGray(image.Rect(0, 0, 17, 9))), "image/jpeg", 17, 9, 17, 9},
		{"gif tall", encodeGIF(t, gradient(100, 1000)), "image/gif", 100, 1000, 32, 320},
		{"webp lossless", webpLossless1x1, "image/webp", 1, 1, 1, 1},
		{"webp lossy", webpLossy1x1, "image/webp", 1, 1, 1, 1},
		{"webp lossy with alpha", webpAlpha1x1, "image/webp", 1, 1, 1, 1},
		{"webp square", solidWebP(1000, 1000, color.NRGBA{200, 10, 10, 255}), "image/webp", 1000, 1000, 320, 320},
		{"webp wide", solidWebP(1000, 10, color.NRGBA{0, 0, 255, 255}), "image/webp", 1000, 10, 320, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Intake(tt.data, DefaultLimits)
			if err != nil {
				t.Fatalf("Intake: %v", err)
			}
			if img.Mime != tt.mime || img.Width != tt.w || img.Height != tt.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", img.Mime, img.Width, img.Height, tt.mime, tt.w, tt.h)
			}
			sum := sha256.Sum256(tt.data)
			if img.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("SHA256 = %s, want the hash of the upload", img.SHA256)
			}
			b := decodeThumb(t, img.Thumb).Bounds()
			if b.Dx() != tt.thumbW || b.Dy() != tt.thumbH {
				t.Errorf("thumbnail is %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.thumbW, tt.thumbH)
			}
		})
	}
}

// TestIntakeWebPLiteralsDecode guards the hex literals above: they are only
// useful as test data if they are real WebP files.
func TestIntakeWebPLiteralsDecode(t *testing.T) {
	for _, data := range [][]byte{webpLossless1x1, webpLossy1x1, webpAlpha1x1, solidWebP(3, 2, color.NRGBA{1, 2, 3, 255})} {
		if _, err := webp.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("webp.Decode(%x): %v", data, err)
		}
	}
}

// isWhite and isRed allow for JPEG's small colour errors.
func isWhite(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 >= 245 && g>>8 >= 245 && b>>8 >= 245
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 >= 200 && g>>8 <= 60 && b>>8 <= 60
}

func TestIntakeFlattensTransparencyOntoWhite(t *testing.T) {
	// The large image is shrunk before it is scaled; transparency must
	// survive both steps.
	for _, side := range []int{20, 1400} {
		m := image.NewNRGBA(image.Rect(0, 0, side, side))
		for i := range m.Pix {
			m.Pix[i] = 0xff // transparent white pixels...
		}
		for y := range side {
			for x := range side / 2 {
				m.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255}) // ...right of opaque red
			}
			m.SetNRGBA(side/2+side/4, y, color.NRGBA{0, 0, 0, 0}) // and a transparent black line
		}
		img, err := Intake(encodePNG(t, m), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		thumb := decodeThumb(t, img.Thumb)
		w := thumb.Bounds().Dx()
		if c := thumb.At(w/4, w/2); !isRed(c) {
			t.Errorf("%d px: opaque red became %v", side, c)
		}
		for _, x := range []int{w/2 + w/8, w/2 + w/4, w - 2} {
			if c := thumb.At(x, w/2); !isWhite(c) {
				t.Errorf("%d px: transparent pixel at x=%d became %v, want white", side, x, c)
			}
		}
	}
}

func TestIntakeGIFFrameKeepsItsPlace(t *testing.T) {
	// A canvas whose first frame is a red square in the bottom-right
	// quarter: the thumbnail must show white elsewhere.
	for _, side := range []int{100, 1400} {
		frame := image.NewPaletted(image.Rect(side/2, side/2, side, side), palette.Plan9)
		for i := range frame.Pix {
			frame.Pix[i] = uint8(frame.Palette.Index(color.RGBA{255, 0, 0, 255}))
		}
		var buf bytes.Buffer
		err := gif.EncodeAll(&buf, &gif.GIF{
			Image:  []*image.Paletted{frame},
			Delay:  []int{0},
			Config: image.Config{ColorModel: frame.Palette, Width: side, Height: side},
		})
		if err != nil {
			t.Fatal(err)
		}
		img, err := Intake(buf.Bytes(), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		thumb := decodeThumb(t, img.Thumb)
		w := thumb.Bounds().Dx()
		for _, p := range []image.Point{{w / 10, w / 10}, {w - 2, w / 4}, {w / 4, w - 2}} {
			if c := thumb.At(p.X, p.Y); !isWhite(c) {
				t.Errorf("%d px: outside the frame at %v = %v, want white", side, p, c)
			}
		}
		if c := thumb.At(w*3/4, w*3/4); !isRed(c) {
			t.Errorf("%d px: inside the frame = %v, want red", side, c)
		}
	}
}

func TestShrink(t *testing.T) {
	// A 5×3 image shrunk by 2: whole 2×2 blocks, then the narrower edge.
	m := image.NewRGBA(image.Rect(10, 20, 15, 23)) // bounds need not start at 0
	for i := range m.Pix {
		m.Pix[i] = 0
	}
	m.SetRGBA(10, 20, color.RGBA{200, 100, 40, 255})
	m.SetRGBA(11, 21, color.RGBA{100, 100, 100, 255})
	m.SetRGBA(14, 22, color.RGBA{90, 60, 30, 255})
	got := shrink(m, 2)
	if got.Bounds() != image.Rect(0, 0, 3, 2) {
		t.Fatalf("bounds = %v, want 3×2", got.Bounds())
	}
	tests := []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, color.RGBA{75, 50, 35, 128}}, // (200+100)/4, (100+100)/4, (40+100)/4, (255+255)/4 rounded
		{1, 0, color.RGBA{}},
		{2, 1, color.RGBA{90, 60, 30, 255}}, // a 1×1 corner block
	}
	for _, tt := range tests {
		if c := got.RGBAAt(tt.x, tt.y); c != tt.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", tt.x, tt.y, c, tt.want)
		}
	}
}

func TestIntakeRefuses(t *testing.T) {
	valid := encodePNG(t, gradient(64, 64))
	validJPEG := encodeJPEG(t, gradient(64, 64))
	validGIF := encodeGIF(t, gradient(64, 64))
	corruptPNG := bytes.Clone(valid)
	corruptPNG[len(corruptPNG)/2] ^= 0xff // breaks the IDAT checksum

	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		code    string
		message string // a substring of the message a user sees
	}{
		{"too many bytes", valid, Limits{MaxBytes: 100}, parley.ETooLarge, "100 bytes limit"},
		{"over 10 MiB", make([]byte, 10<<20+1), DefaultLimits, parley.ETooLarge, "10 MiB"},
		{"png bomb 100000x100000", pngHeader(100000, 100000), DefaultLimits, parley.ETooLarge, "16384 pixels per side"},
		{"png 10000x10000 over the pixel limit", pngHeader(10000, 10000), DefaultLimits, parley.ETooLarge, "100000000 pixels (10000×10000); the limit is 40000000 pixels"},
		{"webp bomb", solidWebP(16384, 16384, color.NRGBA{A: 255}), DefaultLimits, parley.ETooLarge, "the limit is 40000000 pixels"},
		{"webp over the side limit", solidWebP(3000, 10, color.NRGBA{A: 255}), Limits{MaxSide: 2048}, parley.ETooLarge, "2048 pixels per side"},
		{"png zero width", pngHeader(0, 10), DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"png truncated", valid[:len(valid)/2], DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"png header only", valid[:8], DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"png bad checksum", corruptPNG, DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"png header without pixels", pngHeader(10, 10), DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"jpeg truncated", validJPEG[:len(validJPEG)/2], DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"jpeg magic only", []byte{0xFF, 0xD8, 0xFF}, DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"gif truncated", validGIF[:len(validGIF)/2], DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"webp truncated", webpLossy1x1[:30], DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"webp riff without image", riffWebP("JUNK", []byte("abcd")), DefaultLimits, parley.EInvalid, "image is corrupt"},
		{"bmp", append([]byte("BM"), make([]byte, 60)...), DefaultLimits, parley.EInvalid, "unsupported image format; use JPEG, PNG, GIF or WebP"},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), DefaultLimits, parley.EInvalid, "unsupported image format"},
		{"text", []byte("hello, this is not an image"), DefaultLimits, parley.EInvalid, "unsupported image format"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), DefaultLimits, parley.EInvalid, "unsupported image format"},
		{"empty", nil, DefaultLimits, parley.EInvalid, "the upload is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Intake(tt.data, tt.lim)
			if err == nil {
				t.Fatalf("Intake accepted it: %s %d×%d", img.Mime, img.Width, img.Height)
			}
			var e *parley.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *parley.Error", err)
			}
			if e.Code != tt.code || e.Field != "file" {
				t.Errorf("got code %q field %q, want %q %q (%v)", e.Code, e.Field, tt.code, "file", err)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q does not contain %q", e.Message, tt.message)
			}
		})
	}
}

// TestIntakeBombAllocatesNothing checks that the header check comes before
// any pixel buffer: refusing a 100000×100000 PNG (40 GB decoded) and a
// 16384×16384 WebP (1 GiB decoded) must cost almost no memory.
func TestIntakeBombAllocatesNothing(t *testing.T) {
	for _, data := range [][]byte{pngHeader(100000, 100000), pngHeader(8000, 8000), solidWebP(16384, 16384, color.NRGBA{A: 255})} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Intake(data, DefaultLimits)
		runtime.ReadMemStats(&after)
		if code := parley.ErrorCode(err); code != parley.ETooLarge {
			t.Fatalf("code = %q (%v), want %q", code, err, parley.ETooLarge)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("refusing a bomb allocated %d bytes", n)
		}
	}
}

func TestThumbSize(t *testing.T) {
	tests := []struct{ w, h, tw, th int }{
		{1, 1, 1, 1},
		{320, 320, 320, 320},
		{321, 321, 320, 320},
		{640, 480, 320, 240},
		{480, 640, 240, 320},
		{1000, 333, 320, 107},
		{16384, 1, 320, 1},
		{1, 16384, 1, 320},
		{300, 100, 300, 100},
	}
	for _, tt := range tests {
		tw, th := thumbSize(tt.w, tt.h)
		if tw != tt.tw || th != tt.th {
			t.Errorf("thumbSize(%d, %d) = %d×%d, want %d×%d", tt.w, tt.h, tw, th, tt.tw, tt.th)
		}
	}
}

// fuzzLimits are small so that a fuzzed header cannot make one run decode
// tens of megapixels; the checks are the same as with DefaultLimits.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 2048}

func FuzzIntake(f *testing.F) {
	seeds := [][]byte{
		encodePNG(f, gradient(8, 5)),
		encodePNG(f, image.NewNRGBA(image.Rect(0, 0, 3, 3))),
		encodeJPEG(f, gradient(9, 7)),
		encodeGIF(f, gradient(6, 4)),
		webpLossless1x1,
		webpLossy1x1,
		webpAlpha1x1,
		solidWebP(5, 3, color.NRGBA{9, 8, 7, 255}),
		solidWebP(1200, 800, color.NRGBA{1, 200, 3, 128}), // shrunk before scaling
		solidWebP(4000, 4000, color.NRGBA{A: 255}),
		pngHeader(100000, 100000),
		pngHeader(0, 0),
		// Large enough to be read row by row (pngrows.go), small as a file.
		mediatest.PNG{Width: 1300, Height: 700, Depth: 16, ColorType: mediatest.RGBA, Filters: []int{2},
			Row: func(y int, raw []byte) {
				for i := range raw {
					raw[i] = byte(i / 7)
				}
			}}.Encode(),
		pngVariant{colorType: mediatest.Paletted, depth: 2, plte: []byte{1, 2, 3}, maxIndex: 3}.file(1400, 600, false),
		[]byte("GIF89a"),
		[]byte("hello"),
	}
	for _, s := range seeds {
		f.Add(s)
		if len(s) > 2 {
			f.Add(s[:len(s)/2]) // truncated
			c := bytes.Clone(s)
			c[len(c)/2] ^= 0x55 // corrupt
			f.Add(c)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Intake(data, fuzzLimits)
		if err != nil {
			var e *parley.Error
			if !errors.As(err, &e) || e.Field != "file" {
				t.Fatalf("error %v is not a *parley.Error about the file", err)
			}
			return
		}
		if img.Width <= 0 || img.Height <= 0 || img.Width > fuzzLimits.MaxSide || img.Height > fuzzLimits.MaxSide ||
			int64(img.Width)*int64(img.Height) > fuzzLimits.MaxPixels {
			t.Fatalf("accepted %d×%d, beyond %+v", img.Width, img.Height, fuzzLimits)
		}
		b := decodeThumb(t, img.Thumb).Bounds()
		if tw, th := thumbSize(img.Width, img.Height); b.Dx() != tw || b.Dy() != th || tw > ThumbSide || th > ThumbSide {
			t.Fatalf("thumbnail is %v for a %d×%d image", b, img.Width, img.Height)
		}
	})
}
