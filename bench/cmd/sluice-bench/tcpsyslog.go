package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/ingress/tcp"
	"github.com/sluicehq/sluice/stream"
)

// The syslog target: RFC 5424 messages of the scenario's size, framed by
// octet counting (RFC 6587), over --conns connections (one host name
// each) to an ingress/tcp LineServer writing to the run's stream.
// Syslog has no acknowledgements, so a message counts once the server's
// PutRecords returned for it; the senders stay at most syslogAhead
// messages ahead of the store, as a syslog daemon's send buffer and queue
// would (an unpaced sender is cut off by the server's backpressure).
const syslogAhead = 50000

// countingStore counts the records the LineServer stored and the ones
// that failed.
type countingStore struct {
	m              *stream.Manager
	stored, failed atomic.Int64
}

func (c *countingStore) PutRecords(name string, recs []stream.PutEntry) ([]stream.PutResult, error) {
	res, err := c.m.PutRecords(name, recs)
	if err != nil {
		c.failed.Add(int64(len(recs)))
		return res, err
	}
	var bad int64
	for _, r := range res {
		if r.Err != nil {
			bad++
		}
	}
	c.stored.Add(int64(len(res)) - bad)
	c.failed.Add(bad)
	return res, err
}

// syslogFrames returns n octet-counted RFC 5424 messages of exactly size
// bytes each (without the frame's length prefix) from host.
func syslogFrames(host string, size, n int) []byte {
	var b []byte
	for i := range n {
		head := fmt.Sprintf("<13>1 2026-12-06T12:00:00.000Z %s app - - - msg %09d ", host, i)
		msg := head + strings.Repeat("x", max(size-len(head), 0))
		b = fmt.Appendf(b, "%d %s", len(msg), msg)
	}
	return b
}

// syslogLoad is one run of the syslog target.
type syslogLoad struct {
	srv   *tcp.LineServer
	done  chan error
	store *countingStore
}

func startSyslogLoad(m *stream.Manager, streamName string) (*syslogLoad, error) {
	l := &syslogLoad{store: &countingStore{m: m}, done: make(chan error, 1)}
	var err error
	l.srv, err = tcp.NewLine(tcp.LineConfig{Store: l.store, Stream: streamName, Format: tcp.FormatSyslog,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	go func() { l.done <- l.srv.Serve("127.0.0.1:0") }()
	if l.srv.Addr() == nil {
		return nil, <-l.done
	}
	return l, nil
}

// run sends until deadline over conns connections and returns the
// records stored before the deadline; then it waits (bounded) until
// everything sent is stored.
func (l *syslogLoad) run(conns, size int, deadline time.Time) (int64, error) {
	var sent atomic.Int64
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	const perWrite = 512
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := syslogFrames(fmt.Sprintf("host%02d", c), size, perWrite)
			nc, err := net.Dial("tcp", l.srv.Addr().String())
			if err != nil {
				fail(err)
				return
			}
			defer nc.Close()
			for time.Now().Before(deadline) {
				for sent.Load()-l.store.stored.Load() > syslogAhead && time.Now().Before(deadline) {
					time.Sleep(100 * time.Microsecond)
				}
				if _, err := nc.Write(buf); err != nil {
					fail(fmt.Errorf("syslog sender: %w", err))
					return
				}
				sent.Add(perWrite)
			}
			// Wait until everything sent is stored before closing.
			drain := time.Now().Add(30 * time.Second)
			for l.store.stored.Load()+l.store.failed.Load() < sent.Load() && time.Now().Before(drain) {
				time.Sleep(time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Until(deadline))
	stored := l.store.stored.Load()
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if n := l.store.failed.Load(); n > 0 {
		return 0, fmt.Errorf("syslog: %d records failed", n)
	}
	if got, want := l.store.stored.Load(), sent.Load(); got != want {
		return 0, fmt.Errorf("syslog: %d of %d messages stored 30 s after the run", got, want)
	}
	return stored, nil
}

func (l *syslogLoad) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(l.srv.Shutdown(ctx), <-l.done)
}
