package tcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/panjf2000/gnet/v2"

	"github.com/sluicehq/sluice/stream"
)

// Format is what a line listener speaks.
type Format int

// Formats of a LineServer.
const (
	// FormatSyslog: syslog over TCP, RFC 6587 octet counting or LF
	// framing (per connection, from its first byte), RFC 5424 or RFC 3164
	// messages; partition key "host/app".
	FormatSyslog Format = iota + 1
	// FormatNDJSON: one JSON object per line; partition key from
	// LineConfig.KeyField or a hash of the line.
	FormatNDJSON
)

func (f Format) String() string {
	switch f {
	case FormatSyslog:
		return "syslog"
	case FormatNDJSON:
		return "ndjson"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// LineConfig configures a LineServer. Zero values take the defaults.
type LineConfig struct {
	// Store receives the records. Required.
	Store Store
	// Stream is the stream every record of the listener goes to. Required.
	Stream string
	// Format is FormatSyslog or FormatNDJSON. Required.
	Format Format
	// KeyField (NDJSON) names the top-level field whose value is the
	// partition key; empty, or absent from a line: the hex FNV-1a hash of
	// the line.
	KeyField string
	// Logger receives connection errors. Default slog.Default().
	Logger *slog.Logger
	// MaxMessageBytes is the largest message (syslog) or line (NDJSON)
	// accepted, without its framing (bytes). Default 64 KiB; at most
	// 1 MiB, a Kinesis record's limit.
	MaxMessageBytes int
	// MaxPendingBytes caps a connection's messages read and not yet
	// written by PutRecords (bytes). At it the connection is not decoded
	// further. Default 4 MiB; at least MaxMessageBytes.
	MaxPendingBytes int
	// MaxBufferedBytes caps what gnet may read into a paused connection's
	// buffer (bytes): beyond it the connection is closed. Default 8 MiB;
	// at least MaxMessageBytes + 16.
	MaxBufferedBytes int
	// MaxConnections caps concurrent connections. Default 256.
	MaxConnections int
	// EventLoops is the number of gnet event loops. Default GOMAXPROCS.
	EventLoops int
}

func (c *LineConfig) withDefaults() LineConfig {
	d := *c
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.MaxMessageBytes == 0 {
		d.MaxMessageBytes = 64 << 10
	}
	if d.MaxPendingBytes == 0 {
		d.MaxPendingBytes = max(4<<20, d.MaxMessageBytes)
	}
	if d.MaxBufferedBytes == 0 {
		d.MaxBufferedBytes = max(8<<20, d.MaxMessageBytes+16)
	}
	if d.MaxConnections == 0 {
		d.MaxConnections = 256
	}
	if d.EventLoops == 0 {
		d.EventLoops = runtime.GOMAXPROCS(0)
	}
	return d
}

// Validate checks a configuration after defaults.
func (c *LineConfig) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("tcp: LineConfig.Store is required")
	case c.Stream == "":
		return errors.New("tcp: LineConfig.Stream is required")
	case c.Format != FormatSyslog && c.Format != FormatNDJSON:
		return fmt.Errorf("tcp: LineConfig.Format %v is neither syslog nor ndjson", c.Format)
	case c.MaxMessageBytes < 16 || c.MaxMessageBytes > 1<<20:
		return fmt.Errorf("tcp: MaxMessageBytes %d outside [16, %d]", c.MaxMessageBytes, 1<<20)
	case c.MaxPendingBytes < c.MaxMessageBytes:
		return fmt.Errorf("tcp: MaxPendingBytes %d below MaxMessageBytes %d", c.MaxPendingBytes, c.MaxMessageBytes)
	case c.MaxBufferedBytes < c.MaxMessageBytes+16:
		return fmt.Errorf("tcp: MaxBufferedBytes %d below MaxMessageBytes+16 (%d)", c.MaxBufferedBytes, c.MaxMessageBytes+16)
	case c.MaxConnections < 1 || c.EventLoops < 1:
		return fmt.Errorf("tcp: MaxConnections %d and EventLoops %d must be positive", c.MaxConnections, c.EventLoops)
	}
	return nil
}

// LineServer serves syslog or NDJSON on one address with gnet, into one
// stream. There are no acknowledgements: a message counts once
// PutRecords returned.
type LineServer struct {
	gnet.BuiltinEventEngine
	cfg LineConfig

	engine  gnet.Engine
	addr    net.Addr
	started chan struct{}
	stopped chan struct{}
	booted  atomic.Bool

	draining atomic.Bool
	// peakBuffered is the most bytes seen in one connection's inbound
	// buffer; for tests.
	peakBuffered atomic.Int64

	mu      sync.Mutex
	conns   map[*lineConn]struct{}
	workers sync.WaitGroup

	shutdownOnce sync.Once
	shutdownErr  error

	recordsTotal, bytesTotal, connsTotal *metrics.Counter
}

