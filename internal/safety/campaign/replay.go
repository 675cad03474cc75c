package campaign

import "iter"

// Rebuilding at start-up.
//
// The detector keeps its state in memory only. At start-up it is rebuilt by
// replaying the posts of the last Window, oldest first, in the order they
// were first observed (for the store: created_at, then id): the detector
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

// Rebuild returns a detector for cfg that has observed posts, in order, with
// their Results discarded. Use it at start-up with the posts of the last
// Window; for the Results, call Observe in a loop instead.
func Rebuild(cfg Config, posts iter.Seq[Post]) (*Detector, error) {
	d, err := New(cfg)
	if err != nil {
		return nil, err
	}
	for p := range posts {
		d.Observe(p)
	}
	return d, nil
}
