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
	"time"

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
	// Checkpoint is the entry an incremental verification resumed after
	// (Log.Verify): the log up to it was verified before, at CheckpointAt.
	// Zero when the whole log was walked; Entries then counts from entry 1
	// all the same, Read is what this verification read.
	Checkpoint   int64     `json:"checkpoint,omitempty"`
	CheckpointAt time.Time `json:"checkpoint_at,omitzero"`
	Read         int64     `json:"read"`
}

// Lister pages through the log in id order.
type Lister func(ctx context.Context, afterID int64, limit int) ([]*parley.AuditEntry, error)

// pageSize is how many entries a verification reads at a time.
const pageSize = 1000

// Verify walks the whole log and checks every link: ids increase by one
// from 1, each entry's PrevHash is the previous entry's Hash, and each Hash
// is recomputed from the entry's fields.
func Verify(ctx context.Context, list Lister) (Report, error) {
	var r Report
	_, _, err := walk(ctx, list, &r, 0, nil, nil)
	return r, err
}

// walk checks the links after entry lastID, whose hash is prev, calling
// seen (when set) with each entry that checks out; it fills r and returns
// the last entry's id and hash.
func walk(ctx context.Context, list Lister, r *Report, lastID int64, prev []byte, seen func(*parley.AuditEntry) error) (int64, []byte, error) {
	r.Entries = lastID
	for {
		page, err := list(ctx, lastID, pageSize)
		if err != nil {
			return lastID, prev, err
		}
		for _, e := range page {
			r.Entries++
			r.Read++
			switch {
			case e.ID != lastID+1:
				*r = broken(*r, e.ID, fmt.Sprintf("entry %d follows entry %d: entries are missing", e.ID, lastID))
				return lastID, prev, nil
			case !bytes.Equal(e.PrevHash, prev):
				*r = broken(*r, e.ID, "its link to the previous entry does not match: the previous entry was altered or removed")
				return lastID, prev, nil
			case !bytes.Equal(e.Hash, Hash(prev, e)):
				*r = broken(*r, e.ID, "its contents do not match its hash: the entry was altered")
				return lastID, prev, nil
			}
			if seen != nil {
				if err := seen(e); err != nil {
					return lastID, prev, err
				}
				if r.FirstBroken != 0 {
					return lastID, prev, nil
				}
			}
			prev, lastID = e.Hash, e.ID
		}
		if len(page) < pageSize {
			r.Intact = true
			return lastID, prev, nil
		}
	}
}

func broken(r Report, id int64, reason string) Report {
	r.FirstBroken, r.Reason, r.Intact = id, reason, false
	return r
}

// Checkpoint records that the log was verified from entry 1 up to EntryID,
// whose hash was Hash. A verification may resume after it instead of
// walking the whole log again, once it has checked that the entry still has
// that hash; it is never trusted further: 'parley audit verify' walks the
// whole log and checks every checkpoint against it.
type Checkpoint struct {
	EntryID    int64     `json:"entry_id"`
	Hash       []byte    `json:"hash"`
	VerifiedAt time.Time `json:"verified_at"`
}

// Store is what verification needs from storage.
type Store interface {
	// ListAuditEntries returns entries after afterID in id order, at most
	// limit (at most 1000).
	ListAuditEntries(ctx context.Context, afterID int64, limit int) ([]*parley.AuditEntry, error)
	// LastAuditEntryID returns the id of the newest entry, 0 when the log
	// is empty.
	LastAuditEntryID(ctx context.Context) (int64, error)
	// LastAuditCheckpoint returns the checkpoint of the highest entry id,
	// nil when there is none.
	LastAuditCheckpoint(ctx context.Context) (*Checkpoint, error)
	// ListAuditCheckpoints returns the checkpoints with entry id > afterID,
	// by entry id, at most limit (at most 1000; zero or less means 1000).
	ListAuditCheckpoints(ctx context.Context, afterID int64, limit int) ([]*Checkpoint, error)
	// SaveAuditCheckpoint records c. A checkpoint of an entry that has one
	// is left as it was (the first verification of an entry is the one
	// that counts).
	SaveAuditCheckpoint(ctx context.Context, c *Checkpoint) error
}

// CheckpointEvery is how many entries an incremental verification reads
// beyond the last checkpoint before it records a new one: a page of the
// audit log costs at most about that many entries to verify.
const CheckpointEvery = 1000

// Log verifies the audit log, incrementally from the stored checkpoints
// (Verify) or all of it (VerifyAll).
type Log struct {
	Store Store
	Clock parley.Clock
	// Every overrides CheckpointEvery when positive.
	Every int64
}

