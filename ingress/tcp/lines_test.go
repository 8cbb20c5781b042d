package tcp

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/stream"
)

// startLine serves cfg on a loopback port until the test ends.
func startLine(t testing.TB, cfg LineConfig) *LineServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	s, err := NewLine(cfg)
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

func dialLine(t testing.TB, s *LineServer) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// waitRecords reads name until it holds n records (or 10 s pass) and
// returns them sorted by sequence number within each partition key's
// arrival; a single-shard stream keeps them in arrival order.
func waitRecords(t testing.TB, m *stream.Manager, name string, n int) []stream.RecordOut {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := readAll(t, m, name)
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantClosedConn checks that the server closed nc.
func wantClosedConn(t testing.TB, nc net.Conn) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	_, err := nc.Read(b[:])
	if ne, ok := err.(net.Error); err == nil || (ok && ne.Timeout()) {
		t.Fatalf("connection still open: %v", err)
	}
}

type wantRec struct{ key, data string }

func checkRecords(t testing.TB, got []stream.RecordOut, want []wantRec) {
	t.Helper()
	if len(got) != len(want) {
		var g []string
		for _, r := range got {
			g = append(g, fmt.Sprintf("%s %q", r.PartitionKey, r.Data))
		}
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), strings.Join(g, "\n"))
	}
	for i := range want {
		if got[i].PartitionKey != want[i].key || string(got[i].Data) != want[i].data {
			t.Fatalf("record %d: key %q data %q, want key %q data %q", i, got[i].PartitionKey, got[i].Data, want[i].key, want[i].data)
		}
	}
}

// TestLineSyslogLF: LF framing (detected from '<'), RFC 3164 and 5424
// messages, CRLF and empty lines, a message split across writes.
func TestLineSyslogLF(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("sys", 1); err != nil {
		t.Fatal(err)
	}
	s := startLine(t, LineConfig{Store: m, Stream: "sys", Format: FormatSyslog})
	nc := dialLine(t, s)
	msgs := []wantRec{
		{"web1/nginx", "<34>Oct 11 22:14:15 web1 nginx[123]: GET / 200"},
		{"db-2/postgres", "<165>1 2003-10-11T22:14:15.003Z db-2 postgres 4711 ID47 [exampleSDID@32473 iut=\"3\"] BOMAn application event"},
		{"-/-", "<165>1 2003-10-11T22:14:15.003Z - - - - -"},
		{"host.example/cron", "<13>2024-05-01T10:00:00+02:00 host.example cron: job done"},
		{"mymachine/su", "<34>Oct  1 22:14:15 mymachine su: 'su root' failed"},
		{"-/notimestamp", "<13>notimestamp: a message without header"},
	}
	var all string
	for i, w := range msgs {
		sep := "\n"
		if i == 1 {
			sep = "\r\n\n" // CRLF and an empty line
		}
		all += w.data + sep
	}
	// Split mid-message: the first part ends inside message 3.
	cut := strings.Index(all, "cron:")
	if _, err := nc.Write([]byte(all[:cut])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := nc.Write([]byte(all[cut:])); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, waitRecords(t, m, "sys", len(msgs)), msgs)
}

