package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parley"
	"parley/internal/app"
	"parley/internal/auth"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// staffClient makes an account with a staff role and signs it in.
func (s *server) staffClient(t *testing.T, username string, role parley.Role) *client {
	t.Helper()
	if _, err := s.app.Auth.CreateUser(context.Background(), auth.SignUpInput{Username: username, Password: password}, role); err != nil {
		t.Fatal(err)
	}
	var in struct {
		Token string      `json:"token"`
		User  parley.User `json:"user"`
	}
	s.anon().mustJSON(t, "POST", "/api/v1/auth/signin", map[string]string{"username": username, "password": password}, http.StatusOK, &in)
	return &client{s: s, token: in.Token, user: in.User}
}

var scamGrounds = map[string]any{
	"ground":       "DECISION_GROUND_INCOMPATIBLE_CONTENT",
	"terms_ground": "Section 4.2 (scams) of the Parley Terms of Service",
	"category":     "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
	"source":       "SOURCE_VOLUNTARY",
	"automation":   "AUTOMATED_DECISION_NOT_AUTOMATED",
}

func TestModeratorRemovesAndRestoresMessage(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	author, reader, other := s.signUp(t, "author"), s.signUp(t, "reader"), s.signUp(t, "other")
	ch := author.channel(t, "cryptodeals", "Crypto deals")
	reader.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)
	m := author.post(t, ch.ID, "send 1 BTC, get 2 back")

	req := map[string]any{"kind": "remove_message", "target": map[string]any{"type": "message", "chat_id": ch.ID, "seq": m.Seq},
		"grounds": scamGrounds, "note": "wave 3"}
	author.wantError(t, "POST", "/api/v1/moderation/actions", req, 403, parley.EForbidden, "")
	var a enforce.Action
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", req, http.StatusCreated, &a)
	if a.ID == 0 || a.AffectedUserID != author.user.ID || a.Statement == nil || a.Statement.Check() != nil {
		t.Fatalf("action = %+v", a)
	}

	// Everyone sees the notice in place of the content; the author is
	// pointed at the statement of reasons.
	for _, c := range []*client{reader, author} {
		h := c.history(t, ch.ID)
		if len(h) != 1 || h[0].Text != "" || h[0].Notice == nil || h[0].Notice.Kind != parley.NoticeRemoved ||
			!strings.Contains(h[0].Notice.Text, "Scams and fraud") {
			t.Fatalf("%s sees %+v", c.user.Username, h[0])
		}
		wantStatement := int64(0)
		if c == author {
			wantStatement = a.ID
		}
		if h[0].Notice.StatementID != wantStatement {
			t.Fatalf("%s: statement id %d, want %d", c.user.Username, h[0].Notice.StatementID, wantStatement)
		}
	}
	var mine enforce.Action
	author.mustJSON(t, "GET", fmt.Sprintf("/api/v1/moderation/actions/%d", a.ID), nil, http.StatusOK, &mine)
	if mine.Note != "" || mine.Statement.PUID != a.PUID {
		t.Fatalf("the author's statement = %+v", mine)
	}
	other.wantError(t, "GET", fmt.Sprintf("/api/v1/moderation/actions/%d", a.ID), nil, 404, parley.ENotFound, "")
	var list struct{ Actions []enforce.Action }
	author.mustJSON(t, "GET", "/api/v1/me/statements", nil, http.StatusOK, &list)
	if len(list.Actions) != 1 || list.Actions[0].ID != a.ID {
		t.Fatalf("the author's statements = %+v", list.Actions)
	}
	reader.wantError(t, "GET", "/api/v1/moderation/actions", nil, 403, parley.EForbidden, "")
	mod.mustJSON(t, "GET", "/api/v1/moderation/actions?kind=remove_message", nil, http.StatusOK, &list)
	if len(list.Actions) != 1 || list.Actions[0].Note != "wave 3" {
		t.Fatalf("staff list = %+v", list.Actions)
	}

	// A bad request says what is wrong and changes nothing.
	bad := map[string]any{"kind": "remove_message", "target": map[string]any{"type": "message", "chat_id": ch.ID, "seq": m.Seq},
		"grounds": map[string]any{"category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}}
	mod.wantError(t, "POST", "/api/v1/moderation/actions", bad, 400, parley.EInvalid, "")
	mod.wantError(t, "POST", "/api/v1/moderation/actions", req, 409, parley.EConflict, "")
	mod.wantError(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/restore", a.ID), map[string]any{"reason": ""}, 400, parley.EInvalid, "reason")

	mod.mustJSON(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/restore", a.ID), map[string]any{"reason": "appeal upheld"}, http.StatusOK, &a)
	if h := reader.history(t, ch.ID); h[0].Text != "send 1 BTC, get 2 back" || h[0].Notice != nil {
		t.Fatalf("after restore the reader sees %+v", h[0])
	}
}

// TestStatementWithoutStaffOnlyFields: the account a decision affects
// reads its statement through the API without what is for staff only (who
// took the decision, who reversed it and why, the note); staff read all
// of it.
func TestStatementWithoutStaffOnlyFields(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	author := s.signUp(t, "author")
	ch := author.channel(t, "cryptodeals", "Crypto deals")
	m := author.post(t, ch.ID, "send 1 BTC, get 2 back")
	var a enforce.Action
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_message",
		"target": map[string]any{"type": "message", "chat_id": ch.ID, "seq": m.Seq}, "grounds": scamGrounds, "note": "wave 3"},
		http.StatusCreated, &a)
	mod.mustJSON(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/restore", a.ID), map[string]any{"reason": "appeal upheld, ticket 91"}, http.StatusOK, nil)

	one := fmt.Sprintf("/api/v1/moderation/actions/%d", a.ID)
	staffOnly := []string{"actor_id", "reversed_by", "reversal_reason", "note"}
	read := func(c *client, path string) map[string]any {
		t.Helper()
		resp, data := c.do(t, "GET", path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s as %s = %d %s", path, c.user.Username, resp.StatusCode, data)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		if list, ok := v["actions"].([]any); ok {
			if len(list) != 1 {
				t.Fatalf("%s as %s: %d actions, want 1", path, c.user.Username, len(list))
			}
			v = list[0].(map[string]any)
		}
		return v
	}
	staff := read(mod, one)
	if staff["actor_id"] != float64(mod.user.ID) || staff["reversed_by"] != float64(mod.user.ID) ||
		staff["reversal_reason"] != "appeal upheld, ticket 91" || staff["note"] != "wave 3" {
		t.Fatalf("staff read %v; want every field", staff)
	}
	for _, path := range []string{one, "/api/v1/me/statements"} {
		mine := read(author, path)
		if mine["puid"] != a.PUID || mine["reversed_at"] == nil {
			t.Fatalf("%s as the author = %v; want the statement, reversed", path, mine)
		}
		for _, k := range staffOnly {
			if v, ok := mine[k]; ok {
				t.Errorf("%s as the author has %s = %v, which is for staff only", path, k, v)
			}
		}
	}
}

func TestWithheldOnlyInItsCountry(t *testing.T) {
	s := start(t, func(c *app.Config) {
		c.CountryHeader, c.TrustedProxies = "X-Viewer-Country", "127.0.0.1"
	})
	legal := s.staffClient(t, "officer", parley.RoleLegalOfficer)
	author, viewer := s.signUp(t, "author"), s.signUp(t, "viewer")
	ch := author.channel(t, "streetnews", "Street news")
	m := author.post(t, ch.ID, "a contested report")
	var a enforce.Action
	legal.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{
		"kind": "withhold_message", "target": map[string]any{"chat_id": ch.ID, "seq": m.Seq}, "countries": []string{"DE"},
		"grounds": map[string]any{"ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "§ 130 StGB (incitement to hatred)",
			"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "source": "SOURCE_TYPE_OTHER_NOTIFICATION",
			"notifier": "Federal Criminal Police Office", "automation": "AUTOMATED_DECISION_NOT_AUTOMATED"},
	}, http.StatusCreated, &a)
	if sc := a.Statement.TerritorialScope; len(sc) != 1 || sc[0] != sor.Country("DE") {
		t.Fatalf("territorial scope %v, want [DE]", sc)
	}
	history := func(country string) *parley.Message {
		resp, data := viewer.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), nil, "X-Viewer-Country", country)
		if resp.StatusCode != 200 {
			t.Fatalf("history from %s = %d %s", country, resp.StatusCode, data)
		}
		var out struct{ Messages []*parley.Message }
		if err := json.Unmarshal(data, &out); err != nil || len(out.Messages) != 1 {
			t.Fatalf("history from %s: %s", country, data)
		}
		return out.Messages[0]
	}
	if got := history("DE"); got.Text != "" || got.Notice == nil || got.Notice.Kind != parley.NoticeWithheld || !strings.Contains(got.Notice.Text, "(DE)") {
		t.Fatalf("viewer in DE sees %+v", got)
	}
	if got := history("FR"); got.Text != "a contested report" || got.Notice != nil {
		t.Fatalf("viewer in FR sees %+v", got)
	}
	// Without the header the viewer's country is unknown, which the order
	// does not cover.
	if got := history(""); got.Text != "a contested report" {
		t.Fatalf("viewer with no country sees %+v", got)
	}
}

