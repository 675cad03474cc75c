package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"parley"
	"parley/internal/auth"
	"parley/internal/safety/banks"
)

// TestBrowserAuditPageFitsTheWindow: the audit log page, with entries whose
// details are long and nested, fits the window in chromium: the table does
// not run off the page, and the details read as a wrapped list of fields,
// not a column one or two characters wide. At a phone's width the rows
// are stacked instead and still fit.
func TestBrowserAuditPageFitsTheWindow(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	admin, err := s.Auth.CreateUser(ctx, auth.SignUpInput{Username: "root", Password: "correct horse battery"}, parley.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	actor := banks.UserActor(admin)
	for i := range 3 {
		b, err := s.Banks.CreateBank(ctx, actor, banks.Bank{Name: fmt.Sprintf("scam-links-%d", i), Kind: banks.KindBlock,
			Description: strings.Repeat("Links to crypto doubling scams reported by users and partners. ", 3),
			Category:    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", Keywords: []string{"KEYWORD_PHISHING"}, Action: banks.ActionReview, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		desc := "Phishing links, wave " + fmt.Sprint(i)
		if _, err := s.Banks.UpdateBank(ctx, actor, b.ID, banks.BankUpdate{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Banks.AddEntry(ctx, actor, b.ID, banks.Entry{Type: banks.TypeURL,
			Value: fmt.Sprintf("https://very-long-domain-name-for-a-scam-%d.example/join/a-rather-long-path/with/many/segments?ref=abcdefghijklmnopqrstuvwxyz0123456789", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// An act on an image: its target is a 64-character id with nowhere to
	// break, which widened its column until the details had none left.
	if err := s.DB.AppendAudit(ctx, &parley.AuditEntry{ActorID: admin.ID, Action: "enforcement.remove_media", TargetType: "media",
		TargetID: strings.Repeat("9f86d081884c7d65", 4), Details: `{"action_id":12,"children":3,"countries":[],"category":"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH","note":"re-screening: bank ncmec pdq d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22 at distance 4"}`}); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t, "admin", s)
	c.signIn("root")
	for _, width := range []int{1280, 1000, 390} {
		c.do(fmt.Sprintf("open the audit log at %d pixels", width),
			chromedp.EmulateViewport(int64(width), 900),
			chromedp.Navigate(c.base+"/moderation/audit"),
			chromedp.WaitVisible(chromedp.CSS(`#audit-1`)),
		)
		c.fullScreenshot(fmt.Sprintf("/tmp/parley-audit-%d.png", width))
		// Nothing is wider than the window: no horizontal scrolling of
		// the page, and the table fits in its box.
		if got := c.eval("page width", `String(document.documentElement.scrollWidth) + " " + String(window.innerWidth)`); func() bool {
			var page, win int
			fmt.Sscanf(got, "%d %d", &page, &win)
			return page > win
		}() {
			t.Errorf("at %d pixels the page is wider than the window (scrollWidth, innerWidth: %s)", width, got)
		}
		if got := c.eval("table width", `(() => { const w = document.querySelector(".table-wrap"); return w.scrollWidth > w.clientWidth ? "overflows by " + (w.scrollWidth - w.clientWidth) : "fits" })()`); got != "fits" {
			t.Errorf("at %d pixels the table %s pixels", width, got)
		}
		// The details are readable: every value has room for a line of
		// about twenty characters (12em), where the squeezed column had
		// one or two.
		narrow := c.eval("details width", `(() => {
			const values = [...document.querySelectorAll("tbody td.details dd")];
			if (values.length === 0) return "no details fields";
			const em = parseFloat(getComputedStyle(values[0]).fontSize);
			const bad = values.filter(dd => dd.getBoundingClientRect().width < 12 * em);
			return bad.length ? bad.length + " of " + values.length + " values narrower than 12em, the first " + Math.round(bad[0].getBoundingClientRect().width) + "px: " + bad[0].textContent.slice(0, 40) : "";
		})()`)
		if narrow != "" {
			t.Errorf("at %d pixels: %s", width, narrow)
		}
	}
	c.noScriptErrors()
}
