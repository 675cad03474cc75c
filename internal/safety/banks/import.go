package banks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"unicode/utf8"

	"parley"
)

// Import limits. A line holds one entry, so MaxLineBytes bounds the memory
// of reading (the longest valid line, a URL of 2,000 bytes with 32 tags and
// a long source, is well below it); MaxImportEntries bounds the time and
// disk of one import and the size of its transaction.
const (
	DefaultMaxLineBytes     = 16 << 10
	DefaultMaxImportEntries = 5_000_000
	// MaxReportedErrors is how many bad lines an ImportReport lists; the
	// rest are counted (and all of them are passed to OnError).
	MaxReportedErrors = 1000
)

// ImportOptions say how to read an import.
type ImportOptions struct {
	Format Format
	// Type is the entry type of every line of the hma format, which does
	// not name it; the pdq format holds pdq hashes only, and the
	// threatexchange format names each line's type.
	Type EntryType
	// Source is the entries' provenance ("NCMEC"), required for the hma
	// and pdq formats; in the threatexchange format it is used for lines
	// whose collab column is empty.
	Source string
	// Name names what is imported (a file name), for the audit log.
	Name string
	// MaxEntries and MaxLineBytes override the defaults when positive.
	MaxEntries   int64
	MaxLineBytes int
	// Progress, when set, is called as the import goes.
	Progress func(Progress)
	// OnError, when set, is called for every bad line as it is found.
	OnError func(LineError)
}

// Progress is how far an import has come.
type Progress struct {
	Phase   string // "reading" (checking every line) or "writing" (storing the entries)
	Bytes   int64  // bytes read
	Lines   int64  // lines read
	Entries int64  // reading: good entries so far; writing: entries stored so far
	Total   int64  // writing: entries to store
	Done    bool   // the phase is over
}

// The phases of an import.
const (
	PhaseReading = "reading"
	PhaseWriting = "writing"
)

// LineError is one bad line of an import.
type LineError struct {
	Line       int64  `json:"line"`
	Column     int    `json:"column,omitempty"`      // from 1; 0 when the whole line is wrong
	ColumnName string `json:"column_name,omitempty"` // e.g. signal_str
	Message    string `json:"message"`
}

func (e LineError) String() string {
	switch {
	case e.Column == 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	case e.ColumnName == "":
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("line %d, column %d (%s): %s", e.Line, e.Column, e.ColumnName, e.Message)
}

// ImportReport is the outcome of an import.
type ImportReport struct {
	Format      Format      `json:"format"`
	Bytes       int64       `json:"bytes"`
	Lines       int64       `json:"lines"`
	Entries     int64       `json:"entries"`    // good entry lines read
	Added       int64       `json:"added"`      // entries new to the bank
	Duplicates  int64       `json:"duplicates"` // entries the bank already held (or repeated in the file)
	FirstChange int64       `json:"first_change,omitempty"`
	LastChange  int64       `json:"last_change,omitempty"`
	BadLines    int64       `json:"bad_lines"`
	Errors      []LineError `json:"errors,omitempty"` // the first MaxReportedErrors bad lines
}

// readImport reads and checks every line of r, passing each good entry to
// emit (which must not keep it: the entry is reused). It returns a report
// listing the bad lines, and an error only when reading could not go on
// (the input failed, the limit on entries was passed, ctx ended, emit
// failed). A report with bad lines means nothing may be imported.
func readImport(ctx context.Context, r io.Reader, bank *Bank, opts ImportOptions, emit func(*Entry) error) (*ImportReport, error) {
	rep := &ImportReport{Format: opts.Format}
	p := &lineParser{format: opts.Format, bank: bank, typ: opts.Type, source: opts.Source}
	if err := checkImportOptions(&opts, p); err != nil {
		return rep, err
	}
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	maxEntries := opts.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxImportEntries
	}
	lr := newLineReader(r, maxLine)
	bad := func(le LineError) {
		rep.BadLines++
		if len(rep.Errors) < MaxReportedErrors {
			rep.Errors = append(rep.Errors, le)
		}
		if opts.OnError != nil {
			opts.OnError(le)
		}
	}
	progress := func(done bool) {
		rep.Bytes, rep.Lines = lr.bytes, lr.line
		if opts.Progress != nil {
			opts.Progress(Progress{Phase: PhaseReading, Bytes: lr.bytes, Lines: lr.line, Entries: rep.Entries, Done: done})
		}
	}
	var (
		fields     []string
		e          Entry
		headerSeen = !p.needsHeader()
		nextReport = lr.bytes + 256<<10
	)
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if lr.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
		}
		if lr.bytes >= nextReport {
			progress(false)
			nextReport = lr.bytes + 256<<10
		}
		if errors.Is(err, errLineTooLong) {
			bad(LineError{Line: lr.line, Message: fmt.Sprintf("is longer than %d bytes", maxLine)})
			continue
		} else if err != nil {
			progress(false)
			return rep, parley.Errorf(parley.EInvalid, "reading line %d: %v", lr.line+1, err)
		}
		if lr.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF")) // the byte order mark spreadsheets write
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !utf8.Valid(line) {
			bad(LineError{Line: lr.line, Message: "is not valid UTF-8 text"})
			continue
		}
		var fe *fieldError
		if fields, fe = splitCSV(line, fields); fe != nil {
			bad(LineError{Line: lr.line, Column: fe.column, Message: fe.msg})
			continue
		}
		if !headerSeen {
			headerSeen = true
			if ce := p.parseHeader(fields); ce != nil {
				// Without a header no line can be read.
				bad(LineError{Line: lr.line, Column: ce.column, ColumnName: ce.name, Message: ce.msg})
				progress(true)
				return rep, nil
			}
			continue
		}
		if ce := p.parse(fields, &e); ce != nil {
			bad(LineError{Line: lr.line, Column: ce.column, ColumnName: ce.name, Message: ce.msg})
			continue
		}
		if err := checkProvenance(&e); err != nil {
			// The format parsers check every field (the value with
			// ParseValue); this catches what they missed rather than
			// letting the store see it.
			bad(LineError{Line: lr.line, ColumnName: parley.ErrorField(err), Message: parley.ErrorMessage(err)})
			continue
		}
		if rep.Entries >= maxEntries {
			progress(false)
			return rep, parley.Errorf(parley.ETooLarge, "line %d: the import has more than %d entries, the limit; split the file", lr.line, maxEntries)
		}
		rep.Entries++
		if rep.BadLines == 0 {
			if err := emit(&e); err != nil {
				return rep, err
			}
		}
	}
	if !headerSeen && rep.BadLines == 0 {
		bad(LineError{Line: 1, Message: "the file is empty: the threatexchange format starts with a header (" + strings.Join(teColumns, ",") + ")"})
	}
	progress(true)
	return rep, nil
}

