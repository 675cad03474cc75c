package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SQL of the statements on the path of every new message. They are prepared
// once, on the writer connection: parsing these short statements costs about
// as much as running them, and preparing them once roughly doubled the
// group-commit throughput.
const (
	sqlSenderName = `SELECT coalesce(nullif(display_name, ''), username), status, suspended_until FROM users WHERE id = ?`
	sqlPostPermit = `
		SELECT c.kind, c.status, c.last_seq, m.role FROM chats c
		LEFT JOIN members m ON m.chat_id = c.id AND m.user_id = ?
		WHERE c.id = ?`
	sqlNextSeq = `
		UPDATE chats SET last_seq = last_seq + 1, pts = pts + 1, active_at = max(active_at, ?)
		WHERE id = ?
		RETURNING last_seq, pts`
	sqlInsertMessage = `
		INSERT INTO messages (chat_id, seq, sender_id, text, media_id, reply_to_seq,
			forward_chat_id, forward_seq, forward_sender_id, forward_chat_title,
			ciphertext, nonce, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`
	sqlInsertUpdate = `
		INSERT INTO updates (chat_id, pts, kind, seq, sender_id, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlInsertEvent = `INSERT INTO outbox (subject, kind, payload, created_at) VALUES (?, ?, ?, ?)`
	sqlSavepoint   = `SAVEPOINT message`

	// The statements of a batch written at once (writeBatch). Lists of ids
	// and counters travel as one JSON parameter, so each statement has the
	// same text whatever the size of the batch and is prepared once.
	sqlBatchSenders = `
		SELECT id, coalesce(nullif(display_name, ''), username), status, suspended_until FROM users
		WHERE id IN (SELECT value FROM json_each(?))`
	sqlBatchChats = `
		SELECT id, kind, status, last_seq, pts, active_at FROM chats
		WHERE id IN (SELECT value FROM json_each(?))`
	sqlBatchMembers = `
		SELECT m.chat_id, m.user_id, m.role FROM json_each(?) AS p
		JOIN members m ON m.chat_id = p.value ->> 0 AND m.user_id = p.value ->> 1`
	sqlMaxMessageID  = `SELECT coalesce(max(id), 0) FROM messages`
	sqlDeleteEvents  = `DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))`
	sqlBatchCounters = `
		UPDATE chats SET last_seq = c.value ->> 1, pts = c.value ->> 2, active_at = c.value ->> 3
		FROM json_each(?) AS c WHERE chats.id = c.value ->> 0`
	sqlRollbackTo = `ROLLBACK TO message`
	sqlRelease    = `RELEASE message`
)

// hotStmts are the prepared statements of the message path. The copy held
// by DB belongs to the writer pool; bind returns a copy usable inside one
// transaction.
type hotStmts struct {
	senderName, nextSeq, insertMessage, insertUpdate, insertEvent *sql.Stmt
	savepoint, rollbackTo, release                                *sql.Stmt
	batchSenders, batchChats, maxMessageID, batchCounters         *sql.Stmt
	deleteEvents, batchMembers, postPermit                        *sql.Stmt
}

func (h *hotStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&h.senderName, &h.nextSeq, &h.insertMessage, &h.insertUpdate, &h.insertEvent,
		&h.savepoint, &h.rollbackTo, &h.release,
		&h.batchSenders, &h.batchChats, &h.maxMessageID, &h.batchCounters, &h.deleteEvents, &h.batchMembers, &h.postPermit}
}

// prepareHotStmts prepares the message path on the writer pool. It runs
// after the migrations, since preparing checks the tables exist.
func prepareHotStmts(ctx context.Context, db *sql.DB) (*hotStmts, error) {
	h := &hotStmts{}
	queries := []string{sqlSenderName, sqlNextSeq, sqlInsertMessage, sqlInsertUpdate, sqlInsertEvent,
		sqlSavepoint, sqlRollbackTo, sqlRelease,
		sqlBatchSenders, sqlBatchChats, sqlMaxMessageID, sqlBatchCounters, sqlDeleteEvents, sqlBatchMembers, sqlPostPermit}
	for i, p := range h.all() {
		st, err := db.PrepareContext(ctx, queries[i])
		if err != nil {
			h.close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p = st
	}
	return h, nil
}

// bind returns the statements for use inside tx. On the single writer
// connection they were prepared on, this reuses the prepared statements;
// the bound copies are released when tx ends.
func (h *hotStmts) bind(ctx context.Context, tx *sql.Tx) *hotStmts {
	b := &hotStmts{}
	src := h.all()
	for i, p := range b.all() {
		*p = tx.StmtContext(ctx, *src[i])
	}
	return b
}

func (h *hotStmts) close() error {
	var errs []error
	for _, p := range h.all() {
		if *p != nil {
			errs = append(errs, (*p).Close())
		}
	}
	return errors.Join(errs...)
}
