package sluicetcp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/big"
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
	// stored is the data of the written records, by position: the record
	// at position p has the sequence number p*2^80.
	stored []string
	wg     sync.WaitGroup
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
				Version: frame.Version, Window: 1 << 20, MaxFrame: 4096, MaxRecords: 10}))
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
			// Written records go to one shard in order, the record at
			// position p with sequence number p*2^80; the first attempt of records whose
			// data starts with "t" is throttled.
			a := frame.Ack{BatchID: p.BatchID, Count: len(p.Records)}
			ok := frame.AckGroup{ShardID: "shardId-000000000000", FirstSequenceNumber: new(big.Int).Lsh(big.NewInt(int64(len(f.stored))), 80).String()}
			thr := frame.AckGroup{Code: frame.CodeThrottled, Message: "slow down"}
			for i, r := range p.Records {
				if strings.HasPrefix(string(r.Data), "t") && !f.seen[string(r.Data)] {
					thr.Indexes = append(thr.Indexes, uint32(i))
				} else {
					ok.Indexes = append(ok.Indexes, uint32(i))
					f.stored = append(f.stored, string(r.Data))
				}
				f.seen[string(r.Data)] = true
			}
			for _, g := range []frame.AckGroup{thr, ok} {
				if len(g.Indexes) > 0 {
					a.Groups = append(a.Groups, g)
				}
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
	f.mu.Lock()
	defer f.mu.Unlock()
	// Each record's sequence number is the one the fake server gave its
	// position in its log, whatever its group and its offset in the group.
	for i, r := range res {
		seq, ok := new(big.Int).SetString(r.SequenceNumber(), 10)
		if r.Err != nil || !ok {
			t.Fatalf("result %d: %+v", i, r)
		}
		pos := new(big.Int).Rsh(seq, 80)
		if !pos.IsInt64() || pos.Int64() >= int64(len(f.stored)) || f.stored[pos.Int64()] != string(recs[i].Data) {
			t.Fatalf("result %d: sequence number %s (position %s) is not record %q", i, seq, pos, recs[i].Data)
		}
	}
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
