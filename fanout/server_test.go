package fanout

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/eventstream"
)

// pipeWriter is a StreamWriter whose messages a test reads back decoded.
type pipeWriter struct {
	pw  *io.PipeWriter
	dec *eventstream.Decoder
}

func newPipeWriter() *pipeWriter {
	pr, pw := io.Pipe()
	return &pipeWriter{pw: pw, dec: eventstream.NewDecoder(pr)}
}

func (p *pipeWriter) Write(b []byte) (int, error) { return p.pw.Write(b) }
func (p *pipeWriter) Flush() error                { return nil }

// next returns the next message's :message-type, event or exception type
// and payload.
func (p *pipeWriter) next(t *testing.T) (string, string, string) {
	t.Helper()
	type res struct {
		m   eventstream.Message
		err error
	}
	ch := make(chan res, 1)
	go func() {
		m, err := p.dec.Next()
		ch <- res{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("reading a message: %v", r.err)
		}
		mt := eventstream.String(&r.m, eventstream.HeaderMessageType)
		typ := eventstream.String(&r.m, eventstream.HeaderEventType)
		if mt == eventstream.MessageTypeException {
			typ = eventstream.String(&r.m, eventstream.HeaderExceptionType)
		}
		return mt, typ, string(r.m.Payload)
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
	}
	return "", "", ""
}

