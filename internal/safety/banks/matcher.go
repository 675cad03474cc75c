package banks

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"parley/internal/pace"
	"parley/internal/pdq"
	"parley/internal/safety/rules"
)

// MatchSource is what a Matcher reads: the banks, their entries and the
// change log. A Store is one.
type MatchSource interface {
	ListBanks(ctx context.Context) ([]*Bank, error)
	FindBankByID(ctx context.Context, id int64) (*Bank, error)
	ListBankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*Entry, error)
	ListBankChanges(ctx context.Context, afterID int64, limit int) ([]*Change, error)
	LastBankChange(ctx context.Context) (int64, error)
}

// PDQMatchDistance is the largest Hamming distance at which a PDQ hash
// matches an entry: the reference's threshold, at which pdq.Index finds
// every stored hash.
const PDQMatchDistance = pdq.MatchDistance

// Matcher holds every entry of every enabled bank in memory and matches
// uploads and posts against them. It is safe for concurrent use: matching
// only reads, and Load and Refresh apply changes in small steps, so that
// matching never waits for more than one step (a PDQ index merge, however
// long, happens outside the lock: pdq.Index serves queries from its
// previous snapshot meanwhile).
//
// Build one with NewMatcher and Load, then call Refresh whenever a
// bank.changed event arrives (and now and then in case one was missed):
// it applies the change log after the last change applied.
type Matcher struct {
	src MatchSource

	refreshMu sync.Mutex // one Load or Refresh at a time

	mu      sync.RWMutex
	banks   map[int64]*Bank      // every bank known, enabled or not; replaced, never changed
	loaded  map[int64]bool       // banks whose entries are held
	entries map[int64]entryRef   // every entry held, by id
	md5     map[[16]byte][]int64 // entry ids by hash
	sha256  map[[32]byte][]int64
	links   map[int64]map[linkKey]int64 // per bank: url and domain entries
	cursor  int64                       // the last change applied and visible to matching
	dirty   bool                        // links changed since linkSets was built

	pdq      *pdq.Index // pdq entries under their entry ids; safe for concurrent use
	linkSets atomic.Pointer[[]*rules.RuleSet]

	// pending are pdq entries whose metadata is recorded but which are not
	// yet in the index: they are added in batches, which pdq.Index builds
	// far faster than one by one.
	pendingIDs    []int64
	pendingHashes []pdq.Hash
}

// entryRef is what the matcher keeps of an entry besides its value: 16
// bytes, since a scanner holds millions.
type entryRef struct {
	bank int64
	typ  typeCode
}

// typeCode is an EntryType in one byte.
type typeCode uint8

func codeOf(t EntryType) typeCode { return typeCode(slices.Index(EntryTypes, t) + 1) }

func (c typeCode) entryType() EntryType { return EntryTypes[c-1] }

// linkKey is a url or domain entry as the rules engine reports it.
type linkKey struct {
	typ   EntryType
	value string
}

// pageSize is how many entries or changes are read at a time.
const pageSize = 10_000

// maxPending bounds the pdq entries collected before they are indexed. A
// whole initial load up to this size is indexed in one build.
const maxPending = 2_000_000

// NewMatcher returns an empty matcher reading src; call Load.
func NewMatcher(src MatchSource) *Matcher {
	return &Matcher{
		src:     src,
		banks:   map[int64]*Bank{},
		loaded:  map[int64]bool{},
		entries: map[int64]entryRef{},
		md5:     map[[16]byte][]int64{},
		sha256:  map[[32]byte][]int64{},
		links:   map[int64]map[linkKey]int64{},
		pdq:     pdq.NewIndex(),
	}
}

// Load reads every enabled bank's entries, then applies the change log
// from the newest change before the reading started, so that changes made
// while it read are not missed. Applying a change twice is harmless: an add
// of an entry held already, or a remove of one not held, does nothing.
func (m *Matcher) Load(ctx context.Context) error {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	head, err := m.src.LastBankChange(ctx)
	if err != nil {
		return err
	}
	banks, err := m.src.ListBanks(ctx)
	if err != nil {
		return err
	}
	for _, b := range banks {
		if err := m.applyBank(ctx, b); err != nil {
			return err
		}
	}
	_, err = m.refreshLocked(ctx, max(head, m.ChangeID()), false)
	return err
}