// NewLine checks cfg and returns a LineServer; Serve starts it.
func NewLine(cfg LineConfig) (*LineServer, error) {
	c := cfg.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	f := c.Format.String()
	return &LineServer{
		cfg: c, started: make(chan struct{}), stopped: make(chan struct{}),
		conns:        make(map[*lineConn]struct{}),
		recordsTotal: metrics.GetOrCreateCounter(`sluice_tcp_line_records_total{format="` + f + `"}`),
		bytesTotal:   metrics.GetOrCreateCounter(`sluice_tcp_line_record_bytes_total{format="` + f + `"}`),
		connsTotal:   metrics.GetOrCreateCounter(`sluice_tcp_line_connections_total{format="` + f + `"}`),
	}, nil
}

// lineCounter counts dropped messages and closed connections by reason.
func (s *LineServer) lineCounter(what, reason string) *metrics.Counter {
	return metrics.GetOrCreateCounter(`sluice_tcp_line_` + what + `_total{format="` + s.cfg.Format.String() + `",reason="` + reason + `"}`)
}

// Serve listens on addr (host:port) and serves until Shutdown.
func (s *LineServer) Serve(addr string) error {
	defer close(s.stopped)
	err := gnet.Run(s, "tcp://"+addr,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(s.cfg.EventLoops),
		gnet.WithReusePort(false),
		gnet.WithLogger(gnetLogger{s.cfg.Logger}),
	)
	select {
	case <-s.started:
	default:
		close(s.started)
	}
	if err != nil {
		return fmt.Errorf("tcp: cannot serve %s on %s: %w", s.cfg.Format, addr, err)
	}
	return nil
}

// Addr waits for the listener and returns its address (nil if Serve
// failed).
func (s *LineServer) Addr() net.Addr {
	<-s.started
	return s.addr
}

// OnBoot records the engine and the listener's address.
func (s *LineServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.engine = eng
	s.booted.Store(true)
	s.addr = listenerAddr(eng)
	close(s.started)
	return gnet.None
}

// Shutdown stops reading, writes the messages already read, closes every
// connection and stops the engine.
func (s *LineServer) Shutdown(ctx context.Context) error {
	<-s.started
	if !s.booted.Load() {
		return nil
	}
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *LineServer) shutdown(ctx context.Context) error {
	s.draining.Store(true)
	err := drainConns(ctx, func(wake bool) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if wake {
			for lc := range s.conns {
				_ = lc.conn.Wake(nil)
			}
		}
		return len(s.conns) == 0
	}, func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return fmt.Sprintf("%d %s connections", len(s.conns), s.cfg.Format)
	})
	if serr := s.engine.Stop(ctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("tcp: cannot stop the event loops: %w", serr))
	}
	<-s.stopped
	s.workers.Wait()
	return err
}

// lineConn is one connection. framing, dead and the batch being built
// are owned by the event loop; the queue is shared with the worker.
type lineConn struct {
	srv     *LineServer
	conn    gnet.Conn
	remote  string // the peer's address, for logs (gnet clears its own on close)
	framing int
	dead    bool

	// pending is the bytes of messages queued and not yet written.
	pending  atomic.Int64
	wantWake atomic.Bool

	mu      sync.Mutex
	queue   []*lineBatch
	closed  bool
	signal  chan struct{}
	stopped chan struct{}
}

// lineBatch is the messages of one OnTraffic, copied out of gnet's
// buffer: message i is data[ends[i-1]:ends[i]].
type lineBatch struct {
	data []byte
	ends []int
}

// OnOpen sets up the connection's state and worker.
func (s *LineServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	if n >= s.cfg.MaxConnections || s.draining.Load() {
		s.lineCounter("closed", "too_many_connections").Inc()
		s.cfg.Logger.Warn("tcp "+s.cfg.Format.String()+": connection refused", "remote", c.RemoteAddr(), "connections", n)
		return nil, gnet.Close
	}
	s.connsTotal.Inc()
	lc := &lineConn{srv: s, conn: c, signal: make(chan struct{}, 1), stopped: make(chan struct{})}
	if a := c.RemoteAddr(); a != nil {
		lc.remote = a.String()
	}
	if s.cfg.Format == FormatNDJSON {
		lc.framing = framingLF
	}
	c.SetContext(lc)
	s.mu.Lock()
	s.conns[lc] = struct{}{}
	s.mu.Unlock()
	s.workers.Add(1)
	go lc.work()
	return nil, gnet.None
}

