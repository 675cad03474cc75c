// Package app wires Parley together: storage, event stream, services, the
// HTTP server, the outbox relay and the live hub. cmd/parley builds a Config
// from flags and environment and runs an App; end-to-end tests start the
// same App on port 0.
package app

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything that can be set from flags or PARLEY_* variables.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	NATSURL         string
	NATSPrefix      string
	LogLevel        string
	LogFormat       string
	MaxImageBytes   int64
	MaxImagePixels  int64
	SignInPerMinute float64
	// SecureCookies is "auto", "true" or "false"; see CookiesSecure.
	SecureCookies   string
	ShutdownTimeout time.Duration
	// MetricsAddr, when set, serves /metrics on an address of its own and
	// not on the public port; MetricsToken, when set, is the bearer token
	// /metrics asks for wherever it is served. See MetricsOnPublicPort.
	MetricsAddr  string
	MetricsToken string

	// MaxImageDecodeBytes is the most memory decoding one image may take,
	// worked out from its header before decoding (see internal/media).
	MaxImageDecodeBytes int64
	// DecodeMemory is the memory the image decodes running at once may
	// take together; an upload waits up to DecodeWait for its share and is
	// then refused with 503.
	DecodeMemory int64
	DecodeWait   time.Duration
	// UploadsPerMinute is how many images a member may upload a minute, in
	// bursts of as many.
	UploadsPerMinute float64

	// PUIDNamespace prefixes the puids of statements of reasons sent to the
	// Transparency Database; fixed for a deployment (see internal/sor).
	PUIDNamespace string
	// EvidenceRetention is how long removed content is kept as evidence.
	EvidenceRetention time.Duration
	// The viewer's country decides what is withheld from whom; it comes
	// only from these trusted sources, never from an account's profile.
	// With none of them set every viewer's country is unknown (the server
	// warns at start). CountryHeader names a request header carrying the
	// viewer's country (such as CF-IPCountry), set by a proxy in
	// TrustedProxies.
	CountryHeader  string
	TrustedProxies string // comma-separated addresses or CIDR ranges
	// CountryRanges is a file of "CIDR,CC" lines that tells the country of
	// a client address: of the connection's peer when the request did not
	// come through a trusted proxy, and of the address a trusted proxy
	// passed on in ClientAddressHeader (such as X-Forwarded-For) when no
	// CountryHeader says the country.
	ClientAddressHeader string
	CountryRanges       string
	// CampaignMinMembers is the size from which a group's posts go to the
	// campaign detector (channels' always do). Coordinated spam is aimed at
	// an audience; a small group of people who know each other is neither
	// worth the detector's ~25 µs per post nor for the detector to read.
	CampaignMinMembers int64
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on a
	// loopback address of its own, for measuring the server under load.
	DebugAddr string
	// Rescan runs the re-screening worker in this process. Several
	// processes may all run it (enforcement refuses to act twice), but one
	// is enough.
	Rescan bool
	// UserContact is how members reach the platform about a decision (an
	// email address or an http(s) address), shown with every statement of
	// reasons in the web client.
	UserContact string
}

// DefaultConfig is the embedded default: SQLite and NATS in-process, data in
// ./data, listening on loopback only.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "data",
		NATSPrefix:      "parley",
		LogLevel:        "info",
		LogFormat:       "text",
		MaxImageBytes:   10 << 20,
		MaxImagePixels:  40_000_000,
		SignInPerMinute: 20,
		SecureCookies:   "auto",
		ShutdownTimeout: 15 * time.Second,

		MaxImageDecodeBytes: 256 << 20,
		DecodeMemory:        512 << 20,
		DecodeWait:          10 * time.Second,
		UploadsPerMinute:    30,

		PUIDNamespace:      "parley",
		EvidenceRetention:  183 * 24 * time.Hour,
		Rescan:             true,
		CampaignMinMembers: 20,
	}
}

