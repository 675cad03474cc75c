package geo

import (
	"net/netip"
	"strings"
	"testing"
)

func valid(cc string) bool { return len(cc) == 2 && cc != "XX" }

func TestLoadAndLookup(t *testing.T) {
	table := `# test table
203.0.113.0/24,DE
203.0.113.128/25,FR
198.51.100.0/24,at
2001:db8::/32,NL
2001:db8:1::/48,BE
2001:d00::/24,SE
198.51.100.0/24,CH
`
	r, err := Load(strings.NewReader(table), valid)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"203.0.113.7":        "DE",
		"203.0.113.200":      "FR", // the longer range wins
		"198.51.100.1":       "AT", // listed twice: the first line wins
		"2001:d00::1":        "SE", // an IPv6 range as long as an IPv4 one
		"192.0.2.1":          "",
		"2001:db8:2::1":      "NL",
		"2001:db8:1::5":      "BE",
		"::ffff:203.0.113.9": "DE",
	} {
		if got := r.Country(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Country(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestLoadReportsEveryBadLine(t *testing.T) {
	_, err := Load(strings.NewReader("10.0.0.0/8,DE\nnot a range,FR\n10.1.0.0/16,XX\n10.2.0.0/16\n"), valid)
	if err == nil {
		t.Fatal("a table with bad lines loaded")
	}
	for _, want := range []string{"line 2", "line 3", "line 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestClientAddress(t *testing.T) {
	trusted := func(a netip.Addr) bool { return a.String() == "10.0.0.1" || a.String() == "10.0.0.2" }
	for header, want := range map[string]string{
		"203.0.113.7":                         "203.0.113.7",
		"198.51.100.9, 203.0.113.7, 10.0.0.1": "203.0.113.7", // a client may forge the left part
		"203.0.113.7, 10.0.0.2, 10.0.0.1":     "203.0.113.7",
		"10.0.0.1":                            "",
		"garbage":                             "",
	} {
		a, ok := ClientAddress(header, trusted)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("ClientAddress(%q) = %q, want %q", header, got, want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("203.0.113.0/24,DE\n2001:db8::/32,NL\n")
	f.Add("# comment\n\n10.0.0.0/8,fr")
	f.Add("::ffff:1.2.3.4/120,DE")
	f.Fuzz(func(t *testing.T, table string) {
		r, err := Load(strings.NewReader(table), valid)
		if err != nil {
			return
		}
		for _, a := range []string{"203.0.113.1", "10.1.2.3", "2001:db8::1", "1.2.3.4"} {
			if c := r.Country(netip.MustParseAddr(a)); c != "" && !valid(c) {
				t.Fatalf("Country(%s) = %q, not a valid code", a, c)
			}
		}
	})
}
