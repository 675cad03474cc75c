package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"parley/internal/pdq"
)

const hashUsage = `Usage: parley hash [--md5] [--sha256] [--dihedral] FILE...

Prints the PDQ perceptual hash of each image file (JPEG, PNG, GIF or WebP),
one line per file, in the format of Meta's pdq-photo-hasher:

  <pdq-hex>,<quality>,<path>

Quality runs from 0 to 100; hashes of quality below 50 are unreliable.
A FILE of - reads file names from standard input, one per line.

Options add columns, always in this order:

  --dihedral  the 8 hashes of the image's rotations and flips in place of
              the one hash (as pdq-photo-hasher --pdqdih-across): original,
              rotated 90°, 180°, 270° anticlockwise, mirrored top-bottom,
              mirrored left-right, transposed, anti-transposed
  --md5       the MD5 of the file's bytes, after the quality
  --sha256    the SHA-256 of the file's bytes, after the quality (and MD5)

  <pdq-hex>[,<7 more hashes>],<quality>[,<md5>][,<sha256>],<path>

A file that cannot be read or decoded gets a line on standard error instead,
and the command then exits with a non-zero status.
`

type hashOptions struct {
	md5, sha256, dihedral bool
}

// runHash implements `parley hash`.
func runHash(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var opt hashOptions
	var files []string
	flags := true
	for _, a := range args {
		switch {
		case flags && a == "--":
			flags = false
		case flags && (a == "-h" || a == "-help" || a == "--help"):
			fmt.Fprint(stdout, hashUsage)
			return nil
		case flags && (a == "--md5" || a == "-md5"):
			opt.md5 = true
		case flags && (a == "--sha256" || a == "-sha256"):
			opt.sha256 = true
		case flags && (a == "--dihedral" || a == "-dihedral"):
			opt.dihedral = true
		case flags && a != "-" && strings.HasPrefix(a, "-"):
			fmt.Fprint(stderr, hashUsage)
			return fmt.Errorf("hash: unknown option %q", a)
		default:
			files = append(files, a)
		}
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, hashUsage)
		return errors.New("hash: name at least one file (or - to read names from standard input)")
	}

	// Files are hashed by one worker per CPU; lines come out in input order.
	type job struct {
		n    int
		path string
	}
	type result struct {
		n    int
		line string
		err  error
		path string
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job)
	results := make(chan result)
	window := make(chan struct{}, 4*workers) // bounds results held for ordering
	var readErr error
	go func() {
		defer close(jobs)
		n := 0
		send := func(p string) {
			window <- struct{}{}
			jobs <- job{n, p}
			n++
		}
		stdinUsed := false
		for _, f := range files {
			if f != "-" {
				send(f)
				continue
			}
			if stdinUsed {
				continue // standard input can be read only once
			}
			stdinUsed = true
			sc := bufio.NewScanner(stdin)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				if name := strings.TrimSuffix(sc.Text(), "\r"); name != "" {
					send(name)
				}
			}
			if err := sc.Err(); err != nil {
				readErr = fmt.Errorf("hash: reading file names from standard input: %w", err)
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				line, err := hashLine(j.path, opt)
				results <- result{j.n, line, err, j.path}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	pending := map[int]result{}
	next, total, failed := 0, 0, 0
	for r := range results {
		pending[r.n] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			total++
			if r.err != nil {
				failed++
				fmt.Fprintf(stderr, "parley hash: %s: %v\n", r.path, r.err)
			} else {
				fmt.Fprintln(stdout, r.line)
			}
			<-window
		}
	}
	if readErr != nil {
		return readErr
	}
	if failed > 0 {
		return fmt.Errorf("hash: %d of %d files could not be hashed", failed, total)
	}
	return nil
}

// hashLine reads, decodes and hashes one file and formats its line.
func hashLine(path string, opt hashOptions) (string, error) {
	data, err := pdq.ReadFile(path, pdq.DefaultLimits)
	if err != nil {
		return "", err
	}
	img, _, err := pdq.Decode(data, pdq.DefaultLimits)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	var quality int
	if opt.dihedral {
		hs, q := pdq.DihedralQuality(img)
		for i, h := range hs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(h.String())
		}
		quality = q
	} else {
		h, q := pdq.FromImage(img)
		b.WriteString(h.String())
		quality = q
	}
	fmt.Fprintf(&b, ",%d", quality)
	if opt.md5 {
		b.WriteString("," + pdq.MD5Hex(data))
	}
	if opt.sha256 {
		b.WriteString("," + pdq.SHA256Hex(data))
	}
	b.WriteString("," + path)
	return b.String(), nil
}