// Refresh applies the changes after the last one applied and returns how
// many it applied.
func (m *Matcher) Refresh(ctx context.Context) (int, error) {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	return m.refreshLocked(ctx, m.ChangeID(), true)
}

// refreshLocked applies the changes after id from, then publishes the
// last one as ChangeID, but only once everything applied is visible to
// matching (pending PDQ entries indexed, link rules compiled): a result
// must never claim a change whose entries it could not yet match. After an
// error nothing more is published, and the next Refresh applies those
// changes again, which is harmless.
//
// A refresh of more than a page of changes (an import of a million
// entries) is paced when paced is set (package pace): it rests after each page as long as
// the page took, so that taking a large import in uses about half of a
// CPU, not all of one, while the server goes on serving; the import's
// entries match a few seconds later than they could.
func (m *Matcher) refreshLocked(ctx context.Context, from int64, paced bool) (int, error) {
	applied, next := 0, from
	p := pace.New(ctx)
	for {
		changes, err := m.src.ListBankChanges(ctx, next, pageSize)
		if err != nil {
			return applied, err
		}
		if len(changes) == 0 {
			break
		}
		for _, c := range changes {
			if err := m.apply(ctx, c); err != nil {
				return applied, err
			}
			applied++
			next = c.ID
		}
		if paced && len(changes) == pageSize {
			if err := p.Rest(); err != nil {
				return applied, err
			}
		}
	}
	m.flushPending()
	if err := m.rebuildLinks(); err != nil {
		return applied, err
	}
	m.mu.Lock()
	m.cursor = next
	m.mu.Unlock()
	return applied, nil
}

// ChangeID returns the id of the last change applied: every result of a
// match reflects at least the banks as of this change (a Refresh in
// progress may already show some later changes).
func (m *Matcher) ChangeID() int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cursor
}

// apply applies one change.
func (m *Matcher) apply(ctx context.Context, c *Change) error {
	switch c.Op {
	case OpAdd:
		if c.Entry != nil {
			m.add(c.Entry)
		}
	case OpRemove:
		if c.Entry != nil {
			m.remove(c.Entry)
		}
	case OpBank:
		b, err := m.src.FindBankByID(ctx, c.BankID)
		if err != nil {
			return err
		}
		return m.applyBank(ctx, b)
	}
	return nil
}

// applyBank records b's settings and loads or drops its entries when it
// was enabled or disabled.
func (m *Matcher) applyBank(ctx context.Context, b *Bank) error {
	cp := *b
	cp.Keywords = slices.Clone(b.Keywords)
	m.mu.Lock()
	m.banks[b.ID] = &cp
	wasLoaded := m.loaded[b.ID]
	m.loaded[b.ID] = b.Enabled
	m.mu.Unlock()
	switch {
	case b.Enabled && !wasLoaded:
		for after := int64(0); ; {
			page, err := m.src.ListBankEntries(ctx, b.ID, after, pageSize)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				return nil
			}
			for _, e := range page {
				m.add(e)
			}
			after = page[len(page)-1].ID
		}
	case !b.Enabled && wasLoaded:
		m.drop(b.ID)
	}
	return nil
}

// add holds one entry, unless its bank is not loaded or it is held already.
func (m *Matcher) add(e *Entry) {
	if m.addLocked(e) {
		m.flushPending()
	}
}

// addLocked does add under the lock and reports whether enough pdq entries
// are pending to index them now.
func (m *Matcher) addLocked(e *Entry) (flush bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.loaded[e.BankID] {
		return false
	}
	if _, held := m.entries[e.ID]; held {
		return false
	}
	switch e.Type {
	case TypePDQ:
		h, err := pdq.ParseHash(e.Value)
		if err != nil {
			return false // the store holds canonical values only
		}
		m.pendingIDs = append(m.pendingIDs, e.ID)
		m.pendingHashes = append(m.pendingHashes, h)
		flush = len(m.pendingIDs) >= maxPending
	case TypeMD5:
		var k [16]byte
		if _, err := hex.Decode(k[:], []byte(e.Value)); err != nil {
			return false
		}
		m.md5[k] = append(m.md5[k], e.ID)
	case TypeSHA256:
		var k [32]byte
		if _, err := hex.Decode(k[:], []byte(e.Value)); err != nil {
			return false
		}
		m.sha256[k] = append(m.sha256[k], e.ID)
	case TypeURL, TypeDomain:
		l := m.links[e.BankID]
		if l == nil {
			l = map[linkKey]int64{}
			m.links[e.BankID] = l
		}
		l[linkKey{e.Type, e.Value}] = e.ID
		m.dirty = true
	default:
		return false
	}
	m.entries[e.ID] = entryRef{bank: e.BankID, typ: codeOf(e.Type)}
	return flush
}

