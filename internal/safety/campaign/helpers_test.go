package campaign

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
)

// t0 is the time the tests' posts start at.
var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// newDetector returns a detector for cfg or fails the test.
func newDetector(t testing.TB, cfg Config) *Detector {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return d
}

// postIDs returns the post IDs of members.
func postIDs(members []Member) []int64 {
	var ids []int64
	for _, m := range members {
		ids = append(ids, m.PostID)
	}
	return ids
}

// checkInvariants checks that the detector's tables agree with each other:
// every stored post is on the timeline, in the ID map and in its group;
// group account counts are right; campaigns point at live groups; every
// post is filed in the index under no more buckets than its bands.
func checkInvariants(t testing.TB, d *Detector) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.invariantError(); err != nil {
		t.Fatal(err)
	}
}

func (d *Detector) invariantError() error {
	if len(d.byID) != d.timeline.len() {
		return fmt.Errorf("%d posts by ID, %d on the timeline", len(d.byID), d.timeline.len())
	}
	if d.timeline.len() > d.cfg.MaxPosts {
		return fmt.Errorf("%d posts stored, more than MaxPosts %d", d.timeline.len(), d.cfg.MaxPosts)
	}
	cutoff := d.cutoff()
	for _, e := range d.timeline.heap {
		p := &d.posts[e.slot]
		if p.at != e.at || p.seq != e.seq {
			return fmt.Errorf("timeline entry %+v does not match post %+v", e, p)
		}
		if p.at < cutoff {
			return fmt.Errorf("post %d at %d is older than the window (cutoff %d)", p.id, p.at, cutoff)
		}
		if s, ok := d.byID[p.id]; !ok || s != e.slot {
			return fmt.Errorf("post %d: ID map has slot %d, %v; timeline has %d", p.id, s, ok, e.slot)
		}
		if g := p.group; g >= 0 {
			if d.groups[g] == nil || int(p.memberAt) >= len(d.groups[g].members) || d.groups[g].members[p.memberAt] != e.slot {
				return fmt.Errorf("post %d is not where its group %d says", p.id, g)
			}
		}
	}
	live := 0
	for n, g := range d.groups {
		if g == nil {
			continue
		}
		live++
		if len(g.members) == 0 {
			return fmt.Errorf("group %d has no members", n)
		}
		counts := map[int64]int32{}
		for _, m := range g.members {
			if d.posts[m].group != int32(n) {
				return fmt.Errorf("member slot %d of group %d says group %d", m, n, d.posts[m].group)
			}
			counts[d.posts[m].account]++
		}
		if g.campaign == 0 {
			if len(g.accounts) >= d.cfg.MinAccounts {
				return fmt.Errorf("group %d has %d accounts but is no campaign", n, len(g.accounts))
			}
			if fmt.Sprint(counts) != fmt.Sprint(g.accounts) {
				return fmt.Errorf("group %d counts accounts %v, members give %v", n, g.accounts, counts)
			}
		} else if d.campaigns[g.campaign] != int32(n) {
			return fmt.Errorf("group %d is campaign %d, which the campaign map puts in group %d", n, g.campaign, d.campaigns[g.campaign])
		}
	}
	for id, g := range d.campaigns {
		if d.groups[g] == nil || d.groups[g].campaign != id {
			return fmt.Errorf("campaign %d points at group %d, which is not it", id, g)
		}
	}
	filed := 0
	for b := range d.index.tables {
		t := &d.index.tables[b]
		n := 0
		for _, e := range t.entries {
			if e == 0 {
				continue
			}
			n++
			v := int32(uint32(e))
			if v >= 0 {
				filed++
			} else {
				l := d.index.lists[-1-v]
				if len(l) < 2 || len(l) > bucketCap {
					return fmt.Errorf("bucket list of length %d", len(l))
				}
				filed += len(l)
			}
		}
		if n != t.count {
			return fmt.Errorf("band table %d counts %d entries, holds %d", b, t.count, n)
		}
	}
	if filed > bandCount*d.timeline.len() {
		return fmt.Errorf("index files %d entries for %d posts", filed, d.timeline.len())
	}
	return nil
}

// wantInvalid checks that err is an EInvalid *parley.Error naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var pe *parley.Error
	if !errors.As(err, &pe) || pe.Code != parley.EInvalid || pe.Field != field {
		t.Errorf("error %v, want EInvalid on field %q", err, field)
	}
}

// sameIDs reports whether a and b hold the same post IDs, in any order.
func sameIDs(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
