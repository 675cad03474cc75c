package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"parley"
)

// maxBatch is the most messages committed in one transaction. A larger batch
// shares one fsync among more messages but makes the first caller in it wait
// longer; at a few microseconds per message, 256 keeps that wait well under
// the time of the fsync itself.
const maxBatch = 256

// insertRequest is one InsertMessage or DeleteEvents call waiting for the
// group-commit goroutine. msg is the caller's message, copied, so that the
// goroutine never writes memory the caller may already have returned from.
// A request with deleteEvents set removes those outbox events instead of
// inserting a message.
type insertRequest struct {
	ctx          context.Context
	msg          parley.Message
	deleteEvents []int64
	done         chan insertResult // buffered: the goroutine never waits for a caller
}

type insertResult struct {
	msg    parley.Message
	update *parley.Update
	err    error
}

// InsertMessage assigns msg.Seq (the chat's next sequence number) and msg.ID,
// stores it, appends a message.new update with the chat's next pts, writes
// it to the outbox, and returns the update once the transaction is durable.
// It also sets msg.CreatedAt when zero and msg.SenderName. ENotFound if the
// chat or the sender does not exist; the errors of parley.CheckPost if the
// sender may not post there, and of parley.CheckReply for a reply to a
// message the chat does not have.
//
// Calls are committed in groups: one goroutine takes every call waiting at
// the moment it starts (up to 256) and writes them in one transaction with a
// few multi-row statements, so that all of them share one fsync and the
// fixed cost of each statement. A call that fails its checks fails alone and
// the others still commit (see commitBatch). Under load this is many times
// faster than a transaction per message, and a lone call waits for nothing
// but its own commit. A caller whose ctx is done before its message is
// written gets ctx.Err() and nothing is stored; once the message is written
// the caller waits for the commit (a few milliseconds) and gets its result,
// so a message is never stored without its caller hearing so.
func (db *DB) InsertMessage(ctx context.Context, msg *parley.Message) (*parley.Update, error) {
	res := db.submit(ctx, &insertRequest{ctx: ctx, msg: *msg, done: make(chan insertResult, 1)})
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
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	busy := false
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
		// Under load (the last batch held more than one call), wait a
		// moment for the callers that are about to send: a commit's cost
		// is mostly fixed (the statements, the pages written, the fsync),
		// so a batch twice as large costs little more than half as much per
		// message. A lone call on an idle server never waits.
		if busy && len(batch) < maxBatch {
			gather.Reset(gatherWindow)
		wait:
			for len(batch) < maxBatch {
				select {
				case req := <-db.inserts:
					batch = append(batch, req)
				case <-gather.C:
					break wait
				}
			}
			gather.Stop()
		}
		busy = len(batch) > 1
		db.commitBatch(batch)
		clear(batch)
	}
}

// gatherWindow is how long a busy group commit waits for more calls before
// it writes: a fraction of a commit's own time, so that latency barely
// moves while batches grow.
const gatherWindow = 300 * time.Microsecond

// submit hands req to the group-commit goroutine and waits for its result.
func (db *DB) submit(ctx context.Context, req *insertRequest) insertResult {
	if err := ctx.Err(); err != nil {
		return insertResult{err: err}
	}
	select {
	case db.inserts <- req:
	case <-ctx.Done():
		return insertResult{err: ctx.Err()}
	case <-db.closing:
		return insertResult{err: errClosed}
	}
	return <-req.done
}

// commitBatch writes every request of batch in one transaction and answers
// each caller. The transaction does not use any caller's context: one caller
// giving up must not roll back the others.
//
// It first writes the whole batch with a few multi-row statements
// (writeBatch), having set aside beforehand the requests that would fail
// (a caller that gave up, a chat or sender that does not exist). Should the
// write fail all the same, for a reason that cannot be checked beforehand,
// the transaction is rolled back and the batch written again one request at
// a time, each in a savepoint of its own (writeBatchIsolated), so that the
// failing request fails alone.
func (db *DB) commitBatch(batch []*insertRequest) {
	results := make([]insertResult, len(batch))
	wrote, err := db.batchTx(batch, results, db.writeBatch)
	if err != nil {
		clear(results)
		wrote, err = db.batchTx(batch, results, writeBatchIsolated)
	}
	if err != nil {
		// Nothing of the batch was committed: every caller that would have
		// succeeded gets the error.
		for i := range results {
			if results[i].err == nil {
				results[i] = insertResult{err: err}
			}
		}
	} else {
		db.batches.Add(1)
		for i := range results {
			if results[i].err == nil && batch[i].deleteEvents == nil {
				db.batchedMessages.Add(1)
			}
		}
		if wrote {
			db.signalOutbox()
		}
	}
	for i, req := range batch {
		req.done <- results[i]
	}
}

