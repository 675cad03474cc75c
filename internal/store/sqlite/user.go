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
)

// usernameKey is the form in which usernames are compared: two usernames
// that differ only in case are the same account.
func usernameKey(username string) string { return strings.ToLower(username) }

// CreateUser inserts u, setting u.ID, u.CreatedAt (when zero) and u.Role
// (RoleMember when empty). It returns EConflict if the username is taken in
// any letter case.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	created := nowOr(u.CreatedAt)
	role := u.Role
	if role == "" {
		role = parley.RoleMember
	}
	var id int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO users (username, username_key, display_name, country, role, public_key, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		u.Username, usernameKey(u.Username), u.DisplayName, u.Country, string(role), u.PublicKey, u.PasswordHash,
		toMicro(created),
	).Scan(&id)
	if isUnique(err) {
		return parley.Errorf(parley.EConflict, "username %s is taken", u.Username)
	} else if err != nil {
		return internal("create user", err)
	}
	if err := db.commit(tx, false); err != nil {
		return err
	}
	u.ID, u.CreatedAt, u.Role = id, created, role
	return nil
}

const userColumns = `id, username, display_name, country, role, public_key, password_hash, created_at,
	status, suspended_until, strikes, moderation`

// userRow scans userColumns.
type userRow struct {
	u          parley.User
	role       string
	created    int64
	until      sql.NullInt64
	moderation string
}

func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.Username, &u.DisplayName, &u.Country, &r.role, &u.PublicKey, &u.PasswordHash, &r.created,
		&u.Status, &r.until, &u.Strikes, &r.moderation}
}

func (r *userRow) user() (*parley.User, error) {
	u := r.u
	u.Role, u.CreatedAt, u.SuspendedUntil = parley.Role(r.role), fromMicro(r.created), timePtr(r.until)
	var err error
	u.Moderation, err = decodeModeration(r.moderation)
	return &u, err
}

func scanUser(row interface{ Scan(...any) error }) (*parley.User, error) {
	var r userRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.user()
}

// prefixed qualifies each column of a column list with prefix ("u.").
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// FindUserByID returns ENotFound if there is no such user.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*parley.User, error) {
	u, err := scanUser(db.reads.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %d not found", id)
	} else if err != nil {
		return nil, internal("find user", err)
	}
	return u, nil
}

// FindUserByUsername matches case-insensitively; ENotFound if none.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (*parley.User, error) {
	u, err := scanUser(db.reads.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE username_key = ?`, usernameKey(username)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "user %s not found", username)
	} else if err != nil {
		return nil, internal("find user", err)
	}
	return u, nil
}

// UpdateProfile saves DisplayName, Country and PublicKey of u; the username,
// role and password are changed elsewhere. ENotFound if there is no such user.
func (db *DB) UpdateProfile(ctx context.Context, u *parley.User) error {
	return db.updateUser(ctx, u.ID, "update profile",
		`UPDATE users SET display_name = ?, country = ?, public_key = ? WHERE id = ?`,
		u.DisplayName, u.Country, u.PublicKey, u.ID)
}

// SetPasswordHash replaces a user's password hash; ENotFound if none.
func (db *DB) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return db.updateUser(ctx, userID, "set password hash",
		`UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
}

// SetUserRole changes a user's platform role and records the change in the
// audit log, in one transaction; ENotFound if there is no such user.
func (db *DB) SetUserRole(ctx context.Context, actorID, userID int64, role parley.Role, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var old string
	err = tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, userID).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "user %d not found", userID)
	} else if err != nil {
		return internal("set user role", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(role), userID); err != nil {
		return internal("set user role", err)
	}
	details, _ := json.Marshal(map[string]string{"from": old, "to": string(role)})
	e := &parley.AuditEntry{At: at, ActorID: actorID, Action: parley.AuditUserRoleChanged,
		TargetType: "user", TargetID: strconv.FormatInt(userID, 10), Details: string(details)}
	if err := appendAudit(ctx, tx, e); err != nil {
		return err
	}
	return db.commit(tx, false)
}

// updateUser runs one UPDATE of one user row in its own transaction.
func (db *DB) updateUser(ctx context.Context, id int64, op, query string, args ...any) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return internal(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(op, err)
	} else if n == 0 {
		return parley.Errorf(parley.ENotFound, "user %d not found", id)
	}
	return db.commit(tx, false)
}

// ListUsers returns users ordered by id, after the given id, at most limit
// (at most 1000; a limit of zero or less means 1000).
func (db *DB) ListUsers(ctx context.Context, afterID int64, limit int) ([]*parley.User, error) {
	return db.queryUsers(ctx, "list users",
		`SELECT `+userColumns+` FROM users WHERE id > ? ORDER BY id LIMIT ?`,
		afterID, pageLimit(limit, maxListLimit))
}

// queryUsers runs a query of userColumns and scans every row; what names
// the query in errors.
func (db *DB) queryUsers(ctx context.Context, what, query string, args ...any) ([]*parley.User, error) {
	rows, err := db.reads.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, internal(what, err)
	}
	defer rows.Close()
	users := []*parley.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, internal(what, err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(what, err)
	}
	return users, nil
}

