package app_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"parley/internal/app"
)

// TestCookiesSecureUnlessLoopback checks the rule for Secure session
// cookies: on by default, off by default only on a server that listens on
// loopback alone (the demo over plain http://127.0.0.1), and as the flag
// says when it says so.
func TestCookiesSecureUnlessLoopback(t *testing.T) {
	for _, c := range []struct {
		addr, flag string
		want       bool
	}{
		{"127.0.0.1:8080", "auto", false},
		{"[::1]:8080", "auto", false},
		{"localhost:8080", "auto", false},
		{":8080", "auto", true},
		{"0.0.0.0:8080", "auto", true},
		{"192.0.2.10:8080", "auto", true},
		{"parley.example:443", "auto", true},
		{"127.0.0.1:8080", "true", true},
		{"0.0.0.0:8080", "false", false},
	} {
		cfg := app.DefaultConfig()
		cfg.Addr, cfg.SecureCookies = c.addr, c.flag
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s %s: %v", c.addr, c.flag, err)
		}
		if got := cfg.CookiesSecure(); got != c.want {
			t.Errorf("-addr %s -secure-cookies=%s: Secure %v, want %v", c.addr, c.flag, got, c.want)
		}
	}
}

// TestMetricsOnThePublicPortOnlyWhenSafe checks where /metrics is served
// by default: on the public port of a loopback server or behind a token,
// never on the public port when it has an address of its own, and nowhere
// on a server that listens on the network without either.
func TestMetricsOnThePublicPortOnlyWhenSafe(t *testing.T) {
	for _, c := range []struct {
		addr, metricsAddr, token string
		want                     bool
	}{
		{"127.0.0.1:8080", "", "", true},
		{"0.0.0.0:8080", "", "", false},
		{"0.0.0.0:8080", "", "a-long-enough-token", true},
		{"0.0.0.0:8080", "127.0.0.1:9464", "", false},
		{"127.0.0.1:8080", "127.0.0.1:9464", "", false},
		{"127.0.0.1:8080", "127.0.0.1:9464", "a-long-enough-token", false},
	} {
		cfg := app.DefaultConfig()
		cfg.Addr, cfg.MetricsAddr, cfg.MetricsToken = c.addr, c.metricsAddr, c.token
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got := cfg.MetricsOnPublicPort(); got != c.want {
			t.Errorf("-addr %s -metrics-addr %q token %v: on the public port %v, want %v", c.addr, c.metricsAddr, c.token != "", got, c.want)
		}
	}
}

func TestListenerSettingsAreChecked(t *testing.T) {
	for name, change := range map[string]func(*app.Config){
		"secure cookies maybe": func(c *app.Config) { c.SecureCookies = "maybe" },
		"short metrics token":  func(c *app.Config) { c.MetricsToken = "short" },
		"metrics addr no port": func(c *app.Config) { c.MetricsAddr = "127.0.0.1" },
	} {
		cfg := app.DefaultConfig()
		change(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}

func TestSecureCookiesFlag(t *testing.T) {
	for args, want := range map[string]string{
		"":                     "auto",
		"-secure-cookies":      "true",
		"-secure-cookies=auto": "auto",
		"-secure-cookies=0":    "false",
		"-secure-cookies=TRUE": "true",
	} {
		cfg := app.DefaultConfig()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.Flags(fs)
		if err := fs.Parse(strings.Fields(args)); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if cfg.SecureCookies != want {
			t.Errorf("%q: -secure-cookies is %q, want %q", args, cfg.SecureCookies, want)
		}
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := app.DefaultConfig()
	cfg.Flags(fs)
	if err := fs.Parse([]string{"-secure-cookies=perhaps"}); err == nil {
		t.Error("-secure-cookies=perhaps was accepted")
	}
}