type fixture struct {
	m   *stream.Manager
	srv *Server
	arn string
	now atomic.Int64 // the Server's clock, Unix ns
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	m, err := stream.Open(stream.Config{DataDir: t.TempDir(), Durability: segment.Async,
		Segment: segment.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	c, err := m.RegisterStreamConsumer("arn:aws:kinesis:us-east-1:000000000000:stream/s", "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{m: m, arn: c.ARN}
	f.now.Store(time.Now().UnixNano())
	cfg.Now = func() time.Time { return time.Unix(0, f.now.Load()) }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if f.srv, err = New(m, cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

// run starts Run on its own goroutine; wait returns its result.
func (f *fixture) run(t *testing.T, sub *Subscription) (*pipeWriter, func() error) {
	t.Helper()
	w := newPipeWriter()
	var wg sync.WaitGroup
	var err error
	wg.Add(1)
	go func() {
		defer wg.Done()
		err = sub.Run(context.Background(), w)
		w.pw.Close()
	}()
	t.Cleanup(func() {
		w.pw.CloseWithError(errors.New("test over"))
		wg.Wait()
	})
	if mt, typ, _ := w.next(t); mt != "event" || typ != eventstream.EventInitialResponse {
		t.Fatalf("first message %s %s", mt, typ)
	}
	if mt, typ, _ := w.next(t); mt != "event" || typ != EventSubscribeToShard {
		t.Fatalf("second message %s %s", mt, typ)
	}
	return w, func() error { wg.Wait(); return err }
}

func (f *fixture) open(t *testing.T) (*Subscription, error) {
	return f.srv.Open(Request{ConsumerARN: f.arn, ShardID: "shardId-000000000000", StartingPosition: StartingPosition{Type: stream.IterLatest}})
}

// TestServerTakeover: a second Open of the same consumer and shard is
// refused with ResourceInUse while the live one is younger than
// TakeoverAfter (by the Server's clock); later it takes over and the old
// stream ends with a ResourceInUseException event.
func TestServerTakeover(t *testing.T) {
	f := newFixture(t, Config{TakeoverAfter: 5 * time.Second, Heartbeat: time.Hour})
	a, err := f.open(t)
	if err != nil {
		t.Fatal(err)
	}
	wa, waitA := f.run(t, a)
	f.now.Add(int64(5*time.Second - time.Millisecond))
	_, err = f.open(t)
	var api *stream.APIError
	if !errors.As(err, &api) || !errors.Is(api.Kind, stream.ErrResourceInUse) || api.Msg != "Another active subscription exists for this consumer: "+f.arn {
		t.Fatalf("second Open within 5 s: %v", err)
	}
	f.now.Add(int64(time.Millisecond))
	b, err := f.open(t)
	if err != nil {
		t.Fatalf("Open after 5 s: %v", err)
	}
	if mt, typ, payload := wa.next(t); mt != "exception" || typ != ExceptionResourceInUse || payload != `{"message":"Another active subscription exists for this consumer: `+f.arn+`"}` {
		t.Fatalf("taken-over stream: %s %s %s", mt, typ, payload)
	}
	if err := waitA(); err != nil {
		t.Fatalf("taken-over Run: %v", err)
	}
	if n := f.srv.Live(); n != 1 {
		t.Fatalf("%d live, want the new one", n)
	}
	b.Close()
	if n := f.srv.Live(); n != 0 {
		t.Fatalf("%d live after Close", n)
	}
}

// TestServerCallInterval: with CallInterval, a second call of the same
// consumer and shard within it fails with LimitExceededException whatever
// else holds (here a live subscription), refused calls do not count, and
// another shard's calls are separate; past it the usual rules apply.
func TestServerCallInterval(t *testing.T) {
	f := newFixture(t, Config{CallInterval: time.Second, TakeoverAfter: 5 * time.Second, Heartbeat: time.Hour})
	a, err := f.open(t)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	limited := func(err error) bool {
		var api *stream.APIError
		return errors.As(err, &api) && errors.Is(api.Kind, stream.ErrLimitExceeded) &&
			api.Msg == "Rate exceeded for consumer "+f.arn+" and shard shardId-000000000000."
	}
	for range 3 {
		f.now.Add(int64(300 * time.Millisecond))
		if _, err := f.open(t); !limited(err) {
			t.Fatalf("second call within 1 s: %v", err)
		}
	}
	// Another shard of the same consumer: not limited by the first (it
	// does not exist, so it fails further on).
	if _, err := f.srv.Open(Request{ConsumerARN: f.arn, ShardID: "shardId-000000000009", StartingPosition: StartingPosition{Type: stream.IterLatest}}); err == nil || limited(err) {
		t.Fatalf("another shard: %v", err)
	}
	f.now.Add(int64(100 * time.Millisecond)) // 1 s after the first call
	_, err = f.open(t)
	var api *stream.APIError
	if !errors.As(err, &api) || !errors.Is(api.Kind, stream.ErrResourceInUse) {
		t.Fatalf("call 1 s later, live subscription 1 s old: %v", err)
	}
	// That call was let through (it counts): the next one within 1 s is limited.
	f.now.Add(int64(500 * time.Millisecond))
	if _, err := f.open(t); !limited(err) {
		t.Fatalf("call 0.5 s after a counted call: %v", err)
	}
	// Without CallInterval there is no limit.
	g := newFixture(t, Config{TakeoverAfter: -1, Heartbeat: time.Hour})
	b, err := g.open(t)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := g.open(t); !errors.As(err, &api) || !errors.Is(api.Kind, stream.ErrResourceInUse) {
		t.Fatalf("no CallInterval: %v", err)
	}
}

// TestServerClose: Close ends a live stream cleanly and refuses new
// subscriptions.
func TestServerClose(t *testing.T) {
	f := newFixture(t, Config{Heartbeat: time.Hour})
	a, err := f.open(t)
	if err != nil {
		t.Fatal(err)
	}
	_, wait := f.run(t, a)
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	if _, err := f.open(t); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("Open after Close: %v", err)
	}
}

// TestServerStreamDeleted: deleting the stream during a subscription ends
// it with a ResourceNotFoundException event.
func TestServerStreamDeleted(t *testing.T) {
	f := newFixture(t, Config{Heartbeat: 50 * time.Millisecond})
	a, err := f.open(t)
	if err != nil {
		t.Fatal(err)
	}
	w, wait := f.run(t, a)
	if err := f.m.DeleteStreamEnforce("s", true); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		mt, typ, payload := w.next(t)
		if mt == "event" && i < 100 {
			continue // heartbeats before the deletion was seen
		}
		if mt != "exception" || typ != ExceptionResourceNotFound || payload == "" {
			t.Fatalf("after the deletion: %s %s %s", mt, typ, payload)
		}
		break
	}
	if err := wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
