package media

import (
	"bytes"
	"encoding/binary"
	"image"
)

// A decodePlan is how intake will decode an image and what that costs in
// memory, worked out from the header alone.
type decodePlan struct {
	// bytes is the memory the decode takes at its peak: the buffers the
	// decoder allocates, and the thumbnail's and hashes' working memory.
	bytes int64
	// rows: a PNG read one row at a time (intakeRows), not decoded whole.
	rows bool
	// kind names the image for a message ("16-bit PNG", "progressive JPEG").
	kind string
	// hint, when the image is refused for its cost, says what would pass.
	hint string
}

// processingBytes is the working memory of making the thumbnail and the PDQ
// hashes of a w×h image, besides the decoded image: PDQ's two 512×512 planes
// of float32, the thumbnail, and for a large image the converted row and
// the block averages it is first shrunk to.
func processingBytes(w, h int) int64 {
	tw, th := thumbSize(w, h)
	n := int64(2*resizeSide*resizeSide*4) + 4*int64(tw)*int64(th) + 64<<10
	full, dr := image.Rect(0, 0, w, h), image.Rect(0, 0, tw, th)
	if k := shrinkFactor(full, dr); k >= 2 {
		sw, sh := int64((w+k-1)/k), int64((h+k-1)/k)
		n += 4*int64(w) + 16*sw + 4*sw*sh
	}
	return n
}

// resizeSide is the side PDQ resizes a larger image to before hashing.
const resizeSide = 512

// decoderState is what a decoder allocates besides its pixel buffers: bufio
// and inflate buffers, Huffman tables, per-macroblock state. Measured below
// 40 KiB for each format (TestDecodeCostCoversTheDecoder).
const decoderState = 64 << 10

// pngCost: a PNG that is not interlaced and is large enough to be shrunk for
// its thumbnail is read row by row (two rows of raw bytes, a converted row
// and the inflater's 32 KiB window besides the processing). Any other PNG
// is decoded whole: image/png allocates 1, 2, 4 or 8 bytes a pixel by
// colour type and depth, and for an interlaced one also each of the seven
// passes (together the size of the image) to merge from.
func pngCost(data []byte, cfg image.Config) decodePlan {
	w, h := cfg.Width, cfg.Height
	pixels := int64(w) * int64(h)
	ihdr, ok := readPNGIHDR(data)
	if !ok { // cannot happen after png.DecodeConfig: assume the worst
		return decodePlan{bytes: 12*pixels + processingBytes(w, h), kind: "PNG"}
	}
	kind := "PNG"
	if ihdr.depth == 16 {
		kind = "16-bit PNG"
	}
	if ihdr.interlaced {
		kind = "interlaced " + kind
	}
	rowBytes := 8 * int64(w) // the raw bytes of a row are at most 8 a pixel
	full, dr := image.Rect(0, 0, w, h), image.Rect(0, 0, 0, 0)
	dr.Max.X, dr.Max.Y = thumbSize(w, h)
	if !ihdr.interlaced && shrinkFactor(full, dr) >= 2 {
		return decodePlan{bytes: 3*rowBytes + decoderState + processingBytes(w, h), rows: true, kind: kind}
	}
	n := ihdr.decodedBytesPerPixel() * pixels
	if ihdr.interlaced {
		n *= 2
	}
	return decodePlan{bytes: n + 2*rowBytes + decoderState + processingBytes(w, h), kind: kind,
		hint: ": save it without interlacing (Adam7), which Parley reads a row at a time"}
}

// gifCost: image/gif decodes the first frame, at most the canvas, one byte a
// pixel, and an interlaced frame once more to put its rows in order.
func gifCost(data []byte, cfg image.Config) decodePlan {
	w, h := cfg.Width, cfg.Height
	return decodePlan{bytes: 2*int64(w)*int64(h) + decoderState + processingBytes(w, h), kind: "GIF"}
}

// webpCost: a lossy (VP8) WebP decodes to Y'CbCr 4:2:0 padded to 16×16
// macroblocks, 1.5 bytes a pixel; its alpha, when compressed, is decoded as
// a lossless image (4 bytes a pixel, 8 with a colour-indexing transform)
// and then copied out (1 byte). A lossless (VP8L) WebP takes 4 bytes a pixel,
// 8 with a colour-indexing transform. The lossy decoder also copies the
// compressed data.
func webpCost(data []byte, cfg image.Config) decodePlan {
	w, h := int64(cfg.Width), int64(cfg.Height)
	lossy := ((w + 15) / 16 * 16) * ((h + 15) / 16 * 16) * 3 / 2
	lossless := 8 * w * h
	var n int64
	kind := "WebP"
	switch {
	case len(data) >= 16 && string(data[12:16]) == "VP8 ":
		n, kind = lossy, "lossy WebP"
	case len(data) >= 16 && string(data[12:16]) == "VP8L":
		n, kind = lossless, "lossless WebP"
	case len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x10 != 0: // with alpha
		n = max(lossy+9*w*h, lossless)
	default:
		n = lossless
	}
	return decodePlan{bytes: n + int64(len(data)) + decoderState + processingBytes(cfg.Width, cfg.Height), kind: kind}
}

