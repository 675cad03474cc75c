package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// tokenBytes is the entropy of a session token: 256 bits, far beyond what
// guessing online or offline could cover.
const tokenBytes = 32

// NewToken returns a new session token: 32 random bytes in URL-safe base64
// without padding (43 characters), so it can travel in a cookie, a header or
// a URL without escaping. Only its HashToken is stored, so a leak of the
// database does not leak sessions anyone could use.
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: read random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the SHA-256 of token, the form in which sessions are
// stored and looked up. A fast hash is enough here, unlike for passwords:
// a token has 256 bits of entropy, so there is nothing to guess.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
