package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"parley"
	"parley/internal/app"
	"parley/internal/realtime"
)

// live is a client's WebSocket connection to /api/v1/live.
type live struct {
	conn *websocket.Conn
	// owner is the account connected.
	owner *client
	// last is the newest pts seen per chat, as a client remembers it.
	last map[int64]int64
}

// connect opens the live socket with the bearer token in the
// Authorization header, resuming from resume ("" for none). header adds
// request headers, in pairs.
func (c *client) connect(t *testing.T, resume string, header ...string) *live {
	t.Helper()
	u := strings.Replace(c.s.url, "http://", "ws://", 1) + "/api/v1/live"
	if resume != "" {
		u += "?resume=" + resume
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{"Authorization": {"Bearer " + c.token}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	conn.SetReadLimit(1 << 20)
	l := &live{conn: conn, owner: c, last: map[int64]int64{}}
	t.Cleanup(func() { conn.CloseNow() })
	return l
}

// next reads one frame, failing after timeout.
func (l *live) next(t *testing.T, timeout time.Duration) realtime.Frame {
	t.Helper()
	f, err := l.read(timeout)
	if err != nil {
		t.Fatalf("reading a live frame: %v", err)
	}
	return f
}

func (l *live) read(timeout time.Duration) (realtime.Frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, data, err := l.conn.Read(ctx)
	if err != nil {
		return realtime.Frame{}, err
	}
	if typ != websocket.MessageText {
		return realtime.Frame{}, fmt.Errorf("binary frame")
	}
	var f realtime.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return realtime.Frame{}, fmt.Errorf("frame %s: %v", data, err)
	}
	if f.Type == "update" && f.Update != nil && f.Update.Pts > l.last[f.Update.ChatID] {
		l.last[f.Update.ChatID] = f.Update.Pts
	}
	return f, nil
}

// expect reads a frame and checks its type (and chat, when not zero).
func (l *live) expect(t *testing.T, typ string, chatID int64) realtime.Frame {
	t.Helper()
	f := l.next(t, 2*time.Second)
	if f.Type != typ {
		t.Fatalf("got a %s frame %s; want %s", f.Type, frameText(f), typ)
	}
	if chatID != 0 && f.Update != nil && f.Update.ChatID != chatID || chatID != 0 && f.Update == nil && f.ChatID != chatID {
		t.Fatalf("got %s %s; want chat %d", f.Type, frameText(f), chatID)
	}
	return f
}

// expectUpdate reads an update frame and checks its kind and text.
func (l *live) expectUpdate(t *testing.T, chatID int64, kind, text string) *parley.Update {
	t.Helper()
	f := l.expect(t, "update", chatID)
	if f.Update.Kind != kind || f.Update.Message.Text != text {
		t.Fatalf("got %s; want %s %q", frameText(f), kind, text)
	}
	return f.Update
}

// quiet checks that no frame is on its way to the socket, without waiting
// for one that might come late: the account creates a group, an end marker
// whose "joined" frame takes the same path as every event (outbox, relay,
// stream, hub) behind the events of everything done before, and any frame
// that comes before it fails the test.
func (l *live) quiet(t *testing.T) {
	t.Helper()
	marker := l.owner.group(t, "end marker")
	if f := l.next(t, 5*time.Second); f.Type != "joined" || f.ChatID != marker.ID {
		t.Fatalf("unexpected frame %s before the end marker (joined chat %d)", frameText(f), marker.ID)
	}
}

func frameText(f realtime.Frame) string {
	if f.Update == nil {
		return fmt.Sprintf("{%s chat %d}", f.Type, f.ChatID)
	}
	return fmt.Sprintf("{chat %d pts %d %s %q}", f.Update.ChatID, f.Update.Pts, f.Update.Kind, f.Update.Message.Text)
}

func TestLiveDelivery(t *testing.T) {
	s := start(t)
	a, b := s.signUp(t, "alice"), s.signUp(t, "bob")
	ch := b.channel(t, "bobs_channel", "Bob's channel")
	a.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)

	l := a.connect(t, "")
	l.expect(t, "ready", 0)
	m := b.post(t, ch.ID, "fresh bread at noon")
	u := l.expectUpdate(t, ch.ID, parley.UpdateMessageNew, "fresh bread at noon")
	if u.Message.Seq != m.Seq || u.Message.SenderName != "bob" || u.Pts != 1 {
		t.Fatalf("update = %+v", u)
	}

	b.mustJSON(t, "PATCH", fmt.Sprintf("/api/v1/chats/%d/messages/%d", ch.ID, m.Seq), map[string]string{"text": "fresh bread at one"}, http.StatusOK, nil)
	u = l.expectUpdate(t, ch.ID, parley.UpdateMessageEdited, "fresh bread at one")
	if u.Message.EditedAt == nil || u.Pts != 2 {
		t.Fatalf("edit update = %+v", u)
	}
	b.mustJSON(t, "DELETE", fmt.Sprintf("/api/v1/chats/%d/messages/%d", ch.ID, m.Seq), nil, http.StatusNoContent, nil)
	u = l.expectUpdate(t, ch.ID, parley.UpdateMessageDeleted, "")
	if u.Message.Seq != m.Seq || u.Message.DeletedAt == nil || u.Pts != 3 {
		t.Fatalf("delete update = %+v", u)
	}

	// Someone else's chats are not streamed to alice.
	other := b.group(t, "Bob alone")
	b.post(t, other.ID, "private thoughts")
	l.quiet(t)
}

