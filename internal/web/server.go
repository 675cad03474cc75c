// Package web is Parley's browser client: server-rendered HTML pages built
// with html/template, with the templates, the stylesheet and two small
// hand-written scripts embedded in the binary, so the client works on a
// machine with no internet. The pages call the same messaging and auth
// services as the JSON API; the scripts only add what a page cannot do by
// itself: live updates over the API's WebSocket, and the end-to-end
// encryption of secret chats, which must happen in the browser.
//
// Each page or form action lives in its own file, named after what it does
// (chat_show.go, channel_create.go, ...). Forms post to handlers here, which
// answer with a redirect on success (POST-redirect-GET) and re-render the
// form with the message next to the field on a validation error.
package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"parley"
	"parley/internal/api"
	"parley/internal/audit"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/safety/banks"
	"parley/internal/safety/campaign"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
)

// Server serves the web client. It holds the same services the JSON API
// uses, so every rule (who may post, what a valid handle is) is enforced in
// one place for both.
type Server struct {
	Auth      *auth.Service
	Messaging *messaging.Service
	Enforce   *enforce.Service
	Banks     *banks.Service
	Rules     *screen.RuleBook
	Review    *review.Service
	Campaigns *campaign.Service
	// Audit verifies the audit log for its page, from the checkpoints.
	Audit *audit.Log
	// API is the JSON API server. The web client shares its session cookie
	// helpers and its sign-in rate limiter, so one session works for both
	// (the scripts call the API with the page's cookie) and an attacker
	// cannot get around the limit by switching from the API to the form.
	API *api.Server
	Log *slog.Logger
	// UserContact is how members reach the platform about a decision (an
	// email address or a web address), shown with every statement of
	// reasons until appeals have their own page. Empty: the statement
	// points to the contact point named in the terms of service.
	UserContact string
}

// handlerFunc is a page or action for anyone, signed in or not.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// userHandlerFunc is a page or action for signed-in accounts; u is never nil.
type userHandlerFunc func(w http.ResponseWriter, r *http.Request, u *parley.User) error

