package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"parley"
	"parley/internal/safety/review"
)

var _ review.Store = (*DB)(nil)

// insertScreeningMatches records what matched a post or an upload.
func insertScreeningMatches(ctx context.Context, tx *sql.Tx, targetType, targetID string, userID, chatID int64,
	matches []parley.ScreeningMatch, content string, at time.Time) error {
	for _, m := range matches {
		mode := "enforce"
		if m.Shadow {
			mode = "shadow"
		} else if m.Suppressed {
			mode = "suppressed"
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO screening_matches (at, target_type, target_id, user_id, chat_id, source, source_id, version,
				action, mode, detail, content)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			toMicro(at), targetType, targetID, userID, chatID, m.Source, m.SourceID, m.Version,
			m.Decision, mode, m.Detail, content); err != nil {
			return internal("record screening", err)
		}
	}
	return nil
}

// RecordScreening records the matches of a post or upload that was stored
// as usual (shadow matches only) or refused (content is then the text that
// was refused, kept as evidence).
func (db *DB) RecordScreening(ctx context.Context, targetType, targetID string, userID, chatID int64, sc *parley.Screening, content string, at time.Time) error {
	if sc == nil || len(sc.Matches) == 0 {
		return nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertScreeningMatches(ctx, tx, targetType, targetID, userID, chatID, sc.Matches, content, nowOr(at)); err != nil {
		return err
	}
	return db.commit(tx, false)
}

// InsertHeldMessage stores msg as the chat's next message, held: visible to
// its author only, with no update for anyone else, together with its
// screening matches and an open review case, in one transaction. It makes
// the same checks as InsertMessage. The message becomes visible only when a
// moderator approves the case or an automated label is applied; removing it
// closes the case too. It sets msg.ID, msg.Seq, msg.SenderName,
// msg.Moderation and msg.CreatedAt (when zero), and returns the case.
func (db *DB) InsertHeldMessage(ctx context.Context, msg *parley.Message, sc *parley.Screening, c *review.Case) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st := db.hot.bind(ctx, tx)
	name, err := checkPost(ctx, st, msg)
	if err != nil {
		return err
	}
	msg.CreatedAt = nowOr(msg.CreatedAt)
	msg.Views, msg.EditedAt, msg.DeletedAt, msg.SenderName = 0, nil, nil, name
	if err := tx.QueryRowContext(ctx, `
		UPDATE chats SET last_seq = last_seq + 1, active_at = max(active_at, ?) WHERE id = ? RETURNING last_seq`,
		toMicro(msg.CreatedAt), msg.ChatID).Scan(&msg.Seq); err != nil {
		return internal("hold message", err)
	}
	c.TargetType, c.TargetID, c.UserID, c.ChatID = review.TargetMessage, messageTargetID(msg.ChatID, msg.Seq), msg.SenderID, msg.ChatID
	c.CreatedAt = msg.CreatedAt
	if err := insertCase(ctx, tx, c); err != nil {
		return err
	}
	msg.Moderation = &parley.Moderation{Held: &parley.Restriction{ActionID: c.ID, Reason: "held for review"}}
	mod, err := encodeModeration(msg.Moderation)
	if err != nil {
		return internal("hold message", err)
	}
	fwdChat, fwdSeq, fwdSender, fwdTitle := forwardArgs(msg.Forward)
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO messages (chat_id, seq, sender_id, text, media_id, reply_to_seq,
			forward_chat_id, forward_seq, forward_sender_id, forward_chat_title, ciphertext, nonce, created_at,
			status, moderation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		msg.ChatID, msg.Seq, msg.SenderID, msg.Text, msg.MediaID, msg.ReplyToSeq, fwdChat, fwdSeq, fwdSender, fwdTitle,
		msg.Ciphertext, msg.Nonce, toMicro(msg.CreatedAt), parley.MessageHeld, mod).Scan(&msg.ID); err != nil {
		return internal("hold message", err)
	}
	if err := insertScreeningMatches(ctx, tx, review.TargetMessage, c.TargetID, msg.SenderID, msg.ChatID, sc.Matches, "", msg.CreatedAt); err != nil {
		return err
	}
	return db.commit(tx, false)
}

func messageTargetID(chatID, seq int64) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(seq, 10)
}

