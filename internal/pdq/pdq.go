package pdq

import (
	"image"
	"math"
	"slices"
	"sync"
)

// The pipeline follows the reference (ThreatExchange pdq/cpp, described in
// Meta's "PDQ hashing" paper), step by step:
//
//  1. An image larger than 512 px on either side is first resized to
//     512×512 by nearest neighbour (the reference does this with CImg before
//     hashing, to bound the cost of the blur).
//  2. Luminance Y = 0.299 R + 0.587 G + 0.114 B in float32 (grey images: the
//     grey value).
//  3. A Jarosz tent filter: two passes of a box filter along rows, then along
//     columns, the window being ceil(side/128) (half of the 1/64 block).
//  4. Decimation to 64×64 by sampling the centres of 64 equal strips.
//  5. The quality from the sum of quantised gradients of that 64×64 image.
//  6. The 16×16 low-frequency block of the 2-D DCT-II (rows/columns 1..16,
//     dropping the DC row and column).
//  7. One bit per coefficient: set when it is above the median of the 256
//     (the 128th smallest, as Torben's method returns).
//
// All arithmetic is float32 in the reference's order of operations, so that
// the same pixels give the same hash.

const (
	// resizeLimit is the side above which an image is first resized to
	// resizeLimit×resizeLimit by nearest neighbour.
	resizeLimit = 512
	// minHashableDim is the smallest side hashed; smaller images get the
	// zero hash and quality 0, as in the reference.
	minHashableDim = 5
)

// The luminance coefficients of the reference (float32, as there).
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// dctMatrix is the 16×64 DCT-II matrix for frequencies 1..16, row-major:
// dctMatrix[i*64+j] = sqrt(2/64) cos(π/128 (i+1)(2j+1)). As in the reference,
// the scale is rounded to float32 first and each element is rounded to
// float32 after a double-precision product.
var dctMatrix = func() (m [16 * 64]float32) {
	scale := float64(float32(math.Sqrt(2.0 / 64.0)))
	for i := 0; i < 16; i++ {
		for j := 0; j < 64; j++ {
			m[i*64+j] = float32(scale * math.Cos(math.Pi/2/64*float64(i+1)*float64(2*j+1)))
		}
	}
	return m
}()

