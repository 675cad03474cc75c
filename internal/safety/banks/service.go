package banks

import (
	"context"
	"errors"
	"io"
	"iter"
	"slices"
	"strconv"
	"sync"

	"parley"
)

// Service manages banks for moderators and administrators, and for the
// command line acting as the system. Every method checks the actor's role
// first; every change is recorded in the audit log by the store, in the
// transaction of the change. The HTTP API and the web pages call it and do
// nothing else of their own: decode, call, encode.
type Service struct {
	store Store
	clock parley.Clock

	// owner names this process in the imports it writes; mine holds the
	// ids of those under way here, so that an import of this process's
	// that is not among them (its goroutine is gone) counts as abandoned.
	owner string
	mu    sync.Mutex
	mine  map[int64]bool
}

// NewService returns a Service over store, telling the time with clock.
// A process has one Service per store: it tells its own imports from
// those of other processes by it.
func NewService(store Store, clock parley.Clock) *Service {
	return &Service{store: store, clock: clock, owner: processOwner(), mine: map[int64]bool{}}
}

// authorize allows moderators, administrators and the system (an actor
// without an account that names the command acting for it).
func authorize(a Actor) error {
	if a.IsSystem() {
		if a.Via == "" {
			return parley.Errorf(parley.EUnauthorized, "sign in to manage hash banks")
		}
		return nil
	}
	if a.Role.CanModerate() {
		return nil
	}
	return parley.Errorf(parley.EForbidden, "only moderators and administrators manage hash banks")
}

func (s *Service) act(a Actor, action string, details map[string]any) Act {
	return Act{Actor: a, At: s.clock.Now(), Action: action, Details: details}
}

// CreateBank creates a bank from the fields staff choose (Name,
// Description, Kind, Category, Keywords, Action, Label, Enabled).
// EConflict if the name is taken.
func (s *Service) CreateBank(ctx context.Context, a Actor, in Bank) (*Bank, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	b := &Bank{Name: in.Name, Description: in.Description, Kind: in.Kind, Category: in.Category,
		Keywords: slices.Clone(in.Keywords), Action: in.Action, Label: in.Label, Enabled: in.Enabled, CreatedBy: a.UserID}
	if err := checkBank(b); err != nil {
		return nil, err
	}
	details := map[string]any{"name": b.Name, "kind": b.Kind, "enabled": b.Enabled}
	if b.Action != "" {
		details["action"] = b.Action
	}
	if b.Category != "" {
		details["category"] = b.Category
	}
	if err := s.store.CreateBank(ctx, b, s.act(a, AuditBankCreated, details)); err != nil {
		return nil, err
	}
	return b, nil
}

// BankUpdate names the fields of a bank to change; nil fields stay.
type BankUpdate struct {
	Description *string
	Category    *string
	Keywords    *[]string
	Action      *Action
	Label       *string
}

// UpdateBank changes a bank's description, category, keywords, action or
// label. The audit entry records each changed field's old and new value.
// Changing nothing records nothing.
func (s *Service) UpdateBank(ctx context.Context, a Actor, bankID int64, u BankUpdate) (*Bank, error) {
	b, err := s.Bank(ctx, a, bankID)
	if err != nil {
		return nil, err
	}
	old := *b
	changed := map[string]any{}
	note := func(field string, from, to any) { changed[field] = map[string]any{"from": from, "to": to} }
	if u.Description != nil && *u.Description != b.Description {
		note("description", b.Description, *u.Description)
		b.Description = *u.Description
	}
	if u.Category != nil && *u.Category != b.Category {
		note("category", b.Category, *u.Category)
		b.Category = *u.Category
	}
	if u.Keywords != nil && !slices.Equal(*u.Keywords, b.Keywords) {
		note("keywords", b.Keywords, *u.Keywords)
		b.Keywords = slices.Clone(*u.Keywords)
	}
	if u.Action != nil && *u.Action != b.Action {
		note("action", b.Action, *u.Action)
		b.Action = *u.Action
	}
	if u.Label != nil && *u.Label != b.Label {
		note("label", b.Label, *u.Label)
		b.Label = *u.Label
	}
	if len(changed) == 0 {
		return &old, nil
	}
	if err := checkBank(b); err != nil {
		return nil, err
	}
	if _, err := s.store.UpdateBank(ctx, b, s.act(a, AuditBankUpdated, map[string]any{"name": b.Name, "changed": changed})); err != nil {
		return nil, err
	}
	return b, nil
}

