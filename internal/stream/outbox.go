package stream

import (
	"context"

	"parley"
)

// Outbox is the table of events waiting to be published. The relay reads it
// in id order and deletes what the stream has acknowledged.
type Outbox interface {
	// PendingEvents returns the oldest unrelayed events, at most limit.
	PendingEvents(ctx context.Context, limit int) ([]parley.Event, error)
	// DeleteEvents removes relayed events.
	DeleteEvents(ctx context.Context, ids []int64) error
	// CountPendingEvents returns how many events wait to be relayed.
	CountPendingEvents(ctx context.Context) (int64, error)
}