// TestLineSyslogOctetCounting: octet-counted frames (detected from a
// digit), one with an LF inside, one split within its count.
func TestLineSyslogOctetCounting(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("oc", 1); err != nil {
		t.Fatal(err)
	}
	s := startLine(t, LineConfig{Store: m, Stream: "oc", Format: FormatSyslog})
	nc := dialLine(t, s)
	msgs := []wantRec{
		{"h1/app", "<13>1 2024-01-01T00:00:00Z h1 app - - - line one"},
		{"h1/app", "<13>1 2024-01-01T00:00:00Z h1 app - - - two\nlines"},
		{"h2/kernel", "<6>Jan 31 23:59:59 h2 kernel: [ 1.0] boot"},
	}
	var all string
	for _, w := range msgs {
		all += fmt.Sprintf("%d %s", len(w.data), w.data)
	}
	cut := len(all) - len(msgs[2].data) - 2 // inside the last count
	for _, part := range []string{all[:cut], all[cut:]} {
		if _, err := nc.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	checkRecords(t, waitRecords(t, m, "oc", len(msgs)), msgs)
}

// TestLineSyslogOversized: a count above the maximum closes the
// connection before the body arrives, and so does an LF-framed line longer
// than the maximum; the messages before are kept. A malformed count
// closes too.
func TestLineSyslogOversized(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("big", 1); err != nil {
		t.Fatal(err)
	}
	const maxMsg = 1024
	s := startLine(t, LineConfig{Store: m, Stream: "big", Format: FormatSyslog, MaxMessageBytes: maxMsg})
	ok := "<13>Jan  1 00:00:00 h app: fine"
	// The message a connection sent before the fault is stored, also
	// after the server closed the connection (records of different
	// connections have no order, so each is awaited before the next).
	stored := func(n int) {
		t.Helper()
		if got := len(waitRecords(t, m, "big", n)); got != n {
			t.Fatalf("%d records stored, want %d", got, n)
		}
	}

	nc := dialLine(t, s)
	// Only the count is sent: the server must refuse it before the body.
	if _, err := fmt.Fprintf(nc, "%d %s%d ", len(ok), ok, maxMsg+1); err != nil {
		t.Fatal(err)
	}
	wantClosedConn(t, nc)
	stored(1)

	nc = dialLine(t, s)
	if _, err := fmt.Fprintf(nc, "%s\n%s", ok, strings.Repeat("x", maxMsg+100)); err != nil {
		t.Fatal(err)
	}
	wantClosedConn(t, nc)
	stored(2)

	nc = dialLine(t, s)
	if _, err := fmt.Fprintf(nc, "%d %s12x <13>", len(ok), ok); err != nil {
		t.Fatal(err)
	}
	wantClosedConn(t, nc)
	stored(3)

	// A message of exactly the maximum is accepted.
	exact := "<13>Jan  1 00:00:00 h app: " + strings.Repeat("y", maxMsg-27)
	nc = dialLine(t, s)
	if _, err := fmt.Fprintf(nc, "%d %s", len(exact), exact); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, waitRecords(t, m, "big", 4), []wantRec{{"h/app", ok}, {"h/app", ok}, {"h/app", ok}, {"h/app", exact}})
}

