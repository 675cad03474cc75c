package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/banks"
)

// --- hash banks ---

// bankAct is an act by moderator 7 at t0 plus d.
func bankAct(action string, d time.Duration) banks.Act {
	return banks.Act{Actor: banks.Actor{UserID: 7, Role: parley.RoleModerator}, At: at(d), Action: action,
		Details: map[string]any{"test": "yes"}}
}

func newBank(t *testing.T, s Store, name string, kind banks.Kind) *banks.Bank {
	t.Helper()
	b := &banks.Bank{Name: name, Description: "Known " + name, Kind: kind, Enabled: true, CreatedBy: 7}
	if kind == banks.KindBlock {
		b.Category, b.Action = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", banks.ActionBlockUpload
		b.Keywords = []string{"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"}
	}
	must(t, s.CreateBank(t.Context(), b, bankAct(banks.AuditBankCreated, 0)))
	return b
}

// hexValue is a distinct lower-case hex value of n digits for i.
func hexValue(i, n int) string {
	v := fmt.Sprintf("%0*x", n, uint64(i)*0x9e3779b97f4a7c15)
	return v[len(v)-n:]
}

// entry returns a distinct entry of type typ, with full provenance.
func entry(typ banks.EntryType, i int) *banks.Entry {
	e := &banks.Entry{Type: typ, Source: "ThreatExchange privacy group 123", ExternalID: fmt.Sprint(1000 + i),
		Tags: []string{"media_type_photo", "t" + fmt.Sprint(i)}, Note: fmt.Sprintf("note %d", i)}
	switch typ {
	case banks.TypePDQ:
		e.Value, e.Quality = hexValue(i, 56)+"f0f0f0f0", 90
	case banks.TypeMD5:
		e.Value = hexValue(i, 32)
	case banks.TypeSHA256:
		e.Value = hexValue(i, 48) + "0123456789abcdef"
	case banks.TypeURL:
		e.Value = fmt.Sprintf("t.me/joinchat/%d", i)
	case banks.TypeDomain:
		e.Value = fmt.Sprintf("evil%d.example", i)
	}
	return e
}

