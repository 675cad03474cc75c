package pdq

import (
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testImages returns the paths of the images in testdata/pdq.
func testImages(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	for _, r := range loadExpected(tb) {
		paths = append(paths, filepath.Join(testdataDir, r.file))
	}
	return paths
}

// reportImagesPerSecond reports wall-clock throughput, and the process's
// CPU time per image (all threads, GC included), which a shared machine
// disturbs far less: images per CPU-second is the single-core throughput.
func reportImagesPerSecond(b *testing.B, images int, cpu0 time.Duration) {
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(images), "ms/image")
	if cpu > 0 {
		b.ReportMetric(cpu.Seconds()*1e3/float64(images), "cpu-ms/image")
		b.ReportMetric(float64(images)/cpu.Seconds(), "images/cpu-s")
	}
}

// BenchmarkHashFiles is the end-to-end figure: read the file, decode and hash,
// one image after another on one goroutine (as the reference's
// pdq-photo-hasher does), over every image of testdata/pdq.
func BenchmarkHashFiles(b *testing.B) {
	paths := testImages(b)
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		for _, p := range paths {
			if _, _, err := HashFile(p); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	reportImagesPerSecond(b, n, cpu0)
}

// BenchmarkHashFilesParallel is HashFiles with one worker per CPU.
func BenchmarkHashFilesParallel(b *testing.B) {
	paths := testImages(b)
	var n atomic.Int64
	cpu0 := processCPU()
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(paths) {
						return
					}
					if _, _, err := HashFile(paths[i]); err != nil {
						b.Error(err)
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
	}
	reportImagesPerSecond(b, int(n.Load()), cpu0)
}

// BenchmarkDecode is reading and decoding alone.
func BenchmarkDecode(b *testing.B) {
	paths := testImages(b)
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := Decode(data, DefaultLimits); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	reportImagesPerSecond(b, n, cpu0)
}

// BenchmarkHashDecoded is hashing alone, on images decoded beforehand (the
// reference's "hashing alone" figure).
func BenchmarkHashDecoded(b *testing.B) {
	var imgs []image.Image
	for _, p := range testImages(b) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		img, _, err := Decode(data, DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		for _, img := range imgs {
			FromImage(img)
			n++
		}
	}
	reportImagesPerSecond(b, n, cpu0)
}

// BenchmarkDihedralDecoded is the eight dihedral hashes, on decoded images.
func BenchmarkDihedralDecoded(b *testing.B) {
	var imgs []image.Image
	for _, p := range testImages(b) {
		imgs = append(imgs, decodeFile(b, filepath.Base(p)))
	}
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		for _, img := range imgs {
			DihedralQuality(img)
			n++
		}
	}
	reportImagesPerSecond(b, n, cpu0)
}
