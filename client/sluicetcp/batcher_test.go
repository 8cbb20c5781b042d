package sluicetcp

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatcherFlushWaitsForLingerBatch: a batch the linger timer has taken
// but not yet sent is in flight for Flush, which returns only after that
// batch's result (an earlier Batcher counted it only once sent, so Flush
// could return with it still unsent, and the race detector flagged it).
func TestBatcherFlushWaitsForLingerBatch(t *testing.T) {
	f := startFake(t)
	c, err := New(Config{Addr: f.ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var acked atomic.Int64
	b, err := c.NewBatcher(BatcherConfig{Stream: "s", Linger: time.Millisecond,
		OnResult: func(_ []Record, res []Result, err error) {
			if err == nil {
				acked.Add(int64(len(res)))
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	taken := make(chan struct{})
	release := make(chan struct{})
	b.testAfterLingerTake = func() {
		close(taken)
		<-release
	}
	if err := b.Add(context.Background(), Record{PartitionKey: "k", Data: []byte("one")}); err != nil {
		t.Fatal(err)
	}
	<-taken // the linger goroutine holds the batch, unsent
	flushed := make(chan error, 1)
	go func() { flushed <- b.Flush(context.Background()) }()
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) while the linger's batch was unsent; %d acked", err, acked.Load())
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if n := acked.Load(); n != 1 {
		t.Fatalf("Flush returned with %d records acknowledged, want 1", n)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
