package pdq

import (
	"image"
	"image/color/palette"
	"image/draw"
	"testing"
)

// hashRows feeds img to a RowSampler one row at a time, as a row decoder
// does, skipping the rows the sampler does not want.
func hashRows(img image.Image) ([8]Hash, int) {
	b := img.Bounds()
	s := NewRowSampler(b.Dx(), b.Dy())
	for y := 0; y < b.Dy(); y++ {
		if !s.Wants(y) {
			continue
		}
		row := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(b.Min.X, b.Min.Y+y, b.Max.X, b.Min.Y+y+1))
		s.AddRow(y, row)
	}
	return s.DihedralQuality()
}

// TestRowSamplerMatchesWholeImage: hashing row by row gives the hashes of
// the whole image bit for bit, for every pixel type a decoder returns and
// for every shape (resized or not, stretched, too small to hash).
func TestRowSamplerMatchesWholeImage(t *testing.T) {
	src := decodeFile(t, "q1050.jpg").(*image.YCbCr)
	convert := func(dst draw.Image) image.Image {
		draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
		return dst
	}
	b := src.Bounds()
	images := map[string]image.Image{
		"YCbCr":    src,
		"NRGBA":    convert(image.NewNRGBA(b)),
		"RGBA":     convert(image.NewRGBA(b)),
		"Gray":     convert(image.NewGray(b)),
		"Gray16":   convert(image.NewGray16(b)),
		"RGBA64":   convert(image.NewRGBA64(b)),
		"NRGBA64":  convert(image.NewNRGBA64(b)),
		"CMYK":     convert(image.NewCMYK(b)),
		"Paletted": convert(image.NewPaletted(b, palette.Plan9)),
	}
	// Translucent 16-bit pixels, as a 16-bit RGBA PNG decodes to.
	translucent := image.NewNRGBA64(image.Rect(0, 0, 700, 300))
	for i := 0; i < len(translucent.Pix); i += 8 {
		translucent.Pix[i] = uint8(i)
		translucent.Pix[i+2] = uint8(i >> 8)
		translucent.Pix[i+4] = uint8(i >> 3)
		translucent.Pix[i+6] = uint8(i >> 5)
		translucent.Pix[i+7] = 0x7f
	}
	images["NRGBA64 translucent, stretched"] = translucent
	tall := image.NewGray(image.Rect(0, 0, 90, 1100))
	for i := range tall.Pix {
		tall.Pix[i] = uint8(i * 7 % 253)
	}
	images["Gray tall"] = tall
	images["Gray 64×64"] = tall.SubImage(image.Rect(0, 0, 64, 64))
	images["Gray 300×200"] = tall.SubImage(image.Rect(0, 0, 90, 200))
	images["Gray 4 wide"] = tall.SubImage(image.Rect(0, 0, 4, 200))
	for name, img := range images {
		want, wantQ := DihedralQuality(img)
		got, gotQ := hashRows(img)
		if got != want || gotQ != wantQ {
			t.Errorf("%s: row by row %s/%d, whole image %s/%d", name, got[0], gotQ, want[0], wantQ)
		}
	}
}

// TestRowSamplerNeedsEveryRow: a sampler given too few rows (a decoder that
// stopped early) hashes nothing rather than zeros, and Release is safe.
func TestRowSamplerNeedsEveryRow(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 100, 100))
	s := NewRowSampler(100, 100)
	for y := range 50 {
		s.AddRow(y, m.SubImage(image.Rect(0, y, 100, y+1)))
	}
	if h, q := s.DihedralQuality(); h != [8]Hash{} || q != 0 {
		t.Errorf("half an image hashed: %s %d", h[0], q)
	}
	s.Release()
	if s.Wants(0) {
		t.Error("a released sampler wants rows")
	}
}
