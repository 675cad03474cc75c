// Package realtime delivers chat updates to connected clients. Each server
// process holds its own connections and receives every event from the event
// stream once; the Hub fans each update out locally to the connections of the
// chat's members. A client that reconnects names the last pts it saw in each
// chat and receives exactly the updates it missed: the hub reads them from
// the store, and any gap in the live feed is filled from the store too, so
// delivery is in order, without gaps and without duplicates.
//
// Every update is shown to each connection as its viewer may see it
// (parley.ViewMessage): a message withheld in one country reaches viewers
// there as a notice. The hub keeps the moderation of the chats it has
// connections for, so that a chat banned or withheld in a viewer's country
// stops streaming to that viewer, and starts again, without a gap, when it
// is restored. An account that is suspended or terminated loses its live
// connections on every process.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley"
)

// Store is what the hub needs from storage.
type Store interface {
	ListChatIDsForUser(ctx context.Context, userID int64) ([]int64, error)
	ListUpdates(ctx context.Context, chatID, afterPts int64, limit int) ([]*parley.Update, error)
	FindChatByID(ctx context.Context, id int64) (*parley.Chat, error)
}

// Hub tracks local connections by chat and by user, and what it must know
// of each chat they follow to show its updates to each viewer.
type Hub struct {
	store Store
	log   *slog.Logger

	mu     sync.RWMutex
	byChat map[int64]map[*Client]struct{}
	byUser map[int64]map[*Client]struct{}
	chats  map[int64]*chatEntry
	// restricted holds the accounts suspended or terminated in the last
	// restrictedMemory, with when the hub heard of it (see Register).
	restricted map[int64]time.Time

	connected atomic.Int64
	delivered atomic.Uint64
	dropped   atomic.Uint64 // clients cut off because they could not keep up
	encoded   atomic.Uint64 // update frames encoded for fan-out
}

// chatEntry is what the hub knows of a chat that local clients follow, or
// are about to follow.
type chatEntry struct {
	// chat holds the chat's id, kind, owner and current moderation (what
	// ViewChat and ViewMessage need); nil while it is being read. It is
	// never changed in place, only replaced, so that queued items can carry
	// the chat as it was when they were queued.
	chat *parley.Chat
	// loaded is closed when the read has ended, with err set if it failed.
	loaded chan struct{}
	err    error
	// pending is the moderation named by a chat.moderated event that
	// arrived during the read. The event's commit may come after what the
	// read saw, so it wins over the read.
	pending    *parley.Moderation
	pendingSet bool
	// holds counts those that need the entry kept although no client may
	// follow the chat yet: a read in progress, a Register about to add its
	// client, a join held for a client that is registering.
	holds int
}

// hold is one claim on a chat entry; releaseLocked gives it back.
type hold struct {
	chatID int64
	entry  *chatEntry
}

// restrictedMemory is how long the hub refuses to register a connection of
// an account it heard was restricted. A connection authenticated just
// before the sessions were revoked may register just after the event, when
// closing connections is over; the window between authenticating and
// registering is short, and restored accounts are let in at once.
const restrictedMemory = time.Minute

// loadTimeout bounds the read of a chat that the stream's goroutine makes
// when a user with local connections joins a chat the hub does not know.
const loadTimeout = 5 * time.Second

// NewHub returns an empty hub.
func NewHub(store Store, log *slog.Logger) *Hub {
	return &Hub{store: store, log: log,
		byChat: map[int64]map[*Client]struct{}{}, byUser: map[int64]map[*Client]struct{}{},
		chats: map[int64]*chatEntry{}, restricted: map[int64]time.Time{}}
}

// Connected returns the number of registered clients.
func (h *Hub) Connected() int64 { return h.connected.Load() }

// Delivered returns the number of updates queued to clients so far.
func (h *Hub) Delivered() uint64 { return h.delivered.Load() }

// Dropped returns the number of clients disconnected for falling behind.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Encoded returns the number of update frames encoded for live fan-out:
// one per update when every viewer sees it alike, one per distinct
// rendering otherwise.
func (h *Hub) Encoded() uint64 { return h.encoded.Load() }

