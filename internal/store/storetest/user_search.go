package storetest

import (
	"slices"
	"strconv"
	"testing"

	"parley"
)

// testUserSearch checks SearchUsers: a part of the username or of the
// display name in any letter case, the id itself, paging by id, and a query
// that is matched literally (no wildcards).
func testUserSearch(t *testing.T, s Store) {
	ctx := t.Context()
	mk := func(username, display string) *parley.User {
		u := &parley.User{Username: username, DisplayName: display, Role: parley.RoleMember, CreatedAt: t0}
		must(t, s.CreateUser(ctx, u))
		return u
	}
	ada := mk("ada_l", "Ada Lovelace")
	grace := mk("ghopper", "Grace Hopper")
	alan := mk("alan", "Alan T.")
	pct := mk("percent", "100% sure")
	rtl := mk("shalom", "שלום עליכם")

	for _, c := range []struct {
		query string
		want  []*parley.User
	}{
		{"ada", []*parley.User{ada}},
		{"ADA_", []*parley.User{ada}},
		{"hopper", []*parley.User{grace}},
		{"LOVE", []*parley.User{ada}},
		{"a", []*parley.User{ada, grace, alan, rtl}},
		{"%", []*parley.User{pct}},
		{"_", []*parley.User{ada}},
		{"עליכם", []*parley.User{rtl}},
		{"nobody", nil},
	} {
		got, err := s.SearchUsers(ctx, c.query, 0, 100)
		must(t, err)
		if want := ids(c.want); !slices.Equal(ids(got), want) {
			t.Errorf("SearchUsers(%q) = %v, want %v", c.query, ids(got), want)
		}
	}
	got, err := s.SearchUsers(ctx, strconv.FormatInt(grace.ID, 10), 0, 100)
	must(t, err)
	if len(got) == 0 || got[0].ID != grace.ID {
		t.Errorf("SearchUsers(%d) = %v, want user %d first", grace.ID, ids(got), grace.ID)
	}
	page, err := s.SearchUsers(ctx, "a", 0, 2)
	must(t, err)
	if want := []int64{ada.ID, grace.ID}; !slices.Equal(ids(page), want) {
		t.Fatalf("first page = %v, want %v", ids(page), want)
	}
	page, err = s.SearchUsers(ctx, "a", grace.ID, 2)
	must(t, err)
	if want := []int64{alan.ID, rtl.ID}; !slices.Equal(ids(page), want) {
		t.Fatalf("second page = %v, want %v", ids(page), want)
	}
	sameJSON(t, "found user", page[0], alan)
}
