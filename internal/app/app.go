package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"parley"
	"parley/internal/api"
	"parley/internal/audit"
	"parley/internal/auth"
	"parley/internal/geo"
	"parley/internal/media"
	"parley/internal/messaging"
	"parley/internal/ratelimit"
	"parley/internal/realtime"
	"parley/internal/safety/banks"
	"parley/internal/safety/campaign"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/screen"
	"parley/internal/store/sqlite"
	"parley/internal/stream"
	"parley/internal/web"
)

// App is one running Parley process.
type App struct {
	Config    Config
	Log       *slog.Logger
	Clock     parley.Clock
	DB        *sqlite.DB
	Stream    *stream.Stream
	Relay     *stream.Relay
	Hub       *realtime.Hub
	Auth      *auth.Service
	Messaging *messaging.Service
	Enforce   *enforce.Service
	Banks     *banks.Service
	// Matcher holds every enabled hash bank in memory; uploads and posts are
	// matched against it. It follows the banks' change log (bank.changed
	// events).
	Matcher *banks.Matcher
	// Screen is the inline screen of uploads and posts; Rules its rule book
	// and Review the moderators' queue of what it held or stopped.
	Screen *screen.Screener
	Rules  *screen.RuleBook
	Review *review.Service
	// Rescan screens stored content again when banks or rules change.
	Rescan *screen.Rescanner
	// Campaigns finds near-duplicate posts by several accounts (the worker
	// feeds the detector from the event stream) and acts on them in bulk.
	Campaigns       *campaign.Service
	CampaignsWorker *campaign.Worker
	API             *api.Server
	Metrics         *api.Metrics
	// Web is the browser client; Handler builds it on the same services.
	Web *web.Server

	// banksChanged and rulesChanged ask the safety follower (see
	// followSafetyChanges) to take a bank change into the matcher or to
	// put changed rules in force; a request made while one is pending is
	// the same request.
	banksChanged, rulesChanged chan struct{}

	// audiences caches chats' kinds and member counts for the campaign
	// detector (see campaignAudience).
	audienceMu sync.Mutex
	audiences  map[int64]audience

	listener        net.Listener
	metricsListener net.Listener // on -metrics-addr, when set
	httpServer      *http.Server
	cancel          context.CancelFunc // stops the relay, the subscription and live connections
	wg              sync.WaitGroup
	closeOnce       sync.Once
}

