package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"parley"
)

// insertMember inserts the membership row and its chat.joined event. It does
// not touch the chat's member count; callers set or increment it.
func insertMember(ctx context.Context, tx *sql.Tx, m *parley.Member) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO members (chat_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`,
		m.ChatID, m.UserID, string(m.Role), toMicro(m.JoinedAt))
	if isUnique(err) {
		return parley.Errorf(parley.EConflict, "user %d is already a member of chat %d", m.UserID, m.ChatID)
	} else if isForeignKey(err) {
		return parley.Errorf(parley.ENotFound, "user %d not found", m.UserID)
	} else if err != nil {
		return internal("add member", err)
	}
	return insertMembershipEvent(ctx, tx, parley.EventChatJoined, m.ChatID, m.UserID)
}

// defaultRole is the role of a member added without one: a subscriber of a
// channel, a regular member of any other chat.
func defaultRole(k parley.ChatKind) parley.MemberRole {
	if k == parley.ChatChannel {
		return parley.MemberSubscriber
	}
	return parley.MemberRegular
}

// addMember adds m to its chat inside tx: it checks that the account is not
// a member yet and that the chat is below its member limit, inserts the
// membership, increments the count and writes chat.joined. Because every
// write goes through the one writer connection, the check and the insert
// cannot interleave with another join.
func addMember(ctx context.Context, tx *sql.Tx, m *parley.Member) error {
	var kind string
	var count, limit int64
	err := tx.QueryRowContext(ctx, `SELECT kind, member_count, member_limit FROM chats WHERE id = ?`, m.ChatID).
		Scan(&kind, &count, &limit)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "chat %d not found", m.ChatID)
	} else if err != nil {
		return internal("add member", err)
	}
	if err := userExists(ctx, tx, m.UserID); err != nil {
		return err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM members WHERE chat_id = ? AND user_id = ?`, m.ChatID, m.UserID).Scan(&one)
	if err == nil {
		return parley.Errorf(parley.EConflict, "user %d is already a member of chat %d", m.UserID, m.ChatID)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return internal("add member", err)
	}
	if limit > 0 && count >= limit {
		return parley.Errorf(parley.ETooLarge, "chat %d is full: it has reached its limit of %d members", m.ChatID, limit)
	}
	if m.Role == "" {
		m.Role = defaultRole(parley.ChatKind(kind))
	}
	m.JoinedAt = nowOr(m.JoinedAt)
	if err := insertMember(ctx, tx, m); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chats SET member_count = member_count + 1 WHERE id = ?`, m.ChatID); err != nil {
		return internal("add member", err)
	}
	return nil
}

// AddMember adds m (setting m.JoinedAt when zero, and m.Role when empty to
// the chat kind's default), increments the chat's member count and writes a
// chat.joined event. It returns EConflict if m is already a member, ETooLarge
// if the chat is at its member limit (0 means no limit), and ENotFound if the
// chat or the account does not exist.
func (db *DB) AddMember(ctx context.Context, m *parley.Member) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	mm := *m
	if err := addMember(ctx, tx, &mm); err != nil {
		return err
	}
	if err := db.commit(tx, true); err != nil {
		return err
	}
	*m = mm
	return nil
}

// RemoveMember removes a membership (ENotFound if none), decrements the
// chat's member count and writes chat.left.
func (db *DB) RemoveMember(ctx context.Context, chatID, userID int64) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE chat_id = ? AND user_id = ?`, chatID, userID)
	if err != nil {
		return internal("remove member", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("remove member", err)
	} else if n == 0 {
		return parley.Errorf(parley.ENotFound, "user %d is not a member of chat %d", userID, chatID)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chats SET member_count = member_count - 1 WHERE id = ?`, chatID); err != nil {
		return internal("remove member", err)
	}
	if err := insertMembershipEvent(ctx, tx, parley.EventChatLeft, chatID, userID); err != nil {
		return err
	}
	return db.commit(tx, true)
}

// FindMember returns ENotFound if the user is not a member.
func (db *DB) FindMember(ctx context.Context, chatID, userID int64) (*parley.Member, error) {
	m, err := scanMember(db.reads.QueryRowContext(ctx,
		`SELECT chat_id, user_id, role, joined_at FROM members WHERE chat_id = ? AND user_id = ?`, chatID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %d is not a member of chat %d", userID, chatID)
	} else if err != nil {
		return nil, internal("find member", err)
	}
	return m, nil
}

// FindChatWithMember returns a chat and userID's membership of it (nil when
// the account is not a member), in one read: every post and most reads of a
// chat need both. ENotFound if there is no such chat.
func (db *DB) FindChatWithMember(ctx context.Context, chatID, userID int64) (*parley.Chat, *parley.Member, error) {
	var cr chatRow
	var role sql.NullString
	var joined sql.NullInt64
	err := db.reads.QueryRowContext(ctx, `SELECT `+chatColumns+`, m.role, m.joined_at
		FROM chats c LEFT JOIN members m ON m.chat_id = c.id AND m.user_id = ?
		WHERE c.id = ?`, userID, chatID,
	).Scan(append(cr.dest(), &role, &joined)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, parley.Errorf(parley.ENotFound, "chat %d not found", chatID)
	} else if err != nil {
		return nil, nil, internal("find chat", err)
	}
	c, err := cr.chat()
	if err != nil {
		return nil, nil, internal("find chat", err)
	}
	var m *parley.Member
	if role.Valid {
		m = &parley.Member{ChatID: chatID, UserID: userID, Role: parley.MemberRole(role.String), JoinedAt: fromMicro(joined.Int64)}
	}
	return c, m, nil
}

func scanMember(row interface{ Scan(...any) error }) (*parley.Member, error) {
	var m parley.Member
	var role string
	var joined int64
	if err := row.Scan(&m.ChatID, &m.UserID, &role, &joined); err != nil {
		return nil, err
	}
	m.Role, m.JoinedAt = parley.MemberRole(role), fromMicro(joined)
	return &m, nil
}

// SetMemberRole changes a member's role; ENotFound if not a member.
func (db *DB) SetMemberRole(ctx context.Context, chatID, userID int64, role parley.MemberRole) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE members SET role = ? WHERE chat_id = ? AND user_id = ?`, string(role), chatID, userID)
	if err != nil {
		return internal("set member role", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("set member role", err)
	} else if n == 0 {
		return parley.Errorf(parley.ENotFound, "user %d is not a member of chat %d", userID, chatID)
	}
	return db.commit(tx, false)
}

// ListMembers returns members ordered by user id after afterUserID, at most
// limit (at most 1000; zero or less means 1000).
func (db *DB) ListMembers(ctx context.Context, chatID, afterUserID int64, limit int) ([]*parley.Member, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT chat_id, user_id, role, joined_at FROM members
		WHERE chat_id = ? AND user_id > ? ORDER BY user_id LIMIT ?`,
		chatID, afterUserID, pageLimit(limit, maxListLimit))
	if err != nil {
		return nil, internal("list members", err)
	}
	defer rows.Close()
	members := []*parley.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, internal("list members", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list members", err)
	}
	return members, nil
}

// CreateInvite inserts an invite, setting inv.CreatedAt when zero. It returns
// EConflict if the token exists and ENotFound if the chat or the creator
// does not.
func (db *DB) CreateInvite(ctx context.Context, inv *parley.Invite) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := findChat(ctx, tx, inv.ChatID); err != nil {
		return err
	}
	if err := userExists(ctx, tx, inv.CreatedBy); err != nil {
		return err
	}
	created := nowOr(inv.CreatedAt)
	_, err = tx.ExecContext(ctx, `
		INSERT INTO invites (token, chat_id, created_by, created_at, expires_at, revoked_at, uses)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		inv.Token, inv.ChatID, inv.CreatedBy, toMicro(created), nullMicro(inv.ExpiresAt), nullMicro(inv.RevokedAt), inv.Uses)
	if isUnique(err) {
		return parley.Errorf(parley.EConflict, "invite token already exists")
	} else if err != nil {
		return internal("create invite", err)
	}
	if err := db.commit(tx, false); err != nil {
		return err
	}
	inv.CreatedAt = created
	if inv.ExpiresAt != nil {
		inv.ExpiresAt = ptrTime(micro(*inv.ExpiresAt))
	}
	if inv.RevokedAt != nil {
		inv.RevokedAt = ptrTime(micro(*inv.RevokedAt))
	}
	return nil
}

