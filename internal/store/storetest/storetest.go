// Package storetest is the conformance suite that every storage adapter must
// pass. It exercises the account store, the messaging store, the hash
// banks, enforcement, the review queue, campaigns, the screening rules,
// re-screening and the outbox through their interfaces only, so the
// embedded SQLite adapter and the PostgreSQL adapter are held to exactly
// the same behaviour: the contracts
// written on the interfaces, the documented error codes, uniqueness rules,
// limits that must hold under concurrency, and the rule that every change
// others must hear about writes exactly one outbox event in its transaction.
//
// An adapter's test calls Run with a function that returns a fresh, empty
// store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return openTestDB(t) })
//	}
package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
	"parley/internal/audit"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/safety/banks"
	"parley/internal/safety/campaign"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
	"parley/internal/stream"
)

// Store is everything a storage adapter implements.
type Store interface {
	auth.Store
	audit.Store
	messaging.Store
	banks.Store
	stream.Outbox
	enforce.Store
	review.Store
	campaign.Store
	screen.RuleStore
	screen.RescanStore
}

// test is one conformance test, given a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s Store)
}

// Run runs the conformance suite. open must return a new, empty store each
// time it is called and arrange for it to be closed when t ends; the subtests
// run in parallel, each with a store of its own.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range tests() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func tests() []test {
	return []test{
		{"User/CreateAndFind", testUserCreateAndFind},
		{"User/UsernameUnique", testUserUsernameUnique},
		{"User/NotFound", testUserNotFound},
		{"User/UpdateProfile", testUserUpdateProfile},
		{"User/SetPasswordHash", testUserSetPasswordHash},
		{"User/SetUserRole", testUserSetRole},
		{"User/ListUsers", testUserList},
		{"User/SearchUsers", testUserSearch},
		{"Audit/Chain", testAuditChain},
		{"Audit/Checkpoints", testAuditCheckpoints},
		{"Audit/Incremental", testAuditIncremental},

		{"Session/CreateAndFind", testSessionCreateAndFind},
		{"Session/FindWithUser", testSessionFindWithUser},
		{"Session/Revoke", testSessionRevoke},
		{"Session/RevokeUserSessions", testSessionRevokeUser},
		{"Session/DeleteExpired", testSessionDeleteExpired},

		{"Chat/CreateGroup", testChatCreateGroup},
		{"Chat/CreateDirect", testChatCreateDirect},
		{"Chat/CreateSecret", testChatCreateSecret},
		{"Chat/ChannelHandle", testChatChannelHandle},
		{"Chat/NotFound", testChatNotFound},
		{"Chat/SearchChannels", testChatSearchChannels},
		{"Chat/ListChatsForUser", testChatListForUser},

		{"Member/AddAndRemove", testMemberAddRemove},
		{"Member/FindChatWithMember", testMemberFindChatWithMember},
		{"Member/Limit", testMemberLimit},
		{"Member/LimitConcurrent", testMemberLimitConcurrent},
		{"Member/RoleAndList", testMemberRoleAndList},

		{"Invite/CreateFindUse", testInviteCreateFindUse},
		{"Invite/RevokedExpiredFull", testInviteRevokedExpiredFull},
		{"Invite/List", testInviteList},

		{"Message/InsertAndFind", testMessageInsertAndFind},
		{"Message/InsertUnknownChat", testMessageInsertUnknownChat},
		{"Message/InsertChecksSender", testMessageInsertChecksSender},
		{"Message/SeqContiguousConcurrent", testMessageSeqConcurrent},
		{"Message/FailureInBatchIsolated", testMessageBatchFailureIsolated},
		{"Message/EditAndDelete", testMessageEditDelete},
		{"Message/ListUpdates", testMessageListUpdates},
		{"Message/ListMessages", testMessageList},
		{"Message/RecordViews", testMessageRecordViews},

		{"Media/SaveAndFind", testMedia},
		{"Media/FindByHash", testMediaByHash},
		{"Media/Carriers", testMediaCarriers},
		{"Media/ViewAudit", testMediaViewAudit},

		{"Enforce/RemoveAndRestoreMessage", testEnforceRemoveAndRestoreMessage},
		{"Enforce/ApplyActionsIsolated", testEnforceApplyActionsIsolated},
		{"Enforce/FailureLeavesNothing", testEnforceFailureLeavesNothing},
		{"Enforce/WithholdTwiceRestoreOne", testEnforceWithholdTwiceRestoreOne},
		{"Enforce/RemoveMediaEveryCopy", testEnforceRemoveMediaEveryCopy},
		{"Enforce/BlockUpload", testEnforceBlockUpload},
		{"Enforce/BanChat", testEnforceBanChat},
		{"Enforce/SuspendAccount", testEnforceSuspendAccount},
		{"Enforce/EvidenceAndHolds", testEnforceEvidenceAndHolds},
		{"Enforce/StatementRange", testEnforceStatementRange},
		{"Enforce/SettlesReviewCases", testEnforceSettlesReviewCases},

		{"Bank/CreateAndFind", testBankCreateAndFind},
		{"Bank/Update", testBankUpdate},
		{"Bank/AddEntries", testBankAddEntries},
		{"Bank/AddAllOrNothing", testBankAddAllOrNothing},
		{"Bank/DuplicatesChangeNothing", testBankDuplicatesChangeNothing},
		{"Bank/RemoveEntry", testBankRemoveEntry},
		{"Bank/ListEntriesPaging", testBankListEntriesPaging},
		{"Bank/ChangeLog", testBankChangeLog},
		{"Bank/ConcurrentAdds", testBankConcurrentAdds},
		{"Bank/LargeAdd", testBankLargeAdd},
		{"Bank/ImportInvisibleUntilPublished", testBankImportInvisibleUntilPublished},
		{"Bank/ImportChangePaging", testBankImportChangePaging},
		{"Bank/ImportAbort", testBankImportAbort},
		{"Bank/ImportAndSingleAdds", testBankImportAndSingleAdds},
		{"Bank/ImportBeginErrors", testBankImportBeginErrors},

		{"Review/OpenAndFind", testReviewOpenAndFind},
		{"Review/QueueOrder", testReviewQueueOrder},
		{"Review/CloseCase", testReviewCloseCase},
		{"Review/CloseConcurrent", testReviewCloseConcurrent},
		{"Review/ApproveHeld", testReviewApproveHeld},
		{"Review/ApproveRace", testReviewApproveRace},
		{"Review/HeldInsertChecks", testReviewHeldInsertChecks},
		{"Review/ScreeningMatches", testReviewScreeningMatches},

		{"Campaign/RecordAndFind", testCampaignRecordAndFind},
		{"Campaign/RecordIdempotent", testCampaignRecordIdempotent},
		{"Campaign/RecordConcurrent", testCampaignRecordConcurrent},
		{"Campaign/Absorb", testCampaignAbsorb},
		{"Campaign/List", testCampaignList},
		{"Campaign/Decide", testCampaignDecide},
		{"Campaign/MembersRemoved", testCampaignMembersRemoved},
		{"Campaign/PostsSince", testCampaignPostsSince},

		{"Rule/CreateAndFind", testRuleCreateAndFind},
		{"Rule/CreateConcurrent", testRuleCreateConcurrent},
		{"Rule/AddVersion", testRuleAddVersion},
		{"Rule/SetEnabled", testRuleSetEnabled},
		{"Rule/List", testRuleList},
		{"Rule/ScanMessages", testRuleScanMessages},

		{"Rescan/Cursor", testRescanCursor},
		{"Rescan/Runs", testRescanRuns},
		{"Rescan/MediaHashes", testRescanMediaHashes},
		{"Rescan/MediaByMD5", testRescanMediaByMD5},

		{"Outbox/PendingDeleteCount", testOutbox},
		{"Outbox/IDsNeverReused", testOutboxIDsNeverReused},
	}
}