func TestLiveRefusesWithoutSignIn(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := strings.Replace(s.url, "http://", "ws://", 1) + "/api/v1/live"
	_, resp, err := websocket.Dial(ctx, u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial without a token = %v (response %v); want 401", err, resp)
	}
	_, resp, err = websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer forged"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial with a forged token = %v; want 401", err)
	}
}

// TestLiveResume disconnects a client, lets others change two chats while
// it is away, and checks that on reconnecting it gets exactly what it
// missed, in order, then "ready", then live updates.
func TestLiveResume(t *testing.T) {
	s := start(t)
	a, b, c := s.signUp(t, "alice"), s.signUp(t, "bob"), s.signUp(t, "carol")
	g := b.group(t, "Resumers")
	b.invite(t, g.ID, a, c)
	ch := c.channel(t, "carols_news", "Carol's news")
	a.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)

	l := a.connect(t, "")
	l.expect(t, "ready", 0)
	for i := range 3 {
		b.post(t, g.ID, fmt.Sprint("seen ", i))
		l.expectUpdate(t, g.ID, parley.UpdateMessageNew, fmt.Sprint("seen ", i))
	}
	c.post(t, ch.ID, "seen news")
	l.expectUpdate(t, ch.ID, parley.UpdateMessageNew, "seen news")
	last := l.last
	l.conn.Close(websocket.StatusNormalClosure, "going offline")

	// While alice is away: ten posts by two people and an edit in the
	// group, two posts in the channel.
	var missed []string
	for i := range 10 {
		poster := b
		if i%2 == 1 {
			poster = c
		}
		poster.post(t, g.ID, fmt.Sprint("missed ", i))
		missed = append(missed, fmt.Sprint("missed ", i))
	}
	b.mustJSON(t, "PATCH", fmt.Sprintf("/api/v1/chats/%d/messages/%d", g.ID, 2), map[string]string{"text": "seen 1, edited"}, http.StatusOK, nil)
	missed = append(missed, "seen 1, edited")
	c.post(t, ch.ID, "missed news 1")
	c.post(t, ch.ID, "missed news 2")

	l2 := a.connect(t, fmt.Sprintf("%d:%d,%d:%d", g.ID, last[g.ID], ch.ID, last[ch.ID]))
	got := map[int64][]*parley.Update{}
	for {
		f := l2.next(t, 2*time.Second)
		if f.Type == "ready" {
			break
		}
		if f.Type != "update" {
			t.Fatalf("before ready got %s", frameText(f))
		}
		got[f.Update.ChatID] = append(got[f.Update.ChatID], f.Update)
	}
	var gotTexts []string
	for i, u := range got[g.ID] {
		if want := last[g.ID] + 1 + int64(i); u.Pts != want {
			t.Fatalf("group catch-up update %d has pts %d; want %d (no gap, no duplicate)", i, u.Pts, want)
		}
		gotTexts = append(gotTexts, u.Message.Text)
	}
	if !slices.Equal(gotTexts, missed) {
		t.Fatalf("group catch-up = %q; want %q", gotTexts, missed)
	}
	if k := got[g.ID][len(got[g.ID])-1].Kind; k != parley.UpdateMessageEdited {
		t.Fatalf("last catch-up update is %s; want the edit", k)
	}
	if len(got[ch.ID]) != 2 || got[ch.ID][0].Pts != last[ch.ID]+1 || got[ch.ID][1].Message.Text != "missed news 2" {
		t.Fatalf("channel catch-up = %+v", got[ch.ID])
	}
	if len(got) != 2 {
		t.Fatalf("catch-up covered chats %v; want only the group and the channel", slices.Collect(maps.Keys(got)))
	}

	// Then live updates, each once: the relay may still be delivering what
	// was caught up from the store, and none of it may come twice.
	b.post(t, g.ID, "live again")
	u := l2.expectUpdate(t, g.ID, parley.UpdateMessageNew, "live again")
	if u.Pts != last[g.ID]+int64(len(missed))+1 {
		t.Fatalf("first live update has pts %d; want %d", u.Pts, last[g.ID]+int64(len(missed))+1)
	}
	l2.quiet(t)

	// A client that names no chats starts live: no history is replayed.
	l3 := a.connect(t, "")
	l3.expect(t, "ready", 0)
	l3.quiet(t)
}

