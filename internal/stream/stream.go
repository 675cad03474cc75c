// Package stream is the event stream: NATS JetStream, either embedded in the
// process (the laptop default, no port opened) or an external NATS server or
// cluster (at scale). The same client code talks to both.
//
// Events reach the stream through the outbox: a change and its event are
// written in one database transaction, and the Relay publishes pending events
// and deletes them once JetStream has acknowledged them. Delivery is at least
// once. JetStream drops a re-published event whose de-duplication id it has
// seen within the duplicate window (10 minutes), which covers the common case
// of a relay that crashed between publishing and deleting. It cannot cover a
// re-publish after the window, so every consumer must be idempotent: a
// consumer may see the same event twice and must key what it does on the
// event id (Message.ID) or on the per-chat sequence (pts) in the payload,
// never on the fact that a message arrived.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"parley"
)

// Defaults applied by Open to a zero Config field.
const (
	DefaultPrefix = "parley"
	DefaultMaxAge = 7 * 24 * time.Hour
)

// Header names carried by every event message.
const (
	// HeaderKind holds parley.Event.Kind, so a consumer can dispatch
	// without decoding the payload.
	HeaderKind = "Parley-Kind"
)

const (
	// duplicateWindow is how long JetStream remembers a Nats-Msg-Id. It must
	// outlast the longest plausible gap between a relay publishing an event
	// and a restarted relay publishing it again.
	duplicateWindow = 10 * time.Minute
	// asyncMaxPending bounds the publishes in flight on one connection. It
	// is above the relay's default batch so a batch never stalls on it.
	asyncMaxPending = 4096
	// ackTimeout bounds the wait for one asynchronous publish ack, so a
	// batch published into a dead connection fails and is retried instead
	// of hanging.
	ackTimeout = 5 * time.Second
	// connectTimeout bounds the initial dial of an external server.
	connectTimeout = 5 * time.Second
	// reconnectWait is the pause between reconnect attempts. It is short
	// because live delivery stalls while the connection is down.
	reconnectWait = 500 * time.Millisecond
	// drainTimeout bounds Close's wait for in-flight messages.
	drainTimeout = 5 * time.Second
)

// ErrClosed is returned by the methods of a Stream after Close.
var ErrClosed = &parley.Error{Code: parley.EUnavailable, Message: "the event stream is closed"}

// Config selects and shapes the event stream.
type Config struct {
	// URL of an external NATS server, e.g. "nats://nats-1:4222,nats://nats-2:4222".
	// Empty starts an embedded server in this process that listens on no port.
	URL string
	// StoreDir is where the embedded server keeps JetStream data, so that
	// events survive a restart. Empty keeps the stream in memory, in a
	// temporary directory removed by Close. Ignored with an external URL.
	StoreDir string
	// Prefix is the first subject token(s) of every event, e.g. "parley"
	// gives "parley.chat.42". The JetStream stream is named after it (see
	// StreamName), so several deployments or tests can share one server.
	Prefix string
	// MaxAge is how long the stream keeps an event. Default 7 days.
	MaxAge time.Duration
	// Replicas of the stream in a NATS cluster. Default 1; the embedded
	// server is a single node and always uses 1.
	Replicas int
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	return c
}

// Stream is a connection to the event stream. It is safe for concurrent use.
type Stream struct {
	cfg      Config
	log      *slog.Logger
	name     string // JetStream stream name
	prefix   string // subject prefix without the trailing dot
	embedded bool

	ns     *server.Server // nil with an external server
	tmpDir string         // removed by Close; set when StoreDir was empty
	nc     *nats.Conn
	js     jetstream.JetStream
	closed chan struct{} // closed by the connection's closed handler

	mu       sync.Mutex
	subs     map[*subscription]struct{}
	isClosed bool

	closeOnce  sync.Once
	duplicates atomic.Uint64
}

// StreamName returns the JetStream stream name used for a subject prefix:
// the prefix upper-cased with every character that is not a letter or a
// digit replaced by '_' ("parley" → "PARLEY", "test_1a.x" → "TEST_1A_X").
func StreamName(prefix string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		default:
			return '_'
		}
	}, prefix)
}

