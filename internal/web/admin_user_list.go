package web

import (
	"net/http"
	"strings"

	"parley"
)

// adminUserListPage is the data of the admins' list of accounts.
type adminUserListPage struct {
	page
	Search *form
	Query  string
	Users  []adminUserRow
	// Next is the "after" of the next page (0 when there is none); Paged is
	// set on any page but the first.
	Next  int64
	Paged bool
}

// adminUserRow is one account in the list.
type adminUserRow struct {
	*parley.User
	RoleLabel, StatusLabel string
}

// adminUserList lists accounts for admins, by id: every account, or those
// whose username or display name contains ?q= in any letter case (or whose
// id it is), a page at a time (?after=ID). auth.Service.FindUsers checks
// the role again.
func (s *Server) adminUserList(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	after, err := queryID(r, "after")
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := &adminUserListPage{page: modPage("Accounts", "users"), Search: newForm(), Query: q, Paged: after > 0}
	p.Search.Values["q"] = q
	found, err := s.Auth.FindUsers(r.Context(), u, q, after, modPageSize)
	if parley.ErrorField(err) == "q" {
		p.Search.fail(err, nil)
		s.render(w, r, http.StatusBadRequest, "admin_user_list", p)
		return nil
	} else if err != nil {
		return err
	}
	now := s.Auth.Clock.Now()
	for _, f := range found {
		p.Users = append(p.Users, adminUserRow{User: f, RoleLabel: labelOr(roleLabels, f.Role), StatusLabel: accountStatus(f, now)})
	}
	if len(found) == modPageSize {
		p.Next = found[len(found)-1].ID
	}
	s.render(w, r, http.StatusOK, "admin_user_list", p)
	return nil
}
