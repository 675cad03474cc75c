package media

// A PNG decoder that hands out one row at a time instead of building the
// whole image, so that intake can make the thumbnail and the PDQ hashes of a
// large PNG while holding only a few rows: a 6300×6300 16-bit PNG takes
// 317 MB as an image and about 100 KB as rows.
//
// The chunk parsing, filters and pixel conversions follow Go's image/png
// (reader.go, Copyright 2011 The Go Authors, BSD-style licence) step by step,
// so that each row has the type and the values that png.Decode's image would
// have in that row, and the same files are accepted and refused;
// FuzzPNGRows checks both against png.Decode. Interlaced (Adam7) files are
// not read here: their rows arrive in seven passes, and intake decodes them
// whole, within the decoding memory budget.

import (
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"image"
	"image/color"
	"io"
)

// PNG colour types and the combinations of colour type and bit depth, as in
// image/png.
const (
	pngGrayscale      = 0
	pngTrueColor      = 2
	pngPaletted       = 3
	pngGrayscaleAlpha = 4
	pngTrueColorAlpha = 6
)

const (
	cbInvalid = iota
	cbG1
	cbG2
	cbG4
	cbG8
	cbGA8
	cbTC8
	cbP1
	cbP2
	cbP4
	cbP8
	cbTCA8
	cbG16
	cbGA16
	cbTC16
	cbTCA16
)

