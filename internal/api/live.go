package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/internal/realtime"
)

// maxResumeChats bounds the resume list of one connection.
const maxResumeChats = 1000

// handleLive upgrades to a WebSocket that streams updates of the caller's
// chats. ?resume=CHAT:PTS,CHAT:PTS names the last update the client saw in
// each chat; the updates after it are sent first, then live ones, each
// exactly once. A "ready" frame marks the end of the catch-up. Each update
// is shown as the caller may see it from where the request comes from
// (parley.ViewerOf), and a chat hidden from the caller sends a "chat" frame
// with its notice instead of its updates.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) error {
	resume, err := parseResume(r.URL.Query().Get("resume"))
	if err != nil {
		return err
	}
	// The library checks that a browser's Origin matches the Host, so
	// another site cannot open a socket with a member's cookie.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil // Accept has written the error response
	}
	conn.SetReadLimit(4096)
	base := s.LiveContext
	if base == nil {
		base = context.Background()
	}
	ctx := conn.CloseRead(base)
	c := realtime.NewClient(parley.ViewerOf(r.Context(), CurrentUser(r.Context())), resume)
	if err := s.Hub.Register(ctx, c); errors.Is(err, realtime.ErrAccountRestricted) {
		conn.Close(websocket.StatusPolicyViolation, "this account was suspended or terminated")
		return nil
	} else if err != nil {
		conn.Close(websocket.StatusInternalError, "could not load your chats")
		return nil
	}
	// The connection is served on a goroutine of its own and the handler
	// returns: the handler's goroutine has a deep stack from the HTTP server
	// and middleware, which an idle connection would otherwise keep for as
	// long as it is open. A fresh goroutine starts with a small stack.
	s.live.Add(1)
	go func() {
		defer s.live.Done()
		defer conn.CloseNow()
		defer s.Hub.Unregister(c)
		s.serveLive(ctx, conn, c)
	}()
	return nil
}

// serveLive sends the client's frames until the connection ends.
func (s *Server) serveLive(ctx context.Context, conn *websocket.Conn, c *realtime.Client) {
	err := s.Hub.Run(ctx, c, func(ctx context.Context, f realtime.Frame) error {
		b := f.Encoded
		if b == nil {
			var err error
			if b, err = json.Marshal(f); err != nil {
				return err
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, b)
	})
	switch {
	case errors.Is(err, realtime.ErrTooSlow):
		conn.Close(websocket.StatusTryAgainLater, "too slow; reconnect with resume")
	case errors.Is(err, realtime.ErrChatUnavailable):
		conn.Close(websocket.StatusTryAgainLater, "reconnect with resume")
	case errors.Is(err, realtime.ErrAccountRestricted):
		// A close code of its own, so that a client stops reconnecting: the
		// account's sessions were revoked with the restriction.
		conn.Close(websocket.StatusPolicyViolation, "this account was suspended or terminated")
	case err != nil && ctx.Err() == nil:
		s.Log.Debug("live connection ended", "err", err)
	default:
		conn.Close(websocket.StatusGoingAway, "server shutting down")
	}
}

// WaitLive waits until every live connection has ended; LiveContext must
// have been cancelled first.
func (s *Server) WaitLive() { s.live.Wait() }

// parseResume parses "CHAT:PTS,CHAT:PTS".
func parseResume(v string) (map[int64]int64, error) {
	out := map[int64]int64{}
	if v == "" {
		return out, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxResumeChats {
		return nil, parley.Errorf(parley.ETooLarge, "resume names more than %d chats", maxResumeChats)
	}
	for _, p := range parts {
		a, b, ok := strings.Cut(p, ":")
		chat, err1 := strconv.ParseInt(a, 10, 64)
		pts, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || chat <= 0 || pts < 0 {
			return nil, parley.FieldError("resume", "resume must be a list of CHAT:PTS pairs, such as 12:40,15:3")
		}
		out[chat] = pts
	}
	return out, nil
}
