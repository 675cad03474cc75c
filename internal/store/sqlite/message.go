package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"parley"
)

// messageColumns reads a message row m with its sender s (a LEFT JOIN of
// users), in the order of messageRow.dest.
const messageColumns = `m.id, m.chat_id, m.seq, m.sender_id, coalesce(nullif(s.display_name, ''), s.username, ''),
	m.text, m.media_id, m.reply_to_seq,
	m.forward_chat_id, m.forward_seq, m.forward_sender_id, m.forward_chat_title,
	m.ciphertext, m.nonce, m.views, m.created_at, m.edited_at, m.deleted_at, m.moderation`

// nullMessageRow scans messageColumns. Every field may be NULL because the
// message may come from a LEFT JOIN that found none (a chat without
// messages, in the chat list).
type nullMessageRow struct {
	id, chatID, seq, senderID, replyTo, views, created sql.NullInt64
	senderName, text, mediaID, ciphertext, nonce       sql.NullString
	fwdChatID, fwdSeq, fwdSenderID                     sql.NullInt64
	fwdChatTitle                                       sql.NullString
	edited, deleted                                    sql.NullInt64
	moderation                                         sql.NullString
}

func (r *nullMessageRow) dest() []any {
	return []any{&r.id, &r.chatID, &r.seq, &r.senderID, &r.senderName,
		&r.text, &r.mediaID, &r.replyTo,
		&r.fwdChatID, &r.fwdSeq, &r.fwdSenderID, &r.fwdChatTitle,
		&r.ciphertext, &r.nonce, &r.views, &r.created, &r.edited, &r.deleted, &r.moderation}
}

// message returns the scanned message, or nil if the join found none.
func (r *nullMessageRow) message() (*parley.Message, error) {
	if !r.id.Valid {
		return nil, nil
	}
	m := &parley.Message{
		ID:         r.id.Int64,
		ChatID:     r.chatID.Int64,
		Seq:        r.seq.Int64,
		SenderID:   r.senderID.Int64,
		SenderName: r.senderName.String,
		Text:       r.text.String,
		MediaID:    r.mediaID.String,
		ReplyToSeq: r.replyTo.Int64,
		Ciphertext: r.ciphertext.String,
		Nonce:      r.nonce.String,
		Views:      r.views.Int64,
		CreatedAt:  fromMicro(r.created.Int64),
		EditedAt:   timePtr(r.edited),
		DeletedAt:  timePtr(r.deleted),
	}
	if r.fwdChatID.Valid {
		m.Forward = &parley.Origin{
			ChatID:    r.fwdChatID.Int64,
			Seq:       r.fwdSeq.Int64,
			SenderID:  r.fwdSenderID.Int64,
			ChatTitle: r.fwdChatTitle.String,
		}
	}
	var err error
	m.Moderation, err = decodeModeration(r.moderation.String)
	return m, err
}

// decodeModeration reads a moderation column: "" is none.
func decodeModeration(s string) (*parley.Moderation, error) {
	if s == "" {
		return nil, nil
	}
	var m parley.Moderation
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("sqlite: moderation %q: %w", s, err)
	}
	return &m, nil
}

// encodeModeration writes a moderation column: none is "".
func encodeModeration(m *parley.Moderation) (string, error) {
	if m.IsZero() {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// findMessage reads one message, deleted or not, through q.
func findMessage(ctx context.Context, q queryer, chatID, seq int64) (*parley.Message, error) {
	var r nullMessageRow
	err := q.QueryRowContext(ctx, `
		SELECT `+messageColumns+` FROM messages m LEFT JOIN users s ON s.id = m.sender_id
		WHERE m.chat_id = ? AND m.seq = ?`, chatID, seq).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "message %d in chat %d not found", seq, chatID)
	} else if err != nil {
		return nil, internal("find message", err)
	}
	m, err := r.message()
	if err != nil {
		return nil, internal("find message", err)
	}
	return m, nil
}

// checkPost makes the checks of InsertMessage inside its transaction: the
// sender exists and may act, may post in the chat, the chat is open, and a
// reply names an existing message. It returns the sender's name.
func checkPost(ctx context.Context, st *hotStmts, msg *parley.Message) (string, error) {
	var s batchSender
	var until sql.NullInt64
	sender := &s
	err := st.senderName.QueryRowContext(ctx, msg.SenderID).Scan(&s.name, &s.status, &until)
	if errors.Is(err, sql.ErrNoRows) {
		sender = nil
	} else if err != nil {
		return "", internal("find user", err)
	}
	s.suspendedUntil = timePtr(until)
	var c batchChat
	var kind string
	var role sql.NullString
	chat := &c
	err = st.postPermit.QueryRowContext(ctx, msg.SenderID, msg.ChatID).Scan(&kind, &c.status, &c.lastSeq, &role)
	if errors.Is(err, sql.ErrNoRows) {
		chat = nil
	} else if err != nil {
		return "", internal("insert message", err)
	}
	c.kind = parley.ChatKind(kind)
	if err := checkPostState(msg, sender, chat, role.Valid, parley.MemberRole(role.String)); err != nil {
		return "", err
	}
	return s.name, nil
}

