package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"parley"
)

// --- chats ---

func testChatCreateGroup(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	takeEvents(t, s)

	c := &parley.Chat{Kind: parley.ChatGroup, Title: "Book club", Description: "We read", OwnerID: owner.ID, MemberLimit: 50, CreatedAt: t0}
	must(t, s.CreateChat(ctx, c, 0))
	if c.ID == 0 {
		t.Fatal("CreateChat did not set ID")
	}
	if c.MemberCount != 1 || c.LastSeq != 0 || c.Pts != 0 {
		t.Fatalf("new chat: members %d, last seq %d, pts %d; want 1, 0, 0", c.MemberCount, c.LastSeq, c.Pts)
	}
	sameTime(t, "CreatedAt", c.CreatedAt, t0)
	sameJSON(t, "FindChatByID", findChat(t, s, c.ID), c)

	m, err := s.FindMember(ctx, c.ID, owner.ID)
	must(t, err)
	if m.Role != parley.MemberOwner {
		t.Fatalf("owner's role = %q", m.Role)
	}
	sameTime(t, "owner JoinedAt", m.JoinedAt, t0)

	evs := takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("CreateChat wrote %d events, want 1", len(evs))
	}
	wantMembershipEvent(t, evs[0], parley.EventChatJoined, c.ID, owner.ID)

	// A zero CreatedAt is filled in.
	c2 := &parley.Chat{Kind: parley.ChatGroup, Title: "Now", OwnerID: owner.ID}
	must(t, s.CreateChat(ctx, c2, 0))
	if c2.CreatedAt.IsZero() || c2.ID == c.ID {
		t.Fatalf("second chat: id %d, created %v", c2.ID, c2.CreatedAt)
	}
}

func testChatCreateDirect(t *testing.T, s Store) {
	ctx := t.Context()
	a, b, c := newUser(t, s, "anna"), newUser(t, s, "ben"), newUser(t, s, "cleo")
	takeEvents(t, s)

	d := &parley.Chat{Kind: parley.ChatDirect, OwnerID: a.ID, MemberLimit: 2, CreatedAt: t0}
	must(t, s.CreateChat(ctx, d, b.ID))
	if d.MemberCount != 2 {
		t.Fatalf("MemberCount = %d, want 2", d.MemberCount)
	}
	for _, want := range []struct {
		u    *parley.User
		role parley.MemberRole
	}{{a, parley.MemberOwner}, {b, parley.MemberRegular}} {
		m, err := s.FindMember(ctx, d.ID, want.u.ID)
		must(t, err)
		if m.Role != want.role {
			t.Fatalf("role of %s = %q, want %q", want.u.Username, m.Role, want.role)
		}
	}
	evs := takeEvents(t, s)
	if len(evs) != 2 {
		t.Fatalf("CreateChat wrote %d events, want 2", len(evs))
	}
	joined := map[string]parley.Event{}
	for _, e := range evs {
		joined[e.Subject] = e
	}
	wantMembershipEvent(t, joined[parley.UserSubject(a.ID)], parley.EventChatJoined, d.ID, a.ID)
	wantMembershipEvent(t, joined[parley.UserSubject(b.ID)], parley.EventChatJoined, d.ID, b.ID)

	for _, pair := range [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
		got, err := s.FindDirectChat(ctx, pair[0], pair[1])
		must(t, err)
		if got.ID != d.ID {
			t.Fatalf("FindDirectChat(%d, %d) = chat %d, want %d", pair[0], pair[1], got.ID, d.ID)
		}
	}
	// Direct chats are unique per pair, whichever account opens the second.
	for _, pair := range [][2]*parley.User{{a, b}, {b, a}} {
		err := s.CreateChat(ctx, &parley.Chat{Kind: parley.ChatDirect, OwnerID: pair[0].ID, CreatedAt: t0}, pair[1].ID)
		wantCode(t, err, parley.EConflict)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("a refused CreateChat wrote %d events", len(evs))
	}
	_, err := s.FindDirectChat(ctx, a.ID, c.ID)
	wantCode(t, err, parley.ENotFound)
	// Another pair may have its own.
	must(t, s.CreateChat(ctx, &parley.Chat{Kind: parley.ChatDirect, OwnerID: c.ID, CreatedAt: t0}, a.ID))
}