// OnClose ends the worker once it has written what was queued.
func (s *LineServer) OnClose(c gnet.Conn, err error) gnet.Action {
	lc, ok := c.Context().(*lineConn)
	if !ok {
		return gnet.None
	}
	s.mu.Lock()
	delete(s.conns, lc)
	s.mu.Unlock()
	if !lc.dead {
		// The sender closed (or shutdown closes): what it sent is still in
		// the buffer; queue every message of it, paused or not.
		lc.onTraffic(true, errors.Is(err, io.EOF))
	}
	lc.mu.Lock()
	if !lc.closed {
		lc.closed = true
		close(lc.stopped)
	}
	lc.mu.Unlock()
	return gnet.None
}

// OnTraffic frames the complete messages in the buffer and queues them.
// It never blocks.
func (s *LineServer) OnTraffic(c gnet.Conn) gnet.Action {
	lc, ok := c.Context().(*lineConn)
	if !ok {
		return gnet.Close
	}
	return lc.onTraffic(false, false)
}

// closeConn discards the input and closes the connection; what was queued
// is still written.
func (lc *lineConn) closeConn(reason string, err error) gnet.Action {
	lc.dead = true
	lc.srv.lineCounter("closed", reason).Inc()
	lc.srv.cfg.Logger.Warn("tcp "+lc.srv.cfg.Format.String()+": closing connection", "remote", lc.remote, "reason", reason, "err", err)
	_, _ = lc.conn.Discard(lc.conn.InboundBuffered())
	return gnet.Close
}

// onTraffic frames the complete messages in the buffer, up to
// MaxPendingBytes unless final (the connection is closing): then all of
// them, and with eof (the sender closed) and LF framing a last line
// without its LF too.
func (lc *lineConn) onTraffic(final, eof bool) gnet.Action {
	s := lc.srv
	c := lc.conn
	if lc.dead {
		_, _ = c.Discard(c.InboundBuffered())
		return gnet.Close
	}
	// Shutdown: frame what is complete, queue it, and close.
	draining := s.draining.Load() || final
	buffered := c.InboundBuffered()
	if int64(buffered) > s.peakBuffered.Load() {
		s.peakBuffered.Store(int64(buffered)) // loops race here; a close estimate is enough
	}
	if buffered == 0 {
		if draining {
			return gnet.Close
		}
		return gnet.None
	}
	maxMsg := s.cfg.MaxMessageBytes
	limit := int64(s.cfg.MaxPendingBytes)
	// Paused: only the buffer's bound is checked, without peeking (a Peek
	// may copy the whole buffer).
	if !draining && lc.pending.Load() >= limit {
		lc.wantWake.Store(true)
		if lc.pending.Load() >= limit {
			return lc.checkBuffered()
		}
		lc.wantWake.Store(false)
	}
	buf, err := c.Peek(buffered)
	if err != nil {
		return gnet.None
	}
	if lc.framing == framingUnknown {
		lc.framing = detectFraming(buf[0])
	}
	var b *lineBatch
	consumed, paused := 0, false
	for consumed < len(buf) {
		if !draining && lc.pending.Load() >= limit {
			lc.wantWake.Store(true)
			if lc.pending.Load() >= limit {
				paused = true
				break
			}
			lc.wantWake.Store(false)
		}
		msg, n, err := nextMessage(buf[consumed:], lc.framing, maxMsg)
		if err != nil {
			reason := "malformed"
			if errors.Is(err, errTooLong) {
				reason = "too_long"
			}
			lc.flush(b)
			return lc.closeConn(reason, err)
		}
		if n == 0 && eof && lc.framing == framingLF {
			// The unterminated last line (within the maximum: checked above).
			msg, n = bytes.TrimSuffix(buf[consumed:], []byte("\r")), len(buf)-consumed
		}
		if n == 0 {
			break
		}
		consumed += n
		if len(msg) == 0 {
			continue
		}
		if b == nil {
			b = &lineBatch{data: make([]byte, 0, min(len(buf)-consumed+len(msg), int(limit)+maxMsg))}
		}
		b.data = append(b.data, msg...)
		b.ends = append(b.ends, len(b.data))
		lc.pending.Add(int64(len(msg)))
	}
	lc.flush(b)
	if consumed > 0 {
		// Not Discard(0): gnet takes n <= 0 for "everything".
		_, _ = c.Discard(consumed)
	}
	if draining {
		return gnet.Close
	}
	if paused {
		return lc.checkBuffered()
	}
	return gnet.None
}