// New opens storage and the event stream and builds the services. It does
// not listen yet; Start does.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("app: data directory: %w", err)
	}
	a := &App{Config: cfg, Log: log, Clock: parley.SystemClock{},
		banksChanged: make(chan struct{}, 1), rulesChanged: make(chan struct{}, 1)}
	ok := false
	defer func() {
		if !ok {
			a.closeResources()
		}
	}()

	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return nil, fmt.Errorf("app: open database: %w", err)
	}
	a.DB = db
	st, err := stream.Open(ctx, stream.Config{URL: cfg.NATSURL, StoreDir: filepath.Join(cfg.DataDir, "nats"), Prefix: cfg.NATSPrefix}, log)
	if err != nil {
		return nil, fmt.Errorf("app: open event stream: %w", err)
	}
	a.Stream = st
	blobs, err := media.NewBlobs(filepath.Join(cfg.DataDir, "media"))
	if err != nil {
		return nil, fmt.Errorf("app: media directory: %w", err)
	}

	a.Auth = &auth.Service{Store: db, Hasher: auth.NewHasher(2, auth.DefaultArgon2Params), Clock: a.Clock, Log: log}
	a.Messaging = &messaging.Service{Store: db, Blobs: blobs, Clock: a.Clock, Log: log, Users: db,
		Limits:        media.Limits{MaxBytes: cfg.MaxImageBytes, MaxPixels: cfg.MaxImagePixels, MaxDecodeBytes: cfg.MaxImageDecodeBytes},
		DecodeMemory:  media.NewBudget(cfg.DecodeMemory, cfg.DecodeWait),
		UploadLimiter: ratelimit.New(cfg.UploadsPerMinute/60, int(cfg.UploadsPerMinute), time.Now)}
	a.Enforce = &enforce.Service{Store: db, Clock: a.Clock, Log: log, Namespace: cfg.PUIDNamespace,
		Retention: cfg.EvidenceRetention, AccountChanged: a.Auth.Forget, Blobs: blobs}
	a.Banks = banks.NewService(db, a.Clock)
	a.Matcher = banks.NewMatcher(db)
	// Loaded before the server takes any upload or post: nothing may be
	// accepted unscreened because the banks were still loading.
	if err := a.Matcher.Load(ctx); err != nil {
		return nil, fmt.Errorf("app: load hash banks: %w", err)
	}
	a.Screen = &screen.Screener{Banks: a.Matcher, Rules: db, Enforce: a.Enforce, Log: log}
	a.Rules = &screen.RuleBook{Store: db, Clock: a.Clock, Changed: a.reloadRules}
	if err := a.Screen.Reload(ctx); err != nil {
		return nil, fmt.Errorf("app: load screening rules: %w", err)
	}
	a.Messaging.Screen = a.Screen
	a.Review = &review.Service{Store: db, Enforce: a.Enforce, Clock: a.Clock}
	a.Rescan = &screen.Rescanner{Store: db, Screen: a.Screen, Enforce: a.Enforce, Clock: a.Clock, Log: log.With("component", "rescan")}
	det, err := campaign.New(campaign.Config{})
	if err != nil {
		return nil, fmt.Errorf("app: campaign detector: %w", err)
	}
	a.CampaignsWorker = &campaign.Worker{Detector: det, Store: db, Log: log.With("component", "campaigns"), Admit: a.campaignAudience}
	a.Campaigns = &campaign.Service{Store: db, Enforce: a.Enforce, Clock: a.Clock}
	a.Hub = realtime.NewHub(db, log)
	a.Relay = &stream.Relay{Outbox: db, Stream: st, Signal: db.OutboxSignal(), Log: log}
	a.Metrics = api.NewMetrics()
	a.registerGauges()
	proxies, _ := cfg.TrustedProxyNets() // checked by Validate
	var ranges *geo.Ranges
	if cfg.CountryRanges != "" {
		f, err := os.Open(cfg.CountryRanges)
		if err != nil {
			return nil, fmt.Errorf("app: -country-ranges: %w", err)
		}
		ranges, err = geo.Load(f, auth.IsCountryCode)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("app: -country-ranges %s: %w", cfg.CountryRanges, err)
		}
	}
	a.API = &api.Server{
		Auth: a.Auth, Messaging: a.Messaging, Enforce: a.Enforce, Rules: a.Rules, Review: a.Review,
		Campaigns: a.Campaigns, Banks: a.Banks, Hub: a.Hub, Log: log, Clock: a.Clock,
		Audit:         &audit.Log{Store: a.DB, Clock: a.Clock},
		CountryHeader: cfg.CountryHeader, TrustedProxies: proxies,
		ClientAddressHeader: cfg.ClientAddressHeader, CountryRanges: ranges,
		SignInLimiter: ratelimit.New(cfg.SignInPerMinute/60, int(cfg.SignInPerMinute), time.Now),
		Ready:         a.ready,
		Metrics:       a.Metrics,
		SecureCookies: cfg.CookiesSecure(),
		// Metrics on the public port only where that is safe (see
		// Config.MetricsOnPublicPort); -metrics-addr gets its own listener.
		MetricsOnPublicPort: cfg.MetricsOnPublicPort(),
		MetricsToken:        cfg.MetricsToken,
	}
	ok = true
	return a, nil
}