// Register adds a client for the chats it belongs to. Live updates queue
// from this moment, so nothing published after Register is missed; the
// client's own catch-up from the store covers what came before.
//
// The client is registered by user before its chats are read, and the
// membership events that arrive meanwhile are held and applied after the
// list, in order: whichever way a join or leave races the read, the client
// ends up following exactly the chats the user belongs to. The moderation
// of chats the hub does not know yet is read before the client follows
// them, so every update it is sent is shown as its viewer may see it.
func (h *Hub) Register(ctx context.Context, c *Client) error {
	userID := c.Viewer.UserID
	h.mu.Lock()
	if at, ok := h.restricted[userID]; ok && time.Since(at) < restrictedMemory {
		h.mu.Unlock()
		return ErrAccountRestricted
	}
	users := h.byUser[userID]
	if users == nil {
		users = map[*Client]struct{}{}
		h.byUser[userID] = users
	}
	users[c] = struct{}{}
	c.registering = true
	h.connected.Add(1)
	h.mu.Unlock()

	ids, err := h.store.ListChatIDsForUser(ctx, userID)
	var holds []hold
	if err == nil {
		holds, err = h.acquire(ctx, ids)
	}
	if err == nil {
		var watch []hold
		if watch, err = h.publicChatsToWatch(ctx, c, ids); err == nil {
			holds = append(holds, watch...)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.releaseLocked(holds)
		h.unregisterLocked(c)
		return err
	}
	for _, hd := range holds {
		h.addLocked(c, hd.chatID)
	}
	h.releaseLocked(holds)
	c.registering = false
	for _, ch := range c.held {
		h.applyMembershipLocked(c, ch.kind, ch.chatID)
		if ch.hold.entry != nil {
			h.releaseLocked([]hold{ch.hold})
		}
	}
	c.held = nil
	// What the client starts from, before Run reads its queue: each chat as
	// the hub knows it now. Every later change reaches the client as an
	// item in its queue, after the updates that came before it.
	for id := range c.chats {
		c.view[id] = h.chats[id].chat
	}
	return nil
}

// MaxWatchedChats bounds how many public chats one connection may follow
// without being a member (a reader looking at a channel before subscribing).
const MaxWatchedChats = 20

// publicChatsToWatch returns holds on the chats the client named in its
// resume list that it is not a member of but may read because they are
// public: a reader of a channel page sees new posts live before
// subscribing. Whether a chat is public is learnt from the hub's entry
// (acquire), so a chat the hub knows is not read again, and one it does
// not know is read once, for this and for following it.
func (h *Hub) publicChatsToWatch(ctx context.Context, c *Client, memberOf []int64) ([]hold, error) {
	member := make(map[int64]bool, len(memberOf))
	for _, id := range memberOf {
		member[id] = true
	}
	var watch []hold
	for id := range c.last {
		if member[id] || len(watch) >= MaxWatchedChats {
			continue
		}
		hds, err := h.acquire(ctx, []int64{id})
		if parley.ErrorCode(err) == parley.ENotFound {
			continue
		}
		h.mu.Lock()
		switch {
		case err != nil:
			h.releaseLocked(watch)
		case hds[0].entry.chat.Kind.Public():
			watch = append(watch, hds[0])
		default:
			h.releaseLocked(hds)
		}
		h.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return watch, nil
}

// acquire makes sure the hub knows each chat, reading from the store those
// it does not know, and holds each entry until releaseLocked. Concurrent
// callers share one read of a chat: when a thousand clients of a channel
// reconnect at once, the channel is read once.
func (h *Hub) acquire(ctx context.Context, ids []int64) ([]hold, error) {
	holds := make([]hold, 0, len(ids))
	var mine, others []hold
	h.mu.Lock()
	for _, id := range ids {
		e := h.chats[id]
		if e == nil {
			e = &chatEntry{loaded: make(chan struct{})}
			h.chats[id] = e
			mine = append(mine, hold{id, e})
		} else if e.chat == nil {
			others = append(others, hold{id, e})
		}
		e.holds++
		holds = append(holds, hold{id, e})
	}
	h.mu.Unlock()

	var firstErr error
	for _, hd := range mine {
		chat, err := h.store.FindChatByID(ctx, hd.chatID)
		h.mu.Lock()
		if err != nil {
			hd.entry.err = err
			if h.chats[hd.chatID] == hd.entry {
				delete(h.chats, hd.chatID) // the next caller reads it again
			}
		} else {
			known := &parley.Chat{ID: chat.ID, Kind: chat.Kind, OwnerID: chat.OwnerID, Moderation: chat.Moderation}
			if hd.entry.pendingSet {
				known.Moderation = hd.entry.pending
			}
			hd.entry.chat, hd.entry.pending = known, nil
		}
		close(hd.entry.loaded)
		h.mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for _, hd := range others {
		select {
		case <-hd.entry.loaded:
			if hd.entry.err != nil && firstErr == nil {
				firstErr = hd.entry.err
			}
		case <-ctx.Done():
			if firstErr == nil {
				firstErr = ctx.Err()
			}
		}
	}
	if firstErr != nil {
		h.mu.Lock()
		h.releaseLocked(holds)
		h.mu.Unlock()
		return nil, firstErr
	}
	return holds, nil
}

// releaseLocked gives back holds, forgetting chats no one needs any more.
func (h *Hub) releaseLocked(holds []hold) {
	for _, hd := range holds {
		hd.entry.holds--
		if h.chats[hd.chatID] == hd.entry && hd.entry.holds == 0 && len(h.byChat[hd.chatID]) == 0 {
			delete(h.chats, hd.chatID)
		}
	}
}

// Unregister removes a client.
func (h *Hub) Unregister(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unregisterLocked(c)
}

func (h *Hub) unregisterLocked(c *Client) {
	userID := c.Viewer.UserID
	if _, ok := h.byUser[userID][c]; !ok {
		return
	}
	delete(h.byUser[userID], c)
	if len(h.byUser[userID]) == 0 {
		delete(h.byUser, userID)
	}
	for id := range c.chats {
		h.removeLocked(c, id)
	}
	for _, ch := range c.held {
		if ch.hold.entry != nil {
			h.releaseLocked([]hold{ch.hold})
		}
	}
	c.held = nil
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
		if e := h.chats[chatID]; e != nil && e.holds == 0 {
			delete(h.chats, chatID)
		}
	}
	delete(c.chats, chatID)
}

// HandleEvent takes one event from the stream and queues it to the local
// clients it concerns. Subjects are relative ("chat.42", "user.7"). The
// stream calls it from one goroutine, in order. It never blocks on a slow
// client: a client whose queue is full is disconnected and will resume
// from its last pts.
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
		if kind == parley.EventChatModerated {
			h.chatModerated(id, data)
		} else {
			h.fanOut(id, data)
		}
	case "user":
		switch kind {
		case parley.EventChatJoined, parley.EventChatLeft:
			var ev parley.MembershipEvent
			if err := json.Unmarshal(data, &ev); err != nil || ev.UserID != id {
				return
			}
			h.membershipChanged(kind, ev)
		case parley.EventAccountRestricted:
			var ev parley.AccountEvent
			if err := json.Unmarshal(data, &ev); err != nil || ev.UserID != id {
				h.log.Warn("realtime: undecodable account event", "subject", subject, "err", err)
				return
			}
			h.accountRestricted(ev)
		}
	}
}

