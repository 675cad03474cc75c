package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"parley"
	"parley/internal/bench"
	"parley/internal/stream"
)

// natsEnv points the external-stream variant of the crash test at a NATS
// server with JetStream, e.g. nats://127.0.0.1:4222.
const natsEnv = "PARLEY_TEST_NATS_URL"

// Shape of the load the crash test puts on the server before killing it.
const (
	crashAccounts = 4
	crashChats    = 2
	crashWriters  = 16
	// crashMinAcks is how many acknowledged posts the test waits for before
	// it kills the server, so that there is something to lose.
	crashMinAcks = 300
	// crashMaxPosts bounds each writer, whatever happens.
	crashMaxPosts = 20_000
)

// msgKey names a message: its chat and its per-chat sequence number.
type msgKey struct{ chat, seq int64 }

// TestKillNineLosesNothingAcknowledged is the "nothing acknowledged is lost"
// test of the design: it starts the real binary, posts from many clients at
// once, kills the server with SIGKILL in the middle of that, restarts it on
// the same data directory, and checks that every message the server had
// acknowledged (201 with its seq) is there with the same seq and text, that
// no chat has a duplicate or missing seq, and that every acknowledged
// message's event reached the event stream at least once: the outbox drains
// to zero, and the stream itself holds a message.new event for each.
//
// It runs against the embedded event stream (in the killed process, so
// JetStream's own files go through the kill too) and, when natsEnv is set,
// against an external NATS server.
func TestKillNineLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the parley binary, loads it and kills it with SIGKILL; skipped in -short mode")
	}
	bin := bench.BuildParley(t)
	t.Run("embedded", func(t *testing.T) {
		dataDir := t.TempDir()
		crashAndRecover(t, bin, dataDir, nil, func(ctx context.Context, srv *bench.Process) (jetstream.JetStream, string, func()) {
			// The embedded stream lives inside the server; stop the server
			// gracefully and open its JetStream store here instead.
			if err := srv.Stop(20 * time.Second); err != nil {
				t.Fatalf("stopping the restarted server: %v\n%s", err, srv.Logs())
			}
			return openEmbeddedStore(t, filepath.Join(dataDir, "nats"), stream.StreamName(stream.DefaultPrefix))
		})
	})
	t.Run("external", func(t *testing.T) {
		url := os.Getenv(natsEnv)
		if url == "" {
			t.Skipf("no external NATS server: set %s (e.g. nats://127.0.0.1:4222) to run this variant", natsEnv)
		}
		prefix := "crash_" + randomHex(t)
		name := stream.StreamName(prefix)
		t.Cleanup(func() { deleteStream(t, url, name) })
		args := []string{"-nats-url", url, "-nats-prefix", prefix}
		crashAndRecover(t, bin, t.TempDir(), args, func(ctx context.Context, srv *bench.Process) (jetstream.JetStream, string, func()) {
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatalf("connect to %s: %v", url, err)
			}
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				t.Fatal(err)
			}
			return js, name, nc.Close
		})
	})
}

// openStream gives access to the event stream the server relayed to, once
// the restarted server has drained its outbox: a JetStream client, the
// stream's name and a function that releases them.
type openStream func(ctx context.Context, srv *bench.Process) (js jetstream.JetStream, name string, release func())