func testChatCreateSecret(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "anna"), newUser(t, s, "ben")
	takeEvents(t, s)
	var ids []int64
	for range 2 { // secret chats are not unique per pair
		c := &parley.Chat{Kind: parley.ChatSecret, OwnerID: a.ID, MemberLimit: 2, CreatedAt: t0}
		must(t, s.CreateChat(ctx, c, b.ID))
		if c.MemberCount != 2 {
			t.Fatalf("MemberCount = %d, want 2", c.MemberCount)
		}
		m, err := s.FindMember(ctx, c.ID, b.ID)
		must(t, err)
		if m.Role != parley.MemberRegular {
			t.Fatalf("peer role = %q", m.Role)
		}
		ids = append(ids, c.ID)
	}
	if ids[0] == ids[1] {
		t.Fatal("two secret chats have the same ID")
	}
	if evs := takeEvents(t, s); len(evs) != 4 {
		t.Fatalf("two secret chats wrote %d events, want 4", len(evs))
	}
	// A secret chat is not the pair's direct chat.
	_, err := s.FindDirectChat(ctx, a.ID, b.ID)
	wantCode(t, err, parley.ENotFound)
	must(t, s.CreateChat(ctx, &parley.Chat{Kind: parley.ChatDirect, OwnerID: b.ID, CreatedAt: t0}, a.ID))
}

func testChatChannelHandle(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "editor")
	c := newChannel(t, s, owner, "DailyNews", "Daily News")
	for _, h := range []string{"DailyNews", "dailynews", "DAILYNEWS"} {
		got, err := s.FindChatByHandle(ctx, h)
		must(t, err)
		if got.ID != c.ID || got.Handle != "DailyNews" || got.Kind != parley.ChatChannel {
			t.Fatalf("FindChatByHandle(%q) = %d @%s %s", h, got.ID, got.Handle, got.Kind)
		}
	}
	for _, h := range []string{"DailyNews", "dailyNEWS"} {
		err := s.CreateChat(ctx, &parley.Chat{Kind: parley.ChatChannel, Handle: h, Title: "Copy", OwnerID: owner.ID, CreatedAt: t0}, 0)
		wantCode(t, err, parley.EConflict)
	}
	_, err := s.FindChatByHandle(ctx, "WeeklyNews")
	wantCode(t, err, parley.ENotFound)
	// Groups have no handle, and any number of them coexist.
	newGroup(t, s, owner, "One", 0)
	newGroup(t, s, owner, "Two", 0)
	newChannel(t, s, owner, "WeeklyNews", "Weekly News")
}

func testChatNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	c := newGroup(t, s, owner, "Group", 0)
	_, err := s.FindChatByID(ctx, c.ID+1000)
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindChatByHandle(ctx, "nothing")
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindDirectChat(ctx, owner.ID, owner.ID+1000)
	wantCode(t, err, parley.ENotFound)
}

