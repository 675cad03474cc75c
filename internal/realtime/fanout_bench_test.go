//go:build unix

package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"parley"
	"parley/internal/realtime"
)

// BenchmarkFanOut measures one update fanned out by the hub to the
// connections of a channel's subscribers and taken from their queues by
// their Run loops (the send writes nothing), with a real store behind the
// hub. "plain" is the common case, no moderation anywhere: one encoding
// for everyone. "withheld" is a message withheld in one of the three
// countries the subscribers are in: one encoding per rendering.
//
//	go test -run '^$' -bench FanOut -benchtime 200x ./internal/realtime
func BenchmarkFanOut(b *testing.B) {
	const subscribers = 2000
	w := newWorld(b)
	ctx := context.Background()
	owner := &parley.User{Username: "owner"}
	if err := w.db.CreateUser(ctx, owner); err != nil {
		b.Fatal(err)
	}
	ch := &parley.Chat{Kind: parley.ChatChannel, Handle: "fanout", Title: "Fan-out", OwnerID: owner.ID}
	if err := w.db.CreateChat(ctx, ch, 0); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	countries := []string{"DE", "FR", "IT"}
	for i := range subscribers {
		u := &parley.User{Username: fmt.Sprintf("sub%05d", i)}
		if err := w.db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		if err := w.db.AddMember(ctx, &parley.Member{ChatID: ch.ID, UserID: u.ID, Role: parley.MemberSubscriber}); err != nil {
			b.Fatal(err)
		}
		c := realtime.NewClient(parley.Viewer{UserID: u.ID, Country: countries[i%len(countries)]}, nil)
		if err := w.hub.Register(ctx, c); err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		b.Cleanup(cancel)
		go w.hub.Run(runCtx, c, func(_ context.Context, f realtime.Frame) error {
			if f.Type == realtime.FrameUpdate {
				wg.Done()
			}
			return nil
		})
	}
	pts := int64(0)
	event := func(b *testing.B, mod *parley.Moderation) []byte {
		pts++
		kind := parley.UpdateMessageNew
		if mod != nil {
			kind = parley.UpdateMessageModerated
		}
		data, err := json.Marshal(parley.Update{ChatID: ch.ID, Pts: pts, Kind: kind, Message: parley.Message{
			ChatID: ch.ID, Seq: pts, SenderID: owner.ID, SenderName: "owner", Text: "ships in at noon, ships out at dusk", Moderation: mod}})
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	for _, bc := range []struct {
		name string
		mod  *parley.Moderation
	}{
		{"plain", nil},
		{"withheld", &parley.Moderation{Withheld: []parley.Withholding{{ActionID: 1, Countries: []string{"DE"}, Reason: "a court order"}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			events := make([][]byte, b.N)
			for i := range events {
				events[i] = event(b, bc.mod)
			}
			encoded := w.hub.Encoded()
			cpu := processCPU()
			b.ResetTimer()
			for i := range b.N {
				wg.Add(subscribers)
				w.hub.HandleEvent(parley.ChatSubject(ch.ID), parley.UpdateMessageNew, events[i])
				wg.Wait()
			}
			b.StopTimer()
			// CPU time, unlike the wall time, hardly depends on what else
			// the machine's cores are doing.
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N*subscribers), "cpu-ns/delivery")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subscribers), "ns/delivery")
			b.ReportMetric(float64(w.hub.Encoded()-encoded)/float64(b.N), "encodings/op")
			if w.hub.Dropped() > 0 {
				b.Fatalf("%d clients fell behind", w.hub.Dropped())
			}
		})
	}
}

// processCPU returns the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
