package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func refHash(t testing.TB, file string) Hash {
	for _, r := range loadExpected(t) {
		if r.file == file {
			return r.hash
		}
	}
	t.Fatalf("%s not in expected.csv", file)
	return Hash{}
}

func TestParseHashRoundTrip(t *testing.T) {
	for _, r := range loadExpected(t) {
		s := r.hash.String()
		if h, err := ParseHash(strings.ToUpper(s)); err != nil || h != r.hash {
			t.Fatalf("ParseHash(upper %s) = %v, %v", s, h, err)
		}
		var h Hash
		if err := h.UnmarshalText([]byte(s)); err != nil || h != r.hash {
			t.Fatal(err)
		}
		if b, _ := h.MarshalText(); string(b) != s {
			t.Fatal(string(b))
		}
	}
	// The layout: bit 16i+j is coefficient (i, j); word 15 is printed first.
	var h Hash
	h.setBit(0)
	if want := strings.Repeat("0", 63) + "1"; h.String() != want {
		t.Fatalf("bit 0: %s", h)
	}
	h = Hash{}
	h.setBit(255)
	if want := "8" + strings.Repeat("0", 63); h.String() != want {
		t.Fatalf("bit 255: %s", h)
	}
	h = Hash{}
	h.setBit(16 * 15) // word 15, bit 0
	if want := "0001" + strings.Repeat("0", 60); h.String() != want || !h.Bit(240) || h.Bit(241) {
		t.Fatalf("bit 240: %s", h)
	}
	// small.jpg's reference hash has its set bits in the high words' low bits:
	// a featureless image's energy is in the low frequencies of each row.
	if h := refHash(t, "small.jpg"); h.Ones() == 0 || Distance(h, h) != 0 {
		t.Fatal(h)
	}
	if d := Distance(Hash{}, Hash{0xff, 0xff}); d != 16 {
		t.Fatal(d)
	}
}

