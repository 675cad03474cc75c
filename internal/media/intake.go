// Package media checks uploaded images, makes their thumbnails and stores
// their bytes on disk under random names.
//
// An upload is hostile until proven otherwise: a few kilobytes of PNG can
// claim to be 100,000 × 100,000 pixels and make a naive decoder allocate tens
// of gigabytes. Intake therefore reads only the header first and refuses
// anything too large before a single pixel is decoded.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"parley/internal/pdq"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"parley"
)

// ThumbSide is the largest width and height of a thumbnail, in pixels. It is
// large enough for a chat bubble on a high-density phone screen and small
// enough that a page of thumbnails loads quickly.
const ThumbSide = 320

// thumbQuality is the JPEG quality of thumbnails: 80 is where JPEG artefacts
// become hard to see while the file stays a few tens of kilobytes.
const thumbQuality = 80

// Limits bounds what Intake accepts. A zero field means the matching field of
// DefaultLimits, so callers only spell out the limits they change.
type Limits struct {
	// MaxBytes is the largest accepted file, in bytes.
	MaxBytes int64
	// MaxPixels is the largest accepted width × height. It bounds the memory
	// a decoded image takes (4 bytes a pixel, or 8 for 16-bit PNGs), which
	// the file size does not: compression makes huge images small.
	MaxPixels int64
	// MaxSide is the largest accepted width or height, in pixels.
	MaxSide int
	// MaxDecodeBytes is the most memory the decoding of one image may take:
	// the buffers its decoder allocates, worked out from the header before
	// a pixel is decoded (see decodeCost), and the thumbnail's and hashes'
	// working memory. Pixels alone do not bound it: a JPEG stored
	// progressively takes 5 to 24 bytes a pixel while it is decoded.
	MaxDecodeBytes int64
}

// DefaultLimits fit any photo taken by a current phone camera: a 48-megapixel
// JPEG decodes in 72 MB, and PNGs, read row by row, in a few megabytes.
var DefaultLimits = Limits{
	MaxBytes:       10 << 20,
	MaxPixels:      40_000_000,
	MaxSide:        16_384,
	MaxDecodeBytes: 256 << 20,
}

// withDefaults fills the zero fields of lim from DefaultLimits.
func (lim Limits) withDefaults() Limits {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxPixels <= 0 {
		lim.MaxPixels = DefaultLimits.MaxPixels
	}
	if lim.MaxSide <= 0 {
		lim.MaxSide = DefaultLimits.MaxSide
	}
	if lim.MaxDecodeBytes <= 0 {
		lim.MaxDecodeBytes = DefaultLimits.MaxDecodeBytes
	}
	return lim
}

// Image is an upload that passed Intake: its format, size, content hashes
// and a small JPEG thumbnail that the UI can show instead of the full image.
type Image struct {
	Mime   string // "image/jpeg", "image/png", "image/gif" or "image/webp"
	Width  int
	Height int
	SHA256 string // lower-case hex SHA-256 of the uploaded bytes, for the hash banks (never an id)
	Thumb  []byte // JPEG, at most ThumbSide × ThumbSide, same aspect ratio
	// The hashes the hash banks match: the PDQ hashes of the image and of
	// its seven other rotations and flips (Dihedral[0] is the image as
	// uploaded), their quality, and the MD5 of the bytes.
	Dihedral   [8]pdq.Hash
	PDQQuality int
	MD5        string
}

// format is one accepted image format: how to recognise it and decode it.
type format struct {
	mime         string
	magic        func([]byte) bool
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
	// cost tells, from the header, how the image will be decoded and how
	// much memory that takes (decodecost.go).
	cost func(data []byte, cfg image.Config) decodePlan
}

