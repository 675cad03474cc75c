package screen

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"parley"
	"parley/internal/pace"
	"parley/internal/pdq"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/review"
	"parley/internal/safety/rules"
)

// RescanStore is what re-screening needs from storage beyond the rule book.
// Re-screening is driven by this durable state (a cursor on the bank change
// log, the finished runs), so that a worker that was down, or that is woken
// twice, does exactly the work that is left.
type RescanStore interface {
	RuleStore
	// ListBankChanges, FindBankByID and ListBankEntries read the hash
	// banks and their change log, as banks.Store says.
	ListBankChanges(ctx context.Context, afterID int64, limit int) ([]*banks.Change, error)
	FindBankByID(ctx context.Context, id int64) (*banks.Bank, error)
	ListBankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*banks.Entry, error)
	// ScanMediaHashes returns the ids and PDQ hashes of the stored media
	// that have a PDQ hash of quality minQuality or better and are neither
	// blocked nor removed, with id > afterID in id order (the byte order of
	// the ids), at most limit (at most 10,000; zero or less means 10,000).
	ScanMediaHashes(ctx context.Context, afterID string, minQuality, limit int) ([]MediaHash, error)
	// FindMediaBySHA256 and FindMediaByMD5 return the stored media items
	// whose bytes have that hash, whatever their status, with id > afterID
	// in id order, at most limit: each upload is its own item, so one hash
	// may name many. An empty hash matches nothing (not the media without
	// one); no match is no error.
	FindMediaBySHA256(ctx context.Context, sha256, afterID string, limit int) ([]*parley.Media, error)
	FindMediaByMD5(ctx context.Context, md5, afterID string, limit int) ([]*parley.Media, error)
	// FindMedia returns ENotFound if there is no such media.
	FindMedia(ctx context.Context, id string) (*parley.Media, error)
	// RescanCursor returns the value last set for the cursor name, 0 if it
	// was never set.
	RescanCursor(ctx context.Context, name string) (int64, error)
	// SetRescanCursor sets the cursor name to value, replacing what it was.
	SetRescanCursor(ctx context.Context, name string, value int64) error
	// RescanDone reports whether a finished run of (source, id, version)
	// was recorded.
	RescanDone(ctx context.Context, source, id string, version int64) (bool, error)
	// RecordRescan records a finished run. Recording (source, id, version)
	// again replaces what the first record says it did: a run repeated
	// after a crash is no error.
	RecordRescan(ctx context.Context, r *Rescan) error
	// OpenCase opens a review case, as review.Store says.
	OpenCase(ctx context.Context, c *review.Case) error
}

// MediaHash is a stored image's id and PDQ hash (hex).
type MediaHash struct {
	ID  string
	PDQ string
}