// Open connects to the event stream described by cfg, starting an embedded
// server when cfg.URL is empty, and creates the JetStream stream or updates
// its limits to match cfg. log may be nil.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Stream, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if err := validSubject(cfg.Prefix, false); err != nil {
		return nil, fmt.Errorf("stream: prefix %q: %w", cfg.Prefix, err)
	}
	s := &Stream{
		cfg:      cfg,
		log:      log.With("component", "stream"),
		name:     StreamName(cfg.Prefix),
		prefix:   cfg.Prefix,
		embedded: cfg.URL == "",
		closed:   make(chan struct{}),
		subs:     make(map[*subscription]struct{}),
	}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Stream) open(ctx context.Context) error {
	opts := []nats.Option{
		nats.Name("parley"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.Timeout(connectTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.log.Warn("event stream disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Info("event stream reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			s.log.Warn("event stream error", "subject", subj, "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(s.closed) }),
	}
	var err error
	if s.embedded {
		if err := s.startEmbedded(); err != nil {
			return err
		}
		s.nc, err = nats.Connect("", append(opts, nats.InProcessServer(s.ns))...)
	} else {
		s.nc, err = nats.Connect(s.cfg.URL, opts...)
	}
	if err != nil {
		return fmt.Errorf("stream: connect: %w", err)
	}
	s.js, err = jetstream.New(s.nc,
		jetstream.WithPublishAsyncMaxPending(asyncMaxPending),
		jetstream.WithPublishAsyncTimeout(ackTimeout),
	)
	if err != nil {
		return fmt.Errorf("stream: jetstream: %w", err)
	}
	return s.ensureStream(ctx)
}

// startEmbedded starts a JetStream server inside this process. DontListen
// means it opens no port: the only way in is nats.InProcessServer, so a
// laptop install exposes nothing and needs no free port.
func (s *Stream) startEmbedded() error {
	dir := s.cfg.StoreDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "parley-nats-")
		if err != nil {
			return fmt.Errorf("stream: temporary store: %w", err)
		}
		s.tmpDir, dir = tmp, tmp
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "parley-embedded",
		DontListen: true,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true, // signals belong to the parley process, not to NATS
	})
	if err != nil {
		return fmt.Errorf("stream: embedded server: %w", err)
	}
	ns.SetLogger(natsLogger{s.log}, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("stream: embedded server did not start within 10s")
	}
	s.ns = ns
	return nil
}

// streamConfig is the stream this package needs. Limits retention keeps
// events for MaxAge whether or not anyone read them, so a process that
// restarts can catch up and tests can replay.
func (s *Stream) streamConfig() jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if s.embedded && s.cfg.StoreDir == "" {
		// Nothing outlives this process anyway, so skip the disk.
		storage = jetstream.MemoryStorage
	}
	replicas := s.cfg.Replicas
	if s.embedded && replicas != 1 {
		s.log.Warn("embedded event stream is a single node; using 1 replica", "replicas", replicas)
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name:        s.name,
		Description: "Parley events relayed from the outbox",
		Subjects:    []string{s.prefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Storage:     storage,
		Replicas:    replicas,
		MaxAge:      s.cfg.MaxAge,
		Duplicates:  min(duplicateWindow, s.cfg.MaxAge),
	}
}

func (s *Stream) ensureStream(ctx context.Context) error {
	cfg := s.streamConfig()
	if _, err := s.js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("stream: create or update stream %s on %s: %w", s.name, cfg.Subjects[0], err)
	}
	s.log.Debug("event stream ready", "stream", s.name, "embedded", s.embedded, "storage", cfg.Storage.String())
	return nil
}

// Embedded reports whether the stream runs on a server inside this process.
func (s *Stream) Embedded() bool { return s.embedded }

// Name returns the JetStream stream name.
func (s *Stream) Name() string { return s.name }

// Prefix returns the subject prefix, without the trailing dot.
func (s *Stream) Prefix() string { return s.prefix }

// Duplicates returns how many published events JetStream reported as
// duplicates and did not store again. A steady rise means events are being
// re-published, e.g. by a relay that keeps failing to delete them.
func (s *Stream) Duplicates() uint64 { return s.duplicates.Load() }

// Ready returns nil when the connection is up and the stream answers, for a
// readiness probe. Its error has code parley.EUnavailable.
func (s *Stream) Ready(ctx context.Context) error {
	if s.closing() {
		return ErrClosed
	}
	if st := s.nc.Status(); st != nats.CONNECTED {
		return parley.Errorf(parley.EUnavailable, "event stream: connection %s", strings.ToLower(st.String()))
	}
	if _, err := s.js.Stream(ctx, s.name); err != nil {
		return parley.Errorf(parley.EUnavailable, "event stream: stream %s: %v", s.name, err)
	}
	return nil
}

// Close stops every subscription, drains the connection (sending what is
// buffered) and shuts down the embedded server. Stop the Relay before
// closing, or its in-flight batch fails and is retried by the next run.
// Close is idempotent.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.isClosed = true
		subs := make([]*subscription, 0, len(s.subs))
		for sub := range s.subs {
			subs = append(subs, sub)
		}
		s.mu.Unlock()
		for _, sub := range subs {
			sub.stop()
		}
		if s.nc != nil {
			if err := s.nc.Drain(); err != nil {
				s.nc.Close()
			}
			select {
			case <-s.closed:
			case <-time.After(drainTimeout):
				s.log.Warn("event stream drain timed out; closing")
				s.nc.Close()
			}
		}
		if s.ns != nil {
			s.ns.Shutdown()
			s.ns.WaitForShutdown()
		}
		if s.tmpDir != "" {
			if err := os.RemoveAll(s.tmpDir); err != nil {
				s.log.Warn("remove temporary event store", "dir", s.tmpDir, "err", err)
			}
		}
	})
}

