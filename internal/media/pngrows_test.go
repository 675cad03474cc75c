package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"reflect"
	"testing"

	"parley/internal/media/mediatest"
	"parley/internal/pdq"
)

// pngVariant is one kind of PNG: colour type, depth and transparency.
type pngVariant struct {
	name      string
	colorType int
	depth     int
	plte      []byte
	trns      []byte
	// maxIndex, for paletted images, is the largest index used; above the
	// palette's length it tests indexes the palette does not have.
	maxIndex int
}

// pngVariants covers every colour type and depth PNG has, with and without
// tRNS, and palettes shorter than the indexes used.
func pngVariants() []pngVariant {
	pal := func(n int) []byte {
		p := make([]byte, 3*n)
		for i := range p {
			p[i] = byte(i*37 + 11)
		}
		return p
	}
	var vs []pngVariant
	for _, d := range []int{1, 2, 4, 8, 16} {
		vs = append(vs, pngVariant{name: fmt.Sprintf("gray%d", d), colorType: mediatest.Gray, depth: d})
		trns := []byte{0, byte(1<<min(d, 8) - 1)}
		if d == 16 {
			trns = []byte{0x12, 0x34}
		}
		vs = append(vs, pngVariant{name: fmt.Sprintf("gray%d+tRNS", d), colorType: mediatest.Gray, depth: d, trns: trns})
		if d <= 8 {
			n := 1 << d
			vs = append(vs,
				pngVariant{name: fmt.Sprintf("paletted%d", d), colorType: mediatest.Paletted, depth: d, plte: pal(n), maxIndex: n - 1},
				pngVariant{name: fmt.Sprintf("paletted%d short palette", d), colorType: mediatest.Paletted, depth: d, plte: pal(max(1, n/2)), maxIndex: n - 1},
				pngVariant{name: fmt.Sprintf("paletted%d+tRNS", d), colorType: mediatest.Paletted, depth: d, plte: pal(n), trns: []byte{0, 128}, maxIndex: n - 1})
		}
	}
	for _, d := range []int{8, 16} {
		vs = append(vs,
			pngVariant{name: fmt.Sprintf("rgb%d", d), colorType: mediatest.RGB, depth: d},
			pngVariant{name: fmt.Sprintf("rgb%d+tRNS", d), colorType: mediatest.RGB, depth: d, trns: []byte{0, 7, 0, 9, 0, 11}},
			pngVariant{name: fmt.Sprintf("rgb%d+PLTE", d), colorType: mediatest.RGB, depth: d, plte: pal(4)},
			pngVariant{name: fmt.Sprintf("grayalpha%d", d), colorType: mediatest.GrayAlpha, depth: d},
			pngVariant{name: fmt.Sprintf("rgba%d", d), colorType: mediatest.RGBA, depth: d})
	}
	return vs
}

// file writes a w×h PNG of the variant whose samples vary across the image
// (and hit the tRNS colour now and then).
func (v pngVariant) file(w, h int, interlaced bool) []byte {
	return mediatest.PNG{
		Width: w, Height: h, Depth: v.depth, ColorType: v.colorType, Interlaced: interlaced,
		PLTE: v.plte, TRNS: v.trns,
		Row: func(y int, raw []byte) {
			clear(raw)
			for x := range w {
				var s uint32 = uint32(x*3+y*5) ^ uint32(x*y)
				if v.colorType == mediatest.Paletted {
					s %= uint32(v.maxIndex + 1)
				}
				if (x+y)%7 == 0 && v.trns != nil && v.colorType != mediatest.Paletted {
					s = uint32(v.trns[1]) // the transparent grey (or red)
				}
				for c := range mediatest.Channels(v.colorType) {
					val := s + uint32(c*41)
					bit := (x*mediatest.Channels(v.colorType) + c) * v.depth
					switch v.depth {
					case 16:
						raw[bit/8], raw[bit/8+1] = byte(val>>3), byte(val)
					case 8:
						raw[bit/8] = byte(val)
					default:
						raw[bit/8] |= byte(val&(1<<v.depth-1)) << (8 - v.depth - bit%8)
					}
				}
			}
		},
	}.Encode()
}

// decodedRows is an image as rows of pixel bytes, with its type and palette.
type decodedRows struct {
	typ     reflect.Type
	rows    [][]byte
	palette []any
}

// rowsOf decodes data with decodePNGRows, keeping a copy of every row.
func rowsOf(data []byte) (decodedRows, error) {
	var d decodedRows
	err := decodePNGRows(bytes.NewReader(data), func(y int, m image.Image) error {
		if m.Bounds() != image.Rect(0, y, m.Bounds().Dx(), y+1) || y != len(d.rows) {
			return fmt.Errorf("row %d has bounds %v", y, m.Bounds())
		}
		pix, _, pal := pixOf(m)
		d.typ, d.palette = reflect.TypeOf(m), pal
		d.rows = append(d.rows, bytes.Clone(pix))
		return nil
	})
	return d, err
}