func TestParseHashErrors(t *testing.T) {
	good := refHash(t, "aaa-orig.jpg").String()
	for _, tc := range []struct{ in, want string }{
		{"", "want 64 hex digits, got 0"},
		{good[:63], "got 63"},
		{good + "0", "got 65"},
		{" " + good[1:], "character 1 (' ')"},
		{good[:10] + "g" + good[11:], "character 11 ('g')"},
		{good[:63] + "\n", "character 64"},
		{"0x" + good[2:], "character 2 ('x')"},
	} {
		_, err := ParseHash(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseHash(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// TestOtherFormats: PNG, GIF and WebP versions of the reference images hash
// near the reference hash of the JPEG they were made from.
func TestOtherFormats(t *testing.T) {
	src := decodeFile(t, "bridge-1-original.jpg")
	ref := refHash(t, "bridge-1-original.jpg")

	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, src); err != nil {
		t.Fatal(err)
	}
	var gifBuf bytes.Buffer // 256 colours, dithered: a rougher copy
	if err := gif.Encode(&gifBuf, src, &gif.Options{NumColors: 256, Quantizer: nil, Drawer: draw.FloydSteinberg}); err != nil {
		t.Fatal(err)
	}
	grey := image.NewGray(src.Bounds())
	draw.Draw(grey, grey.Rect, src, src.Bounds().Min, draw.Src)
	var greyJPEG bytes.Buffer
	if err := jpeg.Encode(&greyJPEG, grey, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
		ref    Hash
		max    int
	}{
		{"png", pngBuf.Bytes(), FormatPNG, ref, 2},
		{"gif", gifBuf.Bytes(), FormatGIF, ref, 16},
		{"grey jpeg", greyJPEG.Bytes(), FormatJPEG, ref, 10},
		{"lossy webp", readTestdata(t, "bridge-1-original.webp"), FormatWebP, ref, 10},
		{"lossless webp", readTestdata(t, "square-128x128.lossless.webp"), FormatWebP, refHash(t, "square-128x128.jpg"), 10},
	} {
		img, format, err := Decode(tc.data, DefaultLimits)
		if err != nil || format != tc.format {
			t.Fatalf("%s: format %q, error %v", tc.name, format, err)
		}
		h, q, err := HashBytes(tc.data)
		if err != nil {
			t.Fatal(err)
		}
		d := Distance(h, tc.ref)
		t.Logf("%-13s %T: distance %d to the reference, quality %d", tc.name, img, d, q)
		if d > tc.max || q < 80 {
			t.Errorf("%s: distance %d (max %d), quality %d", tc.name, d, tc.max, q)
		}
	}
}

// TestPixelTypes: every fast path agrees with the generic one (At).
func TestPixelTypes(t *testing.T) {
	src := decodeFile(t, "q1050.jpg").(*image.YCbCr)
	b := src.Bounds()
	want, _ := FromImage(generic{src})
	check := func(name string, img image.Image, max int) {
		t.Helper()
		h, _ := FromImage(img)
		if d := Distance(h, want); d > max {
			t.Errorf("%s: distance %d to the generic path", name, d)
		}
	}
	check("YCbCr", src, 0)
	nrgba := image.NewNRGBA(b)
	draw.Draw(nrgba, b, src, b.Min, draw.Src)
	check("NRGBA", nrgba, 0)
	rgba := image.NewRGBA(b)
	draw.Draw(rgba, b, src, b.Min, draw.Src)
	check("RGBA", rgba, 0)
	pal := image.NewPaletted(b, palette.Plan9)
	draw.Draw(pal, b, src, b.Min, draw.Src)
	hp, _ := FromImage(pal)
	hg, _ := FromImage(generic{pal})
	if hp != hg {
		t.Errorf("Paletted: fast path %s, generic %s", hp, hg)
	}
	check("Paletted", pal, 24)
	grey := image.NewGray(b)
	draw.Draw(grey, b, src, b.Min, draw.Src)
	hgr, _ := FromImage(grey)
	if hgg, _ := FromImage(generic{grey}); hgr != hgg {
		t.Errorf("Gray: fast path %s, generic %s", hgr, hgg)
	}
	// Sub-images (bounds not at the origin) read the right pixels.
	sub := image.Rect(13, 7, 200, 230)
	for _, img := range []image.Image{src, nrgba, rgba, pal, grey,
		&image.NYCbCrA{YCbCr: *src, A: make([]uint8, b.Dx()*b.Dy()), AStride: b.Dx()}} {
		si := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(sub)
		h1, q1 := FromImage(si)
		h2, q2 := FromImage(generic{si})
		if h1 != h2 || q1 != q2 {
			t.Errorf("%T sub-image: fast %s/%d, generic %s/%d", img, h1, q1, h2, q2)
		}
	}
	// 4:2:2 and 4:4:0 and friends: compare with image/color's conversion.
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio440,
		image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410, image.YCbCrSubsampleRatio444} {
		m := image.NewYCbCr(image.Rect(3, 5, 203, 185), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 7 % 251)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*13%256), uint8(i*29%256)
		}
		h1, _ := FromImage(m)
		h2, _ := FromImage(generic{m})
		if h1 != h2 {
			t.Errorf("%v: fast %s, generic %s", ratio, h1, h2)
		}
	}
}

// generic hides an image's type, forcing the At path.
type generic struct{ image.Image }

func TestTinyAndFlatImages(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 4, 100), image.Rect(0, 0, 100, 4), image.Rect(0, 0, 0, 0)} {
		h, q := FromImage(image.NewGray(r))
		if h != (Hash{}) || q != 0 {
			t.Errorf("%v: %s %d, want the zero hash and quality 0", r, h, q)
		}
		if d := Dihedral(image.NewGray(r)); d != [8]Hash{} {
			t.Errorf("%v: dihedral %v", r, d)
		}
	}
	// A flat image has no detail: quality 0.
	if _, q := FromImage(&image.Gray{Pix: bytes.Repeat([]byte{128}, 300*200), Stride: 300, Rect: image.Rect(0, 0, 300, 200)}); q != 0 {
		t.Errorf("flat image: quality %d", q)
	}
	// 5×5 is the smallest hashed size.
	m := image.NewGray(image.Rect(0, 0, 5, 5))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 40)
	}
	if h, _ := FromImage(m); h.IsZero() {
		t.Error("5×5 image got the zero hash")
	}
}