func (a *App) registerGauges() {
	m := a.Metrics
	m.Gauge("parley_outbox_pending", "Events in the outbox waiting to be relayed.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := a.DB.CountPendingEvents(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.Counter("parley_events_relayed_total", "Events the stream acknowledged from the outbox relay.", func() float64 { return float64(a.Relay.Relayed()) })
	m.Counter("parley_relay_failures_total", "Outbox relay rounds that failed and were retried.", func() float64 { return float64(a.Relay.Failures()) })
	m.Counter("parley_store_group_commits_total", "Group-commit transactions of new messages.", func() float64 {
		b, _ := a.DB.GroupCommits()
		return float64(b)
	})
	m.Counter("parley_store_group_committed_messages_total", "New messages written by group commits.", func() float64 {
		_, n := a.DB.GroupCommits()
		return float64(n)
	})
	m.Gauge("parley_live_connections", "Open WebSocket connections on this process.", func() float64 { return float64(a.Hub.Connected()) })
	m.Counter("parley_live_updates_queued_total", "Updates queued to live connections.", func() float64 { return float64(a.Hub.Delivered()) })
	m.Counter("parley_live_slow_disconnects_total", "Live connections cut off for falling behind.", func() float64 { return float64(a.Hub.Dropped()) })
	m.Counter("parley_campaign_posts_observed_total", "Posts the campaign detector has read.", func() float64 { return float64(a.CampaignsWorker.Seen()) })
	m.Counter("parley_campaign_posts_dropped_total", "Posts the campaign detector did not read because its queue was full.", func() float64 { return float64(a.CampaignsWorker.Dropped()) })
	m.Counter("parley_live_frames_encoded_total", "Update frames encoded for live fan-out (one per distinct rendering of an update).", func() float64 { return float64(a.Hub.Encoded()) })
}

func (a *App) ready(ctx context.Context) error {
	if _, err := a.DB.SchemaVersion(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := a.Stream.Ready(ctx); err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	return nil
}

// Handler returns the HTTP handler of the whole server.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	a.API.Register(mux)
	if a.Web == nil {
		a.Web = &web.Server{Auth: a.Auth, Messaging: a.Messaging, Enforce: a.Enforce, Banks: a.Banks,
			Rules: a.Rules, Review: a.Review, Campaigns: a.Campaigns, API: a.API, Log: a.Log,
			Audit: a.API.Audit, UserContact: a.Config.UserContact}
	}
	a.Web.Register(mux)
	return a.API.Middleware(mux)
}

// Start listens on the configured address and starts the relay, the live
// hub's subscription and the HTTP server. It returns once listening.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("app: listen on %s: %w", a.Config.Addr, err)
	}
	a.listener = ln
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel

	stop, err := a.Stream.Subscribe(ctx, ">", a.handleEvent)
	if err != nil {
		ln.Close()
		return fmt.Errorf("app: subscribe to event stream: %w", err)
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		<-ctx.Done()
		stop()
	}()
	go func() {
		defer a.wg.Done()
		if err := a.Relay.Run(ctx); err != nil {
			a.Log.Error("outbox relay stopped", "err", err)
		}
	}()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.followSafetyChanges(ctx)
	}()
	a.every(ctx, evidencePurgeInterval, "evidence past its retention deleted", a.Enforce.PurgeEvidence)
	a.every(ctx, banks.ImportStaleAfter, "abandoned bank imports cleaned up", a.Banks.CleanImports)
	a.every(ctx, sessionSweepInterval, "expired sessions deleted", a.Auth.SweepSessions)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.CampaignsWorker.Rebuild(ctx, a.Clock.Now()); err != nil && ctx.Err() == nil {
			a.Log.Warn("campaigns: rebuilding the detector's window failed", "err", err)
		}
		a.CampaignsWorker.Run(ctx)
	}()
	if a.Config.Rescan {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.Rescan.Run(ctx, rescanPoll)
		}()
	}

	if a.Config.MetricsAddr != "" {
		if err := a.startMetrics(ctx); err != nil {
			cancel()
			ln.Close()
			return err
		}
	}
	if a.Config.DebugAddr != "" {
		if err := a.startProfiler(ctx); err != nil {
			cancel()
			ln.Close()
			return err
		}
	}
	a.API.LiveContext = ctx
	a.httpServer = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Log.Error("http server stopped", "err", err)
		}
	}()
	a.Log.Info("parley listening", "url", a.URL(), "data_dir", a.Config.DataDir, "nats", natsDescription(a.Config),
		"secure_cookies", a.API.SecureCookies, "metrics", a.MetricsURL())
	if !a.API.TrustsCountrySource() {
		a.Log.Warn(NoCountrySourceWarning)
	}
	if a.MetricsURL() == "" {
		a.Log.Info("metrics are not served: the server listens beyond loopback; set -metrics-addr (such as 127.0.0.1:9464) or -metrics-token")
	}
	return nil
}