// t0 is the base of every time the suite passes in. It is whole seconds, so
// that it survives any adapter's time precision.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// --- helpers ---

// wantCode fails the test unless err carries the error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// must fails the test on a non-nil error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sameJSON fails the test unless got and want encode to the same JSON. It
// compares the way a client would see the values, which also makes times
// compare by instant and location-independent.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	must(t, err)
	w, err := json.Marshal(want)
	must(t, err)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// sameTime fails the test unless got is the instant want.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func newUser(t *testing.T, s Store, username string) *parley.User {
	t.Helper()
	u := &parley.User{
		Username:     username,
		DisplayName:  "Display " + username,
		Country:      "DE",
		Role:         parley.RoleMember,
		CreatedAt:    t0,
		PasswordHash: "hash-" + username,
	}
	must(t, s.CreateUser(t.Context(), u))
	return u
}

// users creates n accounts named prefix0, prefix1, ...
func users(t *testing.T, s Store, prefix string, n int) []*parley.User {
	t.Helper()
	us := make([]*parley.User, n)
	for i := range us {
		us[i] = newUser(t, s, fmt.Sprintf("%s%d", prefix, i))
	}
	return us
}

func newGroup(t *testing.T, s Store, owner *parley.User, title string, limit int64) *parley.Chat {
	t.Helper()
	c := &parley.Chat{Kind: parley.ChatGroup, Title: title, OwnerID: owner.ID, MemberLimit: limit, CreatedAt: t0}
	must(t, s.CreateChat(t.Context(), c, 0))
	return c
}

