package enforce

import (
	"encoding/json"
	"fmt"
	"time"

	"parley"
	"parley/internal/sor"
)

// Decisions recorded on a review case an action settles (the review
// package names them too).
const (
	CaseDecisionRemoved   = "removed"   // a person removed (or labelled) what the case is about
	CaseDecisionAutomated = "automated" // the screen's own action settled it
)

// op is the work of one write transaction of the service: its decisions
// are taken here, and written through tx.
type op struct {
	s             *Service
	tx            Tx
	now           time.Time
	evidenceUntil time.Time
	// struck holds the accounts the decision being applied has struck
	// already: one decision counts at most one strike against each.
	struck map[int64]bool
	// cases are the review cases the decision being applied settles,
	// closed after its audit entry.
	cases []settlement
	// changed lists the accounts whose standing the transaction changed
	// (a strike, a suspension), for Service.AccountChanged after it
	// commits.
	changed []int64
}

// settlement is a review case an action closes. A case named by the
// request must be open (strict); the case of a held post that an action
// settles on the way may have been decided meanwhile.
type settlement struct {
	caseID int64
	by     *Action
	strict bool
}

func (s *Service) newOp(tx Tx, now time.Time) *op {
	return &op{s: s, tx: tx, now: now, evidenceUntil: now.Add(s.retention())}
}

// apply applies a (ready from Service.prepare) inside the transaction: its
// effect on its target, the action itself with its statement of reasons,
// strikes, evidence, the review cases it settles, the audit entries and the
// events that tell clients. It sets a.ID, a.PUID, a.Statement,
// a.AffectedUserID, a.Strike and a.Children.
func (o *op) apply(a *Action) error {
	o.struck, o.cases = map[int64]bool{}, o.cases[:0]
	var err error
	switch a.Target.Type {
	case TargetMessage:
		err = o.applyMessage(a)
	case TargetMedia:
		err = o.applyMedia(a)
	case TargetChat:
		err = o.applyChat(a)
	case TargetUser:
		err = o.applyUser(a)
	default:
		err = parley.FieldError("target.type", "unknown target type %q", a.Target.Type)
	}
	if err != nil {
		return err
	}
	if a.settles != 0 {
		o.settle(a.settles, a, true)
	}
	details, _ := json.Marshal(map[string]any{"action_id": a.ID, "puid": a.PUID, "automated": a.Automated,
		"children": a.Children, "countries": a.Countries, "category": a.Grounds.Category, "note": a.Note})
	if err := o.tx.AppendAudit(&parley.AuditEntry{At: a.CreatedAt, ActorID: a.ActorID, Action: "enforcement." + string(a.Kind),
		TargetType: a.Target.Type, TargetID: a.Target.ID(), Details: string(details)}); err != nil {
		return err
	}
	for _, c := range o.cases {
		if err := o.closeCase(c); err != nil {
			return err
		}
	}
	return nil
}

// record gives a its id and its statement of reasons about a target with
// facts f, decides whether it counts a strike, and stores it. prior is the
// target's state before the action.
func (o *op) record(a *Action, f facts, prior any) error {
	id, err := o.tx.NextActionID()
	if err != nil {
		return err
	}
	a.ID, a.AffectedUserID = id, f.AffectedUserID
	a.Strike = a.Kind.Strike() && f.AffectedUserID != 0 && !o.struck[f.AffectedUserID]
	st, err := o.s.statement(a, f)
	if err != nil {
		return err
	}
	a.Statement, a.PUID = st, st.PUID
	if err := o.tx.InsertAction(a, prior); err != nil {
		return err
	}
	if !a.Strike {
		return nil
	}
	o.struck[a.AffectedUserID] = true
	o.changed = append(o.changed, a.AffectedUserID)
	return o.tx.AddStrikes(a.AffectedUserID, 1)
}

// keepEvidence keeps what a takes from view (the message or media as it
// was) for investigators, until the retention ends.
func (o *op) keepEvidence(a *Action, content any) error {
	b, err := json.Marshal(content)
	if err != nil {
		return parley.Errorf(parley.EInternal, "enforce: evidence of action %d: %v", a.ID, err)
	}
	return o.tx.KeepEvidence(&Evidence{ActionID: a.ID, Target: a.Target, Content: string(b), KeptUntil: o.evidenceUntil, CreatedAt: o.now})
}