// NoCountrySourceWarning is logged at start when no trusted source of the
// viewer's country is configured.
const NoCountrySourceWarning = "no trusted source of viewers' countries is configured (-country-header with -trusted-proxies, or -country-ranges): " +
	"every viewer's country is unknown, so a withholding by country hides its item only from viewers it also covers when their country is unknown (also_unknown); " +
	"the country in a member's profile is never used"

// handleEvent takes every event of the stream, in order, once per process:
// the live hub fans chat updates out, and the hash-bank matcher follows the
// banks' change log.
func (a *App) handleEvent(m stream.Message) {
	switch m.Kind {
	case banks.EventBankChanged:
		signal(a.banksChanged)
		return
	case screen.EventRuleChanged:
		signal(a.rulesChanged)
		return
	case parley.UpdateMessageNew, parley.UpdateMessageEdited, parley.UpdateMessageDeleted, parley.UpdateMessageModerated:
		// Decoded once here for the hub and the campaign detector.
		var u parley.Update
		if err := json.Unmarshal(m.Data, &u); err != nil || m.Subject != parley.ChatSubject(u.ChatID) {
			a.Log.Warn("undecodable chat update on the event stream", "subject", m.Subject, "err", err)
			return
		}
		if m.Kind == parley.UpdateMessageNew {
			a.observeForCampaigns(&u.Message)
		}
		a.Hub.HandleUpdate(&u)
		return
	case parley.EventAccountRestricted:
		// The action may have been taken on another process: drop the
		// sessions this one cached, so that the reconnects of the
		// connections the hub is about to close fail at once.
		var ev parley.AccountEvent
		if json.Unmarshal(m.Data, &ev) == nil {
			a.Auth.Forget(ev.UserID)
		}
	}
	a.Hub.HandleEvent(m.Subject, m.Kind, m.Data)
}

// signal asks the goroutine reading c to act, unless it is asked already.
func signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// followSafetyChanges takes bank changes into the matcher and puts changed
// screening rules in force, then wakes re-screening, until ctx ends. It
// runs beside the event consumer, not in it: taking a million-entry import
// into the matcher takes seconds, and live delivery must not wait for it.
// Changes that arrive meanwhile are taken in by the next run, which reads
// the change log from where the matcher stopped.
func (a *App) followSafetyChanges(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.banksChanged:
			if _, err := a.Matcher.Refresh(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("hash banks: refresh failed; the next change retries", "err", err)
			}
		case <-a.rulesChanged:
			a.reloadRules(ctx)
		}
		a.Rescan.Wake()
	}
}

// reloadRules puts the stored screening rules in force, after a change
// made here (RuleBook.Changed, at once) or anywhere (the rule.changed event).
func (a *App) reloadRules(ctx context.Context) {
	if err := a.Screen.Reload(ctx); err != nil {
		a.Log.Error("screening rules: reload failed; the previous rules stay in force", "err", err)
	}
}

// observeForCampaigns hands a new post to the campaign detector, which
// reads it when campaignAudience admits its chat.
func (a *App) observeForCampaigns(m *parley.Message) {
	a.CampaignsWorker.Observe(campaign.Post{ID: m.ID, AccountID: m.SenderID, ChatID: m.ChatID, Text: m.Text, At: m.CreatedAt})
}

// campaignAudience says whether a chat's posts go to the campaign
// detector: a channel's, or a group's of at least -campaign-min-members.
func (a *App) campaignAudience(chatID int64) bool {
	kind, members := a.audience(chatID)
	return messaging.Screened(kind) && (kind != parley.ChatGroup || members >= int64(a.Config.CampaignMinMembers))
}

// audienceTTL is how long a chat's member count is trusted for deciding
// whether its posts go to the campaign detector.
const audienceTTL = time.Minute

type audience struct {
	kind    parley.ChatKind
	members int64
	readAt  time.Time
}

