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

// Reasons Run ends for, other than the connection's own.
var (
	// ErrTooSlow: the client fell behind.
	ErrTooSlow = errors.New("realtime: client fell behind; reconnect and resume")
	// ErrAccountRestricted: the account was suspended or terminated. Its
	// sessions were revoked with it, so reconnecting fails.
	ErrAccountRestricted = errors.New("realtime: the account was suspended or terminated")
	// ErrChatUnavailable: the hub could not read a chat the client joined.
	ErrChatUnavailable = errors.New("realtime: a joined chat could not be read; reconnect and resume")
)

// Frame types.
const (
	FrameUpdate = "update" // an update of a chat, as the viewer may see it
	FrameJoined = "joined" // the account joined a chat; its updates follow
	FrameLeft   = "left"   // the account left a chat; no more of its updates
	FrameReady  = "ready"  // the catch-up is over; live updates follow
	// FrameChat: a chat became hidden from the viewer (banned, or withheld
	// in the viewer's country; Notice says why, and no more of its updates
	// come), or was shown again (no Notice; the updates missed meanwhile
	// follow, then live ones).
	FrameChat = "chat"
)

// Frame is one message to a client.
type Frame struct {
	Type   string         `json:"type"`
	Update *parley.Update `json:"update,omitempty"`
	ChatID int64          `json:"chat_id,omitempty"`
	Notice *parley.Notice `json:"notice,omitempty"`
	// Encoded, when set, is the frame already encoded as JSON: a live update
	// is encoded once for all of a chat's subscribers who see it alike, not
	// once for each.
	Encoded []byte `json:"-"`
}

type membershipChange struct {
	kind   string
	chatID int64
	hold   hold // of the joined chat's entry, until Register applies the change
}

// item is one thing queued to a client; exactly one field of the first
// four is set.
type item struct {
	update    *parley.Update // as the client's viewer may see it
	joined    int64
	left      int64
	moderated *parley.Chat // the chat with its new moderation
	encoded   []byte       // the update's frame, encoded once for every client that sees it alike
	chat      *parley.Chat // with joined: the chat as the hub knew it then
}

// Client is one live connection of one user.
type Client struct {
	// Viewer is who is connected, and from where: fixed at connect, it
	// decides how each update is shown.
	Viewer parley.Viewer

	chats map[int64]struct{} // guarded by the hub's lock
	// registering and held are guarded by the hub's lock: membership events
	// that arrive while Register reads the user's chats wait in held.
	registering bool
	held        []membershipChange
	queue       chan item

	// done is closed, once, when the hub ends the client; endErr says why.
	done   chan struct{}
	ended  atomic.Bool
	endErr error

	// last is the newest pts delivered per chat; only Run touches it. A chat
	// absent from last takes whatever comes next as its starting point.
	last map[int64]int64
	// view is each followed chat as the client last heard of it: set by
	// Register, then only by Run, from the items in the queue, so that it
	// changes exactly between the updates it came between.
	view map[int64]*parley.Chat
}

// NewClient makes a client for viewer v that resumes from the given pts per
// chat (the last pts the client saw; chats not named start live).
func NewClient(v parley.Viewer, resume map[int64]int64) *Client {
	last := make(map[int64]int64, len(resume))
	for k, pts := range resume {
		last[k] = pts
	}
	return &Client{Viewer: v, chats: map[int64]struct{}{}, queue: make(chan item, QueueSize),
		done: make(chan struct{}), last: last, view: map[int64]*parley.Chat{}}
}

// end stops the client for err, once, and reports whether this call did.
func (c *Client) end(err error) bool {
	if !c.ended.CompareAndSwap(false, true) {
		return false
	}
	c.endErr = err
	close(c.done)
	return true
}

// endReason returns why the hub ended the client, or nil while it runs.
func (c *Client) endReason() error {
	select {
	case <-c.done:
		return c.endErr
	default:
		return nil
	}
}

// notice returns what the client's viewer is told instead of the chat's
// messages, or nil when the viewer may read the chat.
func (c *Client) notice(chatID int64) *parley.Notice {
	chat := c.view[chatID]
	if chat == nil || !chat.Hidden(c.Viewer) {
		return nil
	}
	return parley.ViewChat(chat, c.Viewer).Notice
}

