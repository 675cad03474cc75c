package messaging

import (
	"crypto/rand"
	"encoding/base64"
)

// newInviteToken returns an unguessable invite token (128 bits).
func newInviteToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
