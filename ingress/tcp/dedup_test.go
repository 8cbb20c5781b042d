package tcp

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/client/sluicetcp"
	"github.com/sluicehq/sluice/wire/frame"
)

// lossyProxy forwards connections to target; on the first connection it
// passes the server's first frame (HelloOK) and then cuts the connection
// when the server sends anything more: the Put was written, its Ack lost.
func lossyProxy(t *testing.T, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var first atomic.Bool
	first.Store(true)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			lossy := first.Swap(false)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() {
				defer wg.Done()
				defer c.Close()
				if !lossy {
					_, _ = io.Copy(c, s)
					return
				}
				hb := make([]byte, frame.HeaderSize)
				if _, err := io.ReadFull(s, hb); err != nil {
					return
				}
				h, err := frame.DecodeHeader(hb, frame.MaxBodySize)
				if err != nil {
					return
				}
				body := make([]byte, h.Length)
				if _, err := io.ReadFull(s, body); err != nil {
					return
				}
				_, _ = c.Write(append(hb, body...))
				_, _ = s.Read(make([]byte, 1)) // the Ack: drop it and cut
				_ = s.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestTCPClientResendDeduplicated: the Ack of a written batch is lost; the
// client resends the batch with the same id on a new connection and gets
// the first write's sequence numbers; every record is stored once.
func TestTCPClientResendDeduplicated(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("d", 2); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m})
	c, err := sluicetcp.New(sluicetcp.Config{Addr: lossyProxy(t, s.Addr().String()), Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recs := make([]sluicetcp.Record, 100)
	for i := range recs {
		recs[i] = sluicetcp.Record{PartitionKey: fmt.Sprint(i), Data: []byte(fmt.Sprint("r", i))}
	}
	res, err := c.PutRecords(context.Background(), "d", recs)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, m, "d")
	if len(got) != len(recs) {
		t.Fatalf("%d records stored, want %d (the resend was written again)", len(got), len(recs))
	}
	// Every record has the sequence number its (replayed) Ack reported.
	seqs := map[string]string{} // data -> acknowledged sequence number
	for i, r := range res {
		seqs[string(recs[i].Data)] = r.SequenceNumber()
	}
	for _, r := range got {
		if seqs[string(r.Data)] != r.SequenceNumber {
			t.Fatalf("stored record %q has sequence number %s, acknowledged as %s", r.Data, r.SequenceNumber, seqs[string(r.Data)])
		}
	}
}

// TestTCPClientResendWithoutDedup is the control: without a producer id
// the same loss writes the batch twice, so the test above can fail.
func TestTCPClientResendWithoutDedup(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("d", 1); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m})
	c, err := sluicetcp.New(sluicetcp.Config{Addr: lossyProxy(t, s.Addr().String()), Conns: 1, DisableDedup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.PutRecords(context.Background(), "d", []sluicetcp.Record{{PartitionKey: "k", Data: []byte("once")}}); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, m, "d")); n != 2 {
		t.Fatalf("%d records stored, want 2 without deduplication", n)
	}
}
