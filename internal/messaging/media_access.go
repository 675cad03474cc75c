package messaging

import (
	"context"
	"encoding/json"
	"time"

	"parley"
)

// Who may see a media item.
//
// An image is served only to a viewer who sees at least one message that
// carries it, exactly as that message is shown to them: the viewer reads
// the chat (a member, or anyone for a channel), the chat is neither banned
// nor withheld where the viewer is, and the message is not deleted,
// removed, withheld where the viewer is, or held for review (except for
// its author). parley.ViewChat and parley.ViewMessage decide each of these,
// the same functions that decide what history, catch-up, the chat list and
// live delivery show. The uploader also sees an upload that no message
// carries yet (upload, then post). Everyone else gets ENotFound, the same
// answer as for an id that does not exist.
//
// Staff (moderators, legal officers, admins) see any other image, because
// cases, actions and holds are about images no message shows them; each
// such view is audited, once per staff member, item and hour. An upload a
// hash bank stopped is served to no member, its uploader included, and of
// staff only to those who decide its review case (moderators and admins):
// a stopped upload may be child sexual abuse material, so its case page
// does not show it but links to it, for a moderator who must look (to
// release a false match), and the view is audited like the others.

// MediaCarrier is a message that carries a media item, with its chat and
// whether the viewer the store looked for is a member of that chat.
type MediaCarrier struct {
	Message *parley.Message
	Chat    *parley.Chat
	Member  bool
}

// maxMediaCarriers bounds the messages read to decide one fetch. The store
// yields only copies the viewer might see (in chats they read, not held
// for others), newest first, and the first that shows the image ends the
// read; so the decision can go wrong only for a viewer of whose chats more
// than this many newer copies are all removed, withheld where the viewer
// is, or in banned chats: that viewer gets 404.
const maxMediaCarriers = 50

// StaffMediaViewAuditEvery is how often a staff member's view of one image
// no message shows them is recorded in the audit log: once per staff
// member, item and period, so that a queue page reloaded all day writes one
// entry per image, not thousands.
const StaffMediaViewAuditEvery = time.Hour

// errMediaNotFound is the one answer for a media item the viewer may not
// see, whatever the reason, and for one that does not exist: the answer
// must not tell which.
var errMediaNotFound = parley.Errorf(parley.ENotFound, "image not found")

// mediaSight is what a viewer may see of a media item.
type mediaSight int

const (
	mediaHidden  mediaSight = iota // nothing: 404
	mediaRemoved                   // that it was removed, and why: 451
	mediaShown                     // the image
)

// OpenMedia returns the media item id if actor may see it (see above).
// Which file to serve (the image or its thumbnail) is the caller's choice:
// both are seen by the same people. It returns EUnauthorized for nobody
// signed in, ENotFound for an item that does not exist or that actor may
// not see, and EWithheld, with the reason, for a removed item actor would
// see but for its removal.
func (s *Service) OpenMedia(ctx context.Context, actor *parley.User, id string) (*parley.Media, error) {
	if actor == nil {
		return nil, parley.Errorf(parley.EUnauthorized, "sign in to see images")
	}
	m, err := s.Store.FindMedia(ctx, id)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, errMediaNotFound
	} else if err != nil {
		return nil, err
	}
	sight, err := s.mediaSight(ctx, parley.ViewerOf(ctx, actor), m)
	if err != nil {
		return nil, err
	}
	if sight != mediaShown && staffMaySee(actor, m) {
		if err := s.auditStaffView(ctx, actor, m); err != nil {
			return nil, err
		}
		return m, nil
	}
	switch sight {
	case mediaShown:
		return m, nil
	case mediaRemoved:
		reason := "a violation of the terms of service"
		if m.Moderation != nil && m.Moderation.Removed != nil {
			reason = m.Moderation.Removed.Reason
		}
		return nil, parley.Errorf(parley.EWithheld, "This image was removed: %s.", reason)
	}
	return nil, errMediaNotFound
}