func testChatSearchChannels(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	readers := users(t, s, "reader", 3)
	golang := newChannel(t, s, owner, "golang", "Go News")   // 4 members
	gossip := newChannel(t, s, owner, "celebs", "GOSSIP")    // 3 members
	rust := newChannel(t, s, owner, "rustlang", "Rust")      // 1 member
	quiet := newChannel(t, s, owner, "quiet", "Über Stille") // 2 members
	newGroup(t, s, owner, "Go group", 0)                     // not a channel
	for _, r := range readers {
		join(t, s, golang, r, parley.MemberSubscriber)
	}
	join(t, s, gossip, readers[0], parley.MemberSubscriber)
	join(t, s, gossip, readers[1], parley.MemberSubscriber)
	join(t, s, quiet, readers[2], parley.MemberSubscriber)

	search := func(q string, limit int) []int64 {
		t.Helper()
		cs, err := s.SearchChannels(ctx, q, limit)
		must(t, err)
		var out []int64
		for _, c := range cs {
			if c.Kind != parley.ChatChannel {
				t.Fatalf("SearchChannels(%q) returned a %s", q, c.Kind)
			}
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		limit int
		want  []int64
	}{
		{"go", 10, []int64{golang.ID, gossip.ID}}, // handle "golang", title "GOSSIP"
		{"GO", 10, []int64{golang.ID, gossip.ID}},
		{"news", 10, []int64{golang.ID}},          // title only
		{"LANG", 10, []int64{golang.ID, rust.ID}}, // handles only
		{"über", 10, []int64{quiet.ID}},
		{"ÜBER", 10, []int64{quiet.ID}},
		{"nothing", 10, nil},
		{"", 10, []int64{golang.ID, gossip.ID, quiet.ID, rust.ID}},
		{"", 2, []int64{golang.ID, gossip.ID}},
	} {
		if got := search(tc.query, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("SearchChannels(%q, %d) = %v, want %v", tc.query, tc.limit, got, tc.want)
		}
	}
	got, err := s.SearchChannels(ctx, "golang", 1)
	must(t, err)
	if len(got) != 1 || got[0].MemberCount != 4 || got[0].Handle != "golang" {
		t.Fatalf("SearchChannels(golang) = %+v", got)
	}
}

func testChatListForUser(t *testing.T, s Store) {
	ctx := t.Context()
	me := newUser(t, s, "me")
	peer := newUser(t, s, "peer")
	nameless := &parley.User{Username: "nameless", Role: parley.RoleMember, CreatedAt: t0}
	must(t, s.CreateUser(ctx, nameless))
	stranger := newUser(t, s, "stranger")

	group := &parley.Chat{Kind: parley.ChatGroup, Title: "Group", OwnerID: me.ID, CreatedAt: at(1 * time.Minute)}
	must(t, s.CreateChat(ctx, group, 0))
	direct := &parley.Chat{Kind: parley.ChatDirect, OwnerID: peer.ID, CreatedAt: at(2 * time.Minute)}
	must(t, s.CreateChat(ctx, direct, me.ID))
	secret := &parley.Chat{Kind: parley.ChatSecret, OwnerID: me.ID, CreatedAt: at(3 * time.Minute)}
	must(t, s.CreateChat(ctx, secret, nameless.ID))
	channel := &parley.Chat{Kind: parley.ChatChannel, Handle: "channel", Title: "Channel", OwnerID: peer.ID, CreatedAt: at(4 * time.Minute)}
	must(t, s.CreateChat(ctx, channel, 0))
	must(t, s.AddMember(ctx, &parley.Member{ChatID: channel.ID, UserID: me.ID, Role: parley.MemberSubscriber, JoinedAt: at(5 * time.Minute)}))
	newGroup(t, s, stranger, "Not mine", 0)

	list := func() []*parley.ChatSummary {
		t.Helper()
		l, err := s.ListChatsForUser(ctx, me.ID)
		must(t, err)
		return l
	}
	order := func(l []*parley.ChatSummary) []int64 {
		var out []int64
		for _, c := range l {
			out = append(out, c.ID)
		}
		return out
	}

	// Without messages, the newest chat is first.
	l := list()
	if want := []int64{channel.ID, secret.ID, direct.ID, group.ID}; !slices.Equal(order(l), want) {
		t.Fatalf("chat list = %v, want %v", order(l), want)
	}
	byID := map[int64]*parley.ChatSummary{}
	for _, c := range l {
		byID[c.ID] = c
		if c.LastMessage != nil {
			t.Fatalf("chat %d has a last message before any was sent", c.ID)
		}
	}
	for _, tc := range []struct {
		chat     *parley.Chat
		role     parley.MemberRole
		peerID   int64
		peerName string
	}{
		{group, parley.MemberOwner, 0, ""},
		{direct, parley.MemberRegular, peer.ID, peer.DisplayName},
		{secret, parley.MemberOwner, nameless.ID, "nameless"}, // no display name: the username
		{channel, parley.MemberSubscriber, 0, ""},
	} {
		got := byID[tc.chat.ID]
		if got.MyRole != tc.role || got.PeerID != tc.peerID || got.PeerName != tc.peerName {
			t.Errorf("chat %d: role %q peer %d %q, want %q %d %q", got.ID, got.MyRole, got.PeerID, got.PeerName, tc.role, tc.peerID, tc.peerName)
		}
		if got.Kind != tc.chat.Kind || got.Title != tc.chat.Title {
			t.Errorf("chat %d: %s %q, want %s %q", got.ID, got.Kind, got.Title, tc.chat.Kind, tc.chat.Title)
		}
	}

	// A message moves its chat to the top and is shown as the last message.
	post(t, s, group, me, "first", at(10*time.Minute))
	post(t, s, group, me, "second", at(11*time.Minute))
	post(t, s, direct, peer, "hello", at(12*time.Minute))
	post(t, s, group, me, "third", at(13*time.Minute))
	l = list()
	if want := []int64{group.ID, direct.ID, channel.ID, secret.ID}; !slices.Equal(order(l), want) {
		t.Fatalf("chat list after messages = %v, want %v", order(l), want)
	}
	last := l[0].LastMessage
	if last == nil || last.Text != "third" || last.Seq != 3 || last.SenderID != me.ID || last.SenderName != me.DisplayName {
		t.Fatalf("group's last message = %+v", last)
	}
	if l[0].LastSeq != 3 || l[0].Pts != 3 {
		t.Fatalf("group counters: last seq %d pts %d, want 3 3", l[0].LastSeq, l[0].Pts)
	}
	if d := l[1].LastMessage; d == nil || d.Text != "hello" || d.SenderName != peer.DisplayName {
		t.Fatalf("direct chat's last message = %+v", d)
	}

	// A deleted message is not shown as the last message.
	_, err := s.DeleteMessage(ctx, group.ID, 3, at(14*time.Minute))
	must(t, err)
	if last := list()[0].LastMessage; last == nil || last.Seq != 2 || last.Text != "second" {
		t.Fatalf("last message after deleting the newest = %+v, want seq 2", last)
	}

	gotIDs, err := s.ListChatIDsForUser(ctx, me.ID)
	must(t, err)
	slices.Sort(gotIDs)
	wantIDs := []int64{group.ID, direct.ID, secret.ID, channel.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Fatalf("ListChatIDsForUser = %v, want %v", gotIDs, wantIDs)
	}
	must(t, s.RemoveMember(ctx, channel.ID, me.ID))
	gotIDs, err = s.ListChatIDsForUser(ctx, me.ID)
	must(t, err)
	if slices.Contains(gotIDs, channel.ID) || len(gotIDs) != 3 {
		t.Fatalf("ListChatIDsForUser after leaving = %v", gotIDs)
	}
	if len(list()) != 3 {
		t.Fatal("ListChatsForUser still lists a chat the user left")
	}
}

// --- members ---

func testMemberFindChatWithMember(t *testing.T, s Store) {
	ctx := t.Context()
	owner, reader, stranger := newUser(t, s, "owner"), newUser(t, s, "reader"), newUser(t, s, "stranger")
	ch := newChannel(t, s, owner, "news", "News")
	must(t, s.AddMember(ctx, &parley.Member{ChatID: ch.ID, UserID: reader.ID, Role: parley.MemberSubscriber, JoinedAt: at(time.Hour)}))

	for _, tc := range []struct {
		user *parley.User
		role parley.MemberRole // "" for no membership
	}{{owner, parley.MemberOwner}, {reader, parley.MemberSubscriber}, {stranger, ""}} {
		c, m, err := s.FindChatWithMember(ctx, ch.ID, tc.user.ID)
		must(t, err)
		sameJSON(t, "chat", c, findChat(t, s, ch.ID))
		if tc.role == "" {
			if m != nil {
				t.Fatalf("%s: member = %+v, want none", tc.user.Username, m)
			}
			continue
		}
		want, err := s.FindMember(ctx, ch.ID, tc.user.ID)
		must(t, err)
		if m == nil || m.Role != tc.role {
			t.Fatalf("%s: member = %+v, want role %s", tc.user.Username, m, tc.role)
		}
		sameJSON(t, "member", m, want)
	}
	_, _, err := s.FindChatWithMember(ctx, ch.ID+1000, owner.ID)
	wantCode(t, err, parley.ENotFound)
}

func testMemberAddRemove(t *testing.T, s Store) {
	ctx := t.Context()
	owner, u := newUser(t, s, "owner"), newUser(t, s, "joiner")
	g := newGroup(t, s, owner, "Group", 10)
	takeEvents(t, s)

	m := &parley.Member{ChatID: g.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: at(time.Hour)}
	must(t, s.AddMember(ctx, m))
	if c := findChat(t, s, g.ID); c.MemberCount != 2 {
		t.Fatalf("MemberCount after join = %d, want 2", c.MemberCount)
	}
	got, err := s.FindMember(ctx, g.ID, u.ID)
	must(t, err)
	sameJSON(t, "member", got, m)
	evs := takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("AddMember wrote %d events, want 1", len(evs))
	}
	wantMembershipEvent(t, evs[0], parley.EventChatJoined, g.ID, u.ID)

	wantCode(t, s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: t0}), parley.EConflict)
	wantCode(t, s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: owner.ID, Role: parley.MemberRegular, JoinedAt: t0}), parley.EConflict)
	if c := findChat(t, s, g.ID); c.MemberCount != 2 {
		t.Fatalf("MemberCount after refused joins = %d, want 2", c.MemberCount)
	}
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("refused AddMember wrote %d events", len(evs))
	}

	must(t, s.RemoveMember(ctx, g.ID, u.ID))
	if c := findChat(t, s, g.ID); c.MemberCount != 1 {
		t.Fatalf("MemberCount after leaving = %d, want 1", c.MemberCount)
	}
	_, err = s.FindMember(ctx, g.ID, u.ID)
	wantCode(t, err, parley.ENotFound)
	evs = takeEvents(t, s)
	if len(evs) != 1 {
		t.Fatalf("RemoveMember wrote %d events, want 1", len(evs))
	}
	wantMembershipEvent(t, evs[0], parley.EventChatLeft, g.ID, u.ID)

	wantCode(t, s.RemoveMember(ctx, g.ID, u.ID), parley.ENotFound)
	if evs := takeEvents(t, s); len(evs) != 0 {
		t.Fatalf("refused RemoveMember wrote %d events", len(evs))
	}
	// Leaving and joining again works.
	must(t, s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: t0}))
}

