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

// wantOnlyAudited fails unless the last act, which changed nothing (an
// import of values the bank held), wrote no change and no event but one
// audit entry: the change log still has changes rows, the audit log
// audits+1.
func wantOnlyAudited(t *testing.T, s Store, changes, audits int) {
	t.Helper()
	if cs := allChanges(t, s); len(cs) != changes {
		t.Fatalf("change log grew from %d to %d", changes, len(cs))
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("%d events for an act that changed nothing", len(evs))
	}
	if n := auditCount(t, s); n != audits+1 {
		t.Fatalf("%d audit entries, want %d", n, audits+1)
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
	wantOnlyAudited(t, s, len(before), audits)
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

// --- staged imports ---

// beginImport begins an import of total entries into bank by moderator 7.
func beginImport(t *testing.T, s Store, bankID, total int64) *banks.Import {
	t.Helper()
	imp := &banks.Import{BankID: bankID, Owner: "host-a:123", AddedBy: 7, StartedAt: at(time.Hour), Total: total}
	must(t, s.BeginBankImport(t.Context(), imp))
	if imp.ID == 0 {
		t.Fatal("BeginBankImport set no id")
	}
	return imp
}

// writeImport writes a batch of an import and checks the counts.
func writeImport(t *testing.T, s Store, importID int64, es []*banks.Entry, wantAdded, wantDups int64) {
	t.Helper()
	added, dups, err := s.WriteBankImport(t.Context(), importID, es, at(2*time.Hour))
	must(t, err)
	if added != wantAdded || dups != wantDups {
		t.Fatalf("batch: %d added, %d duplicates; want %d and %d", added, dups, wantAdded, wantDups)
	}
}

// bankView is everything a reader can see of a bank: its entries, its
// count, the change log, the newest change and the audit log's length.
type bankView struct {
	entries []*banks.Entry
	count   int64
	changes []*banks.Change
	last    int64
	audits  int
}

func viewBank(t *testing.T, s Store, bankID int64) bankView {
	t.Helper()
	var v bankView
	var err error
	v.entries, err = s.ListBankEntries(t.Context(), bankID, 0, 0)
	must(t, err)
	b, err := s.FindBankByID(t.Context(), bankID)
	must(t, err)
	v.count = b.Entries
	v.changes = allChanges(t, s)
	v.last, err = s.LastBankChange(t.Context())
	must(t, err)
	v.audits = auditCount(t, s)
	return v
}

// sameView fails unless a reader sees exactly what it saw before.
func sameView(t *testing.T, what string, got, want bankView) {
	t.Helper()
	sameJSON(t, what+": entries", got.entries, want.entries)
	sameJSON(t, what+": change log", got.changes, want.changes)
	if got.count != want.count || got.last != want.last || got.audits != want.audits {
		t.Fatalf("%s: count %d, last change %d, %d audit entries; want %d, %d, %d", what,
			got.count, got.last, got.audits, want.count, want.last, want.audits)
	}
}

// testBankImportInvisibleUntilPublished: while an import is written, a
// reader sees the bank as it was (entries, count, change log, audit log,
// events); publishing makes every entry visible at once, with one change
// each, consecutive, in the order written, one audit entry and one event.
func testBankImportInvisibleUntilPublished(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	old := []*banks.Entry{entry(banks.TypeMD5, 1), entry(banks.TypeMD5, 2)}
	_, err := s.AddBankEntries(ctx, b.ID, seq(old...), bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	takeEvents(t, s)
	before := viewBank(t, s, b.ID)

	imp := beginImport(t, s, b.ID, 7)
	imps, err := s.ListBankImports(ctx)
	must(t, err)
	sameJSON(t, "ListBankImports after begin", imps, []*banks.Import{imp})
	if imp.Written != 0 || imp.Aborted || !imp.WrittenAt.Equal(imp.StartedAt) {
		t.Fatalf("new import %+v", imp)
	}
	first := []*banks.Entry{entry(banks.TypeSHA256, 3), entry(banks.TypeMD5, 1), entry(banks.TypePDQ, 4)}
	writeImport(t, s, imp.ID, first, 2, 1) // md5 1 is held
	sameView(t, "after a batch", viewBank(t, s, b.ID), before)
	for _, e := range first {
		if e.Type != banks.TypeMD5 {
			_, err := s.FindBankEntry(ctx, b.ID, e.Type, e.Value)
			wantCode(t, err, parley.ENotFound)
		}
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("%d events while an import is written", len(evs))
	}
	// Another write between the batches: it is visible at once, and its
	// change comes before the import's.
	other := newBank(t, s, "other", banks.KindAllow)
	o1, err := s.AddBankEntries(ctx, other.ID, seq(entry(banks.TypeURL, 9)), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	takeEvents(t, s)
	second := []*banks.Entry{entry(banks.TypeURL, 5), entry(banks.TypePDQ, 4), entry(banks.TypeDomain, 6), entry(banks.TypeURL, 5)}
	writeImport(t, s, imp.ID, second, 2, 2) // pdq 4 written before, url 5 twice
	imps, err = s.ListBankImports(ctx)
	must(t, err)
	if len(imps) != 1 || imps[0].Written != 7 || imps[0].Added != 4 || imps[0].Total != 7 || imps[0].Aborted ||
		!imps[0].WrittenAt.Equal(at(2*time.Hour)) || imps[0].Owner != "host-a:123" {
		t.Fatalf("import after two batches %+v", imps[0])
	}
	if got, _ := s.ListBankEntries(ctx, b.ID, 0, 0); len(got) != 2 {
		t.Fatalf("%d entries visible while importing, want the 2 held before", len(got))
	}

	o, err := s.PublishBankImport(ctx, imp.ID, bankAct(banks.AuditEntriesImported, 3*time.Hour))
	must(t, err)
	if o.Added != 4 || o.Duplicates != 3 || o.LastChange-o.FirstChange != 3 || o.FirstChange <= o1.LastChange || o.EntryID != 0 {
		t.Fatalf("published: %+v (the add between had change %d)", o, o1.LastChange)
	}
	added := []*banks.Entry{first[0], first[2], second[0], second[2]}
	readBack(t, s, b.ID, added...)
	for _, e := range added {
		if e.AddedBy != 7 {
			t.Fatalf("entry %+v: added by %d, want 7", e, e.AddedBy)
		}
		sameTime(t, "AddedAt of an imported entry", e.AddedAt, at(time.Hour))
	}
	got, err := s.ListBankEntries(ctx, b.ID, 0, 0)
	must(t, err)
	if len(got) != 6 {
		t.Fatalf("%d entries after publishing, want 6", len(got))
	}
	if bb, _ := s.FindBankByID(ctx, b.ID); bb.Entries != 6 {
		t.Fatalf("bank counts %d entries, want 6", bb.Entries)
	}
	cs, err := s.ListBankChanges(ctx, o.FirstChange-1, 0)
	must(t, err)
	if len(cs) != 4 {
		t.Fatalf("%d changes after publishing, want 4", len(cs))
	}
	for i, c := range cs {
		if c.ID != o.FirstChange+int64(i) || c.Op != banks.OpAdd || c.BankID != b.ID {
			t.Fatalf("change %d: %+v", i, c)
		}
		sameJSON(t, "published change's entry", c.Entry, added[i])
		sameTime(t, "published change's time", c.At, at(3*time.Hour))
	}
	if last, err := s.LastBankChange(ctx); err != nil || last != o.LastChange {
		t.Fatalf("LastBankChange = %d, %v; want %d", last, err, o.LastChange)
	}
	if n := auditCount(t, s); n != before.audits+3 { // the other bank, its add, and the import
		t.Fatalf("%d audit entries, want %d", n, before.audits+3)
	}
	a := lastAudit(t, s)
	if d := auditDetails(t, a); a.Action != banks.AuditEntriesImported || d["added"] != float64(4) || d["duplicates"] != float64(3) ||
		d["first_change"] != float64(o.FirstChange) || d["last_change"] != float64(o.LastChange) {
		t.Fatalf("audit %+v", a)
	}
	wantBankEvent(t, takeEvents(t, s), b.ID, o, banks.AuditEntriesImported)
	// The import is over: it is forgotten and takes nothing more.
	imps, err = s.ListBankImports(ctx)
	must(t, err)
	if len(imps) != 0 {
		t.Fatalf("imports after publishing: %+v", imps)
	}
	_, _, err = s.WriteBankImport(ctx, imp.ID, []*banks.Entry{entry(banks.TypeMD5, 20)}, at(0))
	wantCode(t, err, parley.ENotFound)
	_, err = s.PublishBankImport(ctx, imp.ID, bankAct(banks.AuditEntriesImported, 0))
	wantCode(t, err, parley.ENotFound)
	// The next change follows the import's last.
	o2, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypeMD5, 21)), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	if o2.FirstChange != o.LastChange+1 {
		t.Fatalf("next change %d, want %d", o2.FirstChange, o.LastChange+1)
	}
}

// testBankImportChangePaging: the changes of a published import page like
// any others, from any id, whatever the page size, one per entry.
func testBankImportChangePaging(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "big", banks.KindBlock)
	other := newBank(t, s, "other", banks.KindBlock)
	imp := beginImport(t, s, b.ID, 40)
	var written []*banks.Entry
	for k := range 4 {
		var batch []*banks.Entry
		for i := range 10 {
			batch = append(batch, entry(banks.TypeMD5, 10*k+i))
		}
		writeImport(t, s, imp.ID, batch, 10, 0)
		written = append(written, batch...)
		// Adds to another bank between batches split the import's ids.
		_, err := s.AddBankEntries(ctx, other.ID, seq(entry(banks.TypeMD5, 100+k)), bankAct(banks.AuditEntryAdded, 0))
		must(t, err)
	}
	o, err := s.PublishBankImport(ctx, imp.ID, bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	_, err = s.RemoveBankEntry(ctx, other.ID, mustFind(t, s, other.ID, entry(banks.TypeMD5, 100)).ID, bankAct(banks.AuditEntryRemoved, 0))
	must(t, err)
	readBack(t, s, b.ID, written...)
	all := allChanges(t, s)
	for i := 1; i < len(all); i++ {
		if all[i].ID != all[i-1].ID+1 {
			t.Fatalf("change %d follows %d: the log has a gap", all[i].ID, all[i-1].ID)
		}
	}
	var mine []*banks.Change
	for _, c := range all {
		if c.ID >= o.FirstChange && c.ID <= o.LastChange {
			mine = append(mine, c)
		}
	}
	if len(mine) != 40 {
		t.Fatalf("%d changes in the import's range, want 40", len(mine))
	}
	for i, c := range mine {
		sameJSON(t, "import change", c.Entry, written[i])
	}
	for _, size := range []int{1, 3, 7, 40} {
		for _, from := range []int64{0, o.FirstChange - 1, o.FirstChange + 4, o.LastChange - 1} {
			var paged []*banks.Change
			for after := from; ; {
				page, err := s.ListBankChanges(ctx, after, size)
				must(t, err)
				if len(page) > size {
					t.Fatalf("page of %d, limit %d", len(page), size)
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				after = page[len(page)-1].ID
			}
			var want []*banks.Change
			for _, c := range all {
				if c.ID > from {
					want = append(want, c)
				}
			}
			sameJSON(t, fmt.Sprintf("changes after %d, %d a page", from, size), paged, want)
		}
	}
}

// mustFind returns the entry the bank holds with e's type and value.
func mustFind(t *testing.T, s Store, bankID int64, e *banks.Entry) *banks.Entry {
	t.Helper()
	got, err := s.FindBankEntry(t.Context(), bankID, e.Type, e.Value)
	must(t, err)
	return got
}

// testBankImportAbort: an import given up half way leaves nothing any
// reader can see, at any point of deleting it, and can be neither written
// nor published; once forgotten, the bank takes a new import, which does
// not take the given-up values for duplicates.
func testBankImportAbort(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	_, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypePDQ, 1)), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	takeEvents(t, s)
	before := viewBank(t, s, b.ID)
	imp := beginImport(t, s, b.ID, 100)
	var es []*banks.Entry
	for i := range 25 {
		es = append(es, entry(banks.TypeSHA256, i))
	}
	writeImport(t, s, imp.ID, es[:10], 10, 0)
	writeImport(t, s, imp.ID, es[10:], 15, 0)
	// A second import into the bank waits for this one.
	wantCode(t, s.BeginBankImport(ctx, &banks.Import{BankID: b.ID, Owner: "host-b:1", Total: 1, StartedAt: at(0)}), parley.EConflict)

	calls := 0
	for {
		done, err := s.AbortBankImport(ctx, imp.ID, 4)
		must(t, err)
		calls++
		sameView(t, fmt.Sprintf("after abort call %d", calls), viewBank(t, s, b.ID), before)
		if done {
			break
		}
		imps, err := s.ListBankImports(ctx)
		must(t, err)
		if len(imps) != 1 || !imps[0].Aborted {
			t.Fatalf("imports while aborting: %+v", imps)
		}
		if calls == 1 {
			_, _, err = s.WriteBankImport(ctx, imp.ID, es[:1], at(0))
			wantCode(t, err, parley.ENotFound)
			_, err = s.PublishBankImport(ctx, imp.ID, bankAct(banks.AuditEntriesImported, 0))
			wantCode(t, err, parley.ENotFound)
			wantCode(t, s.BeginBankImport(ctx, &banks.Import{BankID: b.ID, Owner: "host-b:1", Total: 1, StartedAt: at(0)}), parley.EConflict)
		}
		if calls > 20 {
			t.Fatal("the abort never ends")
		}
	}
	if calls < 7 {
		t.Fatalf("25 entries deleted 4 at a time in %d calls", calls)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("%d events from an aborted import", len(evs))
	}
	imps, err := s.ListBankImports(ctx)
	must(t, err)
	if len(imps) != 0 {
		t.Fatalf("imports after the abort: %+v", imps)
	}
	_, err = s.AbortBankImport(ctx, imp.ID, 0)
	wantCode(t, err, parley.ENotFound)

	// A new import of the same values adds them all.
	again := beginImport(t, s, b.ID, 25)
	writeImport(t, s, again.ID, es, 25, 0)
	o, err := s.PublishBankImport(ctx, again.ID, bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	if o.Added != 25 {
		t.Fatalf("%+v", o)
	}
	if bb, _ := s.FindBankByID(ctx, b.ID); bb.Entries != 26 {
		t.Fatalf("bank counts %d entries, want 26", bb.Entries)
	}
}

// testBankImportAndSingleAdds: while an import is written, an act adding a
// value the import has written is refused (EConflict: it becomes the
// bank's when the import is published), an entry of the import cannot be
// removed, and other adds go through; the import then counts their values
// as duplicates. After an import is aborted, its values may be added at
// once.
func testBankImportAndSingleAdds(t *testing.T, s Store) {
	ctx := t.Context()
	b := newBank(t, s, "csam", banks.KindBlock)
	imp := beginImport(t, s, b.ID, 3)
	writeImport(t, s, imp.ID, []*banks.Entry{entry(banks.TypeMD5, 1)}, 1, 0)
	_, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypeMD5, 1)), bankAct(banks.AuditEntryAdded, 0))
	wantCode(t, err, parley.EConflict)
	// The entry written is there, under an id no reader was given: a
	// removal of any id the bank does not show finds nothing.
	for id := int64(1); id < 10; id++ {
		_, err := s.RemoveBankEntry(ctx, b.ID, id, bankAct(banks.AuditEntryRemoved, 0))
		wantCode(t, err, parley.ENotFound)
	}
	o, err := s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypeMD5, 2)), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	if o.Added != 1 {
		t.Fatalf("%+v", o)
	}
	writeImport(t, s, imp.ID, []*banks.Entry{entry(banks.TypeMD5, 2), entry(banks.TypeMD5, 3)}, 1, 1)
	po, err := s.PublishBankImport(ctx, imp.ID, bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	if po.Added != 2 || po.Duplicates != 1 || po.FirstChange != o.LastChange+1 {
		t.Fatalf("published %+v after the add's change %d", po, o.LastChange)
	}
	if bb, _ := s.FindBankByID(ctx, b.ID); bb.Entries != 3 {
		t.Fatalf("bank counts %d entries, want 3", bb.Entries)
	}

	// An aborted import's value is the next act's to add.
	imp2 := beginImport(t, s, b.ID, 1)
	writeImport(t, s, imp2.ID, []*banks.Entry{entry(banks.TypeMD5, 4)}, 1, 0)
	done, err := s.AbortBankImport(ctx, imp2.ID, 1) // marks it aborted; its entry may remain
	must(t, err)
	o, err = s.AddBankEntries(ctx, b.ID, seq(entry(banks.TypeMD5, 4)), bankAct(banks.AuditEntryAdded, 0))
	must(t, err)
	if o.Added != 1 {
		t.Fatalf("adding an aborted import's value: %+v", o)
	}
	for !done {
		done, err = s.AbortBankImport(ctx, imp2.ID, 1)
		must(t, err)
	}
	got := mustFind(t, s, b.ID, entry(banks.TypeMD5, 4))
	if got.ID != o.EntryID {
		t.Fatalf("held entry %d, want the added %d", got.ID, o.EntryID)
	}
	if bb, _ := s.FindBankByID(ctx, b.ID); bb.Entries != 4 {
		t.Fatalf("bank counts %d entries, want 4", bb.Entries)
	}
}

