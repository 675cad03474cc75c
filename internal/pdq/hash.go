// Package pdq implements Meta's PDQ perceptual image hash, compatible with
// the C++ reference implementation in ThreatExchange, and an index that
// finds every stored hash within a Hamming distance of a query.
//
// The package is self-contained: it depends only on the standard library and
// golang.org/x/image (for WebP).
//
// # Hashing
//
// FromImage hashes a decoded image and returns the hash with its quality
// (0..100; hashes of quality below 50 should not be acted on). HashBytes and
// HashFile decode JPEG, PNG, GIF or WebP first, refusing images whose header
// announces more pixels than Limits allows, before any pixel is decoded.
// Dihedral returns the hashes of the eight rotations and flips of an image,
// computed from one pass over it.
//
// # Matching
//
// Two hashes match when their Hamming distance (Distance) is at most
// MatchDistance (31), and hashes of quality below MinQuality (50) should not
// be matched at all. Index stores hashes under int64 ids and answers
// Query(h, maxDist) with every stored hash within maxDist of h: up to 31 with
// a multi-index over eleven 23-bit chunks, beyond that by a linear scan.
package pdq

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
)

// Hash is a 256-bit PDQ hash. The bytes are kept in the order of the
// reference's hex text: Hash[0] holds bits 255..248, Hash[31] bits 7..0, where
// bit k = 16*i + j is the DCT coefficient at row i, column j. (The reference
// stores sixteen 16-bit words, word w holding bits 16w..16w+15, and prints them
// from word 15 down to word 0.)
type Hash [32]byte

// HexLen is the length of a hash in hex text.
const HexLen = 64

// Thresholds recommended with the reference implementation.
const (
	// MatchDistance: hashes within this Hamming distance are the same image.
	MatchDistance = 31
	// MinQuality: hashes of lower quality are too unreliable to match.
	MinQuality = 50
)

// String returns the hash as 64 lower-case hex digits, in the reference's layout.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseHash's rules.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash parses 64 hex digits (either case) as written by String and by
// the reference tools. Anything else — another length, surrounding spaces, a
// non-hex character — is refused with an error saying what and where.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != HexLen {
		return h, fmt.Errorf("pdq: invalid hash %q: want %d hex digits, got %d characters", clip(s), HexLen, len(s))
	}
	for i := 0; i < HexLen; i++ {
		if unhex(s[i]) < 0 {
			return h, fmt.Errorf("pdq: invalid hash %q: character %d (%q) is not a hex digit", clip(s), i+1, s[i])
		}
	}
	for i := range h {
		h[i] = byte(unhex(s[2*i])<<4 | unhex(s[2*i+1]))
	}
	return h, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Distance returns the Hamming distance between a and b (0..256).
func Distance(a, b Hash) int {
	return bits.OnesCount64(binary.LittleEndian.Uint64(a[0:])^binary.LittleEndian.Uint64(b[0:])) +
		bits.OnesCount64(binary.LittleEndian.Uint64(a[8:])^binary.LittleEndian.Uint64(b[8:])) +
		bits.OnesCount64(binary.LittleEndian.Uint64(a[16:])^binary.LittleEndian.Uint64(b[16:])) +
		bits.OnesCount64(binary.LittleEndian.Uint64(a[24:])^binary.LittleEndian.Uint64(b[24:]))
}

// Bit reports bit k (0..255) in the reference's numbering: bit 16*i+j is set
// when DCT coefficient (i, j) is above the median.
func (h Hash) Bit(k int) bool {
	k &= 255
	return h[31-k/8]>>(k%8)&1 == 1
}

func (h *Hash) setBit(k int) { h[31-k/8] |= 1 << (k % 8) }

// Ones returns the number of set bits (the reference's "norm").
func (h Hash) Ones() int { return Distance(h, Hash{}) }

// IsZero reports whether every bit is clear, as for images too small to hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// words returns the hash as four 64-bit words, w[0] holding bits 0..63.
func (h *Hash) words() [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(h[24:32]),
		binary.BigEndian.Uint64(h[16:24]),
		binary.BigEndian.Uint64(h[8:16]),
		binary.BigEndian.Uint64(h[0:8]),
	}
}

func fromWords(w [4]uint64) Hash {
	var h Hash
	binary.BigEndian.PutUint64(h[24:32], w[0])
	binary.BigEndian.PutUint64(h[16:24], w[1])
	binary.BigEndian.PutUint64(h[8:16], w[2])
	binary.BigEndian.PutUint64(h[0:8], w[3])
	return h
}
