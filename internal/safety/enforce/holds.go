package enforce

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
	"parley/internal/pace"
)

// Holds returns the legal holds in force, oldest first: staff see them (a
// moderator must know what evidence may not be purged).
func (s *Service) Holds(ctx context.Context, actor *parley.User) ([]*LegalHold, error) {
	if !IsStaff(actor) {
		return nil, parley.Errorf(parley.EForbidden, "only staff see the legal holds")
	}
	return s.Store.ListLegalHolds(ctx)
}

// PlaceHold keeps all evidence about a target until the hold is released.
// Legal officers and admins may.
func (s *Service) PlaceHold(ctx context.Context, actor *parley.User, t Target, reason string) (*LegalHold, error) {
	if actor == nil || !actor.Role.CanPlaceHolds() {
		return nil, parley.Errorf(parley.EForbidden, "only legal officers and admins place legal holds")
	}
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReasonLen {
		return nil, parley.FieldError("reason", "say why the hold is placed (an order's reference, say), in at most %d characters", MaxReasonLen)
	}
	h := &LegalHold{Target: t, Reason: reason, CreatedBy: actor.ID, CreatedAt: s.now()}
	err := s.Store.EnforceTx(ctx, func(tx Tx) error {
		if err := tx.InsertLegalHold(h); err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"hold_id": h.ID, "reason": h.Reason})
		return tx.AppendAudit(&parley.AuditEntry{At: h.CreatedAt, ActorID: h.CreatedBy, Action: "legal_hold.placed",
			TargetType: h.Target.Type, TargetID: h.Target.ID(), Details: string(details)})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ReleaseHold ends a legal hold: ENotFound if there is none, EConflict if
// it was released already.
func (s *Service) ReleaseHold(ctx context.Context, actor *parley.User, id int64) error {
	if actor == nil || !actor.Role.CanPlaceHolds() {
		return parley.Errorf(parley.EForbidden, "only legal officers and admins release legal holds")
	}
	now := s.now()
	return s.Store.EnforceTx(ctx, func(tx Tx) error {
		h, err := tx.LegalHold(id)
		if err != nil {
			return err
		}
		if h.ReleasedAt != nil {
			return parley.Errorf(parley.EConflict, "legal hold %d was already released", id)
		}
		if err := tx.ReleaseLegalHold(id, actor.ID, now); err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"hold_id": id})
		return tx.AppendAudit(&parley.AuditEntry{At: now, ActorID: actor.ID, Action: "legal_hold.released",
			TargetType: h.Target.Type, TargetID: h.Target.ID(), Details: string(details)})
	})
}

// purgePage is how much evidence one transaction of PurgeEvidence looks at.
// A page of 100 holds the writer for about 8 ms; between pages the purge
// rests as long as the page took (package pace), so that a purge of
// millions of items never keeps posts waiting for more than one page.
const purgePage = 100

// PurgeEvidence deletes evidence whose retention has passed and that no
// legal hold covers, with the files of purged media, and returns how many
// items went. It runs periodically in the server, a page at a time, each
// page its own transaction, resting between pages; what was purged before
// an error stays purged, and its files are deleted.
func (s *Service) PurgeEvidence(ctx context.Context) (int, error) {
	now := s.now()
	pacer := pace.New(ctx)
	n := 0
	var err error
	for after := int64(0); ; {
		var page []*Evidence
		var last int64
		if err = s.Store.EnforceTx(ctx, func(tx Tx) (err error) {
			page, last, err = purgeEvidencePage(tx, now, after)
			return err
		}); err != nil || last == 0 {
			break
		}
		s.removeBlobs(page)
		n += len(page)
		after = last
		if err = pacer.Rest(); err != nil {
			break
		}
	}
	if n > 0 {
		s.log().Info("evidence purged after its retention", "items", n)
	}
	return n, err
}

// purgeEvidencePage purges the due evidence after id after that no hold
// covers, and returns it with the id of the last item looked at (0 when
// there was none).
func purgeEvidencePage(tx Tx, now time.Time, after int64) ([]*Evidence, int64, error) {
	due, err := tx.DueEvidence(now, after, purgePage)
	if err != nil || len(due) == 0 {
		return nil, 0, err
	}
	holds, err := tx.LegalHolds()
	if err != nil {
		return nil, 0, err
	}
	held := map[Target]bool{}
	for _, h := range holds {
		held[h.Target] = true
	}
	var purged []*Evidence
	for _, e := range due {
		covered, removed, err := holdCovers(tx, held, e.Target)
		if err != nil {
			return nil, 0, err
		}
		if covered {
			continue
		}
		if err := tx.DeleteEvidence(e.ID); err != nil {
			return nil, 0, err
		}
		// A message's content goes with its evidence: the message stays
		// removed, now without anything left to restore.
		if removed != nil {
			if err := tx.ClearMessageContent(removed.ID); err != nil {
				return nil, 0, err
			}
		}
		purged = append(purged, e)
	}
	return purged, due[len(due)-1].ID, nil
}

// holdCovers reports whether a hold in held covers target t: a hold on the
// item itself, on the chat of a message, or on the account that posted or
// uploaded it. For a message that is still removed, it returns the message
// too.
func holdCovers(tx Tx, held map[Target]bool, t Target) (bool, *parley.Message, error) {
	var owner int64
	var removed *parley.Message
	switch t.Type {
	case TargetMessage:
		m, err := tx.Message(t.ChatID, t.Seq)
		if err != nil && parley.ErrorCode(err) != parley.ENotFound {
			return false, nil, err
		}
		if m != nil {
			owner = m.SenderID
			if m.Moderation != nil && m.Moderation.Removed != nil {
				removed = m
			}
		}
		if held[Target{Type: TargetChat, ChatID: t.ChatID}] {
			return true, nil, nil
		}
	case TargetMedia:
		m, err := tx.Media(t.MediaID)
		if err != nil && parley.ErrorCode(err) != parley.ENotFound {
			return false, nil, err
		}
		if m != nil {
			owner = m.UploaderID
		}
	}
	covered := held[t] || (owner != 0 && held[Target{Type: TargetUser, UserID: owner}])
	return covered, removed, nil
}

// removeBlobs deletes the files of purged media (the image and its
// thumbnail); a file that cannot be deleted is logged and left.
func (s *Service) removeBlobs(purged []*Evidence) {
	if s.Blobs == nil {
		return
	}
	for _, e := range purged {
		if e.Target.Type != TargetMedia {
			continue
		}
		ids := []string{e.Target.MediaID}
		var m parley.Media
		if json.Unmarshal([]byte(e.Content), &m) == nil && m.ThumbID != "" {
			ids = append(ids, m.ThumbID)
		}
		for _, id := range ids {
			if err := s.Blobs.Remove(id); err != nil {
				s.log().Warn("purge evidence: cannot delete media file", "blob", id, "err", err)
			}
		}
	}
}
