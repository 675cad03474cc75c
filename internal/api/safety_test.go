package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/app"
	"parley/internal/safety/banks"
	"parley/internal/safety/campaign"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
)

func TestRulesAndReviewQueueThroughTheAPI(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	author, reader := s.signUp(t, "author"), s.signUp(t, "reader")
	ch := author.channel(t, "dealsdaily", "Deals")
	reader.mustJSON(t, "POST", fmt.Sprintf("/api/v1/chats/%d/subscribe", ch.ID), nil, http.StatusNoContent, nil)

	rule := map[string]any{"id": "giveaway", "keywords": []string{"free crypto"}, "action": "hold", "mode": "enforce",
		"category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}
	author.wantError(t, "POST", "/api/v1/moderation/rules", rule, 403, parley.EForbidden, "")
	mod.wantError(t, "POST", "/api/v1/moderation/rules", map[string]any{"id": "bad", "regexps": []string{"(oops"}, "action": "hold"}, 400, parley.EInvalid, "regexps[0]")
	var sr screen.StoredRule
	mod.mustJSON(t, "POST", "/api/v1/moderation/rules", rule, http.StatusCreated, &sr)
	if sr.Version != 1 || sr.Enabled {
		t.Fatalf("new rule = %+v; want version 1, disabled", sr)
	}
	// A backtest before enabling: nothing stored matches yet.
	var rep struct{ Scanned, Hits int64 }
	mod.mustJSON(t, "POST", "/api/v1/moderation/backtest", map[string]any{"rule": rule}, http.StatusOK, &rep)
	mod.mustJSON(t, "PUT", "/api/v1/moderation/rules/giveaway/enabled", map[string]any{"enabled": true}, http.StatusOK, &sr)

	m := author.post(t, ch.ID, "get FREE CRYPTO now")
	if m.Notice == nil || m.Notice.Kind != parley.NoticeHeld {
		t.Fatalf("held post answer = %+v", m)
	}
	if h := reader.history(t, ch.ID); len(h) != 0 {
		t.Fatalf("the reader sees a held post: %+v", h)
	}
	var queue struct {
		Cases []review.Case
		Open  int64
	}
	mod.mustJSON(t, "GET", "/api/v1/moderation/queue", nil, http.StatusOK, &queue)
	if queue.Open != 1 || queue.Cases[0].Kind != review.KindHeldPost {
		t.Fatalf("queue = %+v", queue)
	}
	author.wantError(t, "GET", "/api/v1/moderation/queue", nil, 403, parley.EForbidden, "")
	path := fmt.Sprintf("/api/v1/moderation/cases/%d/decision", queue.Cases[0].ID)
	mod.wantError(t, "POST", path, map[string]any{"decision": "maybe"}, 400, parley.EInvalid, "decision")
	var c review.Case
	mod.mustJSON(t, "POST", path, map[string]any{"decision": "approve"}, http.StatusOK, &c)
	if c.Status != review.StatusDecided || c.Decision != review.DecisionApproved || c.DecidedBy != mod.user.ID {
		t.Fatalf("decided case = %+v", c)
	}
	if h := reader.history(t, ch.ID); len(h) != 1 || h[0].Text != "get FREE CRYPTO now" {
		t.Fatalf("after approval the reader sees %+v", h)
	}
	var matches struct{ Matches []review.RecordedMatch }
	mod.mustJSON(t, "GET", "/api/v1/moderation/rules/giveaway/matches", nil, http.StatusOK, &matches)
	if len(matches.Matches) != 1 || matches.Matches[0].Version != 1 {
		t.Fatalf("rule matches = %+v", matches)
	}
	// An edit from a stale version is refused.
	rule["keywords"] = []string{"free crypto", "airdrop"}
	rule["version"] = 1
	mod.mustJSON(t, "PUT", "/api/v1/moderation/rules/giveaway", rule, http.StatusOK, &sr)
	if sr.Version != 2 {
		t.Fatalf("edited rule version = %d", sr.Version)
	}
	mod.wantError(t, "PUT", "/api/v1/moderation/rules/giveaway", rule, 409, parley.EConflict, "")
}

func TestCampaignFoundAndRemovedInBulk(t *testing.T) {
	s := start(t, func(c *app.Config) { c.CampaignMinMembers = 4 }) // the group has 4 members
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	owner := s.signUp(t, "owner")
	g := owner.group(t, "Neighbourhood")
	var spammers []*client
	for i := 0; i < 3; i++ {
		spammers = append(spammers, s.signUp(t, fmt.Sprintf("spammer%d", i)))
	}
	owner.invite(t, g.ID, spammers...)
	texts := []string{
		"Congratulations! You have been selected to receive a free gift card worth 500 euros, claim it today at our official page before the offer ends",
		"congratulations!! you have been selected to receive a FREE gift card worth 500 euros - claim it today at our official page before the offer ends",
		"Congratulations, you have been selected to receive a free gift card worth 500 euros. Claim it today at our official page before this offer ends!",
	}
	for i, c := range spammers {
		c.post(t, g.ID, texts[i])
	}
	owner.post(t, g.ID, "Bin collection moved to Thursday this week")

	var list struct{ Campaigns []campaign.Stored }
	deadline := time.Now().Add(10 * time.Second)
	for {
		mod.mustJSON(t, "GET", "/api/v1/moderation/campaigns", nil, http.StatusOK, &list)
		if len(list.Campaigns) == 1 && list.Campaigns[0].Posts == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no campaign of 3 posts found: %+v", list.Campaigns)
		}
		time.Sleep(50 * time.Millisecond)
	}
	camp := list.Campaigns[0]
	if camp.Accounts != 3 || !strings.Contains(camp.Sample, "gift card") {
		t.Fatalf("campaign = %+v", camp)
	}
	owner.wantError(t, "GET", "/api/v1/moderation/campaigns", nil, 403, parley.EForbidden, "")
	var out struct{ Removed int }
	mod.mustJSON(t, "POST", fmt.Sprintf("/api/v1/moderation/campaigns/%d/remove", camp.ID), map[string]any{}, http.StatusOK, &out)
	if out.Removed != 3 {
		t.Fatalf("removed %d posts, want 3", out.Removed)
	}
	h := owner.history(t, g.ID)
	removed := 0
	for _, m := range h {
		if m.Notice != nil && m.Notice.Kind == parley.NoticeRemoved {
			removed++
		} else if m.Text != "Bin collection moved to Thursday this week" {
			t.Fatalf("a campaign post is still up: %+v", m)
		}
	}
	if removed != 3 {
		t.Fatalf("%d removal notices in the group, want 3", removed)
	}
	var mine struct{ Actions []map[string]any }
	spammers[0].mustJSON(t, "GET", "/api/v1/me/statements", nil, http.StatusOK, &mine)
	if len(mine.Actions) != 1 {
		t.Fatalf("a spammer's statements = %+v", mine)
	}
	st, _ := json.Marshal(mine.Actions[0]["statement"])
	if !strings.Contains(string(st), "AUTOMATED_DECISION_PARTIALLY") || !strings.Contains(string(st), "campaign detector") {
		t.Fatalf("statement of a campaign removal = %s", st)
	}
	mod.wantError(t, "POST", fmt.Sprintf("/api/v1/moderation/campaigns/%d/remove", camp.ID), map[string]any{}, 409, parley.EConflict, "")
}