func testMemberLimit(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	us := users(t, s, "user", 5)
	g := newGroup(t, s, owner, "Small", 3)
	join(t, s, g, us[0], parley.MemberRegular)
	join(t, s, g, us[1], parley.MemberRegular)
	err := s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: us[2].ID, Role: parley.MemberRegular, JoinedAt: t0})
	wantCode(t, err, parley.ETooLarge)
	if c := findChat(t, s, g.ID); c.MemberCount != 3 {
		t.Fatalf("MemberCount = %d, want 3", c.MemberCount)
	}
	// Leaving makes room.
	must(t, s.RemoveMember(ctx, g.ID, us[0].ID))
	join(t, s, g, us[2], parley.MemberRegular)

	// A limit of 0 is no limit, as for channels.
	ch := newChannel(t, s, owner, "unlimited", "Unlimited")
	for _, u := range us {
		join(t, s, ch, u, parley.MemberSubscriber)
	}
	if c := findChat(t, s, ch.ID); c.MemberCount != 6 {
		t.Fatalf("channel MemberCount = %d, want 6", c.MemberCount)
	}
}

func testMemberLimitConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	us := users(t, s, "user", 20)
	const limit = 6 // the owner and five more
	g := newGroup(t, s, owner, "Popular", limit)
	takeEvents(t, s)

	var wg sync.WaitGroup
	errs := make([]error, len(us))
	start := make(chan struct{})
	for i, u := range us {
		wg.Go(func() {
			<-start
			errs[i] = s.AddMember(ctx, &parley.Member{ChatID: g.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: t0})
		})
	}
	close(start)
	wg.Wait()

	joined := 0
	for _, err := range errs {
		switch parley.ErrorCode(err) {
		case "":
			joined++
		case parley.ETooLarge:
		default:
			t.Fatalf("concurrent AddMember: %v", err)
		}
	}
	if joined != limit-1 {
		t.Fatalf("%d joins succeeded, want %d", joined, limit-1)
	}
	if c := findChat(t, s, g.ID); c.MemberCount != limit {
		t.Fatalf("MemberCount = %d, want %d", c.MemberCount, limit)
	}
	ms, err := s.ListMembers(ctx, g.ID, 0, 100)
	must(t, err)
	if len(ms) != limit {
		t.Fatalf("ListMembers = %d members, want %d", len(ms), limit)
	}
	if evs := takeEvents(t, s); len(evs) != limit-1 {
		t.Fatalf("%d chat.joined events, want %d", len(evs), limit-1)
	}
}