// TestLiveJoinWhileConnected checks that a chat joined while connected is
// streamed from then on, announced by a "joined" frame.
func TestLiveJoinWhileConnected(t *testing.T) {
	s := start(t)
	a, b := s.signUp(t, "alice"), s.signUp(t, "bob")
	g := b.group(t, "Later")
	ch := b.channel(t, "later_news", "Later news")
	b.post(t, g.ID, "before alice")

	l := a.connect(t, "")
	l.expect(t, "ready", 0)
	b.invite(t, g.ID, a)
	l.expect(t, "joined", g.ID)
	b.post(t, g.ID, "welcome alice")
	l.expectUpdate(t, g.ID, parley.UpdateMessageNew, "welcome alice")

	a.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)
	l.expect(t, "joined", ch.ID)
	b.post(t, ch.ID, "news for alice")
	l.expectUpdate(t, ch.ID, parley.UpdateMessageNew, "news for alice")

	a.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/leave", ch.ID), nil, http.StatusNoContent, nil)
	l.expect(t, "left", ch.ID)
	b.post(t, ch.ID, "alice has gone")
	l.quiet(t)
}

// TestLiveGuardsPrivateChats checks that the live socket cannot be used to
// read a chat one is not in, by naming it in resume, and that a browser on
// another site cannot open a socket with a member's cookie.
func TestLiveGuardsPrivateChats(t *testing.T) {
	s := start(t)
	a, snoop := s.signUp(t, "alice"), s.signUp(t, "snoop")
	g := a.group(t, "Private")
	a.post(t, g.ID, "private words")

	l := snoop.connect(t, fmt.Sprintf("%d:0", g.ID))
	l.expect(t, "ready", 0)
	a.post(t, g.ID, "more private words")
	l.quiet(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := strings.Replace(s.url, "http://", "ws://", 1) + "/api/v1/live"
	_, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{
		"Cookie": {"parley_session=" + a.token}, "Origin": {"https://evil.example"},
	}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site socket with alice's cookie = %v; want 403", err)
	}
}