// TestLineNDJSON: the key field's string value, a number's JSON text, a
// hash when the field is missing; lines that are not JSON objects are
// dropped and the connection goes on; a line above the maximum closes it.
func TestLineNDJSON(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("nd", 1); err != nil {
		t.Fatal(err)
	}
	s := startLine(t, LineConfig{Store: m, Stream: "nd", Format: FormatNDJSON, KeyField: "user", MaxMessageBytes: 256})
	nc := dialLine(t, s)
	lines := []string{
		`{"user":"alice","n":1}`,
		`not json`,
		`{"user":42}`,
		`[1,2]`,
		`{"other":true}`,
		`{"user":"bob",`,
		` {"user":"carol"} `,
	}
	if _, err := nc.Write([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		t.Fatal(err)
	}
	hashKey, _ := ndjsonKey([]byte(`{"other":true}`), "user")
	checkRecords(t, waitRecords(t, m, "nd", 4), []wantRec{
		{"alice", lines[0]}, {"42", lines[2]}, {hashKey, lines[4]}, {"carol", lines[6]},
	})
	if len(hashKey) == 0 || hashKey == "other" {
		t.Fatalf("hash key %q", hashKey)
	}
	if _, err := nc.Write([]byte(`{"user":"` + strings.Repeat("z", 300) + "\"}\n")); err != nil {
		t.Fatal(err)
	}
	wantClosedConn(t, nc)
}

// countingStore is slowStore that also tracks the records not yet
// returned.
type countingStore struct {
	slowStore
	inside, peak atomic.Int64
}

func (s *countingStore) PutRecords(name string, recs []stream.PutEntry) ([]stream.PutResult, error) {
	n := 0
	for _, r := range recs {
		n += len(r.Data)
	}
	if v := s.inside.Add(int64(n)); v > s.peak.Load() {
		s.peak.Store(v)
	}
	defer s.inside.Add(-int64(n))
	return s.slowStore.PutRecords(name, recs)
}

// TestLineBackpressure: a sender much faster than a throttled store. The
// connection stops being decoded at MaxPendingBytes; gnet keeps reading,
// and when the buffer passes MaxBufferedBytes the connection is closed.
// What was stored is a prefix of what was sent, in order, each line once.
func TestLineBackpressure(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("bp", 1); err != nil {
		t.Fatal(err)
	}
	const pending, buffered = 64 << 10, 256 << 10
	store := &countingStore{slowStore: slowStore{m: m, delay: 50 * time.Millisecond}}
	s := startLine(t, LineConfig{Store: store, Stream: "bp", Format: FormatSyslog, MaxMessageBytes: 1024,
		MaxPendingBytes: pending, MaxBufferedBytes: buffered})
	nc := dialLine(t, s)
	const lines = 100000 // about 10 MB
	writeErr := make(chan error, 1)
	go func() {
		var b []byte
		for i := range lines {
			b = fmt.Appendf(b, "<13>Jan  1 00:00:00 h app: line %07d %s\n", i, strings.Repeat("p", 60))
			if len(b) > 32<<10 {
				if _, err := nc.Write(b); err != nil {
					writeErr <- err
					return
				}
				b = b[:0]
			}
		}
		_, err := nc.Write(b)
		writeErr <- err
	}()
	// The kernel's socket buffers on loopback may take all of it, so the
	// write may succeed; the server must close the connection either way.
	select {
	case <-writeErr:
	case <-time.After(30 * time.Second):
		t.Fatal("the sender is still writing after 30 s")
	}
	t.Logf("peak buffered %d, store calls %d", s.peakBuffered.Load(), store.calls.Load())
	wantClosedConn(t, nc)
	// Let the queued batches finish.
	time.Sleep(300 * time.Millisecond)
	for store.inside.Load() != 0 {
		time.Sleep(20 * time.Millisecond)
	}
	got := readAll(t, m, "bp")
	if len(got) == 0 || len(got) >= lines {
		t.Fatalf("stored %d lines, want a proper prefix of %d", len(got), lines)
	}
	for i, r := range got {
		want := fmt.Sprintf("line %07d ", i)
		if !strings.Contains(string(r.Data), want) {
			t.Fatalf("record %d is %q, want %q", i, r.Data, want)
		}
	}
	// Memory: at most MaxPendingBytes plus one message in the store, and
	// the buffer at most MaxBufferedBytes plus what gnet reads at once.
	if p := store.peak.Load(); p > pending+1024 {
		t.Fatalf("%d bytes in the store at once, MaxPendingBytes %d", p, pending)
	}
	if p := s.peakBuffered.Load(); p > buffered+(256<<10) {
		t.Fatalf("%d bytes buffered, MaxBufferedBytes %d", p, buffered)
	}
	keys := map[string]bool{}
	for _, r := range got {
		keys[r.PartitionKey] = true
	}
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) != 1 || ks[0] != "h/app" {
		t.Fatalf("partition keys %v", ks)
	}
}

