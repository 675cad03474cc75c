package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley"
	"parley/internal/audit"
	"parley/internal/messaging"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
)

// --- messages ---

func testMessageInsertAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	nameless := &parley.User{Username: "nameless", Role: parley.RoleMember, CreatedAt: t0}
	must(t, s.CreateUser(ctx, nameless))
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, nameless, parley.MemberRegular)
	must(t, s.SaveMedia(ctx, &parley.Media{ID: "abc123", Mime: "image/png", Size: 10, UploaderID: owner.ID, CreatedAt: t0}))
	takeEvents(t, s)

	msg := &parley.Message{ChatID: g.ID, SenderID: owner.ID, Text: "hello", CreatedAt: at(time.Minute)}
	u1, err := s.InsertMessage(ctx, msg)
	must(t, err)
	if msg.Seq != 1 || msg.ID == 0 {
		t.Fatalf("first message: seq %d id %d", msg.Seq, msg.ID)
	}
	if u1.Kind != parley.UpdateMessageNew || u1.ChatID != g.ID || u1.Pts != 1 {
		t.Fatalf("update = %s chat %d pts %d, want message.new chat %d pts 1", u1.Kind, u1.ChatID, u1.Pts, g.ID)
	}
	sameTime(t, "update At", u1.At, at(time.Minute))
	if u1.Message.SenderName != owner.DisplayName || msg.SenderName != owner.DisplayName {
		t.Fatalf("SenderName = %q, want %q", u1.Message.SenderName, owner.DisplayName)
	}
	sameJSON(t, "update message", u1.Message, msg)
	got, err := s.FindMessage(ctx, g.ID, 1)
	must(t, err)
	sameJSON(t, "FindMessage", got, msg)

	// Every field survives the round trip; a member without a display name
	// is shown by username.
	full := &parley.Message{
		ChatID:     g.ID,
		SenderID:   nameless.ID,
		Text:       "look at this",
		MediaID:    "abc123",
		ReplyToSeq: 1,
		Forward:    &parley.Origin{ChatID: 77, Seq: 5, SenderID: 9, ChatTitle: "Elsewhere"},
		CreatedAt:  at(2 * time.Minute),
	}
	u2, err := s.InsertMessage(ctx, full)
	must(t, err)
	if full.Seq != 2 || u2.Pts != 2 || full.ID == msg.ID || full.SenderName != "nameless" {
		t.Fatalf("second message: seq %d pts %d id %d name %q", full.Seq, u2.Pts, full.ID, full.SenderName)
	}
	got, err = s.FindMessage(ctx, g.ID, 2)
	must(t, err)
	sameJSON(t, "FindMessage with every field", got, full)

	// A secret chat's message is ciphertext and nonce only.
	peer := newUser(t, s, "peer")
	sc := &parley.Chat{Kind: parley.ChatSecret, OwnerID: owner.ID, CreatedAt: t0}
	must(t, s.CreateChat(ctx, sc, peer.ID))
	takeEvents(t, s)
	secret := &parley.Message{ChatID: sc.ID, SenderID: peer.ID, Ciphertext: "Y2lwaGVy", Nonce: "bm9uY2U=", CreatedAt: at(3 * time.Minute)}
	u3, err := s.InsertMessage(ctx, secret)
	must(t, err)
	if secret.Seq != 1 || u3.Pts != 1 {
		t.Fatalf("secret chat's first message: seq %d pts %d, want 1 1", secret.Seq, u3.Pts)
	}
	got, err = s.FindMessage(ctx, sc.ID, 1)
	must(t, err)
	sameJSON(t, "secret message", got, secret)

	// A zero CreatedAt is filled in.
	now := &parley.Message{ChatID: g.ID, SenderID: owner.ID, Text: "now"}
	_, err = s.InsertMessage(ctx, now)
	must(t, err)
	if now.CreatedAt.IsZero() || now.Seq != 3 {
		t.Fatalf("message without a time: seq %d created %v", now.Seq, now.CreatedAt)
	}

	c := findChat(t, s, g.ID)
	if c.LastSeq != 3 || c.Pts != 3 {
		t.Fatalf("chat counters: last seq %d pts %d, want 3 3", c.LastSeq, c.Pts)
	}
	_, err = s.FindMessage(ctx, g.ID, 4)
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindMessage(ctx, g.ID+1000, 1)
	wantCode(t, err, parley.ENotFound)

	evs := takeEvents(t, s)
	if len(evs) != 2 {
		t.Fatalf("%d events after the secret chat, want 2", len(evs))
	}
	wantUpdateEvent(t, evs[0], u3)
	if evs[1].Subject != parley.ChatSubject(g.ID) || evs[1].Kind != parley.UpdateMessageNew {
		t.Fatalf("last event = %s %s", evs[1].Subject, evs[1].Kind)
	}
}

