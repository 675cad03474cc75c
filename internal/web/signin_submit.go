package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
)

// signInSubmit checks the username and password, sets the session cookie and
// returns the user to the page they first asked for.
func (s *Server) signInSubmit(w http.ResponseWriter, r *http.Request) error {
	f := formFrom(r, "username", "password")
	password := f.Get("password")
	f.Values["password"] = ""
	next := safeNext(r.PostFormValue("next"), "/chats")
	err := s.limitSignIn(r)
	var token string
	var sess *parley.Session
	if err == nil {
		_, token, sess, err = s.Auth.SignIn(r.Context(), f.Get("username"), password, "web")
	}
	if err != nil {
		if parley.ErrorCode(err) != parley.EUnauthorized && !formError(err) {
			return err
		}
		// A wrong username and a wrong password get the same message, so the
		// form does not reveal which accounts exist.
		f.Error = parley.ErrorMessage(err)
		api.SetRetryAfter(w, err)
		s.render(w, r, api.StatusOf(err), "signin", &signInPage{page: page{Title: "Sign in"}, Form: f, Next: next})
		return nil
	}
	s.API.SetSessionCookie(w, token, sess.ExpiresAt)
	return seeOther(w, r, next)
}

// limitSignIn applies the API's per-address limit on sign-in and sign-up
// attempts to the web forms too.
func (s *Server) limitSignIn(r *http.Request) error {
	if s.API == nil {
		return nil
	}
	return s.API.LimitSignIn(r)
}
