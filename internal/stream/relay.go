package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Relay defaults, used when the corresponding field is zero.
const (
	DefaultRelayBatch    = 500
	DefaultRelayInterval = 200 * time.Millisecond
	// maxRelayBackoff caps the pause after a failure: long enough not to
	// hammer a sick database or server, short enough that delivery resumes
	// within a couple of seconds of recovery.
	maxRelayBackoff = 2 * time.Second
	minRelayBackoff = 50 * time.Millisecond
	// deleteTimeout bounds the outbox delete after a successful publish. The
	// delete runs even when Run's ctx was just cancelled, because skipping it
	// only means publishing the batch again.
	deleteTimeout = 5 * time.Second
)

// Relay moves events from the outbox to the stream: it reads pending events
// in id order, publishes them as one batch, and deletes those the stream
// acknowledged. Nothing is dropped: on any failure it backs off and retries
// the same events. Delivery is at least once; a relay that dies after
// publishing and before deleting publishes the events again when it restarts,
// and the stream's de-duplication (Nats-Msg-Id, 10-minute window) drops the
// copies. Consumers must still be idempotent, because a copy published after
// the window is stored again.
//
// Run one Relay per outbox. Two relays on one outbox stay correct (each
// event is de-duplicated, deletes are idempotent) but interleave, so events
// may reach the stream out of id order.
//
// The fields are read by Run; set them before calling it.
type Relay struct {
	// Outbox is read and trimmed by the relay.
	Outbox Outbox
	// Stream receives the events.
	Stream *Stream
	// Signal wakes an idle relay at once, instead of at the next Interval.
	// The writer of the outbox should send on it without blocking after
	// each commit that added events, e.g. on a channel with a buffer of 1:
	//	select { case signal <- struct{}{}: default: }
	// May be nil.
	Signal <-chan struct{}
	// Interval is how often an idle relay polls the outbox. It bounds the
	// delay of an event whose signal was missed. Default 200ms.
	Interval time.Duration
	// Batch is the most events read and published at once. Default 500.
	Batch int
	// Log may be nil.
	Log *slog.Logger

	relayed  atomic.Uint64
	failures atomic.Uint64
}

// Relayed returns how many events the stream has acknowledged from this
// relay, duplicates included; a counter.
func (r *Relay) Relayed() uint64 { return r.relayed.Load() }

// Failures returns how many relay rounds failed (reading the outbox,
// publishing or deleting) and were retried; a counter.
func (r *Relay) Failures() uint64 { return r.failures.Load() }

// Run relays until ctx is done, then returns nil. It returns an error only
// when the Relay is misconfigured: every other failure is logged, counted
// in Failures and retried with a bounded exponential backoff.
func (r *Relay) Run(ctx context.Context) error {
	if r.Outbox == nil || r.Stream == nil {
		return errors.New("stream: relay needs an Outbox and a Stream")
	}
	batch := r.Batch
	if batch <= 0 {
		batch = DefaultRelayBatch
	}
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRelayInterval
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "relay")

	timer := time.NewTimer(interval)
	defer timer.Stop()
	var backoff time.Duration
	for {
		if ctx.Err() != nil {
			return nil
		}
		n, err := r.round(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.failures.Add(1)
			backoff = min(max(2*backoff, minRelayBackoff), maxRelayBackoff)
			log.Warn("relay round failed; retrying", "retry_in", backoff, "err", err)
			timer.Reset(backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
			continue
		}
		backoff = 0
		if n == batch {
			// A full batch: more are probably waiting, go on at once.
			continue
		}
		timer.Reset(interval)
		select {
		case <-ctx.Done():
			return nil
		case <-r.Signal:
		case <-timer.C:
		}
	}
}

// round relays one batch and returns how many events it read.
func (r *Relay) round(ctx context.Context, batch int) (int, error) {
	evs, err := r.Outbox.PendingEvents(ctx, batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	acked, pubErr := r.Stream.PublishBatch(ctx, evs)
	if acked > 0 {
		r.relayed.Add(uint64(acked))
		ids := make([]int64, acked)
		for i, ev := range evs[:acked] {
			ids[i] = ev.ID
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
		err := r.Outbox.DeleteEvents(dctx, ids)
		cancel()
		if err != nil {
			return len(evs), errors.Join(pubErr, fmt.Errorf("stream: delete %d relayed events: %w", len(ids), err))
		}
	}
	return len(evs), pubErr
}