func TestParseSyslog(t *testing.T) {
	for _, c := range []struct{ msg, key string }{
		{"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "mymachine/su"},
		{"<34>Oct 11 22:14:15 mymachine su[99]: x", "mymachine/su"},
		{"<34>Oct 11 22:14:15 mymachine", "mymachine/-"},
		{"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time", "192.0.2.1/myproc"},
		{"<165>1 - - - - - -", "-/-"},
		{"<0>1", "-/1"},
		{"", "-/-"},
		{"<", "-/<"},
		{"Oct 11 22:14:15 h t: no pri", "h/t"},
		{"<13>2024-01-01T00:00:00Z h3 tag:", "h3/tag"},
	} {
		if got := syslogKey(parseSyslog([]byte(c.msg))); got != c.key {
			t.Errorf("%q: key %q, want %q", c.msg, got, c.key)
		}
	}
	long := "<13>1 - " + strings.Repeat("é", 300) + " app - - -"
	if got := syslogKey(parseSyslog([]byte(long))); len([]rune(got)) != 256 {
		t.Errorf("long key has %d characters", len([]rune(got)))
	}
}

// TestLinePauseResume: with a slow store and a buffer bound that the
// sender stays under, the connection pauses at MaxPendingBytes and resumes
// when the worker has written its messages: every line arrives once, in
// order, and the store never holds much more than MaxPendingBytes at once.
func TestLinePauseResume(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("pr", 1); err != nil {
		t.Fatal(err)
	}
	const pending = 16 << 10
	store := &countingStore{slowStore: slowStore{m: m, delay: 5 * time.Millisecond}}
	s := startLine(t, LineConfig{Store: store, Stream: "pr", Format: FormatSyslog, MaxMessageBytes: 1024,
		MaxPendingBytes: pending, MaxBufferedBytes: 8 << 20})
	nc := dialLine(t, s)
	const lines = 10000 // about 700 KB
	var b []byte
	for i := range lines {
		msg := fmt.Sprintf("<13>1 - h%d app - - - line %07d", i%3, i)
		b = fmt.Appendf(b, "%d %s", len(msg), msg)
	}
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	got := waitRecords(t, m, "pr", lines)
	if len(got) != lines {
		t.Fatalf("stored %d lines, want %d", len(got), lines)
	}
	for i, r := range got {
		if want := fmt.Sprintf("line %07d", i); !strings.HasSuffix(string(r.Data), want) || r.PartitionKey != fmt.Sprintf("h%d/app", i%3) {
			t.Fatalf("record %d: %q key %q, want ...%s", i, r.Data, r.PartitionKey, want)
		}
	}
	if c := store.calls.Load(); c < 10 {
		t.Fatalf("%d store calls: the connection never paused", c)
	}
	if p := store.peak.Load(); p > pending+1024 {
		t.Fatalf("%d bytes in the store at once, MaxPendingBytes %d", p, pending)
	}
}

// BenchmarkLineSyslog: octet-counted RFC 5424 messages of about 100 bytes
// over one loopback connection into an async store; b.N messages, reported
// as records/s once all are stored. The sender stays within a bound of the
// store, which the default limits allow.
func BenchmarkLineSyslog(b *testing.B) {
	m := openManager(b)
	if err := m.CreateStream("bench", 4); err != nil {
		b.Fatal(err)
	}
	s := startLine(b, LineConfig{Store: m, Stream: "bench", Format: FormatSyslog})
	nc := dialLine(b, s)
	base := s.recordsTotal.Get()
	var buf []byte
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		msg := fmt.Sprintf("<13>1 2024-01-01T00:00:00Z host%d app - - - message %09d %s", i%16, i, "abcdefghijklmnopqrstuvwxyz0123")
		buf = fmt.Appendf(buf, "%d %s", len(msg), msg)
		if len(buf) >= 64<<10 {
			// A sender that keeps at most about 50,000 messages (~5 MB)
			// ahead of the store, as a syslog daemon's TCP send buffer and
			// queue would: an unpaced one is cut off (TestLineBackpressure).
			for uint64(i) > s.recordsTotal.Get()-base+50000 {
				time.Sleep(100 * time.Microsecond)
			}
			if _, err := nc.Write(buf); err != nil {
				b.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if _, err := nc.Write(buf); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for s.recordsTotal.Get()-base < uint64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d records stored", s.recordsTotal.Get()-base, b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// TestLineSenderCloses: a sender writes while its connection is paused
// (slow store) and closes; every message it sent is still written, the
// last line without its LF included.
func TestLineSenderCloses(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("sc", 1); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{slowStore: slowStore{m: m, delay: 20 * time.Millisecond}}
	s := startLine(t, LineConfig{Store: store, Stream: "sc", Format: FormatSyslog, MaxMessageBytes: 1024,
		MaxPendingBytes: 8 << 10, MaxBufferedBytes: 8 << 20})
	nc := dialLine(t, s)
	const lines = 3000
	var b []string
	for i := range lines {
		b = append(b, fmt.Sprintf("<13>Jan  1 00:00:00 h app: line %05d", i))
	}
	if _, err := nc.Write([]byte(strings.Join(b, "\n"))); err != nil {
		t.Fatal(err)
	}
	if err := nc.Close(); err != nil {
		t.Fatal(err)
	}
	got := waitRecords(t, m, "sc", lines)
	if len(got) != lines {
		t.Fatalf("stored %d lines, want %d", len(got), lines)
	}
	for i, r := range got {
		if string(r.Data) != b[i] {
			t.Fatalf("record %d: %q, want %q", i, r.Data, b[i])
		}
	}
}
