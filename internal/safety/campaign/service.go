package campaign

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
)

// This file is the detector's place in the server: a Worker feeds it the
// new posts of channels and groups from the event stream and records the
// campaigns it finds; a Service shows them to moderators, who remove a
// campaign's posts in bulk or dismiss it.

// Campaign statuses.
const (
	StatusOpen      = "open"
	StatusRemoved   = "removed"   // its posts were removed
	StatusDismissed = "dismissed" // a moderator found it harmless (a viral quote, a petition)
	StatusAbsorbed  = "absorbed"  // merged into another campaign
)

// Stored is a campaign as recorded.
type Stored struct {
	ID           int64      `json:"id"`
	Status       string     `json:"status"`
	AbsorbedInto int64      `json:"absorbed_into,omitempty"`
	Sample       string     `json:"sample"`
	Posts        int64      `json:"posts"`
	Accounts     int64      `json:"accounts"`
	FirstAt      time.Time  `json:"first_at"`
	LastAt       time.Time  `json:"last_at"`
	CreatedAt    time.Time  `json:"created_at"`
	DecidedBy    int64      `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
}

// StoredMember is one post of a campaign, with where it is.
type StoredMember struct {
	MessageID int64     `json:"message_id"`
	ChatID    int64     `json:"chat_id"`
	Seq       int64     `json:"seq"`
	AccountID int64     `json:"account_id"`
	Text      string    `json:"text"`
	Removed   bool      `json:"removed"`
	At        time.Time `json:"at"`
}

// Store is what campaigns need from storage.
type Store interface {
	// RecordCampaigns stores what a batch of observations found, in one
	// transaction, in order. For each f: campaign f.Campaign is created
	// open when new, with f.Sample as its sample (shortened to at most 1000
	// bytes, at a character boundary) and f.At as its creation time; a
	// campaign recorded before keeps its sample and its status. The
	// members of f.Joined, and those of every campaign in f.Absorbed,
	// become its members. An absorbed campaign that is open becomes
	// absorbed into f.Campaign (one decided already keeps its decision);
	// either way it keeps its own members and counts, as the record of
	// what it was. A campaign's Posts and Accounts count its distinct posts
	// and accounts; FirstAt and LastAt span the times of its members and
	// the f.At of the observations that recorded them. Recording a member
	// the campaign has already changes nothing, so a replay is harmless,
	// and concurrent calls count each member once.
	RecordCampaigns(ctx context.Context, found []Found) error
	// FindCampaign returns the campaign with that id; ENotFound if there
	// is none.
	FindCampaign(ctx context.Context, id int64) (*Stored, error)
	// ListCampaigns returns the campaigns with a status, the most recently
	// active (LastAt) first and, of those last active at the same instant,
	// the highest id first, at most limit (at most 1000; zero or less means
	// 1000). An unknown status lists none.
	ListCampaigns(ctx context.Context, status string, limit int) ([]*Stored, error)
	// ListCampaignMembers returns a campaign's posts, the oldest first (by
	// the member's time, then by message id), at most 100,000, each with
	// the message's seq and current text and whether it is removed or
	// deleted now. An unknown campaign has none (no error).
	ListCampaignMembers(ctx context.Context, id int64) ([]*StoredMember, error)
	// DecideCampaign sets an open campaign's status to status (removed or
	// dismissed), with who decided and when, and appends an audit entry
	// (campaign.decided, by the decider). ENotFound if there is no such
	// campaign; EConflict, changing nothing, if it is not open (decided or
	// absorbed meanwhile), so that of two moderators deciding at once
	// exactly one succeeds.
	DecideCampaign(ctx context.Context, id int64, status string, by int64, at time.Time) error
	// PostsSince returns the stored posts with text of channels and groups
	// that are not deleted (whatever their moderation), posted at or after
	// since, with id > afterID, in id order, at most limit (at most 1000;
	// zero or less means 1000), to rebuild the detector at start. Message
	// ids grow with the time of posting, and an adapter may rely on that
	// to find the first post at or after since.
	PostsSince(ctx context.Context, since time.Time, afterID int64, limit int) ([]Post, error)
}

// Found is what one observation found, to record.
type Found struct {
	Campaign int64
	Sample   string
	Joined   []Member
	Absorbed []int64
	At       time.Time
}

// Worker feeds the detector and records what it finds. Observe is called
// from the event stream's consumer and never blocks it: posts wait in a
// bounded queue, and are counted as dropped when it is full.
type Worker struct {
	Detector *Detector
	Store    Store
	Log      *slog.Logger
	// Admit says whether a chat's posts go to the detector (nil: every
	// channel's and group's). It is asked of live posts and of the posts
	// replayed at start alike, so that a restart finds what the live
	// detector would have.
	Admit func(chatID int64) bool

	once    sync.Once
	queue   chan Post
	dropped atomic.Uint64
	seen    atomic.Uint64
}

// QueueSize bounds the posts waiting for the detector.
const QueueSize = 16384

func (w *Worker) q() chan Post {
	w.once.Do(func() { w.queue = make(chan Post, QueueSize) })
	return w.queue
}

// Observe queues a new post, when it has text and its chat is admitted.
func (w *Worker) Observe(p Post) {
	if !w.admits(p) {
		return
	}
	select {
	case w.q() <- p:
	default:
		w.dropped.Add(1)
	}
}

// Dropped counts posts not observed because the queue was full; Seen those
// observed.
func (w *Worker) Dropped() uint64 { return w.dropped.Load() }

// Seen counts the posts the detector has observed.
func (w *Worker) Seen() uint64 { return w.seen.Load() }

// Rebuilding at start-up (Worker.Rebuild).
//
// The detector keeps its state in memory only. At start-up it is rebuilt by
// replaying the posts of the last Window, oldest first, in the order they
// were first observed (for the store: id order, which is the order of insertion): the detector
// never reads a clock, so a replay makes the same decisions as the first
// run did. Replaying the same posts gives the same groups, campaigns and
// campaign IDs; when the replay starts later than the first run did (the
// usual case: the first run began days ago), a group that was linked only
// through posts now out of the window may come back as two groups, and a
// campaign whose founding post has left the window gets the ID of its
// earliest remaining member. The caller stores what it acts on by post ID
// and campaign ID and applies a replayed Result idempotently.
//
// A replay is cheaper than a snapshot would be to keep correct: the posts
// are in the store anyway, a day of them is replayed at the rate of
// BenchmarkObserve (docs/benchmarks.md), and there is no second format to
// keep in step with the code.

// Rebuild replays the posts of the detector's window from the store, so
// that a restarted server knows the campaigns in progress. What the replay
// finds is recorded too (recording is idempotent).
func (w *Worker) Rebuild(ctx context.Context, now time.Time) error {
	since := now.Add(-w.Detector.Config().Window)
	var after int64
	for {
		posts, err := w.Store.PostsSince(ctx, since, after, 1000)
		if err != nil {
			return err
		}
		if len(posts) == 0 {
			return nil
		}
		after = posts[len(posts)-1].ID
		posts = slices.DeleteFunc(posts, func(p Post) bool { return !w.admits(p) })
		if len(posts) == 0 {
			continue
		}
		if err := w.observe(ctx, posts); err != nil {
			return err
		}
	}
}

func (w *Worker) admits(p Post) bool {
	return p.Text != "" && (w.Admit == nil || w.Admit(p.ChatID))
}

// Run observes queued posts, in batches, until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	queue := w.q()
	batch := make([]Post, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-queue:
			batch = append(batch[:0], p)
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case p := <-queue:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		if err := w.observe(ctx, batch); err != nil && ctx.Err() == nil {
			w.log().Warn("campaigns: recording failed", "err", err)
		}
	}
}

func (w *Worker) observe(ctx context.Context, posts []Post) error {
	results := w.Detector.ObserveBatch(posts)
	w.seen.Add(uint64(len(posts)))
	text := make(map[int64]string, len(posts))
	for _, p := range posts {
		text[p.ID] = p.Text
	}
	// One transaction for the whole batch: a spam wave is many posts
	// joining one campaign, and a write per post would compete with the
	// posts themselves for the database.
	var found []Found
	for i, r := range results {
		if r.Campaign == 0 || (len(r.Joined) == 0 && len(r.Absorbed) == 0) {
			continue
		}
		sample := text[int64(r.Campaign)]
		if sample == "" {
			sample = posts[i].Text
		}
		absorbed := make([]int64, len(r.Absorbed))
		for j, a := range r.Absorbed {
			absorbed[j] = int64(a)
		}
		found = append(found, Found{Campaign: int64(r.Campaign), Sample: sample, Joined: r.Joined, Absorbed: absorbed, At: posts[i].At})
		if r.Formed {
			w.log().Info("campaign formed", "campaign", r.Campaign, "members", len(r.Joined))
		}
	}
	if len(found) == 0 {
		return nil
	}
	return w.Store.RecordCampaigns(ctx, found)
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// Service shows campaigns to moderators and acts on them in bulk.
type Service struct {
	Store   Store
	Enforce *enforce.Service
	Clock   parley.Clock
}

func canModerate(u *parley.User) error {
	if u == nil || !u.Role.CanModerate() {
		return parley.Errorf(parley.EForbidden, "only moderators and admins act on campaigns")
	}
	return nil
}

// List returns campaigns with a status (open by default), most recently
// active first.
func (s *Service) List(ctx context.Context, actor *parley.User, status string, limit int) ([]*Stored, error) {
	if err := canModerate(actor); err != nil {
		return nil, err
	}
	if status == "" {
		status = StatusOpen
	}
	switch status {
	case StatusOpen, StatusRemoved, StatusDismissed, StatusAbsorbed:
	default:
		return nil, parley.FieldError("status", "status must be open, removed, dismissed or absorbed")
	}
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	return s.Store.ListCampaigns(ctx, status, limit)
}

// Find returns a campaign with its members.
func (s *Service) Find(ctx context.Context, actor *parley.User, id int64) (*Stored, []*StoredMember, error) {
	if err := canModerate(actor); err != nil {
		return nil, nil, err
	}
	c, err := s.Store.FindCampaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	members, err := s.Store.ListCampaignMembers(ctx, id)
	return c, members, err
}

// DefaultGrounds are the grounds of a bulk removal when the moderator
// gives none: coordinated spam, against the terms.
var DefaultGrounds = enforce.Grounds{
	Ground:      sor.GroundIncompatibleContent,
	TermsGround: "Section 4.3 (spam and coordinated inauthentic behaviour) of the Parley Terms of Service",
	Category:    sor.CategoryScamsAndFraud,
	Keywords:    []sor.Keyword{sor.KeywordCoordinatedHarm},
	Source:      sor.SourceVoluntary,
}

// Remove removes every post of a campaign that is still up, each by an
// action of its own with a statement for its author: detected by the
// campaign detector, decided by the moderator (partly automated). It
// returns how many posts it removed.
func (s *Service) Remove(ctx context.Context, actor *parley.User, id int64, g *enforce.Grounds) (int, error) {
	c, members, err := s.Find(ctx, actor, id) // checks the actor's role
	if err != nil {
		return 0, err
	}
	if c.Status != StatusOpen {
		return 0, parley.Errorf(parley.EConflict, "campaign %d is %s", id, c.Status)
	}
	grounds := DefaultGrounds
	if g != nil {
		grounds = *g
	}
	grounds.Signal = sor.Signal{Kind: sor.SignalCampaign, Name: "campaign-detector", Version: 1}
	grounds.AutomatedDetection, grounds.Automation = true, sor.AutomatedPartially
	note, _ := json.Marshal(map[string]any{"campaign": id, "posts": len(members)})
	removed := 0
	for _, m := range members {
		if m.Removed {
			continue
		}
		_, err := s.Enforce.Apply(ctx, actor, enforce.Request{Kind: enforce.RemoveMessage,
			Target: enforce.Target{Type: enforce.TargetMessage, ChatID: m.ChatID, Seq: m.Seq}, Grounds: grounds, Note: "campaign " + string(note)})
		switch parley.ErrorCode(err) {
		case "":
			removed++
		case parley.EConflict, parley.ENotFound:
			// removed, or deleted by its author, meanwhile
		default:
			return removed, err
		}
	}
	return removed, s.Store.DecideCampaign(ctx, id, StatusRemoved, actor.ID, s.Clock.Now())
}

// Dismiss records that a campaign is harmless.
func (s *Service) Dismiss(ctx context.Context, actor *parley.User, id int64) error {
	if err := canModerate(actor); err != nil {
		return err
	}
	c, err := s.Store.FindCampaign(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != StatusOpen {
		return parley.Errorf(parley.EConflict, "campaign %d is %s", id, c.Status)
	}
	return s.Store.DecideCampaign(ctx, id, StatusDismissed, actor.ID, s.Clock.Now())
}
