package tcp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/client/sluicetcp"
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

// TestTCPClientRetriesConnectionLimit: a client refused with
// TOO_MANY_CONNECTIONS backs off and gets in once a slot frees.
func TestTCPClientRetriesConnectionLimit(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m, MaxConnections: 1})
	r1 := dialRaw(t, s)
	r1.hello([16]byte{})
	c, err := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), Conns: 1, RetryBackoff: 50 * time.Millisecond, MaxAttempts: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.AfterFunc(200*time.Millisecond, func() { _ = r1.nc.Close() })
	res, err := c.PutRecords(context.Background(), "s", []sluicetcp.Record{{PartitionKey: "k", Data: []byte("in at last")}})
	if err != nil || res[0].SequenceNumber() == "" {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestTCPConfigValidate: bad limits are refused with a message that names
// them and never the secrets.
func TestTCPConfigValidate(t *testing.T) {
	m := openManager(t)
	f := func(cfg Config, want string) {
		t.Helper()
		cfg.Store = m
		cfg.Credentials = map[string]string{"AKID": "topsecret"}
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "topsecret") {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
	f(Config{MaxFrameBytes: 10}, "MaxFrameBytes 10 outside")
	f(Config{MaxFrameBytes: 1 << 20, WindowBytes: 1 << 19}, "below MaxFrameBytes")
	f(Config{WindowBytes: 8 << 20, MaxInflightBytes: 1 << 20}, "MaxInflightBytes 1048576 below WindowBytes")
	f(Config{MaxRecords: -1}, "MaxRecords -1")
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "Store is required") {
		t.Fatalf("no store: %v", err)
	}
}
