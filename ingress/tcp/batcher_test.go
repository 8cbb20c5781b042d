package tcp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/client/sluicetcp"
)

// TestTCPBatcher adds records one at a time from several goroutines; the
// Batcher's batches (by count and by linger) deliver every one exactly once.
func TestTCPBatcher(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("b", 3); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m})
	c, err := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var batches, acked atomic.Int64
	b, err := c.NewBatcher(sluicetcp.BatcherConfig{Stream: "b", MaxRecords: 300, Linger: 2 * time.Millisecond, MaxInflight: 3,
		OnResult: func(recs []sluicetcp.Record, res []sluicetcp.Result, err error) {
			batches.Add(1)
			if err == nil {
				acked.Add(int64(len(res)))
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 2500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := b.Add(context.Background(), sluicetcp.Record{PartitionKey: fmt.Sprint(i), Data: []byte(fmt.Sprintf("%d-%d", w, i))}); err != nil {
					t.Error(err)
					return
				}
				if i%1000 == 999 {
					time.Sleep(10 * time.Millisecond) // let the linger fire
				}
			}
		}()
	}
	wg.Wait()
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if acked.Load() != writers*each {
		t.Fatalf("%d acked, want %d", acked.Load(), writers*each)
	}
	got := readAll(t, m, "b")
	seen := map[string]bool{}
	for _, r := range got {
		if seen[string(r.Data)] {
			t.Fatalf("%q twice", r.Data)
		}
		seen[string(r.Data)] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d distinct records stored, want %d", len(seen), writers*each)
	}
	t.Logf("%d batches", batches.Load())
}