func TestRemovedMediaAnswers451(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	u := s.signUp(t, "uploader")
	resp, data := u.upload(t, testPNG(t, 40, 30, 7), "image/png")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload = %d %s", resp.StatusCode, data)
	}
	var media parley.Media
	if err := json.Unmarshal(data, &media); err != nil {
		t.Fatal(err)
	}
	g := u.group(t, "Pics")
	u.post(t, g.ID, map[string]any{"media_id": media.ID})
	if resp, _ := u.do(t, "GET", "/media/"+media.ID, nil); resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("media before removal = %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	var a enforce.Action
	mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_media",
		"target": map[string]any{"media_id": media.ID}, "grounds": scamGrounds}, http.StatusCreated, &a)
	if a.Children != 1 {
		t.Fatalf("remove media removed %d copies, want 1", a.Children)
	}
	resp, data = u.do(t, "GET", "/media/"+media.ID, nil)
	e := checkError(t, "removed media", resp, data, http.StatusUnavailableForLegalReasons, parley.EWithheld, "")
	if !strings.Contains(e.Message, "Scams and fraud") {
		t.Fatalf("451 message %q does not name the reason", e.Message)
	}
	if h := u.history(t, g.ID); h[0].MediaID != "" || h[0].Notice == nil {
		t.Fatalf("the copy in the group = %+v", h[0])
	}
}