// settle notes that action by settles review case id.
func (o *op) settle(id int64, by *Action, strict bool) {
	for i := range o.cases {
		if o.cases[i].caseID == id {
			o.cases[i].strict = o.cases[i].strict || strict
			return
		}
	}
	o.cases = append(o.cases, settlement{caseID: id, by: by, strict: strict})
}

// closeCase closes a settled case, decided by its action, with an audit
// entry.
func (o *op) closeCase(c settlement) error {
	a := c.by
	decision := CaseDecisionRemoved
	if a.ActorID == 0 {
		decision = CaseDecisionAutomated
	}
	kind, err := o.tx.CloseCase(c.caseID, decision, a.ActorID, a.ID, o.now)
	if parley.ErrorCode(err) == parley.EConflict && !c.strict {
		return nil // decided meanwhile; the hold goes all the same
	} else if err != nil {
		return err
	}
	details, _ := json.Marshal(map[string]any{"case_id": c.caseID, "kind": kind, "decision": decision, "action_id": a.ID})
	return o.tx.AppendAudit(&parley.AuditEntry{At: o.now, ActorID: a.ActorID, Action: "review.decided",
		TargetType: a.Target.Type, TargetID: a.Target.ID(), Details: string(details)})
}

// messageFacts are the facts of a message in chat for its statement.
func messageFacts(m *parley.Message, chat *parley.Chat) facts {
	f := facts{AffectedUserID: m.SenderID, ContentPosted: m.CreatedAt, Chat: chat.Kind}
	if m.Text != "" || m.MediaID == "" {
		f.Items = append(f.Items, sor.ItemText)
	}
	if m.MediaID != "" {
		f.Items = append(f.Items, sor.ItemImage)
	}
	return f
}

// applyMessage applies a message action.
func (o *op) applyMessage(a *Action) error {
	m, err := o.tx.Message(a.Target.ChatID, a.Target.Seq)
	if err != nil {
		return err
	}
	chat, err := o.tx.Chat(m.ChatID)
	if err != nil {
		return err
	}
	return o.actOnMessage(a, m, chat)
}

// actOnMessage applies message action a to m, a message of chat, both read
// in this transaction.
func (o *op) actOnMessage(a *Action, m *parley.Message, chat *parley.Chat) error {
	if chat.Kind == parley.ChatSecret {
		return parley.Errorf(parley.EConflict, "a secret chat is end-to-end encrypted: there is no content the platform could act on")
	}
	if m.Deleted() {
		return parley.Errorf(parley.EConflict, "message %d of chat %d was deleted by its author", m.Seq, m.ChatID)
	}
	mod := editable(m.Moderation)
	switch a.Kind {
	case RemoveMessage:
		if mod.Removed != nil {
			return parley.Errorf(parley.EConflict, "message %d of chat %d was already removed (action %d)", m.Seq, m.ChatID, mod.Removed.ActionID)
		}
	case LabelMessage:
		if mod.Label != nil {
			return parley.Errorf(parley.EConflict, "message %d of chat %d is already labelled (action %d); restore that first", m.Seq, m.ChatID, mod.Label.ActionID)
		}
	case AgeRestrictMessage:
		if mod.AgeRestricted != nil {
			return parley.Errorf(parley.EConflict, "message %d of chat %d is already age-restricted (action %d)", m.Seq, m.ChatID, mod.AgeRestricted.ActionID)
		}
	case WithholdMessage:
	default:
		return parley.Errorf(parley.EInvalid, "%s does not act on a message", a.Kind)
	}
	if err := o.record(a, messageFacts(m, chat), m.Moderation); err != nil {
		return err
	}
	reason := a.Grounds.ViewerReason()
	switch a.Kind {
	case RemoveMessage:
		mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: reason}
		if err := o.keepEvidence(a, m); err != nil {
			return err
		}
	case WithholdMessage:
		mod.Withheld = append(mod.Withheld, parley.Withholding{ActionID: a.ID, Countries: a.Countries, AlsoUnknown: a.AlsoUnknown, Reason: reason})
	case LabelMessage:
		mod.Label = &parley.Restriction{ActionID: a.ID, Reason: a.Label}
	case AgeRestrictMessage:
		mod.AgeRestricted = &parley.Restriction{ActionID: a.ID, Reason: reason}
	}
	// A post held for review is settled by its removal or label: the hold
	// goes, and so does its open case, decided by this action.
	if mod.Held != nil && (a.Kind == RemoveMessage || a.Kind == LabelMessage) {
		o.settle(mod.Held.ActionID, a, false)
		mod.Held = nil
	}
	return o.moderateMessage(m, mod)
}