// GroupCommits returns how many group-commit transactions have committed
// and how many new messages they held; counters, for the metrics. Their
// ratio is the mean batch: near 1 when the writer keeps up with each
// message alone, larger under load.
func (db *DB) GroupCommits() (batches, messages uint64) {
	return db.batches.Load(), db.batchedMessages.Load()
}

// batchChat is a chat's kind, status and counters while a batch is
// written (or, for checkPost, the part of them a single message checks).
type batchChat struct {
	kind                   parley.ChatKind
	status                 string
	lastSeq, pts, activeAt int64
}

// batchSender is a sender's name and standing while a batch is written.
type batchSender struct {
	name           string
	status         string
	suspendedUntil *time.Time
}

// memberKey names one account's membership of one chat.
type memberKey struct{ chatID, userID int64 }

// batchWriter writes the new messages of batch inside tx, through st bound
// to it, fills results and reports whether it wrote any. A request whose
// caller has given up, or that fails its checks, gets its error in results
// and is not written.
type batchWriter func(ctx context.Context, tx *sql.Tx, st *hotStmts, batch []*insertRequest, results []insertResult) (bool, error)

// batchTx writes batch in one transaction with write, after removing the
// outbox events that its DeleteEvents requests name, and commits if there
// was anything to write. It returns whether messages were committed; on an
// error nothing was.
func (db *DB) batchTx(batch []*insertRequest, results []insertResult, write batchWriter) (bool, error) {
	ctx := context.Background()
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	st := db.hot.bind(ctx, tx)
	deleted, err := deleteBatchEvents(ctx, st, batch)
	if err != nil {
		return false, err
	}
	wrote, err := write(ctx, tx, st, batch, results)
	if err != nil {
		return false, err
	}
	if !wrote && !deleted {
		return false, nil // nothing to commit; the deferred rollback ends the transaction
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: commit: %w", err)
	}
	return wrote, nil
}

