package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/app"
	"parley/internal/safety/enforce"
)

// courtOrder are the grounds of a withholding ordered under German law.
var courtOrder = map[string]any{"ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "§ 130 StGB (incitement to hatred)",
	"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "source": "SOURCE_TYPE_OTHER_NOTIFICATION",
	"notifier": "Federal Criminal Police Office", "automation": "AUTOMATED_DECISION_NOT_AUTOMATED"}

// withhold withholds a message in Germany through the API, and from
// viewers whose country is unknown when alsoUnknown is set.
func (c *client) withhold(t *testing.T, chatID, seq int64, alsoUnknown bool) *enforce.Action {
	t.Helper()
	req := map[string]any{"kind": "withhold_message", "target": map[string]any{"chat_id": chatID, "seq": seq},
		"countries": []string{"DE"}, "grounds": courtOrder}
	if alsoUnknown {
		req["also_unknown"] = true
	}
	var a enforce.Action
	c.mustJSON(t, "POST", "/api/v1/moderation/actions", req, http.StatusCreated, &a)
	if a.AlsoUnknown != alsoUnknown {
		t.Fatalf("action also_unknown = %v; want %v", a.AlsoUnknown, alsoUnknown)
	}
	return &a
}

// historyWith reads a chat's history, sending the given request headers.
func (c *client) historyWith(t *testing.T, chatID int64, header ...string) []*parley.Message {
	t.Helper()
	resp, data := c.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", chatID), nil, header...)
	var out struct{ Messages []*parley.Message }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil {
		t.Fatalf("history = %d %s", resp.StatusCode, data)
	}
	return out.Messages
}

// setCountry changes the account's own profile country, as any member may.
func (c *client) setCountry(t *testing.T, country string) {
	t.Helper()
	var u parley.User
	c.mustJSON(t, "PATCH", "/api/v1/me", map[string]any{"country": country}, http.StatusOK, &u)
	if u.Country != country {
		t.Fatalf("profile country = %q after setting %q", u.Country, country)
	}
}

// wantWithheld fails unless m reached the viewer as a withheld notice whose
// text has want in it.
func wantWithheld(t *testing.T, what string, m *parley.Message, want string) {
	t.Helper()
	if m.Text != "" || m.Notice == nil || m.Notice.Kind != parley.NoticeWithheld || !strings.Contains(m.Notice.Text, want) {
		t.Fatalf("%s: the viewer got %q with notice %+v; want a withheld notice with %q", what, m.Text, m.Notice, want)
	}
}

// withholdingWorld makes a legal officer, an author with a channel, and a
// viewer subscribed to it whose profile says Germany.
func (s *server) withholdingWorld(t *testing.T) (legal, author, viewer *client, ch *parley.Chat) {
	t.Helper()
	legal = s.staffClient(t, "officer", parley.RoleLegalOfficer)
	author, viewer = s.signUp(t, "author"), s.signUp(t, "viewer")
	viewer.setCountry(t, "DE")
	ch = author.channel(t, "streetnews", "Street news")
	viewer.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)
	return legal, author, viewer, ch
}