// Flags registers every setting on fs. Each flag's default is taken from
// its PARLEY_* variable when that is set, so flags override environment and
// environment overrides the built-in default.
func (c *Config) Flags(fs *flag.FlagSet) {
	str := func(p *string, name, env, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" ("+env+")")
	}
	str(&c.Addr, "addr", "PARLEY_ADDR", "address to listen on, host:port; port 0 picks a free port")
	str(&c.DataDir, "data-dir", "PARLEY_DATA_DIR", "directory for the SQLite database, media files and embedded event stream")
	str(&c.DatabaseURL, "database-url", "PARLEY_DATABASE_URL", "database URL; empty uses SQLite in the data directory")
	str(&c.NATSURL, "nats-url", "PARLEY_NATS_URL", "external NATS server URL (JetStream enabled); empty runs NATS inside the process, listening on no port")
	str(&c.NATSPrefix, "nats-prefix", "PARLEY_NATS_PREFIX", "subject prefix and stream name of the event stream, to share one NATS between deployments")
	str(&c.LogLevel, "log-level", "PARLEY_LOG_LEVEL", "log level: debug, info, warn or error")
	str(&c.LogFormat, "log-format", "PARLEY_LOG_FORMAT", "log format: text or json")
	fs.Var(envInt(&c.MaxImageBytes, "PARLEY_MAX_IMAGE_BYTES"), "max-image-bytes", "largest accepted image file, in bytes (PARLEY_MAX_IMAGE_BYTES)")
	fs.Var(envInt(&c.MaxImagePixels, "PARLEY_MAX_IMAGE_PIXELS"), "max-image-pixels", "largest accepted image, in pixels (width × height), checked before decoding (PARLEY_MAX_IMAGE_PIXELS)")
	fs.Var(envInt(&c.MaxImageDecodeBytes, "PARLEY_MAX_IMAGE_DECODE_BYTES"), "max-image-decode-bytes", "most memory decoding one image may take, in bytes, worked out from its header before decoding (PARLEY_MAX_IMAGE_DECODE_BYTES)")
	fs.Var(envInt(&c.DecodeMemory, "PARLEY_DECODE_MEMORY"), "decode-memory", "memory the image decodes running at once may take together, in bytes; uploads wait for their share (PARLEY_DECODE_MEMORY)")
	fs.Var(envDuration(&c.DecodeWait, "PARLEY_DECODE_WAIT"), "decode-wait", "how long an upload waits for decoding memory before it is refused with 503 (PARLEY_DECODE_WAIT)")
	fs.Var(envFloat(&c.UploadsPerMinute, "PARLEY_UPLOADS_PER_MINUTE"), "uploads-per-minute", "images each member may upload per minute, in bursts of as many (PARLEY_UPLOADS_PER_MINUTE)")
	fs.Var(envFloat(&c.SignInPerMinute, "PARLEY_SIGNIN_PER_MINUTE"), "signin-per-minute", "sign-in and sign-up attempts allowed per client address per minute (PARLEY_SIGNIN_PER_MINUTE)")
	fs.Var(envSecureCookies(&c.SecureCookies, "PARLEY_SECURE_COOKIES"), "secure-cookies", "mark session cookies Secure: auto (unless listening on loopback only), true or false (PARLEY_SECURE_COOKIES)")
	str(&c.MetricsAddr, "metrics-addr", "PARLEY_METRICS_ADDR", "address to serve /metrics on, apart from the public port (e.g. 127.0.0.1:9464); empty: on the public port when it listens on loopback only or -metrics-token is set")
	str(&c.MetricsToken, "metrics-token", "PARLEY_METRICS_TOKEN", "bearer token /metrics asks for, wherever it is served (better set in the environment than on the command line)")
	fs.Var(envDuration(&c.ShutdownTimeout, "PARLEY_SHUTDOWN_TIMEOUT"), "shutdown-timeout", "how long a graceful shutdown waits for requests to finish (PARLEY_SHUTDOWN_TIMEOUT)")
	str(&c.PUIDNamespace, "puid-namespace", "PARLEY_PUID_NAMESPACE", "prefix of the puids of statements of reasons sent to the EU Transparency Database; set once per deployment and never reuse one")
	fs.Var(envDuration(&c.EvidenceRetention, "PARLEY_EVIDENCE_RETENTION"), "evidence-retention", "how long removed content is kept as evidence, unless a legal hold keeps it longer (PARLEY_EVIDENCE_RETENTION)")
	str(&c.CountryHeader, "country-header", "PARLEY_COUNTRY_HEADER", "request header with the viewer's ISO country code, set by a proxy in -trusted-proxies (e.g. CF-IPCountry); decides what is withheld where")
	fs.Var(envInt(&c.CampaignMinMembers, "PARLEY_CAMPAIGN_MIN_MEMBERS"), "campaign-min-members", "smallest group whose posts the campaign detector reads; channels always (PARLEY_CAMPAIGN_MIN_MEMBERS)")
	str(&c.DebugAddr, "debug-addr", "PARLEY_DEBUG_ADDR", "loopback address to serve Go's profiler on (net/http/pprof), e.g. 127.0.0.1:6060; empty: off")
	fs.Var(envBool(&c.Rescan, "PARLEY_RESCAN"), "rescan", "screen stored content again when hash banks or rules change; one process of a deployment is enough (PARLEY_RESCAN)")
	str(&c.ClientAddressHeader, "client-address-header", "PARLEY_CLIENT_ADDRESS_HEADER", "request header with the client's address, set by a trusted proxy (e.g. X-Forwarded-For); its country comes from -country-ranges")
	str(&c.CountryRanges, "country-ranges", "PARLEY_COUNTRY_RANGES", "file of CIDR,COUNTRY lines telling the country of a client address (e.g. an export of a GeoIP database): of a direct connection's peer, or of the address a trusted proxy forwards in -client-address-header")
	str(&c.TrustedProxies, "trusted-proxies", "PARLEY_TRUSTED_PROXIES", "comma-separated addresses or CIDR ranges of proxies whose -country-header and -client-address-header are believed; other requests' headers are ignored")
	str(&c.UserContact, "user-contact", "PARLEY_USER_CONTACT", "email address or web address where members reach the platform about a decision, shown with every statement of reasons")
}

