package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"parley"
)

// TestAdminUserPages checks the admins' account pages: the search by
// username or display name, an account's page with its role, status,
// strikes and statements, and the role form, whose change is audited; and
// that nobody but an admin reaches them.
func TestAdminUserPages(t *testing.T) {
	s := startServer(t)
	admin := staffBrowser(t, s, "root", parley.RoleAdmin)
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	author := newBrowser(t, s)
	author.post("/signup", url.Values{"username": {"ghopper"}, "password": {"correct horse battery"}, "display_name": {"Grace Hopper"}}).
		wantRedirect(t, "sign up", "/chats")
	newBrowser(t, s).signUp("alan")
	_, chatID := channelWithPost(t, author, "cobol_news", "COBOL news", "send 1 BTC, get 2 back")
	action := actionID(t, mod.post("/moderation/actions", scamRemoval(chatID)).wantRedirect(t, "remove", "/moderation/actions/"))
	grace, err := s.Auth.Store.FindUserByUsername(t.Context(), "ghopper")
	if err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/admin/users/%d", grace.ID)

	// The list and the search.
	p := admin.get("/admin/users").wantStatus(t, "accounts", http.StatusOK)
	p.contains(t, "accounts", `href="/admin/users" aria-current="page">Accounts</a>`, "@root", "@moddy", "@ghopper", "@alan",
		`<bdi>Grace Hopper</bdi>`)
	p = admin.get("/admin/users?q=HOPP").wantStatus(t, "search", http.StatusOK)
	p.contains(t, "search", `href="`+page+`">@ghopper</a>`, `value="HOPP"`)
	p.lacks(t, "search", "@alan", "@moddy")
	admin.get("/admin/users?q=@alan").contains(t, "search with @", "@alan")
	admin.get("/admin/users?q=nobody").contains(t, "no match", "No account matches “<bdi>nobody</bdi>”.")

	// The account's page: role, status, strikes and the statement about it.
	p = admin.get(page).wantStatus(t, "account page", http.StatusOK)
	p.contains(t, "account page", "<h1>@ghopper</h1>", `<dd id="account-role">Member</dd>`, `<dd id="account-status">Active</dd>`,
		`<dd id="account-strikes">1</dd>`, fmt.Sprintf(`href="/statements/%d"`, action), "Remove message",
		`<option value="member" selected>Member</option>`)

	// Changing the role: audited, and shown.
	admin.post(page+"/role", url.Values{"role": {"moderator"}}).wantRedirect(t, "change role", page)
	p = admin.get(page)
	p.contains(t, "after the change", "@ghopper is now Moderator.", `<dd id="account-role">Moderator</dd>`, `<option value="moderator" selected>`)
	if u, err := s.Auth.Store.FindUserByID(t.Context(), grace.ID); err != nil || u.Role != parley.RoleModerator {
		t.Fatalf("stored role = %v, %v; want moderator", u, err)
	}
	admin.get("/moderation/audit").contains(t, "audit log", "user.role_changed", fmt.Sprintf("user %d", grace.ID))
	admin.post(page+"/role", url.Values{"role": {"king"}}).wantStatus(t, "unknown role", http.StatusBadRequest).
		contains(t, "unknown role", `id="f-role-error"`, "role must be member, moderator, legal_officer or admin")
	root, _ := s.Auth.Store.FindUserByUsername(t.Context(), "root")
	admin.post(fmt.Sprintf("/admin/users/%d/role", root.ID), url.Values{"role": {"member"}}).wantStatus(t, "self-demotion", http.StatusBadRequest).
		contains(t, "self-demotion", "an admin cannot demote themselves")
	admin.get("/admin/users/999999").wantStatus(t, "no such account", http.StatusNotFound)

	// Only admins: a moderator, a member and a visitor are turned away,
	// and the role is not changed by them.
	for _, c := range []struct {
		who  *browser
		name string
	}{{mod, "moderator"}, {author, "member"}} {
		c.who.get("/admin/users").wantStatus(t, c.name+" lists accounts", http.StatusForbidden)
		c.who.get(page).wantStatus(t, c.name+" opens an account", http.StatusForbidden)
		c.who.post(page+"/role", url.Values{"role": {"admin"}}).wantStatus(t, c.name+" changes a role", http.StatusForbidden)
	}
	newBrowser(t, s).get("/admin/users").wantRedirect(t, "visitor", "/signin?next=")
	mod.get("/moderation/actions").lacks(t, "moderator's navigation", `href="/admin/users"`)
	if u, _ := s.Auth.Store.FindUserByID(t.Context(), grace.ID); u.Role != parley.RoleModerator {
		t.Fatalf("role after refused changes = %s; want moderator still", u.Role)
	}
}

// TestBrowserAdminChangesRole walks an admin through the pages in
// chromium: from the moderation section to Accounts, a search, the
// account's page, and the role form.
func TestBrowserAdminChangesRole(t *testing.T) {
	s := startServer(t)
	staffBrowser(t, s, "root", parley.RoleAdmin)
	newBrowser(t, s).signUp("future_mod")
	c := newChrome(t, "admin", s)
	c.signIn("root")
	c.do("find the account",
		chromedp.Navigate(c.base+"/moderation/actions"),
		chromedp.Click(chromedp.CSS(`.sub-nav a[href="/admin/users"]`)),
		chromedp.WaitVisible(chromedp.ID("f-q")),
		chromedp.SendKeys(chromedp.ID("f-q"), "future"),
		chromedp.Click(chromedp.CSS(`form[role="search"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/admin/users/"]`)),
		chromedp.Click(chromedp.CSS(`a[href^="/admin/users/"]`)),
		chromedp.WaitVisible(chromedp.ID("account-role")),
	)
	if got := c.eval("role before", `document.getElementById("account-role").textContent`); got != "Member" {
		t.Fatalf("role shown = %q, want Member", got)
	}
	c.do("change the role",
		chromedp.SetValue(chromedp.ID("f-role"), "moderator"),
		chromedp.Click(chromedp.CSS(`form[action$="/role"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := c.eval("role after", `document.getElementById("account-role").textContent + " / " + document.querySelector(".flash").textContent`); got != "Moderator / @future_mod is now Moderator." {
		t.Fatalf("after the change the page shows %q", got)
	}
	if u, err := s.Auth.Store.FindUserByUsername(t.Context(), "future_mod"); err != nil || u.Role != parley.RoleModerator {
		t.Fatalf("stored role = %v, %v; want moderator", u, err)
	}
	c.noScriptErrors()
}
