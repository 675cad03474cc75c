package sqlite

import (
	"context"
	"fmt"

	"parley"
)

// maxBatch is the most messages committed in one transaction. A larger batch
// shares one fsync among more messages but makes the first caller in it wait
// longer; at a few microseconds per message, 256 keeps that wait well under
// the time of the fsync itself.
const maxBatch = 256

// insertRequest is one InsertMessage call waiting for the group-commit
// goroutine. msg is the caller's message, copied, so that the goroutine never
// writes memory the caller may already have returned from.
type insertRequest struct {
	ctx  context.Context
	msg  parley.Message
	done chan insertResult // buffered: the goroutine never waits for a caller
}

type insertResult struct {
	msg    parley.Message
	update *parley.Update
	err    error
}

// InsertMessage assigns msg.Seq (the chat's next sequence number) and msg.ID,
// stores it, appends a message.new update with the chat's next pts, writes
// it to the outbox, and returns the update once the transaction is durable.
// It also sets msg.CreatedAt when zero and msg.SenderName. ENOTFOUND if the
// chat or the sender does not exist.
//
// Calls are committed in groups: one goroutine takes every call waiting at
// the moment it starts (up to 256) and runs them in one transaction, each in
// a savepoint of its own, so one failing call is rolled back alone and the
// others still commit, and all of them share one fsync. Under load this is
// many times faster than a transaction per message, and a lone call waits
// for nothing but its own commit. A caller whose ctx is done before its
// message is written gets ctx.Err() and nothing is stored; once the message
// is written the caller waits for the commit (a few milliseconds) and gets
// its result, so a message is never stored without its caller hearing so.
func (db *DB) InsertMessage(ctx context.Context, msg *parley.Message) (*parley.Update, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := &insertRequest{ctx: ctx, msg: *msg, done: make(chan insertResult, 1)}
	select {
	case db.inserts <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-db.closing:
		return nil, errClosed
	}
	res := <-req.done
	if res.err != nil {
		return nil, res.err
	}
	*msg = res.msg
	return res.update, nil
}

// runInserts is the group-commit goroutine. It runs until Close.
func (db *DB) runInserts() {
	defer close(db.done)
	batch := make([]*insertRequest, 0, maxBatch)
	for {
		select {
		case req := <-db.inserts:
			batch = append(batch[:0], req)
		case <-db.closing:
			return
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case req := <-db.inserts:
				batch = append(batch, req)
			default:
				break collect
			}
		}
		db.commitBatch(batch)
		clear(batch)
	}
}

// commitBatch writes every request of batch in one transaction and answers
// each caller. The transaction does not use any caller's context: one caller
// giving up must not roll back the others.
func (db *DB) commitBatch(batch []*insertRequest) {
	results := make([]insertResult, len(batch))
	wrote := false
	err := func() error {
		ctx := context.Background()
		tx, err := db.writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		defer tx.Rollback()
		st := db.hot.bind(ctx, tx)
		for i, req := range batch {
			if err := req.ctx.Err(); err != nil {
				results[i].err = err
				continue
			}
			if _, err := st.savepoint.ExecContext(ctx); err != nil {
				return internal("savepoint", err)
			}
			m := req.msg
			u, err := insertMessage(ctx, st, &m)
			if err != nil {
				results[i].err = err
				if _, err := st.rollbackTo.ExecContext(ctx); err != nil {
					return internal("rollback to savepoint", err)
				}
			} else {
				results[i] = insertResult{msg: m, update: u}
				wrote = true
			}
			if _, err := st.release.ExecContext(ctx); err != nil {
				return internal("release savepoint", err)
			}
		}
		if !wrote {
			return nil // nothing to commit; the deferred rollback ends the transaction
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: commit: %w", err)
		}
		return nil
	}()
	if err != nil {
		// Nothing of the batch was committed: every caller that would have
		// succeeded gets the error.
		for i := range results {
			if results[i].err == nil {
				results[i] = insertResult{err: err}
			}
		}
	} else if wrote {
		db.signalOutbox()
	}
	for i, req := range batch {
		req.done <- results[i]
	}
}