// checkPostState makes the checks of a new message m against what its
// transaction read: its sender (nil if the account does not exist), its
// chat (nil if the chat does not exist) and the sender's membership of it.
// The batch and the single-message paths of InsertMessage share it, so
// that both refuse the same messages with the same errors.
func checkPostState(m *parley.Message, sender *batchSender, chat *batchChat, member bool, role parley.MemberRole) error {
	if sender == nil {
		return parley.Errorf(parley.ENotFound, "user %d not found", m.SenderID)
	}
	// The message's own time is the clock here: the service sets it from
	// the injected clock, so suspensions end when tests say they do.
	if err := parley.CheckAccountUsable(sender.status, sender.suspendedUntil, nowOr(m.CreatedAt)); err != nil {
		return err
	}
	if chat == nil {
		return parley.Errorf(parley.ENotFound, "chat %d not found", m.ChatID)
	}
	if err := parley.CheckPost(chat.kind, m.ChatID, member, role); err != nil {
		return err
	}
	if err := parley.CheckChatOpen(chat.status); err != nil {
		return err
	}
	return parley.CheckReply(m.ReplyToSeq, chat.lastSeq)
}

// insertMessage stores msg as the chat's next message inside a
// transaction, through st bound to it: it takes the next seq and pts from
// the chat row, inserts the message, appends the message.new update and its
// outbox event. It fills msg (ID, Seq, CreatedAt when zero, SenderName) and
// returns the update.
func insertMessage(ctx context.Context, st *hotStmts, msg *parley.Message) (*parley.Update, error) {
	name, err := checkPost(ctx, st, msg)
	if err != nil {
		return nil, err
	}
	msg.CreatedAt = nowOr(msg.CreatedAt)
	msg.Views, msg.EditedAt, msg.DeletedAt = 0, nil, nil
	var pts int64
	err = st.nextSeq.QueryRowContext(ctx, toMicro(msg.CreatedAt), msg.ChatID).Scan(&msg.Seq, &pts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "chat %d not found", msg.ChatID)
	} else if err != nil {
		return nil, internal("insert message", err)
	}
	fwdChat, fwdSeq, fwdSender, fwdTitle := forwardArgs(msg.Forward)
	err = st.insertMessage.QueryRowContext(ctx,
		msg.ChatID, msg.Seq, msg.SenderID, msg.Text, msg.MediaID, msg.ReplyToSeq,
		fwdChat, fwdSeq, fwdSender, fwdTitle,
		msg.Ciphertext, msg.Nonce, toMicro(msg.CreatedAt),
	).Scan(&msg.ID)
	if err != nil {
		return nil, internal("insert message", err)
	}
	msg.SenderName = name
	u := &parley.Update{ChatID: msg.ChatID, Pts: pts, Kind: parley.UpdateMessageNew, Message: *msg, At: msg.CreatedAt}
	if err := appendUpdate(ctx, st, u); err != nil {
		return nil, err
	}
	return u, nil
}

// appendUpdate stores u in the chat's update log and writes it to the
// outbox, through st bound to the transaction.
func appendUpdate(ctx context.Context, st *hotStmts, u *parley.Update) error {
	snap, payload, err := encodeUpdate(u)
	if err != nil {
		return err
	}
	if _, err := st.insertUpdate.ExecContext(ctx,
		u.ChatID, u.Pts, u.Kind, u.Message.Seq, u.Message.SenderID, string(snap), toMicro(u.At)); err != nil {
		return internal("append update", err)
	}
	if _, err := st.insertEvent.ExecContext(ctx,
		parley.ChatSubject(u.ChatID), u.Kind, payload, toMicro(time.Now())); err != nil {
		return internal("insert event", err)
	}
	return nil
}

// encodeUpdate returns what is stored of u: the message snapshot of the
// update log, without the sender's name (joined from users when read, so
// that a renamed account shows its new name), and the outbox payload.
func encodeUpdate(u *parley.Update) (snap, payload []byte, err error) {
	m := u.Message
	m.SenderName = ""
	if snap, err = json.Marshal(&m); err != nil {
		return nil, nil, internal("encode update", err)
	}
	if payload, err = json.Marshal(u); err != nil {
		return nil, nil, internal("encode event", err)
	}
	return snap, payload, nil
}

