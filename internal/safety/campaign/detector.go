package campaign

import (
	"math"
	"slices"
	"sync"
	"time"

	"parley"
)

// CampaignID names a campaign. It is the ID of the campaign's founding post:
// the earliest observed of its members still in the window when the group
// became a campaign. Deriving it from a post, not from a counter, keeps it
// the same when the detector is rebuilt at start-up from the posts of the
// window (see Replay). Zero means no campaign.
type CampaignID int64

// Post is what the detector observes: a public post and who posted it
// where. At is the time the server accepted the post; it is the detector's
// only clock.
type Post struct {
	ID        int64
	AccountID int64
	ChatID    int64
	Text      string
	At        time.Time
}

// Member is a post of a campaign, without its text.
type Member struct {
	PostID    int64
	AccountID int64
	ChatID    int64
	At        time.Time
}

// Result is what observing a post tells the caller.
//
// Campaign is the campaign the post belongs to, or zero. When Formed is
// true, the post made its group a campaign and Joined holds every member of
// the new campaign, this post included, so that the caller can act on all of
// them at once. Otherwise Joined holds the members that joined an existing
// campaign with this post: the post itself, and the members of groups that
// were not yet campaigns and that the post linked to it. Absorbed lists the
// campaigns that the post showed to be the same campaign and that were
// merged into Campaign; their IDs are retired, and their members are now
// Campaign's. Joined is in the order the posts were observed; Absorbed is
// in increasing order.
type Result struct {
	Campaign CampaignID
	Formed   bool
	Joined   []Member
	Absorbed []CampaignID
}

// Defaults for the zero fields of a Config.
const (
	DefaultWindow      = 24 * time.Hour
	DefaultThreshold   = 0.5
	DefaultMinAccounts = 3
	DefaultMinShingles = minShinglesDefault
	DefaultMaxPosts    = 1_000_000
)

// Config sets what counts as a campaign. Zero fields take the defaults.
type Config struct {
	// Window is how long a post is remembered, measured back from the
	// newest post observed. Copies further apart than this are not linked.
	Window time.Duration
	// Threshold is the similarity, estimated Jaccard similarity of the
	// posts' shingle sets, from which two posts are near-duplicates: the
	// fraction of the 64 MinHash slots on which they agree. It must be in
	// [0.5, 1]; below 0.5 the index would miss too many pairs (see
	// index.go) and unrelated posts on the same topic would start to link.
	Threshold float64
	// MinAccounts is the number of distinct accounts a group of
	// near-duplicates needs to become a campaign. At least 2.
	MinAccounts int
	// MinShingles is the number of distinct shingles (words and word pairs,
	// very common ones left out) a text needs to be compared at all. Short
	// texts ("ok", "thanks", "good morning everyone") are never part of a
	// campaign: countless unrelated people write them.
	MinShingles int
	// MaxPosts bounds memory: when the window holds this many posts, the
	// oldest is forgotten before a new one is stored, as if it had left the
	// window. A stored post costs about 0.5 KiB (docs/benchmarks.md).
	MaxPosts int
}

func (c Config) withDefaults() (Config, error) {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.MinAccounts == 0 {
		c.MinAccounts = DefaultMinAccounts
	}
	if c.MinShingles == 0 {
		c.MinShingles = DefaultMinShingles
	}
	if c.MaxPosts == 0 {
		c.MaxPosts = DefaultMaxPosts
	}
	switch {
	case c.Window < 0:
		return c, &parley.Error{Code: parley.EInvalid, Message: "the window must be positive", Field: "window"}
	case !(c.Threshold >= 0.5 && c.Threshold <= 1):
		return c, &parley.Error{Code: parley.EInvalid, Message: "the threshold must be between 0.5 and 1", Field: "threshold"}
	case c.MinAccounts < 2:
		return c, &parley.Error{Code: parley.EInvalid, Message: "a campaign needs at least 2 accounts", Field: "min_accounts"}
	case c.MinShingles < 1:
		return c, &parley.Error{Code: parley.EInvalid, Message: "the minimum number of shingles must be positive", Field: "min_shingles"}
	case c.MaxPosts < 1 || c.MaxPosts > maxSlots:
		return c, &parley.Error{Code: parley.EInvalid, Message: "the post limit must be between 1 and 2^30", Field: "max_posts"}
	}
	return c, nil
}

// maxSlots bounds MaxPosts so that slot numbers fit the index's int32 with
// room for its list marks.
const maxSlots = 1 << 30

