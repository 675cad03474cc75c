package messaging

import (
	"sync"
	"time"

	"parley"
)

// maxPermits bounds the permit cache. At about 60 bytes an entry, a full
// cache is a few megabytes; when it fills it is emptied and refills from
// the store, which costs one read per active poster.
const maxPermits = 100_000

// permitTTL is how long a permit is used before it is read again: the
// bound on how stale its member count is.
const permitTTL = time.Minute

// permitCache remembers, for accounts that recently posted, the kind of the
// chat they may post in, so that a post need not read the chat and the
// membership before it is handed to the store. It is only a hint for
// choosing the checks a post's content must pass: the store checks the
// membership again inside the transaction that stores the message
// (parley.CheckPost), so a stale entry can never let a message in that the
// current membership forbids. A chat's kind never changes.
type permitCache struct {
	mu sync.Mutex
	m  map[permitKey]permit
}

type permitKey struct{ chatID, userID int64 }

type permit struct {
	kind parley.ChatKind
	// members is the chat's member count when it was read: what screening
	// rules see as the audience of a post, where a count up to permitTTL
	// old is as good as an exact one.
	members int64
	// until is when the permit is too old to use.
	until time.Time
}

// get returns the permit of userID in chatID, unless it is absent or too
// old at now.
func (c *permitCache) get(chatID, userID int64, now time.Time) (permit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[permitKey{chatID, userID}]
	if !ok || !now.Before(p.until) {
		return permit{}, false
	}
	return p, true
}

func (c *permitCache) put(chatID, userID int64, p permit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPermits {
		c.m = make(map[permitKey]permit)
	}
	c.m[permitKey{chatID, userID}] = p
}

// forget drops what is known of one membership, after this process changed
// it, so that the next post reads it afresh.
func (c *permitCache) forget(chatID, userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, permitKey{chatID, userID})
}
