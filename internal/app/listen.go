package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// CookiesSecure reports whether session cookies are marked Secure, so that
// a browser sends them only over HTTPS. -secure-cookies=true and false say
// so; auto, the default, marks them Secure unless the server listens on a
// loopback address only: there it is the demo or a developer's server,
// reached over plain http://127.0.0.1, where a browser would not send a
// Secure cookie back (Safari) and the session would not hold. Behind an
// HTTPS proxy on the same machine, set -secure-cookies=true.
func (c *Config) CookiesSecure() bool {
	switch c.SecureCookies {
	case "true":
		return true
	case "false":
		return false
	}
	return !loopbackOnly(c.Addr)
}

// MetricsOnPublicPort reports whether /metrics is served on the public
// port: not when -metrics-addr gives it an address of its own; otherwise
// when a -metrics-token guards it, or when the server listens on loopback
// only (the demo, a developer's server, the benchmarks). A server that
// listens on the network with neither serves no metrics: they tell anyone
// who asks how busy it is and what it runs.
func (c *Config) MetricsOnPublicPort() bool {
	return c.MetricsAddr == "" && (c.MetricsToken != "" || loopbackOnly(c.Addr))
}

// minMetricsToken is the shortest -metrics-token accepted.
const minMetricsToken = 16

func (c *Config) validateListeners() error {
	switch c.SecureCookies {
	case "", "auto", "true", "false":
	default:
		return fmt.Errorf("config: -secure-cookies must be auto, true or false, not %q", c.SecureCookies)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("config: -metrics-addr %q must be host:port, such as 127.0.0.1:9464", c.MetricsAddr)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < minMetricsToken {
		return fmt.Errorf("config: -metrics-token must be at least %d characters", minMetricsToken)
	}
	return nil
}

// loopbackOnly reports whether a listen address (host:port) reaches only
// this machine: localhost or a loopback address. An empty host (":8080")
// listens on every interface.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// envSecureCookies is the -secure-cookies flag: auto, or a boolean (given
// alone, it means true).
func envSecureCookies(p *string, env string) envValue {
	return fromEnv(env, envValue{
		set: func(s string) error {
			if s == "auto" {
				*p = s
				return nil
			}
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("not auto, true or false")
			}
			*p = strconv.FormatBool(b)
			return nil
		},
		get:    func() string { return *p },
		isBool: true,
	})
}

// startMetrics serves /metrics on -metrics-addr until ctx ends.
func (a *App) startMetrics(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("app: listen on -metrics-addr %s: %w", a.Config.MetricsAddr, err)
	}
	a.metricsListener = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.API.MetricsHandler())
	a.serveAside(ctx, ln, mux)
	a.Log.Info("metrics listening", "url", a.MetricsURL())
	return nil
}

// MetricsURL is where /metrics is served ("" when nowhere).
func (a *App) MetricsURL() string {
	switch {
	case a.metricsListener != nil:
		return "http://" + a.metricsListener.Addr().String() + "/metrics"
	case a.Config.MetricsOnPublicPort() && a.listener != nil:
		return a.URL() + "/metrics"
	}
	return ""
}
