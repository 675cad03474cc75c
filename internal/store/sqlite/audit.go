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