// workspace holds the buffers of one hashing; pooled to avoid allocations.
type workspace struct {
	luma, tmp []float32 // rows×cols, row-major
	colSum    []float32 // running sums of the column pass
	xs, ys    []int     // source column and row of each target pixel
	b64       [64 * 64]float32
	t16x64    [16 * 64]float32
	dct       [16 * 16]float32
	sorted    [256]float32
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func (w *workspace) size(rows, cols int) {
	n := rows * cols
	if cap(w.luma) < n {
		w.luma = make([]float32, n)
		w.tmp = make([]float32, n)
	}
	w.luma, w.tmp = w.luma[:n], w.tmp[:n]
	if cap(w.colSum) < cols {
		w.colSum = make([]float32, cols)
	}
	w.colSum = w.colSum[:cols]
	if cap(w.xs) < cols {
		w.xs = make([]int, cols)
	}
	w.xs = w.xs[:cols]
	if cap(w.ys) < rows {
		w.ys = make([]int, rows)
	}
	w.ys = w.ys[:rows]
}

// FromImage returns the PDQ hash of img and its quality (0..100). Images with
// a side under 5 pixels get the zero hash and quality 0.
func FromImage(img image.Image) (Hash, int) {
	w := workspaces.Get().(*workspace)
	defer workspaces.Put(w)
	if !w.dctOf(img) {
		return Hash{}, 0
	}
	q := w.quality()
	return hashOf(&w.dct, &w.sorted), q
}

// The eight dihedral transforms, in the reference's order (the order of the
// hashes Dihedral returns and of `pdq-photo-hasher --pdqdih`).
const (
	Original   = iota // as given
	Rotate90          // rotated 90° anticlockwise
	Rotate180         // rotated 180°
	Rotate270         // rotated 270° anticlockwise (90° clockwise)
	FlipX             // mirrored top to bottom (about the horizontal axis)
	FlipY             // mirrored left to right (about the vertical axis)
	FlipPlus1         // transposed (mirrored about the main diagonal)
	FlipMinus1        // mirrored about the anti-diagonal
)

// DihedralNames names the transforms, indexed like Dihedral's result.
var DihedralNames = [8]string{"orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm"}

// Dihedral returns the hashes of img under the eight rotations and flips,
// indexed by Original, Rotate90, ... FlipMinus1. They are derived from the one
// DCT of img, as the reference does: transposing the image transposes the DCT,
// and mirroring an axis negates the odd-frequency coefficients along it (our
// coefficients 1..16 are stored at 0..15, so the even indices change sign).
func Dihedral(img image.Image) [8]Hash {
	h, _ := DihedralQuality(img)
	return h
}

// DihedralQuality is Dihedral that also returns the quality (the same for all
// eight).
func DihedralQuality(img image.Image) ([8]Hash, int) {
	w := workspaces.Get().(*workspace)
	defer workspaces.Put(w)
	if !w.dctOf(img) {
		return [8]Hash{}, 0
	}
	return w.dihedral(), w.quality()
}

// dihedral returns the eight hashes of the DCT in w.dct.
func (w *workspace) dihedral() [8]Hash {
	var out [8]Hash
	a := &w.dct
	var b [256]float32
	for t := range 8 {
		for i := 0; i < 16; i++ {
			for j := 0; j < 16; j++ {
				v := a[i*16+j]
				// Index (ti, tj) of the coefficient in the transformed image,
				// and whether it changes sign.
				ti, tj, neg := i, j, false
				switch t {
				case Rotate90:
					ti, tj, neg = j, i, j&1 == 0
				case Rotate180:
					neg = (i+j)&1 == 1
				case Rotate270:
					ti, tj, neg = j, i, i&1 == 0
				case FlipX:
					neg = i&1 == 0
				case FlipY:
					neg = j&1 == 0
				case FlipPlus1:
					ti, tj = j, i
				case FlipMinus1:
					ti, tj, neg = j, i, (i+j)&1 == 1
				}
				if neg {
					v = -v
				}
				b[ti*16+tj] = v
			}
		}
		out[t] = hashOf(&b, &w.sorted)
	}
	return out
}

// hashOf sets one bit per coefficient above the median (the 128th smallest of
// the 256, which is what the reference's Torben median returns for 256 values).
func hashOf(c *[256]float32, scratch *[256]float32) Hash {
	*scratch = *c
	slices.Sort(scratch[:])
	median := scratch[127]
	var h Hash
	for k, v := range c {
		if v > median {
			h.setBit(k)
		}
	}
	return h
}

// dctOf runs steps 1..4 and 6 of the pipeline into w.b64 and w.dct. It
// reports false for images too small to hash.
func (w *workspace) dctOf(img image.Image) bool {
	b := img.Bounds()
	if !w.sample(b.Dx(), b.Dy()) {
		return false
	}
	fillLuma(img, w.xs, w.ys, w.luma)
	w.filterAndDCT()
	return true
}

// sample runs step 1 for an image of srcCols×srcRows pixels: it sizes the
// workspace and chooses, in w.xs and w.ys, the source column and row of each
// pixel that is hashed. It reports false for images too small to hash.
func (w *workspace) sample(srcCols, srcRows int) bool {
	if srcCols <= 0 || srcRows <= 0 {
		return false
	}
	cols, rows := srcCols, srcRows
	if cols > resizeLimit || rows > resizeLimit {
		cols, rows = resizeLimit, resizeLimit
	}
	if cols < minHashableDim || rows < minHashableDim {
		return false
	}
	w.size(rows, cols)
	// Nearest neighbour as CImg does it: target x reads source
	// floor(x*srcCols/cols).
	for x := range w.xs {
		w.xs[x] = x * srcCols / cols
	}
	for y := range w.ys {
		w.ys[y] = y * srcRows / rows
	}
	return true
}

// filterAndDCT runs steps 3, 4 and 6 on the luminance in w.luma.
func (w *workspace) filterAndDCT() {
	rows, cols := len(w.ys), len(w.xs)
	if rows != 64 || cols != 64 { // a 64×64 image is used as is, as in the reference
		winRows := jaroszWindow(cols) // along each row
		winCols := jaroszWindow(rows) // along each column
		for range 2 {
			boxRows(w.luma, w.tmp, rows, cols, winRows)
			boxCols(w.tmp, w.luma, rows, cols, winCols, w.colSum)
		}
	}
	decimate(w.luma, rows, cols, &w.b64)
	dct64To16(&w.b64, &w.t16x64, &w.dct)
}

// jaroszWindow is the box-filter window for a side of n pixels: ceil(n/128),
// half of a 1/64 block since the filter runs twice.
func jaroszWindow(n int) int { return (n + 2*64 - 1) / (2 * 64) }

// boxRows applies the box filter of the given window along each row of in,
// writing out.
func boxRows(in, out []float32, rows, cols, window int) {
	for r := 0; r < rows; r++ {
		box1D(in[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols], window)
	}
}

// box1D is one box-filter pass over a vector: out[i] is the mean of the
// window around i, shrunk at the ends. The window for even sizes reaches one
// further right than left (window 4: i-1..i+2), as in the reference, and the
// running sum is kept in the reference's order so the results agree exactly.
func box1D(in, out []float32, window int) {
	n := len(in)
	half := (window + 2) / 2
	p1 := half - 1
	p2 := window - half + 1
	p3 := n - window
	p4 := half - 1
	var sum float32
	cur := 0
	ri, li, oi := 0, 0, 0
	for range p1 {
		sum += in[ri]
		cur++
		ri++
	}
	for range p2 {
		sum += in[ri]
		cur++
		out[oi] = sum / float32(cur)
		ri++
		oi++
	}
	fw := float32(cur)
	if window&(window-1) == 0 {
		// Dividing by a power of two is exact, and so is multiplying by
		// its inverse: same results, several times faster.
		inv := 1 / fw
		for range p3 {
			sum += in[ri]
			sum -= in[li]
			out[oi] = sum * inv
			ri++
			li++
			oi++
		}
	} else {
		for range p3 {
			sum += in[ri]
			sum -= in[li]
			out[oi] = sum / fw
			ri++
			li++
			oi++
		}
	}
	for range p4 {
		sum -= in[li]
		cur--
		out[oi] = sum / float32(cur)
		li++
		oi++
	}
}

// boxCols is box1D along every column at once: the running sums of all
// columns advance together row by row, which reads memory in order instead of
// striding down each column, with the same arithmetic per column.
func boxCols(in, out []float32, rows, cols, window int, sum []float32) {
	half := (window + 2) / 2
	p1 := half - 1
	p2 := window - half + 1
	p3 := rows - window
	p4 := half - 1
	clear(sum)
	sum = sum[:cols]
	cur := 0
	ri, li, oi := 0, 0, 0
	row := func(i int) []float32 { return in[i*cols : (i+1)*cols : (i+1)*cols] }
	orow := func(i int) []float32 { return out[i*cols : (i+1)*cols : (i+1)*cols] }
	for range p1 {
		r := row(ri)
		for j := range sum {
			sum[j] += r[j]
		}
		cur++
		ri++
	}
	for range p2 {
		r := row(ri)
		cur++
		fc := float32(cur)
		o := orow(oi)
		for j := range sum {
			sum[j] += r[j]
			o[j] = sum[j] / fc
		}
		ri++
		oi++
	}
	fc := float32(cur)
	pow2 := window&(window-1) == 0
	inv := 1 / fc // exact when window is a power of two (see box1D)
	for range p3 {
		r, l, o := row(ri), row(li), orow(oi)
		r, l, o = r[:len(sum)], l[:len(sum)], o[:len(sum)]
		if pow2 {
			for j := range sum {
				s := sum[j] + r[j]
				s -= l[j]
				sum[j] = s
				o[j] = s * inv
			}
		} else {
			for j := range sum {
				s := sum[j] + r[j]
				s -= l[j]
				sum[j] = s
				o[j] = s / fc
			}
		}
		ri++
		li++
		oi++
	}
	for range p4 {
		l := row(li)
		cur--
		fc := float32(cur)
		o := orow(oi)
		for j := range sum {
			sum[j] -= l[j]
			o[j] = sum[j] / fc
		}
		li++
		oi++
	}
}

// decimate samples the 64×64 centres of the filtered image.
func decimate(in []float32, rows, cols int, out *[64 * 64]float32) {
	var xs [64]int
	for j := range 64 {
		xs[j] = int((float64(j) + 0.5) * float64(cols) / 64)
	}
	for i := range 64 {
		r := int((float64(i) + 0.5) * float64(rows) / 64)
		row := in[r*cols : (r+1)*cols]
		o := out[i*64 : (i+1)*64]
		for j, x := range xs {
			o[j] = row[x]
		}
	}
}

// quality is the reference's heuristic: the sum over neighbouring pixels of
// the 64×64 image of |Δ|·100/255 truncated to an integer, divided by 90 and
// capped at 100.
func (w *workspace) quality() int {
	a := &w.b64
	sum := 0
	for i := 0; i < 63; i++ {
		for j := 0; j < 64; j++ {
			d := int((a[i*64+j] - a[(i+1)*64+j]) * 100 / 255)
			sum += abs(d)
		}
	}
	for i := 0; i < 64; i++ {
		for j := 0; j < 63; j++ {
			d := int((a[i*64+j] - a[i*64+j+1]) * 100 / 255)
			sum += abs(d)
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct64To16 computes B = D A Dᵀ for the 16×64 matrix D: the DCT
// coefficients 1..16 × 1..16 of the 64×64 image A. Sums run over k in
// increasing order in float32, as in the reference.
func dct64To16(a *[64 * 64]float32, t *[16 * 64]float32, b *[16 * 16]float32) {
	d := &dctMatrix
	// T = D A, accumulated row of A by row of A (sum over k in order for
	// every (i, j)), reading A contiguously.
	for i := 0; i < 16; i++ {
		ti := (*[64]float32)(t[i*64 : (i+1)*64])
		*ti = [64]float32{}
		di := d[i*64 : (i+1)*64]
		for k := 0; k < 64; k++ {
			dk := di[k]
			ak := (*[64]float32)(a[k*64 : (k+1)*64])
			for j := range ti {
				ti[j] += dk * ak[j]
			}
		}
	}
	// B = T Dᵀ.
	for i := 0; i < 16; i++ {
		ti := (*[64]float32)(t[i*64 : (i+1)*64])
		for j := 0; j < 16; j++ {
			dj := (*[64]float32)(d[j*64 : (j+1)*64])
			var s float32
			for k := range ti {
				s += ti[k] * dj[k]
			}
			b[i*16+j] = s
		}
	}
}