// formats are the only formats Intake accepts. Each is matched by its magic
// bytes and decoded by its own decoder, never by image.Decode's registry, so
// that a decoder registered elsewhere in the program (BMP, TIFF) cannot widen
// what users may upload.
var formats = []format{
	{
		mime:         "image/jpeg",
		magic:        func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) },
		decodeConfig: jpeg.DecodeConfig,
		decode:       jpeg.Decode,
		cost:         jpegCost,
	},
	{
		mime:         "image/png",
		magic:        func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		decodeConfig: png.DecodeConfig,
		decode:       png.Decode,
		cost:         pngCost,
	},
	{
		mime: "image/gif",
		magic: func(b []byte) bool {
			return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
		},
		decodeConfig: gif.DecodeConfig,
		decode:       gif.Decode, // the first frame only
		cost:         gifCost,
	},
	{
		mime: "image/webp",
		magic: func(b []byte) bool {
			return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP"
		},
		decodeConfig: webp.DecodeConfig,
		decode:       webp.Decode,
		cost:         webpCost,
	},
}

// sniff returns the format whose magic bytes start data, or nil.
func sniff(data []byte) *format {
	for i := range formats {
		if formats[i].magic(data) {
			return &formats[i]
		}
	}
	return nil
}

// Intake checks an uploaded image against lim, decodes it and makes its
// thumbnail, with no bound on how many decodes run at once: IntakeWithin
// with no budget.
func Intake(data []byte, lim Limits) (*Image, error) {
	return IntakeWithin(context.Background(), data, lim, nil)
}

// IntakeWithin checks an uploaded image against lim, decodes it within the
// memory budget mem (nil: no budget) and makes its thumbnail. The checks run
// cheapest first so that a hostile file costs as little as possible: the byte
// count, then the magic bytes, then the header's dimensions and the memory
// its decoding would take, and only then, once mem has room for it, the
// pixels.
//
// Every error is a *parley.Error: with Field "file", ETooLarge when a limit is
// exceeded and EInvalid when the file is empty, of a format not accepted or
// corrupt; EUnavailable when mem had no room before its wait ran out or ctx
// ended.
func IntakeWithin(ctx context.Context, data []byte, lim Limits, mem *Budget) (*Image, error) {
	lim = lim.withDefaults()
	if len(data) == 0 {
		return nil, fileError(parley.EInvalid, "the upload is empty: it has no bytes")
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fileError(parley.ETooLarge, "image is larger than the %s limit", formatBytes(lim.MaxBytes))
	}
	f := sniff(data)
	if f == nil {
		return nil, fileError(parley.EInvalid, "unsupported image format; use JPEG, PNG, GIF or WebP")
	}

	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fileError(parley.EInvalid, "image is corrupt: %v", err)
	}
	if err := checkDimensions(cfg.Width, cfg.Height, lim); err != nil {
		return nil, err
	}
	plan := f.cost(data, cfg)
	if plan.bytes > lim.MaxDecodeBytes {
		return nil, fileError(parley.ETooLarge, "decoding this %d×%d %s would take %s of memory; the limit is %s%s",
			cfg.Width, cfg.Height, plan.kind, formatBytes(plan.bytes), formatBytes(lim.MaxDecodeBytes), plan.hint)
	}
	release, err := mem.Acquire(ctx, plan.bytes)
	if err != nil {
		return nil, err
	}
	defer release()

	var (
		thumb    []byte
		dihedral [8]pdq.Hash
		quality  int
	)
	if plan.rows {
		thumb, dihedral, quality, err = intakeRows(data, cfg.Width, cfg.Height)
		if err != nil {
			return nil, err
		}
	} else {
		m, err := f.decode(bytes.NewReader(data))
		if err != nil {
			return nil, fileError(parley.EInvalid, "image is corrupt: %v", err)
		}
		// The decoders check that the pixels they return lie within the header's
		// canvas; this guards the thumbnail code against one that does not.
		if !m.Bounds().In(image.Rect(0, 0, cfg.Width, cfg.Height)) {
			return nil, fileError(parley.EInvalid, "image is corrupt: pixels outside the image")
		}

		thumb, err = thumbnail(m, cfg.Width, cfg.Height)
		if err != nil {
			return nil, fmt.Errorf("media: encode thumbnail: %w", err)
		}
		// Hashed here, from the pixels already decoded, before the image can be
		// stored or attached anywhere: the upload gate matches these.
		dihedral, quality = pdq.DihedralQuality(m)
	}
	return &Image{
		Mime:       f.mime,
		Width:      cfg.Width,
		Height:     cfg.Height,
		SHA256:     hashHex(data),
		Thumb:      thumb,
		Dihedral:   dihedral,
		PDQQuality: quality,
		MD5:        pdq.MD5Hex(data),
	}, nil
}

