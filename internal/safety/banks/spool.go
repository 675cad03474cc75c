package banks

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"

	"parley/internal/pace"
)

// spool holds the checked entries of an import in a temporary file between
// reading and writing, so that an import of millions of lines needs no more
// memory than a few lines, and the store is written only once every line
// is known to be good.
//
// The entries are written to the store in order of type and value
// (sorted), not in the order of the file: the store keeps the values a
// bank holds in a B-tree in that order, and an import written in small
// transactions in the file's (random) order would touch nearly every page
// of that tree in every transaction, writing each page again and again
// (measured: 3 to 5 times the time of the same import sorted;
// docs/benchmarks.md). Sorted, each transaction touches a few neighbouring
// pages.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	n   int64
	buf []byte
	// runs are the sorted runs written by sorted, removed by close.
	runs []*os.File
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "parley-bank-import-*")
	if err != nil {
		return nil, fmt.Errorf("banks: import spool: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// put appends one entry: its type and length-prefixed fields.
func (s *spool) put(e *Entry) error {
	b := s.buf[:0]
	b = appendString(b, string(e.Type))
	b = appendString(b, e.Value)
	b = binary.AppendUvarint(b, uint64(e.Quality))
	b = appendString(b, e.Source)
	b = appendString(b, e.ExternalID)
	b = appendString(b, e.Note)
	b = binary.AppendUvarint(b, uint64(len(e.Tags)))
	for _, t := range e.Tags {
		b = appendString(b, t)
	}
	s.buf = b
	s.n++
	return writeRecord(s.w, b)
}

// writeRecord writes one length-prefixed record.
func writeRecord(w *bufio.Writer, rec []byte) error {
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(rec)))); err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	if _, err := w.Write(rec); err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	return nil
}

// readRecord reads one record into buf (reused when large enough).
func readRecord(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 1<<30 {
		return nil, errors.New("record too long")
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// rewind flushes what was put and returns a reader from the start.
func (s *spool) rewind() (*bufio.Reader, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("banks: import spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("banks: import spool: %w", err)
	}
	return bufio.NewReaderSize(s.f, 256<<10), nil
}

// sortRunBytes bounds the memory of sorting: the records of one run, and
// the slice that orders them, are at most this large. Beyond it, sorted
// runs go to temporary files and are merged. It also bounds how long one
// sort runs without a rest (pace).
var sortRunBytes = 16 << 20

// recordOverhead is what a record costs beyond its bytes in a run held in
// memory: its place in the slice that orders the run.
const recordOverhead = 8

// sorted returns the spooled entries in order of type and value; entries
// with the same type and value keep the order they were put in (so the
// first of them in the file is the one added). At most sortRunBytes of
// records are held at once: a larger spool is sorted in runs, each written
// to a temporary file, which are merged. After sorting each run it rests
// (pace.Pacer), so that sorting millions does not take a CPU for seconds.
func (s *spool) sorted(pace *pace.Pacer) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		r, err := s.rewind()
		if err != nil {
			yield(nil, err)
			return
		}
		var (
			arena []byte   // the records of the run, back to back
			run   []record // where each is in arena, sorted
			rec   []byte
		)
		readRun := func(read *int64) error {
			arena, run = arena[:0], run[:0]
			for *read < s.n && len(arena)+recordOverhead*len(run) < sortRunBytes {
				var err error
				if rec, err = readRecord(r, rec); err != nil {
					return fmt.Errorf("banks: import spool: record %d: %w", *read, err)
				}
				run = append(run, record{start: int32(len(arena)), end: int32(len(arena) + len(rec))})
				arena = append(arena, rec...)
				*read++
			}
			// Records of the same type and value stay in the order they
			// were put: the one that comes first in the arena first.
			slices.SortFunc(run, func(a, b record) int {
				if c := compareRecords(arena[a.start:a.end], arena[b.start:b.end]); c != 0 {
					return c
				}
				return int(a.start - b.start)
			})
			return pace.Rest()
		}
		records := func(yield func([]byte) bool) {
			for _, x := range run {
				if !yield(arena[x.start:x.end]) {
					return
				}
			}
		}
		var read int64
		if err := readRun(&read); err != nil {
			yield(nil, err)
			return
		}
		if read == s.n {
			// Everything fit in one run: no temporary files.
			yieldRecords(records, yield)
			return
		}
		for {
			if err := s.writeRun(records); err != nil {
				yield(nil, err)
				return
			}
			if read == s.n {
				break
			}
			if err := readRun(&read); err != nil {
				yield(nil, err)
				return
			}
		}
		arena, run = nil, nil
		s.merge(yield)
	}
}