// staffMaySee reports whether actor, as staff, may be served m whatever
// messages show them: any image to staff, a stopped upload only to those
// who decide its case.
func staffMaySee(actor *parley.User, m *parley.Media) bool {
	if m.Status == parley.MediaBlocked {
		return actor.Role.CanModerate()
	}
	return actor.Role.IsStaff()
}

// mediaSight decides what viewer v may see of m: one query for the copies
// v might see, read until one shows it the image, and a second only for an
// uploader none of them shows it to.
func (s *Service) mediaSight(ctx context.Context, v parley.Viewer, m *parley.Media) (mediaSight, error) {
	if m.Status == parley.MediaBlocked {
		return mediaHidden, nil
	}
	removed := m.Status == parley.MediaRemoved
	for c, err := range s.Store.MediaCarriers(ctx, m.ID, v.UserID, maxMediaCarriers) {
		if err != nil {
			return mediaHidden, err
		}
		if !carries(c, m, v, removed) {
			continue
		}
		if removed {
			return mediaRemoved, nil
		}
		return mediaShown, nil
	}
	if v.UserID == 0 || v.UserID != m.UploaderID {
		return mediaHidden, nil
	}
	if removed {
		// The uploader has a statement of reasons about it.
		return mediaRemoved, nil
	}
	posted, err := s.Store.MediaPosted(ctx, m.ID)
	if err != nil || posted {
		return mediaHidden, err
	}
	return mediaShown, nil
}

// carries reports whether viewer v, looking at c's chat, sees c's message
// with m in it. For a removed item (whose removal removed every message
// that carried it) it asks whether v would see it but for the removal of
// the message.
func carries(c *MediaCarrier, m *parley.Media, v parley.Viewer, removed bool) bool {
	if !c.Member && !c.Chat.Kind.Public() {
		return false
	}
	if parley.ViewChat(c.Chat, v).Notice != nil {
		return false
	}
	msg := c.Message
	if removed && msg.Moderation != nil && msg.Moderation.Removed != nil {
		cp := *msg
		cp.Moderation = msg.Moderation.Clone()
		cp.Moderation.Removed = nil
		msg = &cp
	}
	return parley.ViewMessage(msg, c.Chat.Moderation, v).MediaID == m.ID
}

// auditStaffView records that staff member actor was served m, which no
// message shows them, unless that was recorded in the last
// StaffMediaViewAuditEvery. A view that cannot be recorded is refused.
func (s *Service) auditStaffView(ctx context.Context, actor *parley.User, m *parley.Media) error {
	now := s.Clock.Now()
	details, err := json.Marshal(struct {
		Status     string `json:"status,omitempty"`
		UploaderID int64  `json:"uploader_id"`
	}{m.Status, m.UploaderID})
	if err != nil {
		return err
	}
	e := &parley.AuditEntry{At: now, ActorID: actor.ID, Action: parley.AuditMediaViewed,
		TargetType: "media", TargetID: m.ID, Details: string(details)}
	_, err = s.Store.AppendAuditOnce(ctx, e, now.Add(-StaffMediaViewAuditEvery))
	return err
}

// checkAttach returns nil if actor may attach media item m to a message:
// the uploader of an upload no message carries yet, or anyone who sees a
// message that carries it (which they could forward). Anyone else is told
// that there is no such image: knowing an id must not let one make a copy
// one can see.
func (s *Service) checkAttach(ctx context.Context, actor *parley.User, m *parley.Media) error {
	if m.Status == "" {
		sight, err := s.mediaSight(ctx, parley.ViewerOf(ctx, actor), m)
		if err != nil {
			return err
		}
		if sight == mediaShown {
			return nil
		}
	}
	// A blocked or removed image is answered the same way: whoever holds
	// its id learns nothing from trying.
	return parley.FieldError("media_id", "no uploaded image with id %q; upload it first", m.ID)
}
