package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Message is one event as read from the stream.
//
// The stream delivers at least once: the same event can arrive twice (for
// instance when the outbox relay re-published it after the duplicate window
// had passed). A handler must be idempotent, keyed on ID or on a sequence
// number (pts) inside Data.
type Message struct {
	// Subject is the event's subject without the stream prefix, e.g. "chat.42".
	Subject string
	// Kind is parley.Event.Kind.
	Kind string
	// Data is parley.Event.Payload.
	Data []byte
	// StreamSeq is the message's sequence in the stream; SubscribeFrom
	// resumes from it.
	StreamSeq uint64
	// ID is parley.Event.ID, recovered from the de-duplication header; 0 for
	// a message that was not published by this package.
	ID int64
}

const (
	// resetAttempts is how often the library's ordered consumer retries
	// recreating itself before giving the error back to us; we then build a
	// fresh one with our own ctx-aware backoff, so a long outage never
	// leaves a goroutine stuck in the library.
	resetAttempts = 3
	// resubscribeMax caps the backoff between fresh ordered consumers.
	resubscribeMax = 2 * time.Second
)

// Subscribe delivers every event published after it returns whose subject
// matches filter (relative to the prefix, wildcards allowed: "chat.>",
// "user.*", ">"). handle is called on one goroutine, one message at a time,
// in stream order; a slow handler delays the subscription's later messages
// but no other subscription. This is how each process fans events out to its
// own WebSocket clients.
//
// It reads through a JetStream ordered consumer, which the client recreates
// at the next sequence after a disconnect, a missed heartbeat or a gap, so
// the subscription survives brief server outages without losing or
// repeating messages. The consumer starts at the sequence after the stream's
// last message at the time of the call, which is the DeliverNew policy made
// exact: unlike DeliverNew it cannot skip messages published while the first
// consumer is being recreated.
//
// The subscription ends when stop is called, when ctx is done or when the
// Stream is closed. stop waits until handle has returned for the last time;
// do not call it from inside handle.
func (s *Stream) Subscribe(ctx context.Context, filter string, handle func(Message)) (stop func(), err error) {
	return s.subscribe(ctx, filter, 0, handle)
}

// SubscribeFrom is Subscribe starting at stream sequence startSeq (1 is the
// first message ever stored; sequences that have expired are skipped). It
// serves replay and catching up after a restart.
func (s *Stream) SubscribeFrom(ctx context.Context, filter string, startSeq uint64, handle func(Message)) (stop func(), err error) {
	if startSeq == 0 {
		startSeq = 1
	}
	return s.subscribe(ctx, filter, startSeq, handle)
}

type subscription struct {
	s       *Stream
	subject string
	handle  func(Message)
	next    uint64 // stream sequence of the next message to deliver; owned by run
	cancel  context.CancelFunc
	done    chan struct{}
}