// seq is a sequence of entries.
func seq(es ...*banks.Entry) iter.Seq2[*banks.Entry, error] {
	return func(yield func(*banks.Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// readBack fills in what the store gave each entry (ID, BankID, AddedBy,
// AddedAt), finding it by type and value; the store sets nothing in the
// entries it is given.
func readBack(t *testing.T, s Store, bankID int64, es ...*banks.Entry) {
	t.Helper()
	for _, e := range es {
		got, err := s.FindBankEntry(t.Context(), bankID, e.Type, e.Value)
		must(t, err)
		e.ID, e.BankID, e.AddedBy, e.AddedAt = got.ID, got.BankID, got.AddedBy, got.AddedAt
	}
}

// lastAudit returns the newest audit entry.
func lastAudit(t *testing.T, s Store) *parley.AuditEntry {
	t.Helper()
	es, err := s.ListAuditEntries(t.Context(), 0, 1000)
	must(t, err)
	if len(es) == 0 {
		t.Fatal("the audit log is empty")
	}
	return es[len(es)-1]
}

func auditCount(t *testing.T, s Store) int {
	t.Helper()
	es, err := s.ListAuditEntries(t.Context(), 0, 1000)
	must(t, err)
	return len(es)
}

// auditDetails decodes an audit entry's details.
func auditDetails(t *testing.T, e *parley.AuditEntry) map[string]any {
	t.Helper()
	var d map[string]any
	must(t, json.Unmarshal([]byte(e.Details), &d))
	return d
}

// wantBankEvent fails unless evs is exactly one bank.changed event of bank
// with the given change range and action.
func wantBankEvent(t *testing.T, evs []parley.Event, bankID int64, o banks.Outcome, action string) {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1 bank.changed", len(evs))
	}
	e := evs[0]
	if e.Subject != banks.BankSubject(bankID) || e.Kind != banks.EventBankChanged {
		t.Fatalf("event %s %s, want %s %s", e.Subject, e.Kind, banks.BankSubject(bankID), banks.EventBankChanged)
	}
	var p banks.ChangedEvent
	must(t, json.Unmarshal(e.Payload, &p))
	want := banks.ChangedEvent{BankID: bankID, FirstChange: o.FirstChange, LastChange: o.LastChange, Added: o.Added, Removed: o.Removed, Action: action}
	if p != want {
		t.Fatalf("event payload %+v, want %+v", p, want)
	}
}

func allChanges(t *testing.T, s Store) []*banks.Change {
	t.Helper()
	cs, err := s.ListBankChanges(t.Context(), 0, 0)
	must(t, err)
	return cs
}

func testBankCreateAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	takeEvents(t, s)
	b := &banks.Bank{Name: "NCMEC-csam", Description: "Hashes from NCMEC", Kind: banks.KindBlock,
		Category: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", Keywords: []string{"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_NUDITY"},
		Action: banks.ActionLabel, Label: "sensitive", Enabled: true, CreatedBy: 7}
	act := bankAct(banks.AuditBankCreated, time.Second)
	act.Actor = banks.SystemActor("parley banks create", "root")
	must(t, s.CreateBank(ctx, b, act))
	if b.ID == 0 || b.Entries != 0 {
		t.Fatalf("created bank: id %d, entries %d", b.ID, b.Entries)
	}
	sameTime(t, "CreatedAt", b.CreatedAt, at(time.Second))
	sameTime(t, "UpdatedAt", b.UpdatedAt, at(time.Second))

	got, err := s.FindBankByID(ctx, b.ID)
	must(t, err)
	sameJSON(t, "FindBankByID", got, b)
	for _, name := range []string{"NCMEC-csam", "ncmec-CSAM"} {
		got, err := s.FindBankByName(ctx, name)
		must(t, err)
		sameJSON(t, "FindBankByName("+name+")", got, b)
	}
	wantCode(t, s.CreateBank(ctx, &banks.Bank{Name: "ncmec-CSAM", Kind: banks.KindAllow, CreatedBy: 7}, act), parley.EConflict)
	allow := newBank(t, s, "known-memes", banks.KindAllow)
	list, err := s.ListBanks(ctx)
	must(t, err)
	sameJSON(t, "ListBanks", list, []*banks.Bank{b, allow})
	_, err = s.FindBankByID(ctx, allow.ID+100)
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindBankByName(ctx, "nope")
	wantCode(t, err, parley.ENotFound)

	// One change each, in order; the first bank's audit entry and event.
	cs := allChanges(t, s)
	if len(cs) != 2 || cs[0].BankID != b.ID || cs[0].Op != banks.OpBank || cs[0].Entry != nil || cs[1].BankID != allow.ID || cs[1].ID <= cs[0].ID {
		t.Fatalf("changes %+v", cs)
	}
	sameTime(t, "change At", cs[0].At, at(time.Second))
	es, err := s.ListAuditEntries(ctx, 0, 10)
	must(t, err)
	if len(es) != 2 {
		t.Fatalf("%d audit entries, want 2", len(es))
	}
	e := es[0]
	if e.ActorID != 0 || e.Action != banks.AuditBankCreated || e.TargetType != "bank" || e.TargetID != fmt.Sprint(b.ID) || !e.At.Equal(at(time.Second)) {
		t.Fatalf("audit entry %+v", e)
	}
	d := auditDetails(t, e)
	if d["via"] != "parley banks create" || d["os_user"] != "root" || d["test"] != "yes" || d["first_change"] != float64(cs[0].ID) {
		t.Fatalf("audit details %s", e.Details)
	}
	evs := takeEvents(t, s)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	wantBankEvent(t, evs[:1], b.ID, banks.Outcome{FirstChange: cs[0].ID, LastChange: cs[0].ID}, banks.AuditBankCreated)
}

func testBankUpdate(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "scam-links", banks.KindBlock)
	takeEvents(t, s)
	change := *b
	change.Description, change.Category, change.Keywords = "Phishing", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", []string{"KEYWORD_PHISHING"}
	change.Action, change.Label, change.Enabled = banks.ActionReview, "", false
	change.Name, change.Kind, change.CreatedBy = "renamed", banks.KindAllow, 99 // must not be saved
	o, err := s.UpdateBank(ctx, &change, bankAct(banks.AuditBankDisabled, time.Minute))
	must(t, err)
	if o.FirstChange == 0 || o.FirstChange != o.LastChange {
		t.Fatalf("outcome %+v, want one change", o)
	}
	got, err := s.FindBankByID(ctx, b.ID)
	must(t, err)
	want := *b
	want.Description, want.Category, want.Keywords = "Phishing", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", []string{"KEYWORD_PHISHING"}
	want.Action, want.Enabled, want.UpdatedAt = banks.ActionReview, false, at(time.Minute)
	sameJSON(t, "after UpdateBank", got, want)
	cs := allChanges(t, s)
	if c := cs[len(cs)-1]; c.ID != o.LastChange || c.Op != banks.OpBank || c.BankID != b.ID {
		t.Fatalf("last change %+v", c)
	}
	if a := lastAudit(t, s); a.Action != banks.AuditBankDisabled || a.ActorID != 7 || a.TargetID != fmt.Sprint(b.ID) {
		t.Fatalf("audit %+v", a)
	}
	wantBankEvent(t, takeEvents(t, s), b.ID, o, banks.AuditBankDisabled)

	missing := change
	missing.ID = b.ID + 100
	_, err = s.UpdateBank(ctx, &missing, bankAct(banks.AuditBankUpdated, time.Minute))
	wantCode(t, err, parley.ENotFound)
}

