package web

import (
	"context"
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/safety/banks"
	"parley/internal/sor"
)

// bankPage is the data of a bank's page: its settings, a page of its
// entries, and the forms to add, remove, import and export entries.
type bankPage struct {
	page
	Bank     *banks.Bank
	Category string
	Action   string
	Keywords []string
	Entries  []entryRow
	// After is the "after" of this page of entries (0 for the first), Next
	// that of the next page (0 when there is none).
	After, Next int64
	Add         *form
	Remove      *form
	Import      *form
	Export      *form
	// Report is the outcome of an import with bad lines: nothing was
	// imported, and each bad line is listed.
	Report *banks.ImportReport
	// Importing are the imports into the bank under way (from this page,
	// the API or the command line), with their progress.
	Importing []*banks.Import
}

// entryRow is one entry in the list.
type entryRow struct {
	*banks.Entry
	AddedBy string
}

// maxShownLineErrors is how many bad lines of an import the page lists.
const maxShownLineErrors = 100

// ShownErrors are the bad lines of the import the page lists.
func (p *bankPage) ShownErrors() []banks.LineError {
	if p.Report == nil {
		return nil
	}
	return p.Report.Errors[:min(len(p.Report.Errors), maxShownLineErrors)]
}

// MoreBadLines is how many bad lines the page does not list.
func (p *bankPage) MoreBadLines() int64 {
	if p.Report == nil {
		return 0
	}
	return p.Report.BadLines - int64(len(p.ShownErrors()))
}

func (p *bankPage) TypeOptions() []option {
	opts := []option{}
	for _, t := range banks.EntryTypes {
		opts = append(opts, option{string(t), entryTypeLabels[t]})
	}
	return opts
}

// FileTypeOptions are the entry types for an import or export, with the
// empty choice the threatexchange format needs (it names each line's type).
func (p *bankPage) FileTypeOptions() []option {
	return append([]option{{"", "Every type (threatexchange); pdq hashes (pdq)"}}, p.TypeOptions()...)
}

func (p *bankPage) FormatOptions() []option {
	return []option{
		{string(banks.FormatThreatExchange), "ThreatExchange CSV (collab,signal_type,signal_str,category,tags)"},
		{string(banks.FormatHMA), "HMA CSV (signal,id,added_on,tags), one type per file"},
		{string(banks.FormatPDQ), "PDQ hasher output (hash,quality,file)"},
	}
}

var entryTypeLabels = map[banks.EntryType]string{
	banks.TypePDQ:    "PDQ hash (images)",
	banks.TypeMD5:    "MD5 of a file",
	banks.TypeSHA256: "SHA-256 of a file",
	banks.TypeURL:    "URL",
	banks.TypeDomain: "Domain",
}

// The fields of the bank page's forms.
var (
	entryFields  = []string{"type", "value", "source", "external_id", "tags", "note", "quality"}
	importFields = []string{"import_format", "import_type", "import_source", "file"}
	exportFields = []string{"export_format", "export_type"}
)

// The import and export forms share the bank page with the entry form, so
// their fields have names (and element ids) of their own.
var (
	importErrorFields = map[string]string{"format": "import_format", "type": "import_type", "source": "import_source"}
	exportErrorFields = map[string]string{"format": "export_format", "type": "export_type"}
)

// bankShow shows a bank and a page of its entries (?after=ENTRY_ID).
func (s *Server) bankShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	after, err := queryID(r, "after")
	if err != nil {
		return err
	}
	p, err := s.loadBankPage(r.Context(), r, u)
	if err != nil {
		return err
	}
	p.After = after
	return s.renderBank(w, r, u, http.StatusOK, p)
}

// loadBankPage loads a bank and starts its page with empty forms. The
// entries are read by renderBank, when the page is shown: an action that
// succeeds redirects without them.
func (s *Server) loadBankPage(ctx context.Context, r *http.Request, u *parley.User) (*bankPage, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	b, err := s.Banks.Bank(ctx, banks.UserActor(u), id)
	if err != nil {
		return nil, err
	}
	p := &bankPage{page: modPage("Hash bank "+b.Name, "banks"), Bank: b,
		Category: categoryName(sor.Category(b.Category)), Action: bankActionLabels[b.Action],
		Add: newForm(), Remove: newForm(), Import: newForm(), Export: newForm()}
	if b.Category == "" {
		p.Category = "None"
	}
	for _, k := range b.Keywords {
		p.Keywords = append(p.Keywords, keywordLabel(sor.Keyword(k)))
	}
	for _, f := range []struct {
		form   *form
		fields []string
	}{{p.Add, entryFields}, {p.Import, importFields}, {p.Export, exportFields}} {
		for _, name := range f.fields {
			f.form.Values[name] = ""
		}
	}
	p.Add.Values["type"] = string(banks.TypePDQ)
	p.Add.Values["source"] = "moderator"
	p.Import.Values["import_format"] = string(banks.FormatThreatExchange)
	p.Export.Values["export_format"] = string(banks.FormatThreatExchange)
	if p.Importing, err = s.Banks.Imports(ctx, banks.UserActor(u), id); err != nil {
		return nil, err
	}
	return p, nil
}

// renderBank reads the page of entries after p.After and shows the bank's
// page.
func (s *Server) renderBank(w http.ResponseWriter, r *http.Request, u *parley.User, status int, p *bankPage) error {
	entries, err := s.Banks.Entries(r.Context(), banks.UserActor(u), p.Bank.ID, p.After, modPageSize)
	if err != nil {
		return err
	}
	n := s.names(r.Context())
	for _, e := range entries {
		p.Entries = append(p.Entries, entryRow{Entry: e, AddedBy: n.username(e.AddedBy, "the system")})
	}
	if len(entries) == modPageSize {
		p.Next = entries[len(entries)-1].ID
	}
	s.render(w, r, status, "bank_show", p)
	return nil
}

// renderBankForm re-renders a bank's page with a form's error, or returns
// the error when it is not one the form can show.
func (s *Server) renderBankForm(w http.ResponseWriter, r *http.Request, u *parley.User, p *bankPage, f *form, err error, rename map[string]string) error {
	if !formError(err) || parley.ErrorCode(err) == parley.EForbidden {
		return err
	}
	f.fail(err, rename)
	f.nameErrors(map[string]string{"type": "The type", "value": "The value", "source": "The source",
		"external_id": "The external id", "tags": "The tags", "note": "The note", "quality": "The quality",
		"reason": "The reason", "import_source": "The source"})
	return s.renderBank(w, r, u, api.StatusOf(err), p)
}