// audience returns a chat's kind and (at most a minute old) member count,
// from a cache. The stream's consumer and the detector's rebuild at start
// both ask it.
func (a *App) audience(id int64) (parley.ChatKind, int64) {
	a.audienceMu.Lock()
	defer a.audienceMu.Unlock()
	now := time.Now()
	if au, ok := a.audiences[id]; ok && now.Sub(au.readAt) < audienceTTL {
		return au.kind, au.members
	}
	c, err := a.DB.FindChatByID(context.Background(), id)
	if err != nil {
		return "", 0
	}
	if a.audiences == nil || len(a.audiences) >= maxCachedAudiences {
		a.audiences = make(map[int64]audience)
	}
	a.audiences[id] = audience{kind: c.Kind, members: c.MemberCount, readAt: now}
	return c.Kind, c.MemberCount
}

// maxCachedAudiences bounds the audience cache; when it is full it is
// emptied, which costs one read per active chat.
const maxCachedAudiences = 200_000

// startProfiler serves net/http/pprof on the debug address until ctx ends.
func (a *App) startProfiler(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("app: listen on -debug-addr %s: %w", a.Config.DebugAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a.serveAside(ctx, ln, mux)
	a.Log.Info("profiler listening", "addr", ln.Addr().String())
	return nil
}

// serveAside serves h on a listener of its own (the profiler's, the
// metrics') until ctx ends.
func (a *App) serveAside(ctx context.Context, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		srv.Serve(ln)
	}()
	go func() {
		defer a.wg.Done()
		<-ctx.Done()
		srv.Close()
	}()
}

// rescanPoll is how often re-screening looks for work without being woken
// by an event: a safety net, since the events wake it at once.
const rescanPoll = time.Minute

// evidencePurgeInterval is how often evidence past its retention is
// deleted. Retention is counted in months, so an hour late is nothing.
const evidencePurgeInterval = time.Hour

// sessionSweepInterval is how often expired sessions are deleted.
const sessionSweepInterval = time.Hour

// every runs job in its own goroutine now and every interval until ctx
// ends, logging what it did (done says what, with the count) and its
// failures; a failed run is retried at the next interval. The evidence
// purge, the clean-up of abandoned bank imports and the sweep of expired
// sessions run so.
func (a *App) every(ctx context.Context, interval time.Duration, done string, job func(context.Context) (int, error)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if n, err := job(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("background job failed; retrying later", "job", done, "err", err)
			} else if n > 0 {
				a.Log.Info(done, "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func natsDescription(c Config) string {
	if c.NATSURL == "" {
		return "embedded"
	}
	return c.NATSURL
}

// URL is the base URL the server listens on.
func (a *App) URL() string {
	if a.listener == nil {
		return ""
	}
	return "http://" + a.listener.Addr().String()
}

// Close shuts down gracefully: it stops accepting requests, waits for those
// in flight (up to the shutdown timeout), ends live connections (clients
// resume elsewhere), stops the relay after its current round, and closes the
// stream and the database. Nothing acknowledged is lost: every acknowledged
// write is already committed, and events not yet relayed stay in the outbox.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		if a.httpServer != nil {
			ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
			err = a.httpServer.Shutdown(ctx)
			cancel()
			if err != nil {
				// Requests still running after the timeout (or idle
				// connections a browser opened ahead of time) are cut.
				a.httpServer.Close()
			}
		}
		if a.cancel != nil {
			a.cancel()
		}
		a.API.WaitLive()
		a.wg.Wait()
		a.closeResources()
	})
	return err
}

func (a *App) closeResources() {
	if a.Stream != nil {
		a.Stream.Close()
	}
	if a.DB != nil {
		if err := a.DB.Close(); err != nil {
			a.Log.Warn("closing database", "err", err)
		}
	}
}

// Migrate brings the configured database to the newest schema and returns
// its version. Opening the database migrates it; this only makes the step
// explicit for operators who run it before rolling out a new binary.
func Migrate(ctx context.Context, cfg Config) (int, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DatabasePath()), 0o750); err != nil {
		return 0, err
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return 0, err
	}
	return db.SchemaVersion(ctx)
}
