package banks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/pace"
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
	// Batch is how many entries each transaction of the store writes;
	// zero or less means ImportBatch.
	Batch int
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
	pace := pace.New(ctx)
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
			if err := pace.Rest(); err != nil {
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

// ImportBatch is how many entries of an import one transaction of the
// store writes. SQLite has one writer: while a batch is written, every
// other write (a post) waits for it. A batch of 1,000 entries takes about
// 15 ms on the 2-core machine of docs/benchmarks.md, which keeps a post's
// wait within its usual latency; larger batches gain little (the cost per
// entry is the insert itself, not the transaction).
const ImportBatch = 500

// ImportStaleAfter is how long an import may go without writing a batch
// before it counts as abandoned although its process cannot be shown dead
// (it ran on another host, or its process id was given to another
// process). A live import writes a batch every few milliseconds, and waits
// at most the store's busy timeout (seconds) for the writer.
const ImportStaleAfter = 10 * time.Minute

// abortBatch is how many entries of an abandoned import one transaction
// deletes.
const abortBatch = 2000

// writeImport writes the spooled entries into a new import of the bank a
// batch per transaction and publishes it, recording act. When anything
// fails the import is given up and what it wrote deleted; nothing of it
// was ever visible.
func (s *Service) writeImport(ctx context.Context, a Actor, bankID int64, sp *spool, total int64, batch int, progress func(int64, bool), act Act) (Outcome, error) {
	imp := &Import{BankID: bankID, Owner: s.owner, AddedBy: a.UserID, StartedAt: act.At, Total: total}
	if err := s.store.BeginBankImport(ctx, imp); err != nil {
		return Outcome{}, err
	}
	s.mu.Lock()
	s.mine[imp.ID] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.mine, imp.ID)
		s.mu.Unlock()
	}()
	o, err := s.writeBatches(ctx, imp, sp, batch, progress, act)
	if err != nil {
		// Deleting needs the store even when ctx has ended (the import
		// was cancelled). If this fails too, CleanImports deletes it.
		if aerr := s.abortImport(context.WithoutCancel(ctx), imp.ID); aerr != nil {
			err = errors.Join(err, fmt.Errorf("banks: the import's invisible entries are deleted at the next start or import: %w", aerr))
		}
		return Outcome{}, err
	}
	return o, nil
}

func (s *Service) writeBatches(ctx context.Context, imp *Import, sp *spool, size int, progress func(int64, bool), act Act) (Outcome, error) {
	if size <= 0 {
		size = ImportBatch
	}
	buf := make([]Entry, 0, size)
	batch := make([]*Entry, 0, size)
	var written int64
	pace := pace.New(ctx)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		for i := range buf {
			batch = append(batch, &buf[i])
		}
		if _, _, err := s.store.WriteBankImport(ctx, imp.ID, batch, s.clock.Now()); err != nil {
			return err
		}
		written += int64(len(buf))
		buf, batch = buf[:0], batch[:0]
		progress(written, false)
		// The writer is then free at least half of the time, for
		// other processes too, whose SQLite busy handler polls for it.
		return pace.Rest()
	}
	progress(0, false)
	for e, err := range sp.sorted(pace) {
		if err != nil {
			return Outcome{}, err
		}
		buf = append(buf, *e) // the spool reuses e; its strings are its own
		if len(buf) == size {
			if err := flush(); err != nil {
				return Outcome{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return Outcome{}, err
	}
	o, err := s.store.PublishBankImport(ctx, imp.ID, act)
	if err != nil {
		return Outcome{}, err
	}
	progress(written, true)
	return o, nil
}

// abortImport gives an import up and deletes what it wrote, a batch per
// transaction.
func (s *Service) abortImport(ctx context.Context, id int64) error {
	for {
		done, err := s.store.AbortBankImport(ctx, id, abortBatch)
		if err != nil || done {
			return err
		}
	}
}

// Imports returns the imports into a bank that are not published yet
// (under way, or given up and being deleted), for a page to show their
// progress.
func (s *Service) Imports(ctx context.Context, a Actor, bankID int64) ([]*Import, error) {
	if _, err := s.Bank(ctx, a, bankID); err != nil {
		return nil, err
	}
	all, err := s.store.ListBankImports(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Import
	for _, imp := range all {
		if imp.BankID == bankID {
			out = append(out, imp)
		}
	}
	return out, nil
}

// CleanImports gives up every import that was abandoned and deletes what it
// wrote (none of which was ever visible), and returns how many it gave up.
// An import is abandoned when it was aborted already (and the deleting
// stopped part-way), when it was this process's but is no longer being
// written here, when its process on this host has ended, or when it has
// written nothing for ImportStaleAfter. Import calls it first; the server
// calls it when it starts and every ImportStaleAfter.
func (s *Service) CleanImports(ctx context.Context) (int, error) {
	imps, err := s.store.ListBankImports(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, imp := range imps {
		if !s.abandoned(imp) {
			continue
		}
		if err := s.abortImport(ctx, imp.ID); err != nil && parley.ErrorCode(err) != parley.ENotFound {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) abandoned(imp *Import) bool {
	if imp.Aborted || s.clock.Now().Sub(imp.WrittenAt) > ImportStaleAfter {
		return true
	}
	if imp.Owner == s.owner {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.mine[imp.ID]
	}
	host, pid, ok := splitOwner(imp.Owner)
	return ok && host == hostname() && !processAlive(pid)
}

// processOwner names this process in the imports it writes: "host:pid".
func processOwner() string { return hostname() + ":" + strconv.Itoa(os.Getpid()) }

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown-host"
	}
	return h
}

func splitOwner(owner string) (host string, pid int, ok bool) {
	i := strings.LastIndexByte(owner, ':')
	if i < 0 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(owner[i+1:])
	return owner[:i], pid, err == nil && pid > 0
}

// processAlive reports whether process pid of this host runs. Where that
// cannot be told (signal 0 unsupported, another user's process), it is
// taken to run: an import is never given up while it may be written.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return !errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}