func (s *Stream) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isClosed
}

// msgID is the de-duplication id of an event. The prefix keeps ids of
// different deployments sharing one server apart.
func (s *Stream) msgID(id int64) string { return s.prefix + "-" + strconv.FormatInt(id, 10) }

// eventID recovers the event id from a de-duplication id; 0 if it is not one.
func (s *Stream) eventID(msgID string) int64 {
	rest, ok := strings.CutPrefix(msgID, s.prefix+"-")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// message turns an event into the NATS message to publish. It rejects what
// JetStream would reject or misroute, so the error names the event.
func (s *Stream) message(ev parley.Event) (*nats.Msg, error) {
	if ev.ID <= 0 {
		return nil, fmt.Errorf("stream: event id %d: the id must be positive, it is the de-duplication key", ev.ID)
	}
	if err := validSubject(ev.Subject, false); err != nil {
		return nil, fmt.Errorf("stream: event %d subject %q: %w", ev.ID, ev.Subject, err)
	}
	return &nats.Msg{
		Subject: s.prefix + "." + ev.Subject,
		Header: nats.Header{
			jetstream.MsgIDHeader:          []string{s.msgID(ev.ID)},
			jetstream.ExpectedStreamHeader: []string{s.name},
			HeaderKind:                     []string{ev.Kind},
		},
		Data: ev.Payload,
	}, nil
}

// Publish publishes one event to <prefix>.<ev.Subject> and waits for
// JetStream to store it. Publishing an event id again within the duplicate
// window succeeds without storing a second copy.
func (s *Stream) Publish(ctx context.Context, ev parley.Event) error {
	if s.closing() {
		return ErrClosed
	}
	m, err := s.message(ev)
	if err != nil {
		return err
	}
	ack, err := s.js.PublishMsg(ctx, m)
	if err != nil {
		return fmt.Errorf("stream: publish event %d: %w", ev.ID, err)
	}
	if ack.Duplicate {
		s.duplicates.Add(1)
	}
	return nil
}

// PublishBatch publishes events in slice order without waiting for each ack,
// then waits for all of them: one round trip per batch rather than per
// event, which is what lets the relay keep up with thousands of events a
// second. acked is the length of the prefix of evs that JetStream stored
// (or recognised as duplicates); on error the caller retries evs[acked:].
// Counting only a prefix keeps the outbox deleting in id order: a later
// event acked after an earlier one failed is re-published and dropped as a
// duplicate.
func (s *Stream) PublishBatch(ctx context.Context, evs []parley.Event) (acked int, err error) {
	if s.closing() {
		return 0, ErrClosed
	}
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	var pubErr error
	for _, ev := range evs {
		m, err := s.message(ev)
		if err != nil {
			pubErr = err
			break
		}
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			pubErr = fmt.Errorf("stream: publish event %d: %w", ev.ID, err)
			break
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				s.duplicates.Add(1)
			}
			acked++
		case err := <-f.Err():
			return acked, fmt.Errorf("stream: publish event %d: %w", evs[i].ID, err)
		case <-ctx.Done():
			return acked, ctx.Err()
		}
	}
	return acked, pubErr
}

// validSubject checks a relative subject (or prefix): dot-separated tokens,
// none empty, no whitespace. Wildcards ('*' as a token, '>' as the last
// token) are allowed only in a subscription filter.
func validSubject(subj string, wildcards bool) error {
	if subj == "" {
		return errors.New("empty subject")
	}
	tokens := strings.Split(subj, ".")
	for i, t := range tokens {
		if t == "" {
			return errors.New("empty subject token")
		}
		if strings.ContainsAny(t, " \t\r\n") {
			return errors.New("whitespace in subject")
		}
		if strings.ContainsAny(t, "*>") {
			if !wildcards || (t != "*" && t != ">") || (t == ">" && i != len(tokens)-1) {
				return errors.New("misplaced wildcard in subject")
			}
		}
	}
	return nil
}

// natsLogger sends the embedded server's log to slog. Notices (the start-up
// banner, mostly) go to debug so that a normal start is quiet.
type natsLogger struct{ log *slog.Logger }

func (l natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l natsLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l natsLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l natsLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l natsLogger) Tracef(format string, v ...any)  {}
