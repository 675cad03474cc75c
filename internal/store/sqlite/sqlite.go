// Package sqlite is the embedded default storage adapter: one SQLite file,
// opened in WAL mode with full synchronous commits, that implements the
// account store, the messaging store and the event outbox.
//
// SQLite allows one writer at a time, so the adapter keeps two pools: a
// writer pool of exactly one connection, through which every write goes in
// order, and a small pool of read-only connections that read concurrently
// with it (WAL lets readers see the last committed state while a write is in
// progress). New messages, the hottest write, are committed in groups by one
// goroutine (see InsertMessage), so that many messages share one fsync.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/stream"
)

var (
	_ auth.Store      = (*DB)(nil)
	_ messaging.Store = (*DB)(nil)
	_ stream.Outbox   = (*DB)(nil)
)

// readerConns is the size of the read-only pool. Reads are short and the
// machine a laptop, so a few connections keep readers from waiting on each
// other without holding many file handles.
const readerConns = 4

// busyTimeout is how long a connection waits for a lock held by another
// process (a second server or a migration) before it gives up.
const busyTimeout = 10 * time.Second

// DB is a SQLite database holding all of Parley's state. It is safe for
// concurrent use. Open it with Open and release it with Close.
type DB struct {
	path   string
	writer *sql.DB // exactly one connection: SQLite has one writer at a time
	reader *sql.DB // read-only connections
	reads  *readStmts
	hot    *hotStmts
	batch  *batchInserts
	wstmts writerStmts

	// inserts carries InsertMessage requests to the group-commit goroutine.
	// It is unbuffered: the goroutine takes every request whose caller is
	// blocked sending at the moment it starts a batch.
	inserts chan *insertRequest
	closing chan struct{}
	done    chan struct{}
	once    sync.Once

	// outboxSignal is signalled after every commit that wrote outbox rows.
	outboxSignal chan struct{}

	// batches and batchedMessages count group commits (GroupCommits).
	batches, batchedMessages atomic.Uint64
}

// Open opens the database file at path, creating it if it does not exist,
// and brings its schema up to date. The file is opened in WAL mode with
// synchronous=FULL, so that a write acknowledged to a caller survives the
// process being killed, and with foreign keys enforced.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		// An in-memory database would be a different database on every
		// connection of the two pools, and a URI would bypass the pragmas.
		return nil, fmt.Errorf("sqlite: open: %q is not a file path", path)
	}
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")

	w := cloneValues(common)
	w.Add("_pragma", "journal_mode(WAL)")
	w.Add("_pragma", "synchronous(FULL)")
	// Savepoints of a group-commit batch keep their journal in memory
	// instead of spilling it to a temporary file.
	w.Add("_pragma", "temp_store(MEMORY)")
	// IMMEDIATE takes the write lock when a transaction begins, so a second
	// process writing the same file waits (busy_timeout) at BEGIN instead of
	// failing at its first write with a lock it cannot upgrade.
	w.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Connect the writer first: it switches the file to WAL, which readers
	// need before they open.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r := cloneValues(common)
	r.Add("_pragma", "query_only(1)")
	reader, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(readerConns)
	reader.SetMaxIdleConns(readerConns)
	reader.SetConnMaxIdleTime(0)

	db := &DB{
		path:         path,
		writer:       writer,
		reader:       reader,
		reads:        newReadStmts(reader),
		batch:        newBatchInserts(),
		inserts:      make(chan *insertRequest),
		closing:      make(chan struct{}),
		done:         make(chan struct{}),
		outboxSignal: make(chan struct{}, 1),
	}
	if err := db.Migrate(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	if db.hot, err = prepareHotStmts(ctx, writer); err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	if err := db.batch.prepare(ctx, writer); err != nil {
		db.batch.close()
		db.hot.close()
		writer.Close()
		reader.Close()
		return nil, err
	}
	go db.runInserts()
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Close stops the group-commit goroutine after the batch it is committing,
// then closes both pools. Calls made after Close fail with EUnavailable.
func (db *DB) Close() error {
	db.once.Do(func() { close(db.closing) })
	<-db.done
	// The writer closes last: the last connection to close checkpoints the
	// WAL into the database file, which a read-only connection may not do.
	db.reads.close()
	rerr := db.reader.Close()
	herr := db.hot.close()
	berr := db.batch.close()
	db.wstmts.close()
	return errors.Join(rerr, herr, berr, db.writer.Close())
}

// OutboxSignal returns a channel that receives a value after every commit
// that wrote events to the outbox, so the relay can wake at once instead of
// polling. The channel has room for one value and a send never blocks: any
// number of commits while the relay is busy leave one wake-up, after which the
// relay reads everything pending.
func (db *DB) OutboxSignal() <-chan struct{} { return db.outboxSignal }

// signalOutbox wakes the relay without ever blocking a writer.
func (db *DB) signalOutbox() {
	select {
	case db.outboxSignal <- struct{}{}:
	default:
	}
}

// errClosed is returned by calls made after Close.
var errClosed = parley.Errorf(parley.EUnavailable, "the database is closed")

// beginWrite starts a write transaction on the single writer connection.
func (db *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	select {
	case <-db.closing:
		return nil, errClosed
	default:
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return tx, nil
}

// commit commits tx and, when it wrote events, wakes the outbox relay.
func (db *DB) commit(tx *sql.Tx, wroteEvents bool) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if wroteEvents {
		db.signalOutbox()
	}
	return nil
}

// queryer is what read helpers need: either a pool or a transaction, so the
// same helper reads through the reader pool or inside a write transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Times are stored as INTEGER unix microseconds: they sort and compare as
// numbers, and microseconds are what PostgreSQL keeps too, so both adapters
// return the same instants.

// toMicro converts t for storage.
func toMicro(t time.Time) int64 { return t.UnixMicro() }

// fromMicro converts a stored time back, in UTC.
func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

// micro returns t as it will read back from the database: in UTC, truncated
// to the microsecond, without a monotonic clock reading.
func micro(t time.Time) time.Time { return fromMicro(toMicro(t)) }

// nowOr returns t in storage precision, or the current time when t is zero.
func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return micro(time.Now())
	}
	return micro(t)
}

// nullMicro converts an optional time for storage.
func nullMicro(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMicro(*t), Valid: true}
}

// ptrTime returns a pointer to t.
func ptrTime(t time.Time) *time.Time { return &t }

// timePtr converts an optional stored time back.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicro(v.Int64)
	return &t
}

// isConstraint reports whether err is a SQLite constraint violation with the
// given extended code (SQLITE_CONSTRAINT_UNIQUE, ...).
func isConstraint(err error, code int) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == code
}

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY.
func isUnique(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) ||
		isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isForeignKey reports whether err is a violated FOREIGN KEY: a row refers
// to a user or chat that does not exist.
func isForeignKey(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// internal wraps an unexpected error with what was being done. The wrapped
// error is not a *parley.Error, so callers report it as EInternal.
func internal(op string, err error) error {
	var e *parley.Error
	if errors.As(err, &e) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// pageLimit bounds a caller's limit: a limit of zero or less, or one above
// max, means max, so no call can ask for an unbounded result.
func pageLimit(limit, max int) int {
	if limit <= 0 || limit > max {
		return max
	}
	return limit
}

// maxListLimit bounds lists that are not message pages (users, members).
const maxListLimit = 1000