// renderKey names one way of showing an update to a viewer the chat is not
// hidden from: whether the viewer sent the message (which matters only
// when the message itself is moderated), and whether the message is
// withheld from the viewer, with the viewer's country then ("" when
// unknown, for a withholding that covers it): the notice names it, and
// viewers from whom it is not withheld all see the same.
type renderKey struct {
	own      bool
	withheld bool
	country  string
}

type rendering struct {
	update  *parley.Update
	encoded []byte
}

// fanOut queues one update to the chat's local clients, each as its viewer
// may see it. An update that no moderation touches looks the same to
// everyone and is encoded once; otherwise it is encoded once per distinct
// rendering, so ten thousand viewers in three countries cost a handful of
// encodings, not ten thousand.
func (h *Hub) fanOut(chatID int64, data []byte) {
	var u parley.Update
	if err := json.Unmarshal(data, &u); err != nil || u.Pts <= 0 || u.ChatID != chatID {
		h.log.Warn("realtime: undecodable update", "chat", chatID, "err", err)
		return
	}
	h.HandleUpdate(&u)
}

// HandleUpdate fans out one chat update that the caller has decoded from
// the stream already (the server decodes each update once for all that
// read it). u must not be changed afterwards.
func (h *Hub) HandleUpdate(u *parley.Update) {
	if u.Pts <= 0 {
		return
	}
	chatID := u.ChatID
	h.mu.RLock()
	defer h.mu.RUnlock()
	clients := h.byChat[chatID]
	if len(clients) == 0 {
		return
	}
	chat := h.chats[chatID].chat // known: clients follow only chats the hub has read
	if u.Message.Moderation.IsZero() && chat.Moderation.IsZero() {
		encoded, err := h.encode(u)
		if err != nil {
			return
		}
		for c := range clients {
			h.push(c, item{update: u, encoded: encoded})
		}
		return
	}
	msgMod := u.Message.Moderation
	moderated := !msgMod.IsZero()
	renderings := make(map[renderKey]rendering, 4)
	for c := range clients {
		if chat.Hidden(c.Viewer) {
			continue // the client was sent the chat's notice instead
		}
		var key renderKey
		if moderated {
			key.own = c.Viewer.UserID != 0 && c.Viewer.UserID == u.Message.SenderID
			if msgMod.WithheldIn(c.Viewer.Country) != nil {
				key.withheld, key.country = true, c.Viewer.Country
			}
		}
		r, ok := renderings[key]
		if !ok {
			r.update = render(u, chat.Moderation, c.Viewer)
			var err error
			if r.encoded, err = h.encode(r.update); err != nil {
				return
			}
			renderings[key] = r
		}
		h.push(c, item{update: r.update, encoded: r.encoded})
	}
}

