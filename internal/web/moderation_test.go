package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"parley"
	"parley/internal/app"
	"parley/internal/audit"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// staffBrowser makes an account with a staff role and signs it in through
// the sign-in form.
func staffBrowser(t *testing.T, s *server, username string, role parley.Role) *browser {
	t.Helper()
	if _, err := s.Auth.CreateUser(context.Background(), auth.SignUpInput{Username: username, Password: "correct horse battery"}, role); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s)
	b.post("/signin", url.Values{"username": {username}, "password": {"correct horse battery"}}).wantRedirect(t, "sign in "+username, "/chats")
	return b
}

// channelWithPost makes a channel owned by b's account with one post, and
// returns the chat's path and id.
func channelWithPost(t *testing.T, b *browser, handle, title, text string) (string, int64) {
	t.Helper()
	chat := b.post("/channels", url.Values{"handle": {handle}, "title": {title}}).wantRedirect(t, "create channel", "/chats/")
	b.postMultipart(chat+"/messages", map[string]string{"text": text}, "", "", nil).wantRedirect(t, "post", chat+"#m-1")
	var id int64
	fmt.Sscanf(chat, "/chats/%d", &id)
	return chat, id
}

// scamRemoval is the take-action form filled in to remove message 1 of a
// chat as a scam.
func scamRemoval(chatID int64) url.Values {
	return url.Values{
		"kind": {"remove_message"}, "chat_id": {fmt.Sprint(chatID)}, "seq": {"1"},
		"ground": {"DECISION_GROUND_INCOMPATIBLE_CONTENT"}, "ground_text": {"Section 4.2 (scams) of the Parley Terms of Service"},
		"category": {"STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}, "keywords": {"KEYWORD_PHISHING", "KEYWORD_PYRAMID_SCHEMES"},
		"source": {"SOURCE_VOLUNTARY"}, "automation": {"AUTOMATED_DECISION_NOT_AUTOMATED"},
		"note": {"wave 3 of the crypto spam, see ticket 88"},
	}
}

// actionID reads the id from an action's address.
func actionID(t *testing.T, location string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(location, "/moderation/actions/%d", &id); err != nil {
		t.Fatalf("%q is not an action's address", location)
	}
	return id
}

func TestStatementOfReasonsForTheAffectedAccountOnly(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	author, reader, other := newBrowser(t, s), newBrowser(t, s), newBrowser(t, s)
	author.signUp("author")
	reader.signUp("reader")
	other.signUp("other")
	chat, chatID := channelWithPost(t, author, "cryptodeals", "Crypto deals", "send 1 BTC, get 2 back")

	loc := mod.post("/moderation/actions", scamRemoval(chatID)).wantRedirect(t, "take action", "/moderation/actions/")
	id := actionID(t, loc)
	statement := fmt.Sprintf("/statements/%d", id)
	detail := mod.get(loc).wantStatus(t, "action page", http.StatusOK)
	detail.contains(t, "action page", "Action #1 taken: remove message.", "wave 3 of the crypto spam", "send 1 BTC, get 2 back", // the evidence
		"Affected account</dt><dd>@author", "by @moddy", `&#34;puid&#34;: &#34;parley-sor-1&#34;`)

	// The author is told in place of the message, with the way to the
	// statement; other readers only see the notice.
	p := author.get(chat).wantStatus(t, "author's chat", http.StatusOK)
	p.contains(t, "author's chat", `<p class="notice" role="note">This message was removed: Scams and fraud. <a href="`+statement+`">Why?</a></p>`)
	p.lacks(t, "author's chat", "send 1 BTC", chat+"/messages/1/forward", chat+"/messages/1/edit")
	p = reader.get(chat).wantStatus(t, "reader's chat", http.StatusOK)
	p.contains(t, "reader's chat", `<p class="notice" role="note">This message was removed: Scams and fraud.</p>`)
	p.lacks(t, "reader's chat", "send 1 BTC", "Why?")

	// The statement, in plain language, with every part Article 17 asks for.
	p = author.get(statement).wantStatus(t, "statement", http.StatusOK)
	appeal := time.Now().UTC().AddDate(0, 6, 0).Format("2 January 2006")
	p.contains(t, "statement",
		"<h1 id=\"statement-title\">Your message was removed</h1>",
		"in the channel “\u2068Crypto deals\u2069”", `href="`+chat+`#m-1">See it in the chat</a>`, // what, and where
		"Everywhere: for everyone who could see it.", "Indefinitely: until the decision is reversed.", // scope, duration
		"We found it ourselves, on our own initiative.", "The decision concerns a text message posted in a channel", // facts
		"Were automated means used to detect it?</dt><dd>No.", "Were automated means used to decide?</dt><dd>No. A person took the decision.",
		"Contractual ground</dt><dd>We consider the content incompatible with Section 4.2 (scams) of the Parley Terms of Service.",
		"by a moderator who reviewed it", // the explanation
		"Category</dt><dd>Scams and fraud</dd>", "Phishing, Pyramid schemes",
		"for at least six months", appeal, "Out-of-court dispute settlement", "Article 21", "take the matter to court",
		"mailto:appeals@parley.example", "<code>parley-sor-1</code>")
	p.lacks(t, "statement", "wave 3", "ticket 88", "moddy", "Action #", "staff-banner")

	list := author.get("/statements").wantStatus(t, "statements", http.StatusOK)
	list.contains(t, "statements", `<a href="`+statement+`">Your message was removed</a>`, "Scams and fraud", "In effect")
	author.get("/profile").contains(t, "profile", `href="/statements"`)

	// Nobody else may read it: for them it does not exist.
	for _, b := range []*browser{reader, other} {
		p := b.get(statement).wantStatus(t, "someone else's statement", http.StatusNotFound)
		p.contains(t, "someone else's statement", "<h1>Not found</h1>")
		p.lacks(t, "someone else's statement", "Scams", "Crypto")
		b.get("/statements").contains(t, "no statements", "Nothing of yours has been restricted.")
	}
	other.get("/statements/999").wantStatus(t, "no such statement", http.StatusNotFound)
	other.get("/statements/abc").wantStatus(t, "malformed statement id", http.StatusNotFound)
	newBrowser(t, s).get(statement).wantRedirect(t, "signed out", "/signin?next=")

	// Staff read it as the account does, and are told so.
	mod.get(statement).wantStatus(t, "staff read the statement", http.StatusOK).contains(t, "staff statement", "staff-banner", "Your message was removed")

	// Restored, the statement says so and the message is back. Who
	// restored it and why is for staff only.
	mod.post(loc+"/restore", url.Values{"reason": {"appeal upheld, see ticket 91"}}).wantRedirect(t, "restore", loc)
	mod.get(loc).contains(t, "restored action page", "by @moddy: appeal upheld, see ticket 91")
	p = author.get(statement)
	p.contains(t, "restored statement", "This decision was reversed on")
	p.lacks(t, "restored statement", "ticket 91", "moddy")
	p = author.get("/statements")
	p.contains(t, "restored list", "Reversed")
	p.lacks(t, "restored list", "ticket 91", "moddy")
	p = reader.get(chat)
	p.contains(t, "restored chat", "send 1 BTC, get 2 back")
	p.lacks(t, "restored chat", `class="notice"`)
}

func TestModerationPagesCheckTheRole(t *testing.T) {
	s := startServer(t)
	member := newBrowser(t, s)
	member.signUp("member")
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	legal := staffBrowser(t, s, "officer", parley.RoleLegalOfficer)
	admin := staffBrowser(t, s, "root", parley.RoleAdmin)
	_, chatID := channelWithPost(t, member, "somenews", "Some news", "hello")
	loc := mod.post("/moderation/actions", scamRemoval(chatID)).wantRedirect(t, "take action", "/moderation/actions/")
	admin.post("/moderation/banks", url.Values{"name": {"memes"}, "kind": {"allow"}}).wantRedirect(t, "create bank", "/moderation/banks/")

	mod.post("/moderation/rules", url.Values{"id": {"hello-rule"}, "keywords": {"hello"}, "action": {"hold"}, "mode": {"shadow"}}).
		wantRedirect(t, "create rule", "/moderation/rules/hello-rule")

	// Hash banks, the queue, the rules and campaigns are for moderators and
	// admins.
	moderatorGets := []string{"/moderation/banks", "/moderation/banks/new", "/moderation/banks/1", "/moderation/queue",
		"/moderation/queue/decided", "/moderation/cases/1", "/moderation/rules", "/moderation/rules/new", "/moderation/rules/hello-rule",
		"/moderation/rules/hello-rule/edit", "/moderation/campaigns", "/moderation/campaigns/1"}
	moderatorPosts := []string{"/moderation/banks", "/moderation/banks/1/enabled", "/moderation/banks/1/entries",
		"/moderation/banks/1/entries/1/remove", "/moderation/banks/1/import", "/moderation/banks/1/export",
		"/moderation/cases/1/approve", "/moderation/cases/1/remove", "/moderation/cases/1/confirm",
		"/moderation/cases/1/release", "/moderation/rules", "/moderation/rules/hello-rule/edit", "/moderation/rules/hello-rule/enabled",
		"/moderation/rules/hello-rule/mode", "/moderation/rules/hello-rule/backtest", "/moderation/campaigns/1/remove",
		"/moderation/campaigns/1/dismiss"}
	gets := append([]string{"/moderation", "/moderation/actions", "/moderation/actions/new", loc, "/moderation/holds",
		"/moderation/audit"}, moderatorGets...)
	posts := append([]string{"/moderation/actions", loc + "/restore", "/moderation/holds", "/moderation/holds/1/release"}, moderatorPosts...)

	// A member gets "Not allowed" everywhere, and nothing of the section.
	for _, path := range gets {
		p := member.get(path).wantStatus(t, "member GET "+path, http.StatusForbidden)
		p.contains(t, path, "<h1>Not allowed</h1>")
		p.lacks(t, path, "hello", "Section 4.2", "memes", `href="/moderation/queue"`)
	}
	for _, path := range posts {
		member.post(path, url.Values{"reason": {"x"}, "enabled": {"true"}, "version": {"1"}, "mode": {"enforce"}}).
			wantStatus(t, "member POST "+path, http.StatusForbidden)
	}
	if r, _, err := s.Rules.Find(context.Background(), &parley.User{ID: 1, Role: parley.RoleModerator}, "hello-rule"); err != nil || r.Enabled || r.Version != 1 {
		t.Fatalf("a member's posts changed the rule: %+v, %v", r, err)
	}
	member.get("/chats").lacks(t, "member's navigation", `href="/moderation/actions"`)
	if a, err := s.Enforce.Store.FindAction(context.Background(), actionID(t, loc)); err != nil || !a.Standing() {
		t.Fatalf("a member's restore changed the action: %+v, %v", a, err)
	}
	// Signed out, the pages ask to sign in.
	newBrowser(t, s).get("/moderation/actions").wantRedirect(t, "signed out", "/signin?next=%2Fmoderation%2Factions")

	// Each staff role reaches what it may.
	nav := mod.get("/moderation/actions").wantStatus(t, "moderator", http.StatusOK)
	nav.contains(t, "moderator's navigation", `href="/moderation/actions" aria-current="page">Moderation</a>`,
		`href="/moderation/banks"`, `<a href="/moderation/queue">Review queue</a>`, `<a href="/moderation/rules">Rules</a>`,
		`<a href="/moderation/campaigns">Campaigns</a>`)
	nav.lacks(t, "moderator's navigation", `href="/moderation/audit"`, "nav-soon")
	for _, path := range []string{"/moderation/queue", "/moderation/queue/decided", "/moderation/rules", "/moderation/rules/new",
		"/moderation/rules/hello-rule", "/moderation/rules/hello-rule/edit", "/moderation/campaigns"} {
		mod.get(path).wantStatus(t, "moderator GET "+path, http.StatusOK)
	}
	mod.get("/moderation/audit").wantStatus(t, "moderator reads the audit log", http.StatusForbidden)
	mod.post("/moderation/holds", url.Values{"target_type": {"chat"}, "chat_id": {fmt.Sprint(chatID)}, "reason": {"order 7"}}).
		wantStatus(t, "moderator places a hold", http.StatusForbidden)
	mod.get("/moderation/holds").lacks(t, "moderator's holds page", `action="/moderation/holds"`)

	legal.get("/moderation/actions").wantStatus(t, "legal officer", http.StatusOK).lacks(t, "legal officer's navigation", `href="/moderation/banks"`)
	legal.get("/moderation/banks").wantStatus(t, "legal officer's banks", http.StatusForbidden)
	legal.post("/moderation/banks", url.Values{"name": {"x"}, "kind": {"allow"}}).wantStatus(t, "legal officer creates a bank", http.StatusForbidden)
	legal.get("/moderation/holds").contains(t, "legal officer's holds page", `action="/moderation/holds"`)
	legal.get("/moderation/actions").lacks(t, "legal officer's navigation", `href="/moderation/queue"`, `href="/moderation/rules"`, `href="/moderation/campaigns"`)
	for _, path := range moderatorGets {
		p := legal.get(path).wantStatus(t, "legal officer GET "+path, http.StatusForbidden)
		p.contains(t, path, "<h1>Not allowed</h1>", "this page is for moderators and admins")
	}
	for _, path := range moderatorPosts {
		legal.post(path, url.Values{"reason": {"x"}, "enabled": {"true"}}).wantStatus(t, "legal officer POST "+path, http.StatusForbidden)
	}

	admin.get("/moderation/audit").wantStatus(t, "admin's audit log", http.StatusOK)
	admin.get("/moderation/rules/hello-rule").wantStatus(t, "admin's rule page", http.StatusOK)
	admin.get("/moderation/queue").wantStatus(t, "admin's queue", http.StatusOK)
	admin.get("/moderation/actions").contains(t, "admin's navigation", `href="/moderation/audit"`)
}

func TestTakeActionFormShowsErrorsNextToFields(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	author := newBrowser(t, s)
	author.signUp("author")
	_, chatID := channelWithPost(t, author, "cryptodeals", "Crypto deals", "send 1 BTC")

	form := mod.get("/moderation/actions/new?kind=remove_message&chat_id="+fmt.Sprint(chatID)+"&seq=1").wantStatus(t, "form", http.StatusOK)
	form.contains(t, "form", `<option value="remove_message" selected>`, `name="chat_id" type="text" value="`+fmt.Sprint(chatID)+`"`,
		`<option value="STATEMENT_CATEGORY_SCAMS_AND_FRAUD">Scams and fraud</option>`, // from the sor enumerations
		`value="KEYWORD_VIOLATION_EU_LAW"> Violation EU law`, `<option value="SOURCE_VOLUNTARY" selected>`,
		`<option value="AUTOMATED_DECISION_NOT_AUTOMATED" selected>`)
	form.lacks(t, "form", `value="block_upload"`) // only the screen blocks uploads

	change := func(edit func(v url.Values)) url.Values {
		v := scamRemoval(chatID)
		edit(v)
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string
		msg    string
	}{
		{"no kind", change(func(v url.Values) { v.Del("kind") }), 400, "kind", "choose what to do"},
		{"malformed chat", change(func(v url.Values) { v.Set("chat_id", "news") }), 400, "chat_id", "the chat is a number"},
		{"no message", change(func(v url.Values) { v.Set("seq", "") }), 400, "chat_id", "a message is named by its chat_id and seq"},
		{"missing message", change(func(v url.Values) { v.Set("seq", "99") }), 400, "seq", "not found"},
		{"missing message by its link", change(func(v url.Values) { v.Set("chat_id", "http://x/chats/"+fmt.Sprint(chatID)+"#m-98"); v.Del("seq") }), 400, "seq", "not found"},
		{"no ground", change(func(v url.Values) { v.Del("ground") }), 400, "ground", "choose the ground"},
		{"no clause", change(func(v url.Values) { v.Set("ground_text", " ") }), 400, "ground_text", "terms_ground is required"},
		{"no category", change(func(v url.Values) { v.Del("category") }), 400, "category", "is not a Transparency Database category"},
		{"notifier on own initiative", change(func(v url.Values) { v.Set("notifier", "Some Org") }), 400, "notifier", "notifier_organisation goes only with"},
		{"personal data in the ground", change(func(v url.Values) { v.Set("ground_text", "reported by jane.doe@example.com") }), 400, "ground_text", ""},
		{"past end", change(func(v url.Values) { v.Set("until", "2020-01-02") }), 400, "until", "must be in the future"},
		{"malformed end", change(func(v url.Values) { v.Set("until", "soon") }), 400, "until", "YYYY-MM-DD"},
		{"withholding nowhere", change(func(v url.Values) { v.Set("kind", "withhold_message") }), 400, "countries", "name the countries"},
		{"withholding in no country", change(func(v url.Values) { v.Set("kind", "withhold_message"); v.Set("countries", "DE, XX") }), 400, "countries", "XX"},
		{"label without text", change(func(v url.Values) { v.Set("kind", "label_message") }), 400, "label", "a label needs its text"},
		{"unknown account", change(func(v url.Values) { v.Set("kind", "suspend_account"); v.Set("username", "@ghost") }), 400, "username", "there is no account named"},
		{"suspension without end", change(func(v url.Values) { v.Set("kind", "suspend_account"); v.Set("username", "author") }), 400, "until", "a suspension needs an end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mod.post("/moderation/actions", tc.form).wantStatus(t, tc.name, tc.status)
			re := regexp.MustCompile(`<p class="field-error" id="f-` + tc.field + `-error"><span class="visually-hidden">Error: </span>[^<]*` + regexp.QuoteMeta(tc.msg))
			if !re.MatchString(p.Body) {
				t.Errorf("no error %q next to field %s\n%s", tc.msg, tc.field, p.Body)
			}
			// The summary at the top links to the field.
			p.contains(t, tc.name, `<div class="error-summary" role="alert">`, `<li><a href="#f-`+tc.field+`">`)
			// What was typed and chosen is kept.
			p.contains(t, tc.name, "wave 3 of the crypto spam, see ticket 88</textarea>", `value="KEYWORD_PHISHING" checked`,
				`<details class="more" open>`)
		})
	}
	if list, err := s.Enforce.List(context.Background(), &parley.User{ID: 1, Role: parley.RoleModerator}, enforce.Filter{}); err != nil || len(list) != 0 {
		t.Fatalf("refused forms took actions: %v, %v", list, err)
	}
	mod.post("/moderation/actions", scamRemoval(chatID)).wantRedirect(t, "good form", "/moderation/actions/")
	// Acting twice on the same message is refused, with the reason.
	mod.post("/moderation/actions", scamRemoval(chatID)).wantStatus(t, "twice", http.StatusConflict).
		contains(t, "twice", `<p class="form-error" role="alert">message 1 of chat `+fmt.Sprint(chatID)+` was already removed (action 1)</p>`)
}