func newChannel(t *testing.T, s Store, owner *parley.User, handle, title string) *parley.Chat {
	t.Helper()
	c := &parley.Chat{Kind: parley.ChatChannel, Handle: handle, Title: title, OwnerID: owner.ID, CreatedAt: t0}
	must(t, s.CreateChat(t.Context(), c, 0))
	return c
}

func join(t *testing.T, s Store, chat *parley.Chat, u *parley.User, role parley.MemberRole) {
	t.Helper()
	must(t, s.AddMember(t.Context(), &parley.Member{ChatID: chat.ID, UserID: u.ID, Role: role, JoinedAt: t0}))
}

func post(t *testing.T, s Store, chat *parley.Chat, from *parley.User, text string, when time.Time) *parley.Update {
	t.Helper()
	u, err := s.InsertMessage(t.Context(), &parley.Message{ChatID: chat.ID, SenderID: from.ID, Text: text, CreatedAt: when})
	must(t, err)
	return u
}

func findChat(t *testing.T, s Store, id int64) *parley.Chat {
	t.Helper()
	c, err := s.FindChatByID(t.Context(), id)
	must(t, err)
	return c
}

// takeEvents returns every pending event, in id order, and deletes them, so
// the next call returns only the events written after this one.
func takeEvents(t *testing.T, s Store) []parley.Event {
	t.Helper()
	var all []parley.Event
	for {
		evs, err := s.PendingEvents(t.Context(), 100)
		must(t, err)
		if len(evs) == 0 {
			return all
		}
		ids := make([]int64, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		must(t, s.DeleteEvents(t.Context(), ids))
		all = append(all, evs...)
	}
}

// wantMembershipEvent fails unless e is a chat.joined or chat.left event of
// userID and chatID on the user's subject.
func wantMembershipEvent(t *testing.T, e parley.Event, kind string, chatID, userID int64) {
	t.Helper()
	if e.Subject != parley.UserSubject(userID) || e.Kind != kind {
		t.Fatalf("event = %s %s, want %s %s", e.Subject, e.Kind, parley.UserSubject(userID), kind)
	}
	var p parley.MembershipEvent
	must(t, json.Unmarshal(e.Payload, &p))
	if p != (parley.MembershipEvent{UserID: userID, ChatID: chatID}) {
		t.Fatalf("event payload = %+v, want user %d chat %d", p, userID, chatID)
	}
}

// wantUpdateEvent fails unless e is the outbox event of update u.
func wantUpdateEvent(t *testing.T, e parley.Event, u *parley.Update) {
	t.Helper()
	if e.Subject != parley.ChatSubject(u.ChatID) || e.Kind != u.Kind {
		t.Fatalf("event = %s %s, want %s %s", e.Subject, e.Kind, parley.ChatSubject(u.ChatID), u.Kind)
	}
	var got parley.Update
	must(t, json.Unmarshal(e.Payload, &got))
	sameJSON(t, "event payload", got, u)
}

// --- users ---

func testUserCreateAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	u := &parley.User{
		Username:     "Alice",
		DisplayName:  "Alice Liddell",
		Country:      "GB",
		Role:         parley.RoleModerator,
		CreatedAt:    t0,
		PublicKey:    `{"kty":"EC"}`,
		PasswordHash: "argon2id$hash",
	}
	must(t, s.CreateUser(ctx, u))
	if u.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	sameTime(t, "CreatedAt", u.CreatedAt, t0)

	got, err := s.FindUserByID(ctx, u.ID)
	must(t, err)
	sameJSON(t, "FindUserByID", got, u)
	if got.PasswordHash != u.PasswordHash {
		t.Fatalf("PasswordHash = %q, want %q", got.PasswordHash, u.PasswordHash)
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, err := s.FindUserByUsername(ctx, name)
		must(t, err)
		if got.ID != u.ID || got.Username != "Alice" {
			t.Fatalf("FindUserByUsername(%q) = %d %q, want %d Alice", name, got.ID, got.Username, u.ID)
		}
	}

	// A zero CreatedAt is filled with the current time.
	before := time.Now().Add(-time.Minute)
	v := &parley.User{Username: "bob", Role: parley.RoleMember}
	must(t, s.CreateUser(ctx, v))
	if v.ID == 0 || v.ID == u.ID {
		t.Fatalf("second user ID = %d", v.ID)
	}
	if v.CreatedAt.Before(before) || v.CreatedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("CreatedAt = %v, want about now", v.CreatedAt)
	}
}

