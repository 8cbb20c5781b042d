package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSender records what it delivers; with block set, deliver waits for
// its context instead (an agent killed while it finishes a batch).
type fakeSender struct {
	mu    sync.Mutex
	block bool
	next  uint64
	got   []string
}

func (s *fakeSender) deliver(ctx context.Context, in *intent, inDoubt bool) error {
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range in.Records {
		s.got = append(s.got, string(r.Data))
	}
	s.next = max(s.next, in.BatchID+1)
	return nil
}

func (s *fakeSender) nextBatchID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *fakeSender) tails() []shardTail { return nil }
func (s *fakeSender) close()             {}

func (s *fakeSender) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestAgentRestartDuringResolveAfterCopyTruncate is the interleaving of
// the TestAgentKillRestart failure (seed 1796562805068739810): an agent
// dies with a batch in doubt that starts at offset 0 of b.log; the next
// one, while it finishes that batch, sees b.log copytruncated and saves
// the checkpoint (b.log at offset 0 again, its copy at the batch's end,
// the same intent) and dies too; the third one must not take the intent
// to move the new b.log from offset 0 to the old batch's end, which
// would skip the new lines up to there and ship the rest of a line.
func TestAgentRestartDuringResolveAfterCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.log")
	ckpt := filepath.Join(t.TempDir(), "ck")
	var old, fresh strings.Builder
	for i := range 6 {
		fmt.Fprintf(&old, "old %02d %s\n", i, strings.Repeat("x", 20))
	}
	for i := range 20 {
		fmt.Fprintf(&fresh, "new %02d %s\n", i, strings.Repeat("y", 13))
	}
	appendFile(t, p, old.String())
	cfg := agentConfig{
		Tail:         tailConfig{Globs: []string{filepath.Join(dir, "*.log")}, RotateWait: time.Millisecond},
		Checkpoint:   ckpt,
		Protocol:     "tcp",
		BatchLines:   2,
		ScanInterval: time.Millisecond,
		PollInterval: time.Millisecond,
	}

	// The first agent: its checkpoint holds the first batch (old 00 and
	// old 01, bytes [0, 60)) as the intent, b.log still at offset 0.
	tl := newTailer(cfg.Tail, quietLog())
	tl.scan()
	f, lines, end := tl.next(cfg.BatchLines, 4096)
	if f == nil || f.Offset != 0 {
		t.Fatalf("first batch of %v, want one of b.log at offset 0", f)
	}
	a1 := &agent{cfg: cfg, log: quietLog(), m: newAgentMetrics(), tl: tl, snd: &fakeSender{next: 1}, ck: &checkpoint{NextBatch: 1}}
	if err := a1.save(a1.makeIntent(f, lines, end)); err != nil {
		t.Fatal(err)
	}
	tl.close()

	// The second agent is finishing that batch when b.log is
	// copytruncated and written again; it saves that, then is killed.
	ctx, cancel := context.WithCancel(context.Background())
	a2, err := openAgent(cfg, quietLog(), newAgentMetrics(), func(*checkpoint) (sender, error) { return &fakeSender{block: true}, nil })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a2.run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".c1", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, fresh.String())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c, err := loadCheckpoint(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Files) == 2 {
			if c.Intent == nil {
				t.Fatal("the intent is gone from the checkpoint, but the batch was not delivered")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the truncation was not saved within 10 s")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The third agent finishes the batch, then ships the rest of the
	// copy and the new b.log from its start.
	want := strings.Split(strings.TrimSuffix(old.String()+fresh.String(), "\n"), "\n")
	snd := &fakeSender{next: 1}
	a3, err := openAgent(cfg, quietLog(), newAgentMetrics(), func(*checkpoint) (sender, error) { return snd, nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- a3.run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); len(snd.lines()) < len(want) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // anything shipped beyond want
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantLines(t, snd.lines(), want...)
}

// TestAgentTailerTruncatedBeforeFingerprint: a file found empty has no
// fingerprint; lines shipped from it before the next scan extends one
// must still let a truncation that rewrites it past the offset be seen,
// or the next read starts in the middle of a line.
func TestAgentTailerTruncatedBeforeFingerprint(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "")
	tl := newTestTailer(dir)
	defer tl.close()
	tl.scan()
	appendFile(t, p, "aaaa 1\n")
	wantLines(t, shipAll(t, tl), "aaaa 1")
	// No scan between: copytruncate (nothing unshipped) and new lines
	// longer than the offset.
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b 1\nb 2 longer\n")
	// The read that notices the truncation gives nothing; the agent's
	// next poll reads the file from its start.
	got := shipAll(t, tl)
	wantLines(t, append(got, shipAll(t, tl)...), "b 1", "b 2 longer")
}