// writeBatch is the batchWriter of a few multi-row statements for the
// whole batch.
func (db *DB) writeBatch(ctx context.Context, tx *sql.Tx, st *hotStmts, batch []*insertRequest, results []insertResult) (bool, error) {
	// The senders' names and the chats' counters, for the whole batch.
	var senderIDs, chatIDs []int64
	var pairs [][2]int64
	for _, req := range batch {
		if req.deleteEvents == nil {
			senderIDs = append(senderIDs, req.msg.SenderID)
			chatIDs = append(chatIDs, req.msg.ChatID)
			pairs = append(pairs, [2]int64{req.msg.ChatID, req.msg.SenderID})
		}
	}
	if len(senderIDs) == 0 {
		return false, nil // only DeleteEvents requests, as the relay sends between posts
	}
	names, err := queryNames(ctx, st.batchSenders, senderIDs)
	if err != nil {
		return false, err
	}
	chats, err := queryChatCounters(ctx, st.batchChats, chatIDs)
	if err != nil {
		return false, err
	}
	roles, err := queryRoles(ctx, st.batchMembers, pairs)
	if err != nil {
		return false, err
	}
	var nextID int64
	if err := st.maxMessageID.QueryRowContext(ctx).Scan(&nextID); err != nil {
		return false, internal("insert messages", err)
	}

	// Number the messages; nothing is written yet.
	msgArgs := make([]any, 0, len(batch)*db.batch.messages.cols)
	upArgs := make([]any, 0, len(batch)*db.batch.updates.cols)
	evArgs := make([]any, 0, len(batch)*db.batch.events.cols)
	now := toMicro(time.Now())
	for i, req := range batch {
		if req.deleteEvents != nil {
			continue
		}
		if err := req.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		m := req.msg
		sender, c := names[m.SenderID], chats[m.ChatID]
		role, member := roles[memberKey{m.ChatID, m.SenderID}]
		if err := checkPostState(&m, sender, c, member, role); err != nil {
			results[i].err = err
			continue
		}
		m.CreatedAt = nowOr(m.CreatedAt)
		m.Views, m.EditedAt, m.DeletedAt = 0, nil, nil
		c.lastSeq++
		c.pts++
		c.activeAt = max(c.activeAt, toMicro(m.CreatedAt))
		nextID++
		m.ID, m.Seq, m.SenderName = nextID, c.lastSeq, sender.name
		fwdChat, fwdSeq, fwdSender, fwdTitle := forwardArgs(m.Forward)
		msgArgs = append(msgArgs, m.ID, m.ChatID, m.Seq, m.SenderID, m.Text, m.MediaID, m.ReplyToSeq,
			fwdChat, fwdSeq, fwdSender, fwdTitle, m.Ciphertext, m.Nonce, toMicro(m.CreatedAt))
		u := &parley.Update{ChatID: m.ChatID, Pts: c.pts, Kind: parley.UpdateMessageNew, Message: m, At: m.CreatedAt}
		snap, payload, err := encodeUpdate(u)
		if err != nil {
			return false, err
		}
		upArgs = append(upArgs, u.ChatID, u.Pts, u.Kind, m.Seq, m.SenderID, string(snap), toMicro(u.At))
		evArgs = append(evArgs, parley.ChatSubject(u.ChatID), u.Kind, payload, now)
		results[i] = insertResult{msg: m, update: u}
	}
	if len(msgArgs) == 0 {
		return false, nil
	}

	counters := make([][4]int64, 0, len(chats))
	for id, c := range chats {
		counters = append(counters, [4]int64{id, c.lastSeq, c.pts, c.activeAt})
	}
	b, err := json.Marshal(counters)
	if err != nil {
		return false, internal("insert messages", err)
	}
	if _, err := st.batchCounters.ExecContext(ctx, string(b)); err != nil {
		return false, internal("insert messages", err)
	}
	if err := db.batch.messages.exec(ctx, tx, msgArgs); err != nil {
		return false, internal("insert messages", err)
	}
	if err := db.batch.updates.exec(ctx, tx, upArgs); err != nil {
		return false, internal("append updates", err)
	}
	if err := db.batch.events.exec(ctx, tx, evArgs); err != nil {
		return false, internal("insert events", err)
	}
	return true, nil
}

// batchInserts are the multi-row inserts of writeBatch, prepared on the
// writer pool of one DB.
type batchInserts struct {
	messages, updates, events *multiRowInsert
}

// newBatchInserts returns the inserts of writeBatch; the column order is the
// order in which writeBatch appends its arguments.
func newBatchInserts() *batchInserts {
	return &batchInserts{
		messages: newMultiRowInsert("messages", "id", "chat_id", "seq", "sender_id", "text", "media_id",
			"reply_to_seq", "forward_chat_id", "forward_seq", "forward_sender_id", "forward_chat_title",
			"ciphertext", "nonce", "created_at"),
		updates: newMultiRowInsert("updates", "chat_id", "pts", "kind", "seq", "sender_id", "message", "at"),
		events:  newMultiRowInsert("outbox", "subject", "kind", "payload", "created_at"),
	}
}

func (b *batchInserts) prepare(ctx context.Context, writer *sql.DB) error {
	for _, m := range []*multiRowInsert{b.messages, b.updates, b.events} {
		if err := m.prepare(ctx, writer); err != nil {
			return err
		}
	}
	return nil
}

func (b *batchInserts) close() error {
	return errors.Join(b.messages.close(), b.updates.close(), b.events.close())
}

// forwardArgs returns the forward_* columns of a message with origin f.
func forwardArgs(f *parley.Origin) (chat, seq, sender sql.NullInt64, title sql.NullString) {
	if f == nil {
		return
	}
	return sql.NullInt64{Int64: f.ChatID, Valid: true}, sql.NullInt64{Int64: f.Seq, Valid: true},
		sql.NullInt64{Int64: f.SenderID, Valid: true}, sql.NullString{String: f.ChatTitle, Valid: true}
}