func writeRanges(t *testing.T, table string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ranges.csv")
	if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProfileCountryDoesNotEscapeWithholding: a member whom a trusted
// source places in Germany, where a post is withheld, edits the profile's
// country to France and still gets the withheld notice, in the history, the
// chat list, the live socket's catch-up and its live updates. The member's
// requests also carry a country header and a forwarded address of their
// own, which are not believed: they come straight from the client, not
// from the trusted proxy. The server places a direct connection by its
// peer address in the table of ranges (the test's loopback address is in
// Germany there).
func TestProfileCountryDoesNotEscapeWithholding(t *testing.T) {
	ranges := writeRanges(t, "127.0.0.0/8,DE\n198.51.100.0/24,FR\n")
	s := start(t, func(c *app.Config) {
		c.CountryHeader, c.ClientAddressHeader, c.CountryRanges = "X-Viewer-Country", "X-Forwarded-For", ranges
		c.TrustedProxies = "192.0.2.1" // a proxy the tests' requests do not come from
	})
	if strings.Contains(s.logs.String(), app.NoCountrySourceWarning) {
		t.Error("the server warned that no country source is configured, with a table of ranges")
	}
	legal, author, viewer, ch := s.withholdingWorld(t)
	m := author.post(t, ch.ID, "a contested report")
	legal.withhold(t, ch.ID, m.Seq, false)

	// What the client says about itself: France, by header and by address.
	spoof := []string{"X-Viewer-Country", "FR", "X-Forwarded-For", "198.51.100.4"}
	wantWithheld(t, "history, profile in DE", viewer.historyWith(t, ch.ID, spoof...)[0], "(DE)")
	viewer.setCountry(t, "FR")
	wantWithheld(t, "history, profile edited to FR", viewer.historyWith(t, ch.ID, spoof...)[0], "(DE)")
	var me parley.User
	viewer.mustJSON(t, "GET", "/api/v1/me", nil, http.StatusOK, &me)
	if me.Country != "FR" {
		t.Fatalf("the profile shows country %q; want FR, as the member set it", me.Country)
	}

	// The live socket: the catch-up from the start, then a live withholding.
	l := viewer.connect(t, fmt.Sprintf("%d:0", ch.ID), spoof...)
	for pts := 1; pts <= 2; pts++ {
		f := l.expect(t, "update", ch.ID)
		wantWithheld(t, fmt.Sprintf("catch-up pts %d", f.Update.Pts), &f.Update.Message, "(DE)")
	}
	l.expect(t, "ready", 0)
	m2 := author.post(t, ch.ID, "a second report")
	l.expectUpdate(t, ch.ID, parley.UpdateMessageNew, "a second report")
	legal.withhold(t, ch.ID, m2.Seq, false)
	u := l.expect(t, "update", ch.ID).Update
	if u.Kind != parley.UpdateMessageModerated {
		t.Fatalf("after the withholding got a %s update; want %s", u.Kind, parley.UpdateMessageModerated)
	}
	wantWithheld(t, "live", &u.Message, "(DE)")

	var list struct{ Chats []*parley.ChatSummary }
	resp, data := viewer.do(t, "GET", "/api/v1/chats", nil, spoof...)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &list) != nil || len(list.Chats) != 1 || list.Chats[0].LastMessage == nil {
		t.Fatalf("chat list = %d %s", resp.StatusCode, data)
	}
	wantWithheld(t, "chat list", list.Chats[0].LastMessage, "(DE)")
}

// TestNoTrustedCountrySource: with no source of viewers' countries
// configured, the server warns at start, every viewer's country is unknown
// (whatever the profile or the request's headers say), a withholding that
// does not cover unknown countries hides nothing, and one that does hides
// its post with a notice that names no country.
func TestNoTrustedCountrySource(t *testing.T) {
	s := start(t)
	if logs := s.logs.String(); !strings.Contains(logs, "level=WARN msg=\""+app.NoCountrySourceWarning) {
		t.Fatalf("no start-up warning that viewers' countries are unknown in the log:\n%s", tail(logs, 2000))
	}
	legal, author, viewer, ch := s.withholdingWorld(t)
	shown := author.post(t, ch.ID, "withheld in Germany only")
	hidden := author.post(t, ch.ID, "withheld in Germany and where unknown")
	legal.withhold(t, ch.ID, shown.Seq, false)
	a := legal.withhold(t, ch.ID, hidden.Seq, true)

	check := func(what string, msgs []*parley.Message) {
		t.Helper()
		if len(msgs) != 2 {
			t.Fatalf("%s: %d messages; want 2", what, len(msgs))
		}
		bySeq := map[int64]*parley.Message{msgs[0].Seq: msgs[0], msgs[1].Seq: msgs[1]}
		if m := bySeq[shown.Seq]; m.Text != shown.Text || m.Notice != nil {
			t.Fatalf("%s: the post withheld in DE only reached the viewer of unknown country as %q, notice %+v; want it shown", what, m.Text, m.Notice)
		}
		m := bySeq[hidden.Seq]
		wantWithheld(t, what, m, "not available where you are")
		if strings.Contains(m.Notice.Text, "(") {
			t.Fatalf("%s: the notice %q names a country", what, m.Notice.Text)
		}
	}
	check("history", viewer.historyWith(t, ch.ID, "X-Viewer-Country", "DE"))

	l := viewer.connect(t, fmt.Sprintf("%d:0", ch.ID), "X-Viewer-Country", "DE")
	latest := map[int64]*parley.Message{}
	for {
		f := l.next(t, 2*time.Second)
		if f.Type == "ready" {
			break
		}
		if f.Type != "update" {
			t.Fatalf("catch-up got a %s frame", f.Type)
		}
		latest[f.Update.Message.Seq] = &f.Update.Message
	}
	check("catch-up", []*parley.Message{latest[shown.Seq], latest[hidden.Seq]})

	// The author is told as much in the notice, and the item's moderation
	// says the withholding covers unknown countries.
	for _, m := range author.history(t, ch.ID) {
		if m.Seq != hidden.Seq {
			continue
		}
		if m.Notice == nil || m.Notice.StatementID != a.ID || m.Moderation == nil || len(m.Moderation.Withheld) != 1 || !m.Moderation.Withheld[0].AlsoUnknown {
			t.Fatalf("the author sees %q, notice %+v, moderation %+v", m.Text, m.Notice, m.Moderation)
		}
	}
}
