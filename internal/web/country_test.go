package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parley"
	"parley/internal/app"
)

// withholdForm is the take-action form filled in to withhold a message of
// a chat in Germany on a court order.
func withholdForm(chatID int64, seq string, alsoUnknown bool) url.Values {
	v := url.Values{"kind": {"withhold_message"}, "chat_id": {fmt.Sprint(chatID)}, "seq": {seq}, "countries": {"DE"},
		"ground": {"DECISION_GROUND_ILLEGAL_CONTENT"}, "ground_text": {"§ 130 StGB (incitement to hatred)"},
		"category": {"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"}, "source": {"SOURCE_TYPE_OTHER_NOTIFICATION"},
		"notifier": {"Federal Criminal Police Office"}, "automation": {"AUTOMATED_DECISION_NOT_AUTOMATED"}}
	if alsoUnknown {
		v.Set("also_unknown", "yes")
	}
	return v
}

// TestProfileCountryDoesNotEscapeWithholdingOnThePage: a reader whom the
// table of address ranges places in Germany (the server is reached
// directly, from a loopback address the table puts there) sees the
// withheld notice on the chat page, and still sees it after changing the
// profile's country to France; the country header and forwarded address
// the reader's own client sends are not believed. With a source
// configured, the moderation pages carry no warning.
func TestProfileCountryDoesNotEscapeWithholdingOnThePage(t *testing.T) {
	ranges := filepath.Join(t.TempDir(), "ranges.csv")
	if err := os.WriteFile(ranges, []byte("127.0.0.0/8,DE\n198.51.100.0/24,FR\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *app.Config) {
		c.CountryHeader, c.ClientAddressHeader, c.CountryRanges = "X-Viewer-Country", "X-Forwarded-For", ranges
		c.TrustedProxies = "192.0.2.1" // a proxy the tests' requests do not come from
	})
	admin := staffBrowser(t, s, "root", parley.RoleAdmin)
	legal := staffBrowser(t, s, "officer", parley.RoleLegalOfficer)
	author, reader := newBrowser(t, s), newBrowser(t, s)
	author.signUp("author")
	reader.signUp("reader")
	reader.header = http.Header{"X-Viewer-Country": {"FR"}, "X-Forwarded-For": {"198.51.100.4"}}
	chat, chatID := channelWithPost(t, author, "streetnews", "Street news", "a contested report")
	legal.post("/moderation/actions", withholdForm(chatID, "1", false)).wantRedirect(t, "withhold", "/moderation/actions/")

	const notice = `<p class="notice" role="note">This message is not available in your country (DE) because it violated local law: Illegal or harmful speech.</p>`
	for _, country := range []string{"DE", "FR"} {
		reader.post("/profile", url.Values{"display_name": {"Reader"}, "country": {country}}).wantRedirect(t, "profile", "/profile")
		reader.get("/profile").contains(t, "profile", `name="country" type="text" value="`+country+`"`)
		p := reader.get(chat).wantStatus(t, "chat page", http.StatusOK)
		p.contains(t, "reader with profile country "+country, notice)
		p.lacks(t, "reader with profile country "+country, "a contested report")
	}
	admin.get("/moderation/actions").wantStatus(t, "actions", http.StatusOK).lacks(t, "admin page with a country source", `id="country-warning"`)
}

// TestNoCountrySourceIsWarnedAndCanBeCovered: with no trusted source of
// viewers' countries, the server logs a warning at start and the
// moderation pages show it (with the flags to set, for admins); the
// take-action form offers to withhold from viewers whose country is
// unknown, the action's page and the author's statement say whether it
// does, and the reader (whose profile says Germany) sees the post withheld
// without that, and a notice naming no country for the post withheld with it.
func TestNoCountrySourceIsWarnedAndCanBeCovered(t *testing.T) {
	s := startServer(t)
	if logs := s.Logs.String(); !strings.Contains(logs, "level=WARN msg=\""+app.NoCountrySourceWarning) {
		t.Fatalf("no start-up warning that viewers' countries are unknown in the log:\n%s", logs)
	}
	admin := staffBrowser(t, s, "root", parley.RoleAdmin)
	legal := staffBrowser(t, s, "officer", parley.RoleLegalOfficer)
	author, reader := newBrowser(t, s), newBrowser(t, s)
	author.signUp("author")
	reader.post("/signup", url.Values{"username": {"reader"}, "password": {"correct horse battery"}, "country": {"DE"}}).wantRedirect(t, "sign up", "/chats")

	for _, path := range []string{"/moderation/actions", "/moderation/audit"} {
		p := admin.get(path).wantStatus(t, path, http.StatusOK)
		p.contains(t, "admin page "+path, `id="country-warning"`, "Viewers’ countries are unknown", "<code>-country-header</code>", "<code>-country-ranges</code>")
	}
	legal.get("/moderation/actions").contains(t, "legal officer's page", `id="country-warning"`, "An admin can configure a source.")
	form := legal.get("/moderation/actions/new").wantStatus(t, "take-action form", http.StatusOK)
	form.contains(t, "take-action form", `name="also_unknown"`, "Also where the country is unknown", "without this, the withholding hides nothing from anyone")

	chat, chatID := channelWithPost(t, author, "citynews", "City news", "withheld in Germany only")
	author.postMultipart(chat+"/messages", map[string]string{"text": "withheld where unknown too"}, "", "", nil).wantRedirect(t, "post", chat)
	plain := actionID(t, legal.post("/moderation/actions", withholdForm(chatID, "1", false)).wantRedirect(t, "withhold", "/moderation/actions/"))
	covered := actionID(t, legal.post("/moderation/actions", withholdForm(chatID, "2", true)).wantRedirect(t, "withhold also unknown", "/moderation/actions/"))

	legal.get(fmt.Sprintf("/moderation/actions/%d", plain)).contains(t, "plain action's page", "<dt>Withheld in</dt><dd>DE; not from viewers whose country is unknown</dd>")
	legal.get(fmt.Sprintf("/moderation/actions/%d", covered)).contains(t, "covering action's page", "<dt>Withheld in</dt><dd>DE, and from viewers whose country is unknown</dd>")
	author.get(fmt.Sprintf("/statements/%d", covered)).contains(t, "author's statement",
		"from people in Germany (DE) and people whose country we cannot tell. Everyone else still sees it.")

	p := reader.get(chat).wantStatus(t, "reader's chat page", http.StatusOK)
	p.contains(t, "reader of unknown country", "withheld in Germany only",
		`<p class="notice" role="note">This message is not available where you are because it violated local law: Illegal or harmful speech.</p>`)
	p.lacks(t, "reader of unknown country", "withheld where unknown too", "in your country")
}
