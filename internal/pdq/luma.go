package pdq

import (
	"image"
	"image/color"
)

// fillLuma writes the luminance of img at columns xs and rows ys (relative
// to img.Bounds().Min) into out, row-major len(ys)×len(xs). The common decoded types
// are read directly from their pixel slices; anything else goes through
// image.Image.At.
func fillLuma(img image.Image, xs, ys []int, out []float32) {
	switch m := img.(type) {
	case *image.YCbCr:
		lumaYCbCr(m, xs, ys, out)
	case *image.NYCbCrA:
		lumaYCbCr(&m.YCbCr, xs, ys, out)
	case *image.Gray:
		cols := len(xs)
		for i, y := range ys {
			row := m.Pix[y*m.Stride:]
			o := out[i*cols : (i+1)*cols]
			for j, x := range xs {
				o[j] = float32(row[x])
			}
		}
	case *image.RGBA:
		// Decoders return *image.RGBA only for opaque images, where
		// premultiplied and plain colours agree.
		lumaRGBA8(m.Pix, m.Stride, xs, ys, out)
	case *image.NRGBA:
		// Colour without alpha, as the reference reads the first three
		// channels of an RGBA image.
		lumaRGBA8(m.Pix, m.Stride, xs, ys, out)
	case *image.Paletted:
		var lut [256]float32
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			lut[i] = luma8(n.R, n.G, n.B)
		}
		cols := len(xs)
		for i, y := range ys {
			row := m.Pix[y*m.Stride:]
			o := out[i*cols : (i+1)*cols]
			for j, x := range xs {
				o[j] = lut[row[x]]
			}
		}
	default:
		cols := len(xs)
		min := img.Bounds().Min
		for i, y := range ys {
			o := out[i*cols : (i+1)*cols]
			for j, x := range xs {
				r, g, b := plainRGB8(m.At(min.X+x, min.Y+y))
				o[j] = luma8(r, g, b)
			}
		}
	}
}

// luma8 is the reference's luminance of an 8-bit RGB pixel: the float32
// products 0.299 R, 0.587 G, 0.114 B (from a table) added in that order.
func luma8(r, g, b uint8) float32 {
	return lumaTable[0][r] + lumaTable[1][g] + lumaTable[2][b]
}

var lumaTable = func() (t [3][256]float32) {
	for v := range 256 {
		t[0][v] = lumaR * float32(v)
		t[1][v] = lumaG * float32(v)
		t[2][v] = lumaB * float32(v)
	}
	return t
}()

// plainRGB8 returns the 8-bit non-premultiplied colour channels of c.
func plainRGB8(c color.Color) (uint8, uint8, uint8) {
	switch c := c.(type) {
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.NYCbCrA: // colour without alpha, like NRGBA
		return ycbcrToRGB(c.Y, c.Cb, c.Cr)
	case color.Gray:
		return c.Y, c.Y, c.Y
	}
	r, g, b, a := c.RGBA()
	if a == 0 {
		return 0, 0, 0
	}
	if a != 0xffff {
		r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
	}
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

func lumaRGBA8(pix []uint8, stride int, xs, ys []int, out []float32) {
	cols := len(xs)
	for i, y := range ys {
		row := pix[y*stride:]
		o := out[i*cols : (i+1)*cols]
		for j, x := range xs {
			p := row[4*x : 4*x+3 : 4*x+3]
			o[j] = luma8(p[0], p[1], p[2])
		}
	}
}

// lumaFromY selects how JPEG/WebP pixels (Y'CbCr) become luminance. The
// reference converts to 8-bit RGB (libjpeg) and then takes 0.299 R + 0.587 G
// + 0.114 B, which is the Y' channel give or take rounding and clipping.
// Measured on testdata/pdq (26 images of quality ≥ 80), the distance to the
// reference hashes is: via RGB (image/color's conversion, chroma replicated
// as image/jpeg leaves it) max 8, mean 0.54; Y' read directly max 10, mean
// 0.85; via RGB with libjpeg-style "fancy" chroma interpolation max 10, mean
// 0.69. So the RGB route is used; reading Y' directly would not skip any
// decoding work anyway. TestLumaRoute keeps the comparison.
var lumaFromY = false

// lumaYCbCr converts the sampled Y'CbCr pixels to RGB as image/color does
// (JFIF full-range, 16.16 fixed point, clipped to 0..255) and takes the
// reference's luminance.
func lumaYCbCr(m *image.YCbCr, xs, ys []int, out []float32) {
	cols := len(xs)
	// Chroma subsampling: how many luma pixels share a chroma sample
	// across and down (image.YCbCr.COffset's arithmetic).
	hs, vs := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	}
	min := m.Rect.Min
	var cxBuf [resizeLimit]int
	cx := cxBuf[:0]
	for _, x := range xs {
		cx = append(cx, (min.X+x)/hs-min.X/hs)
	}
	for i, y := range ys {
		yrow := m.Y[y*m.YStride:]
		o := out[i*cols : (i+1)*cols]
		if lumaFromY {
			for j, x := range xs {
				o[j] = float32(yrow[x])
			}
			continue
		}
		coff := ((min.Y+y)/vs - min.Y/vs) * m.CStride
		cbrow := m.Cb[coff:]
		crrow := m.Cr[coff:]
		for j, x := range xs {
			// ycbcrToRGB and luma8, written out: a call per pixel was
			// half the cost of hashing.
			c := cx[j]
			yy1 := int32(yrow[x]) * 0x10101
			cb1 := int32(cbrow[c]) - 128
			cr1 := int32(crrow[c]) - 128
			r := yy1 + 91881*cr1
			if uint32(r)&0xff000000 == 0 {
				r >>= 16
			} else {
				r = ^(r >> 31) & 0xff
			}
			g := yy1 - 22554*cb1 - 46802*cr1
			if uint32(g)&0xff000000 == 0 {
				g >>= 16
			} else {
				g = ^(g >> 31) & 0xff
			}
			b := yy1 + 116130*cb1
			if uint32(b)&0xff000000 == 0 {
				b >>= 16
			} else {
				b = ^(b >> 31) & 0xff
			}
			o[j] = lumaTable[0][uint8(r)] + lumaTable[1][uint8(g)] + lumaTable[2][uint8(b)]
		}
	}
}

// ycbcrToRGB is image/color.YCbCrToRGB, inlined here.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	b := yy1 + 116130*cb1
	if uint32(b)&0xff000000 == 0 {
		b >>= 16
	} else {
		b = ^(b >> 31)
	}
	return uint8(r), uint8(g), uint8(b)
}