func TestLegalHoldsAndStatementExport(t *testing.T) {
	s := start(t)
	admin := s.staffClient(t, "root", parley.RoleAdmin)
	legal := s.staffClient(t, "officer", parley.RoleLegalOfficer)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	author := s.signUp(t, "author")
	g := author.group(t, "Group")
	for i := 0; i < 3; i++ {
		m := author.post(t, g.ID, fmt.Sprintf("scam %d", i))
		mod.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{"kind": "remove_message",
			"target": map[string]any{"chat_id": g.ID, "seq": m.Seq}, "grounds": scamGrounds}, http.StatusCreated, nil)
	}
	hold := map[string]any{"target": map[string]any{"type": "chat", "chat_id": g.ID}, "reason": "EPOC-PR 2026/881"}
	mod.wantError(t, "POST", "/api/v1/legal-holds", hold, 403, parley.EForbidden, "")
	var h enforce.LegalHold
	legal.mustJSON(t, "POST", "/api/v1/legal-holds", hold, http.StatusCreated, &h)
	var holds struct{ Holds []enforce.LegalHold }
	mod.mustJSON(t, "GET", "/api/v1/legal-holds", nil, http.StatusOK, &holds)
	if len(holds.Holds) != 1 || holds.Holds[0].ID != h.ID {
		t.Fatalf("holds = %+v", holds)
	}
	if resp, data := legal.do(t, "DELETE", fmt.Sprintf("/api/v1/legal-holds/%d", h.ID), nil); resp.StatusCode != 204 {
		t.Fatalf("release = %d %s", resp.StatusCode, data)
	}

	var out struct {
		Statements []sor.Statement `json:"statements"`
		NextAfter  int64           `json:"next_after"`
	}
	today := s.app.Clock.Now().Format("2006-01-02")
	mod.wantError(t, "GET", "/api/v1/admin/statements?since="+today, nil, 403, parley.EForbidden, "")
	admin.wantError(t, "GET", "/api/v1/admin/statements", nil, 400, parley.EInvalid, "since")
	admin.wantError(t, "GET", "/api/v1/admin/statements?since=yesterday", nil, 400, parley.EInvalid, "since")
	admin.mustJSON(t, "GET", "/api/v1/admin/statements?since="+today+"&until="+today, nil, http.StatusOK, &out)
	if len(out.Statements) != 3 || out.NextAfter != 0 {
		t.Fatalf("export = %d statements, next %d; want 3, none", len(out.Statements), out.NextAfter)
	}
	if err := sor.CheckSubmission(out.Statements); err != nil {
		t.Fatalf("exported batch fails the database's rules: %v", err)
	}
}

