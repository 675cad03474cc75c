// Package ratelimit limits how often each client may do something expensive
// or sensitive, such as signing in or signing up, so that one address cannot
// guess passwords quickly or keep the password hasher busy for everyone.
package ratelimit

import (
	"container/list"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is how many keys a Limiter remembers at most. At roughly 200
// bytes a key (TestMemoryPerKey checks it stays under 300), 100,000 keys take
// about 20 MB: an attacker who sends from millions of addresses cannot make
// the limiter itself exhaust memory.
const DefaultMaxKeys = 100_000

// Limiter is a token bucket per key, typically per client IP address or
// account. Each bucket holds at most burst tokens and gains rate tokens a
// second; a request takes one token or is refused. Bursts of normal use
// pass, while a sustained stream is held to the rate. The buckets are
// golang.org/x/time/rate limiters, always given the time explicitly, so that
// tests can move the clock; this package adds the keys and bounds their
// number.
//
// Memory is bounded two ways. A bucket left alone long enough to refill is
// indistinguishable from a new one, so it is forgotten. And when MaxKeys are
// remembered, the least recently used key is forgotten to make room; that key
// then starts again with a full bucket, the smallest harm available when the
// limiter is flooded with keys.
//
// A Limiter is safe for use by many goroutines.
type Limiter struct {
	rate    float64
	burst   int
	clock   func() time.Time
	maxKeys int
	// fullAfter is how long an untouched bucket takes to refill from empty.
	fullAfter time.Duration

	mu   sync.Mutex
	keys map[string]*list.Element // each element's Value is a *bucket
	lru  list.List                // least recently used at the front
}

// bucket is the state of one key.
type bucket struct {
	key    string
	tokens *rate.Limiter
	// last is the latest time the key was used. The bucket is always asked
	// at this time or later: a clock that steps backwards gives no tokens,
	// and the step is not counted twice when the clock comes back.
	last time.Time
}

// New returns a Limiter allowing rate requests a second per key after an
// initial burst. For "five attempts a minute", use New(5.0/60, 5, nil).
// clock tells the time, so tests can move it; nil means time.Now. New panics
// if rate is not positive or burst is less than one, since such a limiter
// would refuse everything forever.
func New(rate float64, burst int, clock func() time.Time) *Limiter {
	if !(rate > 0) || math.IsInf(rate, 0) || burst < 1 {
		panic(fmt.Sprintf("ratelimit: New(%v, %d): rate must be positive and finite, burst at least 1", rate, burst))
	}
	if clock == nil {
		clock = time.Now
	}
	return &Limiter{
		rate:      rate,
		burst:     burst,
		clock:     clock,
		maxKeys:   DefaultMaxKeys,
		fullAfter: seconds(float64(burst) / rate),
		keys:      make(map[string]*list.Element),
	}
}

// Allow takes a token from key's bucket and reports whether there was one.
// When there was not, retryAfter is how long until there will be, for a
// Retry-After header; a refused request takes nothing, so retrying after that
// long succeeds unless another request came first.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()

	l.forgetIdle(now)
	var b *bucket
	if e, found := l.keys[key]; found {
		l.lru.MoveToBack(e)
		b = e.Value.(*bucket)
		if now.After(b.last) {
			b.last = now
		}
	} else {
		if len(l.keys) >= l.maxKeys {
			l.forget(l.lru.Front())
		}
		b = &bucket{key: key, tokens: rate.NewLimiter(rate.Limit(l.rate), l.burst), last: now}
		l.keys[key] = l.lru.PushBack(b)
	}

	// A refused AllowN changes nothing in the bucket.
	if b.tokens.AllowN(b.last, 1) {
		return true, 0
	}
	return false, seconds((1 - b.tokens.TokensAt(b.last)) / l.rate)
}

// Len returns how many keys the limiter remembers, for metrics and tests.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// forgetIdle drops the buckets not used for fullAfter: they are full again,
// so forgetting them changes nothing. The list is in order of last use, so
// the scan stops at the first recent bucket, and each bucket is dropped at
// most once: the cost per Allow is constant on average.
func (l *Limiter) forgetIdle(now time.Time) {
	for e := l.lru.Front(); e != nil; e = l.lru.Front() {
		if now.Sub(e.Value.(*bucket).last) < l.fullAfter {
			return
		}
		l.forget(e)
	}
}

// forget drops the bucket of list element e.
func (l *Limiter) forget(e *list.Element) {
	delete(l.keys, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// seconds converts s seconds to a Duration, rounding up so that waiting that
// long is always enough, and saturating instead of overflowing.
func seconds(s float64) time.Duration {
	ns := math.Ceil(s * float64(time.Second))
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
