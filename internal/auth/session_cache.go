package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"parley"
)

// DefaultSessionCacheTTL is how long Authenticate trusts a session it read
// without reading it again, when Service.SessionCacheTTL is zero.
//
// Every API request authenticates, and reading the session and its account
// costs about as much as the rest of a small request together, so a process
// keeps the sessions of its active clients for a moment. What that costs in
// freshness is bounded: changes made through this process (signing out,
// signing out everywhere, a new role, a new profile) take effect at once,
// because they drop the cached entries; the same changes made through
// another process take effect here within this TTL. Posting checks the
// account's membership in the transaction that stores the message, whatever
// the cache holds.
const DefaultSessionCacheTTL = time.Second

// maxCachedSessions bounds the cache; when it is full it is emptied, which
// costs one read per active client.
const maxCachedSessions = 100_000

// sessionCache holds recently read sessions and their accounts, by token
// hash.
type sessionCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cachedSession
}

type cachedSession struct {
	sess  parley.Session
	user  parley.User
	until time.Time
}

func cacheKey(hash []byte) (k [sha256.Size]byte) {
	copy(k[:], hash)
	return k
}

// get returns copies of the cached session and account for hash, if they
// were read less than the TTL before now.
func (c *sessionCache) get(hash []byte, now time.Time) (*parley.Session, *parley.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheKey(hash)]
	if !ok || !now.Before(e.until) {
		return nil, nil, false
	}
	sess, user := e.sess, e.user
	return &sess, &user, true
}

func (c *sessionCache) put(sess *parley.Session, user *parley.User, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedSessions {
		c.m = make(map[[sha256.Size]byte]cachedSession)
	}
	c.m[cacheKey(sess.TokenHash)] = cachedSession{sess: *sess, user: *user, until: until}
}

// forgetSession drops one session.
func (c *sessionCache) forgetSession(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, cacheKey(hash))
}

// forgetUser drops every session of one account. It walks the whole cache,
// which is fine for what calls it: changes to an account are rare next to
// the requests the cache serves.
func (c *sessionCache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.user.ID == userID {
			delete(c.m, k)
		}
	}
}
