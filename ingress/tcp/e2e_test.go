package tcp

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/client/sluicetcp"
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/frame"
)

// TestTCPClientEndToEnd puts records with the client, concurrently and in
// several batches, and reads every one back through GetRecords exactly
// once, with the sequence numbers the acks gave.
func TestTCPClientEndToEnd(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("e2e", 4); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m, Credentials: map[string]string{"AKID": "sk"}, MaxFrameBytes: 32 << 10})
	c, err := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), AccessKeyID: "AKID", SecretKey: "sk", Conns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const workers, perWorker = 4, 500
	type sent struct{ pk, seq, shard string }
	want := make(map[string]sent)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]sluicetcp.Record, perWorker)
			for i := range recs {
				recs[i] = sluicetcp.Record{PartitionKey: fmt.Sprintf("pk-%d-%d", w, i), Data: []byte(fmt.Sprintf("data-%d-%d-%s", w, i, bytes.Repeat([]byte{'x'}, i%200)))}
			}
			recs[7].ExplicitHashKey = "0" // shard 0 whatever the key
			res, err := c.PutRecords(context.Background(), "e2e", recs)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i, r := range res {
				if r.Err != nil || r.SequenceNumber() == "" {
					t.Errorf("record %d: %+v", i, r)
					continue
				}
				want[string(recs[i].Data)] = sent{recs[i].PartitionKey, r.SequenceNumber(), r.ShardID}
			}
			if res[7].ShardID != "shardId-000000000000" {
				t.Errorf("explicit hash key 0 went to %s", res[7].ShardID)
			}
		}()
	}
	wg.Wait()
	got := readAll(t, m, "e2e")
	if len(got) != workers*perWorker || len(want) != workers*perWorker {
		t.Fatalf("read %d records, acked %d, want %d", len(got), len(want), workers*perWorker)
	}
	for _, r := range got {
		w, ok := want[string(r.Data)]
		if !ok || w.pk != r.PartitionKey || w.seq != r.SequenceNumber {
			t.Fatalf("record %q pk %q seq %s, acked as %+v", r.Data, r.PartitionKey, r.SequenceNumber, w)
		}
		delete(want, string(r.Data))
	}
}

// TestTCPClientErrors: a missing stream fails the call; a wrong secret
// fails the dial.
func TestTCPClientErrors(t *testing.T) {
	m := openManager(t)
	s := startServer(t, Config{Store: m, Credentials: map[string]string{"AKID": "sk"}})
	c, _ := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), AccessKeyID: "AKID", SecretKey: "sk"})
	defer c.Close()
	if _, err := c.PutRecords(context.Background(), "missing", []sluicetcp.Record{{PartitionKey: "a", Data: []byte("x")}}); err == nil ||
		err.Error() != "sluice tcp: STREAM_NOT_FOUND: Stream missing under account 000000000000 not found." {
		t.Fatalf("err %v", err)
	}
	bad, _ := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), AccessKeyID: "AKID", SecretKey: "wrong"})
	defer bad.Close()
	if _, err := bad.PutRecords(context.Background(), "missing", []sluicetcp.Record{{PartitionKey: "a"}}); err == nil ||
		err.Error() != "sluice tcp: AUTH_FAILED: the access key id or the signature is invalid" {
		t.Fatalf("err %v", err)
	}
}

// slowStore delays every PutRecords, like a disk that cannot keep up.
type slowStore struct {
	m     *stream.Manager
	delay time.Duration
	calls atomic.Int64
}

func (s *slowStore) PutRecords(name string, recs []stream.PutEntry) ([]stream.PutResult, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	return s.m.PutRecords(name, recs)
}

func (s *slowStore) PutRecordsGroups(name string, recs []stream.PutEntry, out *stream.PutGroups) error {
	s.calls.Add(1)
	time.Sleep(s.delay)
	return s.m.PutRecordsGroups(name, recs, out)
}

