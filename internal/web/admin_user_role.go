package web

import (
	"fmt"
	"net/http"

	"parley"
	"parley/internal/api"
)

// adminUserRole changes an account's platform role from its page. The
// service checks that the actor is an admin, refuses an admin's demoting
// themselves, and writes the change to the audit log with the role.
func (s *Server) adminUserRole(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := formFrom(r, "role")
	role := parley.Role(f.Get("role"))
	if err := s.Auth.SetRole(r.Context(), u, id, role); err != nil {
		if parley.ErrorField(err) != "role" {
			return err // not allowed, or no such account: the error page
		}
		p, lerr := s.loadAdminUserPage(r.Context(), u, id)
		if lerr != nil {
			return lerr
		}
		p.Role = f
		p.Role.fail(err, nil)
		s.render(w, r, api.StatusOf(err), "admin_user_show", p)
		return nil
	}
	account, err := s.Auth.UserForAdmin(r.Context(), u, id)
	if err != nil {
		return err
	}
	setFlash(w, fmt.Sprintf("@%s is now %s.", account.Username, labelOr(roleLabels, account.Role)))
	return seeOther(w, r, fmt.Sprintf("/admin/users/%d", id))
}