// TestLiveModeration follows a channel's enforcement over the live socket
// of two readers, one in Germany and one in France (as the trusted proxy
// in front of the server says): a post withheld in Germany reaches the
// German reader as a notice, the French one as the post; a removal takes
// the content away from both; a ban stops the channel with a "chat" frame;
// a suspension closes the suspended reader's socket, and it cannot open
// another.
func TestLiveModeration(t *testing.T) {
	s := start(t, func(c *app.Config) {
		c.CountryHeader, c.TrustedProxies = "X-Viewer-Country", "127.0.0.1"
	})
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	legal := s.staffClient(t, "officer", parley.RoleLegalOfficer)
	author, de, fr := s.signUp(t, "author"), s.signUp(t, "hans"), s.signUp(t, "jeanne")
	ch := author.channel(t, "streetnews", "Street news")
	for _, c := range []*client{de, fr} {
		c.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)
	}
	lde := de.connect(t, "", "X-Viewer-Country", "DE")
	lfr := fr.connect(t, "", "X-Viewer-Country", "FR")
	for _, l := range []*live{lde, lfr} {
		l.expect(t, "ready", 0)
	}

	const report = "a contested report"
	m := author.post(t, ch.ID, report)
	for _, l := range []*live{lde, lfr} {
		l.expectUpdate(t, ch.ID, parley.UpdateMessageNew, report)
	}
	legal.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{
		"kind": "withhold_message", "target": map[string]any{"chat_id": ch.ID, "seq": m.Seq}, "countries": []string{"DE"},
		"grounds": map[string]any{"ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "§ 130 StGB (incitement to hatred)",
			"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "source": "SOURCE_TYPE_OTHER_NOTIFICATION",
			"notifier": "Federal Criminal Police Office", "automation": "AUTOMATED_DECISION_NOT_AUTOMATED"},
	}, http.StatusCreated, nil)
	u := lde.expectUpdate(t, ch.ID, parley.UpdateMessageModerated, "")
	if u.Message.Notice == nil || u.Message.Notice.Kind != parley.NoticeWithheld || !strings.Contains(u.Message.Notice.Text, "(DE)") {
		t.Fatalf("the reader in DE got %+v", u.Message)
	}
	if u := lfr.expectUpdate(t, ch.ID, parley.UpdateMessageModerated, report); u.Message.Notice != nil {
		t.Fatalf("the reader in FR got a notice: %+v", u.Message.Notice)
	}

	const scam = "send 1 BTC, get 2 back"
	m2 := author.post(t, ch.ID, scam)
	for _, l := range []*live{lde, lfr} {
		l.expectUpdate(t, ch.ID, parley.UpdateMessageNew, scam)
	}
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_message",
		"target": map[string]any{"type": "message", "chat_id": ch.ID, "seq": m2.Seq}, "grounds": scamGrounds}, http.StatusCreated, nil)
	for _, l := range []*live{lde, lfr} {
		u := l.expectUpdate(t, ch.ID, parley.UpdateMessageModerated, "")
		if u.Message.Notice == nil || u.Message.Notice.Text != "This message was removed: Scams and fraud." {
			t.Fatalf("after the removal got %+v", u.Message)
		}
	}

	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "ban_chat",
		"target": map[string]any{"type": "chat", "chat_id": ch.ID}, "grounds": scamGrounds}, http.StatusCreated, nil)
	for _, l := range []*live{lde, lfr} {
		if f := l.expect(t, "chat", ch.ID); f.Notice == nil || f.Notice.Kind != parley.NoticeBanned {
			t.Fatalf("after the ban got %s with notice %+v", frameText(f), f.Notice)
		}
	}

	// Reconnecting to the banned channel: its notice instead of a catch-up.
	l2 := de.connect(t, fmt.Sprintf("%d:0", ch.ID), "X-Viewer-Country", "DE")
	if f := l2.expect(t, "chat", ch.ID); f.Notice == nil || f.Notice.Kind != parley.NoticeBanned {
		t.Fatalf("reconnecting got %+v", f.Notice)
	}
	l2.expect(t, "ready", 0)

	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "suspend_account",
		"target": map[string]any{"type": "user", "user_id": fr.user.ID}, "until": time.Now().Add(24 * time.Hour), "grounds": scamGrounds},
		http.StatusCreated, nil)
	_, err := lfr.read(5 * time.Second)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("the suspended reader's socket: %v; want closed with status %d", err, websocket.StatusPolicyViolation)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, strings.Replace(s.url, "http://", "ws://", 1)+"/api/v1/live",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + fr.token}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("reconnecting after the suspension = %v (response %v); want 401", err, resp)
	}
	lde.quiet(t)
}
