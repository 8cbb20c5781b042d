package sluicetcp

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/wire/frame"
)

// TestConnWindowConcurrentSenders: a sender that has taken window credit
// but is not yet queued still counts against the window, so a second
// sender whose frame does not fit in what is left waits for credit. (The
// conn used to let any sender through while its queue was empty, so
// concurrent senders together went past the window; TestTCPBackpressure
// saw a server buffer beyond it.)
func TestConnWindowConcurrentSenders(t *testing.T) {
	f := startFake(t)
	cfg := Config{Addr: f.ln.Addr().String(), DialTimeout: 5 * time.Second, ClientName: "window-test"}
	c, err := dial(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	put := func(id uint64) []byte {
		return frame.AppendFrame(nil, frame.TypePut, 0, frame.AppendPut(nil, &frame.Put{BatchID: id, Stream: "s",
			Records: []frame.Record{{PartitionKey: []byte("k"), Data: make([]byte, 500)}}}))
	}
	f1, f2 := put(1), put(2)
	// A window that holds one of the two frames, not both.
	c.mu.Lock()
	c.hello.Window = uint32(len(f1) + len(f2) - 1)
	c.avail = int64(c.hello.Window)
	c.mu.Unlock()

	held, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	c.testAfterCredit = func() {
		if first.CompareAndSwap(true, false) {
			close(held)
			<-release
		}
	}
	type sent struct {
		p   *pending
		err error
	}
	s1, s2 := make(chan sent, 1), make(chan sent, 1)
	go func() { p, err := c.send(context.Background(), f1, int64(len(f1))); s1 <- sent{p, err} }()
	<-held // the first frame holds its credit and is not queued yet
	go func() { p, err := c.send(context.Background(), f2, int64(len(f2))); s2 <- sent{p, err} }()
	select {
	case <-s2:
		t.Fatal("the second frame went out while the first held its window credit: together they exceed the window")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	for i, ch := range []chan sent{s1, s2} {
		r := <-ch
		if r.err != nil {
			t.Fatalf("frame %d: %v", i+1, r.err)
		}
		if rep := <-r.p.done; rep.err != nil || rep.typ != frame.TypeAck {
			t.Fatalf("frame %d: answer type 0x%02x, %v; want an Ack", i+1, rep.typ, rep.err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.avail != int64(c.hello.Window) {
		t.Fatalf("%d window bytes back after both answers, want %d", c.avail, c.hello.Window)
	}
}