// checkImportOptions checks the options that do not depend on the input.
func checkImportOptions(opts *ImportOptions, p *lineParser) error {
	if _, err := ParseFormat(string(opts.Format)); err != nil {
		return err
	}
	switch opts.Format {
	case FormatHMA:
		if opts.Type == "" {
			return parley.FieldError("type", "the hma format does not name the signal type: give it (pdq, md5, sha256, url or domain)")
		}
		if _, err := ParseType(string(opts.Type)); err != nil {
			return err
		}
	case FormatPDQ:
		if opts.Type != "" && opts.Type != TypePDQ {
			return parley.FieldError("type", "the pdq format holds pdq hashes only")
		}
	case FormatThreatExchange:
		if opts.Type != "" {
			return parley.FieldError("type", "the threatexchange format names each line's signal type; give no type")
		}
	}
	if opts.Source != "" {
		if err := checkText("source", opts.Source, MaxSourceBytes, true); err != nil {
			return err
		}
	} else if opts.Format != FormatThreatExchange {
		return parley.FieldError("source", "is required with the %s format: say where the hashes come from (NCMEC, ThreatExchange privacy group 123, ...)", opts.Format)
	}
	return nil
}

// spool holds the checked entries of an import in a temporary file between
// reading and writing, so that an import of millions of lines needs no more
// memory than one line, and the store's transaction starts only once every
// line is known to be good (it then holds the single writer only for as long
// as the inserts take, not for as long as the upload).
type spool struct {
	f   *os.File
	w   *bufio.Writer
	n   int64
	buf []byte
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
	if _, err := s.w.Write(binary.AppendUvarint(nil, uint64(len(b)))); err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("banks: import spool: %w", err)
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// entries reads the spooled entries back, calling progress every so often
// with the number read so far.
func (s *spool) entries(progress func(n int64, done bool)) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		if err := s.w.Flush(); err != nil {
			yield(nil, fmt.Errorf("banks: import spool: %w", err))
			return
		}
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			yield(nil, fmt.Errorf("banks: import spool: %w", err))
			return
		}
		r := bufio.NewReaderSize(s.f, 256<<10)
		var e Entry
		var rec []byte
		for i := int64(0); i < s.n; i++ {
			n, err := binary.ReadUvarint(r)
			if err == nil {
				rec = append(rec[:0], make([]byte, n)...)
				_, err = io.ReadFull(r, rec)
			}
			if err == nil {
				err = decodeEntry(rec, &e)
			}
			if err != nil {
				yield(nil, fmt.Errorf("banks: import spool: record %d: %w", i, err))
				return
			}
			if progress != nil && (i+1)%8192 == 0 {
				progress(i+1, false)
			}
			if !yield(&e, nil) {
				return
			}
		}
		if progress != nil {
			progress(s.n, true)
		}
	}
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

// close removes the spool file.
func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}
