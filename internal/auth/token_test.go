package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		token, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(token) != 43 {
			t.Fatalf("token %q has %d characters, want 43", token, len(token))
		}
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) != 32 {
			t.Fatalf("token %q is not 32 bytes of unpadded base64url: %v", token, err)
		}
		if seen[token] {
			t.Fatalf("token %q was made twice", token)
		}
		seen[token] = true
	}
}

func TestHashToken(t *testing.T) {
	want := sha256.Sum256([]byte("a token"))
	if got := HashToken("a token"); !bytes.Equal(got, want[:]) {
		t.Errorf("HashToken = %x, want %x", got, want)
	}
	if bytes.Equal(HashToken("a token"), HashToken("a tokem")) {
		t.Error("different tokens have the same hash")
	}
}
