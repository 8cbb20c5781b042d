package tcp

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/wire/frame"
)

// TestTCPShutdownDrains: a Put in flight when Shutdown starts is written
// and acknowledged, then the client gets SHUTTING_DOWN and the connection
// closes; new connections are refused.
func TestTCPShutdownDrains(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	store := &slowStore{m: m, delay: 300 * time.Millisecond}
	s := startServer(t, Config{Store: store})
	r := dialRaw(t, s)
	r.hello([16]byte{})
	r.send(frame.TypePut, putBody(1, "s", "in flight"))
	for store.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	r.wantAck(1, 1)
	r.wantError(frame.CodeShuttingDown, true)
	r.wantClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, m, "s")); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

// TestTCPMaxConnections: a connection over the limit gets
// TOO_MANY_CONNECTIONS instead of HelloOK.
func TestTCPMaxConnections(t *testing.T) {
	m := openManager(t)
	s := startServer(t, Config{Store: m, MaxConnections: 1})
	r1 := dialRaw(t, s)
	r1.hello([16]byte{})
	r2 := dialRaw(t, s)
	r2.wantError(frame.CodeTooManyConnections, true)
	r2.wantClosed()
	r1.send(frame.TypePing, []byte("still here"))
	if typ, _ := r1.read(); typ != frame.TypePong {
		t.Fatalf("type 0x%02x", typ)
	}
}