func TestBankImportThroughTheAPI(t *testing.T) {
	s := start(t)
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	var b banks.Bank
	mod.mustJSON(t, "POST", "/api/v1/moderation/banks", map[string]any{"name": "scam-links", "kind": "block",
		"category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "action": "remove", "enabled": true}, http.StatusCreated, &b)
	good := "evil.example\nbad.example\n"
	bad := "evil.example\nnot a domain at all!\n"
	importPath := fmt.Sprintf("/api/v1/moderation/banks/%d/import?format=hma&type=domain&source=reports", b.ID)
	resp, data := mod.do(t, "POST", importPath, bad, "Content-Type", "text/csv")
	if resp.StatusCode != 400 || !strings.Contains(string(data), `"line":2`) {
		t.Fatalf("import with a bad line = %d %s; want 400 naming line 2", resp.StatusCode, data)
	}
	var entries struct{ Entries []banks.Entry }
	mod.mustJSON(t, "GET", fmt.Sprintf("/api/v1/moderation/banks/%d/entries", b.ID), nil, http.StatusOK, &entries)
	if len(entries.Entries) != 0 {
		t.Fatalf("a failed import left %d entries", len(entries.Entries))
	}
	resp, data = mod.do(t, "POST", importPath, good, "Content-Type", "text/csv")
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"added":2`) {
		t.Fatalf("import = %d %s", resp.StatusCode, data)
	}
	resp, data = mod.do(t, "GET", fmt.Sprintf("/api/v1/moderation/banks/%d/export?format=hma&type=domain", b.ID), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(data), "evil.example") || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export = %d %q", resp.StatusCode, data)
	}
	// An export refused before it starts answers with the error body, not
	// a file.
	resp, data = mod.do(t, "GET", fmt.Sprintf("/api/v1/moderation/banks/%d/export?format=pdq&type=domain", b.ID), nil)
	checkError(t, "export of domains as pdq", resp, data, 400, parley.EInvalid, "type")
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		t.Fatalf("a refused export is sent as a file: Content-Disposition %q", cd)
	}
	author := s.signUp(t, "author")
	g := author.group(t, "G")
	// The matcher follows the banks by their events; give it a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := author.post(t, g.ID, fmt.Sprintf("go to https://evil.example/%d", time.Now().UnixNano()))
		if m.Notice != nil && m.Notice.Kind == parley.NoticeRemoved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a post linking a banked domain was not removed: %+v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCampaignsSkipSmallGroups: the same spam in a group smaller than
// -campaign-min-members is not looked at. The same three accounts then post
// it in channels of their own, which the detector reads: the campaign it
// finds there is the positive control (a broken detector finds nothing and
// fails the test) and the synchronisation point (the detector reads posts
// in the order they were made, so by the time it has found the channel
// posts it has passed the group's, which it must have left out).
func TestCampaignsSkipSmallGroups(t *testing.T) {
	s := start(t) // the default: groups of 20 or more
	mod := s.staffClient(t, "moddy", parley.RoleModerator)
	owner := s.signUp(t, "owner")
	g := owner.group(t, "Small")
	var spammers []*client
	for i := 0; i < 3; i++ {
		spammers = append(spammers, s.signUp(t, fmt.Sprintf("spammer%d", i)))
	}
	owner.invite(t, g.ID, spammers...)
	const spam = "Congratulations! You have been selected to receive a free gift card worth 500 euros, claim it today at our official page before the offer ends"
	for _, c := range spammers {
		c.post(t, g.ID, spam)
	}
	inChannels := map[int64]bool{} // message ID → found in the campaign
	for i, c := range spammers {
		ch := c.channel(t, fmt.Sprintf("offers_%d", i), "Offers")
		inChannels[c.post(t, ch.ID, spam).ID] = false
	}

	var list struct{ Campaigns []campaign.Stored }
	var found struct {
		Campaign campaign.Stored
		Members  []campaign.StoredMember
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mod.mustJSON(t, "GET", "/api/v1/moderation/campaigns", nil, http.StatusOK, &list)
		if len(list.Campaigns) > 0 {
			mod.mustJSON(t, "GET", fmt.Sprintf("/api/v1/moderation/campaigns/%d", list.Campaigns[0].ID), nil, http.StatusOK, &found)
			all := true
			for id := range inChannels {
				inChannels[id] = slices.ContainsFunc(found.Members, func(m campaign.StoredMember) bool { return m.MessageID == id })
				all = all && inChannels[id]
			}
			if all {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the channel posts formed no campaign within 10 s (the positive control): campaigns %+v, members %+v", list.Campaigns, found.Members)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(list.Campaigns) != 1 || found.Campaign.Posts != 3 {
		t.Errorf("campaigns = %+v; want one of the 3 channel posts", list.Campaigns)
	}
	for _, m := range found.Members {
		if m.ChatID == g.ID {
			t.Errorf("a post in a group of 4 (the default threshold is 20) is in the campaign: %+v", m)
		}
	}
}
