package tcp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/frame"
)

// gnet starts a package-level ants goroutine pool on init; it is not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openManager(t testing.TB) *stream.Manager {
	t.Helper()
	m, err := stream.Open(stream.Config{
		DataDir:    t.TempDir(),
		Durability: segment.Async,
		Segment:    segment.Config{FragmentBytes: 8 << 20, MaxStripeBytes: 256 << 10, Logger: discardLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// startServer serves cfg on a loopback port until the test ends (its
// cleanup runs before the Manager's).
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve("127.0.0.1:0") }()
	if s.Addr() == nil {
		t.Fatalf("server did not start: %v", <-done)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// rawConn is a hand-driven protocol client.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, s *Server) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) send(typ byte, body []byte) {
	r.t.Helper()
	r.write(frame.AppendFrame(nil, typ, 0, body))
}

// read reads one frame within 10 s.
func (r *rawConn) read() (byte, []byte) {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hb [frame.HeaderSize]byte
	if _, err := io.ReadFull(r.br, hb[:]); err != nil {
		r.t.Fatalf("read header: %v", err)
	}
	h, err := frame.DecodeHeader(hb[:], frame.MaxBodySize)
	if err != nil {
		r.t.Fatal(err)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(r.br, body); err != nil {
		r.t.Fatal(err)
	}
	if err := h.CheckBody(body); err != nil {
		r.t.Fatal(err)
	}
	return h.Type, body
}

func (r *rawConn) hello(producer [16]byte) frame.HelloOK {
	r.t.Helper()
	r.send(frame.TypeHello, frame.AppendHello(nil, &frame.Hello{MinVersion: frame.Version, MaxVersion: frame.Version, ProducerID: producer}))
	typ, body := r.read()
	if typ != frame.TypeHelloOK {
		r.t.Fatalf("got type 0x%02x %q, want HelloOK", typ, body)
	}
	var ok frame.HelloOK
	if err := frame.DecodeHelloOK(body, &ok); err != nil {
		r.t.Fatal(err)
	}
	return ok
}

// wantError reads an Error frame with code and fatality.
func (r *rawConn) wantError(code frame.Code, fatal bool) frame.Error {
	r.t.Helper()
	typ, body := r.read()
	if typ != frame.TypeError {
		r.t.Fatalf("got type 0x%02x, want Error %s", typ, code)
	}
	var e frame.Error
	if err := frame.DecodeError(body, &e); err != nil {
		r.t.Fatal(err)
	}
	if e.Code != code || e.Fatal != fatal {
		r.t.Fatalf("got %s fatal=%v %q, want %s fatal=%v", e.Code, e.Fatal, e.Message, code, fatal)
	}
	return e
}

// wantAck reads an Ack of n successful records.
func (r *rawConn) wantAck(batch uint64, n int) frame.Ack {
	r.t.Helper()
	typ, body := r.read()
	if typ != frame.TypeAck {
		var e frame.Error
		_ = frame.DecodeError(body, &e)
		r.t.Fatalf("got type 0x%02x (%+v), want Ack", typ, e)
	}
	var a frame.Ack
	if err := frame.DecodeAck(body, &a, 1<<20); err != nil {
		r.t.Fatal(err)
	}
	if a.BatchID != batch || a.Count != n {
		r.t.Fatalf("ack batch %d of %d records, want batch %d of %d", a.BatchID, a.Count, batch, n)
	}
	for i, res := range ackRecords(&a) {
		if res.code != frame.CodeOK {
			r.t.Fatalf("record %d: %s %s", i, res.code, res.msg)
		}
	}
	return a
}

// ackRec is the answer for one record, from its Ack group.
type ackRec struct {
	code       frame.Code
	shard, seq string
	msg        string
}

// ackRecords expands the groups of a into one answer per record, in the
// Put's order; the sequence numbers are computed as clients do.
func ackRecords(a *frame.Ack) []ackRec {
	out := make([]ackRec, a.Count)
	for _, g := range a.Groups {
		for j, i := range g.Indexes {
			out[i] = ackRec{code: g.Code, shard: g.ShardID, msg: g.Message}
			if g.Code == frame.CodeOK {
				out[i].seq = frame.SeqNumOffset(g.FirstSequenceNumber, uint64(j))
			}
		}
	}
	return out
}

// wantClosed checks that the server closes the connection.
func (r *rawConn) wantClosed() {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	_, err := r.br.Read(b[:])
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		r.t.Fatalf("connection still open: %v", err)
	}
}

func putBody(batch uint64, name string, recs ...string) []byte {
	p := frame.Put{BatchID: batch, Stream: name}
	for _, d := range recs {
		p.Records = append(p.Records, frame.Record{PartitionKey: []byte("pk-" + d), Data: []byte(d)})
	}
	return frame.AppendPut(nil, &p)
}

// readAll reads every record of every shard of name from the start.
func readAll(t testing.TB, m *stream.Manager, name string) []stream.RecordOut {
	t.Helper()
	shards, err := m.ListShards(name, stream.ListShardsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []stream.RecordOut
	for _, sh := range shards.Shards {
		it, err := m.GetShardIterator(name, sh.ShardID, stream.IterTrimHorizon, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for it != "" {
			res, err := m.GetRecords(it, stream.MaxGetRecordsLimit)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res.Records...)
			if len(res.Records) == 0 {
				break
			}
			it = res.NextShardIterator
		}
	}
	return out
}