// queryNames returns the display names and standing of the accounts among
// ids that exist, through st (sqlBatchSenders).
func queryNames(ctx context.Context, st *sql.Stmt, ids []int64) (map[int64]*batchSender, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, internal("find senders", err)
	}
	rows, err := st.QueryContext(ctx, string(b))
	if err != nil {
		return nil, internal("find senders", err)
	}
	defer rows.Close()
	names := make(map[int64]*batchSender, len(ids))
	for rows.Next() {
		var id int64
		s := &batchSender{}
		var until sql.NullInt64
		if err := rows.Scan(&id, &s.name, &s.status, &until); err != nil {
			return nil, internal("find senders", err)
		}
		s.suspendedUntil = timePtr(until)
		names[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find senders", err)
	}
	return names, nil
}

// queryChatCounters returns the counters of the chats among ids that exist,
// through st (sqlBatchChats).
func queryChatCounters(ctx context.Context, st *sql.Stmt, ids []int64) (map[int64]*batchChat, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, internal("find chats", err)
	}
	rows, err := st.QueryContext(ctx, string(b))
	if err != nil {
		return nil, internal("find chats", err)
	}
	defer rows.Close()
	chats := make(map[int64]*batchChat)
	for rows.Next() {
		var id int64
		var kind string
		c := &batchChat{}
		if err := rows.Scan(&id, &kind, &c.status, &c.lastSeq, &c.pts, &c.activeAt); err != nil {
			return nil, internal("find chats", err)
		}
		c.kind = parley.ChatKind(kind)
		chats[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find chats", err)
	}
	return chats, nil
}

// queryRoles returns the roles of the memberships among pairs (chat id,
// account id) that exist, through st (sqlBatchMembers).
func queryRoles(ctx context.Context, st *sql.Stmt, pairs [][2]int64) (map[memberKey]parley.MemberRole, error) {
	b, err := json.Marshal(pairs)
	if err != nil {
		return nil, internal("find members", err)
	}
	rows, err := st.QueryContext(ctx, string(b))
	if err != nil {
		return nil, internal("find members", err)
	}
	defer rows.Close()
	roles := make(map[memberKey]parley.MemberRole, len(pairs))
	for rows.Next() {
		var k memberKey
		var role string
		if err := rows.Scan(&k.chatID, &k.userID, &role); err != nil {
			return nil, internal("find members", err)
		}
		roles[k] = parley.MemberRole(role)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("find members", err)
	}
	return roles, nil
}

// writeBatchIsolated is the batchWriter of one request at a time, each in a
// savepoint of its own, so that one failing request is rolled back alone
// and the others still commit.
func writeBatchIsolated(ctx context.Context, _ *sql.Tx, st *hotStmts, batch []*insertRequest, results []insertResult) (bool, error) {
	wrote := false
	for i, req := range batch {
		if req.deleteEvents != nil {
			continue
		}
		if err := req.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		if _, err := st.savepoint.ExecContext(ctx); err != nil {
			return false, internal("savepoint", err)
		}
		m := req.msg
		u, err := insertMessage(ctx, st, &m)
		if err != nil {
			results[i].err = err
			if _, err := st.rollbackTo.ExecContext(ctx); err != nil {
				return false, internal("rollback to savepoint", err)
			}
		} else {
			results[i] = insertResult{msg: m, update: u}
			wrote = true
		}
		if _, err := st.release.ExecContext(ctx); err != nil {
			return false, internal("release savepoint", err)
		}
	}
	return wrote, nil
}

// deleteBatchEvents removes the outbox events named by the batch's
// DeleteEvents requests inside its transaction, and reports whether there
// were any.
func deleteBatchEvents(ctx context.Context, st *hotStmts, batch []*insertRequest) (bool, error) {
	var ids []int64
	for _, req := range batch {
		ids = append(ids, req.deleteEvents...)
	}
	if len(ids) == 0 {
		return false, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return false, internal("delete events", err)
	}
	if _, err := st.deleteEvents.ExecContext(ctx, string(b)); err != nil {
		return false, internal("delete events", err)
	}
	return true, nil
}