func testMemberRoleAndList(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	us := users(t, s, "user", 4)
	g := newGroup(t, s, owner, "Group", 0)
	for _, u := range us {
		join(t, s, g, u, parley.MemberRegular)
	}
	must(t, s.SetMemberRole(ctx, g.ID, us[1].ID, parley.MemberAdmin))
	m, err := s.FindMember(ctx, g.ID, us[1].ID)
	must(t, err)
	if m.Role != parley.MemberAdmin {
		t.Fatalf("role = %q, want admin", m.Role)
	}
	stranger := newUser(t, s, "stranger")
	wantCode(t, s.SetMemberRole(ctx, g.ID, stranger.ID, parley.MemberAdmin), parley.ENotFound)
	_, err = s.FindMember(ctx, g.ID, stranger.ID)
	wantCode(t, err, parley.ENotFound)

	all := []int64{owner.ID, us[0].ID, us[1].ID, us[2].ID, us[3].ID}
	var got []int64
	after := int64(0)
	for {
		page, err := s.ListMembers(ctx, g.ID, after, 2)
		must(t, err)
		if len(page) > 2 {
			t.Fatalf("page of %d members, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if m.ChatID != g.ID {
				t.Fatalf("member of chat %d listed for chat %d", m.ChatID, g.ID)
			}
			got = append(got, m.UserID)
		}
		after = page[len(page)-1].UserID
	}
	if !slices.Equal(got, all) {
		t.Fatalf("ListMembers pages = %v, want %v", got, all)
	}
}

