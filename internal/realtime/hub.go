// Package realtime delivers chat updates to connected clients. Each server
// process holds its own connections and receives every event from the event
// stream once; the Hub fans each update out locally to the connections of the
// chat's members. A client that reconnects names the last pts it saw in each
// chat and receives exactly the updates it missed: the hub reads them from
// the store, and any gap in the live feed is filled from the store too, so
// delivery is in order, without gaps and without duplicates.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"parley"
)

// Store is what the hub needs from storage.
type Store interface {
	ListChatIDsForUser(ctx context.Context, userID int64) ([]int64, error)
	ListUpdates(ctx context.Context, chatID, afterPts int64, limit int) ([]*parley.Update, error)
	FindChatByID(ctx context.Context, id int64) (*parley.Chat, error)
}

// Hub tracks local connections by chat and by user.
type Hub struct {
	store Store
	log   *slog.Logger

	mu     sync.RWMutex
	byChat map[int64]map[*Client]struct{}
	byUser map[int64]map[*Client]struct{}

	connected atomic.Int64
	delivered atomic.Uint64
	dropped   atomic.Uint64 // clients cut off because they could not keep up
}

// NewHub returns an empty hub.
func NewHub(store Store, log *slog.Logger) *Hub {
	return &Hub{store: store, log: log, byChat: map[int64]map[*Client]struct{}{}, byUser: map[int64]map[*Client]struct{}{}}
}

// Connected returns the number of registered clients.
func (h *Hub) Connected() int64 { return h.connected.Load() }

// Delivered returns the number of updates queued to clients so far.
func (h *Hub) Delivered() uint64 { return h.delivered.Load() }

// Dropped returns the number of clients disconnected for falling behind.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Register adds a client for the chats it belongs to. Live updates queue
// from this moment, so nothing published after Register is missed; the
// client's own catch-up from the store covers what came before.
//
// The client is registered by user before its chats are read, and the
// membership events that arrive meanwhile are held and applied after the
// list, in order: whichever way a join or leave races the read, the client
// ends up following exactly the chats the user belongs to.
func (h *Hub) Register(ctx context.Context, c *Client) error {
	h.mu.Lock()
	users := h.byUser[c.UserID]
	if users == nil {
		users = map[*Client]struct{}{}
		h.byUser[c.UserID] = users
	}
	users[c] = struct{}{}
	c.registering = true
	h.connected.Add(1)
	h.mu.Unlock()

	ids, err := h.store.ListChatIDsForUser(ctx, c.UserID)
	var watch []int64
	if err == nil {
		watch, err = h.publicChatsToWatch(ctx, c, ids)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.unregisterLocked(c)
		return err
	}
	for _, id := range ids {
		h.addLocked(c, id)
	}
	for _, id := range watch {
		h.addLocked(c, id)
	}
	c.registering = false
	for _, ev := range c.held {
		h.applyMembershipLocked(c, ev.kind, ev.chatID)
	}
	c.held = nil
	return nil
}

// MaxWatchedChats bounds how many public chats one connection may follow
// without being a member (a reader looking at a channel before subscribing).
const MaxWatchedChats = 20

// publicChatsToWatch returns the chats the client named in its resume list
// that it is not a member of but may read because they are public: a
// reader of a channel page sees new posts live before subscribing.
func (h *Hub) publicChatsToWatch(ctx context.Context, c *Client, memberOf []int64) ([]int64, error) {
	member := make(map[int64]bool, len(memberOf))
	for _, id := range memberOf {
		member[id] = true
	}
	var watch []int64
	for id := range c.last {
		if member[id] || len(watch) >= MaxWatchedChats {
			continue
		}
		chat, err := h.store.FindChatByID(ctx, id)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if chat.Kind.Public() {
			watch = append(watch, id)
		}
	}
	return watch, nil
}

// Unregister removes a client.
func (h *Hub) Unregister(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unregisterLocked(c)
}

func (h *Hub) unregisterLocked(c *Client) {
	if _, ok := h.byUser[c.UserID][c]; !ok {
		return
	}
	delete(h.byUser[c.UserID], c)
	if len(h.byUser[c.UserID]) == 0 {
		delete(h.byUser, c.UserID)
	}
	for id := range c.chats {
		h.removeLocked(c, id)
	}
	h.connected.Add(-1)
}

func (h *Hub) addLocked(c *Client, chatID int64) {
	set := h.byChat[chatID]
	if set == nil {
		set = map[*Client]struct{}{}
		h.byChat[chatID] = set
	}
	set[c] = struct{}{}
	c.chats[chatID] = struct{}{}
}

func (h *Hub) removeLocked(c *Client, chatID int64) {
	delete(h.byChat[chatID], c)
	if len(h.byChat[chatID]) == 0 {
		delete(h.byChat, chatID)
	}
	delete(c.chats, chatID)
}

// HandleEvent takes one event from the stream and queues it to the local
// clients it concerns. Subjects are relative ("chat.42", "user.7"). It never
// blocks on a slow client: a client whose queue is full is disconnected and
// will resume from its last pts.
func (h *Hub) HandleEvent(subject, kind string, data []byte) {
	area, idText, ok := strings.Cut(subject, ".")
	if !ok {
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return
	}
	switch area {
	case "chat":
		var u parley.Update
		if err := json.Unmarshal(data, &u); err != nil {
			h.log.Warn("realtime: undecodable update", "subject", subject, "err", err)
			return
		}
		h.mu.RLock()
		if clients := h.byChat[id]; len(clients) > 0 {
			encoded, err := json.Marshal(Frame{Type: "update", Update: &u})
			if err != nil {
				h.mu.RUnlock()
				h.log.Warn("realtime: cannot encode update", "subject", subject, "err", err)
				return
			}
			for c := range clients {
				h.push(c, item{update: &u, encoded: encoded})
			}
		}
		h.mu.RUnlock()
	case "user":
		var ev parley.MembershipEvent
		if err := json.Unmarshal(data, &ev); err != nil || ev.UserID != id {
			return
		}
		h.mu.Lock()
		for c := range h.byUser[id] {
			if c.registering {
				c.held = append(c.held, membershipChange{kind: kind, chatID: ev.ChatID})
				continue
			}
			h.applyMembershipLocked(c, kind, ev.ChatID)
		}
		h.mu.Unlock()
	}
}

// applyMembershipLocked starts or stops following a chat for one client
// and tells the client.
func (h *Hub) applyMembershipLocked(c *Client, kind string, chatID int64) {
	switch kind {
	case parley.EventChatJoined:
		if _, in := c.chats[chatID]; !in {
			h.addLocked(c, chatID)
			h.push(c, item{joined: chatID})
		}
	case parley.EventChatLeft:
		if _, in := c.chats[chatID]; in {
			h.removeLocked(c, chatID)
			h.push(c, item{left: chatID})
		}
	}
}

func (h *Hub) push(c *Client, it item) {
	select {
	case c.queue <- it:
		h.delivered.Add(1)
	default:
		if c.overflow.CompareAndSwap(false, true) {
			h.dropped.Add(1)
			close(c.slow)
		}
	}
}