// render returns u as viewer v may see it in a chat of moderation chatMod.
func render(u *parley.Update, chatMod *parley.Moderation, v parley.Viewer) *parley.Update {
	r := *u
	r.Message = *parley.ViewMessage(&u.Message, chatMod, v)
	return &r
}

func (h *Hub) encode(u *parley.Update) ([]byte, error) {
	b, err := json.Marshal(Frame{Type: FrameUpdate, Update: u})
	if err != nil {
		h.log.Warn("realtime: cannot encode update", "chat", u.ChatID, "pts", u.Pts, "err", err)
		return nil, err
	}
	h.encoded.Add(1)
	return b, nil
}

// chatModerated records a chat's new moderation and tells its local
// clients, each of which works out whether the chat is now hidden from its
// viewer or shown again.
func (h *Hub) chatModerated(chatID int64, data []byte) {
	var ev parley.ChatModeratedEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.ChatID != chatID {
		h.log.Warn("realtime: undecodable chat moderation", "chat", chatID, "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.chats[chatID]
	switch {
	case e == nil:
		return // no local client follows the chat
	case e.chat == nil:
		e.pending, e.pendingSet = ev.Moderation, true // no client follows it until the read ends
		return
	}
	next := *e.chat
	next.Moderation = ev.Moderation
	e.chat = &next
	for c := range h.byChat[chatID] {
		h.push(c, item{moderated: &next})
	}
}

// membershipChanged starts or stops following a chat for the user's local
// clients. A chat the hub does not know is read first, on the stream's
// goroutine: no other event can be handled meanwhile, so none is missed.
func (h *Hub) membershipChanged(kind string, ev parley.MembershipEvent) {
	h.mu.RLock()
	local := len(h.byUser[ev.UserID]) > 0
	h.mu.RUnlock()
	if !local {
		return
	}
	var holds []hold
	if kind == parley.EventChatJoined {
		ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
		var err error
		holds, err = h.acquire(ctx, []int64{ev.ChatID})
		cancel()
		if err != nil {
			// The clients cannot be shown the chat as they may see it; they
			// reconnect, and reading their chats then tries again.
			h.log.Warn("realtime: cannot read a joined chat; disconnecting its member", "chat", ev.ChatID, "user", ev.UserID, "err", err)
			h.mu.Lock()
			for c := range h.byUser[ev.UserID] {
				c.end(ErrChatUnavailable)
			}
			h.mu.Unlock()
			return
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byUser[ev.UserID] {
		if c.registering {
			change := membershipChange{kind: kind, chatID: ev.ChatID}
			if len(holds) > 0 {
				change.hold = holds[0]
				change.hold.entry.holds++ // released when Register applies it
			}
			c.held = append(c.held, change)
			continue
		}
		h.applyMembershipLocked(c, kind, ev.ChatID)
	}
	h.releaseLocked(holds)
}

// applyMembershipLocked starts or stops following a chat for one client
// and tells the client. The hub knows a chat that is joined (see
// membershipChanged).
func (h *Hub) applyMembershipLocked(c *Client, kind string, chatID int64) {
	switch kind {
	case parley.EventChatJoined:
		if _, in := c.chats[chatID]; !in {
			h.addLocked(c, chatID)
			h.push(c, item{joined: chatID, chat: h.chats[chatID].chat})
		}
	case parley.EventChatLeft:
		if _, in := c.chats[chatID]; in {
			h.removeLocked(c, chatID)
			h.push(c, item{left: chatID})
		}
	}
}

// accountRestricted closes the live connections of an account that was
// suspended or terminated. Its sessions were revoked in the same
// transaction, so the clients' reconnects fail to authenticate.
func (h *Hub) accountRestricted(ev parley.AccountEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Status == parley.AccountActive {
		delete(h.restricted, ev.UserID)
		return
	}
	now := time.Now()
	for id, at := range h.restricted {
		if now.Sub(at) >= restrictedMemory {
			delete(h.restricted, id)
		}
	}
	h.restricted[ev.UserID] = now
	for c := range h.byUser[ev.UserID] {
		c.end(ErrAccountRestricted)
	}
}

func (h *Hub) push(c *Client, it item) {
	select {
	case c.queue <- it:
		h.delivered.Add(1)
	default:
		if c.end(ErrTooSlow) {
			h.dropped.Add(1)
		}
	}
}