// moderateMessage stores a message's new moderation and tells clients with
// a message.moderated update, whose snapshot has no content when the
// message is removed.
func (o *op) moderateMessage(m *parley.Message, mod *parley.Moderation) error {
	if mod.IsZero() {
		mod = nil
	}
	if err := o.tx.SetMessageModeration(m.ID, mod.Status(), mod); err != nil {
		return err
	}
	snap := *m
	snap.Moderation = mod
	if mod != nil && mod.Removed != nil {
		snap.Text, snap.MediaID, snap.Forward = "", "", nil
	}
	return o.tx.MessageModerated(&snap, o.now)
}

// applyMedia applies RemoveMedia (with, as its children, the removal of
// every message that carries the image) or BlockUpload.
func (o *op) applyMedia(a *Action) error {
	if a.Kind == BlockUpload {
		// Stored blocked, in the action's transaction: the upload is never
		// usable, not even for a moment.
		up := *a.Media
		up.Status = parley.MediaBlocked
		if up.CreatedAt.IsZero() {
			up.CreatedAt = o.now
		}
		if err := o.tx.InsertMedia(&up); err != nil {
			return err
		}
	}
	m, err := o.tx.Media(a.Target.MediaID)
	if err != nil {
		return err
	}
	if m.Moderation != nil && m.Moderation.Removed != nil {
		return parley.Errorf(parley.EConflict, "media %s was already removed (action %d)", m.ID, m.Moderation.Removed.ActionID)
	}
	prior := struct {
		Status     string             `json:"status"`
		Moderation *parley.Moderation `json:"moderation,omitempty"`
	}{m.Status, m.Moderation}
	f := facts{AffectedUserID: m.UploaderID, ContentPosted: m.CreatedAt, Items: []sor.ItemKind{sor.ItemImage}}
	if err := o.record(a, f, prior); err != nil {
		return err
	}
	mod := editable(m.Moderation)
	mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: a.Grounds.ViewerReason()}
	status := parley.MediaRemoved
	if a.Kind == BlockUpload {
		status = parley.MediaBlocked
	}
	if err := o.tx.SetMediaModeration(m.ID, status, mod); err != nil {
		return err
	}
	if err := o.keepEvidence(a, m); err != nil {
		return err
	}
	if a.Kind != RemoveMedia {
		return nil
	}
	// Every copy: each message that carries the image, in any chat, that
	// is still there to remove.
	copies, err := o.tx.MessagesCarrying(m.ID)
	if err != nil {
		return err
	}
	chats := map[int64]*parley.Chat{}
	for _, c := range copies {
		if c.Deleted() || (c.Moderation != nil && c.Moderation.Removed != nil) {
			continue
		}
		chat := chats[c.ChatID]
		if chat == nil {
			if chat, err = o.tx.Chat(c.ChatID); err != nil {
				return err
			}
			chats[c.ChatID] = chat
		}
		if chat.Kind == parley.ChatSecret {
			continue
		}
		child := &Action{Kind: RemoveMessage, Target: Target{Type: TargetMessage, ChatID: c.ChatID, Seq: c.Seq},
			Grounds: a.Grounds, Note: a.Note, ParentID: a.ID, ActorID: a.ActorID, Automated: a.Automated, CreatedAt: a.CreatedAt}
		if err := o.actOnMessage(child, c, chat); err != nil {
			return fmt.Errorf("removing the copy in chat %d, message %d: %w", c.ChatID, c.Seq, err)
		}
		a.Children++
	}
	return nil
}