func testBankAddEntries(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	other := newBank(t, s, "other", banks.KindBlock)
	takeEvents(t, s)
	es := []*banks.Entry{entry(banks.TypePDQ, 1), entry(banks.TypeMD5, 2), entry(banks.TypeSHA256, 3), entry(banks.TypeURL, 4), entry(banks.TypeDomain, 5)}
	es[4].Tags, es[4].ExternalID, es[4].Quality = nil, "", 0
	o, err := s.AddBankEntries(ctx, b.ID, seq(es...), bankAct(banks.AuditEntriesImported, time.Hour))
	must(t, err)
	if o.Added != 5 || o.Duplicates != 0 || o.LastChange-o.FirstChange != 4 || o.FirstChange == 0 {
		t.Fatalf("outcome %+v", o)
	}
	readBack(t, s, b.ID, es...)
	for i, e := range es {
		if e.ID == 0 || e.BankID != b.ID || e.AddedBy != 7 || (i > 0 && e.ID <= es[i-1].ID) {
			t.Fatalf("entry %d: id %d bank %d by %d", i, e.ID, e.BankID, e.AddedBy)
		}
		sameTime(t, "AddedAt", e.AddedAt, at(time.Hour))
	}
	got, err := s.ListBankEntries(ctx, b.ID, 0, 0)
	must(t, err)
	sameJSON(t, "ListBankEntries", got, es)
	found, err := s.FindBankEntry(ctx, b.ID, banks.TypeMD5, es[1].Value)
	must(t, err)
	sameJSON(t, "FindBankEntry", found, es[1])
	_, err = s.FindBankEntry(ctx, other.ID, banks.TypeMD5, es[1].Value)
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindBankEntry(ctx, b.ID, banks.TypeSHA256, es[1].Value) // same text, other type
	wantCode(t, err, parley.ENotFound)

	// One add change per entry, in the entries' order, carrying the entry.
	cs, err := s.ListBankChanges(ctx, o.FirstChange-1, 0)
	must(t, err)
	if len(cs) != 5 {
		t.Fatalf("%d changes, want 5", len(cs))
	}
	for i, c := range cs {
		if c.ID != o.FirstChange+int64(i) || c.Op != banks.OpAdd || c.BankID != b.ID {
			t.Fatalf("change %d: %+v", i, c)
		}
		sameJSON(t, "change entry", c.Entry, es[i])
	}
	if last, err := s.LastBankChange(ctx); err != nil || last != o.LastChange {
		t.Fatalf("LastBankChange = %d, %v; want %d", last, err, o.LastChange)
	}
	a := lastAudit(t, s)
	d := auditDetails(t, a)
	if a.Action != banks.AuditEntriesImported || d["added"] != float64(5) || d["duplicates"] != float64(0) ||
		d["first_change"] != float64(o.FirstChange) || d["last_change"] != float64(o.LastChange) {
		t.Fatalf("audit %+v", a)
	}
	wantBankEvent(t, takeEvents(t, s), b.ID, o, banks.AuditEntriesImported)

	// The same entries again, with one new: only the new one is added; the
	// same value in another bank is not a duplicate.
	again := []*banks.Entry{entry(banks.TypePDQ, 1), entry(banks.TypeMD5, 2), entry(banks.TypeMD5, 6), entry(banks.TypeURL, 4), entry(banks.TypeMD5, 6)}
	o2, err := s.AddBankEntries(ctx, b.ID, seq(again...), bankAct(banks.AuditEntriesImported, 2*time.Hour))
	must(t, err)
	readBack(t, s, b.ID, again[2])
	if o2.Added != 1 || o2.Duplicates != 4 || o2.FirstChange != o.LastChange+1 || o2.LastChange != o2.FirstChange || o2.EntryID != again[2].ID {
		t.Fatalf("second outcome %+v", o2)
	}
	wantBankEvent(t, takeEvents(t, s), b.ID, o2, banks.AuditEntriesImported)
	o3, err := s.AddBankEntries(ctx, other.ID, seq(entry(banks.TypeMD5, 2)), bankAct(banks.AuditEntryAdded, 2*time.Hour))
	must(t, err)
	if o3.Added != 1 {
		t.Fatalf("same value in another bank: %+v", o3)
	}
	got2, err := s.FindBankByID(ctx, b.ID)
	must(t, err)
	if got2.Entries != 6 {
		t.Fatalf("bank holds %d entries, want 6", got2.Entries)
	}
	_, err = s.AddBankEntries(ctx, b.ID+100, seq(entry(banks.TypeMD5, 9)), bankAct(banks.AuditEntryAdded, 0))
	wantCode(t, err, parley.ENotFound)
}