func testUserUsernameUnique(t *testing.T, s Store) {
	ctx := t.Context()
	newUser(t, s, "Bob")
	for _, name := range []string{"Bob", "bob", "BOB"} {
		err := s.CreateUser(ctx, &parley.User{Username: name, Role: parley.RoleMember, CreatedAt: t0})
		wantCode(t, err, parley.EConflict)
	}
	newUser(t, s, "bobby") // a different name is fine
}

func testUserNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "carol")
	_, err := s.FindUserByID(ctx, u.ID+1000)
	wantCode(t, err, parley.ENotFound)
	_, err = s.FindUserByUsername(ctx, "nobody")
	wantCode(t, err, parley.ENotFound)
	wantCode(t, s.SetUserRole(ctx, u.ID, u.ID+1000, parley.RoleAdmin, t0), parley.ENotFound)
	wantCode(t, s.SetPasswordHash(ctx, u.ID+1000, "x"), parley.ENotFound)
}

func testUserUpdateProfile(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "dave")
	other := newUser(t, s, "erin")
	change := *u
	change.DisplayName, change.Country, change.PublicKey = "David", "FR", `{"kty":"EC","x":"1"}`
	change.Username, change.Role, change.PasswordHash = "hacker", parley.RoleAdmin, "stolen" // must not be saved
	must(t, s.UpdateProfile(ctx, &change))

	got, err := s.FindUserByID(ctx, u.ID)
	must(t, err)
	want := *u
	want.DisplayName, want.Country, want.PublicKey = "David", "FR", `{"kty":"EC","x":"1"}`
	sameJSON(t, "after UpdateProfile", got, want)
	if got.PasswordHash != u.PasswordHash {
		t.Fatal("UpdateProfile changed the password hash")
	}
	o, err := s.FindUserByID(ctx, other.ID)
	must(t, err)
	sameJSON(t, "other user", o, other)
}

func testUserSetPasswordHash(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "frank")
	must(t, s.SetPasswordHash(ctx, u.ID, "new-hash"))
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, err)
	if got.PasswordHash != "new-hash" {
		t.Fatalf("PasswordHash = %q, want new-hash", got.PasswordHash)
	}
}

func testUserSetRole(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "grace")
	admin := newUser(t, s, "heidi")
	must(t, s.SetUserRole(ctx, admin.ID, u.ID, parley.RoleLegalOfficer, t0))
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, err)
	if got.Role != parley.RoleLegalOfficer {
		t.Fatalf("Role = %q, want %q", got.Role, parley.RoleLegalOfficer)
	}
	// The change is in the audit log, by the admin, with both roles.
	entries, err := s.ListAuditEntries(ctx, 0, 10)
	must(t, err)
	if len(entries) != 1 {
		t.Fatalf("audit log has %d entries, want 1", len(entries))
	}
	e := entries[0]
	if e.ID != 1 || e.ActorID != admin.ID || e.Action != parley.AuditUserRoleChanged || e.TargetType != "user" ||
		e.TargetID != fmt.Sprint(u.ID) || e.Details != `{"from":"member","to":"legal_officer"}` || !e.At.Equal(t0) {
		t.Fatalf("audit entry = %+v", e)
	}
}

