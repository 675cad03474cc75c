package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/messaging"
	"parley/internal/pdq"
	"parley/internal/safety/campaign"
)

// The pages of the screening rules, the review queue and campaigns.

// cryptoRule is the rule form filled in for a rule that holds crypto
// doubling scams; edit changes it.
func cryptoRule(edit func(v url.Values)) url.Values {
	v := url.Values{"id": {"crypto-doubling"}, "name": {"Crypto doubling"}, "keywords": {"double your btc\nsend 1 btc"},
		"regexps": {`(?i)\bget \d+ back\b`}, "urls": {""}, "domains": {""}, "condition": {""},
		"action": {"hold"}, "mode": {"shadow"}, "category": {"STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}, "label": {""}}
	if edit != nil {
		edit(v)
	}
	return v
}

// account returns the stored account with that username.
func account(t *testing.T, s *server, username string) *parley.User {
	t.Helper()
	u, err := s.Auth.Store.FindUserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fieldError matches the error of a form field, as the "field" partial
// writes it, starting with msg.
func fieldError(field, msg string) *regexp.Regexp {
	return regexp.MustCompile(`<p class="field-error" id="f-` + regexp.QuoteMeta(field) + `-error"><span class="visually-hidden">Error: </span>` + regexp.QuoteMeta(msg))
}

// backtestNumbers reads the numbers of a backtest report from a page.
func backtestNumbers(t *testing.T, p *page) (scanned, hits, errs string) {
	t.Helper()
	read := func(id string) string {
		m := regexp.MustCompile(`<dd id="backtest-` + id + `">(\d+)</dd>`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no backtest %s on the page\n%s", id, p.Body)
		}
		return m[1]
	}
	return read("scanned"), read("hits"), read("errors")
}

func TestRuleFormShowsErrorsNextToFields(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	form := mod.get("/moderation/rules/new").wantStatus(t, "form", http.StatusOK)
	form.contains(t, "form", `<option value="shadow" selected>`, `<option value="hold" selected>`,
		`<option value="STATEMENT_CATEGORY_SCAMS_AND_FRAUD">Scams and fraud</option>`, `<textarea id="f-regexps" name="regexps"`,
		"<code>account_age_days</code>", "<code>chat_kind</code>", "<code>subscriber_count</code>", "<code>strikes</code>",
		"<code>country</code>", "<code>verified</code>", `name="intent" value="backtest"`)

	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		// The blank line is skipped, and the error names the line the
		// moderator sees.
		{"bad regexp", cryptoRule(func(v url.Values) { v.Set("regexps", "\\bok\\b\n\n(unclosed") }), "regexps", "Line 3: `(unclosed` does not compile"},
		{"bad condition", cryptoRule(func(v url.Values) { v.Set("condition", "account_age_days < ") }), "condition", "Condition does not compile at line 1"},
		{"unknown variable", cryptoRule(func(v url.Values) { v.Set("condition", "followers > 10") }), "condition", "Condition does not compile at line 1, column 1: unknown name followers"},
		{"invisible keyword", cryptoRule(func(v url.Values) { v.Set("keywords", "double your btc\n\u200b\u200b") }), "keywords", "Line 2: &#34;\\u200b\\u200b&#34; holds only invisible characters"},
		{"bad domain", cryptoRule(func(v url.Values) { v.Set("domains", "evil.example\nnot a domain") }), "domains", "Line 2: "},
		{"bad id", cryptoRule(func(v url.Values) { v.Set("id", "Crypto Doubling") }), "id", "A rule id is 1 to 64 lower-case letters"},
		{"nothing to match", cryptoRule(func(v url.Values) { v.Set("keywords", " \n "); v.Set("regexps", "") }), "keywords", "Keywords are missing"},
		{"label without text", cryptoRule(func(v url.Values) { v.Set("action", "label") }), "label", "Label is required"},
		{"no action", cryptoRule(func(v url.Values) { v.Set("action", "") }), "action", "Action is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mod.post("/moderation/rules", tc.form).wantStatus(t, tc.name, http.StatusBadRequest)
			if !fieldError(tc.field, tc.msg).MatchString(p.Body) {
				t.Errorf("no error %q next to field %s\n%s", tc.msg, tc.field, p.Body)
			}
			p.contains(t, tc.name, `<div class="error-summary" role="alert">`, `<li><a href="#f-`+tc.field+`">`)
			p.contains(t, tc.name, `value="Crypto doubling"`, `<textarea id="f-regexps" name="regexps"`) // what was typed is kept
			if tc.field != "keywords" || tc.name == "invisible keyword" {
				p.contains(t, tc.name, ">double your btc\n")
			}
			p.lacks(t, tc.name, `rule &#34;crypto-doubling&#34;:`) // the compiler's prefix is not repeated
		})
	}
	if list, err := s.Rules.List(context.Background(), account(t, s, "moddy")); err != nil || len(list) != 0 {
		t.Fatalf("refused forms stored rules: %v, %v", list, err)
	}
	loc := mod.post("/moderation/rules", cryptoRule(nil)).wantRedirect(t, "good form", "/moderation/rules/crypto-doubling")
	p := mod.get(loc).wantStatus(t, "rule page", http.StatusOK)
	p.contains(t, "rule page", "Rule crypto-doubling created, disabled.", "<code>crypto-doubling</code>: Crypto doubling",
		`<span class="pill pill-restored">Disabled</span>`, `<span class="pill pill-shadow">Shadow</span>`, "Switch to enforce mode",
		"Hold it for review", "Scams and fraud", `<code class="value">double your btc</code>`, `<code class="value">(?i)\bget \d&#43; back\b</code>`,
		"Created in shadow mode, matching 2 keywords, 1 regular expression; on a match: hold it for review.", "No match recorded yet: the rule is disabled.")
	mod.post("/moderation/rules", cryptoRule(nil)).wantStatus(t, "same id", http.StatusConflict).
		contains(t, "same id", `id="f-id-error"`, "There is already a rule")
	mod.get("/moderation/rules/nothing-here").wantStatus(t, "no such rule", http.StatusNotFound)
}

func TestRuleVersionsModeSwitchAndStaleEdit(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	other := staffBrowser(t, s, "root", parley.RoleAdmin)
	rule := mod.post("/moderation/rules", cryptoRule(nil)).wantRedirect(t, "create", "/moderation/rules/crypto-doubling")

	// Two moderators open the edit form at version 1.
	edit := mod.get(rule+"/edit").wantStatus(t, "edit form", http.StatusOK)
	edit.contains(t, "edit form", `<input type="hidden" name="version" value="1">`, "Saving stores version 2", ">double your btc\nsend 1 btc</textarea>",
		`action="/moderation/rules/crypto-doubling/edit"`)
	edit.lacks(t, "edit form", `name="id"`) // the id cannot change
	other.get(rule+"/edit").wantStatus(t, "second edit form", http.StatusOK)

	// The first saves version 2: another keyword, removal instead of hold.
	mod.post(rule+"/edit", cryptoRule(func(v url.Values) {
		v.Set("version", "1")
		v.Set("keywords", "double your btc\nsend 1 btc\ntriple your eth")
		v.Set("action", "remove")
	})).wantRedirect(t, "save version 2", rule)
	p := mod.get(rule)
	p.contains(t, "version 2", "Rule crypto-doubling saved as version 2.", `<li id="version-2">`, "Keywords: added “triple your eth”.",
		"On a match: hold it for review → remove it, with a statement of reasons.", `<li id="version-1">`)

	// The second, still at version 1, is refused: nothing is stored, what
	// was typed is kept, and the form says how to go on.
	p = other.post(rule+"/edit", cryptoRule(func(v url.Values) { v.Set("version", "1"); v.Set("name", "Stale name") })).
		wantStatus(t, "stale edit", http.StatusConflict)
	p.contains(t, "stale edit", `<p class="form-error" role="alert">rule crypto-doubling is at version 2 now, not 1: someone edited it meanwhile; reload it</p>`,
		`value="Stale name"`, `href="/moderation/rules/crypto-doubling/edit">Start again from the current version</a>`)
	if r, _, err := s.Rules.Find(context.Background(), account(t, s, "moddy"), "crypto-doubling"); err != nil || r.Version != 2 || r.Name != "Crypto doubling" {
		t.Fatalf("after the stale edit the rule is %+v, %v", r, err)
	}
	other.post(rule+"/edit", cryptoRule(func(v url.Values) { v.Set("version", "") })).wantStatus(t, "no version", http.StatusBadRequest).
		contains(t, "no version", "the form does not say which version it edits")

	// Switching the mode is an edit too: version 3, from the version shown.
	p = mod.get(rule)
	p.contains(t, "switch form", `<input type="hidden" name="version" value="2">`, `<input type="hidden" name="mode" value="enforce">`)
	mod.post(rule+"/mode", url.Values{"version": {"2"}, "mode": {"enforce"}}).wantRedirect(t, "switch", rule)
	p = mod.get(rule)
	p.contains(t, "enforce", "switched to enforce mode (version 3); it acts once enabled.", `<span class="pill pill-enforce">Enforce</span>`,
		"Back to shadow mode", `<li id="version-3">`, "Switched from shadow to enforce mode.")
	mod.post(rule+"/mode", url.Values{"version": {"2"}, "mode": {"shadow"}}).wantStatus(t, "stale switch", http.StatusConflict).
		contains(t, "stale switch", "is at version 3 now, not 2")

	// Enabling is not a new version.
	mod.post(rule+"/enabled", url.Values{"enabled": {"true"}}).wantRedirect(t, "enable", rule)
	mod.get(rule).contains(t, "enabled", "enabled in enforce mode: it acts on every new post it matches.", `<span class="pill pill-standing">Enabled</span>`)
	list := mod.get("/moderation/rules").wantStatus(t, "list", http.StatusOK)
	list.contains(t, "list", `<tr id="rule-crypto-doubling">`, `<a href="/moderation/rules/crypto-doubling"><code>crypto-doubling</code></a>`,
		`<td class="num">3</td>`, `<span class="pill pill-enforce">Enforce</span>`, "Enabled", "Remove it, with a statement of reasons",
		"Scams and fraud", "version 3 by @moddy")
	mod.post(rule+"/enabled", url.Values{"enabled": {"false"}}).wantRedirect(t, "disable", rule)
	mod.get("/moderation/rules").contains(t, "disabled", `<span class="pill pill-restored">Disabled</span>`)
}

func TestRuleBacktestAndMatches(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	author, reader := newBrowser(t, s), newBrowser(t, s)
	author.signUp("author")
	reader.signUp("reader")
	chat, _ := channelWithPost(t, author, "cryptodeals", "Crypto deals", "Double your BTC today!")
	for _, text := range []string{"a quiet day at the market", "send 1 BTC, get 2 back", "invest today and get 3 back", "D0UBLE YOUR BTC, friends"} {
		author.postMultipart(chat+"/messages", map[string]string{"text": text}, "", "", nil).wantRedirect(t, "post", chat)
	}

	// A draft is tried from the form before it is saved: the numbers and
	// the posts it matched, and nothing is stored.
	p := mod.post("/moderation/rules", cryptoRule(func(v url.Values) { v.Set("intent", "backtest"); v.Set("regexps", "") })).
		wantStatus(t, "draft backtest", http.StatusOK)
	if sc, hits, errs := backtestNumbers(t, p); sc != "5" || hits != "3" || errs != "0" {
		t.Errorf("draft backtest: scanned %s, hits %s, errors %s; want 5, 3, 0", sc, hits, errs)
	}
	p.contains(t, "draft backtest", "Backtest: 3 hits in 5 posts", "Double your BTC today!", "send 1 BTC, get 2 back", "D0UBLE YOUR BTC, friends",
		`keyword: <code class="pattern">double your btc</code>`, `value="Crypto doubling"`)
	p.lacks(t, "draft backtest", "a quiet day at the market")
	if list, _ := s.Rules.List(ctx, account(t, s, "moddy")); len(list) != 0 {
		t.Fatalf("a draft backtest stored a rule: %v", list)
	}
	// A draft without an id yet can be tried; one that does not compile
	// shows the error next to its field and no report.
	p = mod.post("/moderation/rules", cryptoRule(func(v url.Values) { v.Set("intent", "backtest"); v.Set("id", "") })).wantStatus(t, "draft without id", http.StatusOK)
	if _, hits, _ := backtestNumbers(t, p); hits != "4" { // with the regexp
		t.Errorf("draft without an id: %s hits", hits)
	}
	p = mod.post("/moderation/rules", cryptoRule(func(v url.Values) { v.Set("intent", "backtest"); v.Set("regexps", "(") })).
		wantStatus(t, "bad draft", http.StatusBadRequest)
	if !fieldError("regexps", "Line 1: ").MatchString(p.Body) {
		t.Errorf("no regexp error on the draft backtest\n%s", p.Body)
	}
	p.lacks(t, "bad draft", `id="backtest-report"`)
	p = mod.post("/moderation/rules", cryptoRule(func(v url.Values) { v.Set("intent", "backtest"); v.Set("limit", "lots") })).
		wantStatus(t, "bad limit", http.StatusBadRequest)
	if !fieldError("limit", "Give the number of posts to scan").MatchString(p.Body) {
		t.Errorf("no error next to the limit\n%s", p.Body)
	}
	// A condition that fails while running is counted as an error.
	p = mod.post("/moderation/rules", cryptoRule(func(v url.Values) {
		v.Set("intent", "backtest")
		v.Set("condition", "subscriber_count % strikes == 1") // strikes is 0: a division by zero
	})).wantStatus(t, "failing condition", http.StatusOK)
	if _, hits, errs := backtestNumbers(t, p); hits != "0" || errs == "0" {
		t.Errorf("failing condition: %s hits, %s errors", hits, errs)
	}
	p.contains(t, "failing condition", "The condition failed while running on")

	// The stored rule is backtested from its page, over as many posts as
	// asked.
	rule := mod.post("/moderation/rules", cryptoRule(nil)).wantRedirect(t, "create", "/moderation/rules/crypto-doubling")
	p = mod.post(rule+"/backtest", url.Values{"limit": {"2"}}).wantStatus(t, "backtest", http.StatusOK)
	if sc, hits, _ := backtestNumbers(t, p); sc != "2" || hits != "1" {
		t.Errorf("backtest of 2 posts: scanned %s, hits %s", sc, hits)
	}
	p = mod.post(rule+"/backtest", url.Values{"limit": {"10000"}}).wantStatus(t, "backtest", http.StatusOK)
	if sc, hits, _ := backtestNumbers(t, p); sc != "5" || hits != "4" { // the regexp finds "get 3 back" too
		t.Errorf("backtest: scanned %s, hits %s", sc, hits)
	}
	p.contains(t, "backtest", `regex: <code class="pattern">(?i)\bget \d&#43; back\b</code>`)
	mod.post(rule+"/backtest", url.Values{"limit": {"0"}}).wantStatus(t, "zero limit", http.StatusBadRequest).contains(t, "zero limit", `id="f-limit-error"`)
	// The edit form tries the next version before saving it.
	p = mod.post(rule+"/edit", cryptoRule(func(v url.Values) { v.Set("version", "1"); v.Set("intent", "backtest"); v.Set("keywords", "friends") })).
		wantStatus(t, "edit draft backtest", http.StatusOK)
	if _, hits, _ := backtestNumbers(t, p); hits != "3" { // "friends", and the regexp's two
		t.Errorf("edit draft backtest: %s hits", hits)
	}
	p.contains(t, "edit draft backtest", ">friends</textarea>", `<input type="hidden" name="version" value="1">`)
	if r, _, _ := s.Rules.Find(ctx, account(t, s, "moddy"), "crypto-doubling"); r.Version != 1 || len(r.Keywords) != 2 {
		t.Fatalf("a draft backtest of an edit saved it: %+v", r)
	}

	// Enabled in shadow mode, it records matches and acts on nothing.
	mod.post(rule+"/enabled", url.Values{"enabled": {"true"}}).wantRedirect(t, "enable", rule)
	author.postMultipart(chat+"/messages", map[string]string{"text": "double your btc, last chance"}, "", "", nil).wantRedirect(t, "shadow post", chat+"#m-6")
	reader.get(chat).contains(t, "reader", "double your btc, last chance")
	p = mod.get(rule)
	p.contains(t, "shadow match", `class="match-shadow"`, `<span class="pill pill-shadow">Shadow</span>`, `keyword: double your btc`,
		"Message 6 in “\u2068Crypto deals\u2069”", "@author")

	// In enforce mode with a block, the post is refused; its text is kept
	// for staff, on the rule's page, and nowhere else.
	mod.post(rule+"/edit", cryptoRule(func(v url.Values) { v.Set("version", "1"); v.Set("action", "block"); v.Set("mode", "enforce") })).
		wantRedirect(t, "enforce block", rule)
	author.postMultipart(chat+"/messages", map[string]string{"text": "send 1 btc to wallet 42, secret offer"}, "", "", nil).
		wantStatus(t, "refused post", http.StatusForbidden).contains(t, "refused post", "This message can&#39;t be posted.")
	p = mod.get(rule)
	p.contains(t, "refused match", `class="match-enforce"`, `<p class="quoted refused-text" dir="auto">send 1 btc to wallet 42, secret offer</p>`, "A post refused in “\u2068Crypto deals\u2069”")
	reader.get(chat).lacks(t, "reader after refusal", "wallet 42")
	author.get(chat).lacks(t, "author after refusal", "wallet 42")
	p = reader.get(rule).wantStatus(t, "member on the rule page", http.StatusForbidden)
	p.lacks(t, "member on the rule page", "wallet 42", "double your btc")
}

// heldChannel enables a rule that holds posts saying "double your btc" and
// returns a channel of a new account "author" with two held posts.
func heldChannel(t *testing.T, s *server, mod *browser) (author *browser, chat string, chatID int64) {
	t.Helper()
	rule := mod.post("/moderation/rules", cryptoRule(func(v url.Values) { v.Set("mode", "enforce") })).wantRedirect(t, "rule", "/moderation/rules/")
	mod.post(rule+"/enabled", url.Values{"enabled": {"true"}}).wantRedirect(t, "enable", rule)
	author = newBrowser(t, s)
	author.signUp("author")
	chat, chatID = channelWithPost(t, author, "cryptodeals", "Crypto deals", "an ordinary post")
	for _, text := range []string{"double your btc, says my uncle", "double your btc or else"} {
		author.postMultipart(chat+"/messages", map[string]string{"text": text}, "", "", nil).wantRedirect(t, "post", chat)
	}
	return author, chat, chatID
}

// caseIDs reads the ids of the cases listed on a queue page, in order.
func caseIDs(p *page) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<tr id="case-(\d+)">`).FindAllStringSubmatch(p.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestReviewQueueApproveAndRemove(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	author, chat, _ := heldChannel(t, s, mod)
	reader := newBrowser(t, s)
	reader.signUp("reader")
	reader.get(chat).lacks(t, "reader before review", "uncle", "or else")

	// The queue lists both, with the count in the navigation.
	q := mod.get("/moderation/queue").wantStatus(t, "queue", http.StatusOK)
	q.contains(t, "queue", `<a href="/moderation/queue" aria-current="page">Review queue <span class="badge badge-new" id="queue-count">2<span class="visually-hidden"> open</span></span></a>`,
		"2 cases are waiting", "Post held for review", "Rule crypto-doubling, version 1", "@author", "Message 2 in “\u2068Crypto deals\u2069”")
	ids := caseIDs(q)
	if len(ids) != 2 {
		t.Fatalf("queue lists cases %v", ids)
	}
	mod.get("/moderation/rules").contains(t, "count on other pages", `id="queue-count">2<`)

	// A case shows what matched and the post in its chat.
	first := "/moderation/cases/" + ids[0]
	p := mod.get(first).wantStatus(t, "case", http.StatusOK)
	p.contains(t, "case", "Case #"+ids[0]+": Post held for review", `<a href="/moderation/rules/crypto-doubling">Rule crypto-doubling</a>`,
		"Made the decision", `<code class="pattern">keyword: double your btc</code>`, `<td class="num">1</td>`, "<td>Scams and fraud</td>",
		`<p class="quoted" dir="auto">double your btc, says my uncle</p>`, "Crypto deals", `<a href="/users/author">@author</a> (<bdi>Author</bdi>)`, "an ordinary post",
		`action="/moderation/cases/`+ids[0]+`/approve"`, `action="/moderation/cases/`+ids[0]+`/remove"`,
		`<option value="DECISION_GROUND_INCOMPATIBLE_CONTENT" selected>`, `<option value="STATEMENT_CATEGORY_SCAMS_AND_FRAUD" selected>`,
		`value="Section 4 (prohibited content) of the Parley Terms of Service"`)
	p.lacks(t, "case", `action="/moderation/cases/`+ids[0]+`/confirm"`)

	// Approve: the post becomes visible.
	mod.post(first+"/approve", nil).wantRedirect(t, "approve", "/moderation/queue")
	q = mod.get("/moderation/queue")
	q.contains(t, "after approve", "Case #"+ids[0]+" approved: the post is visible to everyone now.", "1 case is waiting", `id="queue-count">1<`)
	reader.get(chat).contains(t, "reader after approve", "double your btc, says my uncle")
	mod.post(first+"/approve", nil).wantStatus(t, "approve twice", http.StatusConflict).
		contains(t, "approve twice", "was already decided (approved)")

	// Remove: grounds are needed, then the post is removed with a
	// statement for its author.
	second := "/moderation/cases/" + ids[1]
	p = mod.post(second+"/remove", url.Values{"ground": {"DECISION_GROUND_INCOMPATIBLE_CONTENT"}, "ground_text": {" "}, "category": {""}}).
		wantStatus(t, "remove without clause", http.StatusBadRequest)
	if !fieldError("ground_text", "").MatchString(p.Body) {
		t.Errorf("no error next to the clause\n%s", p.Body)
	}
	p.contains(t, "remove without clause", `<div class="error-summary" role="alert">`)
	mod.post(second+"/remove", url.Values{"ground": {"DECISION_GROUND_INCOMPATIBLE_CONTENT"}, "ground_text": {"Section 4.2 (scams) of the Parley Terms of Service"},
		"category": {""}, "keywords": {"KEYWORD_PHISHING"}}).wantRedirect(t, "remove", "/moderation/queue")
	q = mod.get("/moderation/queue")
	q.contains(t, "after remove", "the post was removed (action #1)", "No case is waiting.")
	q.lacks(t, "after remove", `id="queue-count"`)
	st := author.get("/statements/1").wantStatus(t, "statement", http.StatusOK)
	st.contains(t, "statement", "Your message was removed", "Section 4.2 (scams) of the Parley Terms of Service", "Scams and fraud", "Phishing",
		"Yes. Automated means were used to detect it.", "No. A person took the decision.")
	// The statement names the rule, as published; the pattern that matched,
	// who decided and the staff note are not in it.
	st.contains(t, "statement", "matched text screening rule &#34;crypto-doubling&#34; (version 1)")
	st.lacks(t, "statement", "keyword:", "moddy", "review case")
	if a, err := s.Enforce.Store.FindAction(context.Background(), 1); err != nil || a.Grounds.Signal.Name != "crypto-doubling" || a.Grounds.Signal.Version != 1 {
		t.Errorf("the removal's signal is not the rule that held it: %+v, %v", a, err)
	}
	reader.get(chat).lacks(t, "reader after remove", "or else")

	// Decided cases are listed with who decided.
	d := mod.get("/moderation/queue/decided").wantStatus(t, "decided", http.StatusOK)
	d.contains(t, "decided", `<tr id="case-`+ids[0]+`">`, `<tr id="case-`+ids[1]+`">`, "Approved: made visible", "Removed", "by @moddy",
		`<a href="/moderation/actions/1">action #1</a>`)
	mod.get(second).contains(t, "decided case", "<strong>Removed</strong>", "The case is decided.")
	mod.get("/moderation/cases/999").wantStatus(t, "no such case", http.StatusNotFound)

	// A held post's image is shown as a thumbnail.
	author.postMultipart(chat+"/messages", map[string]string{"text": "double your btc, see the chart"}, "image", "chart.png", pngOf(t, 64, 48)).wantRedirect(t, "held image post", chat)
	ids = caseIDs(mod.get("/moderation/queue"))
	if len(ids) != 1 {
		t.Fatalf("queue lists %v", ids)
	}
	p = mod.get("/moderation/cases/" + ids[0])
	if !regexp.MustCompile(`<img src="/media/[0-9a-f]{64}\?thumb=1" alt="The image posted with it, open full size"`).MatchString(p.Body) {
		t.Errorf("no thumbnail of the held post's image\n%s", p.Body)
	}
}