const inviteColumns = `token, chat_id, created_by, created_at, expires_at, revoked_at, uses`

// scanInvite reads one invite row of inviteColumns.
func scanInvite(row interface{ Scan(...any) error }) (*parley.Invite, error) {
	var inv parley.Invite
	var created int64
	var expires, revoked sql.NullInt64
	if err := row.Scan(&inv.Token, &inv.ChatID, &inv.CreatedBy, &created, &expires, &revoked, &inv.Uses); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.RevokedAt = fromMicro(created), timePtr(expires), timePtr(revoked)
	return &inv, nil
}

// findInvite reads one invite through q.
func findInvite(ctx context.Context, q queryer, token string) (*parley.Invite, error) {
	inv, err := scanInvite(q.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "invite not found")
	} else if err != nil {
		return nil, internal("find invite", err)
	}
	return inv, nil
}

// ListInvites returns a chat's invites that are neither revoked nor expired
// at time now, newest first, at most limit (at most 1000).
func (db *DB) ListInvites(ctx context.Context, chatID int64, now time.Time, limit int) ([]*parley.Invite, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invites
		WHERE chat_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
		ORDER BY created_at DESC, token LIMIT ?`, chatID, toMicro(now), pageLimit(limit, 1000))
	if err != nil {
		return nil, internal("list invites", err)
	}
	defer rows.Close()
	invites := []*parley.Invite{}
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, internal("list invites", err)
		}
		invites = append(invites, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list invites", err)
	}
	return invites, nil
}

// FindInvite returns ENotFound if there is no such token.
func (db *DB) FindInvite(ctx context.Context, token string) (*parley.Invite, error) {
	return findInvite(ctx, db.reads, token)
}

// RevokeInvite marks the invite revoked at time at; an invite revoked before
// keeps its first revocation time. ENotFound if there is no such token.
func (db *DB) RevokeInvite(ctx context.Context, token string, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE invites SET revoked_at = coalesce(revoked_at, ?) WHERE token = ?`, toMicro(at), token)
	if err != nil {
		return internal("revoke invite", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("revoke invite", err)
	} else if n == 0 {
		return parley.Errorf(parley.ENotFound, "invite not found")
	}
	return db.commit(tx, false)
}