// jpegCost: image/jpeg decodes into one plane a component, each padded to
// whole MCUs (Y'CbCr 4:2:0 is 1.5 bytes a pixel, 4:4:4 3, grey 1, CMYK 4).
// A progressive JPEG also keeps every DCT coefficient between scans: 64
// int32s per 8×8 block of each component, 4 bytes a pixel a component. RGB
// and CMYK JPEGs are converted at the end into a new 4-byte-a-pixel image.
// So a baseline 4:2:0 photo takes 1.5 bytes a pixel, a progressive 4:4:4
// one 15, a progressive CMYK one up to 24.
func jpegCost(data []byte, cfg image.Config) decodePlan {
	w, h := cfg.Width, cfg.Height
	pixels := int64(w) * int64(h)
	hdr, ok := readJPEGHeader(data)
	if !ok || hdr.width != w || hdr.height != h { // not as jpeg.DecodeConfig read it: assume the worst
		return decodePlan{bytes: 24*pixels + processingBytes(w, h), kind: "JPEG"}
	}
	h0, v0 := hdr.h[0], hdr.v[0]
	mxx := int64((w + 8*h0 - 1) / (8 * h0))
	myy := int64((h + 8*v0 - 1) / (8 * v0))
	var n int64
	for c := range hdr.nComp {
		blocks := mxx * myy * int64(hdr.h[c]*hdr.v[c])
		n += 64 * blocks // the plane
		if hdr.progressive {
			n += 256 * blocks // the coefficients
		}
	}
	if hdr.nComp == 4 || hdr.nComp == 3 && hdr.maybeRGB {
		n += 4 * pixels
	}
	plan := decodePlan{bytes: n + decoderState + processingBytes(w, h), kind: "JPEG"}
	if hdr.progressive {
		plan.kind = "progressive JPEG"
		plan.hint = ": save it as a baseline (not progressive) JPEG, which takes a fifth of that or less"
	}
	return plan
}

// jpegHeader is what jpegCost needs from a JPEG's frame header.
type jpegHeader struct {
	width, height int
	nComp         int
	h, v          [4]int // sampling factors, as image/jpeg uses them
	progressive   bool
	// maybeRGB: image/jpeg may convert the three components to RGB (no
	// JFIF marker, and component ids R, G, B or an Adobe marker saying
	// "unknown", which may come after the first scan).
	maybeRGB bool
}

// readJPEGHeader walks the markers of data up to the first scan as
// image/jpeg does and reads the frame header (SOF0, SOF1 or SOF2), the JFIF
// and the Adobe markers. It reports false when it finds no frame header
// before the first scan, which image/jpeg refuses too.
func readJPEGHeader(data []byte) (jpegHeader, bool) {
	var hdr jpegHeader
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return hdr, false
	}
	jfif, adobeUnknown, seenSOF := false, false, false
	ids := [4]byte{}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			i++ // image/jpeg skips stray bytes between markers too
			continue
		}
		marker := data[i+1]
		if marker == 0xff || marker == 0x00 || marker >= 0xd0 && marker <= 0xd9 {
			i++ // fill bytes, restart markers and SOI carry no length
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return hdr, false
		}
		seg := data[i+4 : i+2+n]
		switch marker {
		case 0xc0, 0xc1, 0xc2: // baseline, extended sequential, progressive
			if seenSOF || len(seg) < 6 {
				return hdr, false
			}
			seenSOF = true
			hdr.progressive = marker == 0xc2
			hdr.height = int(binary.BigEndian.Uint16(seg[1:]))
			hdr.width = int(binary.BigEndian.Uint16(seg[3:]))
			hdr.nComp = int(seg[5])
			if hdr.nComp != 1 && hdr.nComp != 3 && hdr.nComp != 4 || len(seg) < 6+3*hdr.nComp {
				return hdr, false
			}
			for c := range hdr.nComp {
				ids[c] = seg[6+3*c]
				hdr.h[c], hdr.v[c] = int(seg[7+3*c]>>4), int(seg[7+3*c]&0x0f)
				if hdr.h[c] < 1 || hdr.h[c] > 4 || hdr.v[c] < 1 || hdr.v[c] > 4 {
					return hdr, false
				}
			}
			if hdr.nComp == 1 { // one component is never subsampled
				hdr.h[0], hdr.v[0] = 1, 1
			}
		case 0xe0: // APP0: the last one decides, as in image/jpeg
			if len(seg) >= 5 {
				jfif = bytes.HasPrefix(seg, []byte("JFIF\x00"))
			}
		case 0xee: // APP14: the last one decides
			if len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")) {
				adobeUnknown = seg[11] == 0
			}
		case 0xda: // the first scan: every header that matters came before
			if !seenSOF {
				return hdr, false
			}
			// A JFIF or Adobe marker between later scans still counts for
			// image/jpeg; in entropy-coded data 0xff is always followed by
			// 0 or a restart marker, so these bytes mean there may be one.
			if bytes.Contains(data[i:], []byte{0xff, 0xe0}) {
				jfif = false
			}
			if bytes.Contains(data[i:], []byte{0xff, 0xee}) {
				adobeUnknown = true
			}
			hdr.maybeRGB = !jfif && (adobeUnknown || ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B')
			return hdr, true
		}
		i += 2 + n
	}
	return hdr, false
}
