package web_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"parley"
	"parley/internal/auth"
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

func TestBrowserModeratorRemovesMessageAndAuthorReadsWhy(t *testing.T) {
	s := startServer(t)
	if _, err := s.Auth.CreateUser(context.Background(), auth.SignUpInput{Username: "moddy", Password: "correct horse battery"}, parley.RoleModerator); err != nil {
		t.Fatal(err)
	}
	author := newChrome(t, "author", s)
	mod := newChrome(t, "moderator", s)
	author.signUp("author")

	// The author runs a channel and posts a scam there.
	author.do("create channel and post",
		chromedp.Navigate(author.base+"/channels/new"),
		chromedp.SendKeys(chromedp.ID("f-handle"), "cryptodeals"),
		chromedp.SendKeys(chromedp.ID("f-title"), "Crypto deals"),
		chromedp.Click(chromedp.CSS(`form[action="/channels"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-live-chat][data-kind="channel"]`)),
		chromedp.SendKeys(chromedp.ID("f-text"), "Send 1 BTC, get 2 back!"),
		chromedp.Click(chromedp.CSS(`#compose button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-1`)),
	)
	chatPath := author.location()
	chatID := strings.TrimPrefix(strings.TrimSuffix(chatPath, "#m-1"), "/chats/")
	chatPath = "/chats/" + chatID

	// The moderator signs in, opens "Take an action" from the navigation and
	// fills it in; a first attempt without the clause of the terms comes
	// back with the error next to that field.
	mod.do("sign in and open the form",
		chromedp.Navigate(mod.base+"/signin"),
		chromedp.SendKeys(chromedp.ID("f-username"), "moddy"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-live-list]")),
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
