package auth

import (
	"context"
	"strings"
	"unicode/utf8"

	"parley"
)

// MaxUserQuery bounds the text of a search for accounts.
const MaxUserQuery = 64

// requireAdmin returns nil if actor is an admin: finding accounts and
// changing their roles is for admins only, from the API and the web pages
// alike.
func requireAdmin(actor *parley.User, what string) error {
	if actor == nil || actor.Role != parley.RoleAdmin {
		return parley.Errorf(parley.EForbidden, "only an admin may %s", what)
	}
	return nil
}

// FindUsers lists accounts for an admin, by id after afterID, at most limit
// (1 to 1000): every account when query is empty, otherwise those whose
// username or display name contains it in any letter case, or whose id it
// is. A leading @ is dropped, as people write usernames with it.
func (s *Service) FindUsers(ctx context.Context, actor *parley.User, query string, afterID int64, limit int) ([]*parley.User, error) {
	if err := requireAdmin(actor, "look accounts up"); err != nil {
		return nil, err
	}
	query = strings.TrimPrefix(strings.TrimSpace(query), "@")
	if !utf8.ValidString(query) || utf8.RuneCountInString(query) > MaxUserQuery {
		return nil, parley.FieldError("q", "search text must be at most %d characters", MaxUserQuery)
	}
	if limit < 1 || limit > 1000 {
		return nil, parley.FieldError("limit", "limit must be between 1 and 1000")
	}
	if afterID < 0 {
		return nil, parley.FieldError("after", "after must be an account id")
	}
	if query == "" {
		return s.Store.ListUsers(ctx, afterID, limit)
	}
	return s.Store.SearchUsers(ctx, query, afterID, limit)
}

// UserForAdmin returns an account with everything an admin sees of it:
// role, status, strikes and moderation.
func (s *Service) UserForAdmin(ctx context.Context, actor *parley.User, id int64) (*parley.User, error) {
	if err := requireAdmin(actor, "look accounts up"); err != nil {
		return nil, err
	}
	return s.Store.FindUserByID(ctx, id)
}
