package sqlite

import "context"

// ExecForTest runs raw SQL on the writer connection, for tests that must
// change the database behind the adapter's back (tampering, corruption).
func (db *DB) ExecForTest(ctx context.Context, query string) error {
	_, err := db.writer.ExecContext(ctx, query)
	return err
}
