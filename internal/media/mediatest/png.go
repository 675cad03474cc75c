// Package mediatest makes image files for tests: PNGs of any colour type,
// bit depth and size, with or without transparency chunks and Adam7
// interlacing, written one row at a time, so that a test can make a
// 40-megapixel file (which compresses to a few hundred kilobytes) without
// holding its pixels.
package mediatest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// PNG colour types.
const (
	Gray      = 0
	RGB       = 2
	Paletted  = 3
	GrayAlpha = 4
	RGBA      = 6
)

// A PNG describes a file to write.
type PNG struct {
	Width, Height int
	Depth         int // bits per sample: 1, 2, 4, 8 or 16
	ColorType     int
	// Interlaced writes Adam7 passes; only for depths of 8 and 16.
	Interlaced bool
	// PLTE and TRNS, when not nil, are the contents of those chunks.
	PLTE, TRNS []byte
	// Filters, when not empty, are the row filters to use, cycled row by
	// row (0 none, 1 sub, 2 up, 3 average, 4 Paeth); empty cycles all five.
	Filters []int
	// Row fills raw with row y of the image as PNG stores it (samples
	// big-endian, sub-byte pixels packed from the most significant bit),
	// without the filter byte.
	Row func(y int, raw []byte)
}

// Channels is the number of samples in a pixel of the colour type.
func Channels(colorType int) int {
	switch colorType {
	case RGB:
		return 3
	case GrayAlpha:
		return 2
	case RGBA:
		return 4
	}
	return 1
}

// Encode writes the file. Row filters cycle through all five kinds (none,
// sub, up, average, Paeth) unless Filters says otherwise, so that a
// decoder's unfiltering is exercised.
func (p PNG) Encode() []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(p.Width))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(p.Height))
	interlace := byte(0)
	if p.Interlaced {
		interlace = 1
	}
	ihdr = append(ihdr, byte(p.Depth), byte(p.ColorType), 0, 0, interlace)
	chunk(&out, "IHDR", ihdr)
	if p.PLTE != nil {
		chunk(&out, "PLTE", p.PLTE)
	}
	if p.TRNS != nil {
		chunk(&out, "tRNS", p.TRNS)
	}
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	bitsPP := p.Depth * Channels(p.ColorType)
	rowBytes := func(w int) int { return (w*bitsPP + 7) / 8 }
	raw := make([]byte, rowBytes(p.Width))
	if !p.Interlaced {
		f := newFilterer(rowBytes(p.Width), max(1, bitsPP/8))
		for y := range p.Height {
			p.Row(y, raw)
			zw.Write(f.filter(raw, p.filterFor(y)))
		}
	} else {
		bpp := bitsPP / 8
		for pass, a := range adam7 {
			w := (p.Width - a.x0 + a.dx - 1) / a.dx
			h := (p.Height - a.y0 + a.dy - 1) / a.dy
			if w <= 0 || h <= 0 {
				continue
			}
			f := newFilterer(w*bpp, bpp)
			sub := make([]byte, w*bpp)
			for i := range h {
				p.Row(a.y0+i*a.dy, raw)
				for j := range w {
					x := a.x0 + j*a.dx
					copy(sub[j*bpp:(j+1)*bpp], raw[x*bpp:(x+1)*bpp])
				}
				zw.Write(f.filter(sub, p.filterFor(i+pass)))
			}
		}
	}
	zw.Close()
	// Split the data into two IDAT chunks, as encoders that stream do.
	data := idat.Bytes()
	chunk(&out, "IDAT", data[:len(data)/2])
	chunk(&out, "IDAT", data[len(data)/2:])
	chunk(&out, "IEND", nil)
	return out.Bytes()
}

func (p PNG) filterFor(i int) int {
	if len(p.Filters) == 0 {
		return i % 5
	}
	return p.Filters[i%len(p.Filters)]
}

var adam7 = []struct{ x0, y0, dx, dy int }{
	{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2},
}

func chunk(out *bytes.Buffer, typ string, data []byte) {
	binary.Write(out, binary.BigEndian, uint32(len(data)))
	typed := append([]byte(typ), data...)
	out.Write(typed)
	binary.Write(out, binary.BigEndian, crc32.ChecksumIEEE(typed))
}

// filterer applies PNG row filters, keeping the previous raw row.
type filterer struct {
	prev, out []byte
	bpp       int
}

func newFilterer(n, bpp int) *filterer {
	return &filterer{prev: make([]byte, n), out: make([]byte, n+1), bpp: bpp}
}

func (f *filterer) filter(cur []byte, kind int) []byte {
	f.out[0] = byte(kind)
	o := f.out[1:]
	for i, c := range cur {
		var a, b, cc byte
		if i >= f.bpp {
			a, cc = cur[i-f.bpp], f.prev[i-f.bpp]
		}
		b = f.prev[i]
		switch kind {
		case 0:
			o[i] = c
		case 1:
			o[i] = c - a
		case 2:
			o[i] = c - b
		case 3:
			o[i] = c - byte((int(a)+int(b))/2)
		case 4:
			o[i] = c - paeth(a, b, cc)
		}
	}
	copy(f.prev, cur)
	return f.out
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	} else if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