// --- invites ---

func newInvite(t *testing.T, s Store, chat *parley.Chat, by *parley.User, token string, expires *time.Time) *parley.Invite {
	t.Helper()
	inv := &parley.Invite{Token: token, ChatID: chat.ID, CreatedBy: by.ID, CreatedAt: t0, ExpiresAt: expires}
	must(t, s.CreateInvite(t.Context(), inv))
	return inv
}

func findInvite(t *testing.T, s Store, token string) *parley.Invite {
	t.Helper()
	inv, err := s.FindInvite(t.Context(), token)
	must(t, err)
	return inv
}

func testInviteCreateFindUse(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	us := users(t, s, "user", 2)
	g := newGroup(t, s, owner, "Group", 10)
	inv := newInvite(t, s, g, owner, "tok-1", ptr(at(time.Hour)))
	sameJSON(t, "invite", findInvite(t, s, "tok-1"), inv)
	wantCode(t, s.CreateInvite(ctx, &parley.Invite{Token: "tok-1", ChatID: g.ID, CreatedBy: owner.ID, CreatedAt: t0}), parley.EConflict)
	_, err := s.FindInvite(ctx, "no-such-token")
	wantCode(t, err, parley.ENotFound)
	takeEvents(t, s)

	for i, u := range us {
		m := &parley.Member{ChatID: g.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: at(time.Minute)}
		must(t, s.UseInvite(ctx, "tok-1", m))
		if got := findInvite(t, s, "tok-1").Uses; got != int64(i+1) {
			t.Fatalf("Uses = %d, want %d", got, i+1)
		}
		got, err := s.FindMember(ctx, g.ID, u.ID)
		must(t, err)
		sameJSON(t, "member by invite", got, m)
		evs := takeEvents(t, s)
		if len(evs) != 1 {
			t.Fatalf("UseInvite wrote %d events, want 1", len(evs))
		}
		wantMembershipEvent(t, evs[0], parley.EventChatJoined, g.ID, u.ID)
	}
	if c := findChat(t, s, g.ID); c.MemberCount != 3 {
		t.Fatalf("MemberCount = %d, want 3", c.MemberCount)
	}

	// A member using the link again is refused and not counted.
	err = s.UseInvite(ctx, "tok-1", &parley.Member{ChatID: g.ID, UserID: us[0].ID, Role: parley.MemberRegular, JoinedAt: at(time.Minute)})
	wantCode(t, err, parley.EConflict)
	if got := findInvite(t, s, "tok-1").Uses; got != 2 {
		t.Fatalf("Uses after a refused use = %d, want 2", got)
	}
	stranger := newUser(t, s, "stranger")
	err = s.UseInvite(ctx, "no-such-token", &parley.Member{ChatID: g.ID, UserID: stranger.ID, Role: parley.MemberRegular, JoinedAt: t0})
	wantCode(t, err, parley.ENotFound)
}

