package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost settings of argon2id. They are written into every
// hash, so raising them later only affects new hashes: old ones still verify
// with the settings they were made with.
type Argon2Params struct {
	Memory  uint32 // KiB of memory each hash uses
	Time    uint32 // passes over the memory
	Threads uint8  // lanes computed in parallel
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultArgon2Params are OWASP's recommended argon2id settings (19 MiB,
// two passes, one thread). On the project's machines one hash takes about
// 40 ms, slow enough to make guessing expensive and fast enough for sign-in.
var DefaultArgon2Params = Argon2Params{
	Memory:  19 * 1024,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// TestArgon2Params are the cheapest valid settings, for tests that sign users
// in and out many times. A hash made with them can be guessed quickly, so
// they must never be used by a running server.
var TestArgon2Params = Argon2Params{
	Memory:  8,
	Time:    1,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// Bounds on the settings read from an encoded hash. Stored hashes are ours,
// but a corrupted or planted one must not make Verify allocate gigabytes or
// spin for minutes, nor make argon2 panic.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// ErrMalformedHash is returned by Verify when the stored hash is not an
// argon2id PHC string this package can check. It means the stored data is
// wrong, not that the password is: callers should log it as an internal error.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// Hasher hashes and verifies passwords with argon2id while bounding how many
// hashes run at once. Each hash takes the full Memory of its settings (19 MiB
// by default); without a bound, a burst of sign-in requests would allocate
// memory in proportion to the burst and could bring the server down.
type Hasher struct {
	params Argon2Params
	slots  chan struct{}
	// dummy is a hash of a random password, verified by DummyVerify so that
	// an unknown username costs the same time as a wrong password.
	dummy string
	// inSlot, when set by a test, runs while a slot is held; noSlot runs
	// when a caller finds every slot taken, before it waits for one.
	inSlot, noSlot func()
}

// NewHasher returns a Hasher that makes new hashes with params and runs at
// most maxConcurrent hashes at a time; maxConcurrent ≤ 0 means one per CPU.
// It panics if params are outside the range Verify accepts, since that is a
// mistake in the program's configuration, found at start-up.
func NewHasher(maxConcurrent int, params Argon2Params) *Hasher {
	if err := params.check(); err != nil {
		panic(fmt.Sprintf("auth: NewHasher: %v", err))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{params: params, slots: make(chan struct{}, maxConcurrent)}
	salt := make([]byte, params.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(rand.Text()), salt, params.Time, params.Memory, params.Threads, params.KeyLen)
	h.dummy = encodeHash(params, salt, key)
	return h
}

// Hash returns the PHC string of password with a new random salt, such as
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>" with base64 without padding.
// It waits for a free slot; if ctx ends first it returns ctx.Err().
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read salt: %w", err)
	}
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return encodeHash(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, a string made by Hash,
// possibly with other settings: they are read from encoded. The keys are
// compared in constant time. A malformed encoded returns ErrMalformedHash; a
// ctx that ends while waiting for a slot returns ctx.Err().
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// DummyVerify does the work of one Verify against a hash no password
// matches. A sign-in for an unknown username calls it, so the response takes
// as long as for a wrong password and its timing does not reveal which
// usernames exist. It returns ctx.Err() if ctx ends while waiting for a slot.
func (h *Hasher) DummyVerify(ctx context.Context) error {
	_, err := h.Verify(ctx, h.dummy, "")
	return err
}

// derive computes the argon2id key of password while holding a slot.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	// Fail fast on a request that is already over, even if a slot is free.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
	default:
		if h.noSlot != nil {
			h.noSlot()
		}
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-h.slots }()
	if h.inSlot != nil {
		h.inSlot()
	}
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// check returns an error unless p is within the bounds Verify accepts.
func (p Argon2Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2 memory %d KiB is outside [8×threads, %d]", p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d is outside [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("argon2 threads must be at least 1")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2 salt length %d is outside [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 key length %d is outside [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// encodeHash writes the PHC string format used by the reference argon2
// implementation, so hashes can be checked by other tools.
func encodeHash(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// decodeHash parses a PHC string made by encodeHash. Every error wraps
// ErrMalformedHash and says what is wrong, never the hash itself.
func decodeHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, malformed("want 5 fields separated by $, got %d", len(parts)-1)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, malformed("algorithm %q is not argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, malformed("version %q is not v=%d", parts[2], argon2.Version)
	}

	var m, t, threads uint64
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, malformed("want parameters m, t and p, got %q", parts[3])
	}
	for i, want := range []struct {
		name string
		dst  *uint64
		bits int
	}{{"m", &m, 32}, {"t", &t, 32}, {"p", &threads, 8}} {
		value, ok := strings.CutPrefix(params[i], want.name+"=")
		if !ok {
			return p, nil, nil, malformed("parameter %d is not %s", i+1, want.name)
		}
		*want.dst, err = strconv.ParseUint(value, 10, want.bits)
		if err != nil {
			return p, nil, nil, malformed("parameter %s: %v", want.name, err)
		}
	}

	salt, err = base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, malformed("salt: %v", err)
	}
	key, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, malformed("key: %v", err)
	}
	p = Argon2Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(threads),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.check(); err != nil {
		return Argon2Params{}, nil, nil, malformed("%v", err)
	}
	return p, salt, key, nil
}