func TestReviewQueueBlockedUploads(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pdq", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bridge, other := read("bridge-1-original.jpg"), read("q2821.jpg")
	bank := mod.post("/moderation/banks", url.Values{"name": {"known-bad"}, "kind": {"block"}, "action": {"block_upload"},
		"category": {"STATEMENT_CATEGORY_PROTECTION_OF_MINORS"}, "enabled": {"yes"}}).wantRedirect(t, "bank", "/moderation/banks/")
	var hashes []string
	for _, img := range [][]byte{bridge, other} {
		h, _, err := pdq.HashBytes(img)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h.String())
		mod.post(bank+"/entries", url.Values{"type": {"pdq"}, "value": {h.String()}, "source": {"test list"}}).wantRedirect(t, "entry", bank)
	}
	if _, err := s.Matcher.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	author := newBrowser(t, s)
	author.signUp("author")
	chat := author.post("/channels", url.Values{"handle": {"photos"}, "title": {"Photos"}}).wantRedirect(t, "channel", "/chats/")
	for name, img := range map[string][]byte{"bridge.jpg": bridge, "other.jpg": other} {
		author.postMultipart(chat+"/messages", map[string]string{"text": "look"}, "image", name, img).
			wantStatus(t, "stopped upload", http.StatusBadRequest).contains(t, "stopped upload", "This image can&#39;t be uploaded.")
	}

	q := mod.get("/moderation/queue").wantStatus(t, "queue", http.StatusOK)
	q.contains(t, "queue", "Upload stopped by a hash bank", "Bank known-bad", "Image ")
	ids := caseIDs(q)
	if len(ids) != 2 {
		t.Fatalf("queue lists %v", ids)
	}
	cases := map[string]string{}   // media id → case page
	mediaOf := map[string]string{} // SHA-256 of the bytes → media id
	for _, id := range ids {
		c, err := s.Review.Find(ctx, account(t, s, "moddy"), int64(atoi(t, id)))
		if err != nil {
			t.Fatal(err)
		}
		cases[c.TargetID] = "/moderation/cases/" + id
		m, err := s.Messaging.Store.FindMedia(ctx, c.TargetID)
		if err != nil {
			t.Fatal(err)
		}
		mediaOf[m.SHA256] = m.ID
	}
	bridgeID, otherID := mediaOf[pdq.SHA256Hex(bridge)], mediaOf[pdq.SHA256Hex(other)]

	// The page shows the hashes and the entry they matched, never the image.
	p := mod.get(cases[bridgeID]).wantStatus(t, "blocked upload", http.StatusOK)
	p.contains(t, "blocked upload", "The image is not shown:", `<code class="value">`+pdq.SHA256Hex(bridge)+`</code>`, "MD5", "PDQ",
		`<code class="pattern">pdq `+hashes[0]+` at distance 0</code>`, bank+`">Bank known-bad</a>`, "Made the decision",
		`<a href="/users/author">@author</a>`, "2 strikes", // one for each stopped upload
		"<td>Protection of minors</td>",
		`action="`+cases[bridgeID]+`/confirm"`, `action="`+cases[bridgeID]+`/release"`)
	// Not shown, only linked: a moderator who must look opens it on purpose,
	// and that view is audited.
	p.lacks(t, "blocked upload", "<img", "/media/"+bridgeID+"?thumb", `/approve"`)
	p.contains(t, "blocked upload", `<a href="/media/`+bridgeID+`" target="_blank" rel="noopener noreferrer">open the image</a>`)
	mod.get("/media/"+bridgeID).wantStatus(t, "the moderator opens the stopped upload", http.StatusOK)
	author.get("/media/"+bridgeID).wantStatus(t, "its uploader", http.StatusNotFound)

	mod.post(cases[bridgeID]+"/confirm", nil).wantRedirect(t, "confirm", "/moderation/queue")
	mod.get("/moderation/queue").contains(t, "confirmed", "the block is confirmed")
	if m, err := s.Messaging.Store.FindMedia(ctx, bridgeID); err != nil || m.Status != parley.MediaBlocked {
		t.Fatalf("a confirmed block left the image %+v, %v", m, err)
	}

	// Releasing needs a reason; then the image can be used again.
	p = mod.post(cases[otherID]+"/release", url.Values{"reason": {" "}}).wantStatus(t, "release without reason", http.StatusBadRequest)
	if !fieldError("reason", "say why the block was wrong").MatchString(p.Body) {
		t.Errorf("no error next to the reason\n%s", p.Body)
	}
	mod.post(cases[otherID]+"/release", url.Values{"reason": {"a test picture, not the listed one"}}).wantRedirect(t, "release", "/moderation/queue")
	if m, err := s.Messaging.Store.FindMedia(ctx, otherID); err != nil || m.Status != "" {
		t.Fatalf("a released block left the image %+v, %v", m, err)
	}
	d := mod.get("/moderation/queue/decided")
	d.contains(t, "decided", "Block confirmed", "Block released: a false positive")
	mod.post(cases[otherID]+"/release", url.Values{"reason": {"again"}}).wantStatus(t, "release twice", http.StatusConflict).
		contains(t, "release twice", "was already decided (released)")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCampaignPagesRemoveAllAndDismiss(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	var people []*parley.User
	for _, name := range []string{"owner", "anna", "bert", "cleo"} {
		b := newBrowser(t, s)
		b.signUp(name)
		people = append(people, account(t, s, name))
	}
	group, err := s.Messaging.CreateChat(ctx, people[0], messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Neighbours"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.Messaging.CreateInvite(ctx, people[0], group.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	spam := "Congratulations you have been selected for our exclusive crypto giveaway, send one coin to the wallet below and receive two coins back within the hour, guaranteed by our friendly support team"
	petition := "Please sign the petition to keep the old library on Elm Street open on Sundays, it matters to the children and the elderly of our neighbourhood, thank you all for your support"
	for i, u := range people[1:] {
		if _, err := s.Messaging.JoinByInvite(ctx, u, inv.Token); err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{spam, petition} {
			if _, err := s.Messaging.PostMessage(ctx, u, group.ID, messaging.PostInput{Text: fmt.Sprintf("%s (%d)", text, i+1)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The detector reads the event stream: wait until it has found both.
	var open []*campaign.Stored
	deadline := time.Now().Add(15 * time.Second)
	for {
		if open, err = s.Campaigns.List(ctx, account(t, s, "moddy"), "", 10); err == nil && len(open) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaigns after 15 s: %v, %v", open, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	byText := map[bool]int64{}
	for _, c := range open {
		byText[strings.HasPrefix(c.Sample, "Congratulations")] = c.ID
	}
	spamPage, petitionPage := fmt.Sprintf("/moderation/campaigns/%d", byText[true]), fmt.Sprintf("/moderation/campaigns/%d", byText[false])

	p := mod.get("/moderation/campaigns").wantStatus(t, "campaigns", http.StatusOK)
	p.contains(t, "campaigns", `href="`+spamPage+`">`, `href="`+petitionPage+`">`, "Congratulations you have been selected", `<td class="num">3</td>`,
		`<option value="open" selected>`)
	p = mod.get(spamPage).wantStatus(t, "campaign", http.StatusOK)
	p.contains(t, "campaign", "Campaign #", "(3 still up)", "@anna", "@bert", "@cleo", "Neighbours", "guaranteed by our friendly support team (2)",
		`<span class="pill pill-standing">Up</span>`, `action="`+spamPage+`/remove"`, `action="`+spamPage+`/dismiss"`,
		// The removal's grounds default to the detector's.
		`<option value="DECISION_GROUND_INCOMPATIBLE_CONTENT" selected>`, `value="`+campaign.DefaultGrounds.TermsGround+`"`,
		`<option value="STATEMENT_CATEGORY_SCAMS_AND_FRAUD" selected>`, `value="KEYWORD_COORDINATED_HARM" checked`)

	// A ground the statement cannot take comes back next to its field.
	mod.post(spamPage+"/remove", url.Values{"ground": {""}}).wantStatus(t, "no ground", http.StatusBadRequest).
		contains(t, "no ground", `id="f-ground-error"`)
	v := url.Values{"ground": {string(campaign.DefaultGrounds.Ground)}, "ground_text": {campaign.DefaultGrounds.TermsGround},
		"category": {string(campaign.DefaultGrounds.Category)}, "keywords": {"KEYWORD_COORDINATED_HARM"}}
	mod.post(spamPage+"/remove", v).wantRedirect(t, "remove all", spamPage)
	p = mod.get(spamPage)
	p.contains(t, "removed", "3 posts removed, each with a statement of reasons for its author.", "<strong>Removed</strong>", "by @moddy")
	p.lacks(t, "removed", `pill-standing">Up`, `action="`+spamPage+`/remove"`)
	for _, u := range people[1:] {
		list, err := s.Enforce.Mine(ctx, u, 0, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("statements of %s: %v, %v", u.Username, list, err)
		}
	}
	mod.post(spamPage+"/remove", v).wantStatus(t, "remove twice", http.StatusConflict).contains(t, "remove twice", "is removed")

	mod.post(petitionPage+"/dismiss", nil).wantRedirect(t, "dismiss", "/moderation/campaigns")
	p = mod.get("/moderation/campaigns")
	p.contains(t, "after dismiss", "dismissed: its posts stay up.", "No open campaign")
	mod.get("/moderation/campaigns?status=removed").contains(t, "removed filter", `href="`+spamPage+`">`, `<option value="removed" selected>`)
	p = mod.get("/moderation/campaigns?status=dismissed")
	p.contains(t, "dismissed filter", `href="`+petitionPage+`">`)
	p.lacks(t, "dismissed filter", `href="`+spamPage+`">`)
	mod.get("/moderation/campaigns?status=gone").wantStatus(t, "bad filter", http.StatusBadRequest)
	mod.get("/moderation/campaigns/999").wantStatus(t, "no such campaign", http.StatusNotFound)
	// The petition stays up for the group.
	if msgs, err := s.Messaging.Store.ListMessages(ctx, group.ID, people[0].ID, 0, 10); err != nil || countText(msgs, "petition") != 3 || countText(msgs, "giveaway") != 0 {
		t.Fatalf("group after the decisions: %d petition posts, %d spam posts, %v", countText(msgs, "petition"), countText(msgs, "giveaway"), err)
	}
}

func countText(msgs []*parley.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, s) && (m.Moderation == nil || m.Moderation.Removed == nil) {
			n++
		}
	}
	return n
}
