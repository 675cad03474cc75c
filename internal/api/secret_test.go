package api_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/stream"
)

// browserKeys is what a browser makes for secret chats: an ECDH P-256 key
// pair whose private half never leaves it.
type browserKeys struct {
	priv *ecdh.PrivateKey
}

func newBrowserKeys(t *testing.T) *browserKeys {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &browserKeys{priv: k}
}

// publicJWK is the public key as the browser exports it (JWK, like
// WebCrypto's exportKey("jwk")).
func (k *browserKeys) publicJWK() string {
	raw := k.priv.PublicKey().Bytes() // 0x04 || X || Y
	jwk, _ := json.Marshal(map[string]string{
		"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(raw[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(raw[33:65]),
	})
	return string(jwk)
}

// aead derives the chat key from our private key and the peer's public
// JWK as the browser does (ECDH, then the shared secret as an AES-256-GCM
// key).
func (k *browserKeys) aead(t *testing.T, peerJWK string) cipher.AEAD {
	t.Helper()
	var jwk struct{ Kty, Crv, X, Y string }
	if err := json.Unmarshal([]byte(peerJWK), &jwk); err != nil {
		t.Fatalf("peer key %q: %v", peerJWK, err)
	}
	x, err1 := base64.RawURLEncoding.DecodeString(jwk.X)
	y, err2 := base64.RawURLEncoding.DecodeString(jwk.Y)
	if err1 != nil || err2 != nil || jwk.Kty != "EC" || jwk.Crv != "P-256" {
		t.Fatalf("peer key %q is not a P-256 JWK", peerJWK)
	}
	pub, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("peer key: %v", err)
	}
	secret, err := k.priv.ECDH(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return gcm
}

// peerKey fetches another account's public key from the server.
func (c *client) peerKey(t *testing.T, username string) string {
	t.Helper()
	var pub struct {
		PublicKey string `json:"public_key"`
	}
	c.mustJSON(t, "GET", "/api/v1/users/"+username, nil, http.StatusOK, &pub)
	if pub.PublicKey == "" {
		t.Fatalf("%s has no public key on the server", username)
	}
	return pub.PublicKey
}