// testBankImportBeginErrors: an import into a bank that does not exist, or
// into a bank with one under way, is refused; imports into different banks
// go on side by side.
func testBankImportBeginErrors(t *testing.T, s Store) {
	ctx := t.Context()
	a := newBank(t, s, "a", banks.KindBlock)
	b := newBank(t, s, "b", banks.KindBlock)
	wantCode(t, s.BeginBankImport(ctx, &banks.Import{BankID: b.ID + 100, Owner: "h:1", Total: 1, StartedAt: at(0)}), parley.ENotFound)
	ia := beginImport(t, s, a.ID, 1)
	wantCode(t, s.BeginBankImport(ctx, &banks.Import{BankID: a.ID, Owner: "h:1", Total: 1, StartedAt: at(0)}), parley.EConflict)
	ib := beginImport(t, s, b.ID, 1)
	if ia.ID == ib.ID {
		t.Fatal("two imports with one id")
	}
	writeImport(t, s, ia.ID, []*banks.Entry{entry(banks.TypeMD5, 1)}, 1, 0)
	writeImport(t, s, ib.ID, []*banks.Entry{entry(banks.TypeMD5, 1)}, 1, 0) // another bank: not a duplicate
	_, _, err := s.WriteBankImport(ctx, ib.ID+100, []*banks.Entry{entry(banks.TypeMD5, 2)}, at(0))
	wantCode(t, err, parley.ENotFound)
	_, err = s.PublishBankImport(ctx, ib.ID+100, bankAct(banks.AuditEntriesImported, 0))
	wantCode(t, err, parley.ENotFound)
	for _, imp := range []*banks.Import{ia, ib} {
		o, err := s.PublishBankImport(ctx, imp.ID, bankAct(banks.AuditEntriesImported, 0))
		must(t, err)
		if o.Added != 1 || o.EntryID == 0 {
			t.Fatalf("%+v", o)
		}
	}
	// An import that added nothing writes no change and no event, but is
	// in the audit log.
	takeEvents(t, s)
	last := allChanges(t, s)
	audits := auditCount(t, s)
	ic := beginImport(t, s, a.ID, 1)
	writeImport(t, s, ic.ID, []*banks.Entry{entry(banks.TypeMD5, 1)}, 0, 1)
	o, err := s.PublishBankImport(ctx, ic.ID, bankAct(banks.AuditEntriesImported, 0))
	must(t, err)
	if o != (banks.Outcome{Duplicates: 1}) {
		t.Fatalf("%+v", o)
	}
	wantOnlyAudited(t, s, len(last), audits)
}