// Rescan is one finished re-screening run: what it looked at, how much
// matched and how many actions it took.
type Rescan struct {
	Source     string    `json:"source"` // "bank" or "rule"
	SourceID   string    `json:"source_id"`
	Version    int64     `json:"version"` // the last bank change, or the rule version
	Scanned    int64     `json:"scanned"`
	Matched    int64     `json:"matched"`
	Actions    int64     `json:"actions"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// directCompareMax is the number of new PDQ entries up to which a rescan
// compares each stored hash with each of them directly: cheaper than the
// index's probes for a handful (a hash comparison is a few nanoseconds).
const directCompareMax = 64

// bankCursor names the rescan cursor on the bank change log.
const bankCursor = "bank_changes"

// Rescanner screens stored content again when the banks gain entries or a
// rule is enabled or edited: every stored copy of a newly banned image, in
// every chat, is removed ("hash and purge"), and posts that a new rule or
// link entry catches are acted on as the rule or bank says.
//
// It is driven by durable state, not by the events alone: it reads the bank
// change log after the cursor it keeps in the store, and it rescans every
// enabled rule version it has no finished run for. Events only wake it. A
// worker that was down, or that gets the same event twice, therefore does
// exactly the work that is left, and the enforcement service refuses to
// act twice on one item (EConflict), which makes a repeated run harmless.
type Rescanner struct {
	Store  RescanStore
	Screen *Screener
	// Enforce takes the removals (an *enforce.Service).
	Enforce Remover
	Clock   parley.Clock
	Log     *slog.Logger

	wakeOnce sync.Once
	wake     chan struct{}
}

func (r *Rescanner) wakeChan() chan struct{} {
	r.wakeOnce.Do(func() { r.wake = make(chan struct{}, 1) })
	return r.wake
}

// Wake asks the worker to look for new work; it never blocks.
func (r *Rescanner) Wake() {
	select {
	case r.wakeChan() <- struct{}{}:
	default:
	}
}

// Run works until ctx ends: at start, on every Wake and every poll interval.
func (r *Rescanner) Run(ctx context.Context, poll time.Duration) {
	wake := r.wakeChan()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log().Warn("re-screening failed; retrying later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// RunOnce does all the work that is left: the bank changes after the
// cursor, then the enabled rule versions not rescanned yet.
func (r *Rescanner) RunOnce(ctx context.Context) error {
	if err := r.rescanBanks(ctx); err != nil {
		return err
	}
	return r.rescanRules(ctx)
}

// newEntries is what a run of bank changes added, by bank.
type newEntries struct {
	bank   *banks.Bank
	pdq    []pdq.Hash
	pdqIDs []int64
	md5    []string
	sha256 []string
	links  bool
	// whole is set when the bank itself changed (it may have been enabled
	// or given a stronger action): all its entries count as new.
	whole bool
}

// maxPendingEntries bounds how many new bank entries one pass over the
// stored media looks for. The change log is read a page at a time; the
// pages are gathered until this many entries are pending (or the log ends)
// so that a large import costs one pass over the stored media, not one per
// page. A million PDQ entries make an index of about 120 MiB.
const maxPendingEntries = 1_000_000

func (r *Rescanner) rescanBanks(ctx context.Context) error {
	cursor, err := r.Store.RescanCursor(ctx, bankCursor)
	if err != nil {
		return err
	}
	for {
		byBank, last, err := r.gatherBankChanges(ctx, cursor)
		if err != nil || last == cursor {
			return err
		}
		// The matcher must know the changes before it is asked about them.
		if _, err := r.Screen.Banks.Refresh(ctx); err != nil {
			return err
		}
		for _, ne := range byBank {
			if !ne.actionable() {
				continue
			}
			if err := r.rescanBank(ctx, ne, last); err != nil {
				return err
			}
		}
		if err := r.Store.SetRescanCursor(ctx, bankCursor, last); err != nil {
			return err
		}
		cursor = last
	}
}

// gatherBankChanges reads the change log after cursor, a page at a time,
// until it ends or maxPendingEntries entries are pending, and returns what
// each bank gained and the id of the last change read (cursor when none).
func (r *Rescanner) gatherBankChanges(ctx context.Context, cursor int64) (map[int64]*newEntries, int64, error) {
	byBank := map[int64]*newEntries{}
	pending := 0
	p := pace.New(ctx)
	for pending < maxPendingEntries {
		changes, err := r.Store.ListBankChanges(ctx, cursor, banks.MaxListLimit)
		if err != nil {
			return nil, cursor, err
		}
		for _, c := range changes {
			ne := byBank[c.BankID]
			if ne == nil {
				b, err := r.Store.FindBankByID(ctx, c.BankID)
				if err != nil {
					return nil, cursor, err
				}
				ne = &newEntries{bank: b}
				byBank[c.BankID] = ne
			}
			switch {
			case c.Op == banks.OpBank && !ne.whole:
				ne.whole = true
				before := ne.count()
				if err := r.addAllEntries(ctx, ne); err != nil {
					return nil, cursor, err
				}
				pending += ne.count() - before
			case c.Op == banks.OpAdd && c.Entry != nil && !ne.whole:
				ne.add(c.Entry)
				pending++
			}
		}
		if len(changes) < banks.MaxListLimit {
			if len(changes) > 0 {
				cursor = changes[len(changes)-1].ID
			}
			break
		}
		cursor = changes[len(changes)-1].ID
		// A large import: read it at about half a CPU (package pace).
		if err := p.Rest(); err != nil {
			return nil, cursor, err
		}
	}
	return byBank, cursor, nil
}

// count is the number of entries gathered for the bank.
func (ne *newEntries) count() int {
	n := len(ne.pdq) + len(ne.md5) + len(ne.sha256)
	if ne.links {
		n++
	}
	return n
}

// actionable reports whether the bank's matches ask for action: allow banks
// and disabled banks ask for none, so their entries need no rescan.
func (ne *newEntries) actionable() bool {
	return ne.bank.Kind == banks.KindBlock && ne.bank.Enabled
}

// addAllEntries counts every entry of the bank as new. A bank that asks for
// no action is not rescanned, so its entries are not read.
func (r *Rescanner) addAllEntries(ctx context.Context, ne *newEntries) error {
	ne.pdq, ne.pdqIDs, ne.md5, ne.sha256, ne.links = nil, nil, nil, nil, false
	if !ne.actionable() {
		return nil
	}
	var after int64
	for {
		es, err := r.Store.ListBankEntries(ctx, ne.bank.ID, after, banks.MaxListLimit)
		if err != nil || len(es) == 0 {
			return err
		}
		for _, e := range es {
			ne.add(e)
			after = e.ID
		}
	}
}

func (ne *newEntries) add(e *banks.Entry) {
	switch e.Type {
	case banks.TypePDQ:
		if h, err := pdq.ParseHash(e.Value); err == nil {
			ne.pdq, ne.pdqIDs = append(ne.pdq, h), append(ne.pdqIDs, e.ID)
		}
	case banks.TypeMD5:
		ne.md5 = append(ne.md5, e.Value)
	case banks.TypeSHA256:
		ne.sha256 = append(ne.sha256, e.Value)
	case banks.TypeURL, banks.TypeDomain:
		ne.links = true
	}
}

// rescanBank screens stored media (and, for link entries, stored posts)
// against what one bank gained, and acts on what the whole screen says of
// each item found: an allow bank's entry still suppresses a match.
func (r *Rescanner) rescanBank(ctx context.Context, ne *newEntries, version int64) error {
	run := &Rescan{Source: parley.MatchBank, SourceID: strconv.FormatInt(ne.bank.ID, 10), Version: version, StartedAt: r.Clock.Now()}
	candidates := map[string]bool{}
	for _, sha := range ne.sha256 {
		if err := r.findByHash(ctx, r.Store.FindMediaBySHA256, sha, candidates); err != nil {
			return err
		}
	}
	for _, md5 := range ne.md5 {
		if err := r.findByHash(ctx, r.Store.FindMediaByMD5, md5, candidates); err != nil {
			return err
		}
	}
	// PDQ: one pass over every stored image's hash. A few new entries are
	// compared with each directly; many go in an index of their own first,
	// so that the pass costs about the same whatever their number.
	if len(ne.pdq) > 0 {
		var idx *pdq.Index
		var after string
		p := pace.New(ctx)
		for {
			page, err := r.Store.ScanMediaHashes(ctx, after, pdq.MinQuality, 10_000)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			// The index is built once there is a stored image to look
			// for: building one of a million entries takes seconds of
			// a CPU, for nothing on a server with no images.
			if idx == nil && len(ne.pdq) > directCompareMax {
				idx = pdq.NewIndex()
				idx.AddBatch(ne.pdqIDs, ne.pdq)
			}
			for _, m := range page {
				run.Scanned++
				after = m.ID
				h, err := pdq.ParseHash(m.PDQ)
				if err != nil {
					continue
				}
				if idx != nil {
					if len(idx.Query(h, banks.PDQMatchDistance)) > 0 {
						candidates[m.ID] = true
					}
					continue
				}
				for _, e := range ne.pdq {
					if pdq.Distance(h, e) <= banks.PDQMatchDistance {
						candidates[m.ID] = true
						break
					}
				}
			}
			// A pass over a million stored images takes seconds of a
			// CPU: at about half of one (package pace).
			if err := p.Rest(); err != nil {
				return err
			}
		}
	}
	var removals []enforce.Request
	for id := range candidates {
		m, err := r.Store.FindMedia(ctx, id)
		if parley.ErrorCode(err) == parley.ENotFound {
			continue
		} else if err != nil {
			return err
		}
		if m.Status != "" {
			continue
		}
		sc := r.Screen.ScreenUpload(m, nil)
		if !sc.Enforced() {
			continue
		}
		run.Matched++
		switch sc.Decision {
		case parley.ScreenBlock, parley.ScreenRemove:
			removals = append(removals, enforce.Request{
				Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: m.ID},
				Grounds: Grounds(sc.By), Note: "re-screening: " + sc.By.Name + " " + sc.By.Detail,
			})
		case parley.ScreenHold:
			if err := r.Store.OpenCase(ctx, &review.Case{Kind: review.KindFlaggedMedia, TargetType: review.TargetMedia, TargetID: m.ID,
				UserID: m.UploaderID, Priority: review.Priority(sc), Screening: sc, CreatedAt: r.Clock.Now()}); err != nil {
				return err
			}
		}
	}
	n, err := r.applyInBatches(ctx, removals)
	run.Actions += n
	if err != nil {
		return err
	}
	if ne.links {
		if err := r.rescanPosts(ctx, run, func(sm *ScannedMessage) *parley.Screening {
			return r.Screen.screenStoredText(sm, nil, true)
		}); err != nil {
			return err
		}
	}
	run.FinishedAt = r.Clock.Now()
	return r.Store.RecordRescan(ctx, run)
}

// findByHash adds to candidates every stored media item that find (a
// lookup by SHA-256 or MD5) returns for hash, a page at a time.
func (r *Rescanner) findByHash(ctx context.Context, find func(ctx context.Context, hash, afterID string, limit int) ([]*parley.Media, error),
	hash string, candidates map[string]bool) error {
	const page = 1000
	var after string
	for {
		ms, err := find(ctx, hash, after, page)
		if err != nil {
			return err
		}
		for _, m := range ms {
			candidates[m.ID] = true
			after = m.ID
		}
		if len(ms) < page {
			return nil
		}
	}
}

// Remover takes automated actions, many in one transaction:
// enforce.Service.ApplyMany.
type Remover interface {
	ApplyMany(ctx context.Context, actor *parley.User, reqs []enforce.Request) ([]*enforce.Action, []error, error)
}

// RemovalBudget is how many removals one transaction of re-screening
// aims at, counting an image and each post that carries it: enough to
// share a commit among many, few enough that the writer is not held for
// long, since every other write (a post) waits for the transaction. A
// removal with its statement of reasons, evidence and audit entry takes
// about 0.2 ms of the writer on the machine of docs/benchmarks.md, so a
// transaction takes 2 to 4 ms, as a batch of a bank import does (posting
// p99 beside a purge of 10,000 copies was 29 ms at 10, 42 ms at 25).
const RemovalBudget = 10

// maxRemovalImages bounds the images of one transaction whatever their
// copies.
const maxRemovalImages = 100

// applyInBatches takes automated actions a batch per transaction, resting
// between them, and returns how many actions (copies included) were taken.
// An item that was acted on meanwhile (EConflict) is skipped.
//
// How many images make RemovalBudget removals depends on how many posts
// carry each, which only the removal finds out: each transaction is sized
// by what the one before took per image. An image carried by more posts
// than the budget is still removed with all its copies in one
// transaction (1,000 copies take about 150 ms).
func (r *Rescanner) applyInBatches(ctx context.Context, reqs []enforce.Request) (int64, error) {
	var n int64
	size := RemovalBudget / 2 // an image and the post that carries it, at the least
	p := pace.New(ctx)
	for len(reqs) > 0 {
		chunk := reqs[:min(size, len(reqs))]
		reqs = reqs[len(chunk):]
		actions, errs, err := r.Enforce.ApplyMany(ctx, nil, chunk)
		if err != nil {
			return n, err
		}
		var taken, images int64
		for i, a := range actions {
			switch {
			case errs[i] == nil:
				taken += int64(1 + a.Children)
				images++
			case parley.ErrorCode(errs[i]) == parley.EConflict:
			default:
				r.log().Warn("re-screening: an action could not be taken", "target", chunk[i].Target.ID(), "err", errs[i])
			}
		}
		n += taken
		if images > 0 {
			perImage := max(1, (taken+images-1)/images)
			size = int(max(1, min(maxRemovalImages, RemovalBudget/perImage)))
		}
		// Each removal is also an update to fan out to every member of
		// its chat: at about half a CPU and half the writer (package
		// pace), posting goes on beside a purge of thousands.
		if len(reqs) > 0 {
			if err := p.Rest(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// rescanPosts screens every stored post of channels and groups with
// screen and acts on what it decides.
func (r *Rescanner) rescanPosts(ctx context.Context, run *Rescan, screen func(*ScannedMessage) *parley.Screening) error {
	var after int64
	for {
		page, err := r.Store.ScanMessages(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, sm := range page {
			after = sm.Message.ID
			run.Scanned++
			m := sm.Message
			if m.Moderation != nil && (m.Moderation.Removed != nil || m.Moderation.Held != nil) {
				continue
			}
			sc := screen(sm)
			if !sc.Enforced() {
				continue
			}
			run.Matched++
			n, err := r.actOnPost(ctx, m, sc)
			if err != nil {
				return err
			}
			run.Actions += n
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// actOnPost acts on a stored, visible post that re-screening matched: a
// block or remove removes it, a label labels it, a hold opens a case for a
// person (the post stays visible until then).
func (r *Rescanner) actOnPost(ctx context.Context, m *parley.Message, sc *parley.Screening) (int64, error) {
	switch sc.Decision {
	case parley.ScreenBlock, parley.ScreenRemove, parley.ScreenLabel:
		if sc.Decision == parley.ScreenBlock {
			sc.Decision = parley.ScreenRemove // what was stored can only be removed now
		}
		if sc.Decision == parley.ScreenLabel && m.Moderation != nil && m.Moderation.Label != nil {
			return 0, nil
		}
		_, err := r.Screen.ActOnPost(ctx, m, sc)
		if parley.ErrorCode(err) == parley.EConflict {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return 1, nil
	case parley.ScreenHold:
		return 0, r.Store.OpenCase(ctx, &review.Case{Kind: review.KindFlaggedPost, TargetType: review.TargetMessage,
			TargetID: strconv.FormatInt(m.ChatID, 10) + ":" + strconv.FormatInt(m.Seq, 10), ChatID: m.ChatID,
			UserID: m.SenderID, Priority: review.Priority(sc), Screening: sc, CreatedAt: r.Clock.Now()})
	}
	return 0, nil
}

// rescanRules rescans stored posts with every enabled rule version that
// has no finished run.
func (r *Rescanner) rescanRules(ctx context.Context) error {
	stored, err := r.Store.ListRules(ctx)
	if err != nil {
		return err
	}
	for _, sr := range stored {
		if !sr.Enabled || sr.Mode != rules.ModeEnforce {
			continue
		}
		done, err := r.Store.RescanDone(ctx, parley.MatchRule, sr.ID, int64(sr.Version))
		if err != nil {
			return err
		}
		if done {
			continue
		}
		set, err := rules.Compile([]rules.Rule{sr.Rule})
		if err != nil {
			r.log().Error("a stored rule does not compile; it is not rescanned", "rule", sr.ID, "err", err)
			continue
		}
		single := &compiledRules{set: set, byID: map[string]*rules.Rule{sr.ID: &sr.Rule}}
		run := &Rescan{Source: parley.MatchRule, SourceID: sr.ID, Version: int64(sr.Version), StartedAt: r.Clock.Now()}
		if err := r.rescanPosts(ctx, run, func(sm *ScannedMessage) *parley.Screening {
			return r.Screen.screenStoredText(sm, single, false)
		}); err != nil {
			return err
		}
		run.FinishedAt = r.Clock.Now()
		if err := r.Store.RecordRescan(ctx, run); err != nil {
			return err
		}
		r.log().Info("rule rescanned stored posts", "rule", sr.ID, "version", sr.Version, "scanned", run.Scanned, "matched", run.Matched, "actions", run.Actions)
	}
	return nil
}

func (r *Rescanner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// screenStoredText screens a stored post's text with one rule set (nil:
// none) and, when links is set, the link banks.
func (s *Screener) screenStoredText(sm *ScannedMessage, c *compiledRules, links bool) *parley.Screening {
	out := &parley.Screening{}
	text := sm.Message.Text
	if c != nil && text != "" {
		out.Matches = c.matches(c.set.Screen(text, sm.Context))
	}
	if links && s.Banks != nil && text != "" {
		out.Matches = append(out.Matches, bankMatches(s.Banks.MatchText(text))...)
	}
	decide(out)
	return out
}