// testAuditChain appends entries and checks they form an intact chain that
// audit.Verify accepts, each linked to the one before.
func testAuditChain(t *testing.T, s Store) {
	ctx := t.Context()
	for i := range 5 {
		e := &parley.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), ActorID: 7, Action: "test.act",
			TargetType: "chat", TargetID: fmt.Sprint(i), Details: `{"n":1}`}
		must(t, s.AppendAudit(ctx, e))
		if e.ID != int64(i+1) || len(e.Hash) != 32 {
			t.Fatalf("entry %d: id %d, hash %x", i, e.ID, e.Hash)
		}
	}
	entries, err := s.ListAuditEntries(ctx, 2, 2)
	must(t, err)
	if len(entries) != 2 || entries[0].ID != 3 || entries[1].ID != 4 {
		t.Fatalf("page after 2: %+v", entries)
	}
	r, err := audit.Verify(ctx, s.ListAuditEntries)
	must(t, err)
	if !r.Intact || r.Entries != 5 {
		t.Fatalf("report %+v, want intact with 5 entries", r)
	}
}

func testUserList(t *testing.T, s Store) {
	ctx := t.Context()
	us := users(t, s, "user", 5)
	page, err := s.ListUsers(ctx, 0, 2)
	must(t, err)
	if len(page) != 2 || page[0].ID != us[0].ID || page[1].ID != us[1].ID {
		t.Fatalf("first page = %v, want users %d and %d", ids(page), us[0].ID, us[1].ID)
	}
	page, err = s.ListUsers(ctx, us[1].ID, 10)
	must(t, err)
	if want := []int64{us[2].ID, us[3].ID, us[4].ID}; !slices.Equal(ids(page), want) {
		t.Fatalf("second page = %v, want %v", ids(page), want)
	}
	sameJSON(t, "listed user", page[0], us[2])
	page, err = s.ListUsers(ctx, us[4].ID, 10)
	must(t, err)
	if len(page) != 0 {
		t.Fatalf("page after the last user = %v, want none", ids(page))
	}
}

func ids(us []*parley.User) []int64 {
	var out []int64
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

// --- sessions ---

func newSession(t *testing.T, s Store, u *parley.User, token string, expires time.Time) *parley.Session {
	t.Helper()
	ss := &parley.Session{TokenHash: []byte(token), UserID: u.ID, Kind: "web", CreatedAt: t0, ExpiresAt: expires}
	must(t, s.CreateSession(t.Context(), ss))
	if ss.ID == 0 {
		t.Fatal("CreateSession did not set ID")
	}
	return ss
}

func findSession(t *testing.T, s Store, token string) *parley.Session {
	t.Helper()
	ss, err := s.FindSessionByTokenHash(t.Context(), []byte(token))
	must(t, err)
	return ss
}

func testSessionCreateAndFind(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "heidi")
	ss := newSession(t, s, u, "token-1", at(time.Hour))
	api := &parley.Session{TokenHash: []byte("token-2"), UserID: u.ID, Kind: "api", CreatedAt: t0, ExpiresAt: at(-time.Hour)}
	must(t, s.CreateSession(ctx, api))
	if api.ID == ss.ID {
		t.Fatal("two sessions have the same ID")
	}

	got := findSession(t, s, "token-1")
	sameJSON(t, "session", got, ss)
	if string(got.TokenHash) != "token-1" {
		t.Fatalf("TokenHash = %q", got.TokenHash)
	}
	if !got.Active(t0) {
		t.Fatal("new session is not active")
	}
	// An expired session is still found; the caller checks Active.
	got = findSession(t, s, "token-2")
	if got.Kind != "api" || got.Active(t0) {
		t.Fatalf("expired session = %+v", got)
	}
	_, err := s.FindSessionByTokenHash(ctx, []byte("no-such-token"))
	wantCode(t, err, parley.ENotFound)
}