// testBankAddAllOrNothing: a sequence that fails part-way stores nothing,
// writes no change, audit entry or event.
func testBankAddAllOrNothing(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	takeEvents(t, s)
	audits, last := auditCount(t, s), allChanges(t, s)
	bad := errors.New("line 3 is bad")
	failing := func(yield func(*banks.Entry, error) bool) {
		if !yield(entry(banks.TypeMD5, 1), nil) || !yield(entry(banks.TypeMD5, 2), nil) {
			return
		}
		yield(nil, bad)
	}
	_, err := s.AddBankEntries(ctx, b.ID, failing, bankAct(banks.AuditEntriesImported, 0))
	if !errors.Is(err, bad) {
		t.Fatalf("error %v, want the sequence's error", err)
	}
	got, err := s.ListBankEntries(ctx, b.ID, 0, 0)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("%d entries stored after a failed import", len(got))
	}
	if n := auditCount(t, s); n != audits {
		t.Fatalf("audit log grew from %d to %d", audits, n)
	}
	if cs := allChanges(t, s); len(cs) != len(last) {
		t.Fatalf("change log grew from %d to %d", len(last), len(cs))
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("%d events after a failed import", len(evs))
	}
	if bb, _ := s.FindBankByID(ctx, b.ID); bb.Entries != 0 {
		t.Fatalf("bank counts %d entries", bb.Entries)
	}
	// The store works on afterwards.
	o, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypeMD5, 1)), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	if o.Added != 1 {
		t.Fatalf("outcome %+v", o)
	}
}

// testBankDuplicatesChangeNothing: adding only entries the bank holds
// writes no change and no event, but the act is in the audit log.
func testBankDuplicatesChangeNothing(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	_, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypePDQ, 1), entry(banks.TypePDQ, 2)), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	takeEvents(t, s)
	before := allChanges(t, s)
	audits := auditCount(t, s)
	o, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypePDQ, 2), entry(banks.TypePDQ, 1)), bankAct(banks.AuditEntriesImported, time.Minute))
	must(t, err)
	if o != (banks.Outcome{Duplicates: 2}) {
		t.Fatalf("outcome %+v, want 2 duplicates and nothing else", o)
	}
	if cs := allChanges(t, s); len(cs) != len(before) {
		t.Fatalf("change log grew from %d to %d", len(before), len(cs))
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("%d events for an import that changed nothing", len(evs))
	}
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("audit entries %d, want %d", n, audits+1)
	}
	if d := auditDetails(t, lastAudit(t, s)); d["added"] != float64(0) || d["duplicates"] != float64(2) {
		t.Fatalf("audit details %v", d)
	}
}