// testMessageInsertChecksSender: InsertMessage itself refuses a sender who
// may not post, and a reply to a message that does not exist, alone and
// among concurrent inserts that do succeed, so that a membership removed
// after the caller's own check still stops the message.
func testMessageInsertChecksSender(t *testing.T, s Store) {
	ctx := t.Context()
	owner, member, reader, outsider := newUser(t, s, "owner"), newUser(t, s, "member"), newUser(t, s, "reader"), newUser(t, s, "outsider")
	g := newGroup(t, s, owner, "Group", 0)
	ch := newChannel(t, s, owner, "news", "News")
	must(t, s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: member.ID, Role: parley.MemberRegular, JoinedAt: t0}))
	must(t, s.AddMember(ctx, &parley.Member{ChatID: ch.ID, UserID: reader.ID, Role: parley.MemberSubscriber, JoinedAt: t0}))
	must(t, s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: reader.ID, Role: parley.MemberRegular, JoinedAt: t0}))
	must(t, s.RemoveMember(ctx, g.ID, reader.ID)) // left the group
	takeEvents(t, s)

	cases := []struct {
		name     string
		msg      parley.Message
		wantCode string // "" for success
	}{
		{"member posts in group", parley.Message{ChatID: g.ID, SenderID: member.ID, Text: "hi"}, ""},
		{"owner posts in channel", parley.Message{ChatID: ch.ID, SenderID: owner.ID, Text: "news"}, ""},
		{"outsider in group", parley.Message{ChatID: g.ID, SenderID: outsider.ID, Text: "x"}, parley.ENotFound},
		{"former member in group", parley.Message{ChatID: g.ID, SenderID: reader.ID, Text: "x"}, parley.ENotFound},
		{"subscriber in channel", parley.Message{ChatID: ch.ID, SenderID: reader.ID, Text: "x"}, parley.EForbidden},
		{"outsider in channel", parley.Message{ChatID: ch.ID, SenderID: outsider.ID, Text: "x"}, parley.EForbidden},
		{"reply to a future message", parley.Message{ChatID: g.ID, SenderID: member.ID, Text: "x", ReplyToSeq: 1000}, parley.EInvalid},
	}
	// Concurrently, so that an adapter that commits in groups checks each
	// message of a group on its own.
	errs := make([]error, len(cases))
	done := make(chan int)
	for i := range cases {
		go func() {
			m := cases[i].msg
			m.CreatedAt = t0
			_, errs[i] = s.InsertMessage(ctx, &m)
			done <- i
		}()
	}
	for range cases {
		<-done
	}
	for i, tc := range cases {
		if tc.wantCode == "" {
			must(t, errs[i])
		} else {
			wantCode(t, errs[i], tc.wantCode)
		}
	}
	if c := findChat(t, s, g.ID); c.LastSeq != 1 || c.Pts != 1 {
		t.Fatalf("group at seq %d pts %d after one allowed post, want 1 1", c.LastSeq, c.Pts)
	}
	if evs := takeEvents(t, s); len(evs) != 2 {
		t.Fatalf("%d events after two allowed posts, want 2", len(evs))
	}
	// A reply to the message that now exists is accepted.
	_, err := s.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: owner.ID, Text: "re", ReplyToSeq: 1, CreatedAt: t0})
	must(t, err)
}

func testMessageInsertUnknownChat(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 0)
	takeEvents(t, s)
	_, err := s.InsertMessage(ctx, &parley.Message{ChatID: g.ID + 1000, SenderID: owner.ID, Text: "lost", CreatedAt: t0})
	wantCode(t, err, parley.ENotFound)
	_, err = s.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: owner.ID + 1000, Text: "nobody", CreatedAt: t0})
	if err == nil {
		t.Fatal("InsertMessage from an account that does not exist succeeded")
	}
	// A caller that gave up before its message was written stores nothing.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.InsertMessage(canceled, &parley.Message{ChatID: g.ID, SenderID: owner.ID, Text: "too late", CreatedAt: t0}); err == nil {
		t.Fatal("InsertMessage with a canceled context succeeded")
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("failed inserts wrote %d events", len(evs))
	}
	if c := findChat(t, s, g.ID); c.LastSeq != 0 || c.Pts != 0 {
		t.Fatalf("failed inserts moved the counters: last seq %d pts %d", c.LastSeq, c.Pts)
	}
	u := post(t, s, g, owner, "first", t0)
	if u.Message.Seq != 1 || u.Pts != 1 {
		t.Fatalf("first message after failures: seq %d pts %d, want 1 1", u.Message.Seq, u.Pts)
	}
}

// wantContiguous fails unless got holds exactly 1..n, in any order.
func wantContiguous(t *testing.T, what string, got []int64, n int) {
	t.Helper()
	s := slices.Clone(got)
	slices.Sort(s)
	for i, v := range s {
		if v != int64(i+1) {
			t.Fatalf("%s: %d values, sorted %v; want exactly 1..%d", what, len(got), s, n)
		}
	}
	if len(s) != n {
		t.Fatalf("%s: %d values, want %d", what, len(s), n)
	}
}

func testMessageSeqConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	chats := []*parley.Chat{newGroup(t, s, owner, "A", 0), newGroup(t, s, owner, "B", 0)}
	takeEvents(t, s)

	const writers, each = 8, 20
	var mu sync.Mutex
	seqs := map[int64][]int64{}
	pts := map[int64][]int64{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				c := chats[(w+i)%2]
				msg := &parley.Message{ChatID: c.ID, SenderID: owner.ID, Text: "x", CreatedAt: t0}
				u, err := s.InsertMessage(ctx, msg)
				if err != nil {
					t.Error(err)
					return
				}
				if u.Message.Seq != msg.Seq || u.ChatID != c.ID {
					t.Errorf("update seq %d chat %d, message seq %d chat %d", u.Message.Seq, u.ChatID, msg.Seq, c.ID)
				}
				mu.Lock()
				seqs[c.ID] = append(seqs[c.ID], msg.Seq)
				pts[c.ID] = append(pts[c.ID], u.Pts)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	const n = writers * each / 2
	events := map[string]int{}
	for _, e := range takeEvents(t, s) {
		events[e.Subject]++
	}
	for _, c := range chats {
		wantContiguous(t, "seqs returned", seqs[c.ID], n)
		wantContiguous(t, "pts returned", pts[c.ID], n)
		got := findChat(t, s, c.ID)
		if got.LastSeq != n || got.Pts != n {
			t.Fatalf("chat %d: last seq %d pts %d, want %d", c.ID, got.LastSeq, got.Pts, n)
		}
		ups, err := s.ListUpdates(ctx, c.ID, 0, parley.MaxPageSize)
		must(t, err)
		var upSeqs []int64
		for i, u := range ups {
			if u.Pts != int64(i+1) || u.Kind != parley.UpdateMessageNew {
				t.Fatalf("update %d: pts %d kind %s", i, u.Pts, u.Kind)
			}
			upSeqs = append(upSeqs, u.Message.Seq)
		}
		wantContiguous(t, "seqs in updates", upSeqs, n)
		msgs, err := s.ListMessages(ctx, c.ID, 0, 0, parley.MaxPageSize)
		must(t, err)
		for i, m := range msgs {
			if m.Seq != int64(n-i) {
				t.Fatalf("ListMessages[%d].Seq = %d, want %d", i, m.Seq, n-i)
			}
		}
		if events[parley.ChatSubject(c.ID)] != n {
			t.Fatalf("chat %d: %d events, want %d", c.ID, events[parley.ChatSubject(c.ID)], n)
		}
	}
}

func testMessageBatchFailureIsolated(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 0)
	missing := g.ID + 1000
	takeEvents(t, s)

	// Valid inserts race with inserts into a chat that does not exist and
	// from an account that does not exist. An adapter that commits
	// concurrent inserts together must fail those alone.
	const valid, badChat, badSender = 30, 10, 5
	type result struct {
		chatID, senderID int64
		seq              int64
		err              error
	}
	results := make(chan result, valid+badChat+badSender)
	var wg sync.WaitGroup
	start := make(chan struct{})
	launch := func(n int, chatID, senderID int64) {
		for range n {
			wg.Go(func() {
				<-start
				msg := &parley.Message{ChatID: chatID, SenderID: senderID, Text: "x", CreatedAt: t0}
				_, err := s.InsertMessage(ctx, msg)
				results <- result{chatID, senderID, msg.Seq, err}
			})
		}
	}
	launch(valid, g.ID, owner.ID)
	launch(badChat, missing, owner.ID)
	launch(badSender, g.ID, owner.ID+1000)
	close(start)
	wg.Wait()
	close(results)

	var seqs []int64
	for r := range results {
		switch {
		case r.chatID == missing:
			wantCode(t, r.err, parley.ENotFound)
		case r.senderID != owner.ID:
			if r.err == nil {
				t.Fatal("insert from an account that does not exist succeeded")
			}
		default:
			must(t, r.err)
			seqs = append(seqs, r.seq)
		}
	}
	wantContiguous(t, "seqs of valid inserts", seqs, valid)
	if c := findChat(t, s, g.ID); c.LastSeq != valid || c.Pts != valid {
		t.Fatalf("chat: last seq %d pts %d, want %d", c.LastSeq, c.Pts, valid)
	}
	evs := takeEvents(t, s)
	if len(evs) != valid {
		t.Fatalf("%d events, want %d", len(evs), valid)
	}
	for _, e := range evs {
		if e.Subject != parley.ChatSubject(g.ID) {
			t.Fatalf("event on %s", e.Subject)
		}
	}
}

