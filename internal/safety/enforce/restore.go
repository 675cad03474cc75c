package enforce

import (
	"encoding/json"

	"parley"
)

// restoreAction takes back action id (and its children) inside the
// transaction, marks it reversed by byID for reason, with an audit entry,
// and returns it as reversed.
func (o *op) restoreAction(id, byID int64, reason string) (*Action, error) {
	a, err := o.tx.Action(id)
	if err != nil {
		return nil, err
	}
	if !a.Standing() {
		return nil, parley.Errorf(parley.EConflict, "action %d was already restored", id)
	}
	if a.ParentID != 0 {
		return nil, parley.Errorf(parley.EConflict, "action %d is part of action %d; restore that one", id, a.ParentID)
	}
	if err := o.takeBack(a); err != nil {
		return nil, err
	}
	if a.Children > 0 {
		children, err := o.tx.Children(a.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range children {
			if !c.Standing() {
				continue
			}
			if err := o.takeBack(c); err != nil {
				return nil, err
			}
			if err := o.tx.MarkReversed(c.ID, byID, reason, o.now); err != nil {
				return nil, err
			}
		}
	}
	if err := o.tx.MarkReversed(a.ID, byID, reason, o.now); err != nil {
		return nil, err
	}
	details, _ := json.Marshal(map[string]any{"action_id": a.ID, "kind": a.Kind, "reason": reason})
	if err := o.tx.AppendAudit(&parley.AuditEntry{At: o.now, ActorID: byID, Action: "enforcement.restored",
		TargetType: a.Target.Type, TargetID: a.Target.ID(), Details: string(details)}); err != nil {
		return nil, err
	}
	at := o.now
	a.ReversedAt, a.ReversedBy, a.ReversalReason = &at, byID, reason
	return a, nil
}

// takeBack takes back exactly one action's effect: its part of its target's
// moderation (leaving the parts of other actions) and the strike it counted.
func (o *op) takeBack(a *Action) error {
	if a.Strike {
		if err := o.tx.AddStrikes(a.AffectedUserID, -1); err != nil {
			return err
		}
		o.changed = append(o.changed, a.AffectedUserID)
	}
	switch a.Target.Type {
	case TargetMessage:
		m, err := o.tx.Message(a.Target.ChatID, a.Target.Seq)
		if err != nil {
			return err
		}
		mod := m.Moderation.Clone()
		if !withoutAction(mod, a.ID) {
			return nil
		}
		if m.Deleted() {
			// Its author deleted it meanwhile: there is nothing to show
			// again, and no update to send.
			if mod.IsZero() {
				mod = nil
			}
			return o.tx.SetMessageModeration(m.ID, mod.Status(), mod)
		}
		return o.moderateMessage(m, mod)
	case TargetMedia:
		m, err := o.tx.Media(a.Target.MediaID)
		if err != nil {
			return err
		}
		mod := m.Moderation.Clone()
		if !withoutAction(mod, a.ID) {
			return nil
		}
		status := ""
		if mod.Removed != nil {
			status = m.Status
		}
		if mod.IsZero() {
			mod = nil
		}
		return o.tx.SetMediaModeration(m.ID, status, mod)
	case TargetChat:
		c, err := o.tx.Chat(a.Target.ChatID)
		if err != nil {
			return err
		}
		mod := c.Moderation.Clone()
		if !withoutAction(mod, a.ID) {
			return nil
		}
		return o.moderateChat(c.ID, mod)
	case TargetUser:
		u, err := o.tx.Account(a.Target.UserID)
		if err != nil {
			return err
		}
		mod := u.Moderation.Clone()
		if !withoutAction(mod, a.ID) {
			return nil
		}
		// The account is usable again; the sessions signed out by the
		// action stay signed out, and the holder signs in anew.
		return o.setStanding(u.ID, parley.AccountActive, nil, mod)
	}
	return nil
}

// withoutAction removes from mod the parts that action id made and reports
// whether there were any. A hold is not an action's part (its ActionID is
// a review case's id), so it stays: only a decision on the case ends it.
func withoutAction(mod *parley.Moderation, id int64) bool {
	if mod == nil {
		return false
	}
	found := false
	for _, p := range []**parley.Restriction{&mod.Removed, &mod.Label, &mod.AgeRestricted} {
		if *p != nil && (*p).ActionID == id {
			*p, found = nil, true
		}
	}
	kept := mod.Withheld[:0]
	for _, wh := range mod.Withheld {
		if wh.ActionID == id {
			found = true
			continue
		}
		kept = append(kept, wh)
	}
	mod.Withheld = kept
	if len(mod.Withheld) == 0 {
		mod.Withheld = nil
	}
	return found
}
