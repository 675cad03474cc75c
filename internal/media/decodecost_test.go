package media

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"parley"
	"parley/internal/media/mediatest"
)

// costCases are files of every kind intake decodes whole: JPEG baseline and
// progressive, 4:2:0, 4:4:4, grey and CMYK (made with ImageMagick, in
// testdata), PNGs of each pixel type (small enough not to be read row by
// row) and interlaced, GIF, and WebP lossy and lossless.
func costCases(t *testing.T) map[string][]byte {
	read := func(path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	pdqData := func(name string) []byte { return read(filepath.Join("..", "..", "testdata", "pdq", name)) }
	src := gradient(600, 400)
	conv := func(dst draw.Image) image.Image {
		draw.Draw(dst, dst.Bounds(), src, image.Point{}, draw.Src)
		return dst
	}
	b := src.Bounds()
	translucent := image.NewNRGBA64(b)
	for i := range translucent.Pix {
		translucent.Pix[i] = uint8(i * 7)
	}
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, src, nil); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"jpeg baseline 4:2:0":        pdqData("q1050.jpg"),
		"jpeg progressive 4:4:4":     pdqData("bridge-2-rotate-90.jpg"),
		"jpeg progressive 4:2:0":     pdqData("small.jpg"),
		"jpeg progressive 4:4:4 (2)": read("testdata/progressive-444.jpg"),
		"jpeg grey":                  encodeJPEG(t, conv(image.NewGray(b))),
		"jpeg cmyk":                  read("testdata/cmyk.jpg"),
		"jpeg cmyk progressive":      read("testdata/cmyk-progressive.jpg"),
		"png gray":                   encodePNG(t, conv(image.NewGray(b))),
		"png gray16":                 encodePNG(t, conv(image.NewGray16(b))),
		"png rgb":                    encodePNG(t, conv(image.NewRGBA(b))),
		"png rgba":                   encodePNG(t, translucentNRGBA(600, 400)),
		"png rgba16":                 encodePNG(t, translucent),
		"png paletted":               encodePNG(t, conv(image.NewPaletted(b, palette.Plan9))),
		"png gray+tRNS":              pngVariant{colorType: mediatest.Gray, depth: 8, trns: []byte{0, 9}}.file(600, 400, false),
		"png interlaced rgba16":      read("testdata/interlaced-rgba16.png"),
		"png interlaced rgb8":        pngVariant{colorType: mediatest.RGB, depth: 8}.file(600, 400, true),
		"gif":                        gifBuf.Bytes(),
		"webp lossy":                 pdqData("bridge-1-original.webp"),
		"webp lossless":              pdqData("square-128x128.lossless.webp"),
		"webp lossless solid":        solidWebP(600, 400, color.NRGBA{9, 8, 7, 255}),
	}
}

func translucentNRGBA(w, h int) *image.NRGBA {
	m := gradient(w, h)
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = uint8(i)
	}
	return m
}

// TestDecodeCostCoversTheDecoder: the memory the cost estimate promises,
// worked out from the header alone, covers every byte the decoder then
// allocates (garbage included), and is not wildly more.
func TestDecodeCostCoversTheDecoder(t *testing.T) {
	for name, data := range costCases(t) {
		f := sniff(data)
		cfg, err := f.decodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan := f.cost(data, cfg)
		if plan.rows {
			t.Fatalf("%s: read row by row; this test is for whole decodes", name)
		}
		promised := plan.bytes - processingBytes(cfg.Width, cfg.Height)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := f.decode(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		allocated := int64(after.TotalAlloc - before.TotalAlloc)
		t.Logf("%-26s %T %4d×%-4d promised %9d allocated %9d (%.2f B/px)", name, m, cfg.Width, cfg.Height,
			promised, allocated, float64(allocated)/float64(cfg.Width*cfg.Height))
		// Huffman tables, bufio and inflate state: a fixed 64 KiB.
		if allocated > promised+64<<10 {
			t.Errorf("%s: the decoder allocated %d bytes, more than the %d promised", name, allocated, promised)
		}
		if promised > 3*allocated+64<<10 {
			t.Errorf("%s: promised %d bytes for a decode that allocated %d", name, promised, allocated)
		}
	}
}

// TestIntakeRefusesCostlyDecodes: images within the pixel limits whose
// decoding would take more memory than MaxDecodeBytes are refused from
// their header, saying how much and what to do; the same images pass a
// limit that covers them.
func TestIntakeRefusesCostlyDecodes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pdq", "bridge-2-rotate-90.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := sniff(data).decodeConfig(bytes.NewReader(data))
	cost := jpegCost(data, cfg).bytes
	for _, tt := range []struct {
		name string
		data []byte
		lim  int64
		want string
	}{
		{"progressive jpeg", data, cost - 1, "save it as a baseline (not progressive) JPEG"},
		{"interlaced png", pngVariant{colorType: mediatest.RGBA, depth: 16}.file(900, 700, true), 8 << 20, "interlaced 16-bit PNG would take"},
		{"lossless webp", solidWebP(4000, 4000, color.NRGBA{A: 255}), 64 << 20, "lossless WebP would take"},
	} {
		_, err := Intake(tt.data, Limits{MaxDecodeBytes: tt.lim})
		if parley.ErrorCode(err) != parley.ETooLarge || !strings.Contains(parley.ErrorMessage(err), tt.want) ||
			!strings.Contains(parley.ErrorMessage(err), "the limit is "+formatBytes(tt.lim)) {
			t.Errorf("%s: %v, want too_large saying %q", tt.name, err, tt.want)
		}
		if _, err := Intake(tt.data, Limits{MaxDecodeBytes: 1 << 30}); err != nil {
			t.Errorf("%s within a large enough limit: %v", tt.name, err)
		}
	}
}