// nextPts increments the chat's update counter and returns it.
func nextPts(ctx context.Context, tx queryer, chatID int64) (int64, error) {
	var pts int64
	err := tx.QueryRowContext(ctx, `UPDATE chats SET pts = pts + 1 WHERE id = ? RETURNING pts`, chatID).Scan(&pts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, parley.Errorf(parley.ENotFound, "chat %d not found", chatID)
	} else if err != nil {
		return 0, internal("next pts", err)
	}
	return pts, nil
}

// InsertMessageSingle stores msg exactly as InsertMessage does, but in a
// transaction of its own, without group commit. It exists as the baseline
// of the ingest benchmark (one message, one transaction, one fsync) and for
// tools that insert one message where batching would only add latency.
func (db *DB) InsertMessageSingle(ctx context.Context, msg *parley.Message) (*parley.Update, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	m := *msg
	u, err := insertMessage(ctx, db.hot.bind(ctx, tx), &m)
	if err != nil {
		return nil, err
	}
	if err := db.commit(tx, true); err != nil {
		return nil, err
	}
	*msg = m
	return u, nil
}

// EditMessage replaces the text of a message, sets EditedAt to at (now when
// zero) and appends a message.edited update, which it returns. ENotFound if
// the message does not exist or was deleted.
func (db *DB) EditMessage(ctx context.Context, chatID, seq int64, text string, at time.Time) (*parley.Update, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	m, err := findMessage(ctx, tx, chatID, seq)
	if err != nil {
		return nil, err
	} else if m.Deleted() {
		return nil, parley.Errorf(parley.ENotFound, "message %d in chat %d not found", seq, chatID)
	}
	at = nowOr(at)
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = ?, edited_at = ? WHERE id = ?`, text, toMicro(at), m.ID); err != nil {
		return nil, internal("edit message", err)
	}
	m.Text, m.EditedAt = text, &at
	pts, err := nextPts(ctx, tx, chatID)
	if err != nil {
		return nil, err
	}
	u := &parley.Update{ChatID: chatID, Pts: pts, Kind: parley.UpdateMessageEdited, Message: *m, At: at}
	if err := appendUpdate(ctx, db.hot.bind(ctx, tx), u); err != nil {
		return nil, err
	}
	if err := db.commit(tx, true); err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteMessage deletes a message for everyone: its text, media, ciphertext,
// nonce and forward origin are cleared, DeletedAt is set to at (now when
// zero) and a message.deleted update, carrying no content, is appended and
// returned. The content is also removed from the snapshots in the chat's
// earlier updates, so a client catching up with ListUpdates never sees what
// was deleted. ENotFound if the message does not exist or was deleted.
func (db *DB) DeleteMessage(ctx context.Context, chatID, seq int64, at time.Time) (*parley.Update, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	m, err := findMessage(ctx, tx, chatID, seq)
	if err != nil {
		return nil, err
	} else if m.Deleted() {
		return nil, parley.Errorf(parley.ENotFound, "message %d in chat %d not found", seq, chatID)
	}
	at = nowOr(at)
	if _, err := tx.ExecContext(ctx, `
		UPDATE messages SET text = '', media_id = '', ciphertext = '', nonce = '',
			forward_chat_id = NULL, forward_seq = NULL, forward_sender_id = NULL, forward_chat_title = NULL,
			deleted_at = ?
		WHERE id = ?`, toMicro(at), m.ID); err != nil {
		return nil, internal("delete message", err)
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE updates SET message = json_remove(message, '$.text', '$.media_id', '$.ciphertext', '$.nonce', '$.forward')
		WHERE chat_id = ? AND seq = ?`, chatID, seq); err != nil {
		return nil, internal("delete message", err)
	}
	m.Text, m.MediaID, m.Ciphertext, m.Nonce, m.Forward, m.DeletedAt = "", "", "", "", nil, &at
	pts, err := nextPts(ctx, tx, chatID)
	if err != nil {
		return nil, err
	}
	u := &parley.Update{ChatID: chatID, Pts: pts, Kind: parley.UpdateMessageDeleted, Message: *m, At: at}
	if err := appendUpdate(ctx, db.hot.bind(ctx, tx), u); err != nil {
		return nil, err
	}
	if err := db.commit(tx, true); err != nil {
		return nil, err
	}
	return u, nil
}

// FindMessage returns the message with the given seq, or ENotFound. A
// deleted message is returned as what is left of it (DeletedAt set, no
// content), so a caller can tell "deleted" from "never existed".
func (db *DB) FindMessage(ctx context.Context, chatID, seq int64) (*parley.Message, error) {
	return findMessage(ctx, db.reads, chatID, seq)
}

