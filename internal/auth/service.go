// Package auth holds accounts and sessions: sign-up, sign-in, session
// tokens that expire and can be revoked, profiles and platform roles.
package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"parley/internal/pace"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
)

// Limits on account fields.
const (
	MinPasswordLen    = 10
	MaxPasswordLen    = 256
	MaxDisplayNameLen = 64
	SessionTTL        = 30 * 24 * time.Hour
	APITokenTTL       = 90 * 24 * time.Hour
)

var usernameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{2,31}$`)

// Service signs accounts up and in and resolves session tokens.
type Service struct {
	Store  Store
	Hasher *Hasher
	Clock  parley.Clock
	Log    *slog.Logger
	// SessionCacheTTL is how long Authenticate trusts a session it read
	// (DefaultSessionCacheTTL when zero; a negative value reads the store on
	// every call).
	SessionCacheTTL time.Duration

	sessions sessionCache
}

// SignUpInput is what a new account gives.
type SignUpInput struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Country     string `json:"country"`
}

// SignUp creates a member account and opens a session of the given kind
// ("web" or "api"). It returns the new user and the session token, which is
// shown once and stored only as a hash.
func (s *Service) SignUp(ctx context.Context, in SignUpInput, kind string) (*parley.User, string, *parley.Session, error) {
	if !usernameRE.MatchString(in.Username) {
		return nil, "", nil, parley.FieldError("username", "username must be 3 to 32 letters, digits or underscores, starting with a letter")
	}
	if err := checkPassword(in.Password); err != nil {
		return nil, "", nil, err
	}
	u := &parley.User{Username: in.Username, Role: parley.RoleMember, CreatedAt: s.Clock.Now()}
	if err := applyProfile(u, in.DisplayName, in.Country); err != nil {
		return nil, "", nil, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, "", nil, err
	}
	u.PasswordHash = hash
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, "", nil, err
	}
	token, sess, err := s.openSession(ctx, u.ID, kind)
	if err != nil {
		return nil, "", nil, err
	}
	return u, token, sess, nil
}

// CreateUser makes an account with the given role without opening a
// session; the demo world and operators' set-up use it.
func (s *Service) CreateUser(ctx context.Context, in SignUpInput, role parley.Role) (*parley.User, error) {
	if !usernameRE.MatchString(in.Username) {
		return nil, parley.FieldError("username", "username must be 3 to 32 letters, digits or underscores, starting with a letter")
	}
	if err := checkPassword(in.Password); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, parley.FieldError("role", "unknown role %q", role)
	}
	u := &parley.User{Username: in.Username, Role: role, CreatedAt: s.Clock.Now()}
	if err := applyProfile(u, in.DisplayName, in.Country); err != nil {
		return nil, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// SignIn checks a username and password and opens a session. A wrong
// username and a wrong password give the same error after the same work, so
// the answer does not reveal which accounts exist.
func (s *Service) SignIn(ctx context.Context, username, password, kind string) (*parley.User, string, *parley.Session, error) {
	bad := parley.Errorf(parley.EUnauthorized, "wrong username or password")
	if username == "" || password == "" || len(password) > MaxPasswordLen || len(username) > 64 {
		return nil, "", nil, bad
	}
	u, err := s.Store.FindUserByUsername(ctx, username)
	if parley.ErrorCode(err) == parley.ENotFound {
		s.Hasher.DummyVerify(ctx)
		return nil, "", nil, bad
	} else if err != nil {
		return nil, "", nil, err
	}
	ok, err := s.Hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, "", nil, err
	} else if !ok {
		return nil, "", nil, bad
	}
	// Only after the password: whether an account is suspended is told to
	// its holder, not to whoever guesses its name.
	if !u.Usable(s.Clock.Now()) {
		return nil, "", nil, parley.Errorf(parley.EForbidden, "%s", u.UnusableReason())
	}
	token, sess, err := s.openSession(ctx, u.ID, kind)
	if err != nil {
		return nil, "", nil, err
	}
	return u, token, sess, nil
}

func (s *Service) openSession(ctx context.Context, userID int64, kind string) (string, *parley.Session, error) {
	ttl := SessionTTL
	switch kind {
	case "web":
	case "api":
		ttl = APITokenTTL
	default:
		return "", nil, parley.FieldError("kind", "session kind must be web or api")
	}
	token, err := NewToken()
	if err != nil {
		return "", nil, err
	}
	now := s.Clock.Now()
	sess := &parley.Session{TokenHash: HashToken(token), UserID: userID, Kind: kind, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// Authenticate resolves a session token to its session and user. It returns
// EUnauthorized for an unknown, expired or revoked token.
func (s *Service) Authenticate(ctx context.Context, token string) (*parley.User, *parley.Session, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, parley.Errorf(parley.EUnauthorized, "sign in first")
	}
	hash := HashToken(token)
	now := s.Clock.Now()
	ttl := s.SessionCacheTTL
	if ttl == 0 {
		ttl = DefaultSessionCacheTTL
	}
	if ttl > 0 {
		if sess, u, ok := s.sessions.get(hash, now); ok && sess.Active(now) && u.Usable(now) {
			return u, sess, nil
		}
	}
	sess, u, err := s.Store.FindSessionWithUser(ctx, hash)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, nil, parley.Errorf(parley.EUnauthorized, "session not found; sign in again")
	} else if err != nil {
		return nil, nil, err
	}
	if !sess.Active(now) {
		return nil, nil, parley.Errorf(parley.EUnauthorized, "session expired or signed out; sign in again")
	}
	if !u.Usable(now) {
		return nil, nil, parley.Errorf(parley.EUnauthorized, "%s", u.UnusableReason())
	}
	if ttl > 0 {
		s.sessions.put(sess, u, now.Add(ttl))
	}
	return u, sess, nil
}

// sweepPage is how many expired sessions one transaction of SweepSessions
// deletes: a short write, whatever the backlog.
const sweepPage = 500

// SweepSessions deletes the sessions that have expired, a page at a time
// with a rest between pages (package pace), and returns how many it
// deleted. Revoked sessions stay until they expire.
func (s *Service) SweepSessions(ctx context.Context) (int, error) {
	p := pace.New(ctx)
	total := 0
	for {
		n, err := s.Store.DeleteExpiredSessions(ctx, s.Clock.Now(), sweepPage)
		total += int(n)
		if err != nil || n < sweepPage {
			return total, err
		}
		if err := p.Rest(); err != nil {
			return total, err
		}
	}
}

// SignOut revokes one session.
func (s *Service) SignOut(ctx context.Context, sess *parley.Session) error {
	err := s.Store.RevokeSession(ctx, sess.ID, s.Clock.Now())
	s.sessions.forgetSession(sess.TokenHash)
	return err
}

// Forget drops what this process keeps of the account's sessions, after a
// change to the account made elsewhere in the process (an enforcement
// action), so that its next request reads the account afresh.
func (s *Service) Forget(userID int64) { s.sessions.forgetUser(userID) }

// SignOutEverywhere revokes every session of the user.
func (s *Service) SignOutEverywhere(ctx context.Context, userID int64) error {
	err := s.Store.RevokeUserSessions(ctx, userID, s.Clock.Now())
	s.sessions.forgetUser(userID)
	return err
}

// ProfileInput is a change to one's own profile; nil fields stay as they are.
type ProfileInput struct {
	DisplayName *string `json:"display_name"`
	Country     *string `json:"country"`
	PublicKey   *string `json:"public_key"`
}

// UpdateProfile changes the caller's display name, country or secret-chat
// public key.
func (s *Service) UpdateProfile(ctx context.Context, u *parley.User, in ProfileInput) (*parley.User, error) {
	next := *u
	name, country := next.DisplayName, next.Country
	if in.DisplayName != nil {
		name = *in.DisplayName
	}
	if in.Country != nil {
		country = *in.Country
	}
	if err := applyProfile(&next, name, country); err != nil {
		return nil, err
	}
	if in.PublicKey != nil {
		if err := checkPublicKey(*in.PublicKey); err != nil {
			return nil, err
		}
		next.PublicKey = *in.PublicKey
	}
	if err := s.Store.UpdateProfile(ctx, &next); err != nil {
		return nil, err
	}
	s.sessions.forgetUser(u.ID)
	return &next, nil
}

// SetRole changes another account's platform role. Only an admin may.
func (s *Service) SetRole(ctx context.Context, actor *parley.User, userID int64, role parley.Role) error {
	if err := requireAdmin(actor, "change roles"); err != nil {
		return err
	}
	if !role.Valid() {
		return parley.FieldError("role", "role must be member, moderator, legal_officer or admin")
	}
	if actor.ID == userID && role != parley.RoleAdmin {
		return parley.FieldError("role", "an admin cannot demote themselves; ask another admin")
	}
	if err := s.Store.SetUserRole(ctx, actor.ID, userID, role, s.Clock.Now()); err != nil {
		return err
	}
	s.sessions.forgetUser(userID)
	s.Log.Info("role changed", "actor", actor.ID, "user", userID, "role", role)
	return nil
}

func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return parley.FieldError("password", "password must be at least %d characters", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return parley.FieldError("password", "password must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// applyProfile validates and sets a display name and a country code. The
// name is cleaned as every member-written text is (parley.CleanLine):
// control characters and direction overrides are dropped, so a name cannot
// move the text it is shown beside.
func applyProfile(u *parley.User, displayName, country string) error {
	if !utf8.ValidString(displayName) {
		return parley.FieldError("display_name", "display name must be valid text of at most %d characters", MaxDisplayNameLen)
	}
	displayName = parley.CleanLine(displayName)
	if displayName == "" {
		displayName = u.Username
	}
	if utf8.RuneCountInString(displayName) > MaxDisplayNameLen {
		return parley.FieldError("display_name", "display name must be valid text of at most %d characters", MaxDisplayNameLen)
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if country != "" && !IsCountryCode(country) {
		return parley.FieldError("country", "country must be an ISO 3166-1 alpha-2 code such as DE or FR")
	}
	u.DisplayName, u.Country = displayName, country
	return nil
}

// checkPublicKey accepts an ECDH P-256 public key in JWK form, bounded in
// size. The server never uses the key: it is for the browsers at both ends of
// a secret chat. A JWK holding the private part ("d") is refused, so a buggy
// client cannot hand its private key to the server by mistake.
func checkPublicKey(key string) error {
	if key == "" {
		return nil
	}
	if len(key) > 1024 {
		return parley.FieldError("public_key", "public key is too long")
	}
	var jwk struct {
		Kty string  `json:"kty"`
		Crv string  `json:"crv"`
		X   string  `json:"x"`
		Y   string  `json:"y"`
		D   *string `json:"d"`
	}
	if err := json.Unmarshal([]byte(key), &jwk); err != nil || jwk.Kty != "EC" || jwk.Crv != "P-256" || jwk.X == "" || jwk.Y == "" {
		return parley.FieldError("public_key", "public key must be a P-256 ECDH public key in JWK form")
	}
	if jwk.D != nil {
		return parley.FieldError("public_key", "that JWK holds a private key; send only the public part")
	}
	return nil
}