// SearchUsers returns the users whose username or display name contains
// query in any letter case, or whose id it is, by id after afterID, at
// most limit. instr rather than LIKE, so that % and _ are not wildcards.
// Display names are folded with SQLite's lower(), which folds ASCII
// letters only; the query is also tried as typed, so a name with other
// letters is found by its own spelling.
func (db *DB) SearchUsers(ctx context.Context, query string, afterID int64, limit int) ([]*parley.User, error) {
	id, err := strconv.ParseInt(query, 10, 64)
	if err != nil {
		id = 0
	}
	return db.queryUsers(ctx, "search users", `
		SELECT `+userColumns+` FROM users
		WHERE id > ?1 AND (instr(username_key, ?2) > 0 OR instr(lower(display_name), ?2) > 0
			OR instr(display_name, ?3) > 0 OR id = ?4)
		ORDER BY id LIMIT ?5`,
		afterID, strings.ToLower(query), query, id, pageLimit(limit, maxListLimit))
}

// userExists returns ENotFound unless the user exists. Writes check it first
// so that a missing account is reported by id rather than as a foreign-key
// failure.
func userExists(ctx context.Context, q queryer, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "user %d not found", id)
	} else if err != nil {
		return internal("find user", err)
	}
	return nil
}

// CreateSession inserts s and sets s.ID, and s.CreatedAt when zero. The
// token hash is unique; a collision (which a random token makes impossible in
// practice) is EConflict. ENotFound if the user does not exist.
func (db *DB) CreateSession(ctx context.Context, s *parley.Session) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	if err := userExists(ctx, tx, s.UserID); err != nil {
		return err
	}
	created := nowOr(s.CreatedAt)
	var id int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO sessions (token_hash, user_id, kind, created_at, expires_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id`,
		s.TokenHash, s.UserID, s.Kind, toMicro(created), toMicro(s.ExpiresAt), nullMicro(s.RevokedAt),
	).Scan(&id)
	if isUnique(err) {
		return parley.Errorf(parley.EConflict, "session token already exists")
	} else if err != nil {
		return internal("create session", err)
	}
	if err := db.commit(tx, false); err != nil {
		return err
	}
	s.ID, s.CreatedAt, s.ExpiresAt = id, created, micro(s.ExpiresAt)
	return nil
}

// FindSessionByTokenHash returns the session with the given token hash,
// whether active, expired or revoked (the caller checks Active); ENotFound if
// there is none.
func (db *DB) FindSessionByTokenHash(ctx context.Context, hash []byte) (*parley.Session, error) {
	var s parley.Session
	var created, expires int64
	var revoked sql.NullInt64
	err := db.reads.QueryRowContext(ctx, `
		SELECT id, token_hash, user_id, kind, created_at, expires_at, revoked_at
		FROM sessions WHERE token_hash = ?`, hash,
	).Scan(&s.ID, &s.TokenHash, &s.UserID, &s.Kind, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "session not found")
	} else if err != nil {
		return nil, internal("find session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMicro(created), fromMicro(expires), timePtr(revoked)
	return &s, nil
}

// sqlSessionWithUser is the read of FindSessionWithUser, built once rather
// than on every authenticated request.
var sqlSessionWithUser = `
	SELECT s.id, s.token_hash, s.user_id, s.kind, s.created_at, s.expires_at, s.revoked_at, ` + prefixed("u.", userColumns) + `
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.token_hash = ?`

// FindSessionWithUser returns the session whose token hashes to hash and
// its account, in one read: every authenticated request makes it, and one
// join costs half of two point reads. ENotFound if there is no such session
// (expired and revoked sessions are returned; the caller checks Active).
func (db *DB) FindSessionWithUser(ctx context.Context, hash []byte) (*parley.Session, *parley.User, error) {
	var s parley.Session
	var ur userRow
	var created, expires int64
	var revoked sql.NullInt64
	err := db.reads.QueryRowContext(ctx, sqlSessionWithUser, hash).Scan(
		append([]any{&s.ID, &s.TokenHash, &s.UserID, &s.Kind, &created, &expires, &revoked}, ur.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, parley.Errorf(parley.ENotFound, "session not found")
	} else if err != nil {
		return nil, nil, internal("find session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMicro(created), fromMicro(expires), timePtr(revoked)
	u, err := ur.user()
	if err != nil {
		return nil, nil, internal("find session", err)
	}
	return &s, u, nil
}

// RevokeSession marks one session revoked at time at. A session revoked
// before keeps its first revocation time. ENotFound if there is no such
// session.
func (db *DB) RevokeSession(ctx context.Context, id int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, toMicro(at), id)
	if err != nil {
		return internal("revoke session", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("revoke session", err)
	} else if n == 0 {
		return parley.Errorf(parley.ENotFound, "session %d not found", id)
	}
	return db.commit(tx, false)
}

// RevokeUserSessions revokes every session of a user that is not revoked
// yet, for example when the password changes or the account is suspended.
func (db *DB) RevokeUserSessions(ctx context.Context, userID int64, at time.Time) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, toMicro(at), userID); err != nil {
		return internal("revoke user sessions", err)
	}
	return db.commit(tx, false)
}

// DeleteExpiredSessions removes up to limit sessions that expired before
// the given time and returns how many it removed. Revoked sessions that
// have not expired stay until they do, so a revoked token is still
// recognised as revoked.
func (db *DB) DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int64, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < ? LIMIT ?)`, toMicro(before), limit)
	if err != nil {
		return 0, internal("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, internal("delete expired sessions", err)
	}
	if err := db.commit(tx, false); err != nil {
		return 0, err
	}
	return n, nil
}
