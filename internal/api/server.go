// Package api is Parley's HTTP JSON API under /api/v1, its WebSocket
// endpoint for live delivery, the health and metrics endpoints and the
// middleware that every request passes (sessions, roles, limits, logs). The
// handlers are thin: decode, call a domain service, encode.
package api

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"parley"
	"parley/internal/audit"
	"parley/internal/auth"
	"parley/internal/geo"
	"parley/internal/messaging"
	"parley/internal/ratelimit"
	"parley/internal/realtime"
	"parley/internal/safety/banks"
	"parley/internal/safety/campaign"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
)

// Server holds what the handlers need.
type Server struct {
	Auth      *auth.Service
	Messaging *messaging.Service
	Enforce   *enforce.Service
	Rules     *screen.RuleBook
	Review    *review.Service
	Campaigns *campaign.Service
	Banks     *banks.Service
	Hub       *realtime.Hub
	// Audit verifies the audit log (GET /api/v1/admin/audit/verify).
	Audit *audit.Log
	Log   *slog.Logger
	Clock parley.Clock
	// SignInLimiter bounds sign-in and sign-up attempts per client address.
	SignInLimiter *ratelimit.Limiter
	// Ready reports whether the server can take traffic (store and stream).
	Ready func(ctx context.Context) error
	// Metrics counts requests; NewMetrics makes it. Register serves it at
	// /metrics when MetricsOnPublicPort is set (the app decides where it
	// is safe); MetricsToken, when set, is the bearer token it asks for
	// (see MetricsHandler).
	Metrics             *Metrics
	MetricsOnPublicPort bool
	MetricsToken        string
	// LiveContext ends every live connection when cancelled (on shutdown);
	// nil means live connections end only when their clients leave.
	LiveContext context.Context
	live        sync.WaitGroup

	// SecureCookies marks the session cookie Secure, so that browsers send
	// it over HTTPS only. The app sets it from -secure-cookies: on by
	// default, off when the server listens on loopback only (the demo and
	// development over plain http://127.0.0.1) or when the flag says false.
	SecureCookies bool

	// The viewer's country, which decides what is withheld from whom, comes
	// only from these trusted sources (see viewerCountry), never from the
	// account's profile:
	//
	// CountryHeader, when set, names a header carrying the viewer's country
	// (ISO 3166-1 alpha-2), believed only from TrustedProxies.
	CountryHeader  string
	TrustedProxies []netip.Prefix
	// ClientAddressHeader, when set, names a header carrying the client's
	// address (X-Forwarded-For), believed only from TrustedProxies, whose
	// country CountryRanges tells; used when no CountryHeader says it.
	ClientAddressHeader string
	// CountryRanges tells the country of an address: the client's as a
	// trusted proxy forwarded it, or the connection's own peer for a
	// request that did not come through a trusted proxy.
	CountryRanges *geo.Ranges
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TrustsCountrySource reports whether any trusted source of the viewer's
// country is configured. Without one every viewer's country is unknown, and
// a withholding hides its item only from those it also covers with
// AlsoUnknown.
func (s *Server) TrustsCountrySource() bool {
	return s.CountryHeader != "" || s.CountryRanges != nil
}

// viewerCountry returns where the client of r is, as a trusted source says,
// or "" when none does. A request that came through a trusted proxy is
// placed by the proxy's headers: its country header, else the client
// address it forwarded looked up in CountryRanges; the proxy's own address
// says nothing about the client. Any other request came straight from its
// client, whose headers are its own words and are ignored; its address is
// the TCP peer, which cannot be forged (the handshake needs the replies to
// reach it), so it is looked up in CountryRanges.
func (s *Server) viewerCountry(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	peer := ap.Addr().Unmap()
	if !s.trustedProxy(peer) {
		return s.CountryRanges.Country(peer)
	}
	if s.CountryHeader != "" {
		c := strings.ToUpper(strings.TrimSpace(r.Header.Get(s.CountryHeader)))
		if auth.IsCountryCode(c) {
			return c
		}
	}
	if s.ClientAddressHeader != "" {
		if client, ok := geo.ClientAddress(r.Header.Get(s.ClientAddressHeader), s.trustedProxy); ok {
			return s.CountryRanges.Country(client)
		}
	}
	return ""
}

// access says who may call a route.
type access int

const (
	public   access = iota // anyone, signed in or not
	signedIn               // any signed-in account
	staff                  // moderators, legal officers and admins
	admin                  // accounts with the admin role
)

// route is one API endpoint. The table of routes drives the mux, the role
// checks and the test that keeps openapi.json in step.
type route struct {
	method, pattern string
	access          access
	handle          func(w http.ResponseWriter, r *http.Request) error
}

func (s *Server) routes() []route {
	return []route{
		{"POST", "/api/v1/auth/signup", public, s.handleSignUp},
		{"POST", "/api/v1/auth/signin", public, s.handleSignIn},
		{"POST", "/api/v1/auth/signout", signedIn, s.handleSignOut},
		{"GET", "/api/v1/me", signedIn, s.handleMe},
		{"PATCH", "/api/v1/me", signedIn, s.handleUpdateMe},
		{"GET", "/api/v1/users/{username}", signedIn, s.handleGetUser},
		{"GET", "/api/v1/chats", signedIn, s.handleListChats},
		{"POST", "/api/v1/chats", signedIn, s.handleCreateChat},
		{"GET", "/api/v1/chats/{chatID}", signedIn, s.handleGetChat},
		{"POST", "/api/v1/chats/{chatID}/subscribe", signedIn, s.handleSubscribe},
		{"POST", "/api/v1/chats/{chatID}/leave", signedIn, s.handleLeave},
		{"PUT", "/api/v1/chats/{chatID}/members/{userID}", signedIn, s.handleSetMemberRole},
		{"GET", "/api/v1/chats/{chatID}/invites", signedIn, s.handleListInvites},
		{"POST", "/api/v1/chats/{chatID}/invites", signedIn, s.handleCreateInvite},
		{"DELETE", "/api/v1/invites/{token}", signedIn, s.handleRevokeInvite},
		{"POST", "/api/v1/invites/{token}/join", signedIn, s.handleJoinInvite},
		{"GET", "/api/v1/chats/{chatID}/messages", signedIn, s.handleHistory},
		{"POST", "/api/v1/chats/{chatID}/messages", signedIn, s.handlePost},
		{"PATCH", "/api/v1/chats/{chatID}/messages/{seq}", signedIn, s.handleEdit},
		{"DELETE", "/api/v1/chats/{chatID}/messages/{seq}", signedIn, s.handleDelete},
		{"GET", "/api/v1/chats/{chatID}/updates", signedIn, s.handleUpdates},
		{"POST", "/api/v1/chats/{chatID}/views", signedIn, s.handleViews},
		{"GET", "/api/v1/channels", signedIn, s.handleSearchChannels},
		{"GET", "/api/v1/channels/{handle}", signedIn, s.handleGetChannel},
		{"POST", "/api/v1/media", signedIn, s.handleUpload},
		{"GET", "/api/v1/live", signedIn, s.handleLive},
		{"GET", "/api/v1/admin/users", admin, s.handleListUsers},
		{"PUT", "/api/v1/admin/users/{userID}/role", admin, s.handleSetRole},
		{"GET", "/api/v1/admin/audit", admin, s.handleListAudit},
		{"GET", "/api/v1/admin/audit/verify", admin, s.handleVerifyAudit},
		{"POST", "/api/v1/moderation/actions", staff, s.handleApplyAction},
		{"GET", "/api/v1/moderation/actions", staff, s.handleListActions},
		{"GET", "/api/v1/moderation/actions/{actionID}", signedIn, s.handleGetAction},
		{"POST", "/api/v1/moderation/actions/{actionID}/restore", staff, s.handleRestoreAction},
		{"GET", "/api/v1/me/statements", signedIn, s.handleMyStatements},
		{"GET", "/api/v1/legal-holds", staff, s.handleListHolds},
		{"POST", "/api/v1/legal-holds", staff, s.handlePlaceHold},
		{"DELETE", "/api/v1/legal-holds/{holdID}", staff, s.handleReleaseHold},
		{"GET", "/api/v1/admin/statements", admin, s.handleExportStatements},
		{"GET", "/api/v1/moderation/rules", staff, s.handleListRules},
		{"POST", "/api/v1/moderation/rules", staff, s.handleCreateRule},
		{"GET", "/api/v1/moderation/rules/{ruleID}", staff, s.handleGetRule},
		{"PUT", "/api/v1/moderation/rules/{ruleID}", staff, s.handleEditRule},
		{"PUT", "/api/v1/moderation/rules/{ruleID}/enabled", staff, s.handleEnableRule},
		{"GET", "/api/v1/moderation/rules/{ruleID}/matches", staff, s.handleRuleMatches},
		{"POST", "/api/v1/moderation/backtest", staff, s.handleBacktest},
		{"GET", "/api/v1/moderation/queue", staff, s.handleReviewQueue},
		{"GET", "/api/v1/moderation/cases/{caseID}", staff, s.handleGetCase},
		{"POST", "/api/v1/moderation/cases/{caseID}/decision", staff, s.handleDecideCase},
		{"GET", "/api/v1/moderation/campaigns", staff, s.handleListCampaigns},
		{"GET", "/api/v1/moderation/campaigns/{campaignID}", staff, s.handleGetCampaign},
		{"POST", "/api/v1/moderation/campaigns/{campaignID}/remove", staff, s.handleRemoveCampaign},
		{"POST", "/api/v1/moderation/campaigns/{campaignID}/dismiss", staff, s.handleDismissCampaign},
		{"GET", "/api/v1/moderation/banks", staff, s.handleListBanks},
		{"POST", "/api/v1/moderation/banks", staff, s.handleCreateBank},
		{"PUT", "/api/v1/moderation/banks/{bankID}/enabled", staff, s.handleEnableBank},
		{"GET", "/api/v1/moderation/banks/{bankID}/entries", staff, s.handleListBankEntries},
		{"POST", "/api/v1/moderation/banks/{bankID}/entries", staff, s.handleAddBankEntry},
		{"DELETE", "/api/v1/moderation/banks/{bankID}/entries/{entryID}", staff, s.handleRemoveBankEntry},
		{"POST", "/api/v1/moderation/banks/{bankID}/import", staff, s.handleImportBank},
		{"GET", "/api/v1/moderation/banks/{bankID}/export", staff, s.handleExportBank},
		{"GET", "/api/v1/openapi.json", public, s.handleOpenAPI},
	}
}

// Register adds the API, media, health and metrics routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		rt := rt
		mux.HandleFunc(rt.method+" "+rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := s.check(r, rt.access); err != nil {
				WriteError(w, r, s.Log, err)
				return
			}
			if err := rt.handle(w, r); err != nil {
				WriteError(w, r, s.Log, err)
			}
		})
	}
	mux.HandleFunc("GET /media/{id}", s.handleMedia)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.Metrics != nil && s.MetricsOnPublicPort {
		mux.Handle("GET /metrics", s.MetricsHandler())
	}
	// Unknown API paths answer in the API's error format, not with HTML.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, s.Log, parley.Errorf(parley.ENotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
	})
}