func TestActionListDetailAndRestore(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	owner, err := s.Auth.CreateUser(ctx, auth.SignUpInput{Username: "poster", Password: "correct horse battery"}, parley.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Messaging.CreateChat(ctx, owner, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "bulletin", Title: "Bulletin"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 53; i++ {
		if _, err := s.Messaging.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: fmt.Sprintf("post %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The screen removes post 1 automatically; a moderator labels the rest.
	auto, err := s.Enforce.Apply(ctx, nil, enforce.Request{Kind: enforce.RemoveMessage, Target: enforce.Target{ChatID: ch.ID, Seq: 1},
		Grounds: enforce.Grounds{Ground: sor.GroundIncompatibleContent, TermsGround: "Section 4.2 (scams) of the Parley Terms of Service",
			Category: sor.CategoryScamsAndFraud, Source: sor.SourceVoluntary, Signal: sor.Signal{Kind: sor.SignalTextRule, Name: "crypto-doubling", Version: 2},
			AutomatedDetection: true, Automation: sor.AutomatedFully}})
	if err != nil {
		t.Fatal(err)
	}
	for seq := 2; seq <= 53; seq++ {
		mod.post("/moderation/actions", url.Values{"kind": {"label_message"}, "chat_id": {fmt.Sprint(ch.ID)}, "seq": {fmt.Sprint(seq)},
			"label": {"Unverified claim"}, "ground": {"DECISION_GROUND_INCOMPATIBLE_CONTENT"}, "ground_text": {"Section 5 (misinformation) of the Parley Terms of Service"},
			"category": {"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"}, "source": {"SOURCE_VOLUNTARY"},
			"automation": {"AUTOMATED_DECISION_NOT_AUTOMATED"}}).wantRedirect(t, "label", "/moderation/actions/")
	}

	// Newest first, fifty a page, with who acted.
	p := mod.get("/moderation/actions").wantStatus(t, "list", http.StatusOK)
	p.contains(t, "list", `id="action-53"`, "Label message", "by", "@moddy", `href="/statements/53"`, "Standing",
		fmt.Sprintf("<a href=\"/chats/%d#m-53\">Message 53 in “\u2068Bulletin\u2069” (chat %d)</a>", ch.ID, ch.ID), `href="/moderation/actions?before=4">Older actions`)
	p.lacks(t, "list", `id="action-3"`)
	if strings.Index(p.Body, `id="action-53"`) > strings.Index(p.Body, `id="action-52"`) {
		t.Error("the list is not newest first")
	}
	p = mod.get("/moderation/actions?before=4").wantStatus(t, "older", http.StatusOK)
	p.contains(t, "older", `id="action-3"`, `id="action-1"`, `<span class="pill">automated</span>`)
	p.lacks(t, "older", `id="action-4"`, "Older actions")
	p = mod.get("/moderation/actions?kind=remove_message").wantStatus(t, "filter", http.StatusOK)
	p.contains(t, "filter", `id="action-1"`, `<option value="remove_message" selected>`)
	p.lacks(t, "filter", `id="action-2"`)
	mod.get("/moderation/actions?kind=explode").wantStatus(t, "unknown kind", http.StatusBadRequest)

	// An automated action's page names its signal and keeps the evidence.
	loc := fmt.Sprintf("/moderation/actions/%d", auto.ID)
	p = mod.get(loc).wantStatus(t, "detail", http.StatusOK)
	p.contains(t, "detail", "Action #1: Remove message", "by the automated screen (automated decision)", "text_rule crypto-doubling (version 2)",
		"Evidence kept", "post 1", "No note.", `action="`+loc+`/restore"`)
	mod.get("/moderation/actions/999").wantStatus(t, "no such action", http.StatusNotFound)

	// Restoring needs a reason, and then takes the action back.
	p = mod.post(loc+"/restore", url.Values{"reason": {"  "}}).wantStatus(t, "restore without reason", http.StatusBadRequest)
	p.contains(t, "restore without reason", `id="f-reason-error"`, "say why the action is restored")
	mod.post(loc+"/restore", url.Values{"reason": {"false positive of crypto-doubling v2"}}).wantRedirect(t, "restore", loc)
	p = mod.get(loc)
	p.contains(t, "restored", "Action restored", "<strong>Restored</strong>", "by @moddy: false positive of crypto-doubling v2", "was restored already")
	p.lacks(t, "restored", `action="`+loc+`/restore"`)
	mod.post(loc+"/restore", url.Values{"reason": {"again"}}).wantStatus(t, "restore twice", http.StatusConflict)
	mod.get("/moderation/actions?before=4").contains(t, "list after restore", "Restored")
}

func TestChatPageShowsLabelsAgeGatesAndWithholdings(t *testing.T) {
	// The German reader is placed in Germany by the trusted proxy in front
	// of the server (its country header); the author is placed nowhere.
	s := startServer(t, func(c *app.Config) { c.CountryHeader, c.TrustedProxies = "X-Viewer-Country", "127.0.0.1" })
	legal := staffBrowser(t, s, "officer", parley.RoleLegalOfficer)
	author, german := newBrowser(t, s), newBrowser(t, s)
	german.header = http.Header{"X-Viewer-Country": {"DE"}}
	author.signUp("author")
	german.signUp("german")
	chat, chatID := channelWithPost(t, author, "streetnews", "Street news", "a contested report")
	for _, text := range []string{"an adult story", "a disputed claim"} {
		author.postMultipart(chat+"/messages", map[string]string{"text": text}, "", "", nil).wantRedirect(t, "post", chat)
	}
	base := url.Values{"chat_id": {fmt.Sprint(chatID)}, "ground": {"DECISION_GROUND_ILLEGAL_CONTENT"},
		"ground_text": {"§ 130 StGB (incitement to hatred)"}, "category": {"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"},
		"source": {"SOURCE_TYPE_OTHER_NOTIFICATION"}, "notifier": {"Federal Criminal Police Office"}, "automation": {"AUTOMATED_DECISION_NOT_AUTOMATED"}}
	act := func(kind, seq string, extra url.Values) int64 {
		t.Helper()
		v := url.Values{"kind": {kind}, "seq": {seq}}
		for k, vs := range base {
			v[k] = vs
		}
		for k, vs := range extra {
			v[k] = vs
		}
		return actionID(t, legal.post("/moderation/actions", v).wantRedirect(t, kind, "/moderation/actions/"))
	}
	withheld := act("withhold_message", "1", url.Values{"countries": {"de"}})
	act("age_restrict_message", "2", nil)
	act("label_message", "3", url.Values{"label": {"Disputed"}})

	p := german.get(chat).wantStatus(t, "viewer in Germany", http.StatusOK)
	p.contains(t, "viewer in Germany", `<p class="notice" role="note">This message is not available in your country (DE) because it violated local law: Illegal or harmful speech.</p>`,
		`<details class="age-gate"><summary>Age-restricted content`, `<bdi class="label">Disputed</bdi>`, "a disputed claim")
	p.lacks(t, "viewer in Germany", "a contested report")
	if i, j := strings.Index(p.Body, `<details class="age-gate">`), strings.Index(p.Body, "an adult story"); i < 0 || j < i {
		t.Error("the age-restricted text is not inside the reveal")
	}
	// Elsewhere the withheld message is shown; its author is told why in
	// the statement, reached from the list.
	author.get(chat).contains(t, "author elsewhere", "a contested report")
	author.get("/statements").contains(t, "author's statements", fmt.Sprintf(`href="/statements/%d">Your message is not shown in some countries`, withheld))
	st := author.get(fmt.Sprintf("/statements/%d", withheld)).wantStatus(t, "withholding statement", http.StatusOK)
	st.contains(t, "withholding statement", "from people in Germany (DE). Everyone else still sees it.", "Only for people in Germany (DE).",
		"It was reported to us by Federal Criminal Police Office.", "Legal ground</dt><dd>We consider the content illegal under § 130 StGB (incitement to hatred).",
		"Illegal or harmful speech")

	// Staff who place legal holds are offered one from the action's page,
	// with the form filled in.
	ap := legal.get(fmt.Sprintf("/moderation/actions/%d", withheld)).wantStatus(t, "action page", http.StatusOK)
	m := regexp.MustCompile(`<a href="(/moderation/holds\?[^"]+)">Place a legal hold on this target</a>`).FindStringSubmatch(ap.Body)
	if m == nil {
		t.Fatalf("no legal hold link on the action page\n%s", ap.Body)
	}
	hold := legal.get(strings.ReplaceAll(m[1], "&amp;", "&")).wantStatus(t, "hold form", http.StatusOK)
	hold.contains(t, "hold form", `<option value="message" selected>`, `name="chat_id" type="text" value="`+fmt.Sprint(chatID)+`"`, `name="seq" type="text" value="1"`)

	// A banned channel shows its notice instead of its posts; its owner
	// gets the way to the statement.
	ban := actionID(t, legal.post("/moderation/actions", func() url.Values {
		v := url.Values{"kind": {"ban_chat"}}
		for k, vs := range base {
			v[k] = vs
		}
		return v
	}()).wantRedirect(t, "ban", "/moderation/actions/"))
	p = author.get(chat).wantStatus(t, "owner of a banned channel", http.StatusOK)
	p.contains(t, "owner", fmt.Sprintf(`<p class="notice" role="note">This channel was banned: Illegal or harmful speech. <a href="/statements/%d">Why?</a></p>`, ban))
	p.lacks(t, "owner", "a disputed claim", `id="compose"`, "No messages yet")
	p = german.get(chat).wantStatus(t, "reader of a banned channel", http.StatusOK)
	p.contains(t, "reader", `<p class="notice" role="note">This channel was banned: Illegal or harmful speech.</p>`)
	p.lacks(t, "reader", "a disputed claim", "Why?")
	author.get(fmt.Sprintf("/statements/%d", ban)).contains(t, "ban statement", "Your channel was banned", "We banned your channel “\u2068Street news\u2069”.")
}

func TestHeldPostShowsItsNotice(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	bank := mod.post("/moderation/banks", url.Values{"name": {"suspect-links"}, "kind": {"block"}, "action": {"review"},
		"category": {"STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}, "enabled": {"yes"}}).wantRedirect(t, "bank", "/moderation/banks/")
	mod.post(bank+"/entries", url.Values{"type": {"domain"}, "value": {"evil.example"}}).wantRedirect(t, "entry", bank)
	if _, err := s.Matcher.Refresh(ctx); err != nil { // the bank.changed event does this too, later
		t.Fatal(err)
	}
	author, reader := newBrowser(t, s), newBrowser(t, s)
	author.signUp("author")
	reader.signUp("reader")
	chat, _ := channelWithPost(t, author, "deals", "Deals", "join https://evil.example/now")

	held := `<p class="notice" role="note">Waiting for review: only its author can see this message until a moderator has looked at it.</p>`
	p := author.get(chat).wantStatus(t, "author", http.StatusOK)
	p.contains(t, "author", held, "join https://evil.example/now")
	p.lacks(t, "author", chat+"/messages/1/forward")
	// Others do not see it at all until it is reviewed.
	reader.get(chat).wantStatus(t, "reader", http.StatusOK).lacks(t, "reader", "evil.example", `id="m-1"`)
}

func TestLegalHoldPages(t *testing.T) {
	s := startServer(t)
	legal := staffBrowser(t, s, "officer", parley.RoleLegalOfficer)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	author := newBrowser(t, s)
	author.signUp("author")
	_, chatID := channelWithPost(t, author, "evidence", "Evidence", "keep me")

	legal.get("/moderation/holds").wantStatus(t, "no holds", http.StatusOK).contains(t, "no holds", "No legal hold is in force.")
	p := legal.post("/moderation/holds", url.Values{"target_type": {""}, "reason": {"order 7"}}).wantStatus(t, "no target", http.StatusBadRequest)
	p.contains(t, "no target", `id="f-target_type-error"`, "choose what the hold keeps", `value="order 7"`)
	p = legal.post("/moderation/holds", url.Values{"target_type": {"message"}, "chat_id": {fmt.Sprint(chatID)}, "seq": {"1"}}).wantStatus(t, "no reason", http.StatusBadRequest)
	p.contains(t, "no reason", `id="f-reason-error"`, "say why the hold is placed")
	legal.post("/moderation/holds", url.Values{"target_type": {"user"}, "username": {"nobody"}, "reason": {"x"}}).
		wantStatus(t, "unknown account", http.StatusBadRequest).contains(t, "unknown account", `id="f-username-error"`)

	legal.post("/moderation/holds", url.Values{"target_type": {"message"}, "chat_id": {fmt.Sprint(chatID)}, "seq": {"1"}, "reason": {"EPOC-PR 2026/114"}}).
		wantRedirect(t, "place", "/moderation/holds")
	legal.post("/moderation/holds", url.Values{"target_type": {"user"}, "username": {"@author"}, "reason": {"case 9"}}).wantRedirect(t, "place", "/moderation/holds")
	p = mod.get("/moderation/holds").wantStatus(t, "moderator reads holds", http.StatusOK)
	p.contains(t, "holds", "EPOC-PR 2026/114", fmt.Sprintf("Message 1 in “\u2068Evidence\u2069” (chat %d)", chatID), "Account @author", "by @officer",
		"Legal officers and admins place and release legal holds.")
	p.lacks(t, "moderator's holds", `/release"`)
	mod.post("/moderation/holds/1/release", nil).wantStatus(t, "moderator releases", http.StatusForbidden)

	legal.get("/moderation/holds").contains(t, "officer's holds", `action="/moderation/holds/1/release"`)
	legal.post("/moderation/holds/1/release", nil).wantRedirect(t, "release", "/moderation/holds")
	p = legal.get("/moderation/holds")
	p.contains(t, "after release", "Legal hold 1 released", "case 9")
	p.lacks(t, "after release", "EPOC-PR 2026/114")
	legal.post("/moderation/holds/1/release", nil).wantStatus(t, "release twice", http.StatusConflict).contains(t, "release twice", "was already released")
}

// pdqHashes are valid PDQ hashes (128 of 256 bits set), distinct.
func pdqHash(i int) string {
	return fmt.Sprintf("%02x", i) + strings.Repeat("f0", 30) + fmt.Sprintf("%02x", 0x0f^i&0x0f)
}

func TestHashBankPages(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	mod.get("/moderation/banks").contains(t, "no banks", "No hash bank yet.")
	mod.get("/moderation/banks/new").wantStatus(t, "new bank form", http.StatusOK).
		contains(t, "new bank form", `<option value="STATEMENT_CATEGORY_PROTECTION_OF_MINORS">Protection of minors</option>`, `name="enabled" value="yes" checked`)

	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"no name", url.Values{"kind": {"allow"}}, "name", "The name is required"},
		{"bad name", url.Values{"name": {"my bank"}, "kind": {"allow"}}, "name", "is not allowed"},
		{"no kind", url.Values{"name": {"x"}}, "kind", "The kind is required"},
		{"block without category", url.Values{"name": {"x"}, "kind": {"block"}, "action": {"remove"}}, "category", "The category is required for a block bank"},
		{"label without text", url.Values{"name": {"x"}, "kind": {"block"}, "action": {"label"}, "category": {"STATEMENT_CATEGORY_SCAMS_AND_FRAUD"},
			"keywords": {"KEYWORD_PHISHING"}}, "label", "The label is required"},
	}
	for _, tc := range tests {
		p := mod.post("/moderation/banks", tc.form).wantStatus(t, tc.name, http.StatusBadRequest)
		if !regexp.MustCompile(`id="f-` + tc.field + `-error"><span class="visually-hidden">Error: </span>[^<]*` + regexp.QuoteMeta(tc.msg)).MatchString(p.Body) {
			t.Errorf("%s: no error %q next to %s\n%s", tc.name, tc.msg, tc.field, p.Body)
		}
	}
	bank := mod.post("/moderation/banks", url.Values{"name": {"scam-links"}, "description": {"Links of known scams"}, "kind": {"block"},
		"action": {"remove"}, "category": {"STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}, "keywords": {"KEYWORD_PHISHING"}, "enabled": {"yes"}}).
		wantRedirect(t, "create", "/moderation/banks/")
	mod.post("/moderation/banks", url.Values{"name": {"Scam-Links"}, "kind": {"allow"}}).wantStatus(t, "taken name", http.StatusConflict)
	p := mod.get("/moderation/banks")
	p.contains(t, "list", `href="`+bank+`">scam-links</a>`, "Remove, with a statement of reasons", "Scams and fraud", `<td class="num">0</td>`, "Enabled")

	// Disable and enable.
	mod.post(bank+"/enabled", url.Values{"enabled": {"false"}}).wantRedirect(t, "disable", bank)
	mod.get(bank).contains(t, "disabled", "Bank scam-links disabled", `<span class="pill pill-restored">Disabled</span>`)
	mod.post(bank+"/enabled", url.Values{"enabled": {"true"}}).wantRedirect(t, "enable", bank)

	// One entry by hand.
	p = mod.post(bank+"/entries", url.Values{"type": {"pdq"}, "value": {"abc"}, "source": {"moderator"}}).wantStatus(t, "bad value", http.StatusBadRequest)
	p.contains(t, "bad value", `id="f-value-error"`, "has 3 hex digits, want 64", `value="abc"`)
	mod.post(bank+"/entries", url.Values{"type": {"url"}, "value": {"HXXPS://www.Evil[.]example/Join"}, "source": {"moderator"}, "tags": {"wave3 crypto"}}).
		wantRedirect(t, "add", bank)
	p = mod.get(bank)
	p.contains(t, "added", "Entry 1 added to scam-links.", `<code class="value">evil.example/join</code>`, "#wave3 #crypto", "by @moddy")
	mod.post(bank+"/entries", url.Values{"type": {"url"}, "value": {"https://evil.example/join"}, "source": {"moderator"}}).wantRedirect(t, "add again", bank)
	mod.get(bank).contains(t, "duplicate", "scam-links already holds that value (entry 1); nothing changed.")

	// An import with bad lines lists them and imports nothing.
	var bad strings.Builder
	bad.WriteString("collab,signal_type,signal_str,category,tags\n")
	bad.WriteString("TE,pdq," + pdqHash(1) + ",TRUE_POSITIVE,\n")
	bad.WriteString("TE,pdq,12345,TRUE_POSITIVE,\n")
	bad.WriteString("TE,raw_text,hello,TRUE_POSITIVE,\n")
	p = mod.postMultipart(bank+"/import", map[string]string{"import_format": "threatexchange"}, "file", "te.csv", []byte(bad.String()))
	p.wantStatus(t, "bad import", http.StatusBadRequest)
	p.contains(t, "bad import", "2 lines are bad; nothing was imported", "<strong>Line 3</strong>, column 3 (signal_str)", "<strong>Line 4</strong>, column 2 (signal_type)",
		`<option value="threatexchange" selected>`)
	mod.get("/moderation/banks").contains(t, "nothing imported", `<td class="num">1</td>`)
	p = mod.postMultipart(bank+"/import", map[string]string{"import_format": "hma"}, "file", "x.csv", []byte(pdqHash(1)+"\n"))
	p.wantStatus(t, "hma without type", http.StatusBadRequest).contains(t, "hma without type", `id="f-import_type-error"`)
	mod.postMultipart(bank+"/import", map[string]string{"import_format": "threatexchange"}, "", "", nil).
		wantStatus(t, "no file", http.StatusBadRequest).contains(t, "no file", `id="f-file-error"`, "choose the file to import")
	huge := make([]byte, 16<<20+150<<10)
	mod.postMultipart(bank+"/import", map[string]string{"import_format": "pdq"}, "file", "huge.csv", huge).
		wantStatus(t, "huge file", http.StatusRequestEntityTooLarge).contains(t, "huge file", `id="f-file-error"`, "larger than 16 MB")

	// A good file, with enough entries for two pages.
	var good strings.Builder
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&good, "%s,%d,photos/%d.jpg\n", pdqHash(i), 90, i)
	}
	mod.postMultipart(bank+"/import", map[string]string{"import_format": "pdq", "import_source": "NCMEC"}, "file", "hashes.csv", []byte(good.String())).
		wantRedirect(t, "import", bank)
	p = mod.get(bank)
	p.contains(t, "imported", "Imported hashes.csv into scam-links: 60 entries added, 0 already in the bank.", "<dd>61</dd>", "(quality 90)", "photos/1.jpg",
		`href="`+bank+`?after=50">Next entries</a>`)
	p.lacks(t, "first page", "photos/50.jpg")
	mod.get(bank+"?after=50").contains(t, "second page", "photos/50.jpg", "photos/60.jpg", `href="`+bank+`">First entries</a>`)

	// Export is a download of the chosen format.
	exp := mod.post(bank+"/export", url.Values{"export_format": {"pdq"}}).wantStatus(t, "export", http.StatusOK)
	if cd := exp.Header.Get("Content-Disposition"); cd != `attachment; filename="scam-links-pdq.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if !strings.HasPrefix(exp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(exp.Body, pdqHash(7)+",90,photos/7.jpg\n") || strings.Contains(exp.Body, "evil.example") {
		t.Errorf("pdq export:\n%s", exp.Body)
	}
	mod.post(bank+"/export", url.Values{"export_format": {"hma"}}).wantStatus(t, "hma export without type", http.StatusBadRequest).
		contains(t, "hma export without type", `id="f-export_type-error"`, "name the type to export")
	te := mod.post(bank+"/export", url.Values{"export_format": {"threatexchange"}}).wantStatus(t, "te export", http.StatusOK)
	if !strings.HasPrefix(te.Body, "collab,signal_type,signal_str,category,tags\nmoderator,url,evil.example/join,TRUE_POSITIVE,wave3 crypto\n") {
		t.Errorf("threatexchange export:\n%s", te.Body)
	}

	// Removing an entry.
	mod.post(bank+"/entries/1/remove", url.Values{"reason": {"false positive, case 123"}}).wantRedirect(t, "remove", bank)
	p = mod.get(bank)
	p.contains(t, "removed", "Entry 1 removed from scam-links.")
	p.lacks(t, "removed", "evil.example/join")
	mod.post(bank+"/entries/1/remove", nil).wantStatus(t, "remove twice", http.StatusNotFound).contains(t, "remove twice", "entry 1 is not in scam-links")
	mod.get("/moderation/banks/99").wantStatus(t, "no such bank", http.StatusNotFound)
}

func TestAuditLogPageVerifiesTheChain(t *testing.T) {
	s := startServer(t)
	admin := staffBrowser(t, s, "root", parley.RoleAdmin)
	for i := range 55 {
		admin.post("/moderation/banks", url.Values{"name": {fmt.Sprintf("bank-%02d", i)}, "kind": {"allow"}}).wantRedirect(t, "create bank", "/moderation/banks/")
	}
	p := admin.get("/moderation/audit").wantStatus(t, "audit", http.StatusOK)
	p.contains(t, "audit", `<p class="chain chain-ok" role="status"><strong>Verified:</strong> every link of the hash chain holds, up to entry 55.</p>`,
		`id="audit-55"`, "<code>bank.created</code>", "@root", "bank 55", `<dt>name</dt><dd>bank-54</dd>`, `<dt>kind</dt><dd>allow</dd>`,
		`href="/moderation/audit?before=6">Older entries</a>`)
	p.lacks(t, "audit", `id="audit-5"`)
	p = admin.get("/moderation/audit?before=6")
	p.contains(t, "older", `id="audit-5"`, `id="audit-1"`, `href="/moderation/audit">Newest entries</a>`)
	p.lacks(t, "older", `id="audit-6"`, "Older entries")

	// 'parley audit verify' walks the whole log and leaves a checkpoint;
	// the page then verifies only what came after it.
	full := &audit.Log{Store: s.DB, Clock: parley.SystemClock{}}
	if r, err := full.VerifyAll(t.Context()); err != nil || !r.Intact || r.Entries != 55 {
		t.Fatalf("full verification %+v, %v", r, err)
	}
	for i := range 2 {
		admin.post("/moderation/banks", url.Values{"name": {fmt.Sprintf("late-%d", i)}, "kind": {"allow"}}).wantRedirect(t, "create bank", "/moderation/banks/")
	}
	admin.get("/moderation/audit").contains(t, "from the checkpoint", "every link of the hash chain holds, up to entry 57. Entries up to 55 were verified on ",
		"this page checked the 3 entries from there")

	// Someone with access to the database changes entries. One after the
	// checkpoint: the page names it as the first broken link, in red.
	db, err := sql.Open("sqlite", s.Config.DatabasePath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET details = '{"name":"innocent"}' WHERE id = 56`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	p = admin.get("/moderation/audit").wantStatus(t, "broken audit", http.StatusOK)
	p.contains(t, "broken audit", `<p class="chain chain-broken" role="alert"><strong>The chain is broken at entry 56:</strong> its contents do not match its hash`,
		"Entries before it are verified.", `id="audit-57"`, `<tr id="audit-56" class="row-broken">`, "innocent")
	// One before the checkpoint: the full walk finds it (the page does
	// not read those entries again).
	if _, err := db.Exec(`UPDATE audit_log SET details = '{"name":"innocent"}' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	if r, err := full.VerifyAll(t.Context()); err != nil || r.Intact || r.FirstBroken != 7 {
		t.Fatalf("full verification after tampering %+v, %v; want broken at 7", r, err)
	}
	admin.get("/moderation/audit?before=8").contains(t, "broken row", `<td data-label="Entry">7</td>`, "innocent")
}