// Register adds the web client's routes to mux. The API's routes live under
// /api/, /media/ and the health endpoints, so the two never overlap.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /static/", staticHandler())

	s.public(mux, "GET /{$}", s.home)
	s.public(mux, "GET /signup", s.signUpShow)
	s.public(mux, "POST /signup", s.signUpSubmit)
	s.public(mux, "GET /signin", s.signInShow)
	s.public(mux, "POST /signin", s.signInSubmit)
	s.member(mux, "POST /signout", s.signOut)

	s.member(mux, "GET /chats", s.chatList)
	s.member(mux, "GET /chats/{chatID}", s.chatShow)
	s.member(mux, "POST /chats/{chatID}/messages", s.messagePost)
	s.member(mux, "GET /chats/{chatID}/messages/{seq}/edit", s.messageEditShow)
	s.member(mux, "POST /chats/{chatID}/messages/{seq}/edit", s.messageEditSubmit)
	s.member(mux, "POST /chats/{chatID}/messages/{seq}/delete", s.messageDelete)
	s.member(mux, "GET /chats/{chatID}/messages/{seq}/forward", s.messageForwardShow)
	s.member(mux, "POST /chats/{chatID}/messages/{seq}/forward", s.messageForwardSubmit)
	s.member(mux, "POST /chats/{chatID}/subscribe", s.channelSubscribe)
	s.member(mux, "POST /chats/{chatID}/leave", s.chatLeave)
	s.member(mux, "GET /chats/{chatID}/invites", s.inviteList)
	s.member(mux, "POST /chats/{chatID}/invites", s.inviteCreate)
	s.member(mux, "POST /chats/{chatID}/invites/revoke", s.inviteRevoke)
	s.member(mux, "GET /join/{token}", s.joinShow)
	s.member(mux, "POST /join/{token}", s.joinSubmit)

	s.member(mux, "GET /channels", s.channelDiscover)
	s.member(mux, "GET /channels/new", s.channelNew)
	s.member(mux, "POST /channels", s.channelCreate)
	s.member(mux, "GET /groups/new", s.groupNew)
	s.member(mux, "POST /groups", s.groupCreate)
	s.member(mux, "GET /direct/new", s.directNew)
	s.member(mux, "POST /direct", s.directCreate)
	s.member(mux, "GET /secret/new", s.secretNew)
	s.member(mux, "POST /secret", s.secretCreate)
	s.member(mux, "GET /users/{username}", s.userShow)
	s.member(mux, "GET /profile", s.profileShow)
	s.member(mux, "POST /profile", s.profileUpdate)

	// Statements of reasons, for the accounts they affect (and staff).
	s.member(mux, "GET /statements", s.statementList)
	s.member(mux, "GET /statements/{id}", s.statementShow)

	// Moderation, for staff; see moderation.go for who may do what.
	s.staff(mux, "GET /moderation", func(w http.ResponseWriter, r *http.Request, u *parley.User) error {
		return seeOther(w, r, "/moderation/actions")
	})
	s.staff(mux, "GET /moderation/actions", s.actionList)
	s.staff(mux, "GET /moderation/actions/new", s.actionNew)
	s.staff(mux, "POST /moderation/actions", s.actionCreate)
	s.staff(mux, "GET /moderation/actions/{id}", s.actionShow)
	s.staff(mux, "POST /moderation/actions/{id}/restore", s.actionRestore)
	s.staff(mux, "GET /moderation/holds", s.holdList)
	s.staff(mux, "POST /moderation/holds", s.holdPlace)
	s.staff(mux, "POST /moderation/holds/{id}/release", s.holdRelease)
	s.admin(mux, "GET /moderation/audit", s.auditList)
	// Accounts and their roles, for admins (auth.Service checks again).
	s.admin(mux, "GET /admin/users", s.adminUserList)
	s.admin(mux, "GET /admin/users/{id}", s.adminUserShow)
	s.admin(mux, "POST /admin/users/{id}/role", s.adminUserRole)
	// Hash banks, the review queue, the screening rules and campaigns are
	// for moderators and admins, as their services decide.
	s.moderator(mux, "GET /moderation/banks", s.bankList)
	s.moderator(mux, "GET /moderation/banks/new", s.bankNew)
	s.moderator(mux, "POST /moderation/banks", s.bankCreate)
	s.moderator(mux, "GET /moderation/banks/{id}", s.bankShow)
	s.moderator(mux, "POST /moderation/banks/{id}/enabled", s.bankSetEnabled)
	s.moderator(mux, "POST /moderation/banks/{id}/entries", s.entryAdd)
	s.moderator(mux, "POST /moderation/banks/{id}/entries/{entryID}/remove", s.entryRemove)
	s.moderator(mux, "POST /moderation/banks/{id}/import", s.bankImport)
	s.moderator(mux, "POST /moderation/banks/{id}/export", s.bankExport)
	s.moderator(mux, "GET /moderation/queue", s.caseQueue)
	s.moderator(mux, "GET /moderation/queue/decided", s.caseDecided)
	s.moderator(mux, "GET /moderation/cases/{id}", s.caseShow)
	s.moderator(mux, "POST /moderation/cases/{id}/approve", s.caseApprove)
	s.moderator(mux, "POST /moderation/cases/{id}/remove", s.caseRemove)
	s.moderator(mux, "POST /moderation/cases/{id}/confirm", s.caseConfirm)
	s.moderator(mux, "POST /moderation/cases/{id}/release", s.caseRelease)
	s.moderator(mux, "GET /moderation/rules", s.ruleList)
	s.moderator(mux, "GET /moderation/rules/new", s.ruleNew)
	s.moderator(mux, "POST /moderation/rules", s.ruleCreate)
	s.moderator(mux, "GET /moderation/rules/{id}", s.ruleShow)
	s.moderator(mux, "GET /moderation/rules/{id}/edit", s.ruleEdit)
	s.moderator(mux, "POST /moderation/rules/{id}/edit", s.ruleUpdate)
	s.moderator(mux, "POST /moderation/rules/{id}/enabled", s.ruleSetEnabled)
	s.moderator(mux, "POST /moderation/rules/{id}/mode", s.ruleSwitchMode)
	s.moderator(mux, "POST /moderation/rules/{id}/backtest", s.ruleBacktest)
	s.moderator(mux, "GET /moderation/campaigns", s.campaignList)
	s.moderator(mux, "GET /moderation/campaigns/{id}", s.campaignShow)
	s.moderator(mux, "POST /moderation/campaigns/{id}/remove", s.campaignRemove)
	s.moderator(mux, "POST /moderation/campaigns/{id}/dismiss", s.campaignDismiss)

	// Everything else is a page that does not exist. Unknown API paths are
	// caught earlier by the API's own /api/ pattern and answer in JSON.
	s.public(mux, "/", func(w http.ResponseWriter, r *http.Request) error {
		return parley.Errorf(parley.ENotFound, "there is no page at %s", r.URL.Path)
	})
}

// public registers a handler that anyone may reach.
func (s *Server) public(mux *http.ServeMux, pattern string, h handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// member registers a handler for signed-in accounts. A visitor who is not
// signed in is sent to the sign-in page and brought back afterwards.
func (s *Server) member(mux *http.ServeMux, pattern string, h userHandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		u := api.CurrentUser(r.Context())
		if u == nil {
			redirectToSignIn(w, r)
			return
		}
		if err := h(w, r, u); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// contentSecurityPolicy allows only the server's own scripts, styles,
// images and connections (fetch and the live WebSocket). No inline script
// runs, so markup that slipped through escaping could not execute; the
// scripts read their data from data-* attributes instead.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	// Pages show private chats: keep them out of shared caches and out of
	// the back-button cache after signing out.
	h.Set("Cache-Control", "no-store")
}

// redirectToSignIn sends a visitor to the sign-in page with the page they
// asked for, so they land there after signing in. Only a GET can be
// repeated safely; a form post returns them to the chat list.
func redirectToSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// seeOther finishes a successful form post (POST-redirect-GET), so that
// reloading the next page does not send the form again.
func seeOther(w http.ResponseWriter, r *http.Request, target string) error {
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// safeNext returns next if it is a path on this site, and fallback
// otherwise, so a crafted sign-in link cannot send people to another site.
func safeNext(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return fallback
	}
	return next
}