// ListMessages returns messages with seq < beforeSeq (all when beforeSeq is
// 0), newest first, at most limit (at most MaxPageSize); deleted messages are
// left out, and so are messages held for review except those viewerID
// wrote. Removed messages are listed, with their moderation, for the caller
// to show in their place what happened.
func (db *DB) ListMessages(ctx context.Context, chatID, viewerID, beforeSeq int64, limit int) ([]*parley.Message, error) {
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	return listMessages(ctx, db.reads, "list messages", `
		WHERE m.chat_id = ? AND m.seq < ? AND m.deleted_at IS NULL AND (m.status != 'held' OR m.sender_id = ?)
		ORDER BY m.seq DESC LIMIT ?`, chatID, beforeSeq, viewerID, pageLimit(limit, parley.MaxPageSize))
}

// listMessages reads the messages (with their senders' names) that where
// selects, through q; what names the read in errors.
func listMessages(ctx context.Context, q queryer, what, where string, args ...any) ([]*parley.Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages m LEFT JOIN users s ON s.id = m.sender_id `+where, args...)
	if err != nil {
		return nil, internal(what, err)
	}
	defer rows.Close()
	msgs := []*parley.Message{}
	for rows.Next() {
		var r nullMessageRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, internal(what, err)
		}
		m, err := r.message()
		if err != nil {
			return nil, internal(what, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(what, err)
	}
	return msgs, nil
}

// ListUpdates returns the chat's updates with pts > afterPts in pts order, at
// most limit (at most MaxPageSize). Each carries the message as it was right
// after the change, with the sender's current name and with the message's
// current moderation: a client catching up on an old update of a message
// removed since must not get its content back, and a restored message must
// show again.
func (db *DB) ListUpdates(ctx context.Context, chatID, afterPts int64, limit int) ([]*parley.Update, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT u.pts, u.kind, u.message, u.at, coalesce(nullif(s.display_name, ''), s.username, ''),
			coalesce(m.moderation, '')
		FROM updates u
		LEFT JOIN users s ON s.id = u.sender_id
		LEFT JOIN messages m ON m.chat_id = u.chat_id AND m.seq = u.seq
		WHERE u.chat_id = ? AND u.pts > ?
		ORDER BY u.pts LIMIT ?`, chatID, afterPts, pageLimit(limit, parley.MaxPageSize))
	if err != nil {
		return nil, internal("list updates", err)
	}
	defer rows.Close()
	updates := []*parley.Update{}
	for rows.Next() {
		u := &parley.Update{ChatID: chatID}
		var snap []byte
		var at int64
		var name, moderation string
		if err := rows.Scan(&u.Pts, &u.Kind, &snap, &at, &name, &moderation); err != nil {
			return nil, internal("list updates", err)
		}
		if err := json.Unmarshal(snap, &u.Message); err != nil {
			return nil, internal("list updates", err)
		}
		mod, err := decodeModeration(moderation)
		if err != nil {
			return nil, internal("list updates", err)
		}
		u.Message.Moderation = mod
		u.At, u.Message.SenderName = fromMicro(at), name
		updates = append(updates, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list updates", err)
	}
	return updates, nil
}

// maxViewBatch bounds RecordViews: a client reports the messages on its
// screen, which is never more than a page.
const maxViewBatch = parley.MaxPageSize

// RecordViews counts one view by userID of each listed message that the user
// had not viewed before, and returns the view counts, after counting, of the
// listed messages that exist and are not deleted (others are left out). More
// than MaxPageSize seqs is ETooLarge.
func (db *DB) RecordViews(ctx context.Context, chatID, userID int64, seqs []int64) (map[int64]int64, error) {
	if len(seqs) > maxViewBatch {
		return nil, parley.Errorf(parley.ETooLarge, "at most %d messages may be viewed at once", maxViewBatch)
	}
	counts := make(map[int64]int64, len(seqs))
	if len(seqs) == 0 {
		return counts, nil
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, seq := range seqs {
		if _, done := counts[seq]; done {
			continue
		}
		var views int64
		err := tx.QueryRowContext(ctx,
			`SELECT views FROM messages WHERE chat_id = ? AND seq = ? AND deleted_at IS NULL`, chatID, seq).Scan(&views)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, internal("record views", err)
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO message_views (chat_id, seq, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, chatID, seq, userID)
		if err != nil {
			return nil, internal("record views", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, internal("record views", err)
		} else if n == 1 {
			if _, err := tx.ExecContext(ctx,
				`UPDATE messages SET views = views + 1 WHERE chat_id = ? AND seq = ?`, chatID, seq); err != nil {
				return nil, internal("record views", err)
			}
			views++
		}
		counts[seq] = views
	}
	if err := db.commit(tx, false); err != nil {
		return nil, err
	}
	return counts, nil
}
