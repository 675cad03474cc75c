package screen_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/media"
	"parley/internal/messaging"
	"parley/internal/pdq"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/rules"
	"parley/internal/safety/screen"
	"parley/internal/sor"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

// pipeline is the posting path with the whole inline screen, as the server
// wires it, on a real SQLite store: messaging, hash banks and their
// matcher, the rule book, enforcement and the review queue.
type pipeline struct {
	db      *sqlite.DB
	msg     *messaging.Service
	banks   *banks.Service
	matcher *banks.Matcher
	book    *screen.RuleBook
	screen  *screen.Screener
	enforce *enforce.Service
	review  *review.Service
	clock   *testclock.Clock

	mod, author, reader *parley.User
	channel, group      *parley.Chat
	direct              *parley.Chat
}

func setup(t *testing.T) *pipeline {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := media.NewBlobs(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{db: db, clock: testclock.At(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))}
	p.enforce = &enforce.Service{Store: db, Clock: p.clock, Namespace: "test"}
	p.banks = banks.NewService(db, p.clock)
	p.matcher = banks.NewMatcher(db)
	if err := p.matcher.Load(ctx); err != nil {
		t.Fatal(err)
	}
	p.screen = &screen.Screener{Banks: p.matcher, Rules: db, Enforce: p.enforce}
	p.book = &screen.RuleBook{Store: db, Clock: p.clock, Changed: func(ctx context.Context) {
		if err := p.screen.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}}
	if err := p.screen.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	p.msg = &messaging.Service{Store: db, Blobs: blobs, Clock: p.clock, Users: db, Screen: p.screen,
		Limits: media.Limits{MaxBytes: 10 << 20, MaxPixels: 40_000_000}}
	p.review = &review.Service{Store: db, Enforce: p.enforce, Clock: p.clock}

	mk := func(name string, role parley.Role) *parley.User {
		u := &parley.User{Username: name, Role: parley.RoleMember, Country: "FR", CreatedAt: p.clock.Now().Add(-30 * 24 * time.Hour)}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if role != parley.RoleMember {
			if err := db.SetUserRole(ctx, 0, u.ID, role, p.clock.Now()); err != nil {
				t.Fatal(err)
			}
			u.Role = role
		}
		return u
	}
	p.mod, p.author, p.reader = mk("mod", parley.RoleModerator), mk("author", parley.RoleMember), mk("reader", parley.RoleMember)
	p.channel, err = p.msg.CreateChat(ctx, p.author, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "bargains", Title: "Bargains"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.msg.Subscribe(ctx, p.reader, p.channel.ID); err != nil {
		t.Fatal(err)
	}
	p.group, err = p.msg.CreateChat(ctx, p.author, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Friends"})
	if err != nil {
		t.Fatal(err)
	}
	p.direct, err = p.msg.CreateChat(ctx, p.author, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: p.reader.ID})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rule creates and enables a rule.
func (p *pipeline) rule(t *testing.T, r rules.Rule) *screen.StoredRule {
	t.Helper()
	ctx := context.Background()
	if _, err := p.book.Create(ctx, p.mod, r); err != nil {
		t.Fatal(err)
	}
	sr, err := p.book.SetEnabled(ctx, p.mod, r.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func (p *pipeline) post(t *testing.T, u *parley.User, chat *parley.Chat, text string) (*parley.Message, error) {
	t.Helper()
	up, err := p.msg.PostMessage(context.Background(), u, chat.ID, messaging.PostInput{Text: text})
	if err != nil {
		return nil, err
	}
	return &up.Message, nil
}

func (p *pipeline) history(t *testing.T, u *parley.User, chat *parley.Chat) []*parley.Message {
	t.Helper()
	h, err := p.msg.History(context.Background(), u, chat.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHeldPostWaitsForReview(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	p.rule(t, rules.Rule{ID: "giveaway", Keywords: []string{"crypto giveaway"}, Action: rules.ActionHold, Mode: rules.ModeEnforce,
		Category: string(sor.CategoryScamsAndFraud)})
	m, err := p.post(t, p.author, p.channel, "Huge CRYPTO GIVEAWAY today")
	if err != nil {
		t.Fatal(err)
	}
	if m.Notice == nil || m.Notice.Kind != parley.NoticeHeld || m.Text == "" {
		t.Fatalf("the author's answer = %+v; want the post with a held notice", m)
	}
	if h := p.history(t, p.reader, p.channel); len(h) != 0 {
		t.Fatalf("the reader sees %d messages while the post is held", len(h))
	}
	if h := p.history(t, p.author, p.channel); len(h) != 1 || h[0].Notice == nil {
		t.Fatalf("the author's history = %+v", h)
	}
	ups, err := p.msg.Updates(ctx, p.reader, p.channel.ID, 0, 50)
	if err != nil || len(ups) != 0 {
		t.Fatalf("updates while held = %d, %v; want none", len(ups), err)
	}
	queue, open, err := p.review.Queue(ctx, p.mod, 10)
	if err != nil || open != 1 || queue[0].Kind != review.KindHeldPost || queue[0].Screening.By.SourceID != "giveaway" || queue[0].Screening.By.Version != 1 {
		t.Fatalf("queue = %+v (%d open), %v", queue, open, err)
	}
	if _, _, err := p.review.Queue(ctx, p.reader, 10); parley.ErrorCode(err) != parley.EForbidden {
		t.Fatalf("a member reads the queue: %v", err)
	}
	if err := p.review.Approve(ctx, p.mod, queue[0].ID); err != nil {
		t.Fatal(err)
	}
	if h := p.history(t, p.reader, p.channel); len(h) != 1 || h[0].Text != "Huge CRYPTO GIVEAWAY today" || h[0].Notice != nil {
		t.Fatalf("after approval the reader sees %+v", h)
	}
	ups, err = p.msg.Updates(ctx, p.reader, p.channel.ID, 0, 50)
	if err != nil || len(ups) != 1 || ups[0].Kind != parley.UpdateMessageModerated || ups[0].Message.Text == "" {
		t.Fatalf("updates after approval = %+v, %v; want one message.moderated with the content", ups, err)
	}
	if err := p.review.Approve(ctx, p.mod, queue[0].ID); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("approving twice: %v", err)
	}
}

func TestRemovedAtOnceWithAStatement(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	p.rule(t, rules.Rule{ID: "phish", Domains: []string{"paypal-verify.example"}, Action: rules.ActionRemove, Mode: rules.ModeEnforce,
		Category: string(sor.CategoryScamsAndFraud)})
	m, err := p.post(t, p.author, p.group, "log in at https://login.paypal-verify.example/now")
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "" || m.Notice == nil || m.Notice.Kind != parley.NoticeRemoved || m.Notice.StatementID == 0 {
		t.Fatalf("the author's answer = %+v; want a removal notice with a statement", m)
	}
	a, err := p.enforce.Find(ctx, p.author, m.Notice.StatementID)
	if err != nil {
		t.Fatal(err)
	}
	st := a.Statement
	if !a.Automated || a.ActorID != 0 || st.AutomatedDetection != sor.Yes || st.AutomatedDecision != sor.AutomatedFully ||
		!strings.Contains(st.DecisionFacts, `"phish" (version 1)`) || st.Check() != nil {
		t.Fatalf("statement of an automated removal = %+v (action %+v)", st, a)
	}
	if _, open, _ := p.review.Queue(ctx, p.mod, 10); open != 0 {
		t.Fatalf("%d cases left open by an automated removal", open)
	}
	u, _ := p.db.FindUserByID(ctx, p.author.ID)
	if u.Strikes != 1 {
		t.Fatalf("strikes after an automated removal = %d", u.Strikes)
	}
}

func TestBlockedPostIsRefusedAndKept(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	p.rule(t, rules.Rule{ID: "threats", Regexps: []string{`(?i)\bi will (kill|hurt) you\b`}, Action: rules.ActionBlock, Mode: rules.ModeEnforce,
		Category: string(sor.CategoryViolence)})
	_, err := p.post(t, p.author, p.group, "I will hurt you tomorrow")
	if parley.ErrorCode(err) != parley.EForbidden || !strings.Contains(parley.ErrorMessage(err), "can't be posted") {
		t.Fatalf("blocked post: %v", err)
	}
	if h := p.history(t, p.author, p.group); len(h) != 0 {
		t.Fatalf("a blocked post was stored: %+v", h)
	}
	recs, err := p.review.Matches(ctx, p.mod, parley.MatchRule, "threats", 10)
	if err != nil || len(recs) != 1 || recs[0].Content != "I will hurt you tomorrow" || recs[0].TargetType != "post" {
		t.Fatalf("record of the refused post = %+v, %v", recs, err)
	}
}

func TestShadowRuleActsOnNothing(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	p.rule(t, rules.Rule{ID: "maybe-spam", Keywords: []string{"limited offer"}, Action: rules.ActionRemove, Mode: rules.ModeShadow})
	m, err := p.post(t, p.author, p.channel, "Limited offer on shoes")
	if err != nil || m.Notice != nil {
		t.Fatalf("post under a shadow rule = %+v, %v", m, err)
	}
	if h := p.history(t, p.reader, p.channel); len(h) != 1 || h[0].Text != "Limited offer on shoes" {
		t.Fatalf("reader sees %+v", h)
	}
	recs, err := p.review.Matches(ctx, p.mod, parley.MatchRule, "maybe-spam", 10)
	if err != nil || len(recs) != 1 || recs[0].Mode != "shadow" || recs[0].Version != 1 {
		t.Fatalf("shadow record = %+v, %v", recs, err)
	}
	// Its backtest over stored messages finds the post.
	rep, err := p.book.Backtest(ctx, p.mod, rules.Rule{ID: "maybe-spam", Keywords: []string{"limited offer"}, Action: rules.ActionRemove}, 0)
	if err != nil || rep.Scanned != 1 || rep.Hits != 1 {
		t.Fatalf("backtest = %+v, %v", rep, err)
	}
}

func TestLabelledPostIsShownWithItsLabel(t *testing.T) {
	p := setup(t)
	p.rule(t, rules.Rule{ID: "health-claims", Keywords: []string{"miracle cure"}, Action: rules.ActionLabel, Mode: rules.ModeEnforce,
		Label: "Health claim not verified", Category: string(sor.CategoryOtherViolationTC)})
	if _, err := p.post(t, p.author, p.channel, "This miracle cure works"); err != nil {
		t.Fatal(err)
	}
	h := p.history(t, p.reader, p.channel)
	if len(h) != 1 || h[0].Text == "" || h[0].Moderation == nil || h[0].Moderation.Label == nil ||
		h[0].Moderation.Label.Reason != "Health claim not verified" || h[0].Moderation.Held != nil {
		t.Fatalf("labelled post as the reader sees it = %+v", h)
	}
}

func TestDirectChatsAreNotScreened(t *testing.T) {
	p := setup(t)
	p.rule(t, rules.Rule{ID: "threats", Keywords: []string{"forbidden phrase"}, Action: rules.ActionBlock, Mode: rules.ModeEnforce})
	if _, err := p.post(t, p.author, p.direct, "a forbidden phrase between two people"); err != nil {
		t.Fatalf("a direct message was screened: %v", err)
	}
}

func TestRuleVersionsAndBadRules(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	r := p.rule(t, rules.Rule{ID: "spam", Keywords: []string{"spam one"}, Action: rules.ActionHold, Mode: rules.ModeEnforce})
	r.Keywords = []string{"spam two"}
	edited, err := p.book.Edit(ctx, p.mod, r.Rule)
	if err != nil || edited.Version != 2 || !edited.Enabled {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	if _, err := p.book.Edit(ctx, p.mod, r.Rule); parley.ErrorCode(err) != parley.EConflict {
		t.Fatalf("an edit from a stale version: %v", err)
	}
	if m, _ := p.post(t, p.author, p.group, "spam one"); m.Notice != nil {
		t.Fatalf("the old version still matches: %+v", m)
	}
	m, _ := p.post(t, p.author, p.group, "spam two")
	if m.Notice == nil {
		t.Fatal("the new version does not match")
	}
	queue, _, _ := p.review.Queue(ctx, p.mod, 10)
	if len(queue) != 1 || queue[0].Screening.By.Version != 2 {
		t.Fatalf("the case does not record version 2: %+v", queue)
	}
	_, vs, err := p.book.Find(ctx, p.mod, "spam")
	if err != nil || len(vs) != 2 || vs[0].Rule.Keywords[0] != "spam two" || vs[1].Rule.Keywords[0] != "spam one" {
		t.Fatalf("history = %+v, %v", vs, err)
	}
	for _, bad := range []struct {
		r     rules.Rule
		field string
	}{
		{rules.Rule{ID: "Bad ID", Keywords: []string{"x"}, Action: rules.ActionHold}, "id"},
		{rules.Rule{ID: "re", Regexps: []string{"(unclosed"}, Action: rules.ActionHold}, "regexps[0]"},
		{rules.Rule{ID: "cond", Condition: "account_age_days <", Action: rules.ActionHold}, "condition"},
		{rules.Rule{ID: "empty", Action: rules.ActionHold}, "keywords"},
	} {
		_, err := p.book.Create(ctx, p.mod, bad.r)
		if parley.ErrorCode(err) != parley.EInvalid || parley.ErrorField(err) != bad.field {
			t.Errorf("rule %s: %v (field %q), want invalid %q", bad.r.ID, err, parley.ErrorField(err), bad.field)
		}
	}
	if _, err := p.book.Create(ctx, p.reader, rules.Rule{ID: "mine", Keywords: []string{"x"}, Action: rules.ActionHold}); parley.ErrorCode(err) != parley.EForbidden {
		t.Fatalf("a member writes a rule: %v", err)
	}
	if list, _ := p.book.List(ctx, p.mod); len(list) != 1 {
		t.Fatalf("refused rules were stored: %d rules", len(list))
	}
}

// TestUploadGate: an image whose PDQ hash is in a block bank is stopped at
// upload, kept as evidence but never served, the uploader gets a strike
// and a case waits for a moderator; a rotated copy is stopped too; an
// allow bank entry for it lets it through.
func TestUploadGate(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	original := testImage(t, "bridge-1-original.jpg")
	rotated := testImage(t, "bridge-2-rotate-90.jpg")
	other := testImage(t, "q2821.jpg")
	h, _, err := pdq.HashBytes(original)
	if err != nil {
		t.Fatal(err)
	}
	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "known-bad", Kind: banks.KindBlock, Category: string(sor.CategoryProtectionOfMinors),
		Keywords: []string{string(sor.KeywordChildSexualAbuseMaterial)}, Action: banks.ActionBlockUpload, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.banks.AddEntry(ctx, sys, bank.ID, banks.Entry{Type: banks.TypePDQ, Value: h.String(), Source: "test list"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.matcher.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	for name, data := range map[string][]byte{"original": original, "rotated": rotated} {
		_, err := p.msg.UploadImage(ctx, p.author, data)
		if parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(parley.ErrorMessage(err), "can't be uploaded") {
			t.Fatalf("%s upload: %v; want the neutral refusal", name, err)
		}
	}
	blocked := p.storedMedia(t, original)
	if blocked.Status != parley.MediaBlocked {
		t.Fatalf("the stopped upload is kept as %+v; want blocked", blocked)
	}
	if u, _ := p.db.FindUserByID(ctx, p.author.ID); u.Strikes != 2 {
		t.Fatalf("strikes after two stopped uploads = %d, want 2", u.Strikes)
	}
	queue, open, err := p.review.Queue(ctx, p.mod, 10)
	if err != nil || open != 2 || queue[0].Kind != review.KindBlockedUpload || queue[0].ActionID == 0 {
		t.Fatalf("queue = %+v (%d open), %v", queue, open, err)
	}
	// Posting the blocked image by its id fails as if it did not exist.
	_, err = p.msg.PostMessage(ctx, p.author, p.group.ID, messaging.PostInput{MediaID: blocked.ID})
	if parley.ErrorField(err) != "media_id" {
		t.Fatalf("posting a blocked image: %v", err)
	}
	if _, err := p.msg.UploadImage(ctx, p.author, other); err != nil {
		t.Fatalf("an unrelated image: %v", err)
	}

	// A moderator finds the rotated one a false positive: release it, and
	// add it to an allow bank so that it is not stopped again.
	allow, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "known-fine", Kind: banks.KindAllow, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	hr, _, _ := pdq.HashBytes(rotated)
	if _, _, err := p.banks.AddEntry(ctx, sys, allow.ID, banks.Entry{Type: banks.TypePDQ, Value: hr.String(), Source: "review"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.matcher.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	rotatedID := p.storedMedia(t, rotated).ID
	for _, c := range queue {
		if c.TargetID == rotatedID {
			if err := p.review.ReleaseBlock(ctx, p.mod, c.ID, "a photo of a bridge, not abuse"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if m, err := p.db.FindMedia(ctx, rotatedID); err != nil || m.Status != "" {
		t.Fatalf("released image = %+v, %v", m, err)
	}
	if _, err := p.msg.PostMessage(ctx, p.author, p.group.ID, messaging.PostInput{MediaID: rotatedID}); err != nil {
		t.Fatalf("posting the released image: %v", err)
	}
}

// storedMedia returns the one stored media item of data's bytes, found by
// their SHA-256 as re-screening finds it.
func (p *pipeline) storedMedia(t *testing.T, data []byte) *parley.Media {
	t.Helper()
	ms, err := p.db.FindMediaBySHA256(context.Background(), pdq.SHA256Hex(data), "", 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("stored items of those bytes: %+v, %v; want one", ms, err)
	}
	return ms[0]
}

// testImage reads an image of testdata/pdq.
func testImage(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "pdq", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (p *pipeline) rescanner() *screen.Rescanner {
	return &screen.Rescanner{Store: p.db, Screen: p.screen, Enforce: p.enforce, Clock: p.clock}
}

// TestHashAndPurge: an image is posted in several chats before its hash is
// banned; when the entry is added, re-screening removes every copy, each
// with a statement for its author, and a second run (the same event
// delivered again) does nothing more.
func TestHashAndPurge(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	data := testImage(t, "bridge-1-original.jpg")
	img, err := p.msg.UploadImage(ctx, p.author, data)
	if err != nil {
		t.Fatal(err)
	}
	// Copies: in the channel, twice in the group, and the same bytes as a
	// forward into the direct chat.
	for _, chat := range []*parley.Chat{p.channel, p.group, p.group} {
		if _, err := p.msg.PostMessage(ctx, p.author, chat.ID, messaging.PostInput{MediaID: img.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.msg.PostMessage(ctx, p.author, p.direct.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: p.channel.ID, Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	rs := p.rescanner()
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}

	h, _, _ := pdq.HashBytes(data)
	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "terror-content", Kind: banks.KindBlock,
		Category: string(sor.CategoryRiskForPublicSecurity), Keywords: []string{string(sor.KeywordTerroristContent)},
		Action: banks.ActionRemove, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.banks.AddEntry(ctx, sys, bank.ID, banks.Entry{Type: banks.TypePDQ, Value: h.String(), Source: "GIFCT"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	parents, err := p.enforce.List(ctx, p.mod, enforce.Filter{Kind: enforce.RemoveMedia})
	if err != nil || len(parents) != 1 || parents[0].Children != 4 || !parents[0].Automated {
		t.Fatalf("remove-media actions = %+v, %v; want one, automated, with 4 copies", parents, err)
	}
	if s := parents[0].Statement; s.AutomatedDetection != sor.Yes || !strings.Contains(s.DecisionFacts, "terror-content") {
		t.Fatalf("statement = %+v", s)
	}
	for _, chat := range []*parley.Chat{p.channel, p.group, p.direct} {
		for _, m := range p.history(t, p.author, chat) {
			if m.MediaID != "" || m.Notice == nil || m.Notice.Kind != parley.NoticeRemoved {
				t.Fatalf("a copy in %s chat %d is still there: %+v", chat.Kind, chat.ID, m)
			}
		}
	}
	if m, _ := p.db.FindMedia(ctx, img.ID); m.Status != parley.MediaRemoved {
		t.Fatalf("media status = %q", m.Status)
	}
	// Again, as after a replayed event: nothing more happens.
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ := p.enforce.List(ctx, p.mod, enforce.Filter{})
	if len(all) != 5 {
		t.Fatalf("%d actions after a second run, want the same 5", len(all))
	}
	// A new re-screener (a restarted process) goes on from the stored cursor.
	if err := p.rescanner().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := p.enforce.List(ctx, p.mod, enforce.Filter{}); len(all) != 5 {
		t.Fatalf("%d actions after a restart, want the same 5", len(all))
	}
}

// TestExactHashEntriesFindEveryUpload: each upload is its own item, so one
// SHA-256 or MD5 may name several; an entry added later finds every one of
// them by the hashes taken at upload (ids are random and say nothing of
// the bytes), and leaves other images alone.
func TestExactHashEntriesFindEveryUpload(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	bridge, other, fine := testImage(t, "bridge-1-original.jpg"), testImage(t, "q0003.jpg"), testImage(t, "q0004.jpg")
	posted := map[string]*parley.Media{}
	for _, up := range []struct {
		name string
		by   *parley.User
		data []byte
		chat *parley.Chat
	}{
		{"bridge by the author", p.author, bridge, p.group},
		{"bridge by the reader", p.reader, bridge, p.direct},
		{"other", p.author, other, p.channel},
		{"fine", p.author, fine, p.channel},
	} {
		m, err := p.msg.UploadImage(ctx, up.by, up.data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.msg.PostMessage(ctx, up.by, up.chat.ID, messaging.PostInput{MediaID: m.ID}); err != nil {
			t.Fatal(err)
		}
		posted[up.name] = m
	}
	if posted["bridge by the author"].ID == posted["bridge by the reader"].ID {
		t.Fatal("two uploads of the same bytes are one item")
	}
	rs := p.rescanner()
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "known-bad", Kind: banks.KindBlock,
		Category: string(sor.CategoryRiskForPublicSecurity), Keywords: []string{string(sor.KeywordTerroristContent)},
		Action: banks.ActionRemove, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	for typ, value := range map[banks.EntryType]string{banks.TypeSHA256: pdq.SHA256Hex(bridge), banks.TypeMD5: pdq.MD5Hex(other)} {
		if _, _, err := p.banks.AddEntry(ctx, sys, bank.ID, banks.Entry{Type: typ, Value: value, Source: "clearing house"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for name, m := range posted {
		got, err := p.db.FindMedia(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: "", false: parley.MediaRemoved}[name == "fine"]; got.Status != want {
			t.Errorf("%s: status %q after re-screening; want %q", name, got.Status, want)
		}
	}
	parents, err := p.enforce.List(ctx, p.mod, enforce.Filter{Kind: enforce.RemoveMedia})
	if err != nil || len(parents) != 3 {
		t.Fatalf("remove-media actions = %d, %v; want one for each of the 3 items", len(parents), err)
	}
}

// TestEnabledRuleRescansStoredPosts: a rule enabled later removes what it
// matches among the posts already stored, once per version.
func TestEnabledRuleRescansStoredPosts(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	for _, text := range []string{"win a free iphone here", "hello everyone", "WIN A FREE iPhone now"} {
		if _, err := p.post(t, p.author, p.channel, text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.post(t, p.author, p.direct, "win a free iphone, between us"); err != nil {
		t.Fatal(err)
	}
	p.rule(t, rules.Rule{ID: "free-phone", Keywords: []string{"free iphone"}, Action: rules.ActionRemove, Mode: rules.ModeEnforce,
		Category: string(sor.CategoryScamsAndFraud)})
	rs := p.rescanner()
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var removed, kept int
	for _, m := range p.history(t, p.reader, p.channel) {
		if m.Notice != nil && m.Notice.Kind == parley.NoticeRemoved {
			removed++
		} else {
			kept++
		}
	}
	if removed != 2 || kept != 1 {
		t.Fatalf("after the rescan: %d removed, %d kept; want 2 and 1", removed, kept)
	}
	if h := p.history(t, p.reader, p.direct); len(h) != 1 || h[0].Notice != nil {
		t.Fatalf("a direct message was rescanned: %+v", h)
	}
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := p.enforce.List(ctx, p.mod, enforce.Filter{}); len(all) != 2 {
		t.Fatalf("%d actions after a second run, want 2", len(all))
	}
}

// TestLinkEntryRescansStoredPosts: a domain added to a bank removes the
// stored posts that link to it.
func TestLinkEntryRescansStoredPosts(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	if _, err := p.post(t, p.author, p.group, "claim it at https://free-prize.example/claim"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.post(t, p.author, p.group, "see https://news.example/today"); err != nil {
		t.Fatal(err)
	}
	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "scam-domains", Kind: banks.KindBlock,
		Category: string(sor.CategoryScamsAndFraud), Action: banks.ActionRemove, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.banks.AddEntry(ctx, sys, bank.ID, banks.Entry{Type: banks.TypeDomain, Value: "free-prize.example", Source: "reports"}); err != nil {
		t.Fatal(err)
	}
	if err := p.rescanner().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	h := p.history(t, p.author, p.group)
	if len(h) != 2 || h[1].Notice == nil || h[0].Notice != nil {
		t.Fatalf("after the rescan = %+v; want the scam link removed, the news kept", h)
	}
}

// TestFlaggedMediaDecidedFromTheQueue: a bank that asks for review, given
// an entry after an image was posted, opens a case for the stored image;
// removing it from the queue removes every copy and closes the case.
func TestFlaggedMediaDecidedFromTheQueue(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	data := testImage(t, "bridge-1-original.jpg")
	img, err := p.msg.UploadImage(ctx, p.author, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.msg.PostMessage(ctx, p.author, p.group.ID, messaging.PostInput{MediaID: img.ID}); err != nil {
		t.Fatal(err)
	}
	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "maybe-bad", Kind: banks.KindBlock,
		Category: string(sor.CategoryViolence), Action: banks.ActionReview, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := pdq.HashBytes(data)
	if _, _, err := p.banks.AddEntry(ctx, sys, bank.ID, banks.Entry{Type: banks.TypePDQ, Value: h.String(), Source: "tip"}); err != nil {
		t.Fatal(err)
	}
	if err := p.rescanner().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	queue, open, err := p.review.Queue(ctx, p.mod, 10)
	if err != nil || open != 1 || queue[0].Kind != review.KindFlaggedMedia || queue[0].TargetID != img.ID {
		t.Fatalf("queue = %+v (%d open), %v", queue, open, err)
	}
	if h := p.history(t, p.author, p.group); h[0].MediaID == "" {
		t.Fatal("a flagged image was hidden before anyone decided")
	}
	a, err := p.review.Remove(ctx, p.mod, queue[0].ID, enforce.Grounds{Ground: sor.GroundIncompatibleContent,
		TermsGround: screen.TermsGround, Source: sor.SourceVoluntary, Automation: sor.NotAutomated})
	if err != nil || a.Kind != enforce.RemoveMedia || a.Children != 1 {
		t.Fatalf("removal from the queue = %+v, %v", a, err)
	}
	// The grounds named no signal: the case does, and says the screen found it.
	if s := a.Statement; s == nil || s.AutomatedDetection != sor.Yes || !strings.Contains(s.DecisionFacts, `hash bank "maybe-bad"`) {
		t.Fatalf("statement of a removal from the queue = %+v; want automated detection by the bank", s)
	}
	if _, open, _ := p.review.Queue(ctx, p.mod, 10); open != 0 {
		t.Fatalf("%d cases open after the decision", open)
	}
	decided, err := p.review.Decided(ctx, p.mod, 10)
	if err != nil || len(decided) != 1 || decided[0].Decision != review.DecisionRemoved || decided[0].ActionID != a.ID {
		t.Fatalf("decided = %+v, %v", decided, err)
	}
}

// passCountingStore is the real store, counting the passes re-screening
// makes over the stored media hashes (a pass starts from the first id).
type passCountingStore struct {
	*sqlite.DB
	passes int
}

func (s *passCountingStore) ScanMediaHashes(ctx context.Context, afterID string, minQuality, limit int) ([]screen.MediaHash, error) {
	if afterID == "" {
		s.passes++
	}
	return s.DB.ScanMediaHashes(ctx, afterID, minQuality, limit)
}

// TestLargeImportIsOnePassOverStoredMedia: an import larger than a page of
// the change log is re-screened in one pass over the stored media, and the
// copy matched by an entry on its last page is still found.
func TestLargeImportIsOnePassOverStoredMedia(t *testing.T) {
	p := setup(t)
	ctx := context.Background()
	sys := banks.SystemActor("test", "")
	data := testImage(t, "bridge-1-original.jpg")
	img, err := p.msg.UploadImage(ctx, p.author, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.msg.PostMessage(ctx, p.author, p.group.ID, messaging.PostInput{MediaID: img.ID}); err != nil {
		t.Fatal(err)
	}
	store := &passCountingStore{DB: p.db}
	rs := &screen.Rescanner{Store: store, Screen: p.screen, Enforce: p.enforce, Clock: p.clock}
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}

	bank, err := p.banks.CreateBank(ctx, sys, banks.Bank{Name: "imported", Kind: banks.KindBlock,
		Category: string(sor.CategoryRiskForPublicSecurity), Keywords: []string{string(sor.KeywordTerroristContent)},
		Action: banks.ActionRemove, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	// 2.5 pages of unrelated hashes, the image's own hash last.
	n := banks.MaxListLimit*5/2 - 1
	var csv strings.Builder
	for i := 0; i < n; i++ {
		var h pdq.Hash
		for j := range h {
			h[j] = byte(i>>(8*(j%3))) ^ byte(j*37)
		}
		h[31] ^= 0x5a
		csv.WriteString(h.String() + "\n")
	}
	own, _, _ := pdq.HashBytes(data)
	csv.WriteString(own.String() + "\n")
	if _, err := p.banks.Import(ctx, sys, bank.ID, strings.NewReader(csv.String()), banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypePDQ, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	store.passes = 0
	if err := rs.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if store.passes != 1 {
		t.Errorf("%d passes over the stored media for one import of %d entries, want 1", store.passes, n+1)
	}
	if m, _ := p.db.FindMedia(ctx, img.ID); m.Status != parley.MediaRemoved {
		t.Fatalf("media status = %q, want removed by the entry on the import's last page", m.Status)
	}
}