// SetBankEnabled enables or disables a bank. A disabled bank never
// matches; enabling it again makes every entry it holds match at once (the
// bank.changed event tells re-screening workers). Setting the state a bank
// is already in records nothing.
func (s *Service) SetBankEnabled(ctx context.Context, a Actor, bankID int64, enabled bool) (*Bank, error) {
	b, err := s.Bank(ctx, a, bankID)
	if err != nil {
		return nil, err
	}
	if b.Enabled == enabled {
		return b, nil
	}
	b.Enabled = enabled
	action := AuditBankDisabled
	if enabled {
		action = AuditBankEnabled
	}
	if _, err := s.store.UpdateBank(ctx, b, s.act(a, action, map[string]any{"name": b.Name})); err != nil {
		return nil, err
	}
	return b, nil
}

// Bank returns a bank by id; every act on one bank starts with it, for its
// role check.
func (s *Service) Bank(ctx context.Context, a Actor, bankID int64) (*Bank, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	return s.store.FindBankByID(ctx, bankID)
}

// BankByName returns a bank by name (without regard to case).
func (s *Service) BankByName(ctx context.Context, a Actor, name string) (*Bank, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	return s.store.FindBankByName(ctx, name)
}

// Banks returns every bank, by id.
func (s *Service) Banks(ctx context.Context, a Actor) ([]*Bank, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	return s.store.ListBanks(ctx)
}

// Entries returns a page of a bank's entries, by id, after afterID.
func (s *Service) Entries(ctx context.Context, a Actor, bankID, afterID int64, limit int) ([]*Entry, error) {
	if _, err := s.Bank(ctx, a, bankID); err != nil {
		return nil, err
	}
	return s.store.ListBankEntries(ctx, bankID, afterID, limit)
}

// AddEntry adds one entry to a bank: in.Type and in.Value (checked and made
// canonical by ParseValue) and its provenance (Source, ExternalID, Tags,
// Note; Quality for a pdq hash whose quality is known). A user's entry
// without a source gets "moderator". When the bank already holds the value,
// nothing changes and the entry held is returned with added false.
func (s *Service) AddEntry(ctx context.Context, a Actor, bankID int64, in Entry) (e *Entry, added bool, err error) {
	b, err := s.Bank(ctx, a, bankID)
	if err != nil {
		return nil, false, err
	}
	value, err := ParseValue(in.Type, in.Value) // refuses an unknown type too
	if err != nil {
		return nil, false, err
	}
	e = &Entry{Type: in.Type, Value: value, Quality: in.Quality, Source: in.Source, ExternalID: in.ExternalID,
		Tags: slices.Clone(in.Tags), Note: in.Note, AddedBy: a.UserID}
	if e.Source == "" && !a.IsSystem() {
		e.Source = "moderator"
	}
	if err := checkProvenance(e); err != nil {
		return nil, false, err
	}
	act := s.act(a, AuditEntryAdded, map[string]any{"name": b.Name, "type": e.Type, "value": e.Value, "source": e.Source})
	o, err := s.store.AddBankEntries(ctx, bankID, one(e), act)
	if err != nil {
		return nil, false, err
	}
	held, err := s.store.FindBankEntry(ctx, bankID, e.Type, e.Value)
	return held, o.Added == 1, err
}

// one is a sequence of one entry.
func one(e *Entry) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) { yield(e, nil) }
}

// RemoveEntry removes an entry from a bank; reason, if given, is recorded
// in the audit log. ENotFound if the bank holds no such entry.
func (s *Service) RemoveEntry(ctx context.Context, a Actor, bankID, entryID int64, reason string) error {
	b, err := s.Bank(ctx, a, bankID)
	if err != nil {
		return err
	}
	if err := checkText("reason", reason, MaxNoteBytes, false); err != nil {
		return err
	}
	details := map[string]any{"name": b.Name}
	if reason != "" {
		details["reason"] = reason
	}
	_, err = s.store.RemoveBankEntry(ctx, bankID, entryID, s.act(a, AuditEntryRemoved, details))
	return err
}

// RemoveEntryByValue removes the entry with that type and value (in any
// form ParseValue accepts) and returns it. ENotFound if there is none.
func (s *Service) RemoveEntryByValue(ctx context.Context, a Actor, bankID int64, typ EntryType, value, reason string) (*Entry, error) {
	if err := authorize(a); err != nil {
		return nil, err
	}
	v, err := ParseValue(typ, value) // refuses an unknown type too
	if err != nil {
		return nil, err
	}
	e, err := s.store.FindBankEntry(ctx, bankID, typ, v)
	if err != nil {
		return nil, err
	}
	return e, s.RemoveEntry(ctx, a, bankID, e.ID, reason)
}

