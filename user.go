package parley

import "time"

// Role is an account's role on the platform. Every endpoint names the roles
// that may call it.
type Role string

const (
	RoleMember       Role = "member"
	RoleModerator    Role = "moderator"
	RoleLegalOfficer Role = "legal_officer"
	RoleAdmin        Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleMember, RoleModerator, RoleLegalOfficer, RoleAdmin:
		return true
	}
	return false
}

// IsStaff reports whether r takes and sees enforcement actions: moderators,
// legal officers and admins.
func (r Role) IsStaff() bool { return r == RoleModerator || r == RoleLegalOfficer || r == RoleAdmin }

// CanModerate reports whether r works the review queue, the screening rules,
// the hash banks and campaigns: moderators and admins, not legal officers.
func (r Role) CanModerate() bool { return r == RoleModerator || r == RoleAdmin }

// CanPlaceHolds reports whether r places and releases legal holds on
// evidence: legal officers and admins.
func (r Role) CanPlaceHolds() bool { return r == RoleLegalOfficer || r == RoleAdmin }

// User is an account.
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Country     string    `json:"country"` // ISO 3166-1 alpha-2, upper case, "" for none; self-declared: shown, never used to withhold (see ViewerOf)
	Role        Role      `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
	// PublicKey is the account's secret-chat public key (an ECDH P-256 key in
	// JWK form, made in the browser). The private key never reaches the server.
	PublicKey string `json:"public_key,omitempty"`

	// Status is AccountActive, AccountSuspended (until SuspendedUntil) or
	// AccountTerminated; Strikes counts enforcement actions against the
	// account's content that still stand.
	Status         string      `json:"status,omitempty"`
	SuspendedUntil *time.Time  `json:"suspended_until,omitempty"`
	Strikes        int         `json:"strikes,omitempty"`
	Moderation     *Moderation `json:"moderation,omitempty"`

	PasswordHash string `json:"-"`
}

// Session is a signed-in session. Only a hash of the token is stored, so a
// copy of the database does not let anyone sign in.
type Session struct {
	ID        int64      `json:"id"`
	TokenHash []byte     `json:"-"`
	UserID    int64      `json:"user_id"`
	Kind      string     `json:"kind"` // "web" (cookie) or "api" (bearer token)
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Active reports whether the session may be used at time now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}
