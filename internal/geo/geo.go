// Package geo tells the country of a client address from a table of
// address ranges the operator provides (for example an export of a GeoIP
// database as "CIDR,country" lines): the address a trusted proxy passes on
// (for deployments whose proxy does not pass on the country), or the
// connection's own peer when clients connect straight to the server. What
// is withheld in which country depends on it (see parley.ViewerOf).
package geo

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// MaxRanges bounds a table: a full country table of the whole IPv4 and IPv6
// space is a few hundred thousand ranges.
const MaxRanges = 5_000_000

// maxLine bounds one line of a table.
const maxLine = 256

// Ranges maps address ranges to countries. The zero value maps nothing.
// It is safe for concurrent use once loaded.
type Ranges struct {
	// byLength holds, for each address family and prefix length present,
	// the ranges of that length, sorted by address; longest first, so that
	// a lookup tries the most specific with one binary search per length.
	byLength [][]entry
}

type entry struct {
	p  netip.Prefix
	cc string
}

// Load reads a table of lines "CIDR,CC" (CC an ISO 3166-1 alpha-2 code;
// blank lines and lines starting with # are skipped). valid says which
// country codes are known. Every bad line is reported, with its number,
// and nothing is loaded then.
func Load(r io.Reader, valid func(string) bool) (*Ranges, error) {
	var entries []entry
	var problems []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxLine), maxLine)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cidr, cc, ok := strings.Cut(text, ",")
		cc = strings.ToUpper(strings.TrimSpace(cc))
		p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("line %d: want CIDR,COUNTRY", line))
		case err != nil:
			problems = append(problems, fmt.Sprintf("line %d: %q is not a CIDR range", line, cidr))
		case !valid(cc):
			problems = append(problems, fmt.Sprintf("line %d: %q is not an ISO 3166-1 alpha-2 country code", line, cc))
		default:
			p = p.Masked()
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			entries = append(entries, entry{p, cc})
		}
		if len(entries) > MaxRanges {
			return nil, fmt.Errorf("geo: more than %d ranges", MaxRanges)
		}
		if len(problems) >= 20 {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("geo: line %d: %w", line+1, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("geo: %s", strings.Join(problems, "; "))
	}
	// Longest first, then by address (netip sorts IPv4 before IPv6); stable,
	// so that of one range listed twice the first line wins.
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.p.Bits(), a.p.Bits()), a.p.Addr().Compare(b.p.Addr()))
	})
	out := &Ranges{}
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].p.Bits() == entries[i].p.Bits() && entries[j].p.Addr().Is4() == entries[i].p.Addr().Is4() {
			j++
		}
		out.byLength = append(out.byLength, entries[i:j:j])
		i = j
	}
	return out, nil
}

// Country returns the country of addr, or "" when no range holds it.
func (r *Ranges) Country(addr netip.Addr) string {
	if r == nil {
		return ""
	}
	addr = addr.Unmap()
	for _, rs := range r.byLength {
		if rs[0].p.Addr().Is4() != addr.Is4() {
			continue
		}
		p, err := addr.Prefix(rs[0].p.Bits())
		if err != nil {
			continue
		}
		i, found := slices.BinarySearchFunc(rs, p.Addr(), func(e entry, a netip.Addr) int { return e.p.Addr().Compare(a) })
		if found {
			return rs[i].cc
		}
	}
	return ""
}

// ClientAddress returns the client's address from a forwarding header
// (X-Forwarded-For: "client, proxy1, proxy2"): the right-most address that
// is not one of the trusted proxies, since each proxy appends the address
// it received the request from, and only what trusted proxies appended can
// be believed.
func ClientAddress(header string, trusted func(netip.Addr) bool) (netip.Addr, bool) {
	parts := strings.Split(header, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		a = a.Unmap()
		if !trusted(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}