// Import reads entries in one of the formats into a bank, all or nothing:
// every line is checked first, and if any is bad the report lists the bad
// lines (each with its line number, column and what is wrong), the error is
// EInvalid and nothing is stored. A good file is written ImportBatch
// entries per transaction of the store, so that other writes go on
// between them, and none of it is visible to anyone until the last batch
// is written and the whole import is published at once (writeImport).
// Entries the bank already holds are counted as duplicates and ignored, so
// importing the same file twice changes nothing the second time. The report
// is returned with the error too.
func (s *Service) Import(ctx context.Context, a Actor, bankID int64, r io.Reader, opts ImportOptions) (*ImportReport, error) {
	b, err := s.Bank(ctx, a, bankID)
	if err != nil {
		return &ImportReport{Format: opts.Format}, err
	}
	// What imports that died left behind goes first: it is invisible, but
	// it takes space and would keep this bank from another import.
	if _, err := s.CleanImports(ctx); err != nil {
		return &ImportReport{Format: opts.Format}, err
	}
	sp, err := newSpool()
	if err != nil {
		return &ImportReport{Format: opts.Format}, err
	}
	defer sp.close()
	rep, err := readImport(ctx, r, b, opts, sp.put)
	if err != nil {
		return rep, err
	}
	if rep.BadLines > 0 {
		return rep, parley.Errorf(parley.EInvalid, "%s; nothing was imported", badLinesSummary(rep))
	}
	details := map[string]any{"name": b.Name, "format": opts.Format, "lines": rep.Lines, "entries": rep.Entries, "bytes": rep.Bytes}
	if opts.Name != "" {
		details["file"] = opts.Name
	}
	if opts.Type != "" {
		details["type"] = opts.Type
	}
	if opts.Source != "" {
		details["source"] = opts.Source
	}
	progress := func(n int64, done bool) {
		if opts.Progress != nil {
			opts.Progress(Progress{Phase: PhaseWriting, Bytes: rep.Bytes, Lines: rep.Lines, Entries: n, Total: rep.Entries, Done: done})
		}
	}
	o, err := s.writeImport(ctx, a, bankID, sp, rep.Entries, opts.Batch, progress, s.act(a, AuditEntriesImported, details))
	if err != nil {
		return rep, err
	}
	rep.Added, rep.Duplicates, rep.FirstChange, rep.LastChange = o.Added, o.Duplicates, o.FirstChange, o.LastChange
	return rep, nil
}

// badLinesSummary says how many lines are bad and which is first.
func badLinesSummary(rep *ImportReport) string {
	first := rep.Errors[0].String()
	if rep.BadLines == 1 {
		return "1 line is bad (" + first + ")"
	}
	return strconv.FormatInt(rep.BadLines, 10) + " lines are bad (the first: " + first + ")"
}

// ExportOptions say how to write an export.
type ExportOptions struct {
	Format Format
	// Type restricts the export to one entry type; the hma format needs
	// one (it holds one type per file), the pdq format holds pdq only.
	Type EntryType
}

// ExportReport says what an export wrote.
type ExportReport struct {
	Entries int64 `json:"entries"` // entries written
	Skipped int64 `json:"skipped"` // entries of other types, left out
}

// Export writes a bank's entries in one of the formats, in the order they
// were added; Import reads the file back into the same entries. Exports
// are recorded in the audit log, because a bank's list is sensitive.
func (s *Service) Export(ctx context.Context, a Actor, bankID int64, w io.Writer, opts ExportOptions) (*ExportReport, error) {
	b, err := s.Bank(ctx, a, bankID)
	if err != nil {
		return nil, err
	}
	if _, err := ParseFormat(string(opts.Format)); err != nil {
		return nil, err
	}
	if opts.Type != "" {
		if _, err := ParseType(string(opts.Type)); err != nil {
			return nil, err
		}
		if opts.Format == FormatPDQ && opts.Type != TypePDQ {
			return nil, parley.FieldError("type", "the pdq format holds pdq hashes only")
		}
	}
	ew, err := newEntryWriter(w, opts.Format, b, opts.Type)
	if err != nil {
		return nil, err
	}
	rep := &ExportReport{}
	for after := int64(0); ; {
		page, err := s.store.ListBankEntries(ctx, bankID, after, MaxListLimit)
		if err != nil {
			return rep, err
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			ok, err := ew.write(e)
			if err != nil {
				return rep, err
			}
			if ok {
				rep.Entries++
			} else {
				rep.Skipped++
			}
		}
		after = page[len(page)-1].ID
	}
	if err := ew.flush(); err != nil {
		return rep, err
	}
	details := map[string]any{"name": b.Name, "format": opts.Format, "entries": rep.Entries}
	if opts.Type != "" {
		details["type"] = opts.Type
	}
	audit := s.act(a, AuditBankExported, details).Audit(bankID, Outcome{})
	if err := s.store.AppendAudit(ctx, audit); err != nil {
		return rep, errors.Join(parley.Errorf(parley.EInternal, "the export was written but could not be recorded in the audit log"), err)
	}
	return rep, nil
}