// intakeRows makes the thumbnail and the hashes of a w×h PNG read one row at
// a time: each row goes to the thumbnail's block averages and, when PDQ
// samples it, to the hash; neither keeps the row. The results are those of
// decoding the whole image first, bit for bit (TestIntakeRowsMatchWhole).
func intakeRows(data []byte, w, h int) (thumb []byte, dihedral [8]pdq.Hash, quality int, err error) {
	tw, th := thumbSize(w, h)
	full := image.Rect(0, 0, w, h)
	dr := image.Rect(0, 0, tw, th)
	sh := newShrinker(full, shrinkFactor(full, dr))
	hs := pdq.NewRowSampler(w, h)
	defer hs.Release()
	err = decodePNGRows(bytes.NewReader(data), func(y int, m image.Image) error {
		hs.AddRow(y, m)
		sh.addRow(m, y)
		return nil
	})
	if err != nil {
		return nil, dihedral, 0, fileError(parley.EInvalid, "image is corrupt: %v", err)
	}
	thumb, err = scaleThumb(sh.out, tw, th, dr)
	if err != nil {
		return nil, dihedral, 0, fmt.Errorf("media: encode thumbnail: %w", err)
	}
	dihedral, quality = hs.DihedralQuality()
	return thumb, dihedral, quality, nil
}

// checkDimensions refuses a header whose size is empty or beyond lim.
func checkDimensions(w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return fileError(parley.EInvalid, "image is corrupt: it has no pixels (%d×%d)", w, h)
	}
	if w > lim.MaxSide || h > lim.MaxSide {
		return fileError(parley.ETooLarge, "image is %d×%d pixels; the limit is %d pixels per side", w, h, lim.MaxSide)
	}
	// Both sides are at most MaxSide (an int), so the product fits in int64.
	if pixels := int64(w) * int64(h); pixels > lim.MaxPixels {
		return fileError(parley.ETooLarge, "image has %d pixels (%d×%d); the limit is %d pixels", pixels, w, h, lim.MaxPixels)
	}
	return nil
}

// thumbSize returns the size of the thumbnail of a w×h image: the largest
// size that fits in ThumbSide × ThumbSide with the same aspect ratio, never
// larger than the image itself and never less than one pixel a side.
func thumbSize(w, h int) (tw, th int) {
	if w <= ThumbSide && h <= ThumbSide {
		return w, h
	}
	if w >= h {
		tw = ThumbSide
		th = int((int64(h)*ThumbSide + int64(w)/2) / int64(w))
	} else {
		th = ThumbSide
		tw = int((int64(w)*ThumbSide + int64(h)/2) / int64(h))
	}
	return max(tw, 1), max(th, 1)
}

// thumbnail scales m, which lies within the w×h canvas, to thumbSize and
// encodes it as JPEG.
func thumbnail(m image.Image, w, h int) ([]byte, error) {
	tw, th := thumbSize(w, h)
	// A GIF's first frame may cover only part of its canvas; map the frame's
	// rectangle onto the thumbnail so it keeps its place. For every other
	// image the frame is the whole canvas and dr is the whole thumbnail.
	b := m.Bounds()
	dr := image.Rect(
		int(int64(b.Min.X)*int64(tw)/int64(w)),
		int(int64(b.Min.Y)*int64(th)/int64(h)),
		int((int64(b.Max.X)*int64(tw)+int64(w)-1)/int64(w)),
		int((int64(b.Max.Y)*int64(th)+int64(h)-1)/int64(h)),
	)
	if k := shrinkFactor(b, dr); k >= 2 {
		m = shrink(m, k)
	}
	return scaleThumb(m, tw, th, dr)
}