// pngWithSize returns a valid 1×1 PNG whose IHDR then claims w×h.
func pngWithSize(t testing.TB, w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// Signature (8), IHDR length (4), "IHDR" (4), width, height, ..., CRC.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegWithSize returns a small JPEG whose SOF then claims w×h.
func jpegWithSize(t testing.TB, w, h uint16) []byte {
	b := bytes.Clone(readTestdata(t, "wee.jpg"))
	for i := 2; i+9 < len(b); {
		if b[i] != 0xff {
			t.Fatal("bad marker walk")
		}
		m := b[i+1]
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if m >= 0xc0 && m <= 0xc2 {
			binary.BigEndian.PutUint16(b[i+5:], h)
			binary.BigEndian.PutUint16(b[i+7:], w)
			return b
		}
		i += 2 + n
	}
	t.Fatal("no SOF")
	return nil
}

// TestBadInput: corrupt, truncated, huge and unsupported inputs are refused
// with errors that say what is wrong; the huge ones before any pixel buffer
// is allocated.
func TestBadInput(t *testing.T) {
	jpg := readTestdata(t, "q1050.jpg")
	// A Huffman table whose code counts add up to more than 256 codes.
	corrupt := bytes.Clone(jpg)
	dht := bytes.Index(corrupt, []byte{0xff, 0xc4})
	for i := dht + 5; i < dht+5+16; i++ {
		corrupt[i] = 0xff
	}
	gifHuge := []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00;")
	// VP8X canvas 40000×30000 (width-1 and height-1, 24-bit little-endian).
	webpHuge := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x3f\x9c\x00\x2f\x75\x00")
	binary.LittleEndian.PutUint32(webpHuge[4:], uint32(len(webpHuge)-8))
	for _, tc := range []struct {
		name string
		data []byte
		is   error
		msg  string
	}{
		{"empty", nil, ErrUnsupportedFormat, "empty file"},
		{"text", []byte("hello, world\n"), ErrUnsupportedFormat, `unrecognised data starting "hello, w"`},
		{"bmp", []byte("BM\x00\x00\x00\x00\x00\x00\x00\x00"), ErrUnsupportedFormat, "BMP"},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), ErrUnsupportedFormat, "TIFF"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), ErrUnsupportedFormat, "HEIF/HEIC"},
		{"truncated jpeg", jpg[:len(jpg)/2], ErrCorrupt, "jpeg"},
		{"jpeg header only", jpg[:20], ErrCorrupt, "jpeg header"},
		{"corrupt jpeg", corrupt, ErrCorrupt, "jpeg"},
		{"png magic only", []byte("\x89PNG\r\n\x1a\n"), ErrCorrupt, "png header"},
		{"jpeg 60000×60000", jpegWithSize(t, 60000, 60000), ErrTooLarge, "60000×60000 pixels, limit 16384 px per side"},
		{"png 100000×100000", pngWithSize(t, 100000, 100000), ErrTooLarge, "100000×100000 pixels"},
		{"png 10000×10000", pngWithSize(t, 10000, 10000), ErrTooLarge, "= 100000000 pixels, limit 50000000"},
		{"png 0×10", pngWithSize(t, 0, 10), ErrCorrupt, ""},
		{"gif 65535×65535", gifHuge, ErrTooLarge, "65535×65535"},
		{"webp 40000×30000", webpHuge, ErrTooLarge, "40000×30000"},
	} {
		t0 := time.Now()
		_, _, err := HashBytes(tc.data)
		if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %v containing %q", tc.name, err, tc.is, tc.msg)
			continue
		}
		if el := time.Since(t0); el > time.Second {
			t.Errorf("%s: took %v", tc.name, el)
		}
		t.Logf("%-18s → %v", tc.name, err)
	}
	// The pixel limits are checked on the header, before decoding: refusing
	// a 10000×10000 PNG allocates next to nothing.
	huge := pngWithSize(t, 10000, 10000)
	if a := testing.AllocsPerRun(5, func() { HashBytes(huge) }); a > 50 {
		t.Errorf("refusing a huge PNG made %.0f allocations", a)
	}
	// File size limit, and files that cannot be read.
	if _, _, err := HashBytesLimits(jpg, Limits{MaxBytes: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes: %v", err)
	}
	dir := t.TempDir()
	if _, _, err := HashFile(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := HashFile(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "big.jpg")
	os.WriteFile(big, jpg, 0o644)
	if _, err := ReadFile(big, Limits{MaxBytes: 100}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile limit: %v", err)
	}
}

func TestDigests(t *testing.T) {
	if got := MD5Hex([]byte("abc")); got != "900150983cd24fb0d6963f7d28e17f72" {
		t.Error(got)
	}
	if got := SHA256Hex([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Error(got)
	}
}

// TestLumaRoute keeps the measurement behind lumaFromY: converting Y'CbCr
// to RGB first (as the reference does) is at least as close to the
// reference hashes as reading Y' directly.
func TestLumaRoute(t *testing.T) {
	defer func(v bool) { lumaFromY = v }(lumaFromY)
	var sum, maxD [2]int
	for _, r := range loadExpected(t) {
		if r.quality < 80 {
			continue
		}
		img := decodeFile(t, r.file)
		for i, fromY := range []bool{false, true} {
			lumaFromY = fromY
			h, _ := FromImage(img)
			d := Distance(h, r.hash)
			sum[i] += d
			maxD[i] = max(maxD[i], d)
		}
	}
	t.Logf("via RGB: max %d, total %d; Y' directly: max %d, total %d", maxD[0], sum[0], maxD[1], sum[1])
	if maxD[0] > maxD[1] || sum[0] > sum[1] {
		t.Errorf("the RGB route is no longer the closer one: revisit lumaFromY")
	}
}

// FuzzHashBytes: no input makes decoding and hashing panic; every failure
// is one of the package's errors; every success has a quality in 0..100.
// Seeded with the test images truncated and corrupted.
func FuzzHashBytes(f *testing.F) {
	for _, name := range []string{"wee.jpg", "square-128x128.jpg", "q0003.jpg", "small.jpg", "shrink-a-lot.jpg", "square-128x128.lossless.webp"} {
		data := readTestdata(f, name)
		f.Add(data)
		f.Add(data[:len(data)/3])
		f.Add(data[:200])
		c := bytes.Clone(data)
		for i := 100; i < len(c); i += 61 {
			c[i] ^= 0xa5
		}
		f.Add(c)
	}
	small := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range small.Pix {
		small.Pix[i] = uint8(i * 31)
	}
	var p, g bytes.Buffer
	png.Encode(&p, small)
	gif.Encode(&g, small, nil)
	f.Add(p.Bytes())
	f.Add(g.Bytes())
	f.Add(pngWithSize(f, 3000, 3000))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	// Small limits keep each run fast; the limit check itself is exercised.
	lim := Limits{MaxBytes: 1 << 20, MaxDimension: 2048, MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, q, err := HashBytesLimits(data, lim)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("unexpected error type: %v", err)
			}
			if h != (Hash{}) || q != 0 {
				t.Fatal("hash with an error")
			}
			return
		}
		if q < 0 || q > 100 {
			t.Fatalf("quality %d", q)
		}
	})
}