// Detector groups near-duplicate posts of the window and reports the groups
// that reach the account threshold as campaigns. It is safe for concurrent
// use: fingerprints are computed in the caller's goroutine, and the state is
// updated under one lock.
//
// Grouping is single linkage, decided as posts arrive: a new post joins
// every group holding a post it is a near-duplicate of, and those groups
// merge. A group stays together when the posts that linked it leave the
// window; it ends when its last member leaves. What a post is compared with
// is exactly the posts of the window, so observing the same posts in the
// same order always gives the same groups, campaigns and IDs.
type Detector struct {
	cfg          Config
	minAgreement int
	prints       sync.Pool // of *fingerprinter

	mu        sync.Mutex
	now       int64 // the newest At observed, in Unix nanoseconds
	seq       uint64
	stamp     uint32
	posts     []storedPost
	freeSlots []int32
	byID      map[int64]int32 // post ID to slot
	timeline  timeline
	index     *bandIndex
	groups    []*group // by group number; nil when free
	freeGroup []int32
	campaigns map[CampaignID]int32 // campaign to group number
	linked    []int32              // scratch: groups and singleton slots found by a lookup
	// compared counts signature comparisons, for the tests and benchmarks.
	compared uint64
}

// storedPost is a post of the window: who posted it, its signature and its
// group.
type storedPost struct {
	id, account, chat int64
	at                int64
	seq               uint64 // observation order, which breaks ties of At
	sig               signature
	group             int32  // group number, or -1 for a post linked to nothing yet
	memberAt          int32  // position in its group's members
	stamp             uint32 // the last lookup that looked at this post
}

// group is a set of linked posts of the window.
type group struct {
	members   []int32 // slots, in no particular order
	firstSeq  uint64  // observation number of its first member ever: its age
	campaign  CampaignID
	formedSeq uint64 // observation number of the post that made it a campaign
	// accounts counts the members per account while the group is not a
	// campaign; a campaign no longer needs it.
	accounts map[int64]int32
}

// New returns a detector for cfg, or an *parley.Error with code EInvalid
// naming the field that is out of range.
func New(cfg Config) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Detector{
		cfg:       cfg,
		byID:      make(map[int64]int32),
		index:     newBandIndex(),
		campaigns: make(map[CampaignID]int32),
		now:       math.MinInt64,
	}
	// The smallest number of slots whose fraction is at least the
	// threshold; the epsilon keeps 0.5*64 at 32 whatever the rounding.
	d.minAgreement = int(math.Ceil(cfg.Threshold*signatureSlots - 1e-9))
	d.prints.New = func() any { return new(fingerprinter) }
	return d, nil
}

// Config returns the configuration in force, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Observe takes a post into the window and returns the campaign it belongs
// to, if any. A post whose ID was already observed (and is still in the
// window) changes nothing and returns its current campaign without
// Formed or Joined, so an event delivered twice is acted on once. A post
// older than the window, or too short to compare, is not stored and belongs
// to no campaign; it still moves the detector's clock forward if it is the
// newest yet.
func (d *Detector) Observe(p Post) Result {
	f := d.prints.Get().(*fingerprinter)
	sig, _, comparable := f.fingerprint(p.Text, d.cfg.MinShingles)
	d.prints.Put(f)

	d.mu.Lock()
	defer d.mu.Unlock()
	return d.observeLocked(p, &sig, comparable)
}

// ObserveBatch observes posts in order, as Observe would one by one, and
// returns their Results in the same order. The fingerprints are computed
// first, outside the lock, and the window is then updated for the whole
// batch under one acquisition of it: a consumer that reads the event
// stream in batches on several goroutines wastes less time handing the
// lock over than with Observe (docs/benchmarks.md).
func (d *Detector) ObserveBatch(posts []Post) []Result {
	type print struct {
		sig        signature
		comparable bool
	}
	prints := make([]print, len(posts))
	f := d.prints.Get().(*fingerprinter)
	for i, p := range posts {
		prints[i].sig, _, prints[i].comparable = f.fingerprint(p.Text, d.cfg.MinShingles)
	}
	d.prints.Put(f)

	results := make([]Result, len(posts))
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, p := range posts {
		results[i] = d.observeLocked(p, &prints[i].sig, prints[i].comparable)
	}
	return results
}

func (d *Detector) observeLocked(p Post, sig *signature, comparable bool) Result {
	if slot, ok := d.byID[p.ID]; ok {
		if g := d.posts[slot].group; g >= 0 {
			return Result{Campaign: d.groups[g].campaign}
		}
		return Result{}
	}
	at := unixNano(p.At)
	if at > d.now {
		d.now = at
		d.evictOlderThan(d.cutoff())
	}
	if !comparable || at < d.cutoff() {
		return Result{}
	}
	if d.timeline.len() >= d.cfg.MaxPosts {
		// Full: the oldest post goes, and when the new post is older
		// than every stored one, the oldest is the new post itself.
		if at < d.timeline.oldestAt() {
			return Result{}
		}
		for d.timeline.len() >= d.cfg.MaxPosts {
			d.evict(d.timeline.popOldest())
		}
	}

	// Find the groups and lone posts the new post is a near-duplicate of.
	d.stamp++
	if d.stamp == 0 { // wrapped: clear old stamps so none looks current
		for i := range d.posts {
			d.posts[i].stamp = 0
		}
		d.stamp = 1
	}
	d.linked = d.linked[:0]
	keys := keysOf(sig)
	d.index.candidates(&keys, d.visit(sig))

	slot := d.store(p, at, sig, &keys)
	return d.link(slot)
}