// Validate checks the configuration and says what is wrong.
func (c *Config) Validate() error {
	if c.Addr == "" {
		return fmt.Errorf("config: -addr must not be empty")
	}
	if c.DataDir == "" {
		return fmt.Errorf("config: -data-dir must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		return fmt.Errorf("config: -database-url %q: only sqlite:PATH is supported in this version; PostgreSQL is planned behind the same store interface", c.DatabaseURL)
	}
	if _, err := c.slogLevel(); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: -log-format must be text or json, not %q", c.LogFormat)
	}
	if c.MaxImageBytes < 1024 || c.MaxImagePixels < 1024 {
		return fmt.Errorf("config: image limits are too small to accept any photo")
	}
	if c.MaxImageDecodeBytes < 16<<20 {
		return fmt.Errorf("config: -max-image-decode-bytes must be at least 16 MiB (16777216) to decode a photo")
	}
	if c.DecodeMemory < c.MaxImageDecodeBytes {
		return fmt.Errorf("config: -decode-memory (%d) must be at least -max-image-decode-bytes (%d): the largest accepted image must fit in it", c.DecodeMemory, c.MaxImageDecodeBytes)
	}
	if c.DecodeWait <= 0 || c.DecodeWait > 5*time.Minute {
		return fmt.Errorf("config: -decode-wait must be between 0 and 5m, not %s", c.DecodeWait)
	}
	if c.UploadsPerMinute < 1 {
		return fmt.Errorf("config: -uploads-per-minute must be at least 1")
	}
	if c.SignInPerMinute <= 0 {
		return fmt.Errorf("config: -signin-per-minute must be positive")
	}
	if err := c.validateListeners(); err != nil {
		return err
	}
	if !puidNamespaceRE.MatchString(c.PUIDNamespace) {
		return fmt.Errorf("config: -puid-namespace %q must be 1 to 64 ASCII letters, digits or underscores", c.PUIDNamespace)
	}
	if c.EvidenceRetention < 24*time.Hour {
		return fmt.Errorf("config: -evidence-retention %s is shorter than a day; removed content must be kept for investigators", c.EvidenceRetention)
	}
	if _, err := c.TrustedProxyNets(); err != nil {
		return err
	}
	if c.UserContact != "" && !userContactRE.MatchString(c.UserContact) {
		return fmt.Errorf("config: -user-contact %q must be an email address or an http(s) address", c.UserContact)
	}
	if c.CampaignMinMembers < 0 {
		return fmt.Errorf("config: -campaign-min-members must not be negative")
	}
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		ip := net.ParseIP(host)
		if err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("config: -debug-addr %q must be a loopback address such as 127.0.0.1:6060: the profiler must not be reachable from the network", c.DebugAddr)
		}
	}
	if c.ClientAddressHeader != "" && c.CountryRanges == "" {
		return fmt.Errorf("config: -client-address-header needs -country-ranges: the address is looked up in the ranges")
	}
	if c.ClientAddressHeader != "" && c.TrustedProxies == "" {
		return fmt.Errorf("config: -client-address-header needs -trusted-proxies: a header anyone can set must not decide what is withheld")
	}
	if c.CountryHeader != "" && c.TrustedProxies == "" {
		return fmt.Errorf("config: -country-header needs -trusted-proxies: a header anyone can set must not decide what is withheld")
	}
	return nil
}

var puidNamespaceRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// userContactRE accepts an email address or an http(s) address, without
// spaces or quotes.
var userContactRE = regexp.MustCompile(`^(https?://[^\s"'<>]+|[^\s"'<>@]+@[^\s"'<>@]+)$`)

// TrustedProxyNets parses TrustedProxies.
func (c *Config) TrustedProxyNets() ([]netip.Prefix, error) {
	var nets []netip.Prefix
	for _, part := range strings.Split(c.TrustedProxies, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("config: -trusted-proxies: %q is not an address or CIDR range", part)
			}
			nets = append(nets, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("config: -trusted-proxies: %q is not an address or CIDR range", part)
		}
		nets = append(nets, p.Masked())
	}
	return nets, nil
}

func (c *Config) slogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("config: -log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return l, nil
}

// NewLogger returns the logger the configuration asks for.
func (c *Config) NewLogger() *slog.Logger {
	level, _ := c.slogLevel()
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// DatabasePath is the SQLite file the configuration names.
func (c *Config) DatabasePath() string {
	if p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok && p != "" {
		return p
	}
	return c.DataDir + "/parley.db"
}

type envValue struct {
	set    func(string) error
	get    func() string
	isBool bool
}

// IsBoolFlag lets a boolean flag be given without a value.
func (v envValue) IsBoolFlag() bool { return v.isBool }

func (v envValue) Set(s string) error { return v.set(s) }
func (v envValue) String() string {
	if v.get == nil {
		return ""
	}
	return v.get()
}

// fromEnv applies an environment variable's value through v, panicking
// with a clear message on a bad value: configuration errors stop the
// program before it starts.
func fromEnv(env string, v envValue) envValue {
	if s, ok := os.LookupEnv(env); ok {
		if err := v.set(s); err != nil {
			fmt.Fprintf(os.Stderr, "parley: %s=%q: %v\n", env, s, err)
			os.Exit(2)
		}
	}
	return v
}

func envInt(p *int64, env string) envValue {
	return fromEnv(env, envValue{
		set: func(s string) error {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("not a whole number")
			}
			*p = n
			return nil
		},
		get: func() string { return strconv.FormatInt(*p, 10) },
	})
}

func envFloat(p *float64, env string) envValue {
	return fromEnv(env, envValue{
		set: func(s string) error {
			n, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("not a number")
			}
			*p = n
			return nil
		},
		get: func() string { return strconv.FormatFloat(*p, 'g', -1, 64) },
	})
}

func envBool(p *bool, env string) envValue {
	return fromEnv(env, envValue{
		set: func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("not true or false")
			}
			*p = b
			return nil
		},
		get:    func() string { return strconv.FormatBool(*p) },
		isBool: true,
	})
}

func envDuration(p *time.Duration, env string) envValue {
	return fromEnv(env, envValue{
		set: func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("not a duration such as 15s")
			}
			*p = d
			return nil
		},
		get: func() string { return p.String() },
	})
}