// TestSecretChatPlaintextNeverReachesServer runs a secret chat the way two
// browsers would and then searches everything the server keeps — every file
// in its data directory, its logs, every event on its stream — for the
// plaintext and the private keys.
func TestSecretChatPlaintextNeverReachesServer(t *testing.T) {
	const plaintext = "the eagle lands at dawn 7f3a"
	s := start(t)

	var mu sync.Mutex
	var events []stream.Message
	stop, err := s.app.Stream.SubscribeFrom(context.Background(), ">", 1, func(m stream.Message) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	alice, bob := s.signUp(t, "alice"), s.signUp(t, "bob")
	aliceKeys, bobKeys := newBrowserKeys(t), newBrowserKeys(t)

	// Without keys there is no secret chat.
	alice.wantError(t, "POST", "/api/v1/chats", map[string]any{"kind": "secret", "peer": "bob"}, 409, parley.EConflict, "")
	alice.mustJSON(t, "PATCH", "/api/v1/me", map[string]string{"public_key": aliceKeys.publicJWK()}, http.StatusOK, nil)
	bob.mustJSON(t, "PATCH", "/api/v1/me", map[string]string{"public_key": bobKeys.publicJWK()}, http.StatusOK, nil)
	sc := alice.createChat(t, map[string]any{"kind": "secret", "peer": "bob"})
	if sc.Kind != parley.ChatSecret {
		t.Fatalf("chat = %+v; want a secret chat", sc)
	}
	bobLive := bob.connect(t, "")
	bobLive.expect(t, "ready", 0)

	// The server refuses plaintext in a secret chat.
	alice.wantError(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", sc.ID), map[string]string{"text": plaintext}, 400, parley.EInvalid, "text")

	// Alice's browser encrypts; only ciphertext and nonce are sent.
	nonce := make([]byte, 12)
	rand.Read(nonce)
	sealed := aliceKeys.aead(t, alice.peerKey(t, "bob")).Seal(nil, nonce, []byte(plaintext), nil)
	ct, nc := base64.StdEncoding.EncodeToString(sealed), base64.StdEncoding.EncodeToString(nonce)
	sent := alice.post(t, sc.ID, map[string]string{"ciphertext": ct, "nonce": nc})
	if sent.Ciphertext != ct || sent.Nonce != nc || sent.Text != "" {
		t.Fatalf("stored secret message = %+v; want the ciphertext and nonce as sent", sent)
	}

	// Bob gets the ciphertext live and from history, and decrypts it with
	// alice's public key from the server and his own private key.
	bobAEAD := bobKeys.aead(t, bob.peerKey(t, "alice"))
	open := func(what, ct, nonce string) {
		c, err1 := base64.StdEncoding.DecodeString(ct)
		n, err2 := base64.StdEncoding.DecodeString(nonce)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: ciphertext or nonce is not base64", what)
		}
		got, err := bobAEAD.Open(nil, n, c, nil)
		if err != nil || string(got) != plaintext {
			t.Fatalf("%s: bob decrypts %q, %v; want %q", what, got, err, plaintext)
		}
	}
	u := bobLive.expect(t, "update", sc.ID).Update
	open("live update", u.Message.Ciphertext, u.Message.Nonce)
	h := bob.history(t, sc.ID)
	if len(h) != 1 {
		t.Fatalf("bob's secret history has %d messages", len(h))
	}
	open("history", h[0].Ciphertext, h[0].Nonce)

	// Wait until the message's event is on the stream, so the search below
	// covers it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		found := false
		for _, e := range events {
			found = found || bytes.Contains(e.Data, []byte(ct))
		}
		mu.Unlock()
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the secret message's event never reached the stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	// Close the server so that everything it would write is on disk.
	if err := s.app.Close(); err != nil {
		t.Fatal(err)
	}

	secrets := map[string][]byte{
		"plaintext":                      []byte(plaintext),
		"distinctive part of plaintext":  []byte("eagle lands at dawn"),
		"plaintext in base64":            []byte(base64.StdEncoding.EncodeToString([]byte(plaintext))),
		"plaintext in hex":               []byte(hex.EncodeToString([]byte(plaintext))),
		"alice's private key":            aliceKeys.priv.Bytes(),
		"alice's private key, base64url": []byte(base64.RawURLEncoding.EncodeToString(aliceKeys.priv.Bytes())),
		"bob's private key, base64url":   []byte(base64.RawURLEncoding.EncodeToString(bobKeys.priv.Bytes())),
	}
	search := func(where string, data []byte) {
		for name, secret := range secrets {
			if bytes.Contains(data, secret) {
				t.Errorf("the %s is in %s", name, where)
			}
		}
	}

	// Every file the server wrote: database, WAL, media, event store.
	ciphertextOnDisk := false
	nfiles := 0
	err = filepath.WalkDir(s.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		nfiles++
		rel, _ := filepath.Rel(s.dataDir, path)
		search("file "+rel, data)
		ciphertextOnDisk = ciphertextOnDisk || bytes.Contains(data, []byte(ct))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The search would find what it looks for: the ciphertext is on disk.
	if !ciphertextOnDisk {
		t.Fatalf("searched %d files and did not find even the ciphertext; the search is blind", nfiles)
	}

	logs := s.logs.String()
	if !strings.Contains(logs, fmt.Sprintf("/api/v1/chats/%d/messages", sc.ID)) {
		t.Fatalf("the logs do not show the post at all; the search is blind:\n%s", tail(logs, 2000))
	}
	search("the server's logs", []byte(logs))

	mu.Lock()
	defer mu.Unlock()
	for _, e := range events {
		search(fmt.Sprintf("stream event %d (%s %s)", e.StreamSeq, e.Subject, e.Kind), append([]byte(e.Subject+e.Kind), e.Data...))
	}
}
