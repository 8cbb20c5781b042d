package sluicetcp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/wire/frame"
)

// fakeServer speaks the protocol with small limits: it answers THROTTLED
// the first time it sees a record whose data starts with "t", and records
// every Put it gets.
type fakeServer struct {
	ln net.Listener
	mu sync.Mutex
	// puts is every Put received: batch id, record count, body size.
	puts    []frame.Put
	sizes   []int
	seen    map[string]bool
	batches map[uint64]uint32 // batch id -> body CRC
	wg      sync.WaitGroup
}

func startFake(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, seen: map[string]bool{}, batches: map[uint64]uint32{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(t, c) }()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); f.wg.Wait() })
	return f
}

func (f *fakeServer) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		typ, body, err := readFrame(br)
		if err != nil {
			if !strings.Contains(err.Error(), io.EOF.Error()) && !strings.Contains(err.Error(), "closed") {
				t.Errorf("fake server: %v", err)
			}
			return
		}
		var out []byte
		switch typ {
		case frame.TypeHello:
			out = frame.AppendFrame(nil, frame.TypeHelloOK, 0, frame.AppendHelloOK(nil, &frame.HelloOK{
				Version: 1, Window: 1 << 20, MaxFrame: 4096, MaxRecords: 10}))
		case frame.TypePut:
			var p frame.Put
			if err := frame.DecodePut(body, &p, 10); err != nil {
				t.Errorf("fake server: %v", err)
				return
			}
			f.mu.Lock()
			if crc, ok := f.batches[p.BatchID]; ok && crc != frame.Checksum(body) {
				t.Errorf("batch id %d reused for another body", p.BatchID)
			}
			f.batches[p.BatchID] = frame.Checksum(body)
			f.puts = append(f.puts, p)
			f.sizes = append(f.sizes, len(body))
			a := frame.Ack{BatchID: p.BatchID}
			for _, r := range p.Records {
				res := frame.Result{ShardID: "shardId-000000000000", SequenceNumber: "seq-" + string(r.Data[:4])}
				if strings.HasPrefix(string(r.Data), "t") && !f.seen[string(r.Data)] {
					res = frame.Result{Code: frame.CodeThrottled, Message: "slow down"}
				}
				f.seen[string(r.Data)] = true
				a.Results = append(a.Results, res)
			}
			f.mu.Unlock()
			out = frame.AppendFrame(nil, frame.TypeAck, 0, frame.AppendAck(nil, &a))
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// TestClientSplitAndRetry: Puts stay within the server's frame and record
// limits; records throttled alone are resent in new batches (new ids) and
// end up acknowledged; results keep the callers' order.
func TestClientSplitAndRetry(t *testing.T) {
	f := startFake(t)
	c, err := New(Config{Addr: f.ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recs := make([]Record, 55)
	for i := range recs {
		d := fmt.Sprintf("r%02d-%s", i, strings.Repeat("x", 100+i*5))
		if i%7 == 0 {
			d = "t" + d
		}
		recs[i] = Record{PartitionKey: fmt.Sprint(i), Data: []byte(d)}
	}
	res, err := c.PutRecords(context.Background(), "s", recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.SequenceNumber != "seq-"+string(recs[i].Data[:4]) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	total := 0
	for i, p := range f.puts {
		if len(p.Records) > 10 || f.sizes[i] > 4096 {
			t.Fatalf("put %d: %d records, %d bytes over the limits", i, len(p.Records), f.sizes[i])
		}
		total += len(p.Records)
	}
	if want := 55 + 8; total != want { // 8 throttled records sent twice
		t.Fatalf("%d records sent, want %d", total, want)
	}
	if _, err := c.PutRecords(context.Background(), "s", []Record{{PartitionKey: strings.Repeat("k", 1025)}}); err == nil {
		t.Fatal("a partition key over 1024 bytes was sent")
	}
	if _, err := c.PutRecords(context.Background(), "s", []Record{{PartitionKey: "k", Data: make([]byte, 5000)}}); err == nil ||
		!strings.Contains(err.Error(), "frame limit of 4096") {
		t.Fatalf("oversized record: %v", err)
	}
}