// Run catches the client up from the store, then sends live updates until
// ctx ends, the send fails or the hub ends the client. The client must be
// registered with the hub before Run, so no update slips between catch-up
// and live delivery. send writes one frame to the connection.
func (h *Hub) Run(ctx context.Context, c *Client, send func(context.Context, Frame) error) error {
	h.mu.RLock()
	for chatID := range c.last {
		_, member := c.chats[chatID]
		_, known := c.view[chatID]
		if !member || !known {
			// Not a member (any more), nothing to resume; or joined since
			// Register, which its "joined" item will tell, live from then.
			delete(c.last, chatID)
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
		if notice := c.notice(chatID); notice != nil {
			// Hidden: the notice instead of the catch-up, which comes if
			// the chat is restored while the client is connected.
			if err := send(ctx, Frame{Type: FrameChat, ChatID: chatID, Notice: notice}); err != nil {
				return err
			}
			continue
		}
		if err := h.catchUp(ctx, c, chatID, pts, -1, send); err != nil {
			return err
		}
	}
	if err := c.endReason(); err != nil {
		return err
	}
	if err := send(ctx, Frame{Type: FrameReady}); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.endErr
		case it := <-c.queue:
			var err error
			switch {
			case it.update != nil:
				err = h.deliver(ctx, c, it.update, it.encoded, send)
			case it.joined != 0:
				c.view[it.joined] = it.chat
				err = send(ctx, Frame{Type: FrameJoined, ChatID: it.joined})
				if notice := c.notice(it.joined); err == nil && notice != nil {
					err = send(ctx, Frame{Type: FrameChat, ChatID: it.joined, Notice: notice})
				}
			case it.left != 0:
				delete(c.last, it.left)
				delete(c.view, it.left)
				err = send(ctx, Frame{Type: FrameLeft, ChatID: it.left})
			case it.moderated != nil:
				err = h.chatChanged(ctx, c, it.moderated, send)
			}
			if err != nil {
				return err
			}
		}
	}
}

// chatChanged applies a chat's new moderation to the client: if the chat
// is now hidden from the viewer, or hidden for another reason, the viewer
// is told why; if it is shown again, the viewer is told so and gets the
// updates it missed meanwhile, from the store.
func (h *Hub) chatChanged(ctx context.Context, c *Client, chat *parley.Chat, send func(context.Context, Frame) error) error {
	before := c.notice(chat.ID)
	c.view[chat.ID] = chat
	after := c.notice(chat.ID)
	switch {
	case after != nil && (before == nil || *before != *after):
		return send(ctx, Frame{Type: FrameChat, ChatID: chat.ID, Notice: after})
	case after == nil && before != nil:
		if err := send(ctx, Frame{Type: FrameChat, ChatID: chat.ID}); err != nil {
			return err
		}
		if last, known := c.last[chat.ID]; known {
			return h.catchUp(ctx, c, chat.ID, last, -1, send)
		}
	}
	return nil
}

// deliver sends u unless the client has it already or may not read the
// chat; if updates are missing between the last one sent and u, they are
// read from the store first.
func (h *Hub) deliver(ctx context.Context, c *Client, u *parley.Update, encoded []byte, send func(context.Context, Frame) error) error {
	if c.notice(u.ChatID) != nil {
		// Hidden: the hub queues no updates of it, but one queued before
		// the change may still be here. Its pts is not marked as sent, so
		// the catch-up after a restore sends it.
		return nil
	}
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
	return send(ctx, Frame{Type: FrameUpdate, Update: u, Encoded: encoded})
}

// catchUp sends the chat's updates after pts from the store, up to and
// including until (all when until < 0), each as the viewer may see it. The
// store lays each message's current moderation over its older snapshots,
// so a message removed since is sent without its content.
func (h *Hub) catchUp(ctx context.Context, c *Client, chatID, pts, until int64, send func(context.Context, Frame) error) error {
	var chatMod *parley.Moderation
	if chat := c.view[chatID]; chat != nil {
		chatMod = chat.Moderation
	}
	for {
		if err := c.endReason(); err != nil {
			return err
		}
		ups, err := h.store.ListUpdates(ctx, chatID, pts, parley.MaxPageSize)
		if err != nil {
			return err
		}
		for _, u := range ups {
			if until >= 0 && u.Pts > until {
				return nil
			}
			if err := send(ctx, Frame{Type: FrameUpdate, Update: render(u, chatMod, c.Viewer)}); err != nil {
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
