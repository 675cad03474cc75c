package auth

import (
	"context"
	"time"

	"parley"
)

// Store is what the account service needs from storage.
type Store interface {
	// CreateUser inserts u and sets u.ID and u.CreatedAt. Returns EConflict if
	// the username is taken (usernames compare case-insensitively).
	CreateUser(ctx context.Context, u *parley.User) error
	// FindUserByID returns ENotFound if there is no such user.
	FindUserByID(ctx context.Context, id int64) (*parley.User, error)
	// FindUserByUsername matches case-insensitively; ENotFound if none.
	FindUserByUsername(ctx context.Context, username string) (*parley.User, error)
	// UpdateProfile saves DisplayName, Country and PublicKey of u.
	UpdateProfile(ctx context.Context, u *parley.User) error
	// SetPasswordHash replaces a user's password hash; ENotFound if none.
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	// SetUserRole changes a user's platform role and appends an audit entry
	// (action user.role_changed, by actorID, at the given time) in the same
	// transaction; ENotFound if there is no such user.
	SetUserRole(ctx context.Context, actorID, userID int64, role parley.Role, at time.Time) error
	// AppendAudit records one privileged act in the audit log, setting its
	// ID, PrevHash and Hash.
	AppendAudit(ctx context.Context, e *parley.AuditEntry) error
	// ListAuditEntries returns entries after afterID in id order, at most limit.
	ListAuditEntries(ctx context.Context, afterID int64, limit int) ([]*parley.AuditEntry, error)
	// ListUsers returns users ordered by id, after the given id, at most limit.
	ListUsers(ctx context.Context, afterID int64, limit int) ([]*parley.User, error)
	// SearchUsers returns the users whose username or display name contains
	// query, in any letter case (at least ASCII letters'), or whose id is
	// query, ordered by id after afterID, at most limit. The query is
	// matched literally: no character in it is a wildcard.
	SearchUsers(ctx context.Context, query string, afterID int64, limit int) ([]*parley.User, error)

	// CreateSession inserts s and sets s.ID.
	CreateSession(ctx context.Context, s *parley.Session) error
	// FindSessionByTokenHash returns ENotFound if there is none (expired and
	// revoked sessions are returned; the caller checks Active).
	FindSessionByTokenHash(ctx context.Context, hash []byte) (*parley.Session, error)
	// FindSessionWithUser returns the session whose token hashes to hash and
	// its account; ENotFound if there is no such session (expired and revoked
	// sessions are returned; the caller checks Active).
	FindSessionWithUser(ctx context.Context, hash []byte) (*parley.Session, *parley.User, error)
	// RevokeSession marks one session revoked at time at.
	RevokeSession(ctx context.Context, id int64, at time.Time) error
	// RevokeUserSessions revokes every active session of a user.
	RevokeUserSessions(ctx context.Context, userID int64, at time.Time) error
	// DeleteExpiredSessions removes up to limit sessions that expired
	// before t and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int64, error)
}
