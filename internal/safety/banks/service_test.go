package banks_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/audit"
	"parley/internal/safety/banks"
)

func TestServiceRoles(t *testing.T) {
	e := setup(t)
	b := e.blockBank(t, "csam", banks.ActionRemove)
	ctx := t.Context()
	for _, tt := range []struct {
		actor banks.Actor
		code  string
	}{
		{banks.Actor{UserID: 5, Role: parley.RoleMember}, parley.EForbidden},
		{banks.Actor{UserID: 5, Role: parley.RoleLegalOfficer}, parley.EForbidden},
		{banks.Actor{}, parley.EUnauthorized}, // no account and no command
		{banks.Actor{UserID: 5, Role: parley.RoleAdmin}, ""},
		{banks.SystemActor("parley banks list", ""), ""},
	} {
		_, err := e.svc.Banks(ctx, tt.actor)
		wantCode(t, err, tt.code)
		_, err = e.svc.CreateBank(ctx, tt.actor, banks.Bank{Name: "x" + tt.code, Kind: banks.KindAllow})
		if tt.code != "" {
			wantCode(t, err, tt.code)
			_, _, err = e.svc.AddEntry(ctx, tt.actor, b.ID, banks.Entry{Type: banks.TypeMD5, Value: emptyMD5, Source: "x"})
			wantCode(t, err, tt.code)
			_, err = e.svc.Import(ctx, tt.actor, b.ID, strings.NewReader(emptyMD5), banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeMD5, Source: "x"})
			wantCode(t, err, tt.code)
			_, err = e.svc.Export(ctx, tt.actor, b.ID, &bytes.Buffer{}, banks.ExportOptions{Format: banks.FormatThreatExchange})
			wantCode(t, err, tt.code)
			_, err = e.svc.SetBankEnabled(ctx, tt.actor, b.ID, false)
			wantCode(t, err, tt.code)
			wantCode(t, e.svc.RemoveEntry(ctx, tt.actor, b.ID, 1, ""), tt.code)
		}
	}
	if en := e.entries(t, b); len(en) != 0 {
		t.Fatalf("refused actors added %d entries", len(en))
	}
}