func (s *Stream) subscribe(ctx context.Context, filter string, startSeq uint64, handle func(Message)) (func(), error) {
	if handle == nil {
		return nil, errors.New("stream: subscribe: nil handler")
	}
	if err := validSubject(filter, true); err != nil {
		return nil, fmt.Errorf("stream: filter %q: %w", filter, err)
	}
	if s.closing() {
		return nil, ErrClosed
	}
	if startSeq == 0 {
		info, err := s.js.Stream(ctx, s.name)
		if err != nil {
			return nil, fmt.Errorf("stream: subscribe %q: %w", filter, err)
		}
		startSeq = info.CachedInfo().State.LastSeq + 1
	}
	sub := &subscription{
		s:       s,
		subject: s.prefix + "." + filter,
		handle:  handle,
		next:    startSeq,
		done:    make(chan struct{}),
	}
	// The first consumer is created here, not in the goroutine, so that a
	// bad filter or an unreachable server is an error of Subscribe and so
	// that everything published after Subscribe returns is delivered.
	cons, iter, err := sub.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream: subscribe %q: %w", filter, err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	sub.cancel = cancel

	s.mu.Lock()
	if s.isClosed {
		s.mu.Unlock()
		iter.Stop()
		cancel()
		return nil, ErrClosed
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()

	go sub.run(runCtx, cons, iter)
	return sub.stop, nil
}

// open creates an ordered consumer starting at sub.next and its iterator.
func (sub *subscription) open(ctx context.Context) (jetstream.Consumer, jetstream.MessagesContext, error) {
	cons, err := sub.s.js.OrderedConsumer(ctx, sub.s.name, jetstream.OrderedConsumerConfig{
		FilterSubjects:   []string{sub.subject},
		DeliverPolicy:    jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:      sub.next,
		MaxResetAttempts: resetAttempts,
	})
	if err != nil {
		return nil, nil, err
	}
	iter, err := cons.Messages()
	if err != nil {
		return nil, nil, err
	}
	return cons, iter, nil
}

func (sub *subscription) stop() {
	sub.cancel()
	<-sub.done
}

func (sub *subscription) run(ctx context.Context, cons jetstream.Consumer, iter jetstream.MessagesContext) {
	defer close(sub.done)
	defer func() {
		sub.s.mu.Lock()
		delete(sub.s.subs, sub)
		sub.s.mu.Unlock()
	}()
	log := sub.s.log.With("subject", sub.subject)
	backoff := time.Duration(0)
	for {
		err := sub.consume(ctx, iter)
		iter.Stop()
		sub.deleteConsumer(cons)
		if ctx.Err() != nil {
			return
		}
		// The ordered consumer gave up (a long outage) or its iterator
		// closed under us: start a fresh one at the next sequence.
		backoff = min(max(2*backoff, 100*time.Millisecond), resubscribeMax)
		log.Warn("event subscription interrupted; resubscribing", "next_seq", sub.next, "retry_in", backoff, "err", err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			octx, cancel := context.WithTimeout(ctx, 10*time.Second)
			cons, iter, err = sub.open(octx)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			backoff = min(2*backoff, resubscribeMax)
			log.Warn("event resubscribe failed", "next_seq", sub.next, "retry_in", backoff, "err", err)
		}
		backoff = 0
		log.Info("event subscription resumed", "next_seq", sub.next)
	}
}

// consume hands messages to the handler until the iterator fails or ctx is
// done.
func (sub *subscription) consume(ctx context.Context, iter jetstream.MessagesContext) error {
	stopIter := context.AfterFunc(ctx, iter.Stop)
	defer stopIter()
	for {
		msg, err := next(ctx, iter)
		if err != nil {
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			// Not a JetStream message; the ordered consumer never hands
			// these out, so skip rather than stall.
			continue
		}
		sub.next = meta.Sequence.Stream + 1
		subj := msg.Subject()
		if len(subj) > len(sub.s.prefix) {
			subj = subj[len(sub.s.prefix)+1:]
		}
		h := msg.Headers()
		sub.handle(Message{
			Subject:   subj,
			Kind:      h.Get(HeaderKind),
			Data:      msg.Data(),
			StreamSeq: meta.Sequence.Stream,
			ID:        sub.s.eventID(h.Get(jetstream.MsgIDHeader)),
		})
	}
}

// next wraps the iterator's Next. It recovers a panic because the
// library's consumer reset can dereference a consumer it failed to create
// when it is stopped mid-retry; that must end this iterator, not the
// process.
func next(ctx context.Context, iter jetstream.MessagesContext) (msg jetstream.Msg, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("ordered consumer panic: %v", r)
		}
	}()
	return iter.Next(jetstream.NextContext(ctx))
}

// deleteConsumer removes the server-side consumer at once rather than
// leaving it to the inactivity threshold, so that subscriptions that come
// and go do not pile up consumers on a shared server.
func (sub *subscription) deleteConsumer(cons jetstream.Consumer) {
	if sub.s.nc.Status() != nats.CONNECTED {
		return
	}
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = sub.s.js.DeleteConsumer(ctx, sub.s.name, info.Name)
}
