package api

import (
	"net/http"
	"strconv"
	"time"

	"parley"
	"parley/internal/auth"
)

// sessionResponse is the answer to sign-up and sign-in.
type sessionResponse struct {
	User      *parley.User `json:"user"`
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expires_at"`
}

// LimitSignIn applies the per-address limit on sign-in and sign-up
// attempts (the API's and the web forms'); a refusal says when to retry.
func (s *Server) LimitSignIn(r *http.Request) error {
	if s.SignInLimiter == nil {
		return nil
	}
	if ok, wait := s.SignInLimiter.Allow(ClientIP(r)); !ok {
		return parley.RateLimited(wait, "too many attempts")
	}
	return nil
}

func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) error {
	if err := s.LimitSignIn(r); err != nil {
		return err
	}
	var in auth.SignUpInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, token, sess, err := s.Auth.SignUp(r.Context(), in, "api")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sessionResponse{User: u, Token: token, ExpiresAt: sess.ExpiresAt})
	return nil
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	if err := s.LimitSignIn(r); err != nil {
		return err
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, token, sess, err := s.Auth.SignIn(r.Context(), in.Username, in.Password, "api")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionResponse{User: u, Token: token, ExpiresAt: sess.ExpiresAt})
	return nil
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.SignOut(r.Context(), CurrentSession(r.Context())); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, CurrentUser(r.Context()))
	return nil
}

func (s *Server) handleUpdateMe(w http.ResponseWriter, r *http.Request) error {
	var in auth.ProfileInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.Auth.UpdateProfile(r.Context(), CurrentUser(r.Context()), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// publicUser is what one account may see of another.
type publicUser struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	PublicKey   string `json:"public_key,omitempty"`
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.Auth.Store.FindUserByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, publicUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, PublicKey: u.PublicKey})
	return nil
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := queryAdminPage(r)
	if err != nil {
		return err
	}
	users, err := s.Auth.FindUsers(r.Context(), CurrentUser(r.Context()), r.URL.Query().Get("q"), after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
	return nil
}

func (s *Server) handleSetRole(w http.ResponseWriter, r *http.Request) error {
	userID, err := pathInt(r, "userID")
	if err != nil {
		return err
	}
	var in struct {
		Role parley.Role `json:"role"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Auth.SetRole(r.Context(), CurrentUser(r.Context()), userID, in.Role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pathInt parses a positive integer path parameter.
func pathInt(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, parley.FieldError(name, "%s must be a positive whole number", name)
	}
	return v, nil
}

// queryPage parses a page request: a cursor parameter (such as before,
// after or after_pts) and limit, both optional whole numbers.
func queryPage(r *http.Request, cursor string, defaultLimit int64) (int64, int64, error) {
	c, err := queryInt(r, cursor, 0)
	if err != nil {
		return 0, 0, err
	}
	limit, err := queryInt(r, "limit", defaultLimit)
	return c, limit, err
}

// queryAdminPage is queryPage for the admin lists, which take 1 to 1000.
func queryAdminPage(r *http.Request) (int64, int, error) {
	after, limit, err := queryPage(r, "after", 100)
	if err != nil {
		return 0, 0, err
	}
	if limit < 1 || limit > 1000 {
		return 0, 0, parley.FieldError("limit", "limit must be between 1 and 1000")
	}
	return after, int(limit), nil
}

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, parley.FieldError(name, "%s must be a non-negative whole number", name)
	}
	return v, nil
}