func insertCase(ctx context.Context, tx queryer, c *review.Case) error {
	details, err := json.Marshal(c.Screening)
	if err != nil {
		return internal("open review case", err)
	}
	c.Status = review.StatusOpen
	var action sql.NullInt64
	if c.ActionID != 0 {
		action = sql.NullInt64{Int64: c.ActionID, Valid: true}
	}
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO review_cases (kind, target_type, target_id, user_id, priority, details, status, action_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Kind, c.TargetType, c.TargetID, c.UserID, c.Priority, string(details), c.Status, action, toMicro(c.CreatedAt)).Scan(&c.ID); err != nil {
		return internal("open review case", err)
	}
	return nil
}

// OpenCase opens a review case in its own transaction.
func (db *DB) OpenCase(ctx context.Context, c *review.Case) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c.CreatedAt = micro(nowOr(c.CreatedAt))
	if err := insertCase(ctx, tx, c); err != nil {
		return err
	}
	return db.commit(tx, false)
}

const caseColumns = `id, kind, target_type, target_id, user_id, priority, details, status, decision, decided_by, decided_at, action_id, created_at`

func scanCase(row interface{ Scan(...any) error }) (*review.Case, error) {
	var c review.Case
	var details string
	var decidedBy, decidedAt, action sql.NullInt64
	var created int64
	if err := row.Scan(&c.ID, &c.Kind, &c.TargetType, &c.TargetID, &c.UserID, &c.Priority, &details, &c.Status,
		&c.Decision, &decidedBy, &decidedAt, &action, &created); err != nil {
		return nil, err
	}
	c.DecidedBy, c.DecidedAt, c.ActionID, c.CreatedAt = decidedBy.Int64, timePtr(decidedAt), action.Int64, fromMicro(created)
	if details != "" && details != "null" {
		c.Screening = &parley.Screening{}
		if err := json.Unmarshal([]byte(details), c.Screening); err != nil {
			return nil, err
		}
	}
	if c.TargetType == review.TargetMessage {
		c.ChatID, _, _ = splitMessageTarget(c.TargetID)
	}
	return &c, nil
}

func findCase(ctx context.Context, q queryer, id int64) (*review.Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM review_cases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "review case %d not found", id)
	} else if err != nil {
		return nil, internal("find review case", err)
	}
	return c, nil
}

// FindCase returns ENotFound if there is no such case.
func (db *DB) FindCase(ctx context.Context, id int64) (*review.Case, error) {
	return findCase(ctx, db.reads, id)
}

// ListCases returns open cases in queue order (the highest priority first
// and, within one priority, the oldest first) and decided cases the most
// recently decided first.
func (db *DB) ListCases(ctx context.Context, status string, limit int) ([]*review.Case, error) {
	order := `priority DESC, id`
	if status == review.StatusDecided {
		order = `decided_at DESC, id DESC`
	}
	rows, err := db.reads.QueryContext(ctx, `SELECT `+caseColumns+` FROM review_cases
		WHERE status = ? ORDER BY `+order+` LIMIT ?`, status, pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("list review cases", err)
	}
	defer rows.Close()
	out := []*review.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, internal("list review cases", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list review cases", err)
	}
	return out, nil
}

// CountCases returns how many cases have the given status.
func (db *DB) CountCases(ctx context.Context, status string) (int64, error) {
	var n int64
	if err := db.reads.QueryRowContext(ctx, `SELECT count(*) FROM review_cases WHERE status = ?`, status).Scan(&n); err != nil {
		return 0, internal("count review cases", err)
	}
	return n, nil
}

// closeCase marks a case decided, inside tx, and returns its kind; a case
// that is not open (decided already, or none) is EConflict.
func closeCase(ctx context.Context, tx queryer, id int64, decision string, by, actionID int64, at time.Time) (string, error) {
	var action sql.NullInt64
	if actionID != 0 {
		action = sql.NullInt64{Int64: actionID, Valid: true}
	}
	var kind string
	err := tx.QueryRowContext(ctx, `UPDATE review_cases SET status = ?, decision = ?, decided_by = ?, decided_at = ?, action_id = ?
		WHERE id = ? AND status = ? RETURNING kind`, review.StatusDecided, decision, by, toMicro(at), action, id, review.StatusOpen).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", parley.Errorf(parley.EConflict, "review case %d was already decided", id)
	} else if err != nil {
		return "", internal("decide review case", err)
	}
	return kind, nil
}

