package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"parley"
	"parley/internal/safety/enforce"
)

// enforceTx is enforce.Tx: one write transaction on the single writer
// connection, whose queries go through the writer's prepared statements
// (txQueries, and hotStmts for the update log). It reads and writes only;
// every decision is the enforcement service's.
type enforceTx struct {
	ctx    context.Context
	db     *DB
	tx     *sql.Tx
	q      *txQueries // the transaction's queries, through prepared statements
	hot    *hotStmts  // the message path's statements, bound to tx when first needed
	nextID int64      // the next action id to reserve; 0 until first asked
	events bool       // an outbox event was written
	// failed is set when a savepoint could not be set or undone: the
	// transaction is then in an unknown state and must not commit.
	failed error
}

var _ enforce.Tx = (*enforceTx)(nil)

// EnforceTx runs fn in one write transaction (see enforce.Store).
func (db *DB) EnforceTx(ctx context.Context, fn func(enforce.Tx) error) error {
	w, end, err := db.beginEnforce(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := fn(w); err != nil {
		return err
	}
	if w.failed != nil {
		return w.failed
	}
	return db.commit(w.tx, w.events)
}

// beginEnforce starts a write transaction for enforcement. The caller
// defers end, which rolls the transaction back unless it was committed
// and then, the writer's connection being free again, prepares the queries
// the transaction ran unprepared.
func (db *DB) beginEnforce(ctx context.Context) (w *enforceTx, end func(), err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	w = &enforceTx{ctx: ctx, db: db, tx: tx, q: newTxQueries(db, tx)}
	return w, func() {
		tx.Rollback()
		db.prepareMissed(context.WithoutCancel(ctx), w.q.missed)
	}, nil
}

// hotStmts returns the message path's statements bound to the
// transaction, binding them once for all the actions it applies.
func (w *enforceTx) hotStmts() *hotStmts {
	if w.hot == nil {
		w.hot = w.db.hot.bind(w.ctx, w.tx)
	}
	return w.hot
}

// Try runs fn in a savepoint (see enforce.Tx). The savepoint statements go
// through w.q, prepared once: a batch of removals by re-screening sets one
// per action.
func (w *enforceTx) Try(fn func() error) error {
	if w.failed != nil {
		return w.failed
	}
	if _, err := w.q.ExecContext(w.ctx, `SAVEPOINT action`); err != nil {
		w.failed = internal("savepoint", err)
		return w.failed
	}
	nextID, events := w.nextID, w.events
	ferr := fn()
	if ferr != nil {
		if _, err := w.q.ExecContext(w.ctx, `ROLLBACK TO action`); err != nil {
			w.failed = internal("savepoint", err)
			return w.failed
		}
		w.nextID, w.events = nextID, events
	}
	if _, err := w.q.ExecContext(w.ctx, `RELEASE action`); err != nil {
		w.failed = internal("savepoint", err)
		return w.failed
	}
	return ferr
}

// --- reads: SQLite has one writer, so what a write transaction reads
// stays as read until it ends ---

func (w *enforceTx) Message(chatID, seq int64) (*parley.Message, error) {
	return findMessage(w.ctx, w.q, chatID, seq)
}

func (w *enforceTx) MessagesCarrying(mediaID string) ([]*parley.Message, error) {
	// media_id != '' lets SQLite use the partial index messages_media.
	return listMessages(w.ctx, w.q, "find copies", `WHERE m.media_id = ? AND m.media_id != '' ORDER BY m.id`, mediaID)
}

func (w *enforceTx) Chat(id int64) (*parley.Chat, error) { return findChat(w.ctx, w.q, id) }

func (w *enforceTx) Media(id string) (*parley.Media, error) { return findMedia(w.ctx, w.q, id) }

func (w *enforceTx) Account(id int64) (*parley.User, error) {
	u, err := scanUser(w.q.QueryRowContext(w.ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %d not found", id)
	} else if err != nil {
		return nil, internal("find user", err)
	}
	return u, nil
}

func (w *enforceTx) Action(id int64) (*enforce.Action, error) { return findAction(w.ctx, w.q, id) }

func (w *enforceTx) Children(id int64) ([]*enforce.Action, error) {
	return listActions(w.ctx, w.q, `WHERE parent_id = ? ORDER BY id`, id)
}

func (w *enforceTx) LegalHold(id int64) (*enforce.LegalHold, error) {
	var h enforce.LegalHold
	var ttype, tid string
	var created int64
	var released, releasedBy sql.NullInt64
	err := w.q.QueryRowContext(w.ctx, `SELECT id, target_type, target_id, reason, created_by, created_at, released_at, released_by
		FROM legal_holds WHERE id = ?`, id).Scan(&h.ID, &ttype, &tid, &h.Reason, &h.CreatedBy, &created, &released, &releasedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "legal hold %d not found", id)
	} else if err != nil {
		return nil, internal("find legal hold", err)
	}
	if h.Target, err = enforce.ParseTarget(ttype, tid); err != nil {
		return nil, internal("find legal hold", err)
	}
	h.CreatedAt, h.ReleasedAt, h.ReleasedBy = fromMicro(created), timePtr(released), releasedBy.Int64
	return &h, nil
}

func (w *enforceTx) LegalHolds() ([]*enforce.LegalHold, error) { return listHolds(w.ctx, w.q) }

func (w *enforceTx) DueEvidence(t time.Time, afterID int64, limit int) ([]*enforce.Evidence, error) {
	return listEvidence(w.ctx, w.q, `WHERE kept_until < ? AND id > ? ORDER BY id LIMIT ?`, toMicro(t), afterID, limit)
}

// --- writes ---

// NextActionID reads the greatest id once per transaction and counts on
// from it: the writer is single, so nobody else takes one meanwhile.
func (w *enforceTx) NextActionID() (int64, error) {
	if w.nextID == 0 {
		if err := w.q.QueryRowContext(w.ctx, `SELECT coalesce(max(id), 0) + 1 FROM enforcement_actions`).Scan(&w.nextID); err != nil {
			return 0, internal("next action id", err)
		}
	}
	id := w.nextID
	w.nextID++
	return id, nil
}

func (w *enforceTx) InsertAction(a *enforce.Action, prior any) error {
	decision, err := json.Marshal(actionDecision{Countries: a.Countries, AlsoUnknown: a.AlsoUnknown, Label: a.Label, Until: a.Until, Grounds: a.Grounds, Note: a.Note})
	if err != nil {
		return internal("store action", err)
	}
	statement, err := json.Marshal(a.Statement)
	if err != nil {
		return internal("store action", err)
	}
	priorJSON, err := json.Marshal(prior)
	if err != nil {
		return internal("store action", err)
	}
	var parent sql.NullInt64
	if a.ParentID != 0 {
		parent = sql.NullInt64{Int64: a.ParentID, Valid: true}
	}
	if _, err := w.q.ExecContext(w.ctx, `
		INSERT INTO enforcement_actions (id, kind, target_type, target_id, affected_user_id, parent_id,
			decision, statement, puid, strike, prior, actor_id, automated, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, string(a.Kind), a.Target.Type, a.Target.ID(), a.AffectedUserID, parent,
		string(decision), string(statement), a.PUID, a.Strike, string(priorJSON), a.ActorID, a.Automated, toMicro(a.CreatedAt)); err != nil {
		return internal("store action", err)
	}
	return nil
}

func (w *enforceTx) MarkReversed(id, byID int64, reason string, at time.Time) error {
	if _, err := w.q.ExecContext(w.ctx, `UPDATE enforcement_actions SET reversed_at = ?, reversed_by = ?, reversal_reason = ? WHERE id = ?`,
		toMicro(at), byID, reason, id); err != nil {
		return internal("restore action", err)
	}
	return nil
}

func (w *enforceTx) InsertMedia(m *parley.Media) error {
	return insertMedia(w.ctx, w.tx, m, nowOr(m.CreatedAt))
}

// setModeration stores the status and moderation columns of one row of
// table (messages, media, chats), whose key column is id.
func (w *enforceTx) setModeration(table string, id any, status string, mod *parley.Moderation) error {
	enc, err := encodeModeration(mod)
	if err != nil {
		return internal("moderate "+table, err)
	}
	// table is one of three constants: the query is still one of three.
	if _, err := w.q.ExecContext(w.ctx, `UPDATE `+table+` SET status = ?, moderation = ? WHERE id = ?`, status, enc, id); err != nil {
		return internal("moderate "+table, err)
	}
	return nil
}

func (w *enforceTx) SetMessageModeration(messageID int64, status string, mod *parley.Moderation) error {
	return w.setModeration("messages", messageID, status, mod)
}

func (w *enforceTx) SetMediaModeration(id, status string, mod *parley.Moderation) error {
	return w.setModeration("media", id, status, mod)
}

func (w *enforceTx) SetChatModeration(id int64, status string, mod *parley.Moderation) error {
	return w.setModeration("chats", id, status, mod)
}

func (w *enforceTx) MessageModerated(snapshot *parley.Message, at time.Time) error {
	pts, err := nextPts(w.ctx, w.q, snapshot.ChatID)
	if err != nil {
		return err
	}
	u := &parley.Update{ChatID: snapshot.ChatID, Pts: pts, Kind: parley.UpdateMessageModerated, Message: *snapshot, At: at}
	if err := appendUpdate(w.ctx, w.hotStmts(), u); err != nil {
		return err
	}
	w.events = true
	return nil
}

func (w *enforceTx) SetAccountStanding(userID int64, status string, until *time.Time, mod *parley.Moderation) error {
	enc, err := encodeModeration(mod)
	if err != nil {
		return internal("moderate account", err)
	}
	if _, err := w.q.ExecContext(w.ctx, `UPDATE users SET status = ?, suspended_until = ?, moderation = ? WHERE id = ?`,
		status, nullMicro(until), enc, userID); err != nil {
		return internal("moderate account", err)
	}
	return nil
}

func (w *enforceTx) RevokeSessions(userID int64, at time.Time) error {
	if _, err := w.q.ExecContext(w.ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		toMicro(at), userID); err != nil {
		return internal("revoke sessions", err)
	}
	return nil
}

func (w *enforceTx) AddStrikes(userID int64, n int) error {
	if _, err := w.q.ExecContext(w.ctx, `UPDATE users SET strikes = max(0, strikes + ?) WHERE id = ?`, n, userID); err != nil {
		return internal("count strike", err)
	}
	return nil
}

func (w *enforceTx) Publish(subject, kind string, payload any) error {
	if err := insertEvent(w.ctx, w.q, subject, kind, payload); err != nil {
		return err
	}
	w.events = true
	return nil
}

// KeepEvidence inserts with Exec and reads the id from the result: a
// removal keeps evidence for every copy, and RETURNING through QueryRow
// costs the driver a rows object each time.
func (w *enforceTx) KeepEvidence(e *enforce.Evidence) error {
	res, err := w.q.ExecContext(w.ctx, `
		INSERT INTO evidence (action_id, target_type, target_id, content, kept_until, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		e.ActionID, e.Target.Type, e.Target.ID(), e.Content, toMicro(e.KeptUntil), toMicro(e.CreatedAt))
	if err == nil {
		e.ID, err = res.LastInsertId()
	}
	if err != nil {
		return internal("keep evidence", err)
	}
	return nil
}

func (w *enforceTx) DeleteEvidence(id int64) error {
	if _, err := w.q.ExecContext(w.ctx, `DELETE FROM evidence WHERE id = ?`, id); err != nil {
		return internal("purge evidence", err)
	}
	return nil
}

func (w *enforceTx) ClearMessageContent(messageID int64) error {
	if _, err := w.q.ExecContext(w.ctx, `
		UPDATE messages SET text = '', media_id = '', forward_chat_id = NULL, forward_seq = NULL,
			forward_sender_id = NULL, forward_chat_title = NULL
		WHERE id = ?`, messageID); err != nil {
		return internal("purge evidence", err)
	}
	return nil
}

func (w *enforceTx) CloseCase(id int64, decision string, byID, actionID int64, at time.Time) (string, error) {
	return closeCase(w.ctx, w.q, id, decision, byID, actionID, at)
}

func (w *enforceTx) InsertLegalHold(h *enforce.LegalHold) error {
	if err := w.q.QueryRowContext(w.ctx, `
		INSERT INTO legal_holds (target_type, target_id, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?)
		RETURNING id`, h.Target.Type, h.Target.ID(), h.Reason, h.CreatedBy, toMicro(h.CreatedAt)).Scan(&h.ID); err != nil {
		return internal("place legal hold", err)
	}
	return nil
}

func (w *enforceTx) ReleaseLegalHold(id, byID int64, at time.Time) error {
	if _, err := w.q.ExecContext(w.ctx, `UPDATE legal_holds SET released_at = ?, released_by = ? WHERE id = ?`, toMicro(at), byID, id); err != nil {
		return internal("release legal hold", err)
	}
	return nil
}

func (w *enforceTx) AppendAudit(e *parley.AuditEntry) error { return appendAudit(w.ctx, w.q, e) }
