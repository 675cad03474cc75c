package pdq

import "image"

// A RowSampler hashes an image that is delivered one row at a time, keeping
// only the pixels PDQ reads: at most 512×512 luminance values, whatever the
// size of the image. A decoder that produces rows (such as a PNG read row by
// row) can then hash a 40-megapixel image without holding it.
//
// The hashes are those of FromImage and DihedralQuality on the whole image,
// bit for bit, provided each row is of the type, and holds the values, that
// the whole image would have: the luminance of a pixel is computed by the
// same code for both.
type RowSampler struct {
	w    *workspace
	ok   bool // the image is large enough to hash
	next int  // the index in w.ys of the next sampled row not yet filled
	rows int  // the height of the image
}

// NewRowSampler returns a sampler for an image of width×height pixels. Call
// Release when done with it (DihedralQuality does).
func NewRowSampler(width, height int) *RowSampler {
	s := &RowSampler{w: workspaces.Get().(*workspace), rows: height}
	s.ok = s.w.sample(width, height)
	return s
}

// Wants reports whether row y (0-based from the top) is read at all, so a
// caller can skip converting the rows that are not.
func (s *RowSampler) Wants(y int) bool {
	return s.ok && s.next < len(s.w.ys) && s.w.ys[s.next] == y
}

// AddRow takes row y of the image, m: an image one pixel high whose bounds
// start at column 0 and have the image's width. Rows must come in order, top
// to bottom; rows the sampler does not want are ignored.
func (s *RowSampler) AddRow(y int, m image.Image) {
	if !s.ok {
		return
	}
	w := s.w
	cols := len(w.xs)
	// Below 512 rows an image is not resized and every row is read once;
	// above, nearest neighbour reads some rows several times (when the
	// image is narrower than it is tall, a short image is stretched).
	for s.next < len(w.ys) && w.ys[s.next] == y {
		fillLuma(m, w.xs, rowZero[:], w.luma[s.next*cols:(s.next+1)*cols])
		s.next++
	}
}

// rowZero selects the one row of a one-row image.
var rowZero = [1]int{0}

// DihedralQuality returns the hashes of the image under the eight rotations
// and flips, and its quality, as the package's DihedralQuality does; every
// row must have been given. It releases the sampler.
func (s *RowSampler) DihedralQuality() ([8]Hash, int) {
	defer s.Release()
	if !s.ok || s.next != len(s.w.ys) {
		return [8]Hash{}, 0
	}
	s.w.filterAndDCT()
	return s.w.dihedral(), s.w.quality()
}

// Release returns the sampler's buffers to the pool; the sampler must not be
// used afterwards. Releasing twice is harmless.
func (s *RowSampler) Release() {
	if s.w != nil {
		workspaces.Put(s.w)
		s.w, s.ok = nil, false
	}
}
