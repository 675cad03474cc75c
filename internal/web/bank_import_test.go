package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/banks"
)

// TestBankPageShowsImportsUnderWay: an import written a batch at a time
// (here by another process, as 'parley banks import' does) shows on its
// bank's page with its progress; its entries are not in the list until it
// ends, and then all are.
func TestBankPageShowsImportsUnderWay(t *testing.T) {
	s := startServer(t)
	mod := staffBrowser(t, s, "mia", parley.RoleModerator)
	bank := mod.post("/moderation/banks", url.Values{"name": {"incoming"}, "kind": {"allow"}}).wantRedirect(t, "create bank", "/moderation/banks/")
	var id int64
	fmt.Sscanf(bank, "/moderation/banks/%d", &id)
	ctx := context.Background()
	imp := &banks.Import{BankID: id, Owner: "elsewhere:1", StartedAt: time.Now(), Total: 4}
	if err := s.DB.BeginBankImport(ctx, imp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DB.WriteBankImport(ctx, imp.ID, []*banks.Entry{
		{Type: banks.TypeDomain, Value: "first.example", Source: "test"},
		{Type: banks.TypeDomain, Value: "second.example", Source: "test"},
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	p := mod.get(bank).wantStatus(t, "bank page", http.StatusOK)
	p.contains(t, "import under way", `Import under way, started`, `2 of 4 entries written (2 new)`,
		fmt.Sprintf(`<progress id="import-%d" max="4" value="2">`, imp.ID))
	p.lacks(t, "entries of the import", "first.example")
	if _, err := s.DB.PublishBankImport(ctx, imp.ID, banks.Act{Actor: banks.SystemActor("test", ""), At: time.Now(), Action: banks.AuditEntriesImported}); err != nil {
		t.Fatal(err)
	}
	p = mod.get(bank)
	p.contains(t, "after the import", "first.example", "second.example")
	p.lacks(t, "after the import", "Import under way")
}
