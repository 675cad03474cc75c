package web_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// fullScreenshot saves the whole page, not only what fits the window.
func (c *chrome) fullScreenshot(path string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.fail("screenshot", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot of %s's page: %s", c.name, path)
}

// signIn signs an account made in the test in through the sign-in form and
// waits until the chat list is live.
func (c *chrome) signIn(username string) {
	c.t.Helper()
	c.do("sign in "+username,
		chromedp.Navigate(c.base+"/signin"),
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-live-list]")),
	)
}

// createChannel makes a channel through its form, posts texts in it one
// after the other, and returns the channel's path.
func (c *chrome) createChannel(handle, title string, texts ...string) string {
	c.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(c.base + "/channels/new"),
		chromedp.SendKeys(chromedp.ID("f-handle"), handle),
		chromedp.SendKeys(chromedp.ID("f-title"), title),
		chromedp.Click(chromedp.CSS(`form[action="/channels"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-live-chat][data-kind="channel"]`)),
	}
	for i, text := range texts {
		steps = append(steps,
			chromedp.SendKeys(chromedp.ID("f-text"), text),
			chromedp.Click(chromedp.CSS(`#compose button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#m-%d", i+1))),
		)
	}
	c.do("create channel and post", steps...)
	path, _, _ := strings.Cut(c.location(), "#")
	return path
}

func TestBrowserModeratorRemovesMessageAndAuthorReadsWhy(t *testing.T) {
	s := startServer(t)
	s.moderator(t)
	author := newChrome(t, "author", s)
	mod := newChrome(t, "moderator", s)
	author.signUp("author")

	// The author runs a channel and posts a scam there.
	chatPath := author.createChannel("cryptodeals", "Crypto deals", "Send 1 BTC, get 2 back!")
	chatID := strings.TrimPrefix(chatPath, "/chats/")

	// The moderator signs in, opens "Take an action" from the navigation and
	// fills it in; a first attempt without the clause of the terms comes
	// back with the error next to that field.
	mod.signIn("moddy")
	mod.do("open the form",
		chromedp.Click(chromedp.CSS(`.site-nav a[href="/moderation/actions"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sub-nav`)),
		chromedp.Click(chromedp.CSS(`.sub-nav a[href="/moderation/actions/new"]`)),
		chromedp.WaitVisible(chromedp.ID("f-kind")),
		chromedp.SetValue(chromedp.ID("f-kind"), "remove_message"),
		chromedp.SendKeys(chromedp.ID("f-chat_id"), chatID),
		chromedp.SendKeys(chromedp.ID("f-seq"), "1"),
		chromedp.SetValue(chromedp.ID("f-ground"), "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
		chromedp.SetValue(chromedp.ID("f-category"), "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"),
		chromedp.Click(chromedp.CSS(`details.more > summary`)),
		chromedp.Click(chromedp.CSS(`input[name="keywords"][value="KEYWORD_PYRAMID_SCHEMES"]`)),
		chromedp.SendKeys(chromedp.ID("f-note"), "crypto doubling, wave 3"),
		chromedp.Click(chromedp.CSS(`form[action="/moderation/actions"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("f-ground_text-error")),
	)
	mod.fullScreenshot("/tmp/parley-modweb-take-action.png")
	mod.do("correct and submit",
		chromedp.SendKeys(chromedp.ID("f-ground_text"), "Section 4.2 (scams) of the Parley Terms of Service"),
		chromedp.Click(chromedp.CSS(`form[action="/moderation/actions"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#note-title`)),
	)
	if got := mod.location(); got != "/moderation/actions/1" {
		t.Fatalf("after taking the action the moderator is at %s", got)
	}
	mod.waitJS("the action page shows the note and the evidence",
		`document.querySelector("main").textContent.includes("crypto doubling, wave 3") && document.querySelector("main").textContent.includes("Send 1 BTC, get 2 back!")`)
	mod.fullScreenshot("/tmp/parley-modweb-action.png")

	// The author sees the notice in place of the post and follows "Why?".
	author.do("open the chat",
		chromedp.Navigate(author.base+chatPath),
		chromedp.WaitVisible(chromedp.CSS(`#m-1 p.notice[role="note"] a[href="/statements/1"]`)),
	)
	if txt := author.eval("the post", `document.querySelector("#m-1").textContent`); strings.Contains(txt, "Send 1 BTC") || !strings.Contains(txt, "This message was removed: Scams and fraud.") {
		t.Errorf("the author's message reads %q", txt)
	}
	author.screenshot("/tmp/parley-modweb-notice.png")
	author.do("read why",
		chromedp.Click(chromedp.CSS(`#m-1 p.notice a`)),
		chromedp.WaitVisible(chromedp.CSS(`#redress-title`)),
	)
	if got := author.location(); got != "/statements/1" {
		t.Fatalf("the link led to %s", got)
	}
	text := author.eval("statement", `document.querySelector("main").innerText`)
	for _, want := range []string{"Your message was removed", "Crypto deals", "We found it ourselves", "A person took the decision.",
		"Section 4.2 (scams) of the Parley Terms of Service", "Scams and fraud", "Pyramid schemes", "at least six months",
		"Out-of-court dispute settlement", "appeals@parley.example"} {
		if !strings.Contains(text, want) {
			t.Errorf("the statement does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "wave 3") || strings.Contains(text, "moddy") {
		t.Errorf("the statement shows what is for staff only:\n%s", text)
	}
	author.fullScreenshot("/tmp/parley-modweb-statement.png")
	author.noScriptErrors()
	mod.noScriptErrors()
}

func TestBrowserModeratorWritesRuleAndApprovesHeldPost(t *testing.T) {
	s := startServer(t)
	s.moderator(t)
	author := newChrome(t, "author", s)
	mod := newChrome(t, "moderator", s)
	author.signUp("author")

	// The author runs a channel where a scam was posted before any rule.
	chatPath := author.createChannel("cryptodeals", "Crypto deals", "Double your BTC in one day!", "Harbour opens at nine")

	// The moderator writes a rule, in shadow mode (the default), and
	// backtests the draft before saving it.
	mod.signIn("moddy")
	mod.do("write a rule",
		chromedp.Click(chromedp.CSS(`.site-nav a[href="/moderation/actions"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sub-nav`)),
		chromedp.Click(chromedp.CSS(`.sub-nav a[href="/moderation/rules"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/moderation/rules/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/moderation/rules/new"]`)),
		chromedp.WaitVisible(chromedp.ID("f-keywords")),
		chromedp.SendKeys(chromedp.ID("f-id"), "crypto-doubling"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Crypto doubling"),
		chromedp.SendKeys(chromedp.ID("f-keywords"), "double your btc\nsend 1 btc"),
		chromedp.SetValue(chromedp.ID("f-category"), "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"),
		chromedp.Click(chromedp.CSS(`button[name="intent"][value="backtest"]`)),
		chromedp.WaitVisible(chromedp.ID("backtest-report")),
	)
	if got := mod.eval("draft backtest", `document.querySelector("#backtest-hits").textContent + "/" + document.querySelector("#backtest-scanned").textContent`); got != "1/2" {
		t.Errorf("the draft's backtest: %s hits/scanned, want 1/2", got)
	}
	if got := mod.eval("draft kept", `document.querySelector("#f-keywords").value`); got != "double your btc\nsend 1 btc" {
		t.Errorf("after the backtest the keywords read %q", got)
	}
	mod.fullScreenshot("/tmp/parley-modweb2-rule-draft.png")
	mod.do("save the rule and backtest it",
		chromedp.Click(chromedp.CSS(`button[name="intent"][value="save"]`)),
		chromedp.WaitVisible(chromedp.ID("backtest-title")),
		chromedp.Click(chromedp.CSS(`form[action^="/moderation/rules/crypto-doubling/backtest"] button`)),
		chromedp.WaitVisible(chromedp.ID("backtest-report")),
	)
	if got := mod.location(); got != "/moderation/rules/crypto-doubling/backtest#backtest-report" {
		t.Errorf("the backtest shows at %s", got)
	}
	if got := mod.eval("rule backtest", `document.querySelector("#backtest-hits").textContent`); got != "1" {
		t.Errorf("the rule's backtest: %s hits, want 1", got)
	}
	if txt := mod.eval("sample", `document.querySelector("#backtest-report table").textContent`); !strings.Contains(txt, "Double your BTC in one day!") {
		t.Errorf("the backtest's sample reads %q", txt)
	}

	// Satisfied, the moderator switches it to enforce mode and enables it.
	mod.do("enforce and enable",
		chromedp.Click(chromedp.CSS(`form[action="/moderation/rules/crypto-doubling/mode"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.pill-enforce`)),
		chromedp.Click(chromedp.CSS(`form[action="/moderation/rules/crypto-doubling/enabled"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.rule-state .pill-standing`)),
	)
	if txt := mod.eval("flash", `document.querySelector(".flash").textContent`); !strings.Contains(txt, "enabled in enforce mode") {
		t.Errorf("after enabling, the page says %q", txt)
	}
	mod.fullScreenshot("/tmp/parley-modweb2-rule.png")

	// The author's next scam is held: only the author sees it, waiting.
	author.do("post a scam",
		chromedp.Navigate(author.base+chatPath),
		chromedp.SendKeys(chromedp.ID("f-text"), "Send 1 BTC, get 2 back"),
		chromedp.Click(chromedp.CSS(`#compose button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-3 p.notice`)),
	)
	if txt := author.eval("held post", `document.querySelector("#m-3").textContent`); !strings.Contains(txt, "Waiting for review") {
		t.Errorf("the held post reads %q", txt)
	}

	// The moderator finds it in the queue, reads what matched, approves.
	// (Re-screening may have put the older scam, still visible, in the
	// queue too, as a flagged post; this one is the held post.)
	mod.do("open the queue",
		chromedp.Navigate(mod.base+"/moderation/rules"),
		chromedp.WaitVisible(chromedp.ID("queue-count")),
		chromedp.Click(chromedp.CSS(`.sub-nav a[href="/moderation/queue"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[id^="case-"] a`)),
	)
	held := mod.eval("find the held post", `(() => {
		const row = [...document.querySelectorAll('tr[id^="case-"]')].find(tr => tr.textContent.includes("Post held for review"));
		return row ? row.querySelector("a").getAttribute("href") : "";
	})()`)
	if held == "" {
		t.Fatalf("the queue lists no held post:\n%s", mod.eval("queue", `document.querySelector("main").innerText`))
	}
	mod.do("open the case",
		chromedp.Click(chromedp.CSS(`tr[id^="case-"] a[href="`+held+`"]`)),
		chromedp.WaitVisible(chromedp.ID("matched-title")),
	)
	main := mod.eval("case page", `document.querySelector("main").innerText`)
	for _, want := range []string{"Post held for review", "Rule crypto-doubling", "keyword: send 1 btc", "Made the decision", "Send 1 BTC, get 2 back", "@author", "Crypto deals"} {
		if !strings.Contains(main, want) {
			t.Errorf("the case page does not say %q:\n%s", want, main)
		}
	}
	mod.fullScreenshot("/tmp/parley-modweb2-case.png")
	mod.do("approve",
		chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if got := mod.location(); got != "/moderation/queue" {
		t.Errorf("after approving, the moderator is at %s", got)
	}
	if txt := mod.eval("queue", `document.querySelector("main").innerText`); !strings.Contains(txt, "approved: the post is visible to everyone now") {
		t.Errorf("the queue after approving reads:\n%s", txt)
	}
	if n := mod.eval("case gone", `String(document.querySelectorAll('tr[id^="case-"] a[href="`+held+`"]').length)`); n != "0" {
		t.Errorf("the approved case is still in the queue")
	}

	// Everyone sees the post now; a reader signed in elsewhere does.
	reader := newBrowser(t, s)
	reader.signUp("reader")
	reader.get(chatPath).wantStatus(t, "reader", 200).contains(t, "reader", "Send 1 BTC, get 2 back")
	author.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#m-3`)))
	if txt := author.eval("approved post", `document.querySelector("#m-3").textContent`); strings.Contains(txt, "Waiting for review") || !strings.Contains(txt, "Send 1 BTC, get 2 back") {
		t.Errorf("the approved post reads %q", txt)
	}
	author.noScriptErrors()
	mod.noScriptErrors()
}
