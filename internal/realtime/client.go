package realtime

import (
	"context"
	"errors"
	"sync/atomic"

	"parley"
)

// QueueSize is how many updates may wait for one client before it is
// considered too slow and disconnected (it then resumes from its last pts).
const QueueSize = 32

// ErrTooSlow is returned by Run when the client fell behind.
var ErrTooSlow = errors.New("realtime: client fell behind; reconnect and resume")

// Frame is one message to a client.
type Frame struct {
	Type   string         `json:"type"` // "update", "joined", "left" or "ready"
	Update *parley.Update `json:"update,omitempty"`
	ChatID int64          `json:"chat_id,omitempty"`
	// Encoded, when set, is the frame already encoded as JSON: a live update
	// is encoded once for all of a chat's subscribers, not once for each.
	Encoded []byte `json:"-"`
}

type membershipChange struct {
	kind   string
	chatID int64
}

type item struct {
	update  *parley.Update
	encoded []byte // the update's frame, encoded once for every client
	joined  int64
	left    int64
}

// Client is one live connection of one user.
type Client struct {
	UserID int64

	chats map[int64]struct{} // guarded by the hub's lock
	// registering and held are guarded by the hub's lock: membership events
	// that arrive while Register reads the user's chats wait in held.
	registering bool
	held        []membershipChange
	queue       chan item
	slow        chan struct{}
	overflow    atomic.Bool

	// last is the newest pts delivered per chat; only Run touches it. A chat
	// absent from last takes whatever comes next as its starting point.
	last map[int64]int64
}

// NewClient makes a client for userID that resumes from the given pts per
// chat (the last pts the client saw; chats not named start live).
func NewClient(userID int64, resume map[int64]int64) *Client {
	last := make(map[int64]int64, len(resume))
	for k, v := range resume {
		last[k] = v
	}
	return &Client{UserID: userID, chats: map[int64]struct{}{}, queue: make(chan item, QueueSize), slow: make(chan struct{}), last: last}
}

// Run catches the client up from the store, then sends live updates until
// ctx ends, the send fails or the client falls behind. The client must be
// registered with the hub before Run, so no update slips between catch-up
// and live delivery. send writes one frame to the connection.
func (h *Hub) Run(ctx context.Context, c *Client, send func(context.Context, Frame) error) error {
	h.mu.RLock()
	for chatID := range c.last {
		if _, member := c.chats[chatID]; !member {
			delete(c.last, chatID) // not a member (any more): nothing to resume
		}
	}
	h.mu.RUnlock()
	for chatID, pts := range c.last {
		// A client that claims more than the chat has (a restored database,
		// a confused client) would otherwise ignore every update until the
		// chat caught up with its claim: start it from the chat's real pts.
		chat, err := h.store.FindChatByID(ctx, chatID)
		if err != nil {
			return err
		}
		if pts > chat.Pts {
			pts = chat.Pts
			c.last[chatID] = pts
		}
		if err := h.catchUp(ctx, c, chatID, pts, -1, send); err != nil {
			return err
		}
	}
	if err := send(ctx, Frame{Type: "ready"}); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.slow:
			return ErrTooSlow
		case it := <-c.queue:
			var err error
			switch {
			case it.update != nil:
				err = h.deliver(ctx, c, it.update, it.encoded, send)
			case it.joined != 0:
				err = send(ctx, Frame{Type: "joined", ChatID: it.joined})
			case it.left != 0:
				delete(c.last, it.left)
				err = send(ctx, Frame{Type: "left", ChatID: it.left})
			}
			if err != nil {
				return err
			}
		}
	}
}

// deliver sends u unless the client has it already; if updates are missing
// between the last one sent and u, they are read from the store first.
func (h *Hub) deliver(ctx context.Context, c *Client, u *parley.Update, encoded []byte, send func(context.Context, Frame) error) error {
	last, known := c.last[u.ChatID]
	if known && u.Pts <= last {
		return nil // a duplicate, or already sent during catch-up
	}
	if known && u.Pts > last+1 {
		if err := h.catchUp(ctx, c, u.ChatID, last, u.Pts-1, send); err != nil {
			return err
		}
	}
	c.last[u.ChatID] = u.Pts
	return send(ctx, Frame{Type: "update", Update: u, Encoded: encoded})
}

// catchUp sends the chat's updates after pts from the store, up to and
// including until (all when until < 0).
func (h *Hub) catchUp(ctx context.Context, c *Client, chatID, pts, until int64, send func(context.Context, Frame) error) error {
	for {
		ups, err := h.store.ListUpdates(ctx, chatID, pts, parley.MaxPageSize)
		if err != nil {
			return err
		}
		for _, u := range ups {
			if until >= 0 && u.Pts > until {
				return nil
			}
			if err := send(ctx, Frame{Type: "update", Update: u}); err != nil {
				return err
			}
			pts = u.Pts
			c.last[chatID] = pts
		}
		if len(ups) < parley.MaxPageSize {
			return nil
		}
	}
}