func testBankRemoveEntry(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	other := newBank(t, s, "other", banks.KindBlock)
	es := []*banks.Entry{entry(banks.TypeSHA256, 1), entry(banks.TypeSHA256, 2)}
	_, err := s.AddBankEntries(ctx, b.ID, seq(es...), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	readBack(t, s, b.ID, es...)
	takeEvents(t, s)

	_, err = s.RemoveBankEntry(ctx, other.ID, es[0].ID, bankAct(banks.AuditEntryRemoved, 0))
	wantCode(t, err, parley.ENotFound)
	o, err := s.RemoveBankEntry(ctx, b.ID, es[0].ID, bankAct(banks.AuditEntryRemoved, time.Minute))
	must(t, err)
	if o.Removed != 1 || o.EntryID != es[0].ID || o.FirstChange == 0 || o.FirstChange != o.LastChange {
		t.Fatalf("outcome %+v", o)
	}
	wantBankEvent(t, takeEvents(t, s), b.ID, o, banks.AuditEntryRemoved)
	if a := lastAudit(t, s); a.Action != banks.AuditEntryRemoved || auditDetails(t, a)["entry_id"] != float64(es[0].ID) {
		t.Fatalf("audit %+v", a)
	}
	_, err = s.RemoveBankEntry(ctx, b.ID, es[0].ID, bankAct(banks.AuditEntryRemoved, time.Minute))
	wantCode(t, err, parley.ENotFound)
	_, err = s.RemoveBankEntry(ctx, b.ID+100, es[0].ID, bankAct(banks.AuditEntryRemoved, time.Minute))
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindBankEntry(ctx, b.ID, banks.TypeSHA256, es[0].Value)
	wantCode(t, err, parley.ENotFound)
	got, err := s.ListBankEntries(ctx, b.ID, 0, 0)
	must(t, err)
	sameJSON(t, "entries after removal", got, es[1:])
	if bb, _ := s.FindBankByID(ctx, b.ID); bb.Entries != 1 {
		t.Fatalf("bank counts %d entries, want 1", bb.Entries)
	}
	// The remove change carries the removed entry, so a matcher knows what
	// to drop.
	cs := allChanges(t, s)
	rm := cs[len(cs)-1]
	if rm.Op != banks.OpRemove || rm.Entry == nil || rm.Entry.ID != es[0].ID || rm.Entry.Value != es[0].Value {
		t.Fatalf("remove change %+v", rm)
	}
	// A removed value may be added again, as a new entry.
	again := entry(banks.TypeSHA256, 1)
	o2, err := s.AddBankEntries(ctx, b.ID, seq(again), bankAct(banks.AuditEntryAdded, 2*time.Minute))
	must(t, err)
	readBack(t, s, b.ID, again)
	if o2.Added != 1 || o2.EntryID != again.ID || again.ID == es[0].ID {
		t.Fatalf("re-added: outcome %+v, id %d (removed one was %d)", o2, again.ID, es[0].ID)
	}
}

func testBankListEntriesPaging(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "big", banks.KindBlock)
	other := newBank(t, s, "other", banks.KindAllow)
	var es []*banks.Entry
	for i := range 25 {
		es = append(es, entry(banks.TypeMD5, i))
	}
	_, err := s.AddBankEntries(ctx, b.ID, seq(es[:12]...), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	_, err = s.AddBankEntries(ctx, other.ID, seq(entry(banks.TypeMD5, 100)), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	_, err = s.AddBankEntries(ctx, b.ID, seq(es[12:]...), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	readBack(t, s, b.ID, es...)
	var got []*banks.Entry
	for after := int64(0); ; {
		page, err := s.ListBankEntries(ctx, b.ID, after, 10)
		must(t, err)
		if len(page) > 10 {
			t.Fatalf("page of %d, limit 10", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].ID
	}
	sameJSON(t, "all pages", got, es)
}

func testBankChangeLog(t *testing.T, s Store) {
	ctx := t.Context()
	if last, err := s.LastBankChange(ctx); err != nil || last != 0 {
		t.Fatalf("LastBankChange of an empty store = %d, %v", last, err)
	}
	a := newBank(t, s, "a", banks.KindBlock)
	bb := newBank(t, s, "b", banks.KindAllow)
	e1, e2 := entry(banks.TypeDomain, 1), entry(banks.TypeURL, 2)
	_, err := s.AddBankEntries(ctx, a.ID, seq(e1), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	_, err = s.AddBankEntries(ctx, bb.ID, seq(e2), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	readBack(t, s, a.ID, e1)
	readBack(t, s, bb.ID, e2)
	_, err = s.RemoveBankEntry(ctx, a.ID, e1.ID, bankAct(banks.AuditEntryRemoved, 0))
	must(t, err)
	a.Enabled = false
	_, err = s.UpdateBank(ctx, a, bankAct(banks.AuditBankDisabled, 0))
	must(t, err)

	cs := allChanges(t, s)
	type row struct {
		bank  int64
		op    banks.ChangeOp
		entry int64
	}
	var got []row
	for i, c := range cs {
		if i > 0 && c.ID <= cs[i-1].ID {
			t.Fatalf("change ids not increasing: %d after %d", c.ID, cs[i-1].ID)
		}
		r := row{c.BankID, c.Op, 0}
		if c.Entry != nil {
			r.entry = c.Entry.ID
		}
		got = append(got, r)
	}
	want := []row{{a.ID, banks.OpBank, 0}, {bb.ID, banks.OpBank, 0}, {a.ID, banks.OpAdd, e1.ID}, {bb.ID, banks.OpAdd, e2.ID},
		{a.ID, banks.OpRemove, e1.ID}, {a.ID, banks.OpBank, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("change log %+v, want %+v", got, want)
	}
	page, err := s.ListBankChanges(ctx, cs[1].ID, 2)
	must(t, err)
	if len(page) != 2 || page[0].ID != cs[2].ID || page[1].ID != cs[3].ID {
		t.Fatalf("page after change %d: %+v", cs[1].ID, page)
	}
	if last, err := s.LastBankChange(ctx); err != nil || last != cs[len(cs)-1].ID {
		t.Fatalf("LastBankChange = %d, %v; want %d", last, err, cs[len(cs)-1].ID)
	}
}

// testBankConcurrentAdds: writers adding at once, some values shared, get
// disjoint, consecutive change ranges, and every value is added once.
func testBankConcurrentAdds(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "busy", banks.KindBlock)
	const writers, each = 6, 40
	outcomes := make([]banks.Outcome, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var es []*banks.Entry
			for i := range each {
				es = append(es, entry(banks.TypeMD5, (w*each+i)/2)) // neighbours share values
			}
			outcomes[w], errs[w] = s.AddBankEntries(ctx, b.ID, seq(es...), bankAct(banks.AuditEntriesImported, 0))
		})
	}
	wg.Wait()
	var added, dups int64
	var ranges [][2]int64
	for w, o := range outcomes {
		must(t, errs[w])
		added += o.Added
		dups += o.Duplicates
		if o.Added > 0 {
			if o.LastChange-o.FirstChange+1 != o.Added {
				t.Fatalf("writer %d: %d added with changes %d..%d", w, o.Added, o.FirstChange, o.LastChange)
			}
			ranges = append(ranges, [2]int64{o.FirstChange, o.LastChange})
		}
	}
	if added != writers*each/2 || dups != writers*each/2 {
		t.Fatalf("added %d, duplicates %d; want %d each", added, dups, writers*each/2)
	}
	slices.SortFunc(ranges, func(x, y [2]int64) int { return int(x[0] - y[0]) })
	for i := 1; i < len(ranges); i++ {
		if ranges[i][0] <= ranges[i-1][1] {
			t.Fatalf("change ranges overlap: %v", ranges)
		}
	}
	got, err := s.FindBankByID(ctx, b.ID)
	must(t, err)
	if got.Entries != added {
		t.Fatalf("bank counts %d entries, want %d", got.Entries, added)
	}
}

// testBankLargeAdd: a thousand entries with repeats far apart, in one call:
// every value is added once, in the order first given, with consecutive
// change ids in that order.
func testBankLargeAdd(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "large", banks.KindBlock)
	var es []*banks.Entry
	for i := range 1000 {
		es = append(es, entry(banks.TypeMD5, i))
		if i%20 == 19 {
			es = append(es, entry(banks.TypeMD5, i-15)) // a repeat of an earlier value
		}
	}
	o, err := s.AddBankEntries(ctx, b.ID, seq(es...), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	if o.Added != 1000 || o.Duplicates != 50 || o.LastChange-o.FirstChange != 999 || o.EntryID != 0 {
		t.Fatalf("outcome %+v", o)
	}
	cs, err := s.ListBankChanges(ctx, o.FirstChange-1, 0)
	must(t, err)
	if len(cs) != 1000 {
		t.Fatalf("%d changes", len(cs))
	}
	for i, c := range cs {
		if want := entry(banks.TypeMD5, i).Value; c.Entry == nil || c.Entry.Value != want || c.ID != o.FirstChange+int64(i) {
			t.Fatalf("change %d: %+v, want value %s", i, c, want)
		}
	}
}
