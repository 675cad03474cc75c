package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/internal/messaging"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/rules"
	"parley/internal/safety/screen"
	"parley/internal/sor"
)

// staff makes an account with a staff role.
func (f *fixture) staff(t *testing.T, name string, role parley.Role) *parley.User {
	t.Helper()
	u := f.user(t, name)
	if err := f.db.SetUserRole(context.Background(), 0, u.ID, role, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	u.Role = role
	return u
}

// screenWith has every post pass the inline screen, with one rule that
// moderator mod writes and enables.
func (f *fixture) screenWith(t *testing.T, mod *parley.User, r rules.Rule) {
	t.Helper()
	ctx := context.Background()
	matcher := banks.NewMatcher(f.db)
	if err := matcher.Load(ctx); err != nil {
		t.Fatal(err)
	}
	sc := &screen.Screener{Banks: matcher, Rules: f.db, Enforce: &enforce.Service{Store: f.db, Clock: f.clock, Namespace: "test"}}
	f.svc.Screen = sc
	book := &screen.RuleBook{Store: f.db, Clock: f.clock}
	if _, err := book.Create(ctx, mod, r); err != nil {
		t.Fatal(err)
	}
	if _, err := book.SetEnabled(ctx, mod, r.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := sc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
}

// wantMedia fails unless u may open media item id.
func (f *fixture) wantMedia(t *testing.T, what string, u *parley.User, id string) {
	t.Helper()
	m, err := f.svc.OpenMedia(context.Background(), u, id)
	if err != nil || m.ID != id {
		t.Fatalf("%s: %s opens %s: %+v, %v; want the image", what, u.Username, id[:8], m, err)
	}
}

// wantNoMedia fails unless u is told that media item id does not exist.
func (f *fixture) wantNoMedia(t *testing.T, what string, u *parley.User, id string) {
	t.Helper()
	_, err := f.svc.OpenMedia(context.Background(), u, id)
	wantErr(t, what+": "+u.Username, err, parley.ENotFound, "")
}

// mediaViews returns the audit entries of staff views, oldest first.
func (f *fixture) mediaViews(t *testing.T) []*parley.AuditEntry {
	t.Helper()
	es, err := f.db.ListAuditEntries(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*parley.AuditEntry
	for _, e := range es {
		if e.Action == parley.AuditMediaViewed {
			out = append(out, e)
		}
	}
	return out
}

// TestHeldPostImage: a post held for review shows its image to its author
// only; it cannot be forwarded by anyone else; a moderator reviewing it
// sees the image, and that is audited.
func TestHeldPostImage(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	mod := f.staff(t, "mod", parley.RoleModerator)
	f.screenWith(t, mod, rules.Rule{ID: "sales", Keywords: []string{"sale"}, Action: rules.ActionHold, Mode: rules.ModeEnforce})
	owner, sub := f.user(t, "owner"), f.user(t, "sub")
	ch := f.channel(t, owner, "market")
	if err := f.svc.Subscribe(ctx, sub, ch.ID); err != nil {
		t.Fatal(err)
	}
	img := f.upload(t, owner, pngBytes(t, 32, 24, 3))
	up, err := f.svc.PostMessage(ctx, owner, ch.ID, messaging.PostInput{Text: "sale today", MediaID: img.ID})
	if err != nil || up.Message.Notice == nil || up.Message.Notice.Kind != parley.NoticeHeld {
		t.Fatalf("the post = %+v, %v; want it held", up, err)
	}
	f.wantMedia(t, "the author of the held post", owner, img.ID)
	f.wantNoMedia(t, "a subscriber, while the post is held", sub, img.ID)
	g := f.group(t, sub, 0)
	_, err = f.svc.PostMessage(ctx, sub, g.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: ch.ID, Seq: up.Message.Seq}})
	wantErr(t, "forwarding someone else's held post", err, parley.EInvalid, "forward_from")
	f.wantNoMedia(t, "after trying to forward it", sub, img.ID)

	if len(f.mediaViews(t)) != 0 {
		t.Fatal("views before any staff view were audited")
	}
	f.wantMedia(t, "a moderator reviewing the held post", mod, img.ID)
	if v := f.mediaViews(t); len(v) != 1 || v[0].ActorID != mod.ID || v[0].TargetID != img.ID || !strings.Contains(v[0].Details, `"uploader_id"`) {
		t.Fatalf("audit of the moderator's view = %+v", v)
	}
}

// TestStaffMediaViewsAuditedHourly: a staff member's views of an image no
// message shows them are recorded once per staff member, image and hour;
// a blocked upload is served to no member and to no staff member but those
// who decide its case, audited.
func TestStaffMediaViewsAuditedHourly(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	mod, legal := f.staff(t, "mod", parley.RoleModerator), f.staff(t, "legal", parley.RoleLegalOfficer)
	a, b := f.user(t, "alice"), f.user(t, "bob")
	d := f.chat(t, a, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: b.ID})
	img := f.upload(t, a, pngBytes(t, 32, 24, 5))
	if _, err := f.svc.PostMessage(ctx, a, d.ID, messaging.PostInput{MediaID: img.ID}); err != nil {
		t.Fatal(err)
	}
	views := func() int { return len(f.mediaViews(t)) }
	for range 5 {
		f.wantMedia(t, "the moderator", mod, img.ID)
	}
	if n := views(); n != 1 {
		t.Fatalf("5 views in a minute: %d audit entries; want 1", n)
	}
	f.clock.Advance(59 * time.Minute)
	f.wantMedia(t, "the moderator, 59 minutes on", mod, img.ID)
	if n := views(); n != 1 {
		t.Fatalf("a view 59 minutes after the first: %d entries; want 1", n)
	}
	f.clock.Advance(2 * time.Minute)
	f.wantMedia(t, "the moderator, 61 minutes on", mod, img.ID)
	f.wantMedia(t, "the legal officer", legal, img.ID)
	if n := views(); n != 3 {
		t.Fatalf("after an hour and another staff member: %d entries; want 3", n)
	}
	f.wantMedia(t, "a member of the chat", b, img.ID)
	if n := views(); n != 3 {
		t.Fatalf("a member's view was audited: %d entries", n)
	}

	// A blocked upload: kept as evidence, served to no member (its
	// uploader included) and to no legal officer; a moderator deciding its
	// case may open it, and that is audited.
	blocked := &parley.Media{ID: strings.Repeat("b1", 32), Mime: "image/png", Size: 10, Width: 1, Height: 1,
		ThumbID: strings.Repeat("b2", 32), UploaderID: a.ID, Status: parley.MediaBlocked, SHA256: strings.Repeat("b3", 32)}
	if err := f.db.SaveMedia(ctx, blocked); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*parley.User{a, b, legal} {
		f.wantNoMedia(t, "a blocked upload", u, blocked.ID)
	}
	if n := views(); n != 3 {
		t.Fatalf("refused views of a blocked upload were audited: %d entries", n)
	}
	f.wantMedia(t, "a moderator opening a stopped upload", mod, blocked.ID)
	if v := f.mediaViews(t); len(v) != 4 || v[3].ActorID != mod.ID || v[3].TargetID != blocked.ID || !strings.Contains(v[3].Details, `"blocked"`) {
		t.Fatalf("the moderator's view of the stopped upload was not audited with its status: %+v", v)
	}
	_, err := f.svc.OpenMedia(ctx, nil, img.ID)
	wantErr(t, "nobody signed in", err, parley.EUnauthorized, "")
}

