package app_test

import (
	"testing"

	"parley/internal/app"
)

func TestUserContactIsAnEmailOrWebAddress(t *testing.T) {
	for contact, ok := range map[string]bool{
		"":                            true,
		"appeals@parley.example":      true,
		"https://parley.example/help": true,
		"http://parley.example":       true,
		"appeals at parley":           false,
		"javascript:alert(1)":         false,
		`"x"@parley.example`:          false,
		"a@b@c":                       false,
	} {
		cfg := app.DefaultConfig()
		cfg.UserContact = contact
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("-user-contact %q: Validate() = %v, want ok %v", contact, err, ok)
		}
	}
}

// A header anyone can set must not decide what is withheld from whom, so the
// viewer's-country headers are refused unless the proxies setting them are
// named, and a client address is useless without ranges to look it up in.
// The ranges alone are a trusted source: they place a direct connection's
// peer, which cannot be forged.
func TestViewerCountrySettingsNeedTrustedProxies(t *testing.T) {
	for _, c := range []struct {
		name                            string
		countryHeader, addrHeader, rngs string
		proxies                         string
		ok                              bool
	}{
		{name: "none", ok: true},
		{name: "country header with proxies", countryHeader: "CF-IPCountry", proxies: "10.0.0.0/8", ok: true},
		{name: "country header alone", countryHeader: "CF-IPCountry"},
		{name: "address header with ranges and proxies", addrHeader: "X-Forwarded-For", rngs: "ranges.csv", proxies: "10.0.0.1", ok: true},
		{name: "address header without proxies", addrHeader: "X-Forwarded-For", rngs: "ranges.csv"},
		{name: "address header without ranges", addrHeader: "X-Forwarded-For", proxies: "10.0.0.1"},
		{name: "ranges without address header", rngs: "ranges.csv", proxies: "10.0.0.1", ok: true},
		{name: "ranges alone, for direct connections", rngs: "ranges.csv", ok: true},
	} {
		cfg := app.DefaultConfig()
		cfg.CountryHeader, cfg.ClientAddressHeader, cfg.CountryRanges, cfg.TrustedProxies = c.countryHeader, c.addrHeader, c.rngs, c.proxies
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", c.name, err, c.ok)
		}
	}
}
