package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"parley"
	"parley/internal/audit"
)

// appendAudit adds e to the audit log inside tx: it reads the newest entry,
// gives e the next id, links it to that entry's hash and computes its own.
// Callers run it in the same transaction as the act it records, so an act
// and its audit entry are committed together or not at all.
func appendAudit(ctx context.Context, tx queryer, e *parley.AuditEntry) error {
	var lastID int64
	var prev []byte
	err := tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&lastID, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return internal("read audit head", err)
	}
	e.ID = lastID + 1
	e.At = micro(nowOr(e.At))
	e.PrevHash = prev
	e.Hash = audit.Hash(prev, e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor_id, action, target_type, target_id, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, toMicro(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.Details, e.PrevHash, e.Hash)
	if err != nil {
		return internal("append audit entry", err)
	}
	return nil
}

// AppendAudit records one privileged act in its own transaction.
func (db *DB) AppendAudit(ctx context.Context, e *parley.AuditEntry) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := appendAudit(ctx, tx, e); err != nil {
		return err
	}
	return db.commit(tx, false)
}

// ListAuditEntries returns entries with id > afterID in id order, at most
// limit (at most 1000).
func (db *DB) ListAuditEntries(ctx context.Context, afterID int64, limit int) ([]*parley.AuditEntry, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT id, at, actor_id, action, target_type, target_id, details, prev_hash, hash
		FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`, afterID, pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("list audit entries", err)
	}
	defer rows.Close()
	var out []*parley.AuditEntry
	for rows.Next() {
		e := &parley.AuditEntry{}
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.TargetType, &e.TargetID, &e.Details, &e.PrevHash, &e.Hash); err != nil {
			return nil, internal("list audit entries", err)
		}
		e.At = fromMicro(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list audit entries", err)
	}
	return out, nil
}

// AppendAuditOnce appends e unless the log already has an entry by the same
// actor, of the same action, about the same target, at since or later; it
// reports whether it appended. The check and the append are one
// transaction, so two concurrent calls append one entry; a read first
// spares the writer when there is one already.
func (db *DB) AppendAuditOnce(ctx context.Context, e *parley.AuditEntry, since time.Time) (bool, error) {
	const seen = `SELECT EXISTS (SELECT 1 FROM audit_log
		WHERE target_type = ? AND target_id = ? AND at >= ? AND actor_id = ? AND action = ?)`
	args := []any{e.TargetType, e.TargetID, toMicro(since), e.ActorID, e.Action}
	var found bool
	if err := db.reads.QueryRowContext(ctx, seen, args...).Scan(&found); err != nil {
		return false, internal("read audit log", err)
	} else if found {
		return false, nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, seen, args...).Scan(&found); err != nil {
		return false, internal("read audit log", err)
	} else if found {
		return false, nil
	}
	if err := appendAudit(ctx, tx, e); err != nil {
		return false, err
	}
	if err := db.commit(tx, false); err != nil {
		return false, err
	}
	return true, nil
}

var _ audit.Store = (*DB)(nil)

// LastAuditEntryID returns the id of the newest entry, 0 if none.
func (db *DB) LastAuditEntryID(ctx context.Context) (int64, error) {
	var id int64
	if err := db.reads.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM audit_log`).Scan(&id); err != nil {
		return 0, internal("last audit entry", err)
	}
	return id, nil
}

// LastAuditCheckpoint returns the checkpoint of the highest entry, nil if
// there is none.
func (db *DB) LastAuditCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	var c audit.Checkpoint
	var at int64
	err := db.reads.QueryRowContext(ctx, `SELECT entry_id, hash, verified_at FROM audit_checkpoints ORDER BY entry_id DESC LIMIT 1`).Scan(&c.EntryID, &c.Hash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, internal("read audit checkpoint", err)
	}
	c.VerifiedAt = fromMicro(at)
	return &c, nil
}

// ListAuditCheckpoints returns checkpoints with entry id > afterID, by
// entry id, at most limit (at most 1000).
func (db *DB) ListAuditCheckpoints(ctx context.Context, afterID int64, limit int) ([]*audit.Checkpoint, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT entry_id, hash, verified_at FROM audit_checkpoints
		WHERE entry_id > ? ORDER BY entry_id LIMIT ?`, afterID, pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("list audit checkpoints", err)
	}
	defer rows.Close()
	out := []*audit.Checkpoint{}
	for rows.Next() {
		var c audit.Checkpoint
		var at int64
		if err := rows.Scan(&c.EntryID, &c.Hash, &at); err != nil {
			return nil, internal("list audit checkpoints", err)
		}
		c.VerifiedAt = fromMicro(at)
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list audit checkpoints", err)
	}
	return out, nil
}

// SaveAuditCheckpoint records a checkpoint; one for an entry that has one
// is left as it was.
func (db *DB) SaveAuditCheckpoint(ctx context.Context, c *audit.Checkpoint) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (entry_id, hash, verified_at) VALUES (?, ?, ?)
		ON CONFLICT (entry_id) DO NOTHING`, c.EntryID, c.Hash, toMicro(nowOr(c.VerifiedAt))); err != nil {
		return internal("save audit checkpoint", err)
	}
	return db.commit(tx, false)
}