// TestRemovedImage: a removed image answers EWithheld, with the reason, to
// whoever would see it but for the removal (members of a chat where it was
// posted, its uploader); ENotFound to anyone else; staff are served it,
// audited with its status.
func TestRemovedImage(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	mod := f.staff(t, "mod", parley.RoleModerator)
	a, b, c := f.user(t, "alice"), f.user(t, "bob"), f.user(t, "carol")
	g := f.group(t, a, 0)
	f.join(t, a, b, g.ID)
	img := f.upload(t, a, pngBytes(t, 32, 24, 9))
	if _, err := f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{MediaID: img.ID}); err != nil {
		t.Fatal(err)
	}
	es := &enforce.Service{Store: f.db, Clock: f.clock, Namespace: "test"}
	if _, err := es.Apply(ctx, mod, enforce.Request{Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: img.ID},
		Grounds: enforce.Grounds{Ground: sor.GroundIncompatibleContent, TermsGround: "Section 4.2 (scams)", Category: sor.CategoryScamsAndFraud,
			Source: sor.SourceVoluntary, Automation: sor.NotAutomated}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*parley.User{a, b} {
		_, err := f.svc.OpenMedia(ctx, u, img.ID)
		wantErr(t, u.Username+" opens the removed image", err, parley.EWithheld, "")
		if !strings.Contains(parley.ErrorMessage(err), "Scams and fraud") {
			t.Fatalf("the 451 says %q; want the reason", parley.ErrorMessage(err))
		}
	}
	f.wantNoMedia(t, "a removed image, by someone who never saw it", c, img.ID)
	// Nor may it be posted again, by anyone.
	_, err := f.svc.PostMessage(ctx, a, g.ID, messaging.PostInput{MediaID: img.ID})
	wantErr(t, "posting the removed image", err, parley.EInvalid, "media_id")
	f.wantMedia(t, "a moderator", mod, img.ID)
	if v := f.mediaViews(t); len(v) != 1 || !strings.Contains(v[0].Details, `"status":"removed"`) {
		t.Fatalf("the moderator's view of a removed image: %+v", v)
	}
}