// TestWithheldByClientAddress: a proxy that passes on the client's address
// (X-Forwarded-For) and a table of address ranges decide the viewer's
// country; a forged left part of the header is not believed, and the
// proxy's own address (which the table places in Germany here) says
// nothing about the client.
func TestWithheldByClientAddress(t *testing.T) {
	ranges := filepath.Join(t.TempDir(), "ranges.csv")
	if err := os.WriteFile(ranges, []byte("203.0.113.0/24,DE\n198.51.100.0/24,FR\n127.0.0.0/8,DE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, func(c *app.Config) {
		c.ClientAddressHeader, c.CountryRanges, c.TrustedProxies = "X-Forwarded-For", ranges, "127.0.0.1"
	})
	legal := s.staffClient(t, "officer", parley.RoleLegalOfficer)
	author, viewer := s.signUp(t, "author"), s.signUp(t, "viewer")
	ch := author.channel(t, "citynews", "City news")
	m := author.post(t, ch.ID, "a report under a court order in Germany")
	legal.mustJSON(t, "POST", "/api/v1/moderation/actions", map[string]any{
		"kind": "withhold_message", "target": map[string]any{"chat_id": ch.ID, "seq": m.Seq}, "countries": []string{"DE"},
		"grounds": map[string]any{"ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "§ 186 StGB (defamation)",
			"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "source": "SOURCE_TYPE_OTHER_NOTIFICATION",
			"notifier": "Landgericht Berlin", "automation": "AUTOMATED_DECISION_NOT_AUTOMATED"},
	}, http.StatusCreated, nil)
	seen := func(forwarded string) string {
		resp, data := viewer.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), nil, "X-Forwarded-For", forwarded)
		var out struct{ Messages []*parley.Message }
		if resp.StatusCode != 200 || json.Unmarshal(data, &out) != nil || len(out.Messages) != 1 {
			t.Fatalf("history via %q = %d %s", forwarded, resp.StatusCode, data)
		}
		return out.Messages[0].Text
	}
	if got := seen("203.0.113.9"); got != "" {
		t.Fatalf("a client in DE sees %q", got)
	}
	if got := seen("198.51.100.4"); got == "" {
		t.Fatal("a client in FR does not see the message")
	}
	// The client wrote "203.0.113.9" itself; the proxy appended the real address.
	if got := seen("203.0.113.9, 198.51.100.4"); got == "" {
		t.Fatal("a forged left part of X-Forwarded-For was believed")
	}
	if got := seen(""); got == "" {
		t.Fatal("a request from the proxy that forwarded no client address was placed where the proxy is")
	}
}
