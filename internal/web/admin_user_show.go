package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"parley"
	"parley/internal/safety/enforce"
)

// adminUserPage is the data of an admin's page about one account.
type adminUserPage struct {
	page
	Account     *parley.User
	RoleLabel   string
	StatusLabel string
	// Statements are the newest actions that affect the account, each
	// with its statement of reasons.
	Statements []actionRow
	Role       *form
}

// recentStatements is how many of an account's statements its page lists.
const recentStatements = 10

// roleLabels name the platform roles.
var roleLabels = map[parley.Role]string{
	parley.RoleMember:       "Member",
	parley.RoleModerator:    "Moderator",
	parley.RoleLegalOfficer: "Legal officer",
	parley.RoleAdmin:        "Admin",
}

// roleChoices are the roles an admin may give, for the role form.
var roleChoices = func() []option {
	var opts []option
	for _, r := range []parley.Role{parley.RoleMember, parley.RoleModerator, parley.RoleLegalOfficer, parley.RoleAdmin} {
		opts = append(opts, option{string(r), roleLabels[r]})
	}
	return opts
}()

// RoleChoices lists the roles for the form.
func (p *adminUserPage) RoleChoices() []option { return roleChoices }

// accountStatus says whether an account may be used at time now, and if
// not, why and until when.
func accountStatus(u *parley.User, now time.Time) string {
	switch {
	case u.Status == parley.AccountTerminated:
		return "Terminated"
	case u.Status == parley.AccountSuspended && !u.Usable(now):
		if u.SuspendedUntil != nil {
			return "Suspended until " + u.SuspendedUntil.UTC().Format("2 January 2006 15:04 MST")
		}
		return "Suspended"
	}
	return "Active"
}

// adminUserShow shows an admin one account: its role, status and strikes,
// the newest statements of reasons about it, and a form to change its
// role.
func (s *Server) adminUserShow(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.loadAdminUserPage(r.Context(), u, id)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_user_show", p)
	return nil
}

// loadAdminUserPage gathers an account's page, with its role form filled
// in with the account's role.
func (s *Server) loadAdminUserPage(ctx context.Context, u *parley.User, id int64) (*adminUserPage, error) {
	account, err := s.Auth.UserForAdmin(ctx, u, id)
	if err != nil {
		return nil, err
	}
	list, err := s.Enforce.List(ctx, u, enforce.Filter{AffectedUserID: account.ID, Limit: recentStatements})
	if err != nil {
		return nil, err
	}
	p := &adminUserPage{page: modPage(fmt.Sprintf("Account @%s", account.Username), "users"), Account: account,
		RoleLabel: labelOr(roleLabels, account.Role), StatusLabel: accountStatus(account, s.Auth.Clock.Now()), Role: newForm()}
	p.Role.Values["role"] = string(account.Role)
	n := s.names(ctx)
	for _, a := range list {
		p.Statements = append(p.Statements, n.actionRow(a))
	}
	return p, nil
}