// BenchmarkOpenMedia measures the access check of one image fetch (the
// media row, the copies the viewer might see, the decision), on a real
// SQLite store, against reading the media row alone (what the check cost
// before there was one). The image is in one group, or forwarded into
// 1,000 groups with the viewer in the newest, in the oldest, or in none.
//
//	go test ./internal/messaging -run '^$' -bench OpenMedia -benchtime 2000x
func BenchmarkOpenMedia(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	owner, viewer := f.user(b, "owner"), f.user(b, "viewer")
	single := f.upload(b, owner, pngBytes(b, 32, 24, 1))
	viral := f.upload(b, owner, pngBytes(b, 32, 24, 2))
	g := f.group(b, owner, 0)
	f.join(b, owner, viewer, g.ID)
	if _, err := f.svc.PostMessage(ctx, owner, g.ID, messaging.PostInput{MediaID: single.ID}); err != nil {
		b.Fatal(err)
	}
	const copies = 1000
	var first, last *parley.Chat
	for i := range copies {
		c := f.group(b, owner, 0)
		if _, err := f.svc.PostMessage(ctx, owner, c.ID, messaging.PostInput{MediaID: viral.ID}); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = c
		}
		last = c
	}
	newest, oldest, outsider := f.user(b, "newest"), f.user(b, "oldest"), f.user(b, "outsider")
	f.join(b, owner, newest, last.ID)
	f.join(b, owner, oldest, first.ID)

	for _, bc := range []struct {
		name   string
		viewer *parley.User
		id     string
		want   string
	}{
		{"row-only", nil, single.ID, ""},
		{"one-copy", viewer, single.ID, ""},
		{"1000-copies/in-newest", newest, viral.ID, ""},
		{"1000-copies/in-oldest", oldest, viral.ID, ""},
		{"1000-copies/in-none", outsider, viral.ID, parley.ENotFound},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				var err error
				if bc.viewer == nil {
					_, err = f.db.FindMedia(ctx, bc.id)
				} else {
					_, err = f.svc.OpenMedia(ctx, bc.viewer, bc.id)
				}
				if parley.ErrorCode(err) != bc.want && !(bc.want == "" && err == nil) {
					b.Fatalf("OpenMedia: %v; want %q", err, bc.want)
				}
			}
		})
	}
}