// CloseCase records a decision on a case that changes nothing else (an
// upload block confirmed, say), with an audit entry.
func (db *DB) CloseCase(ctx context.Context, id int64, decision string, by, actionID int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, err := findCase(ctx, tx, id)
	if err != nil {
		return err
	}
	at = micro(nowOr(at))
	if _, err := closeCase(ctx, tx, id, decision, by, actionID, at); err != nil {
		return err
	}
	if err := auditCase(ctx, tx, c, decision, by, at); err != nil {
		return err
	}
	return db.commit(tx, false)
}

func auditCase(ctx context.Context, tx queryer, c *review.Case, decision string, by int64, at time.Time) error {
	details, _ := json.Marshal(map[string]any{"case_id": c.ID, "kind": c.Kind, "decision": decision})
	return appendAudit(ctx, tx, &parley.AuditEntry{At: at, ActorID: by, Action: "review.decided",
		TargetType: c.TargetType, TargetID: c.TargetID, Details: string(details)})
}

// ApproveHeld releases a held message after review: it becomes visible to
// everyone, and a message.moderated update tells clients, who add it in its
// place. The case is closed as approved, with an audit entry.
func (db *DB) ApproveHeld(ctx context.Context, caseID, by int64, at time.Time) error {
	w, end, err := db.beginEnforce(ctx)
	if err != nil {
		return err
	}
	defer end()
	tx := w.tx
	c, err := findCase(ctx, tx, caseID)
	if err != nil {
		return err
	}
	if c.TargetType != review.TargetMessage {
		return parley.Errorf(parley.EConflict, "case %d is not about a held message", caseID)
	}
	at = micro(nowOr(at))
	if _, err := closeCase(ctx, tx, caseID, review.DecisionApproved, by, 0, at); err != nil {
		return err
	}
	chatID, seq, err := splitMessageTarget(c.TargetID)
	if err != nil {
		return internal("approve held message", err)
	}
	m, err := findMessage(ctx, tx, chatID, seq)
	if err != nil {
		return err
	}
	mod := m.Moderation.Clone()
	if mod != nil && mod.Held != nil && mod.Held.ActionID == caseID && !m.Deleted() {
		mod.Held = nil
		if mod.IsZero() {
			mod = nil
		}
		if err := w.SetMessageModeration(m.ID, mod.Status(), mod); err != nil {
			return err
		}
		// The snapshot has the content: a held message is not removed.
		snap := *m
		snap.Moderation = mod
		if err := w.MessageModerated(&snap, at); err != nil {
			return err
		}
	}
	if err := auditCase(ctx, tx, c, review.DecisionApproved, by, at); err != nil {
		return err
	}
	return db.commit(tx, w.events)
}

// splitMessageTarget reads a message target id (messageTargetID); the
// chat id is returned even when the seq does not parse.
func splitMessageTarget(id string) (int64, int64, error) {
	i := strings.IndexByte(id, ':')
	if i < 0 {
		return 0, 0, errors.New("message target is not chat:seq")
	}
	chat, err := strconv.ParseInt(id[:i], 10, 64)
	if err != nil {
		return 0, 0, err
	}
	seq, err := strconv.ParseInt(id[i+1:], 10, 64)
	return chat, seq, err
}

// ListScreeningMatches returns the newest recorded matches of one rule or
// bank, for its page: what it matched, enforced or in shadow mode.
func (db *DB) ListScreeningMatches(ctx context.Context, source, sourceID string, limit int) ([]*review.RecordedMatch, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT id, at, target_type, target_id, user_id, chat_id, version, action, mode, detail, content
		FROM screening_matches WHERE source = ? AND source_id = ? ORDER BY id DESC LIMIT ?`,
		source, sourceID, pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("list screening matches", err)
	}
	defer rows.Close()
	out := []*review.RecordedMatch{}
	for rows.Next() {
		var m review.RecordedMatch
		var at int64
		if err := rows.Scan(&m.ID, &at, &m.TargetType, &m.TargetID, &m.UserID, &m.ChatID, &m.Version, &m.Decision,
			&m.Mode, &m.Detail, &m.Content); err != nil {
			return nil, internal("list screening matches", err)
		}
		m.At = fromMicro(at)
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list screening matches", err)
	}
	return out, nil
}
