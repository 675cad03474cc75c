package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// multiRowInsert inserts many rows into one table with few statements. Each
// statement execution costs several microseconds in database/sql and the
// driver whatever the rows it carries, against about a microsecond per row
// inside SQLite, so a batch of messages written one row per statement spends
// most of its time in overhead. A batch of n rows is written as one
// statement per set bit of n, with 1, 2, 4, ... up to maxBatch rows each: at
// most nine statements for any batch, all prepared once and reused.
type multiRowInsert struct {
	prefix string // "INSERT INTO t (a, b, c) VALUES "
	cols   int

	stmts [multiRowSizes]*sql.Stmt // stmts[k] inserts 1<<k rows
}

// multiRowSizes is the number of statement sizes: 1, 2, 4, ..., maxBatch.
const multiRowSizes = 9

func init() {
	if 1<<(multiRowSizes-1) != maxBatch {
		panic("sqlite: multiRowSizes does not match maxBatch")
	}
}

func newMultiRowInsert(table string, cols ...string) *multiRowInsert {
	return &multiRowInsert{
		prefix: "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ",
		cols:   len(cols),
	}
}

// prepare prepares the statements of every size on the writer pool. It must
// run before the first exec and outside any transaction: the writer pool has
// one connection, which a transaction holds until it ends.
func (m *multiRowInsert) prepare(ctx context.Context, writer *sql.DB) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", m.cols), ", ") + ")"
	for k := range m.stmts {
		var b strings.Builder
		b.WriteString(m.prefix)
		for i := range 1 << k {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
		st, err := writer.PrepareContext(ctx, b.String())
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		m.stmts[k] = st
	}
	return nil
}

// exec inserts the rows held in args (len(args) must be a multiple of the
// column count, at most maxBatch rows) inside tx.
func (m *multiRowInsert) exec(ctx context.Context, tx *sql.Tx, args []any) error {
	n := len(args) / m.cols
	if n*m.cols != len(args) || n > maxBatch {
		return fmt.Errorf("sqlite: multi-row insert of %d values into %d columns", len(args), m.cols)
	}
	for k := len(m.stmts) - 1; k >= 0 && len(args) > 0; k-- {
		if n&(1<<k) == 0 {
			continue
		}
		size := (1 << k) * m.cols
		bound := tx.StmtContext(ctx, m.stmts[k])
		_, err := bound.ExecContext(ctx, args[:size]...)
		bound.Close()
		if err != nil {
			return err
		}
		args = args[size:]
	}
	return nil
}

func (m *multiRowInsert) close() error {
	var first error
	for i, st := range m.stmts {
		if st != nil {
			if err := st.Close(); err != nil && first == nil {
				first = err
			}
			m.stmts[i] = nil
		}
	}
	return first
}
