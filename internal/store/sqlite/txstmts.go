package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxWriterStmts bounds the writer's statement cache; queries beyond it
// (there should be none: the SQL of every write is a constant) run
// unprepared.
const maxWriterStmts = 256

// writerStmts caches statements prepared on the writer connection, for the
// queries of write transactions that are not on the message path (those
// are in hotStmts). SQLite parses a statement in tens of microseconds,
// which a removal that runs a dozen queries pays a dozen times; a batch of
// removals by re-screening pays it for every copy.
//
// A statement cannot be prepared on the writer while a transaction holds
// its only connection, so a query seen for the first time inside a
// transaction runs unprepared there and is prepared after the commit
// (prepareMissed), for the next time.
type writerStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (c *writerStmts) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// prepareMissed prepares the queries a transaction ran unprepared. It must
// be called outside any transaction.
func (db *DB) prepareMissed(ctx context.Context, missed map[string]bool) {
	if len(missed) == 0 {
		return
	}
	c := &db.wstmts
	for q := range missed {
		c.mu.Lock()
		_, have := c.stmts[q]
		full := len(c.stmts) >= maxWriterStmts
		c.mu.Unlock()
		if have || full {
			continue
		}
		st, err := db.writer.PrepareContext(ctx, q)
		if err != nil {
			continue // the unprepared query reports its own error
		}
		c.mu.Lock()
		if c.stmts == nil {
			c.stmts = map[string]*sql.Stmt{}
		}
		if _, have := c.stmts[q]; have {
			st.Close()
		} else {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *writerStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// txQueries runs the queries of one write transaction through the writer's
// prepared statements where there are some, and notes the others for
// prepareMissed. It is a queryer.
type txQueries struct {
	tx     *sql.Tx
	db     *DB
	bound  map[string]*sql.Stmt
	missed map[string]bool
}

func newTxQueries(db *DB, tx *sql.Tx) *txQueries {
	return &txQueries{tx: tx, db: db, bound: map[string]*sql.Stmt{}, missed: map[string]bool{}}
}

func (q *txQueries) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := q.bound[query]; st != nil {
		return st
	}
	st := q.db.wstmts.get(query)
	if st == nil {
		q.missed[query] = true
		return nil
	}
	b := q.tx.StmtContext(ctx, st)
	q.bound[query] = b
	return b
}

func (q *txQueries) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *txQueries) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

func (q *txQueries) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}