func testMessageEditDelete(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 0)
	msg := &parley.Message{ChatID: g.ID, SenderID: owner.ID, Text: "secret plans", MediaID: "img1",
		Forward: &parley.Origin{ChatID: 5, Seq: 6, SenderID: 7, ChatTitle: "Source"}, ReplyToSeq: 0, CreatedAt: at(time.Minute)}
	_, err := s.InsertMessage(ctx, msg)
	must(t, err)
	post(t, s, g, owner, "other", at(2*time.Minute))
	takeEvents(t, s)

	// Edit.
	ue, err := s.EditMessage(ctx, g.ID, 1, "revised plans", at(time.Hour))
	must(t, err)
	if ue.Kind != parley.UpdateMessageEdited || ue.Pts != 3 || ue.ChatID != g.ID || ue.Message.Seq != 1 {
		t.Fatalf("edit update = %s pts %d chat %d seq %d", ue.Kind, ue.Pts, ue.ChatID, ue.Message.Seq)
	}
	sameTime(t, "edit At", ue.At, at(time.Hour))
	if ue.Message.EditedAt == nil || !ue.Message.EditedAt.Equal(at(time.Hour)) || ue.Message.Text != "revised plans" {
		t.Fatalf("edited message = %+v", ue.Message)
	}
	if ue.Message.SenderName != owner.DisplayName || ue.Message.MediaID != "img1" || ue.Message.ID != msg.ID {
		t.Fatalf("edited message lost fields: %+v", ue.Message)
	}
	got, err := s.FindMessage(ctx, g.ID, 1)
	must(t, err)
	sameJSON(t, "message after edit", got, ue.Message)
	evs := takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("EditMessage wrote %d events, want 1", len(evs))
	}
	wantUpdateEvent(t, evs[0], ue)

	// Delete.
	ud, err := s.DeleteMessage(ctx, g.ID, 1, at(2*time.Hour))
	must(t, err)
	if ud.Kind != parley.UpdateMessageDeleted || ud.Pts != 4 || ud.Message.Seq != 1 || ud.Message.ID != msg.ID {
		t.Fatalf("delete update = %s pts %d seq %d id %d", ud.Kind, ud.Pts, ud.Message.Seq, ud.Message.ID)
	}
	sameTime(t, "delete At", ud.At, at(2*time.Hour))
	wantNoContent := func(what string, m *parley.Message) {
		t.Helper()
		if m.Text != "" || m.MediaID != "" || m.Ciphertext != "" || m.Nonce != "" || m.Forward != nil {
			t.Fatalf("%s still has content: %+v", what, m)
		}
	}
	wantNoContent("delete update", &ud.Message)
	if !ud.Message.Deleted() || !ud.Message.DeletedAt.Equal(at(2*time.Hour)) {
		t.Fatalf("DeletedAt = %v", ud.Message.DeletedAt)
	}
	got, err = s.FindMessage(ctx, g.ID, 1)
	must(t, err)
	if !got.Deleted() {
		t.Fatal("FindMessage: message not marked deleted")
	}
	wantNoContent("deleted message", got)
	evs = takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("DeleteMessage wrote %d events, want 1", len(evs))
	}
	wantUpdateEvent(t, evs[0], ud)

	// A deleted or missing message can be neither edited nor deleted.
	for _, seq := range []int64{1, 99} {
		_, err = s.EditMessage(ctx, g.ID, seq, "again", at(3*time.Hour))
		wantCode(t, err, parley.ENotFound)
		_, err = s.DeleteMessage(ctx, g.ID, seq, at(3*time.Hour))
		wantCode(t, err, parley.ENotFound)
	}
	_, err = s.EditMessage(ctx, g.ID+1000, 1, "again", at(3*time.Hour))
	wantCode(t, err, parley.ENotFound)
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("refused edits and deletes wrote %d events", len(evs))
	}
	if c := findChat(t, s, g.ID); c.Pts != 4 || c.LastSeq != 2 {
		t.Fatalf("chat: pts %d last seq %d, want 4 2", c.Pts, c.LastSeq)
	}

	// Deleted for everyone means no update a catching-up client reads still
	// carries the content.
	ups, err := s.ListUpdates(ctx, g.ID, 0, 100)
	must(t, err)
	var kinds []string
	for _, u := range ups {
		kinds = append(kinds, u.Kind)
		if u.Message.Seq == 1 {
			wantNoContent("update "+u.Kind+" of the deleted message", &u.Message)
		}
	}
	want := []string{parley.UpdateMessageNew, parley.UpdateMessageNew, parley.UpdateMessageEdited, parley.UpdateMessageDeleted}
	if !slices.Equal(kinds, want) {
		t.Fatalf("update kinds = %v, want %v", kinds, want)
	}
}

func testMessageListUpdates(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 0)
	other := newGroup(t, s, owner, "Other", 0)
	var all []*parley.Update
	for i := range 5 {
		all = append(all, post(t, s, g, owner, strings.Repeat("m", i+1), at(time.Duration(i)*time.Minute)))
		post(t, s, other, owner, "noise", t0)
	}
	u, err := s.EditMessage(ctx, g.ID, 2, "edited", at(time.Hour))
	must(t, err)
	all = append(all, u)
	u, err = s.DeleteMessage(ctx, g.ID, 4, at(2*time.Hour))
	must(t, err)
	all = append(all, u)

	for _, tc := range []struct {
		after int64
		limit int
		want  []*parley.Update
	}{
		{0, 100, all},
		{4, 100, all[4:]},
		{4, 2, all[4:6]},
		{6, 100, all[6:]},
		{7, 100, nil},
		{0, 3, all[:3]},
	} {
		got, err := s.ListUpdates(ctx, g.ID, tc.after, tc.limit)
		must(t, err)
		if len(got) != len(tc.want) {
			t.Fatalf("ListUpdates(after %d, limit %d): %d updates, want %d", tc.after, tc.limit, len(got), len(tc.want))
		}
		for i, u := range got {
			w := tc.want[i]
			if w.Kind == parley.UpdateMessageNew && w.Message.Seq == 4 {
				// The deleted message: its first update has lost its content.
				if u.Pts != w.Pts || u.Kind != w.Kind || u.Message.Text != "" {
					t.Fatalf("update of the deleted message = %+v", u)
				}
				continue
			}
			// The message as it was right after the change, so the first
			// update of the edited message still has its first text.
			sameJSON(t, "listed update", u, w)
		}
	}
}