// UseInvite adds m to the invite's chat as AddMember does and counts one use
// of the invite, in one transaction. m.ChatID may be zero, and is then set
// to the invite's chat. The invite must be usable at m.JoinedAt (now, when
// zero): a revoked or expired invite is EConflict. Checking here, and not
// only in the service, means an invite revoked a moment before cannot still
// be used. ENotFound if there is no such token.
func (db *DB) UseInvite(ctx context.Context, token string, m *parley.Member) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	inv, err := findInvite(ctx, tx, token)
	if err != nil {
		return err
	}
	mm := *m
	if mm.ChatID == 0 {
		mm.ChatID = inv.ChatID
	} else if mm.ChatID != inv.ChatID {
		return parley.FieldError("chat_id", "the invite is for another chat")
	}
	mm.JoinedAt = nowOr(mm.JoinedAt)
	switch {
	case inv.RevokedAt != nil:
		return parley.Errorf(parley.EConflict, "the invite has been revoked")
	case !inv.Usable(mm.JoinedAt):
		return parley.Errorf(parley.EConflict, "the invite has expired")
	}
	if err := addMember(ctx, tx, &mm); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invites SET uses = uses + 1 WHERE token = ?`, token); err != nil {
		return internal("use invite", err)
	}
	if err := db.commit(tx, true); err != nil {
		return err
	}
	*m = mm
	return nil
}
