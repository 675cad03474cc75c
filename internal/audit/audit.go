// Package audit keeps the audit log verifiable: every entry's hash covers
// its own fields and the hash of the entry before it, so a change to any
// entry, a removed entry or a swapped pair breaks the chain at that entry,
// and Verify names the first broken link.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"parley"
)

// Hash returns the chain hash of e given the hash of the entry before it
// (nil for the first entry). Fields are length-prefixed so that no two
// different entries encode alike.
func Hash(prev []byte, e *parley.AuditEntry) []byte {
	h := sha256.New()
	var num [binary.MaxVarintLen64]byte
	writeBytes := func(b []byte) {
		h.Write(num[:binary.PutUvarint(num[:], uint64(len(b)))])
		h.Write(b)
	}
	writeInt := func(n int64) { h.Write(num[:binary.PutVarint(num[:], n)]) }
	writeBytes(prev)
	writeInt(e.ID)
	writeInt(e.At.UnixMicro())
	writeInt(e.ActorID)
	writeBytes([]byte(e.Action))
	writeBytes([]byte(e.TargetType))
	writeBytes([]byte(e.TargetID))
	writeBytes([]byte(e.Details))
	return h.Sum(nil)
}

// Report is the outcome of a verification.
type Report struct {
	Entries     int64  `json:"entries"`      // entries checked
	Intact      bool   `json:"intact"`       // every link holds
	FirstBroken int64  `json:"first_broken"` // id of the first entry whose link is broken; 0 when intact
	Reason      string `json:"reason,omitempty"`
}

// Lister pages through the log in id order.
type Lister func(ctx context.Context, afterID int64, limit int) ([]*parley.AuditEntry, error)

// Verify walks the whole log and checks every link: ids increase by one
// from 1, each entry's PrevHash is the previous entry's Hash, and each Hash
// is recomputed from the entry's fields.
func Verify(ctx context.Context, list Lister) (Report, error) {
	var r Report
	var prev []byte
	var lastID int64
	for {
		page, err := list(ctx, lastID, 1000)
		if err != nil {
			return r, err
		}
		for _, e := range page {
			r.Entries++
			switch {
			case e.ID != lastID+1:
				return broken(r, e.ID, fmt.Sprintf("entry %d follows entry %d: entries are missing", e.ID, lastID)), nil
			case !bytes.Equal(e.PrevHash, prev):
				return broken(r, e.ID, "its link to the previous entry does not match: the previous entry was altered or removed"), nil
			case !bytes.Equal(e.Hash, Hash(prev, e)):
				return broken(r, e.ID, "its contents do not match its hash: the entry was altered"), nil
			}
			prev, lastID = e.Hash, e.ID
		}
		if len(page) < 1000 {
			r.Intact = true
			return r, nil
		}
	}
}

func broken(r Report, id int64, reason string) Report {
	r.FirstBroken, r.Reason = id, reason
	return r
}