// TestTCPBackpressure: producers much faster than a throttled store. The
// server's in-flight bytes never pass its budget, the heap stays bounded,
// and every record arrives once.
func TestTCPBackpressure(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("bp", 2); err != nil {
		t.Fatal(err)
	}
	const window, budget = 128 << 10, 256 << 10
	store := &slowStore{m: m, delay: 20 * time.Millisecond}
	s := startServer(t, Config{Store: store, MaxFrameBytes: 64 << 10, WindowBytes: window, MaxInflightBytes: budget})
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if v := s.inflight.Load(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}()
	pauses := windowPausesTotal.Get() + budgetPausesTotal.Get()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const producers, batches, perBatch, size = 4, 20, 200, 1000 // 16 MB in all
	var wg sync.WaitGroup
	var acked atomic.Int64
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), Conns: 1})
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			// Each producer pipelines all its batches at once.
			var inner sync.WaitGroup
			for b := range batches {
				inner.Add(1)
				go func() {
					defer inner.Done()
					recs := make([]sluicetcp.Record, perBatch)
					for i := range recs {
						d := bytes.Repeat([]byte{byte('a' + p)}, size)
						copy(d, fmt.Sprintf("%d/%d/%d/", p, b, i))
						recs[i] = sluicetcp.Record{PartitionKey: fmt.Sprint(i), Data: d}
					}
					res, err := c.PutRecords(context.Background(), "bp", recs)
					if err != nil {
						t.Error(err)
						return
					}
					for _, r := range res {
						if r.Err == nil {
							acked.Add(1)
						}
					}
				}()
			}
			inner.Wait()
		}()
	}
	var after runtime.MemStats
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	heapPeak := uint64(0)
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-time.After(20 * time.Millisecond):
			runtime.ReadMemStats(&after)
			heapPeak = max(heapPeak, after.HeapInuse)
		}
	}
	close(stop)
	sampler.Wait()
	total := producers * batches * perBatch
	if acked.Load() != int64(total) {
		t.Fatalf("%d records acked, want %d", acked.Load(), total)
	}
	// The store was the bottleneck: connections were paused, not buffered.
	if n := windowPausesTotal.Get() + budgetPausesTotal.Get() - pauses; n == 0 {
		t.Fatal("no connection was ever paused: the load did not outrun the store")
	}
	if p := peak.Load(); p > budget || p == 0 {
		t.Fatalf("in-flight bytes peaked at %d, budget %d", p, budget)
	}
	// What gnet buffered for one connection stayed within its window.
	if b := s.peakBuffered.Load(); b > window || b == 0 {
		t.Fatalf("a connection's inbound buffer peaked at %d bytes, window %d", b, window)
	}
	// The clients hold 16 MB of records themselves; the server may add its
	// budget, the windows and the store's buffers, not the whole stream.
	t.Logf("in-flight peak %d bytes, inbound buffer peak %d; heap %d -> peak %d; %d store calls", peak.Load(), s.peakBuffered.Load(), before.HeapInuse, heapPeak, store.calls.Load())
	got := readAll(t, m, "bp")
	if len(got) != total {
		t.Fatalf("read %d records, want %d", len(got), total)
	}
	seen := make(map[string]bool, total)
	for _, r := range got {
		k := string(r.Data[:16])
		if seen[k] {
			t.Fatalf("record %q twice", k)
		}
		seen[k] = true
	}
}

// TestTCPFlowControlViolation: a client that ignores the window while the
// store is slow is cut off instead of being buffered.
func TestTCPFlowControlViolation(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("fc", 1); err != nil {
		t.Fatal(err)
	}
	store := &slowStore{m: m, delay: 300 * time.Millisecond}
	s := startServer(t, Config{Store: store, MaxFrameBytes: 16 << 10, WindowBytes: 32 << 10, MaxInflightBytes: 32 << 10})
	r := dialRaw(t, s)
	r.hello([16]byte{})
	one := frame.AppendFrame(nil, frame.TypePut, 0, frame.AppendPut(nil, &frame.Put{BatchID: 1, Stream: "fc",
		Records: []frame.Record{{PartitionKey: []byte("k"), Data: bytes.Repeat([]byte{'q'}, 15<<10)}}}))
	// 4 MiB without waiting for acks: far beyond window + slack.
	go func() {
		for range (4 << 20) / len(one) {
			if _, err := r.nc.Write(one); err != nil {
				return
			}
		}
	}()
	for {
		typ, body := r.read()
		if typ == frame.TypeAck {
			continue
		}
		var e frame.Error
		if err := frame.DecodeError(body, &e); err != nil || e.Code != frame.CodeFlowControl || !e.Fatal {
			t.Fatalf("got 0x%02x %+v %v, want FLOW_CONTROL", typ, e, err)
		}
		break
	}
	r.wantClosed()
}