// record is where a spooled record is in the arena of a run.
type record struct{ start, end int32 }

// compareRecords orders spooled records by type, then value.
func compareRecords(a, b []byte) int {
	ta, ra := recordString(a)
	tb, rb := recordString(b)
	if c := bytes.Compare(ta, tb); c != 0 {
		return c
	}
	va, _ := recordString(ra)
	vb, _ := recordString(rb)
	return bytes.Compare(va, vb)
}

// recordString splits the length-prefixed string at the start of b from
// the rest (nil on a malformed record; decodeEntry reports it).
func recordString(b []byte) (s, rest []byte) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil
	}
	return b[k : k+int(n)], b[k+int(n):]
}

// yieldRecords decodes records and yields them as entries; it reports
// whether the consumer wants more.
func yieldRecords(recs iter.Seq[[]byte], yield func(*Entry, error) bool) bool {
	var e Entry
	for rec := range recs {
		if err := decodeEntry(rec, &e); err != nil {
			yield(nil, fmt.Errorf("banks: import spool: %w", err))
			return false
		}
		if !yield(&e, nil) {
			return false
		}
	}
	return true
}

// writeRun writes a sorted run to a temporary file of its own.
func (s *spool) writeRun(run iter.Seq[[]byte]) error {
	f, err := os.CreateTemp("", "parley-bank-import-run-*")
	if err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 256<<10)
	for rec := range run {
		if err := writeRecord(w, rec); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	return nil
}

// merge yields the records of every run in order: a heap holds the next
// record of each run, and equal records come from the earlier run first,
// which keeps the order they were put in.
func (s *spool) merge(yield func(*Entry, error) bool) {
	h := &runHeap{}
	for i, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			yield(nil, fmt.Errorf("banks: import spool: %w", err))
			return
		}
		c := &runCursor{r: bufio.NewReaderSize(f, 64<<10), order: i}
		if err := c.next(); err != nil {
			yield(nil, err)
			return
		}
		if c.rec != nil {
			h.cs = append(h.cs, c)
		}
	}
	heap.Init(h)
	var e Entry
	for h.Len() > 0 {
		c := h.cs[0]
		if err := decodeEntry(c.rec, &e); err != nil {
			yield(nil, fmt.Errorf("banks: import spool: %w", err))
			return
		}
		if !yield(&e, nil) {
			return
		}
		if err := c.next(); err != nil {
			yield(nil, err)
			return
		}
		if c.rec == nil {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
}

// runCursor reads one sorted run.
type runCursor struct {
	r     *bufio.Reader
	rec   []byte // the current record; nil at the end
	buf   []byte
	order int // the run's place: earlier runs hold records put earlier
}

func (c *runCursor) next() error {
	rec, err := readRecord(c.r, c.buf)
	if errors.Is(err, io.EOF) {
		c.rec = nil
		return nil
	} else if err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	c.buf, c.rec = rec, rec
	return nil
}

// runHeap orders run cursors by their current record, then by run.
type runHeap struct{ cs []*runCursor }

func (h *runHeap) Len() int { return len(h.cs) }
func (h *runHeap) Less(i, j int) bool {
	if c := compareRecords(h.cs[i].rec, h.cs[j].rec); c != 0 {
		return c < 0
	}
	return h.cs[i].order < h.cs[j].order
}
func (h *runHeap) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *runHeap) Push(x any)    { h.cs = append(h.cs, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	c := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return c
}

func decodeEntry(b []byte, e *Entry) error {
	var err error
	str := func() string {
		if err != nil {
			return ""
		}
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			err = errors.New("truncated")
			return ""
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s
	}
	num := func() uint64 {
		if err != nil {
			return 0
		}
		n, k := binary.Uvarint(b)
		if k <= 0 {
			err = errors.New("truncated")
			return 0
		}
		b = b[k:]
		return n
	}
	*e = Entry{Type: EntryType(str()), Value: str(), Quality: int(num()), Source: str(), ExternalID: str(), Note: str()}
	if nt := num(); nt > 0 && err == nil {
		e.Tags = make([]string, 0, min(nt, MaxTags))
		for range nt {
			e.Tags = append(e.Tags, str())
		}
	}
	return err
}

// close removes the spool file and the runs.
func (s *spool) close() {
	for _, f := range append(s.runs, s.f) {
		f.Close()
		os.Remove(f.Name())
	}
}