func testMessageList(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 0)
	other := newGroup(t, s, owner, "Other", 0)
	for i := range 10 {
		post(t, s, g, owner, strings.Repeat("m", i+1), at(time.Duration(i)*time.Minute))
	}
	post(t, s, other, owner, "elsewhere", t0)
	_, err := s.DeleteMessage(ctx, g.ID, 5, at(time.Hour))
	must(t, err)

	list := func(before int64, limit int) []int64 {
		t.Helper()
		ms, err := s.ListMessages(ctx, g.ID, 0, before, limit)
		must(t, err)
		var out []int64
		for _, m := range ms {
			if m.ChatID != g.ID || m.Deleted() || m.SenderName != owner.DisplayName || m.Text != strings.Repeat("m", int(m.Seq)) {
				t.Fatalf("listed message = %+v", m)
			}
			out = append(out, m.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		before int64
		limit  int
		want   []int64
	}{
		{0, 3, []int64{10, 9, 8}},
		{8, 3, []int64{7, 6, 4}},
		{4, 10, []int64{3, 2, 1}},
		{1, 10, nil},
		{0, 100, []int64{10, 9, 8, 7, 6, 4, 3, 2, 1}},
	} {
		if got := list(tc.before, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("ListMessages(before %d, limit %d) = %v, want %v", tc.before, tc.limit, got, tc.want)
		}
	}
}

func testMessageRecordViews(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	us := users(t, s, "reader", 2)
	ch := newChannel(t, s, owner, "views", "Views")
	post(t, s, ch, owner, "one", t0)
	post(t, s, ch, owner, "two", t0)
	takeEvents(t, s)

	views := func(u *parley.User, seqs ...int64) map[int64]int64 {
		t.Helper()
		got, err := s.RecordViews(ctx, ch.ID, u.ID, seqs)
		must(t, err)
		return got
	}
	wantViews := func(got, want map[int64]int64) {
		t.Helper()
		for seq, n := range want {
			if got[seq] != n {
				t.Fatalf("views = %v, want %v", got, want)
			}
		}
	}
	wantViews(views(us[0], 1, 2), map[int64]int64{1: 1, 2: 1})
	wantViews(views(us[0], 1, 2), map[int64]int64{1: 1, 2: 1}) // the same reader again
	wantViews(views(us[1], 1, 1), map[int64]int64{1: 2})       // listed twice, counted once
	wantViews(views(owner, 2), map[int64]int64{2: 2})

	m, err := s.FindMessage(ctx, ch.ID, 1)
	must(t, err)
	if m.Views != 2 {
		t.Fatalf("Views = %d, want 2", m.Views)
	}
	ms, err := s.ListMessages(ctx, ch.ID, 0, 0, 10)
	must(t, err)
	if len(ms) != 2 || ms[0].Views != 2 || ms[1].Views != 2 {
		t.Fatalf("listed views = %+v", ms)
	}
}

// --- media ---

// mediaItem is a media item as an upload stores it, with its hashes.
func mediaItem(id string, uploader *parley.User, sha, md5 string) *parley.Media {
	return &parley.Media{ID: id, Mime: "image/jpeg", Size: 12345, Width: 640, Height: 480,
		ThumbID: strings.Repeat("cd", 31) + id[:2], UploaderID: uploader.ID, CreatedAt: t0,
		SHA256: sha, MD5: md5, PDQ: strings.Repeat("0f", 32), PDQQuality: 90}
}

// sameMedia fails unless got is want, hashes included (they are not in
// the JSON members see).
func sameMedia(t *testing.T, what string, got, want *parley.Media) {
	t.Helper()
	sameJSON(t, what, got, want)
	if got.SHA256 != want.SHA256 || got.MD5 != want.MD5 || got.PDQ != want.PDQ || got.PDQQuality != want.PDQQuality {
		t.Fatalf("%s: hashes %s %s %s %d; want %s %s %s %d", what, got.SHA256, got.MD5, got.PDQ, got.PDQQuality,
			want.SHA256, want.MD5, want.PDQ, want.PDQQuality)
	}
}

func mediaIDs(ms []*parley.Media) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func testMedia(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	sha, md5 := strings.Repeat("5a", 32), strings.Repeat("3d", 16)
	m := mediaItem(strings.Repeat("ab", 32), a, sha, md5)
	must(t, s.SaveMedia(ctx, m))
	got, err := s.FindMedia(ctx, m.ID)
	must(t, err)
	sameMedia(t, "media", got, m)

	// The same bytes uploaded again are another item, with its own
	// uploader and time; the first is unchanged.
	again := mediaItem(strings.Repeat("ef", 32), b, sha, md5)
	again.CreatedAt = at(time.Hour)
	must(t, s.SaveMedia(ctx, again))
	got, err = s.FindMedia(ctx, again.ID)
	must(t, err)
	sameMedia(t, "the second upload", got, again)
	got, err = s.FindMedia(ctx, m.ID)
	must(t, err)
	sameMedia(t, "the first upload after the second", got, m)

	// An id is never reused.
	taken := mediaItem(m.ID, b, strings.Repeat("77", 32), "")
	wantCode(t, s.SaveMedia(ctx, taken), parley.EConflict)
	got, err = s.FindMedia(ctx, m.ID)
	must(t, err)
	sameMedia(t, "the item after a refused save under its id", got, m)

	wantCode(t, s.SaveMedia(ctx, mediaItem(strings.Repeat("99", 32), &parley.User{ID: 999999}, sha, md5)), parley.ENotFound)
	_, err = s.FindMedia(ctx, strings.Repeat("00", 32))
	wantCode(t, err, parley.ENotFound)
}

func testMediaByHash(t *testing.T, s Store) {
	ctx := t.Context()
	hs := s // re-screening reads the stored media by hash (screen.RescanStore)
	u := newUser(t, s, "uploader")
	sha, md5 := strings.Repeat("5a", 32), strings.Repeat("3d", 16)
	var want []string
	for _, id := range []string{"c3", "a1", "e5", "b2"} {
		m := mediaItem(strings.Repeat(id, 32), u, sha, md5)
		must(t, s.SaveMedia(ctx, m))
		want = append(want, m.ID)
	}
	must(t, s.SaveMedia(ctx, mediaItem(strings.Repeat("d4", 32), u, strings.Repeat("6b", 32), strings.Repeat("4e", 16))))
	must(t, s.SaveMedia(ctx, mediaItem(strings.Repeat("f6", 32), u, "", "")))
	slices.Sort(want)

	for name, find := range map[string]func(after string, limit int) ([]*parley.Media, error){
		"SHA-256": func(after string, limit int) ([]*parley.Media, error) {
			return hs.FindMediaBySHA256(ctx, sha, after, limit)
		},
		"MD5": func(after string, limit int) ([]*parley.Media, error) {
			return hs.FindMediaByMD5(ctx, md5, after, limit)
		},
	} {
		var got []string
		after := ""
		for {
			page, err := find(after, 3)
			must(t, err)
			if len(page) > 3 {
				t.Fatalf("by %s: a page of %d; the limit is 3", name, len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				if m.SHA256 != sha || m.MD5 != md5 {
					t.Fatalf("by %s: found %+v", name, m)
				}
			}
			got = append(got, mediaIDs(page)...)
			after = page[len(page)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Fatalf("by %s: %v; want every item with those bytes in id order %v", name, got, want)
		}
	}
	// Items stored without a hash are never found by the empty one.
	for _, hash := range []string{"", strings.Repeat("00", 32)} {
		bySHA, err := hs.FindMediaBySHA256(ctx, hash, "", 10)
		must(t, err)
		byMD5, err := hs.FindMediaByMD5(ctx, hash, "", 10)
		must(t, err)
		if len(bySHA) != 0 || len(byMD5) != 0 {
			t.Fatalf("hash %q found %v and %v", hash, mediaIDs(bySHA), mediaIDs(byMD5))
		}
	}

	// Restricted: only blocked and removed items with those bytes, a
	// blocked one first.
	_, err := s.FindRestrictedMedia(ctx, sha)
	wantCode(t, err, parley.ENotFound)
	removed := mediaItem(strings.Repeat("e9", 32), u, sha, md5)
	removed.Status = parley.MediaRemoved
	must(t, s.SaveMedia(ctx, removed))
	got, err := s.FindRestrictedMedia(ctx, sha)
	must(t, err)
	if got.ID != removed.ID {
		t.Fatalf("restricted = %s; want the removed item %s", got.ID, removed.ID)
	}
	blocked := mediaItem(strings.Repeat("fa", 32), u, sha, md5)
	blocked.Status = parley.MediaBlocked
	must(t, s.SaveMedia(ctx, blocked))
	if got, err = s.FindRestrictedMedia(ctx, sha); err != nil || got.ID != blocked.ID {
		t.Fatalf("restricted = %v, %v; want the blocked item %s first", got, err, blocked.ID)
	}
	_, err = s.FindRestrictedMedia(ctx, strings.Repeat("6b", 32))
	wantCode(t, err, parley.ENotFound)
}

func testMediaViewAudit(t *testing.T, s Store) {
	ctx := t.Context()
	view := func(actor int64, target string, when time.Time) *parley.AuditEntry {
		return &parley.AuditEntry{At: when, ActorID: actor, Action: parley.AuditMediaViewed, TargetType: "media", TargetID: target,
			Details: `{"uploader_id":1}`}
	}
	img, other := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	for i, tc := range []struct {
		e     *parley.AuditEntry
		since time.Time
		want  bool
	}{
		{view(7, img, t0), at(-time.Hour), true},
		{view(7, img, at(30*time.Minute)), at(-30 * time.Minute), false},  // the first is within the hour
		{view(8, img, at(30*time.Minute)), at(-30 * time.Minute), true},   // another actor
		{view(7, other, at(30*time.Minute)), at(-30 * time.Minute), true}, // another target
		{&parley.AuditEntry{At: at(40 * time.Minute), ActorID: 7, Action: parley.AuditUserRoleChanged, TargetType: "media", TargetID: img},
			at(-20 * time.Minute), true}, // another action
		{view(7, img, at(61*time.Minute)), at(time.Minute), true}, // the first is older than since
		{view(7, img, at(62*time.Minute)), at(2 * time.Minute), false},
	} {
		got, err := s.AppendAuditOnce(ctx, tc.e, tc.since)
		must(t, err)
		if got != tc.want {
			t.Fatalf("append %d: appended = %v; want %v", i, got, tc.want)
		}
		if got && tc.e.ID == 0 {
			t.Fatalf("append %d: no id set", i)
		}
	}
	if n := auditCount(t, s); n != 5 {
		t.Fatalf("%d audit entries; want 5", n)
	}
	report, err := audit.Verify(ctx, s.ListAuditEntries)
	must(t, err)
	if !report.Intact || report.Entries != 5 {
		t.Fatalf("the audit chain after conditional appends: %+v", report)
	}

	// Concurrent views of one image by one actor append one entry.
	var wg sync.WaitGroup
	var appended sync.Map
	for i := range 8 {
		wg.Go(func() {
			ok, err := s.AppendAuditOnce(ctx, view(9, img, at(time.Hour)), t0)
			if err != nil {
				t.Error(err)
			}
			appended.Store(i, ok)
		})
	}
	wg.Wait()
	n := 0
	appended.Range(func(_, v any) bool {
		if v.(bool) {
			n++
		}
		return true
	})
	if n != 1 || auditCount(t, s) != 6 {
		t.Fatalf("8 concurrent views appended %d entries (%d in the log); want 1 (6)", n, auditCount(t, s))
	}
}

// carriers collects what MediaCarriers yields.
func carriers(t *testing.T, s Store, id string, viewerID int64, limit int) []*messaging.MediaCarrier {
	t.Helper()
	var out []*messaging.MediaCarrier
	for c, err := range s.MediaCarriers(t.Context(), id, viewerID, limit) {
		must(t, err)
		out = append(out, c)
	}
	return out
}

// carrierRefs names carriers as "chatID:seq" (with "+member" when the
// viewer is a member), newest first as the store yields them.
func carrierRefs(cs []*messaging.MediaCarrier) []string {
	var out []string
	for _, c := range cs {
		ref := fmt.Sprintf("%d:%d", c.Message.ChatID, c.Message.Seq)
		if c.Member {
			ref += "+member"
		}
		out = append(out, ref)
	}
	return out
}

func testMediaCarriers(t *testing.T, s Store) {
	ctx := t.Context()
	owner, member, outsider := newUser(t, s, "owner"), newUser(t, s, "member"), newUser(t, s, "outsider")
	g := newGroup(t, s, owner, "Group", 0)
	join(t, s, g, member, parley.MemberRegular)
	ch := newChannel(t, s, owner, "pictures", "Pictures")
	other := newGroup(t, s, owner, "Other", 0)
	img := mediaItem(strings.Repeat("ab", 32), owner, strings.Repeat("5a", 32), "")
	unposted := mediaItem(strings.Repeat("cd", 32), owner, strings.Repeat("6b", 32), "")
	must(t, s.SaveMedia(ctx, img))
	must(t, s.SaveMedia(ctx, unposted))
	carry := func(chat *parley.Chat, from *parley.User) *parley.Message {
		u, err := s.InsertMessage(ctx, &parley.Message{ChatID: chat.ID, SenderID: from.ID, MediaID: img.ID, CreatedAt: t0})
		must(t, err)
		return &u.Message
	}
	inGroup := carry(g, owner)                                                                 // g:1
	inChannel := carry(ch, owner)                                                              // ch:1
	post(t, s, g, member, "no image", t0)                                                      // g:2
	deleted := carry(g, member)                                                                // g:3, deleted below
	inOther := carry(other, owner)                                                             // other:1
	held := &parley.Message{ChatID: g.ID, SenderID: member.ID, MediaID: img.ID, CreatedAt: t0} // g:4, held
	must(t, s.InsertHeldMessage(ctx, held, &parley.Screening{Decision: parley.ScreenHold},
		&review.Case{Kind: review.KindHeldPost, Priority: 50, CreatedAt: t0}))
	_, err := s.DeleteMessage(ctx, g.ID, deleted.Seq, at(time.Minute))
	must(t, err)
	removed := apply(t, s, enforce.Action{Kind: enforce.RemoveMessage, Target: enforce.Target{ChatID: ch.ID, Seq: inChannel.Seq}})

	ref := func(m *parley.Message, member bool) string {
		r := fmt.Sprintf("%d:%d", m.ChatID, m.Seq)
		if member {
			r += "+member"
		}
		return r
	}
	for _, tc := range []struct {
		viewer *parley.User
		want   []string
	}{
		// Newest first; the held post only for its author; a channel's
		// copy for anyone, a group's only for members; never a deleted one.
		{member, []string{ref(held, true), ref(inChannel, false), ref(inGroup, true)}},
		{owner, []string{ref(inOther, true), ref(inChannel, true), ref(inGroup, true)}},
		{outsider, []string{ref(inChannel, false)}},
	} {
		cs := carriers(t, s, img.ID, tc.viewer.ID, 10)
		if got := carrierRefs(cs); !slices.Equal(got, tc.want) {
			t.Fatalf("carriers for %s = %v; want %v", tc.viewer.Username, got, tc.want)
		}
		for _, c := range cs {
			if c.Message.MediaID != img.ID || c.Chat == nil || c.Chat.ID != c.Message.ChatID {
				t.Fatalf("carrier %+v: want the message with its chat", c)
			}
			// The message and chat as stored, moderation included: the
			// caller decides what the viewer sees.
			if c.Message.ChatID == ch.ID && (c.Message.Moderation == nil || c.Message.Moderation.Removed == nil ||
				c.Message.Moderation.Removed.ActionID != removed.ID || c.Chat.Kind != parley.ChatChannel) {
				t.Fatalf("the removed copy in the channel = %+v in %+v", c.Message, c.Chat)
			}
		}
	}
	if got := carrierRefs(carriers(t, s, img.ID, owner.ID, 2)); !slices.Equal(got, []string{ref(inOther, true), ref(inChannel, true)}) {
		t.Fatalf("the first 2 carriers for the owner = %v", got)
	}
	// A caller may stop early.
	n := 0
	for _, err := range s.MediaCarriers(ctx, img.ID, owner.ID, 10) {
		must(t, err)
		if n++; n == 1 {
			break
		}
	}
	if cs := carriers(t, s, unposted.ID, owner.ID, 10); len(cs) != 0 {
		t.Fatalf("carriers of an unposted image = %v", carrierRefs(cs))
	}

	// Posted: carried by a message that is not deleted, held or removed
	// alike.
	for _, tc := range []struct {
		id   string
		want bool
	}{{img.ID, true}, {unposted.ID, false}, {strings.Repeat("00", 32), false}} {
		if got, err := s.MediaPosted(ctx, tc.id); err != nil || got != tc.want {
			t.Fatalf("MediaPosted(%s) = %v, %v; want %v", tc.id[:4], got, err, tc.want)
		}
	}
	lone := mediaItem(strings.Repeat("ef", 32), owner, strings.Repeat("7c", 32), "")
	must(t, s.SaveMedia(ctx, lone))
	u, err := s.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: owner.ID, MediaID: lone.ID, CreatedAt: t0})
	must(t, err)
	if posted, err := s.MediaPosted(ctx, lone.ID); err != nil || !posted {
		t.Fatalf("MediaPosted after posting = %v, %v", posted, err)
	}
	_, err = s.DeleteMessage(ctx, g.ID, u.Message.Seq, at(time.Minute))
	must(t, err)
	if posted, err := s.MediaPosted(ctx, lone.ID); err != nil || posted {
		t.Fatalf("MediaPosted after deleting its only message = %v, %v; want false", posted, err)
	}
}

// --- outbox ---

func testOutbox(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	if n, err := s.CountPendingEvents(ctx); err != nil || n != 0 {
		t.Fatalf("CountPendingEvents on a new store = %d, %v", n, err)
	}
	g := newGroup(t, s, a, "Group", 0)
	join(t, s, g, b, parley.MemberRegular)
	var ups []*parley.Update
	for i := range 3 {
		ups = append(ups, post(t, s, g, a, strings.Repeat("x", i+1), t0))
	}

	n, err := s.CountPendingEvents(ctx)
	must(t, err)
	if n != 5 {
		t.Fatalf("CountPendingEvents = %d, want 5", n)
	}
	all, err := s.PendingEvents(ctx, 100)
	must(t, err)
	if len(all) != 5 {
		t.Fatalf("PendingEvents = %d events, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("events out of id order: %d then %d", all[i-1].ID, all[i].ID)
		}
	}
	for _, e := range all {
		if e.CreatedAt.IsZero() {
			t.Fatalf("event %d has no CreatedAt", e.ID)
		}
	}
	wantMembershipEvent(t, all[0], parley.EventChatJoined, g.ID, a.ID)
	wantMembershipEvent(t, all[1], parley.EventChatJoined, g.ID, b.ID)
	for i, u := range ups {
		wantUpdateEvent(t, all[2+i], u)
	}

	first, err := s.PendingEvents(ctx, 2)
	must(t, err)
	if len(first) != 2 || first[0].ID != all[0].ID || first[1].ID != all[1].ID {
		t.Fatalf("PendingEvents(2) = %v, want the two oldest", first)
	}
	must(t, s.DeleteEvents(ctx, []int64{first[0].ID, first[1].ID}))
	n, err = s.CountPendingEvents(ctx)
	must(t, err)
	if n != 3 {
		t.Fatalf("CountPendingEvents after deleting 2 = %d, want 3", n)
	}
	rest, err := s.PendingEvents(ctx, 100)
	must(t, err)
	if len(rest) != 3 || rest[0].ID != all[2].ID {
		t.Fatalf("PendingEvents after deleting = %v", rest)
	}
	// Deleting again, or nothing, is not an error: the relay may retry.
	must(t, s.DeleteEvents(ctx, []int64{first[0].ID, first[1].ID}))
	must(t, s.DeleteEvents(ctx, nil))
	must(t, s.DeleteEvents(ctx, []int64{rest[0].ID, rest[1].ID, rest[2].ID}))
	n, err = s.CountPendingEvents(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("CountPendingEvents after deleting all = %d", n)
	}
	if evs, err := s.PendingEvents(ctx, 100); err != nil || len(evs) != 0 {
		t.Fatalf("PendingEvents after deleting all = %v, %v", evs, err)
	}
}

func testOutboxIDsNeverReused(t *testing.T, s Store) {
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 0)
	post(t, s, g, owner, "one", t0)
	evs := takeEvents(t, s)
	last := evs[len(evs)-1].ID
	// With every event deleted, the next one must still get a new id: the
	// stream de-duplicates by id, and would drop an event with a reused one.
	post(t, s, g, owner, "two", t0)
	evs = takeEvents(t, s)
	if len(evs) != 1 || evs[0].ID <= last {
		t.Fatalf("event after deleting all has id %d, want above %d", evs[0].ID, last)
	}
}