// visit returns the function that checks one candidate of a lookup for sig.
// Members of a group already linked are skipped without comparing: one
// near-duplicate in a group is enough to join it.
func (d *Detector) visit(sig *signature) func(int32) {
	return func(c int32) {
		cp := &d.posts[c]
		if cp.stamp == d.stamp {
			return
		}
		cp.stamp = d.stamp
		ref := d.linkRef(c)
		if slices.Contains(d.linked, ref) {
			return
		}
		d.compared++
		if agreement(sig, &cp.sig) >= d.minAgreement {
			d.linked = append(d.linked, ref)
		}
	}
}

// linkRef names what linking to the post in slot means: its group (a
// number >= 0) or, for a post in no group yet, the post itself (-1-slot).
func (d *Detector) linkRef(slot int32) int32 {
	if g := d.posts[slot].group; g >= 0 {
		return g
	}
	return -1 - slot
}

// store files the post in the post table, the timeline and the index.
func (d *Detector) store(p Post, at int64, sig *signature, keys *bandKeys) int32 {
	var slot int32
	if n := len(d.freeSlots); n > 0 {
		slot = d.freeSlots[n-1]
		d.freeSlots = d.freeSlots[:n-1]
	} else {
		slot = int32(len(d.posts))
		d.posts = append(d.posts, storedPost{})
	}
	d.seq++
	d.posts[slot] = storedPost{id: p.ID, account: p.AccountID, chat: p.ChatID, at: at, seq: d.seq,
		sig: *sig, group: -1, stamp: d.stamp}
	d.byID[p.ID] = slot
	d.timeline.push(at, d.seq, slot)
	d.index.insert(slot, keys)
	return slot
}

// cutoff is the oldest At still in the window.
func (d *Detector) cutoff() int64 {
	if d.now < math.MinInt64+int64(d.cfg.Window) {
		return math.MinInt64
	}
	return d.now - int64(d.cfg.Window)
}

// unixNano is t in Unix nanoseconds, saturated at the years 1678 and 2262
// that an int64 can hold, where t.UnixNano is undefined.
func unixNano(t time.Time) int64 {
	switch s := t.Unix(); {
	case s <= math.MinInt64/int64(time.Second)+1:
		return math.MinInt64
	case s >= math.MaxInt64/int64(time.Second)-1:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// evictOlderThan forgets the posts with At before cutoff.
func (d *Detector) evictOlderThan(cutoff int64) {
	for d.timeline.len() > 0 && d.timeline.oldestAt() < cutoff {
		d.evict(d.timeline.popOldest())
	}
}

// evict forgets the post in slot, already taken off the timeline.
func (d *Detector) evict(slot int32) {
	p := &d.posts[slot]
	d.index.remove(slot, &p.sig)
	delete(d.byID, p.id)
	d.removeMember(slot)
	*p = storedPost{group: -1}
	d.freeSlots = append(d.freeSlots, slot)
}

// CampaignOf returns the campaign of a post still in the window, or zero.
func (d *Detector) CampaignOf(postID int64) CampaignID {
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot, ok := d.byID[postID]; ok {
		if g := d.posts[slot].group; g >= 0 {
			return d.groups[g].campaign
		}
	}
	return 0
}

// Members returns the members of a campaign that are still in the window,
// in the order they were observed, or nil if there is no such campaign (it
// never formed, was absorbed, or all its posts have left the window).
func (d *Detector) Members(id CampaignID) []Member {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.campaigns[id]
	if !ok {
		return nil
	}
	return d.membersOf(d.groups[g].members)
}

// Stats describes what the detector holds.
type Stats struct {
	Posts     int // stored posts in the window
	Groups    int // groups of linked posts, campaigns included (a group lasts while one member is left)
	Campaigns int
	Newest    time.Time // the detector's clock: the newest At observed
}

// Stats returns counts of what the detector holds.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := Stats{Posts: d.timeline.len(), Campaigns: len(d.campaigns)}
	if d.now != math.MinInt64 {
		s.Newest = time.Unix(0, d.now).UTC()
	}
	for _, g := range d.groups {
		if g != nil {
			s.Groups++
		}
	}
	return s
}
