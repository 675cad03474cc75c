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
}

// DefaultLimits fit any photo taken by a current phone camera while keeping
// one decoded image under about 320 MB in the worst case (a 16-bit PNG).
var DefaultLimits = Limits{
	MaxBytes:  10 << 20,
	MaxPixels: 40_000_000,
	MaxSide:   16_384,
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
	},
	{
		mime:         "image/png",
		magic:        func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		decodeConfig: png.DecodeConfig,
		decode:       png.Decode,
	},
	{
		mime: "image/gif",
		magic: func(b []byte) bool {
			return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
		},
		decodeConfig: gif.DecodeConfig,
		decode:       gif.Decode, // the first frame only
	},
	{
		mime: "image/webp",
		magic: func(b []byte) bool {
			return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP"
		},
		decodeConfig: webp.DecodeConfig,
		decode:       webp.Decode,
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
// thumbnail. The checks run cheapest first so that a hostile file costs as
// little as possible: the byte count, then the magic bytes, then the header's
// dimensions, and only then the pixels.
//
// Every error is a *parley.Error with Field "file": ETooLarge when a limit is
// exceeded, EInvalid when the format is not accepted or the file is corrupt.
func Intake(data []byte, lim Limits) (*Image, error) {
	lim = lim.withDefaults()
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

	m, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fileError(parley.EInvalid, "image is corrupt: %v", err)
	}
	// The decoders check that the pixels they return lie within the header's
	// canvas; this guards the thumbnail code against one that does not.
	if !m.Bounds().In(image.Rect(0, 0, cfg.Width, cfg.Height)) {
		return nil, fileError(parley.EInvalid, "image is corrupt: pixels outside the image")
	}

	thumb, err := thumbnail(m, cfg.Width, cfg.Height)
	if err != nil {
		return nil, fmt.Errorf("media: encode thumbnail: %w", err)
	}
	// Hashed here, from the pixels already decoded, before the image can be
	// stored or attached anywhere: the upload gate matches these.
	dihedral, quality := pdq.DihedralQuality(m)
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
// encodes it as JPEG. JPEG has no transparency, so the image is drawn over
// white: a transparent logo then looks as it does on a light page rather than
// turning black.
func thumbnail(m image.Image, w, h int) ([]byte, error) {
	tw, th := thumbSize(w, h)
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

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
	// Catmull-Rom widens its kernel with the scale factor to avoid aliasing,
	// which makes it slow on large images: 2 s for 36 megapixels. Averaging
	// whole k×k blocks first, down to no less than twice the thumbnail size,
	// loses nothing visible and brings that down to about 70 ms.
	if k := min(b.Dx()/(2*dr.Dx()), b.Dy()/(2*dr.Dy())); k >= 2 {
		m = shrink(m, k)
		b = m.Bounds()
	}
	draw.CatmullRom.Scale(dst, dr, m, b, draw.Over, nil)

	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shrink returns m reduced k times in each direction, each pixel the average
// of a k×k block (smaller at the right and bottom edges). It works on
// premultiplied RGBA, so transparent pixels do not darken their neighbours,
// and converts one row at a time, so it needs no full-size copy of m.
func shrink(m image.Image, k int) *image.RGBA {
	b := m.Bounds()
	w, h := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	row := image.NewRGBA(image.Rect(0, 0, b.Dx(), 1))
	sums := make([]uint32, 4*w) // at most k*k*255: no overflow for any k < 4096
	for oy := range h {
		clear(sums)
		y0 := b.Min.Y + oy*k
		y1 := min(y0+k, b.Max.Y)
		for y := y0; y < y1; y++ {
			draw.Draw(row, row.Bounds(), m, image.Pt(b.Min.X, y), draw.Src)
			for x := 0; x < b.Dx(); x++ {
				s, p := sums[x/k*4:x/k*4+4], row.Pix[x*4:x*4+4]
				s[0] += uint32(p[0])
				s[1] += uint32(p[1])
				s[2] += uint32(p[2])
				s[3] += uint32(p[3])
			}
		}
		o := out.Pix[oy*out.Stride:]
		for ox := range w {
			n := uint32((min((ox+1)*k, b.Dx()) - ox*k) * (y1 - y0))
			for c := range 4 {
				o[ox*4+c] = uint8((sums[ox*4+c] + n/2) / n)
			}
		}
	}
	return out
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