// applyChat applies BanChat or WithholdChat.
func (o *op) applyChat(a *Action) error {
	c, err := o.tx.Chat(a.Target.ChatID)
	if err != nil {
		return err
	}
	var item sor.ItemKind
	switch c.Kind {
	case parley.ChatChannel:
		item = sor.ItemChannel
	case parley.ChatGroup:
		item = sor.ItemGroup
	default:
		return parley.Errorf(parley.EConflict, "only channels and groups can be banned or withheld; act on the messages or the account instead")
	}
	mod := editable(c.Moderation)
	switch a.Kind {
	case BanChat:
		if mod.Removed != nil {
			return parley.Errorf(parley.EConflict, "chat %d was already banned (action %d)", c.ID, mod.Removed.ActionID)
		}
	case WithholdChat:
	default:
		return parley.Errorf(parley.EInvalid, "%s does not act on a chat", a.Kind)
	}
	f := facts{AffectedUserID: c.OwnerID, ContentPosted: c.CreatedAt, Items: []sor.ItemKind{item}, Chat: c.Kind}
	if err := o.record(a, f, c.Moderation); err != nil {
		return err
	}
	reason := a.Grounds.ViewerReason()
	if a.Kind == BanChat {
		mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: reason}
	} else {
		mod.Withheld = append(mod.Withheld, parley.Withholding{ActionID: a.ID, Countries: a.Countries, AlsoUnknown: a.AlsoUnknown, Reason: reason})
	}
	return o.moderateChat(c.ID, mod)
}

// moderateChat stores a chat's new moderation and tells its clients.
func (o *op) moderateChat(chatID int64, mod *parley.Moderation) error {
	if mod.IsZero() {
		mod = nil
	}
	status := ""
	if mod != nil && mod.Removed != nil {
		status = parley.ChatBanned
	}
	if err := o.tx.SetChatModeration(chatID, status, mod); err != nil {
		return err
	}
	return o.tx.Publish(parley.ChatSubject(chatID), parley.EventChatModerated, parley.ChatModeratedEvent{ChatID: chatID, Moderation: mod})
}

// applyUser applies SuspendAccount or TerminateAccount.
func (o *op) applyUser(a *Action) error {
	u, err := o.tx.Account(a.Target.UserID)
	if err != nil {
		return err
	}
	if u.Status == parley.AccountTerminated {
		return parley.Errorf(parley.EConflict, "account %d is already terminated", u.ID)
	}
	if u.Role != parley.RoleMember {
		return parley.Errorf(parley.EConflict, "staff accounts are not suspended by enforcement; an admin changes their role first")
	}
	prior := struct {
		Status         string             `json:"status"`
		SuspendedUntil *time.Time         `json:"suspended_until,omitempty"`
		Moderation     *parley.Moderation `json:"moderation,omitempty"`
	}{u.Status, u.SuspendedUntil, u.Moderation}
	f := facts{AffectedUserID: u.ID, ContentPosted: u.CreatedAt, Items: []sor.ItemKind{sor.ItemAccount}}
	if err := o.record(a, f, prior); err != nil {
		return err
	}
	mod := editable(u.Moderation)
	mod.Removed = &parley.Restriction{ActionID: a.ID, Reason: a.Grounds.ViewerReason()}
	status, until := parley.AccountSuspended, &a.Until
	if a.Kind == TerminateAccount {
		status, until = parley.AccountTerminated, nil
	}
	return o.setStanding(u.ID, status, until, mod)
}

// setStanding stores an account's standing, signs a restricted account out
// everywhere and tells the processes serving it.
func (o *op) setStanding(userID int64, status string, until *time.Time, mod *parley.Moderation) error {
	if mod.IsZero() {
		mod = nil
	}
	if err := o.tx.SetAccountStanding(userID, status, until, mod); err != nil {
		return err
	}
	if status != parley.AccountActive {
		if err := o.tx.RevokeSessions(userID, o.now); err != nil {
			return err
		}
	}
	o.changed = append(o.changed, userID)
	return o.tx.Publish(parley.UserSubject(userID), parley.EventAccountRestricted, parley.AccountEvent{UserID: userID, Status: status})
}

// editable returns a copy of mod to change: an empty one for none.
func editable(mod *parley.Moderation) *parley.Moderation {
	if c := mod.Clone(); c != nil {
		return c
	}
	return &parley.Moderation{}
}