func testSessionFindWithUser(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "hannah")
	other := newUser(t, s, "otto")
	ss := newSession(t, s, u, "token-1", at(time.Hour))
	newSession(t, s, other, "token-2", at(time.Hour))
	must(t, s.RevokeSession(ctx, ss.ID, at(time.Minute)))

	gotSess, gotUser, err := s.FindSessionWithUser(ctx, []byte("token-1"))
	must(t, err)
	want, err := s.FindUserByID(ctx, u.ID)
	must(t, err)
	sameJSON(t, "user", gotUser, want)
	if gotUser.PasswordHash != want.PasswordHash || gotSess.ID != ss.ID || gotSess.UserID != u.ID {
		t.Fatalf("FindSessionWithUser = %+v, %+v; want session %d of %s", gotSess, gotUser, ss.ID, u.Username)
	}
	// A revoked session is still found, with its revocation; the caller checks Active.
	if gotSess.RevokedAt == nil || gotSess.Active(at(2*time.Minute)) {
		t.Fatalf("revoked session = %+v", gotSess)
	}
	if _, u2, err := s.FindSessionWithUser(ctx, []byte("token-2")); err != nil || u2.ID != other.ID {
		t.Fatalf("second session's user = %+v, %v; want %s", u2, err, other.Username)
	}
	_, _, err = s.FindSessionWithUser(ctx, []byte("no-such-token"))
	wantCode(t, err, parley.ENotFound)
}

func testSessionRevoke(t *testing.T, s Store) {
	u := newUser(t, s, "ivan")
	ss := newSession(t, s, u, "token-1", at(time.Hour))
	other := newSession(t, s, u, "token-2", at(time.Hour))
	must(t, s.RevokeSession(t.Context(), ss.ID, at(time.Minute)))

	got := findSession(t, s, "token-1")
	if got.RevokedAt == nil {
		t.Fatal("RevokedAt not set")
	}
	sameTime(t, "RevokedAt", *got.RevokedAt, at(time.Minute))
	if got.Active(at(2 * time.Minute)) {
		t.Fatal("revoked session is active")
	}
	if findSession(t, s, "token-2").RevokedAt != nil {
		t.Fatalf("session %d was revoked with session %d", other.ID, ss.ID)
	}
}

func testSessionRevokeUser(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "judy")
	v := newUser(t, s, "karl")
	newSession(t, s, u, "u-1", at(time.Hour))
	newSession(t, s, u, "u-2", at(time.Hour))
	early := newSession(t, s, u, "u-3", at(time.Hour))
	newSession(t, s, v, "v-1", at(time.Hour))
	must(t, s.RevokeSession(ctx, early.ID, at(time.Minute)))

	must(t, s.RevokeUserSessions(ctx, u.ID, at(2*time.Minute)))
	for _, tok := range []string{"u-1", "u-2"} {
		got := findSession(t, s, tok)
		if got.RevokedAt == nil {
			t.Fatalf("session %s not revoked", tok)
		}
		sameTime(t, "RevokedAt", *got.RevokedAt, at(2*time.Minute))
	}
	// A session revoked before keeps its revocation time.
	sameTime(t, "earlier RevokedAt", *findSession(t, s, "u-3").RevokedAt, at(time.Minute))
	if findSession(t, s, "v-1").RevokedAt != nil {
		t.Fatal("another user's session was revoked")
	}
}

func testSessionDeleteExpired(t *testing.T, s Store) {
	ctx := t.Context()
	u := newUser(t, s, "lena")
	newSession(t, s, u, "old-1", at(-2*time.Hour))
	newSession(t, s, u, "old-2", at(-time.Hour))
	newSession(t, s, u, "old-3", at(-time.Minute))
	newSession(t, s, u, "fresh", at(time.Hour))
	// At most limit at a time: the caller pages through a large backlog.
	n, err := s.DeleteExpiredSessions(ctx, t0, 2)
	must(t, err)
	if n != 2 {
		t.Fatalf("deleted %d sessions with a limit of 2, want 2", n)
	}
	n, err = s.DeleteExpiredSessions(ctx, t0, 2)
	must(t, err)
	if n != 1 {
		t.Fatalf("the second page deleted %d sessions, want the 1 left", n)
	}
	for _, tok := range []string{"old-1", "old-2", "old-3"} {
		_, err := s.FindSessionByTokenHash(ctx, []byte(tok))
		wantCode(t, err, parley.ENotFound)
	}
	findSession(t, s, "fresh")
	n, err = s.DeleteExpiredSessions(ctx, t0, 2)
	must(t, err)
	if n != 0 {
		t.Fatalf("a call with nothing expired deleted %d sessions, want 0", n)
	}
}