// checkBuffered closes a paused connection whose buffer passed
// MaxBufferedBytes: gnet cannot stop reading one connection, so a sender
// that keeps going while its messages wait for the store is cut off here.
func (lc *lineConn) checkBuffered() gnet.Action {
	s := lc.srv
	if n := lc.conn.InboundBuffered(); n > s.cfg.MaxBufferedBytes {
		return lc.closeConn("backpressure", fmt.Errorf("%d bytes buffered while %d bytes wait for the store (limits %d and %d)",
			n, lc.pending.Load(), s.cfg.MaxBufferedBytes, s.cfg.MaxPendingBytes))
	}
	return gnet.None
}

// flush hands b to the worker.
func (lc *lineConn) flush(b *lineBatch) {
	if b == nil {
		return
	}
	lc.mu.Lock()
	lc.queue = append(lc.queue, b)
	lc.mu.Unlock()
	select {
	case lc.signal <- struct{}{}:
	default:
	}
}

// work writes the queued batches, in order, until the connection closed
// and its queue is empty.
func (lc *lineConn) work() {
	defer lc.srv.workers.Done()
	for {
		select {
		case <-lc.signal:
		case <-lc.stopped:
		}
		lc.mu.Lock()
		q := lc.queue
		lc.queue = nil
		closed := lc.closed
		lc.mu.Unlock()
		if len(q) > 0 {
			lc.write(q)
		}
		if closed && len(q) == 0 {
			return
		}
		if closed {
			select {
			case lc.signal <- struct{}{}:
			default:
			}
		}
	}
}

// maxPutRecords caps the records of one PutRecords call.
const maxPutRecords = 10000

// write parses the messages of q and writes them to the stream, in
// order, in calls of up to maxPutRecords records.
func (lc *lineConn) write(q []*lineBatch) {
	n, size := 0, 0
	for _, b := range q {
		n += len(b.ends)
		size += len(b.data)
	}
	entries := make([]stream.PutEntry, 0, min(n, maxPutRecords))
	for _, b := range q {
		entries = lc.parse(b, entries)
	}
	if len(entries) > 0 {
		lc.put(entries)
	}
	lc.pending.Add(-int64(size))
	if lc.wantWake.CompareAndSwap(true, false) {
		_ = lc.conn.Wake(nil)
	}
}

// parse appends the records of b's messages to entries, writing them
// whenever maxPutRecords are collected.
func (lc *lineConn) parse(b *lineBatch, entries []stream.PutEntry) []stream.PutEntry {
	s := lc.srv
	start := 0
	for _, end := range b.ends {
		msg := b.data[start:end:end]
		start = end
		var key string
		if s.cfg.Format == FormatSyslog {
			key = syslogKey(parseSyslog(msg))
		} else {
			k, err := ndjsonKey(msg, s.cfg.KeyField)
			if err != nil {
				s.lineCounter("dropped", "not_json_object").Inc()
				s.cfg.Logger.Debug("tcp ndjson: dropped a line", "remote", lc.remote, "err", err)
				continue
			}
			key = k
		}
		entries = append(entries, stream.PutEntry{PartitionKey: key, Data: msg})
		if len(entries) == maxPutRecords {
			lc.put(entries)
			entries = entries[:0]
		}
	}
	return entries
}

// put writes entries, retrying the ones throttled (--emulate-quotas) for
// up to a minute; what still fails is dropped and logged.
func (lc *lineConn) put(entries []stream.PutEntry) {
	s := lc.srv
	delay := 10 * time.Millisecond
	deadline := time.Now().Add(time.Minute)
	for {
		results, err := s.cfg.Store.PutRecords(s.cfg.Stream, entries)
		if err != nil {
			reason := "error"
			if errors.Is(err, stream.ErrStreamNotFound) {
				reason = "stream_not_found"
			}
			s.lineCounter("dropped", reason).Add(len(entries))
			s.cfg.Logger.Warn("tcp "+s.cfg.Format.String()+": dropped messages", "stream", s.cfg.Stream, "records", len(entries), "err", err)
			return
		}
		var retry []stream.PutEntry
		for i := range results {
			switch {
			case results[i].Err == nil:
				s.recordsTotal.Inc()
				s.bytesTotal.Add(len(entries[i].Data))
			case errors.Is(results[i].Err, stream.ErrThroughputExceeded) && time.Now().Before(deadline) && !s.draining.Load():
				retry = append(retry, entries[i])
			default:
				s.lineCounter("dropped", "error").Inc()
				s.cfg.Logger.Warn("tcp "+s.cfg.Format.String()+": dropped a message", "stream", s.cfg.Stream, "err", results[i].Err)
			}
		}
		if len(retry) == 0 {
			return
		}
		entries = retry
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}
