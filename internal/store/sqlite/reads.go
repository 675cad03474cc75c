package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedReads bounds the read statement cache; queries beyond it (there
// should be none: every read's SQL is a constant) are run unprepared.
const maxCachedReads = 256

// readStmts runs reads through statements prepared once on the reader pool.
// modernc's driver otherwise parses the SQL text on every call, which was
// about a tenth of the server's CPU when posting and when clients resume
// (docs/benchmarks.md). A *sql.Stmt is safe for concurrent use; database/sql
// prepares it once on each pooled connection as needed.
type readStmts struct {
	pool *sql.DB

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newReadStmts(pool *sql.DB) *readStmts {
	return &readStmts{pool: pool, stmts: map[string]*sql.Stmt{}}
}

func (r *readStmts) stmt(ctx context.Context, query string) *sql.Stmt {
	r.mu.RLock()
	st := r.stmts[query]
	r.mu.RUnlock()
	if st != nil {
		return st
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.stmts[query]; st != nil {
		return st
	}
	if len(r.stmts) >= maxCachedReads {
		return nil
	}
	st, err := r.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	r.stmts[query] = st
	return st
}

// QueryContext runs a read that returns rows.
func (r *readStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.pool.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a read that returns at most one row. The read does
// not watch ctx for cancellation: for a cancellable context modernc's driver
// starts a goroutine per statement to interrupt it, which costs more than a
// point read itself, and a read of one row by key ends in microseconds
// anyway. Reads of many rows (QueryContext) stay cancellable.
func (r *readStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := ctx.Err(); err != nil {
		return r.pool.QueryRowContext(ctx, query, args...) // reports ctx's error
	}
	ctx = context.WithoutCancel(ctx)
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.pool.QueryRowContext(ctx, query, args...)
}

// ExecContext exists to satisfy queryer; the reader pool is read-only, so
// it only ever reports that.
func (r *readStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.pool.ExecContext(ctx, query, args...)
}

func (r *readStmts) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for q, st := range r.stmts {
		st.Close()
		delete(r.stmts, q)
	}
	return nil
}
