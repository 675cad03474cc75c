package audit_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"parley"
	"parley/internal/audit"
)

// Every field of an entry, and the link to the previous one, is covered by
// its hash: changing any of them changes the hash.
func TestHashCoversEveryField(t *testing.T) {
	base := parley.AuditEntry{ID: 3, At: time.Unix(1_700_000_000, 0), ActorID: 7, Action: "user.role_changed",
		TargetType: "user", TargetID: "9", Details: `{"to":"admin"}`}
	prev := []byte("previous")
	want := audit.Hash(prev, &base)
	for name, change := range map[string]func(e *parley.AuditEntry){
		"id":          func(e *parley.AuditEntry) { e.ID++ },
		"at":          func(e *parley.AuditEntry) { e.At = e.At.Add(time.Microsecond) },
		"actor":       func(e *parley.AuditEntry) { e.ActorID++ },
		"action":      func(e *parley.AuditEntry) { e.Action += "x" },
		"target type": func(e *parley.AuditEntry) { e.TargetType = "chat" },
		"target id":   func(e *parley.AuditEntry) { e.TargetID = "90" },
		"details":     func(e *parley.AuditEntry) { e.Details = `{"to":"member"}` },
		// Moving a byte between two neighbouring fields must not give the same hash.
		"field boundary": func(e *parley.AuditEntry) { e.TargetType, e.TargetID = "use", "r9" },
	} {
		e := base
		change(&e)
		if bytes.Equal(audit.Hash(prev, &e), want) {
			t.Errorf("changing the %s leaves the hash unchanged", name)
		}
	}
	if bytes.Equal(audit.Hash([]byte("other"), &base), want) {
		t.Error("changing the previous hash leaves the hash unchanged")
	}
	if !bytes.Equal(audit.Hash(prev, &base), want) {
		t.Error("the hash is not deterministic")
	}
}

// Verify walks a chain built in memory and names a reordered pair.
func TestVerifyFindsReordering(t *testing.T) {
	var chain []*parley.AuditEntry
	var prev []byte
	for i := int64(1); i <= 4; i++ {
		e := &parley.AuditEntry{ID: i, Action: "test.act", TargetType: "user", TargetID: "1", PrevHash: prev}
		e.Hash = audit.Hash(prev, e)
		prev = e.Hash
		chain = append(chain, e)
	}
	list := func(entries []*parley.AuditEntry) audit.Lister {
		return func(_ context.Context, after int64, limit int) ([]*parley.AuditEntry, error) {
			var out []*parley.AuditEntry
			for _, e := range entries {
				if e.ID > after && len(out) < limit {
					out = append(out, e)
				}
			}
			return out, nil
		}
	}
	r, err := audit.Verify(context.Background(), list(chain))
	if err != nil || !r.Intact || r.Entries != 4 {
		t.Fatalf("intact chain: %+v %v", r, err)
	}
	// Swap the contents of entries 2 and 3, keeping their ids in order.
	swapped := []*parley.AuditEntry{chain[0], {}, {}, chain[3]}
	*swapped[1], *swapped[2] = *chain[2], *chain[1]
	swapped[1].ID, swapped[2].ID = 2, 3
	r, err = audit.Verify(context.Background(), list(swapped))
	if err != nil || r.Intact || r.FirstBroken != 2 {
		t.Fatalf("reordered chain: %+v %v; want broken at 2", r, err)
	}
}
