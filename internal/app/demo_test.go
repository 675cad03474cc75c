package app_test

import (
	"net/netip"
	"os"
	"testing"

	"parley/internal/app"
	"parley/internal/auth"
	"parley/internal/geo"
)

// TestDemoCountryRanges checks that the ranges file the demo writes is one
// -country-ranges accepts and that it places this machine's browsers where
// the demo's withholding order applies.
func TestDemoCountryRanges(t *testing.T) {
	path, country, err := app.WriteDemoCountryRanges(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if country != app.DemoCountry {
		t.Fatalf("country %q, want %q", country, app.DemoCountry)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ranges, err := geo.Load(f, auth.IsCountryCode)
	if err != nil {
		t.Fatalf("the demo's ranges file does not load: %v", err)
	}
	for _, a := range []string{"127.0.0.1", "127.0.0.2", "::1"} {
		if got := ranges.Country(netip.MustParseAddr(a)); got != app.DemoCountry {
			t.Errorf("%s is placed in %q, want %q", a, got, app.DemoCountry)
		}
	}
	if got := ranges.Country(netip.MustParseAddr("192.0.2.1")); got != "" {
		t.Errorf("an address off this machine is placed in %q, want none", got)
	}
}