func (s *Server) check(r *http.Request, a access) error {
	if a == public {
		return nil
	}
	u := CurrentUser(r.Context())
	if u == nil {
		return parley.Errorf(parley.EUnauthorized, "sign in first")
	}
	if a == admin && u.Role != parley.RoleAdmin {
		return parley.Errorf(parley.EForbidden, "this endpoint is for admins")
	}
	if a == staff && !enforce.IsStaff(u) {
		return parley.Errorf(parley.EForbidden, "this endpoint is for moderators, legal officers and admins")
	}
	return nil
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			s.Log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

// CurrentUser returns the signed-in user of the request, or nil.
func CurrentUser(ctx context.Context) *parley.User {
	u, _ := ctx.Value(userKey).(*parley.User)
	return u
}

// CurrentSession returns the session of the request, or nil.
func CurrentSession(ctx context.Context) *parley.Session {
	s, _ := ctx.Value(sessionKey).(*parley.Session)
	return s
}

// SessionCookie is the name of the web session cookie.
const SessionCookie = "parley_session"

// SetSessionCookie sets the web session cookie: HttpOnly, SameSite=Lax and,
// with SecureCookies, Secure.
func (s *Server) SetSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie removes the web session cookie.
func (s *Server) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// Middleware resolves the session (bearer token or cookie) of every
// request, refuses cross-origin form posts, records metrics and writes the
// access log (logAccess).
func (s *Server) Middleware(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := parley.Errorf(parley.EForbidden, "cross-origin request refused; send requests from Parley's own pages")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			WriteError(w, r, s.Log, err) // the API answers in its one error body
			return
		}
		http.Error(w, parley.ErrorMessage(err), http.StatusForbidden)
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			// r is the request as it was served: with the account and,
			// from the mux, the route pattern and its path values.
			d := time.Since(start)
			if s.Metrics != nil {
				s.Metrics.observe(r, sw.status, d)
			}
			s.logAccess(r, sw, d)
		}()
		ctx := r.Context()
		ctx = parley.WithCountry(ctx, s.viewerCountry(r))
		if token := sessionToken(r); token != "" {
			u, sess, err := s.Auth.Authenticate(ctx, token)
			if err == nil {
				ctx = context.WithValue(ctx, userKey, u)
				ctx = context.WithValue(ctx, sessionKey, sess)
			} else if parley.ErrorCode(err) != parley.EUnauthorized {
				WriteError(sw, r, s.Log, err)
				return
			}
		}
		sw.Header().Set("X-Content-Type-Options", "nosniff")
		sw.Header().Set("Referrer-Policy", "same-origin")
		r = r.WithContext(ctx)
		if r.Header.Get("Authorization") != "" {
			// Bearer-token requests come from programs, not from a browser
			// that could be tricked into sending them; they need no origin check.
			next.ServeHTTP(sw, r)
		} else {
			inner.ServeHTTP(sw, r)
		}
	})
}