func crashAndRecover(t *testing.T, bin, dataDir string, extra []string, events openStream) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()
	args := append([]string{"-data-dir", dataDir, "-signin-per-minute", "6000"}, extra...)

	srv := bench.StartParley(t, bin, args...)
	api := bench.NewClient(srv.URL, crashWriters)
	if err := bench.WaitReady(ctx, api); err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, crashAccounts)
	for i := range tokens {
		s, err := api.SignUp(ctx, fmt.Sprintf("crash_user%d", i), "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = s.Token
	}
	chats := make([]int64, crashChats)
	for i := range chats {
		chat, err := api.CreateChat(ctx, tokens[0], map[string]any{"kind": "group", "title": fmt.Sprintf("Crash %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := api.JoinGroup(ctx, tokens[0], chat.ID, tokens[1:]...); err != nil {
			t.Fatal(err)
		}
		chats[i] = chat.ID
	}

	// Post from every writer until the server dies. Only a complete 201
	// answer counts as acknowledged; a request cut off by the kill may or may
	// not have been stored, and either is correct.
	var (
		mu       sync.Mutex
		acked    = map[msgKey]string{}
		ackCount atomic.Int64
		killed   atomic.Bool
		wg       sync.WaitGroup
	)
	start := time.Now()
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := tokens[w%crashAccounts]
			for i := range crashMaxPosts {
				if killed.Load() {
					return
				}
				chat := chats[(w+i)%crashChats]
				text := fmt.Sprintf("crash w%02d n%05d", w, i)
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				m, err := api.Post(rctx, tok, chat, text)
				rcancel()
				if err != nil {
					if !killed.Load() {
						t.Errorf("writer %d: post before the kill failed: %v", w, err)
					}
					return
				}
				if m.ChatID != chat || m.Text != text || m.Seq <= 0 {
					t.Errorf("writer %d: acknowledged %+v for %q in chat %d", w, m, text, chat)
					return
				}
				mu.Lock()
				if prev, dup := acked[msgKey{chat, m.Seq}]; dup {
					t.Errorf("chat %d seq %d acknowledged twice: %q and %q", chat, m.Seq, prev, text)
				}
				acked[msgKey{chat, m.Seq}] = text
				mu.Unlock()
				ackCount.Add(1)
			}
		}()
	}

	// Kill at a point that varies from run to run, once enough posts are
	// acknowledged, with posts in flight.
	delay := 300*time.Millisecond + randomDuration(t, 700*time.Millisecond)
	deadline := time.Now().Add(15 * time.Second)
	for (ackCount.Load() < crashMinAcks || time.Since(start) < delay) && time.Now().Before(deadline) && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	killed.Store(true)
	srv.Kill()
	wg.Wait()
	if t.Failed() {
		t.Fatalf("failed before the kill; server log:\n%s", srv.Logs())
	}
	if ackCount.Load() < crashMinAcks {
		t.Fatalf("only %d posts acknowledged in %s before the kill; server log:\n%s", ackCount.Load(), time.Since(start), srv.Logs())
	}
	t.Logf("killed the server after %s with %d messages acknowledged", time.Since(start).Round(time.Millisecond), len(acked))

	// Restart on the same data directory.
	srv = bench.StartParley(t, bin, args...)
	api = bench.NewClient(srv.URL, 4)
	if err := bench.WaitReady(ctx, api); err != nil {
		t.Fatalf("%v\n%s", err, srv.Logs())
	}
	stored := 0
	for _, chat := range chats {
		stored += checkChat(ctx, t, api, tokens[0], chat, acked)
	}
	t.Logf("after restart: %d messages stored; %d were acknowledged", stored, len(acked))

	// Every event left in the outbox is relayed after the restart.
	if v, err := api.WaitMetric(ctx, "parley_outbox_pending", 0); err != nil {
		t.Fatalf("outbox does not drain after restart (pending %v): %v\n%s", v, err, srv.Logs())
	}

	// And the stream holds a message.new event for every acknowledged message.
	js, name, release := events(ctx, srv)
	defer release()
	got, dups, err := readMessageEvents(ctx, js, name)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for k, text := range acked {
		if e, ok := got[k]; !ok {
			if missing++; missing <= 10 {
				t.Errorf("no message.new event in stream %s for acknowledged message chat %d seq %d", name, k.chat, k.seq)
			}
		} else if e != text {
			t.Errorf("event for chat %d seq %d has text %q, acknowledged %q", k.chat, k.seq, e, text)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged messages have no event in the stream", missing, len(acked))
	}
	t.Logf("stream %s: %d distinct message.new events, %d duplicates (allowed: delivery is at least once)", name, len(got), dups)
}

// checkChat reads a chat's history and update log through the API of the
// restarted server and checks them against the acknowledged messages. It
// returns the number of messages stored.
func checkChat(ctx context.Context, t *testing.T, api *bench.Client, token string, chatID int64, acked map[msgKey]string) int {
	t.Helper()
	history, err := api.History(ctx, token, chatID)
	if err != nil {
		t.Fatalf("history of chat %d: %v", chatID, err)
	}
	bySeq := map[int64]string{}
	for _, m := range history {
		if _, dup := bySeq[m.Seq]; dup {
			t.Errorf("chat %d: seq %d appears twice in the history", chatID, m.Seq)
		}
		bySeq[m.Seq] = m.Text
	}
	// Seqs are handed out in commit order, so what survived is exactly 1..n.
	for seq := int64(1); seq <= int64(len(history)); seq++ {
		if _, ok := bySeq[seq]; !ok {
			t.Errorf("chat %d: seq %d is missing from a history of %d messages", chatID, seq, len(history))
		}
	}
	var chat parley.Chat
	if _, err := api.Do(ctx, "GET", fmt.Sprintf("/api/v1/chats/%d", chatID), token, nil, &chat); err != nil {
		t.Fatal(err)
	}
	if chat.LastSeq != int64(len(history)) {
		t.Errorf("chat %d: last_seq is %d but the history holds %d messages", chatID, chat.LastSeq, len(history))
	}

	updates, err := api.Updates(ctx, token, chatID, 0)
	if err != nil {
		t.Fatalf("updates of chat %d: %v", chatID, err)
	}
	newBySeq := map[int64]string{}
	for i, u := range updates {
		if u.Pts != int64(i+1) {
			t.Errorf("chat %d: update %d has pts %d; the log must count 1, 2, 3, ...", chatID, i, u.Pts)
			break
		}
		if u.Kind == parley.UpdateMessageNew {
			if _, dup := newBySeq[u.Message.Seq]; dup {
				t.Errorf("chat %d: two message.new updates for seq %d", chatID, u.Message.Seq)
			}
			newBySeq[u.Message.Seq] = u.Message.Text
		}
	}

	for k, text := range acked {
		if k.chat != chatID {
			continue
		}
		if got, ok := bySeq[k.seq]; !ok {
			t.Errorf("chat %d: acknowledged message seq %d (%q) is lost", chatID, k.seq, text)
		} else if got != text {
			t.Errorf("chat %d: seq %d holds %q, but %q was acknowledged with it", chatID, k.seq, got, text)
		}
		if got, ok := newBySeq[k.seq]; !ok || got != text {
			t.Errorf("chat %d: no message.new update with %q for acknowledged seq %d", chatID, text, k.seq)
		}
	}
	return len(history)
}

// readMessageEvents reads the whole stream and returns the text of each
// message.new event by chat and seq, and how many were duplicates.
func readMessageEvents(ctx context.Context, js jetstream.JetStream, name string) (map[msgKey]string, int, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, 0, fmt.Errorf("stream %s: %w", name, err)
	}
	last := s.CachedInfo().State.LastSeq
	got := map[msgKey]string{}
	dups := 0
	if last == 0 {
		return got, 0, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, 0, fmt.Errorf("stream %s: consumer: %w", name, err)
	}
	var seq uint64
	for seq < last {
		if ctx.Err() != nil {
			return nil, 0, fmt.Errorf("stream %s: read %d of %d messages: %w", name, seq, last, ctx.Err())
		}
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, 0, fmt.Errorf("stream %s: fetch: %w", name, err)
		}
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			if err != nil {
				return nil, 0, err
			}
			seq = meta.Sequence.Stream
			if msg.Headers().Get(stream.HeaderKind) != parley.UpdateMessageNew {
				continue
			}
			var u parley.Update
			if err := json.Unmarshal(msg.Data(), &u); err != nil {
				return nil, 0, fmt.Errorf("stream %s seq %d: undecodable update: %w", name, seq, err)
			}
			k := msgKey{u.ChatID, u.Message.Seq}
			if _, dup := got[k]; dup {
				dups++
			}
			got[k] = u.Message.Text
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, 0, fmt.Errorf("stream %s: fetch: %w", name, err)
		}
	}
	return got, dups, nil
}

// openEmbeddedStore starts a NATS server in this process on the JetStream
// store a stopped parley left in dir, and connects to it.
func openEmbeddedStore(t *testing.T, dir, name string) (jetstream.JetStream, string, func()) {
	t.Helper()
	ns, err := server.NewServer(&server.Options{DontListen: true, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatal("embedded NATS on the stopped server's store did not start")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		ns.Shutdown()
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		ns.Shutdown()
		t.Fatal(err)
	}
	return js, name, func() {
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

func deleteStream(t *testing.T, url, name string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Errorf("cleanup: connect: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("cleanup: delete stream %s: %v", name, err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func randomDuration(t *testing.T, max time.Duration) time.Duration {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(max)))
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(n.Int64())
}
