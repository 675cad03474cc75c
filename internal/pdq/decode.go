package pdq

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/webp"
)

// Errors returned by Decode, HashBytes and HashFile, wrapped with details;
// test with errors.Is.
var (
	// ErrUnsupportedFormat: the data is not JPEG, PNG, GIF or WebP.
	ErrUnsupportedFormat = errors.New("unsupported image format")
	// ErrTooLarge: the file, a side, or the pixel count is over the limit.
	// Pixel limits are checked on the header, before any pixel is decoded.
	ErrTooLarge = errors.New("image too large")
	// ErrCorrupt: the data claims a supported format but does not decode.
	ErrCorrupt = errors.New("corrupt image")
)

// Limits bound what Decode accepts, to refuse decompression bombs: a small
// file whose header announces an enormous image.
type Limits struct {
	MaxBytes     int64 // largest encoded file
	MaxDimension int   // largest width or height, in pixels
	MaxPixels    int64 // largest width × height
}

// DefaultLimits allows files up to 64 MiB and images up to 16384 px on a side
// and 50 megapixels (a decoded 50 MP JPEG takes about 75 MB).
var DefaultLimits = Limits{
	MaxBytes:     64 << 20,
	MaxDimension: 16384,
	MaxPixels:    50_000_000,
}

// Format names returned by Decode.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatWebP = "webp"
)

type codec struct {
	decode       func(io.Reader) (image.Image, error)
	decodeConfig func(io.Reader) (image.Config, error)
}

var codecs = map[string]codec{
	FormatJPEG: {jpeg.Decode, jpeg.DecodeConfig},
	FormatPNG:  {png.Decode, png.DecodeConfig},
	FormatGIF:  {gif.Decode, gif.DecodeConfig},
	FormatWebP: {webp.Decode, webp.DecodeConfig},
}

// Sniff returns the format of data from its magic bytes: "jpeg", "png",
// "gif" or "webp", or an error wrapping ErrUnsupportedFormat (naming the
// format when it is a known one we do not decode).
func Sniff(data []byte) (string, error) {
	switch {
	case len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff:
		return FormatJPEG, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG, nil
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF, nil
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP, nil
	}
	if len(data) == 0 {
		return "", fmt.Errorf("%w: empty file", ErrUnsupportedFormat)
	}
	known := ""
	switch {
	case bytes.HasPrefix(data, []byte("BM")):
		known = "BMP"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		known = "TIFF"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		switch string(data[8:12]) {
		case "avif", "avis":
			known = "AVIF"
		case "heic", "heix", "mif1", "msf1", "hevc":
			known = "HEIF/HEIC"
		default:
			known = "ISO media (" + printable(data[8:12]) + ")"
		}
	case bytes.HasPrefix(data, []byte("%PDF")):
		known = "PDF"
	case bytes.HasPrefix(data, []byte("<svg")), bytes.HasPrefix(data, []byte("<?xml")):
		known = "SVG/XML"
	case bytes.HasPrefix(data, []byte("\x00\x00\x01\x00")):
		known = "ICO"
	}
	if known != "" {
		return "", fmt.Errorf("%w: %s (supported: JPEG, PNG, GIF, WebP)", ErrUnsupportedFormat, known)
	}
	return "", fmt.Errorf("%w: unrecognised data starting %q (supported: JPEG, PNG, GIF, WebP)",
		ErrUnsupportedFormat, printable(data[:min(len(data), 8)]))
}

func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out = append(out, c)
	}
	return string(out)
}

// Decode decodes a JPEG, PNG, GIF (first frame) or WebP image, after checking
// the size of data and the dimensions in its header against lim. Errors wrap
// ErrUnsupportedFormat, ErrTooLarge or ErrCorrupt. It returns the format name.
func Decode(data []byte, lim Limits) (img image.Image, format string, err error) {
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: file is %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	format, err = Sniff(data)
	if err != nil {
		return nil, "", err
	}
	c := codecs[format]
	// A decoder must never take the process down on hostile input.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: %s decoder failed: %v", ErrCorrupt, format, r)
		}
	}()
	cfg, err := c.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("%w: %s header: %v", ErrCorrupt, format, err)
	}
	if err := lim.check(cfg.Width, cfg.Height); err != nil {
		return nil, format, err
	}
	img, err = c.decode(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("%w: %s: %v", ErrCorrupt, format, err)
	}
	// The header was checked; make sure the decoder agreed with it.
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		if err := lim.check(b.Dx(), b.Dy()); err != nil {
			return nil, format, err
		}
	}
	return img, format, nil
}

func (lim Limits) check(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: header gives an empty image (%d×%d)", ErrCorrupt, w, h)
	}
	if lim.MaxDimension > 0 && (w > lim.MaxDimension || h > lim.MaxDimension) {
		return fmt.Errorf("%w: %d×%d pixels, limit %d px per side", ErrTooLarge, w, h, lim.MaxDimension)
	}
	if lim.MaxPixels > 0 && int64(w)*int64(h) > lim.MaxPixels {
		return fmt.Errorf("%w: %d×%d = %d pixels, limit %d", ErrTooLarge, w, h, int64(w)*int64(h), lim.MaxPixels)
	}
	return nil
}

// HashBytes decodes an image (JPEG, PNG, GIF or WebP) within DefaultLimits
// and returns its PDQ hash and quality.
func HashBytes(data []byte) (Hash, int, error) {
	return HashBytesLimits(data, DefaultLimits)
}

// HashBytesLimits is HashBytes with explicit limits.
func HashBytesLimits(data []byte, lim Limits) (Hash, int, error) {
	img, _, err := Decode(data, lim)
	if err != nil {
		return Hash{}, 0, err
	}
	h, q := FromImage(img)
	return h, q, nil
}

// HashFile reads, decodes and hashes the image file at path within
// DefaultLimits.
func HashFile(path string) (Hash, int, error) {
	data, err := ReadFile(path, DefaultLimits)
	if err != nil {
		return Hash{}, 0, err
	}
	return HashBytes(data)
}

// ReadFile reads a file, refusing one larger than lim.MaxBytes (wrapping
// ErrTooLarge) before reading it.
func ReadFile(path string, lim Limits) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	if lim.MaxBytes > 0 && fi.Size() > lim.MaxBytes {
		return nil, fmt.Errorf("%w: file is %d bytes, limit %d", ErrTooLarge, fi.Size(), lim.MaxBytes)
	}
	r := io.Reader(f)
	if lim.MaxBytes > 0 {
		r = io.LimitReader(f, lim.MaxBytes+1) // the file may grow while read
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if lim.MaxBytes > 0 && int64(buf.Len()) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: file is over %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	return buf.Bytes(), nil
}

// MD5Hex returns the MD5 digest of data in lower-case hex.
func MD5Hex(data []byte) string {
	s := md5.Sum(data)
	return hex.EncodeToString(s[:])
}

// SHA256Hex returns the SHA-256 digest of data in lower-case hex.
func SHA256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
