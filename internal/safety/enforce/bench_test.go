//go:build unix

package enforce_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/enforce"
	"parley/internal/sor"
	"parley/internal/store/sqlite"
	"parley/internal/testclock"
)

// BenchmarkApplyManyRemoveMedia measures what re-screening pays for each
// copy it removes: ApplyMany of a batch of 100 RemoveMedia actions in one
// transaction, each image carried by one post (so each action has one
// child), on a real SQLite store. The end-to-end figure is
// internal/bench's TestHashAndPurge; this one isolates the enforcement
// path, reported per image removed: the time, and the process's CPU time
// (less disturbed than the time by others' load on the machine).
func BenchmarkApplyManyRemoveMedia(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	clock := testclock.At(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	svc := &enforce.Service{Store: db, Clock: clock, Namespace: "bench"}
	poster := &parley.User{Username: "poster", CreatedAt: clock.Now()}
	if err := db.CreateUser(ctx, poster); err != nil {
		b.Fatal(err)
	}
	g := &parley.Chat{Kind: parley.ChatGroup, Title: "Group", OwnerID: poster.ID, CreatedAt: clock.Now()}
	if err := db.CreateChat(ctx, g, 0); err != nil {
		b.Fatal(err)
	}
	grounds := enforce.Grounds{Ground: sor.GroundIncompatibleContent, TermsGround: "Section 4 (prohibited content) of the Parley Terms of Service",
		Category: sor.CategoryRiskForPublicSecurity, Source: sor.SourceVoluntary, AutomatedDetection: true, Automation: sor.AutomatedFully,
		Signal: sor.Signal{Kind: sor.SignalHashBank, Name: "bench", Version: 1}}
	const batch = 100
	n := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		reqs := make([]enforce.Request, batch)
		for i := range reqs {
			n++
			id := fmt.Sprintf("%064x", n)
			if err := db.SaveMedia(ctx, &parley.Media{ID: id, Mime: "image/jpeg", Size: 1000, Width: 100, Height: 100,
				UploaderID: poster.ID, CreatedAt: clock.Now()}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.InsertMessage(ctx, &parley.Message{ChatID: g.ID, SenderID: poster.ID, MediaID: id, CreatedAt: clock.Now()}); err != nil {
				b.Fatal(err)
			}
			reqs[i] = enforce.Request{Kind: enforce.RemoveMedia, Target: enforce.Target{Type: enforce.TargetMedia, MediaID: id}, Grounds: grounds}
		}
		b.StartTimer()
		cpu0 := processCPU(b)
		actions, errs, err := svc.ApplyMany(ctx, nil, reqs)
		if err != nil {
			b.Fatal(err)
		}
		cpu += processCPU(b) - cpu0
		for i, err := range errs {
			if err != nil || actions[i].Children != 1 {
				b.Fatalf("action %d: %v, %+v", i, err, actions[i])
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/image")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/image")
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