func testInviteRevokedExpiredFull(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	us := users(t, s, "user", 3)
	g := newGroup(t, s, owner, "Group", 2)
	newInvite(t, s, g, owner, "revoked", nil)
	newInvite(t, s, g, owner, "expiring", ptr(at(time.Hour)))
	newInvite(t, s, g, owner, "open", nil)

	must(t, s.RevokeInvite(ctx, "revoked", at(time.Minute)))
	inv := findInvite(t, s, "revoked")
	if inv.RevokedAt == nil || inv.Usable(at(2*time.Minute)) {
		t.Fatalf("revoked invite = %+v", inv)
	}
	sameTime(t, "RevokedAt", *inv.RevokedAt, at(time.Minute))
	wantCode(t, s.RevokeInvite(ctx, "no-such-token", t0), parley.ENotFound)

	use := func(token string, u *parley.User, when time.Time) error {
		return s.UseInvite(ctx, token, &parley.Member{ChatID: g.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: when})
	}
	// A revoked or expired invite is refused inside the store too, so that
	// one revoked a moment after the service checked it is not used.
	wantCode(t, use("revoked", us[0], at(2*time.Minute)), parley.EConflict)
	wantCode(t, use("expiring", us[0], at(2*time.Hour)), parley.EConflict)
	for _, tok := range []string{"revoked", "expiring"} {
		if n := findInvite(t, s, tok).Uses; n != 0 {
			t.Fatalf("refused invite %s counted %d uses", tok, n)
		}
	}
	_, err := s.FindMember(ctx, g.ID, us[0].ID)
	wantCode(t, err, parley.ENotFound)

	// Before it expires it works; then the group is full.
	must(t, use("expiring", us[0], at(30*time.Minute)))
	wantCode(t, use("open", us[1], t0), parley.ETooLarge)
	if n := findInvite(t, s, "open").Uses; n != 0 {
		t.Fatalf("invite to a full group counted %d uses", n)
	}
	if c := findChat(t, s, g.ID); c.MemberCount != 2 {
		t.Fatalf("MemberCount = %d, want 2", c.MemberCount)
	}
}

func testInviteList(t *testing.T, s Store) {
	ctx := t.Context()
	owner := newUser(t, s, "owner")
	g := newGroup(t, s, owner, "Group", 10)
	other := newGroup(t, s, owner, "Other", 10)
	for i, tok := range []string{"first", "second", "third"} {
		inv := &parley.Invite{Token: tok, ChatID: g.ID, CreatedBy: owner.ID, CreatedAt: at(time.Duration(i) * time.Second)}
		if tok == "second" {
			inv.ExpiresAt = ptr(at(time.Hour))
		}
		must(t, s.CreateInvite(ctx, inv))
	}
	newInvite(t, s, other, owner, "elsewhere", nil)
	must(t, s.RevokeInvite(ctx, "third", at(time.Minute)))

	tokens := func(when time.Time) []string {
		invs, err := s.ListInvites(ctx, g.ID, when, 0)
		must(t, err)
		var out []string
		for _, inv := range invs {
			out = append(out, inv.Token)
		}
		return out
	}
	// Newest first; the revoked one and the other chat's are left out.
	if got := tokens(at(2 * time.Minute)); !slices.Equal(got, []string{"second", "first"}) {
		t.Fatalf("working invites = %v, want [second first]", got)
	}
	// Once "second" has expired only "first" works.
	if got := tokens(at(2 * time.Hour)); !slices.Equal(got, []string{"first"}) {
		t.Fatalf("working invites after expiry = %v, want [first]", got)
	}
}