// quietPaths are logged at debug, not info: monitoring asks for them every
// few seconds, and a line for each would bury the requests of people.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// secretPathValues name the path wildcards that carry a secret: an invite
// token is the invitation itself, and whoever reads the log must not be
// able to join with it.
var secretPathValues = []string{"token"}

// logAccess writes one line per request, as operators expect of a server:
// method, path, status, bytes, duration, the account when signed in and the
// proxy's request id when there is one. Nothing that grants access is
// written: the query string is left out (it may hold an invite token, as
// the invite page's does), secret path values are replaced by their name,
// and no header but the request id is read (never Authorization or Cookie).
// Server errors are logged at warn, health checks and metrics at debug.
func (s *Server) logAccess(r *http.Request, sw *statusWriter, d time.Duration) {
	level := slog.LevelInfo
	switch {
	case sw.status >= 500:
		level = slog.LevelWarn
	case quietPaths[r.URL.Path]:
		level = slog.LevelDebug
	}
	if !s.Log.Enabled(r.Context(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("method", r.Method), slog.String("path", loggedPath(r)),
		slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes), slog.Duration("dur", d))
	if u := CurrentUser(r.Context()); u != nil {
		attrs = append(attrs, slog.Int64("user", u.ID))
	}
	if id := requestID(r); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	s.Log.LogAttrs(r.Context(), level, "request", attrs...)
}

// loggedPath is the request's path with secret path values replaced by
// their wildcard's name: /join/{token}.
func loggedPath(r *http.Request) string {
	p := r.URL.Path
	for _, name := range secretPathValues {
		v := r.PathValue(name)
		if v == "" {
			continue
		}
		if i := strings.LastIndex(p, "/"+v); i >= 0 {
			p = p[:i+1] + "{" + name + "}" + p[i+1+len(v):]
		}
	}
	return p
}

// requestID is the id a proxy gave the request (X-Request-Id), when it is
// a short printable token; anything else is not worth a log line.
func requestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if len(id) > 128 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return ""
		}
	}
	return id
}

func sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// ClientIP is the address that rate limits key on.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	bytes  int64 // of the body, for the access log
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to the WebSocket library.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("api: connection cannot be hijacked")
	}
	w.status, w.wrote = http.StatusSwitchingProtocols, true
	return hj.Hijack()
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
