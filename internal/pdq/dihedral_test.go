package pdq

import (
	"image"
	"image/draw"
	"testing"
)

// transforms maps each dihedral index to the image transform it stands
// for, given as the source pixel of destination (x, y) in a w×h source
// (the destination is h×w when the transform swaps axes).
var transforms = [8]struct {
	name string
	swap bool
	src  func(x, y, w, h int) (int, int)
}{
	Original:   {"identity", false, func(x, y, w, h int) (int, int) { return x, y }},
	Rotate90:   {"rotate 90° anticlockwise", true, func(x, y, w, h int) (int, int) { return w - 1 - y, x }},
	Rotate180:  {"rotate 180°", false, func(x, y, w, h int) (int, int) { return w - 1 - x, h - 1 - y }},
	Rotate270:  {"rotate 90° clockwise", true, func(x, y, w, h int) (int, int) { return y, h - 1 - x }},
	FlipX:      {"mirror top to bottom", false, func(x, y, w, h int) (int, int) { return x, h - 1 - y }},
	FlipY:      {"mirror left to right", false, func(x, y, w, h int) (int, int) { return w - 1 - x, y }},
	FlipPlus1:  {"transpose", true, func(x, y, w, h int) (int, int) { return y, x }},
	FlipMinus1: {"anti-transpose", true, func(x, y, w, h int) (int, int) { return w - 1 - y, h - 1 - x }},
}

func transformImage(src image.Image, t int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Rect, src, b.Min, draw.Src)
	dw, dh := w, h
	if transforms[t].swap {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			sx, sy := transforms[t].src(x, y, w, h)
			copy(dst.Pix[dst.PixOffset(x, y):][:4], rgba.Pix[rgba.PixOffset(sx, sy):][:4])
		}
	}
	return dst
}

// TestDihedralMatchesTransformedImages: each of the eight hashes derived
// from the DCT is the nearest, by far, to the hash of the image actually
// rotated or flipped that way, and for photos within the match threshold.
// Not equal: the box filter's window is one pixel off-centre for even sizes
// and the 64 sample points are not symmetric, so a transformed image is
// blurred and sampled slightly differently (by up to 58 bits on q2821.jpg,
// a 256×256 image full of fine detail; 0 to 26 on the photos). The derived
// hashes of unrelated transforms are ~110..136 bits away.
func TestDihedralMatchesTransformedImages(t *testing.T) {
	for _, name := range []string{"square-512x512.jpg", "shrink-a-little.jpg", "aaa-orig.jpg", "q2821.jpg", "wee.jpg"} {
		img := decodeFile(t, name)
		dih, q := DihedralQuality(img)
		if h, q0 := FromImage(img); h != dih[Original] || q0 != q {
			t.Fatalf("%s: Dihedral[Original] %s quality %d, FromImage %s quality %d", name, dih[Original], q, h, q0)
		}
		for tr := range 8 {
			h, _ := FromImage(transformImage(img, tr))
			d := Distance(h, dih[tr])
			// The nearest of the eight must be the right one.
			for other := range 8 {
				if other != tr && Distance(h, dih[other]) <= d {
					t.Errorf("%s: image %s: hash at %d from %s but %d from %s",
						name, transforms[tr].name, d, DihedralNames[tr], Distance(h, dih[other]), DihedralNames[other])
				}
			}
			t.Logf("%-22s %-26s distance %2d", name, transforms[tr].name, d)
			if d > 31 && name != "q2821.jpg" && name != "wee.jpg" {
				t.Errorf("%s: %s: distance %d between the derived hash and the hash of the transformed image", name, transforms[tr].name, d)
			}
		}
	}
}

// TestDihedralBridge: bridge-2..8 are rotations and flips of bridge-1. Each
// of the eight hashes derived from bridge-1 is nearest to the reference hash
// of the right file and within the match threshold (31) of it. (Measured: 0,
// 14, 18, 8, 8, 14, 0, 18. The transposes are exact; the others differ by
// the filter's asymmetry, as they would with the reference's own dihedral
// hashes, since our hash of bridge-1 equals the reference's.)
func TestDihedralBridge(t *testing.T) {
	ref := map[string]Hash{}
	for _, r := range loadExpected(t) {
		ref[r.file] = r.hash
	}
	files := [8]string{
		Original:   "bridge-1-original.jpg",
		Rotate90:   "bridge-2-rotate-90.jpg",
		Rotate180:  "bridge-3-rotate-180.jpg",
		Rotate270:  "bridge-4-rotate-270.jpg",
		FlipX:      "bridge-5-flipx.jpg",
		FlipY:      "bridge-6-flipy.jpg",
		FlipPlus1:  "bridge-7-flip-plus-1.jpg",
		FlipMinus1: "bridge-8-flip-minus-1.jpg",
	}
	dih := Dihedral(decodeFile(t, files[Original]))
	for tr, f := range files {
		d := Distance(dih[tr], ref[f])
		t.Logf("%-6s vs reference hash of %-26s distance %2d", DihedralNames[tr], f, d)
		if d > 31 {
			t.Errorf("%s: distance %d to the reference hash of %s", DihedralNames[tr], d, f)
		}
		for other, g := range files {
			if other != tr && Distance(dih[tr], ref[g]) <= d {
				t.Errorf("%s: nearer to %s (%d) than to %s (%d)", DihedralNames[tr], g, Distance(dih[tr], ref[g]), f, d)
			}
		}
		// And our hash of the transformed file is near our derived one.
		own, _, err := HashFile(testdataDir + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if d := Distance(own, dih[tr]); d > 31 {
			t.Errorf("%s: distance %d between the derived hash and the hash of %s", DihedralNames[tr], d, f)
		}
	}
}