// flushPending adds the pending pdq entries to the index.
func (m *Matcher) flushPending() {
	m.mu.Lock()
	ids, hashes := m.pendingIDs, m.pendingHashes
	m.pendingIDs, m.pendingHashes = nil, nil
	m.mu.Unlock()
	if len(ids) > 0 {
		m.pdq.AddBatch(ids, hashes)
	}
}

// remove drops one entry.
func (m *Matcher) remove(e *Entry) {
	m.mu.Lock()
	ref, held := m.entries[e.ID]
	m.mu.Unlock()
	if !held {
		return
	}
	if ref.typ.entryType() == TypePDQ {
		// A pending add must reach the index before it can be removed.
		m.flushPending()
		m.pdq.Remove(e.ID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, e.ID)
	switch ref.typ.entryType() {
	case TypeMD5:
		var k [16]byte
		hex.Decode(k[:], []byte(e.Value))
		m.md5[k] = deleteID(m.md5[k], e.ID)
		if len(m.md5[k]) == 0 {
			delete(m.md5, k)
		}
	case TypeSHA256:
		var k [32]byte
		hex.Decode(k[:], []byte(e.Value))
		m.sha256[k] = deleteID(m.sha256[k], e.ID)
		if len(m.sha256[k]) == 0 {
			delete(m.sha256, k)
		}
	case TypeURL, TypeDomain:
		delete(m.links[ref.bank], linkKey{e.Type, e.Value})
		m.dirty = true
	}
}

func deleteID(ids []int64, id int64) []int64 {
	return slices.DeleteFunc(ids, func(x int64) bool { return x == id })
}

// drop removes every entry of a bank that was disabled. It walks all the
// entries held, which is fine for something as rare as disabling a bank.
func (m *Matcher) drop(bankID int64) {
	m.flushPending()
	m.mu.Lock()
	var pdqIDs []int64
	for id, ref := range m.entries {
		if ref.bank != bankID {
			continue
		}
		if ref.typ.entryType() == TypePDQ {
			pdqIDs = append(pdqIDs, id)
		}
		delete(m.entries, id)
	}
	for k, ids := range m.md5 {
		if ids = slices.DeleteFunc(ids, func(id int64) bool { _, ok := m.entries[id]; return !ok }); len(ids) == 0 {
			delete(m.md5, k)
		} else {
			m.md5[k] = ids
		}
	}
	for k, ids := range m.sha256 {
		if ids = slices.DeleteFunc(ids, func(id int64) bool { _, ok := m.entries[id]; return !ok }); len(ids) == 0 {
			delete(m.sha256, k)
		} else {
			m.sha256[k] = ids
		}
	}
	if len(m.links[bankID]) > 0 {
		m.dirty = true
	}
	delete(m.links, bankID)
	m.mu.Unlock()
	for _, id := range pdqIDs {
		m.pdq.Remove(id)
	}
}

// rebuildLinks compiles the url and domain entries into rule sets when they
// changed: one rule per bank (or per slice of a bank, beyond the rules
// engine's limit on links in one set), so that link matching is exactly the
// text rules' matching. Rule ids name the bank: "bank-12-0".
func (m *Matcher) rebuildLinks() error {
	m.mu.RLock()
	if !m.dirty {
		m.mu.RUnlock()
		return nil
	}
	type bankLinks struct {
		id            int64
		urls, domains []string
	}
	var all []bankLinks
	for id, l := range m.links {
		if len(l) == 0 {
			continue
		}
		bl := bankLinks{id: id}
		for k := range l {
			if k.typ == TypeURL {
				bl.urls = append(bl.urls, k.value)
			} else {
				bl.domains = append(bl.domains, k.value)
			}
		}
		all = append(all, bl)
	}
	m.mu.RUnlock()

	slices.SortFunc(all, func(a, b bankLinks) int { return cmp.Compare(a.id, b.id) })
	var sets []*rules.RuleSet
	var batch []rules.Rule
	links := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rs, err := rules.Compile(batch)
		if err != nil {
			return fmt.Errorf("banks: compiling url and domain entries: %w", err)
		}
		sets = append(sets, rs)
		batch, links = nil, 0
		return nil
	}
	for _, bl := range all {
		slices.Sort(bl.urls)
		slices.Sort(bl.domains)
		for part := 0; len(bl.urls)+len(bl.domains) > 0; part++ {
			room := rules.MaxLinks - links
			if room == 0 || len(batch) == rules.MaxRules {
				if err := flush(); err != nil {
					return err
				}
				room = rules.MaxLinks
			}
			r := rules.Rule{ID: "bank-" + strconv.FormatInt(bl.id, 10) + "-" + strconv.Itoa(part), Version: 1,
				Action: rules.ActionBlock, Mode: rules.ModeEnforce}
			n := min(room, len(bl.urls))
			r.URLs, bl.urls = bl.urls[:n], bl.urls[n:]
			room -= n
			n = min(room, len(bl.domains))
			r.Domains, bl.domains = bl.domains[:n], bl.domains[n:]
			links += len(r.URLs) + len(r.Domains)
			batch = append(batch, r)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	m.linkSets.Store(&sets)
	m.mu.Lock()
	m.dirty = false
	m.mu.Unlock()
	return nil
}

// Media is what is matched of an uploaded file.
type Media struct {
	// PDQ holds the image's PDQ hash, or the hashes of its eight rotations
	// and flips (pdq.Dihedral) to find rotated and mirrored copies too.
	PDQ []pdq.Hash
	// PDQQuality is the hash's quality; below pdq.MinQuality (50) the PDQ
	// hashes are not matched, as the PDQ reference recommends.
	PDQQuality int
	// MD5 and SHA256 are the file's digests in hex (pdq.MD5Hex,
	// pdq.SHA256Hex); empty ones are not matched.
	MD5    string
	SHA256 string
}

// Match is one entry that matched.
type Match struct {
	BankID   int64    `json:"bank_id"`
	Bank     string   `json:"bank"`
	Kind     Kind     `json:"kind"`
	Action   Action   `json:"action,omitempty"`
	Label    string   `json:"label,omitempty"`
	Category string   `json:"category,omitempty"`
	Keywords []string `json:"keywords,omitempty"`

	EntryID int64     `json:"entry_id"`
	Type    EntryType `json:"type"`
	Value   string    `json:"value"`
	// Distance is the Hamming distance of a PDQ match (0..31); 0 for the
	// other types, which match exactly.
	Distance int `json:"distance"`

	// Suppressed is set on a block match that an allow match on the same
	// content overrides (see Result); SuppressedBy is that allow entry.
	Suppressed   bool  `json:"suppressed,omitempty"`
	SuppressedBy int64 `json:"suppressed_by,omitempty"`
}

// Result is the outcome of matching one upload or post.
//
// An allow match suppresses a block match on the same content when it is
// at least as close to the content: for media, an exact allow match (MD5 or
// SHA-256) suppresses every block match, and a PDQ allow match at distance
// d suppresses PDQ block matches at distance d or more, never an exact one
// (content closer to a listed harmful image than to a known false positive
// stays matched); for text, an allow url or domain match suppresses the
// block matches on the same link only, so that an allowed link added to a
// post cannot shield the other links in it. Suppressed matches stay in
// Matches, marked, so that moderators can see what the allow banks did.
type Result struct {
	Matches []Match `json:"matches,omitempty"`
	// Decision is the strongest Action among the block matches that are
	// not suppressed, ActionNone when there is none.
	Decision Action `json:"decision"`
	// ChangeID is the last change of the bank change log the matcher had
	// applied: the result reflects the banks as of that change.
	ChangeID int64 `json:"change_id"`
	// PDQSkipped is set when PDQ hashes were given but not matched
	// because their quality is below pdq.MinQuality.
	PDQSkipped bool `json:"pdq_skipped,omitempty"`
}

// hit is an entry found, before its bank is looked up.
type hit struct {
	entry    int64
	typ      EntryType
	value    string
	distance int
}

// MatchMedia matches an uploaded file's hashes against every enabled bank.
func (m *Matcher) MatchMedia(md Media) Result {
	var hits []hit
	if md.MD5 != "" {
		var k [16]byte
		if len(md.MD5) == 32 {
			if _, err := hex.Decode(k[:], []byte(md.MD5)); err == nil {
				m.mu.RLock()
				for _, id := range m.md5[k] {
					hits = append(hits, hit{entry: id, typ: TypeMD5, value: strings.ToLower(md.MD5)})
				}
				m.mu.RUnlock()
			}
		}
	}
	if md.SHA256 != "" {
		var k [32]byte
		if len(md.SHA256) == 64 {
			if _, err := hex.Decode(k[:], []byte(md.SHA256)); err == nil {
				m.mu.RLock()
				for _, id := range m.sha256[k] {
					hits = append(hits, hit{entry: id, typ: TypeSHA256, value: strings.ToLower(md.SHA256)})
				}
				m.mu.RUnlock()
			}
		}
	}
	skipped := false
	if len(md.PDQ) > 0 {
		if md.PDQQuality < pdq.MinQuality {
			skipped = true
		} else {
			best := map[int64]int{} // entry → position in hits
			for _, h := range md.PDQ {
				for _, pm := range m.pdq.Query(h, PDQMatchDistance) {
					if i, ok := best[pm.ID]; ok {
						if pm.Distance < hits[i].distance {
							hits[i].distance = pm.Distance
						}
						continue
					}
					best[pm.ID] = len(hits)
					hits = append(hits, hit{entry: pm.ID, typ: TypePDQ, value: pm.Hash.String(), distance: pm.Distance})
				}
			}
		}
	}
	m.mu.RLock()
	res := Result{ChangeID: m.cursor, PDQSkipped: skipped}
	matches := m.resolveLocked(hits)
	m.mu.RUnlock()
	suppressMedia(matches)
	res.Matches = matches
	res.finish()
	return res
}

// resolveLocked turns hits into matches, dropping entries no longer held
// and banks that are disabled.
func (m *Matcher) resolveLocked(hits []hit) []Match {
	out := make([]Match, 0, len(hits))
	for _, h := range hits {
		ref, ok := m.entries[h.entry]
		if !ok {
			continue
		}
		b := m.banks[ref.bank]
		if b == nil || !b.Enabled || !m.loaded[ref.bank] {
			continue
		}
		out = append(out, Match{BankID: b.ID, Bank: b.Name, Kind: b.Kind, Action: b.Action, Label: b.Label,
			Category: b.Category, Keywords: b.Keywords, EntryID: h.entry, Type: h.typ, Value: h.value, Distance: h.distance})
	}
	return out
}

// suppressMedia marks the block matches that an allow match at least as
// close overrides.
func suppressMedia(matches []Match) {
	for i := range matches {
		if matches[i].Kind != KindBlock {
			continue
		}
		best := -1
		for j := range matches {
			if matches[j].Kind == KindAllow && matches[j].closeness() <= matches[i].closeness() &&
				(best < 0 || matches[j].closeness() < matches[best].closeness()) {
				best = j
			}
		}
		if best >= 0 {
			matches[i].Suppressed, matches[i].SuppressedBy = true, matches[best].EntryID
		}
	}
}

// closeness orders matches by how close the content is to the entry:
// exact matches first, then PDQ matches by distance.
func (mt *Match) closeness() int {
	if mt.Type == TypePDQ {
		return mt.Distance
	}
	return -1
}

// finish orders the matches, nearest first, and sets the Decision.
func (r *Result) finish() {
	slices.SortFunc(r.Matches, func(a, b Match) int {
		if c := cmp.Compare(a.closeness(), b.closeness()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.BankID, b.BankID); c != 0 {
			return c
		}
		return cmp.Compare(a.EntryID, b.EntryID)
	})
	for _, mt := range r.Matches {
		if mt.Kind == KindBlock && !mt.Suppressed && mt.Action.Rank() > r.Decision.Rank() {
			r.Decision = mt.Action
		}
	}
}

// MatchText matches the links of a post (url and domain entries) against
// every enabled bank, exactly as the text rules match links.
func (m *Matcher) MatchText(text string) Result {
	sets := m.linkSets.Load()
	m.mu.RLock()
	res := Result{ChangeID: m.cursor}
	m.mu.RUnlock()
	if sets == nil || len(*sets) == 0 {
		return res
	}
	hits := m.linkHits(*sets, text)
	if len(hits) == 0 {
		return res
	}
	m.mu.RLock()
	matches := m.resolveLocked(hits)
	m.mu.RUnlock()
	var block, allow bool
	for _, mt := range matches {
		block = block || mt.Kind == KindBlock
		allow = allow || mt.Kind == KindAllow
	}
	if block && allow {
		// Both kinds matched: find out link by link which block matches an
		// allow match shares a link with. Posts with links in both kinds of
		// bank are rare, so the extra screening is too.
		matches = m.suppressLinks(*sets, text)
	}
	res.Matches = matches
	res.finish()
	return res
}

// linkHits screens text with every link rule set.
func (m *Matcher) linkHits(sets []*rules.RuleSet, text string) []hit {
	var hits []hit
	for _, rs := range sets {
		r := rs.Screen(text, rules.Context{})
		if len(r.Matches) == 0 {
			continue
		}
		m.mu.RLock()
		for _, rm := range r.Matches {
			bankID, ok := ruleBank(rm.RuleID)
			if !ok {
				continue
			}
			typ := TypeURL
			if rm.Kind == rules.KindDomain {
				typ = TypeDomain
			}
			if id, ok := m.links[bankID][linkKey{typ, rm.Pattern}]; ok {
				hits = append(hits, hit{entry: id, typ: typ, value: rm.Pattern})
			}
		}
		m.mu.RUnlock()
	}
	return hits
}

// suppressLinks matches each link of text alone and returns the matches of
// all links, a block match suppressed when every link it matched on also
// matched an allow entry.
func (m *Matcher) suppressLinks(sets []*rules.RuleSet, text string) []Match {
	type state struct {
		match      Match
		suppressed bool // so far on every link it matched
	}
	var order []int64
	byEntry := map[int64]*state{}
	for _, link := range rules.Links(text) {
		hits := m.linkHits(sets, link)
		m.mu.RLock()
		matches := m.resolveLocked(hits)
		m.mu.RUnlock()
		var allowID int64
		for _, mt := range matches {
			if mt.Kind == KindAllow && allowID == 0 {
				allowID = mt.EntryID
			}
		}
		for _, mt := range matches {
			st := byEntry[mt.EntryID]
			if st == nil {
				st = &state{match: mt, suppressed: true}
				byEntry[mt.EntryID] = st
				order = append(order, mt.EntryID)
			}
			if mt.Kind == KindBlock {
				if allowID == 0 {
					st.suppressed = false
				} else if st.match.SuppressedBy == 0 {
					st.match.SuppressedBy = allowID
				}
			}
		}
	}
	out := make([]Match, 0, len(order))
	for _, id := range order {
		st := byEntry[id]
		if st.match.Kind == KindBlock {
			st.match.Suppressed = st.suppressed
			if !st.suppressed {
				st.match.SuppressedBy = 0
			}
		}
		out = append(out, st.match)
	}
	return out
}

// ruleBank returns the bank id in a link rule id ("bank-12-0").
func ruleBank(ruleID string) (int64, bool) {
	rest, ok := strings.CutPrefix(ruleID, "bank-")
	if !ok {
		return 0, false
	}
	idText, _, _ := strings.Cut(rest, "-")
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil
}

// Stats says what a matcher holds.
type Stats struct {
	Banks    int                 `json:"banks"`   // enabled banks held
	Entries  map[EntryType]int64 `json:"entries"` // entries held, by type
	ChangeID int64               `json:"change_id"`
}

// Stats returns what the matcher holds.
func (m *Matcher) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := Stats{Entries: map[EntryType]int64{}, ChangeID: m.cursor}
	for _, l := range m.loaded {
		if l {
			s.Banks++
		}
	}
	for _, ref := range m.entries {
		s.Entries[ref.typ.entryType()]++
	}
	return s
}