// TestServiceAudit: every privileged act is in the audit log, in order,
// with its actor, and the chain verifies; every change wrote an event.
func TestServiceAudit(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	b := e.blockBank(t, "csam", banks.ActionRemove)
	e.clock.advance(time.Minute)
	if _, err := e.svc.SetBankEnabled(ctx, e.mod, b.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetBankEnabled(ctx, e.mod, b.ID, false); err != nil { // already disabled: nothing
		t.Fatal(err)
	}
	if _, err := e.svc.SetBankEnabled(ctx, e.cli, b.ID, true); err != nil {
		t.Fatal(err)
	}
	desc := "Hashes from NCMEC"
	if _, err := e.svc.UpdateBank(ctx, e.mod, b.ID, banks.BankUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateBank(ctx, e.mod, b.ID, banks.BankUpdate{Description: &desc}); err != nil { // no change: nothing
		t.Fatal(err)
	}
	en, added, err := e.svc.AddEntry(ctx, e.mod, b.ID, banks.Entry{Type: banks.TypeMD5, Value: strings.ToUpper(emptyMD5)})
	if err != nil || !added || en.Source != "moderator" || en.Value != emptyMD5 || en.AddedBy != e.mod.UserID || !en.AddedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("AddEntry: %+v, %v, %v", en, added, err)
	}
	again, added, err := e.svc.AddEntry(ctx, e.mod, b.ID, banks.Entry{Type: banks.TypeMD5, Value: emptyMD5, Source: "other"})
	if err != nil || added || again.ID != en.ID || again.Source != "moderator" {
		t.Fatalf("AddEntry of a held value: %+v, %v, %v", again, added, err)
	}
	if _, err := e.svc.Import(ctx, e.cli, b.ID, strings.NewReader(emptySHA+"\n"), banks.ImportOptions{Format: banks.FormatHMA, Type: banks.TypeSHA256, Source: "NCMEC", Name: "ncmec.csv"}); err != nil {
		t.Fatal(err)
	}
	removed, err := e.svc.RemoveEntryByValue(ctx, e.mod, b.ID, banks.TypeSHA256, strings.ToUpper(emptySHA), "listed by mistake")
	if err != nil || removed.Value != emptySHA {
		t.Fatalf("RemoveEntryByValue: %+v, %v", removed, err)
	}
	_, err = e.svc.RemoveEntryByValue(ctx, e.mod, b.ID, banks.TypeSHA256, emptySHA, "")
	wantCode(t, err, parley.ENotFound)
	if _, err := e.svc.Export(ctx, e.mod, b.ID, &bytes.Buffer{}, banks.ExportOptions{Format: banks.FormatThreatExchange}); err != nil {
		t.Fatal(err)
	}

	entries, err := e.db.ListAuditEntries(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		action string
		actor  int64
	}
	var got []row
	for _, a := range entries {
		got = append(got, row{a.Action, a.ActorID})
		if a.TargetType != "bank" || a.TargetID != "1" {
			t.Fatalf("audit target %s %s", a.TargetType, a.TargetID)
		}
	}
	m := e.mod.UserID
	want := []row{{banks.AuditBankCreated, m}, {banks.AuditBankDisabled, m}, {banks.AuditBankEnabled, 0}, {banks.AuditBankUpdated, m},
		{banks.AuditEntryAdded, m}, {banks.AuditEntryAdded, m}, {banks.AuditEntriesImported, 0}, {banks.AuditEntryRemoved, m}, {banks.AuditBankExported, m}}
	if !slices.Equal(got, want) {
		t.Fatalf("audit log\n got %v\nwant %v", got, want)
	}
	details := func(i int) map[string]any {
		var d map[string]any
		if err := json.Unmarshal([]byte(entries[i].Details), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := details(2); d["via"] != "parley banks test" || d["os_user"] != "tester" {
		t.Fatalf("the command line's act does not name the command: %v", d)
	}
	if d := details(3); !strings.Contains(entries[3].Details, `"description":{"from":"","to":"Hashes from NCMEC"}`) {
		t.Fatalf("update details %v", d)
	}
	if d := details(5); d["added"] != float64(0) || d["duplicates"] != float64(1) {
		t.Fatalf("duplicate add details %v", d)
	}
	if d := details(6); d["file"] != "ncmec.csv" || d["source"] != "NCMEC" || d["type"] != "sha256" {
		t.Fatalf("import details %v", d)
	}
	if d := details(7); d["reason"] != "listed by mistake" || d["entry_id"] == nil {
		t.Fatalf("remove details %v", d)
	}
	if r, err := audit.Verify(ctx, e.db.ListAuditEntries); err != nil || !r.Intact {
		t.Fatalf("audit chain: %+v, %v", r, err)
	}

	// Every act that changed a bank wrote one event; the duplicate add and
	// the export did not.
	evs, err := e.db.PendingEvents(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range evs {
		if ev.Kind != banks.EventBankChanged || ev.Subject != "bank.1" {
			t.Fatalf("event %s %s", ev.Subject, ev.Kind)
		}
		var p banks.ChangedEvent
		json.Unmarshal(ev.Payload, &p)
		kinds = append(kinds, p.Action)
	}
	wantKinds := []string{banks.AuditBankCreated, banks.AuditBankDisabled, banks.AuditBankEnabled, banks.AuditBankUpdated,
		banks.AuditEntryAdded, banks.AuditEntriesImported, banks.AuditEntryRemoved}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("events %v, want %v", kinds, wantKinds)
	}
}

func TestServiceNotFound(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	_, err := e.svc.Bank(ctx, e.mod, 99)
	wantCode(t, err, parley.ENotFound)
	_, err = e.svc.BankByName(ctx, e.mod, "nope")
	wantCode(t, err, parley.ENotFound)
	_, _, err = e.svc.AddEntry(ctx, e.mod, 99, banks.Entry{Type: banks.TypeMD5, Value: emptyMD5})
	wantCode(t, err, parley.ENotFound)
	_, err = e.svc.Import(ctx, e.cli, 99, strings.NewReader(""), banks.ImportOptions{Format: banks.FormatThreatExchange})
	wantCode(t, err, parley.ENotFound)
	b := e.blockBank(t, "csam", banks.ActionRemove)
	wantCode(t, e.svc.RemoveEntry(ctx, e.mod, b.ID, 12345, ""), parley.ENotFound)
	_, _, err = e.svc.AddEntry(ctx, e.mod, b.ID, banks.Entry{Type: banks.TypePDQ, Value: bridgePDQ, Quality: 30})
	wantErrorContains(t, err, parley.EInvalid, "quality 30 is below 50")
	_, _, err = e.svc.AddEntry(ctx, e.mod, b.ID, banks.Entry{Type: banks.TypeMD5, Value: emptyMD5, Quality: 90})
	wantErrorContains(t, err, parley.EInvalid, "only pdq hashes have a quality")
	_, _, err = e.svc.AddEntry(ctx, e.cli, b.ID, banks.Entry{Type: banks.TypeMD5, Value: emptyMD5})
	wantErrorContains(t, err, parley.EInvalid, "is required: say where the entry comes from")
}