// Verify checks the log from the newest checkpoint on: it reads the
// checkpoint's entry and checks that it still has the checkpoint's hash and
// that its own hash holds, then walks the entries after it. It costs what
// was added since the checkpoint, and records a new checkpoint at the end
// when that was CheckpointEvery entries or more. A change to an entry
// before the checkpoint is found by VerifyAll, not here; a change to the
// checkpoint's entry is found by both.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	cp, err := l.Store.LastAuditCheckpoint(ctx)
	if err != nil {
		return Report{}, err
	}
	if cp == nil {
		return l.verifyFrom(ctx, Report{}, 0, nil)
	}
	r := Report{Checkpoint: cp.EntryID, CheckpointAt: cp.VerifiedAt, Entries: cp.EntryID}
	page, err := l.Store.ListAuditEntries(ctx, cp.EntryID-1, 1)
	if err != nil {
		return r, err
	}
	r.Read = int64(len(page))
	switch {
	case len(page) == 0 || page[0].ID != cp.EntryID:
		return broken(r, cp.EntryID, fmt.Sprintf("entry %d, verified on %s, is missing: the log was cut; run 'parley audit verify' to see all", cp.EntryID, cp.VerifiedAt.Format(time.DateOnly))), nil
	case !bytes.Equal(page[0].Hash, cp.Hash) || !bytes.Equal(page[0].Hash, Hash(page[0].PrevHash, page[0])):
		return broken(r, cp.EntryID, fmt.Sprintf("entry %d no longer matches what was verified on %s: the log was altered at or before it; run 'parley audit verify' to find where", cp.EntryID, cp.VerifiedAt.Format(time.DateOnly))), nil
	}
	return l.verifyFrom(ctx, r, cp.EntryID, cp.Hash)
}

// verifyFrom walks the log after entry lastID (hash prev) and records a
// checkpoint at its end when the walk was long enough.
func (l *Log) verifyFrom(ctx context.Context, r Report, lastID int64, prev []byte) (Report, error) {
	from := lastID
	end, hash, err := walk(ctx, l.Store.ListAuditEntries, &r, lastID, prev, nil)
	every := l.Every
	if every <= 0 {
		every = CheckpointEvery
	}
	if err != nil || !r.Intact || end-from < every {
		return r, err
	}
	return r, l.Store.SaveAuditCheckpoint(ctx, &Checkpoint{EntryID: end, Hash: hash, VerifiedAt: l.Clock.Now()})
}

// VerifyAll walks the whole log, as Verify of package audit does, and on the
// way checks every checkpoint against the chain: a checkpoint whose hash is
// not the hash the walk computed for its entry means the log was rewritten
// after that entry was verified (or the checkpoint was). When the whole
// log holds, it records a checkpoint at its end.
func (l *Log) VerifyAll(ctx context.Context) (Report, error) {
	var r Report
	var cps []*Checkpoint
	var after int64
	next := func() error {
		var err error
		cps, err = l.Store.ListAuditCheckpoints(ctx, after, pageSize)
		return err
	}
	if err := next(); err != nil {
		return r, err
	}
	seen := func(e *parley.AuditEntry) error {
		for len(cps) > 0 && cps[0].EntryID <= e.ID {
			cp := cps[0]
			cps, after = cps[1:], cp.EntryID
			if cp.EntryID == e.ID && !bytes.Equal(cp.Hash, e.Hash) {
				r = broken(r, e.ID, fmt.Sprintf("its hash is not the one verified on %s: the log was rewritten from here or before, or the checkpoint was altered", cp.VerifiedAt.Format(time.DateOnly)))
				return nil
			}
			if len(cps) == 0 {
				if err := next(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	end, hash, err := walk(ctx, l.Store.ListAuditEntries, &r, 0, nil, seen)
	if err != nil || !r.Intact {
		return r, err
	}
	if len(cps) > 0 {
		// A checkpoint beyond the last entry: entries were removed
		// from the end.
		return broken(r, cps[0].EntryID, fmt.Sprintf("entry %d was verified on %s but is missing: entries were removed from the end of the log", cps[0].EntryID, cps[0].VerifiedAt.Format(time.DateOnly))), nil
	}
	if end == 0 {
		return r, nil
	}
	return r, l.Store.SaveAuditCheckpoint(ctx, &Checkpoint{EntryID: end, Hash: hash, VerifiedAt: l.Clock.Now()})
}