// The stages of a PNG file, for the chunk order checks.
const (
	pngStart = iota
	pngSeenIHDR
	pngSeenPLTE
	pngSeentRNS
	pngSeenIDAT
	pngSeenIEND
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// errPNGInterlaced is returned for Adam7 files, which are not read row by row.
var errPNGInterlaced = errors.New("png: interlaced")

// pngIHDR is what intake needs from a PNG's header before choosing how to
// decode it: the header is the first chunk, at a fixed place.
type pngIHDR struct {
	width, height int
	depth         int
	colorType     int
	interlaced    bool
	trns          bool // a tRNS chunk: grey and colour decode with alpha
}

// readPNGIHDR reads the header of data, or reports false when data does not
// start with one (png.DecodeConfig then says what is wrong).
func readPNGIHDR(data []byte) (pngIHDR, bool) {
	if len(data) < 8+8+13 || string(data[:8]) != pngSignature || string(data[12:16]) != "IHDR" {
		return pngIHDR{}, false
	}
	h := data[16:29]
	return pngIHDR{
		width:      int(int32(binary.BigEndian.Uint32(h[0:4]))),
		height:     int(int32(binary.BigEndian.Uint32(h[4:8]))),
		depth:      int(h[8]),
		colorType:  int(h[9]),
		interlaced: h[12] != 0,
		trns:       pngHasTRNS(data),
	}, true
}

// pngHasTRNS reports whether a tRNS chunk comes before the pixel data, where
// image/png reads it; it reports true when the chunks cannot be followed, so
// that the cost is not underestimated.
func pngHasTRNS(data []byte) bool {
	for i := 8; ; {
		if i+8 > len(data) {
			return true
		}
		n := int64(binary.BigEndian.Uint32(data[i:]))
		switch string(data[i+4 : i+8]) {
		case "tRNS":
			return true
		case "IDAT", "IEND":
			return false
		}
		if int64(i)+12+n > int64(len(data)) {
			return true
		}
		i += 12 + int(n)
	}
}

// decodedBytesPerPixel is the size of a pixel of the image png.Decode returns
// for this header: 1 for grey and paletted, 2 for 16-bit grey, 4 for 8-bit
// colour, grey and alpha or grey with transparency, 8 for 16-bit colour,
// alpha or transparency.
func (h pngIHDR) decodedBytesPerPixel() int64 {
	switch {
	case h.colorType == pngPaletted:
		return 1
	case h.colorType == pngGrayscale && !h.trns:
		return max(1, int64(h.depth)/8)
	case h.depth == 16:
		return 8
	}
	return 4
}

// pngRowDecoder is the state of one decode (image/png's decoder, without
// the image).
type pngRowDecoder struct {
	r             io.Reader
	crc           hash.Hash32
	width, height int
	depth         int
	palette       color.Palette
	cb            int
	stage         int
	idatLength    uint32
	tmp           [3 * 256]byte
	interlace     int
	row           func(y int, m image.Image) error

	useTransparent bool
	transparent    [6]byte
}

// decodePNGRows decodes a non-interlaced PNG, calling row with each row from
// top to bottom: m is one pixel high, spans (0, y)–(width, y+1), has the type
// png.Decode would return and is reused for the next row. An error from row
// stops the decode and is returned as is. An interlaced file gives
// errPNGInterlaced before any row.
func decodePNGRows(r io.Reader, row func(y int, m image.Image) error) error {
	d := &pngRowDecoder{r: r, crc: crc32.NewIEEE(), row: row}
	if _, err := io.ReadFull(d.r, d.tmp[:len(pngSignature)]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if string(d.tmp[:len(pngSignature)]) != pngSignature {
		return pngFormatError("not a PNG file")
	}
	for d.stage != pngSeenIEND {
		if err := d.parseChunk(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

type pngFormatError string

func (e pngFormatError) Error() string { return "png: invalid format: " + string(e) }

type pngUnsupportedError string

func (e pngUnsupportedError) Error() string { return "png: unsupported feature: " + string(e) }

var pngChunkOrderError = pngFormatError("chunk out of order")

func (d *pngRowDecoder) parseIHDR(length uint32) error {
	if length != 13 {
		return pngFormatError("bad IHDR length")
	}
	if _, err := io.ReadFull(d.r, d.tmp[:13]); err != nil {
		return err
	}
	d.crc.Write(d.tmp[:13])
	if d.tmp[10] != 0 {
		return pngUnsupportedError("compression method")
	}
	if d.tmp[11] != 0 {
		return pngUnsupportedError("filter method")
	}
	if d.tmp[12] != 0 && d.tmp[12] != 1 {
		return pngFormatError("invalid interlace method")
	}
	d.interlace = int(d.tmp[12])
	w := int32(binary.BigEndian.Uint32(d.tmp[0:4]))
	h := int32(binary.BigEndian.Uint32(d.tmp[4:8]))
	if w <= 0 || h <= 0 {
		return pngFormatError("non-positive dimension")
	}
	// There can be up to 8 bytes per pixel, for 16 bits per channel RGBA.
	if n := int64(w) * int64(h); n != (n*8)/8 {
		return pngUnsupportedError("dimension overflow")
	}
	d.cb = cbInvalid
	d.depth = int(d.tmp[8])
	switch d.depth {
	case 1:
		switch d.tmp[9] {
		case pngGrayscale:
			d.cb = cbG1
		case pngPaletted:
			d.cb = cbP1
		}
	case 2:
		switch d.tmp[9] {
		case pngGrayscale:
			d.cb = cbG2
		case pngPaletted:
			d.cb = cbP2
		}
	case 4:
		switch d.tmp[9] {
		case pngGrayscale:
			d.cb = cbG4
		case pngPaletted:
			d.cb = cbP4
		}
	case 8:
		switch d.tmp[9] {
		case pngGrayscale:
			d.cb = cbG8
		case pngTrueColor:
			d.cb = cbTC8
		case pngPaletted:
			d.cb = cbP8
		case pngGrayscaleAlpha:
			d.cb = cbGA8
		case pngTrueColorAlpha:
			d.cb = cbTCA8
		}
	case 16:
		switch d.tmp[9] {
		case pngGrayscale:
			d.cb = cbG16
		case pngTrueColor:
			d.cb = cbTC16
		case pngGrayscaleAlpha:
			d.cb = cbGA16
		case pngTrueColorAlpha:
			d.cb = cbTCA16
		}
	}
	if d.cb == cbInvalid {
		return pngUnsupportedError(fmt.Sprintf("bit depth %d, color type %d", d.tmp[8], d.tmp[9]))
	}
	d.width, d.height = int(w), int(h)
	return d.verifyChecksum()
}

func (d *pngRowDecoder) parsePLTE(length uint32) error {
	np := int(length / 3)
	if length%3 != 0 || np <= 0 || np > 256 || np > 1<<uint(d.depth) {
		return pngFormatError("bad PLTE length")
	}
	n, err := io.ReadFull(d.r, d.tmp[:3*np])
	if err != nil {
		return err
	}
	d.crc.Write(d.tmp[:n])
	switch d.cb {
	case cbP1, cbP2, cbP4, cbP8:
		// Entries past the palette are opaque black, as in image/png: some
		// files use indexes the palette does not have.
		d.palette = make(color.Palette, 256)
		for i := 0; i < np; i++ {
			d.palette[i] = color.RGBA{d.tmp[3*i+0], d.tmp[3*i+1], d.tmp[3*i+2], 0xff}
		}
		for i := np; i < 256; i++ {
			d.palette[i] = color.RGBA{0x00, 0x00, 0x00, 0xff}
		}
		d.palette = d.palette[:np]
	case cbTC8, cbTCA8, cbTC16, cbTCA16:
		// Optional and ignorable for true colour.
	default:
		return pngFormatError("PLTE, color type mismatch")
	}
	return d.verifyChecksum()
}

func (d *pngRowDecoder) parsetRNS(length uint32) error {
	switch d.cb {
	case cbG1, cbG2, cbG4, cbG8, cbG16:
		if length != 2 {
			return pngFormatError("bad tRNS length")
		}
		n, err := io.ReadFull(d.r, d.tmp[:length])
		if err != nil {
			return err
		}
		d.crc.Write(d.tmp[:n])
		copy(d.transparent[:], d.tmp[:length])
		switch d.cb {
		case cbG1:
			d.transparent[1] *= 0xff
		case cbG2:
			d.transparent[1] *= 0x55
		case cbG4:
			d.transparent[1] *= 0x11
		}
		d.useTransparent = true
	case cbTC8, cbTC16:
		if length != 6 {
			return pngFormatError("bad tRNS length")
		}
		n, err := io.ReadFull(d.r, d.tmp[:length])
		if err != nil {
			return err
		}
		d.crc.Write(d.tmp[:n])
		copy(d.transparent[:], d.tmp[:length])
		d.useTransparent = true
	case cbP1, cbP2, cbP4, cbP8:
		if length > 256 {
			return pngFormatError("bad tRNS length")
		}
		n, err := io.ReadFull(d.r, d.tmp[:length])
		if err != nil {
			return err
		}
		d.crc.Write(d.tmp[:n])
		if len(d.palette) < n {
			d.palette = d.palette[:n]
		}
		for i := 0; i < n; i++ {
			rgba := d.palette[i].(color.RGBA)
			d.palette[i] = color.NRGBA{rgba.R, rgba.G, rgba.B, d.tmp[i]}
		}
	default:
		return pngFormatError("tRNS, color type mismatch")
	}
	return d.verifyChecksum()
}

// Read presents the consecutive IDAT chunks as one stream.
func (d *pngRowDecoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for d.idatLength == 0 {
		if err := d.verifyChecksum(); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(d.r, d.tmp[:8]); err != nil {
			return 0, err
		}
		d.idatLength = binary.BigEndian.Uint32(d.tmp[:4])
		if string(d.tmp[4:8]) != "IDAT" {
			return 0, pngFormatError("not enough pixel data")
		}
		d.crc.Reset()
		d.crc.Write(d.tmp[4:8])
	}
	if int(d.idatLength) < 0 {
		return 0, pngUnsupportedError("IDAT chunk length overflow")
	}
	n, err := d.r.Read(p[:min(len(p), int(d.idatLength))])
	d.crc.Write(p[:n])
	d.idatLength -= uint32(n)
	return n, err
}

// decode reads the pixel data, row by row.
func (d *pngRowDecoder) decode() error {
	if d.interlace != 0 {
		return errPNGInterlaced
	}
	r, err := zlib.NewReader(d)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := d.readRows(r); err != nil {
		return err
	}
	// Check for EOF, to verify the zlib checksum.
	n := 0
	for i := 0; n == 0 && err == nil; i++ {
		if i == 100 {
			return io.ErrNoProgress
		}
		n, err = r.Read(d.tmp[:1])
	}
	if err != nil && err != io.EOF {
		return pngFormatError(err.Error())
	}
	if n != 0 || d.idatLength != 0 {
		return pngFormatError("too much pixel data")
	}
	return nil
}

// readRows unfilters each row and converts it to the row image.
func (d *pngRowDecoder) readRows(r io.Reader) error {
	width := d.width
	var (
		bitsPerPixel int
		gray         *image.Gray
		rgba         *image.RGBA
		paletted     *image.Paletted
		nrgba        *image.NRGBA
		gray16       *image.Gray16
		rgba64       *image.RGBA64
		nrgba64      *image.NRGBA64
		img          image.Image
	)
	one := image.Rect(0, 0, width, 1)
	switch d.cb {
	case cbG1, cbG2, cbG4, cbG8:
		bitsPerPixel = d.depth
		if d.useTransparent {
			nrgba = image.NewNRGBA(one)
			img = nrgba
		} else {
			gray = image.NewGray(one)
			img = gray
		}
	case cbGA8:
		bitsPerPixel = 16
		nrgba = image.NewNRGBA(one)
		img = nrgba
	case cbTC8:
		bitsPerPixel = 24
		if d.useTransparent {
			nrgba = image.NewNRGBA(one)
			img = nrgba
		} else {
			rgba = image.NewRGBA(one)
			img = rgba
		}
	case cbP1, cbP2, cbP4, cbP8:
		bitsPerPixel = d.depth
		paletted = image.NewPaletted(one, d.palette)
		img = paletted
	case cbTCA8:
		bitsPerPixel = 32
		nrgba = image.NewNRGBA(one)
		img = nrgba
	case cbG16:
		bitsPerPixel = 16
		if d.useTransparent {
			nrgba64 = image.NewNRGBA64(one)
			img = nrgba64
		} else {
			gray16 = image.NewGray16(one)
			img = gray16
		}
	case cbGA16:
		bitsPerPixel = 32
		nrgba64 = image.NewNRGBA64(one)
		img = nrgba64
	case cbTC16:
		bitsPerPixel = 48
		if d.useTransparent {
			nrgba64 = image.NewNRGBA64(one)
			img = nrgba64
		} else {
			rgba64 = image.NewRGBA64(one)
			img = rgba64
		}
	case cbTCA16:
		bitsPerPixel = 64
		nrgba64 = image.NewNRGBA64(one)
		img = nrgba64
	}
	bytesPerPixel := (bitsPerPixel + 7) / 8
	// The +1 is for the per-row filter type, which is at cr[0].
	rowSize := 1 + (int64(bitsPerPixel)*int64(width)+7)/8
	if rowSize != int64(int(rowSize)) {
		return pngUnsupportedError("dimension overflow")
	}
	cr := make([]uint8, rowSize)
	pr := make([]uint8, rowSize)

	for y := 0; y < d.height; y++ {
		if _, err := io.ReadFull(r, cr); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return pngFormatError("not enough pixel data")
			}
			return err
		}
		cdat := cr[1:]
		pdat := pr[1:]
		switch cr[0] {
		case 0: // none
		case 1: // sub
			for i := bytesPerPixel; i < len(cdat); i++ {
				cdat[i] += cdat[i-bytesPerPixel]
			}
		case 2: // up
			for i, p := range pdat {
				cdat[i] += p
			}
		case 3: // average
			for i := 0; i < bytesPerPixel; i++ {
				cdat[i] += pdat[i] / 2
			}
			for i := bytesPerPixel; i < len(cdat); i++ {
				cdat[i] += uint8((int(cdat[i-bytesPerPixel]) + int(pdat[i])) / 2)
			}
		case 4:
			pngFilterPaeth(cdat, pdat, bytesPerPixel)
		default:
			return pngFormatError("bad filter type")
		}

		switch d.cb {
		case cbG1, cbG2, cbG4:
			// depth bits a pixel, the most significant first, scaled to 8 bits.
			shift, scale := uint(8-d.depth), uint8(0xff/(1<<d.depth-1))
			perByte := 8 / d.depth
			for x := 0; x < width; x += perByte {
				b := cdat[x/perByte]
				for x2 := 0; x2 < perByte && x+x2 < width; x2++ {
					ycol := (b >> shift) * scale
					if d.useTransparent {
						acol := uint8(0xff)
						if ycol == d.transparent[1] {
							acol = 0x00
						}
						nrgba.SetNRGBA(x+x2, 0, color.NRGBA{ycol, ycol, ycol, acol})
					} else {
						gray.Pix[x+x2] = ycol
					}
					b <<= uint(d.depth)
				}
			}
		case cbG8:
			if d.useTransparent {
				ty := d.transparent[1]
				for x := 0; x < width; x++ {
					ycol := cdat[x]
					acol := uint8(0xff)
					if ycol == ty {
						acol = 0x00
					}
					nrgba.SetNRGBA(x, 0, color.NRGBA{ycol, ycol, ycol, acol})
				}
			} else {
				copy(gray.Pix, cdat)
			}
		case cbGA8:
			for x := 0; x < width; x++ {
				ycol := cdat[2*x+0]
				nrgba.SetNRGBA(x, 0, color.NRGBA{ycol, ycol, ycol, cdat[2*x+1]})
			}
		case cbTC8:
			if d.useTransparent {
				pix, i, j := nrgba.Pix, 0, 0
				tr, tg, tb := d.transparent[1], d.transparent[3], d.transparent[5]
				for x := 0; x < width; x++ {
					r, g, b := cdat[j+0], cdat[j+1], cdat[j+2]
					a := uint8(0xff)
					if r == tr && g == tg && b == tb {
						a = 0x00
					}
					pix[i+0], pix[i+1], pix[i+2], pix[i+3] = r, g, b, a
					i += 4
					j += 3
				}
			} else {
				pix, i, j := rgba.Pix, 0, 0
				for x := 0; x < width; x++ {
					pix[i+0], pix[i+1], pix[i+2], pix[i+3] = cdat[j+0], cdat[j+1], cdat[j+2], 0xff
					i += 4
					j += 3
				}
			}
		case cbP1, cbP2, cbP4:
			shift := uint(8 - d.depth)
			perByte := 8 / d.depth
			for x := 0; x < width; x += perByte {
				b := cdat[x/perByte]
				for x2 := 0; x2 < perByte && x+x2 < width; x2++ {
					idx := b >> shift
					if len(paletted.Palette) <= int(idx) {
						paletted.Palette = paletted.Palette[:int(idx)+1]
					}
					paletted.Pix[x+x2] = idx
					b <<= uint(d.depth)
				}
			}
		case cbP8:
			if len(paletted.Palette) != 256 {
				for x := 0; x < width; x++ {
					if len(paletted.Palette) <= int(cdat[x]) {
						paletted.Palette = paletted.Palette[:int(cdat[x])+1]
					}
				}
			}
			copy(paletted.Pix, cdat)
		case cbTCA8:
			copy(nrgba.Pix, cdat)
		case cbG16:
			if d.useTransparent {
				ty := uint16(d.transparent[0])<<8 | uint16(d.transparent[1])
				for x := 0; x < width; x++ {
					ycol := uint16(cdat[2*x+0])<<8 | uint16(cdat[2*x+1])
					acol := uint16(0xffff)
					if ycol == ty {
						acol = 0x0000
					}
					nrgba64.SetNRGBA64(x, 0, color.NRGBA64{ycol, ycol, ycol, acol})
				}
			} else {
				copy(gray16.Pix, cdat) // both big-endian
			}
		case cbGA16:
			for x := 0; x < width; x++ {
				ycol := uint16(cdat[4*x+0])<<8 | uint16(cdat[4*x+1])
				acol := uint16(cdat[4*x+2])<<8 | uint16(cdat[4*x+3])
				nrgba64.SetNRGBA64(x, 0, color.NRGBA64{ycol, ycol, ycol, acol})
			}
		case cbTC16:
			if d.useTransparent {
				tr := uint16(d.transparent[0])<<8 | uint16(d.transparent[1])
				tg := uint16(d.transparent[2])<<8 | uint16(d.transparent[3])
				tb := uint16(d.transparent[4])<<8 | uint16(d.transparent[5])
				for x := 0; x < width; x++ {
					rcol := uint16(cdat[6*x+0])<<8 | uint16(cdat[6*x+1])
					gcol := uint16(cdat[6*x+2])<<8 | uint16(cdat[6*x+3])
					bcol := uint16(cdat[6*x+4])<<8 | uint16(cdat[6*x+5])
					acol := uint16(0xffff)
					if rcol == tr && gcol == tg && bcol == tb {
						acol = 0x0000
					}
					nrgba64.SetNRGBA64(x, 0, color.NRGBA64{rcol, gcol, bcol, acol})
				}
			} else {
				pix := rgba64.Pix
				for x := 0; x < width; x++ {
					copy(pix[8*x:8*x+6], cdat[6*x:6*x+6])
					pix[8*x+6], pix[8*x+7] = 0xff, 0xff
				}
			}
		case cbTCA16:
			copy(nrgba64.Pix, cdat)
		}

		// The row image sits at row y of the image, where png.Decode's
		// image has these pixels.
		setRowY(img, y)
		if err := d.row(y, img); err != nil {
			return err
		}
		setRowY(img, 0)
		pr, cr = cr, pr
	}
	return nil
}

// setRowY moves the one-row image m to row y.
func setRowY(m image.Image, y int) {
	r := image.Rect(0, y, m.Bounds().Dx(), y+1)
	switch m := m.(type) {
	case *image.Gray:
		m.Rect = r
	case *image.Gray16:
		m.Rect = r
	case *image.RGBA:
		m.Rect = r
	case *image.RGBA64:
		m.Rect = r
	case *image.NRGBA:
		m.Rect = r
	case *image.NRGBA64:
		m.Rect = r
	case *image.Paletted:
		m.Rect = r
	}
}

func (d *pngRowDecoder) parseIDAT(length uint32) error {
	d.idatLength = length
	if err := d.decode(); err != nil {
		return err
	}
	return d.verifyChecksum()
}

func (d *pngRowDecoder) parseIEND(length uint32) error {
	if length != 0 {
		return pngFormatError("bad IEND length")
	}
	return d.verifyChecksum()
}

func (d *pngRowDecoder) parseChunk() error {
	if _, err := io.ReadFull(d.r, d.tmp[:8]); err != nil {
		return err
	}
	length := binary.BigEndian.Uint32(d.tmp[:4])
	d.crc.Reset()
	d.crc.Write(d.tmp[4:8])
	paletted := cbP1 <= d.cb && d.cb <= cbP8
	switch string(d.tmp[4:8]) {
	case "IHDR":
		if d.stage != pngStart {
			return pngChunkOrderError
		}
		d.stage = pngSeenIHDR
		return d.parseIHDR(length)
	case "PLTE":
		if d.stage != pngSeenIHDR {
			return pngChunkOrderError
		}
		d.stage = pngSeenPLTE
		return d.parsePLTE(length)
	case "tRNS":
		if paletted {
			if d.stage != pngSeenPLTE {
				return pngChunkOrderError
			}
		} else if d.cb == cbTC8 || d.cb == cbTC16 {
			if d.stage != pngSeenIHDR && d.stage != pngSeenPLTE {
				return pngChunkOrderError
			}
		} else if d.stage != pngSeenIHDR {
			return pngChunkOrderError
		}
		d.stage = pngSeentRNS
		return d.parsetRNS(length)
	case "IDAT":
		if d.stage < pngSeenIHDR || d.stage > pngSeenIDAT || (d.stage == pngSeenIHDR && paletted) {
			return pngChunkOrderError
		} else if d.stage == pngSeenIDAT {
			// Trailing zero-length or garbage IDAT chunks are ignored, as
			// image/png does; the first parseIDAT read all the data.
			break
		}
		d.stage = pngSeenIDAT
		return d.parseIDAT(length)
	case "IEND":
		if d.stage != pngSeenIDAT {
			return pngChunkOrderError
		}
		d.stage = pngSeenIEND
		return d.parseIEND(length)
	}
	if length > 0x7fffffff {
		return pngFormatError(fmt.Sprintf("Bad chunk length: %d", length))
	}
	// Ignore this chunk (of a known length).
	var ignored [4096]byte
	for length > 0 {
		n, err := io.ReadFull(d.r, ignored[:min(len(ignored), int(length))])
		if err != nil {
			return err
		}
		d.crc.Write(ignored[:n])
		length -= uint32(n)
	}
	return d.verifyChecksum()
}

func (d *pngRowDecoder) verifyChecksum() error {
	if _, err := io.ReadFull(d.r, d.tmp[:4]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(d.tmp[:4]) != d.crc.Sum32() {
		return pngFormatError("invalid checksum")
	}
	return nil
}

// pngFilterPaeth undoes the Paeth filter in cdat, pdat being the row above
// (image/png's filterPaeth).
func pngFilterPaeth(cdat, pdat []byte, bytesPerPixel int) {
	var a, b, c, pa, pb, pc int
	for i := 0; i < bytesPerPixel; i++ {
		a, c = 0, 0
		for j := i; j < len(cdat); j += bytesPerPixel {
			b = int(pdat[j])
			pa = b - c
			pb = a - c
			pc = absInt(pa + pb)
			pa = absInt(pa)
			pb = absInt(pb)
			if pa <= pb && pa <= pc {
				// No-op.
			} else if pb <= pc {
				a = b
			} else {
				a = c
			}
			a += int(cdat[j])
			a &= 0xff
			cdat[j] = uint8(a)
			c = b
		}
	}
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
