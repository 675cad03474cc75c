package web

import (
	"net/http"

	"parley"
	"parley/internal/api"
	"parley/internal/auth"
)

// signUpSubmit creates an account, signs it in with a web session cookie and
// goes to the chat list (or the page the visitor first asked for, such as an
// invite link). There the browser makes its secret-chat keys.
func (s *Server) signUpSubmit(w http.ResponseWriter, r *http.Request) error {
	f := formFrom(r, "username", "password", "display_name", "country")
	in := auth.SignUpInput{Username: f.Get("username"), Password: f.Get("password"),
		DisplayName: f.Get("display_name"), Country: f.Get("country")}
	f.Values["password"] = "" // never sent back to the browser
	next := safeNext(r.PostFormValue("next"), "/chats")
	err := s.limitSignIn(r)
	var token string
	var sess *parley.Session
	if err == nil {
		_, token, sess, err = s.Auth.SignUp(r.Context(), in, "web")
	}
	if err != nil {
		if !formError(err) {
			return err
		}
		if parley.ErrorCode(err) == parley.EConflict {
			// The only conflict on sign-up is a username someone already has.
			f.Errors["username"] = parley.ErrorMessage(err)
		} else {
			f.fail(err, nil)
		}
		api.SetRetryAfter(w, err)
		s.render(w, r, api.StatusOf(err), "signup", &signUpPage{page: page{Title: "Create an account"}, Form: f, Next: next})
		return nil
	}
	s.API.SetSessionCookie(w, token, sess.ExpiresAt)
	setFlash(w, "Welcome to Parley, "+in.Username+".")
	return seeOther(w, r, next)
}