// shrinkFactor is how many times an image of bounds b is first shrunk by
// block averages before it is scaled to dr of the thumbnail, or less than 2
// for not at all. Catmull-Rom widens its kernel with the scale factor to
// avoid aliasing, which makes it slow on large images: 2 s for 36
// megapixels. Averaging whole k×k blocks first, down to no less than twice
// the thumbnail size, loses nothing visible and brings that down to about
// 70 ms.
func shrinkFactor(b, dr image.Rectangle) int {
	if dr.Dx() <= 0 || dr.Dy() <= 0 {
		return 0
	}
	return min(b.Dx()/(2*dr.Dx()), b.Dy()/(2*dr.Dy()))
}

// scaleThumb scales m onto dr of a tw×th thumbnail and encodes it as JPEG.
// JPEG has no transparency, so the image is drawn over white: a transparent
// logo then looks as it does on a light page rather than turning black.
func scaleThumb(m image.Image, tw, th int, dr image.Rectangle) ([]byte, error) {
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dr, m, m.Bounds(), draw.Over, nil)

	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shrink returns m reduced k times in each direction, each pixel the average
// of a k×k block (smaller at the right and bottom edges).
func shrink(m image.Image, k int) *image.RGBA {
	b := m.Bounds()
	s := newShrinker(b, k)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		s.addRow(m, y)
	}
	return s.out
}

// A shrinker computes shrink's block averages from rows given one at a time,
// top to bottom, so that it needs neither the whole image nor a full-size
// copy of it. It works on premultiplied RGBA, so transparent pixels do not
// darken their neighbours.
type shrinker struct {
	b    image.Rectangle // the bounds of the image
	k    int
	out  *image.RGBA
	row  *image.RGBA // one row of the image, converted
	sums []uint32    // at most k*k*255: no overflow for any k < 4096
}

func newShrinker(b image.Rectangle, k int) *shrinker {
	w, h := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	return &shrinker{
		b:    b,
		k:    k,
		out:  image.NewRGBA(image.Rect(0, 0, w, h)),
		row:  image.NewRGBA(image.Rect(0, 0, b.Dx(), 1)),
		sums: make([]uint32, 4*w),
	}
}

// addRow adds row y of the image, read from m (the whole image, or any image
// that has row y).
func (s *shrinker) addRow(m image.Image, y int) {
	b, k := s.b, s.k
	draw.Draw(s.row, s.row.Bounds(), m, image.Pt(b.Min.X, y), draw.Src)
	for x := 0; x < b.Dx(); x++ {
		sum, p := s.sums[x/k*4:x/k*4+4], s.row.Pix[x*4:x*4+4]
		sum[0] += uint32(p[0])
		sum[1] += uint32(p[1])
		sum[2] += uint32(p[2])
		sum[3] += uint32(p[3])
	}
	oy := (y - b.Min.Y) / k
	y0 := b.Min.Y + oy*k
	y1 := min(y0+k, b.Max.Y)
	if y+1 < y1 {
		return // the block of rows goes on
	}
	o := s.out.Pix[oy*s.out.Stride:]
	for ox := range s.out.Rect.Dx() {
		n := uint32((min((ox+1)*k, b.Dx()) - ox*k) * (y1 - y0))
		for c := range 4 {
			o[ox*4+c] = uint8((s.sums[ox*4+c] + n/2) / n)
		}
	}
	clear(s.sums)
}

// fileError returns an error about the "file" field of an upload form.
func fileError(code, format string, args ...any) *parley.Error {
	e := parley.Errorf(code, format, args...)
	e.Field = "file"
	return e
}

// formatBytes writes n the way a person reads a size limit: "10 MiB".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// hashHex returns the lower-case hex SHA-256 of b.
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