// wholeRows is rowsOf for an image png.Decode returned.
func wholeRows(m image.Image) decodedRows {
	pix, stride, pal := pixOf(m)
	d := decodedRows{typ: reflect.TypeOf(m), palette: pal}
	for y := range m.Bounds().Dy() {
		d.rows = append(d.rows, pix[y*stride:(y+1)*stride])
	}
	return d
}

// pixOf returns the pixel bytes, stride and palette of an image.
func pixOf(m image.Image) ([]byte, int, []any) {
	v := reflect.ValueOf(m).Elem()
	var pal []any
	if p, ok := m.(*image.Paletted); ok {
		for _, c := range p.Palette {
			pal = append(pal, c)
		}
	}
	return v.FieldByName("Pix").Bytes(), int(v.FieldByName("Stride").Int()), pal
}

// TestPNGRowsMatchPNGDecode: every row has the type and the bytes of the
// same row of png.Decode's image, for every colour type and depth, with
// widths that leave sub-byte pixels at the end of a row.
func TestPNGRowsMatchPNGDecode(t *testing.T) {
	for _, v := range pngVariants() {
		for _, size := range [][2]int{{1, 1}, {37, 23}, {64, 9}} {
			data := v.file(size[0], size[1], false)
			want, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: png.Decode: %v", v.name, err)
			}
			got, err := rowsOf(data)
			if err != nil {
				t.Fatalf("%s %v: %v", v.name, size, err)
			}
			if w := wholeRows(want); !reflect.DeepEqual(got, w) {
				t.Fatalf("%s %v: rows %v %v, png.Decode %v %v", v.name, size, got.typ, got.palette, w.typ, w.palette)
			}
		}
	}
	// Interlaced files are refused before any row.
	data := pngVariant{colorType: mediatest.RGB, depth: 8}.file(20, 20, true)
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("the interlaced test file does not decode: %v", err)
	}
	rows := 0
	err := decodePNGRows(bytes.NewReader(data), func(int, image.Image) error { rows++; return nil })
	if !errors.Is(err, errPNGInterlaced) || rows != 0 {
		t.Errorf("interlaced: %v after %d rows", err, rows)
	}
}

// TestIntakeRowsMatchWhole: the thumbnail and the PDQ hashes of a PNG read
// row by row are those of the whole decoded image, bit for bit.
func TestIntakeRowsMatchWhole(t *testing.T) {
	shapes := [][2]int{{1300, 1290}, {2600, 700}, {700, 2700}}
	variants := pngVariants()
	if testing.Short() {
		shapes = shapes[:1]
	}
	for i, v := range variants {
		if testing.Short() && i%4 != 0 {
			continue
		}
		for j, size := range shapes {
			if j > 0 && i%3 != 0 {
				continue // every shape for a third of the variants is enough
			}
			w, h := size[0], size[1]
			data := v.file(w, h, false)
			plan := pngCost(data, image.Config{Width: w, Height: h})
			if !plan.rows {
				t.Fatalf("%s %dx%d is not read row by row", v.name, w, h)
			}
			m, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			wantThumb, err := thumbnail(m, w, h)
			if err != nil {
				t.Fatal(err)
			}
			wantHashes, wantQ := pdq.DihedralQuality(m)
			thumb, hashes, q, err := intakeRows(data, w, h)
			if err != nil {
				t.Fatalf("%s %dx%d: %v", v.name, w, h, err)
			}
			if !bytes.Equal(thumb, wantThumb) {
				t.Errorf("%s %dx%d: the thumbnail differs", v.name, w, h)
			}
			if hashes != wantHashes || q != wantQ {
				t.Errorf("%s %dx%d: hash %s/%d, whole image %s/%d", v.name, w, h, hashes[0], q, wantHashes[0], wantQ)
			}
		}
	}
}

// FuzzPNGRows: decodePNGRows accepts exactly the non-interlaced files that
// png.Decode accepts, and its rows are png.Decode's rows.
func FuzzPNGRows(f *testing.F) {
	for i, v := range pngVariants() {
		data := v.file(9+i%5, 7, false)
		f.Add(data)
		f.Add(data[:len(data)*2/3])
		c := bytes.Clone(data)
		c[len(c)/2] ^= 0x20
		f.Add(c)
	}
	f.Add(pngHeader(3, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err == nil && int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			return // too large to decode whole in a fuzz run
		}
		want, wantErr := png.Decode(bytes.NewReader(data))
		got, err := rowsOf(data)
		if errors.Is(err, errPNGInterlaced) {
			return
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("decodePNGRows: %v; png.Decode: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if w := wholeRows(want); !reflect.DeepEqual(got, w) {
			t.Fatalf("rows %v %v, png.Decode %v %v", got.typ, got.palette, w.typ, w.palette)
		}
	})
}
