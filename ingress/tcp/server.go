package tcp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/sluicehq/sluice/wire/frame"
)

// Server serves the binary protocol on one address with gnet.
type Server struct {
	gnet.BuiltinEventEngine
	cfg Config

	engine  gnet.Engine
	addr    net.Addr
	started chan struct{} // closed by OnBoot
	stopped chan struct{} // closed when Serve returns

	inflight atomic.Int64 // Put frame bytes decoded and not yet acknowledged, all connections
	draining atomic.Bool  // Shutdown began: finish what is queued, read nothing new
	// peakBuffered is the most bytes seen in one connection's inbound
	// buffer (read, not yet decoded); for tests and the curious.
	peakBuffered atomic.Int64
	booted       atomic.Bool // OnBoot ran
	dedup        *dedupCache

	mu      sync.Mutex
	conns   map[*connState]struct{}
	waiting map[*connState]struct{} // connections paused on the global budget
	workers sync.WaitGroup

	stopTicker chan struct{}
	tickerDone chan struct{}

	shutdownOnce sync.Once
	shutdownErr  error
}

// New checks cfg and returns a Server; Serve starts it.
func New(cfg Config) (*Server, error) {
	c := cfg.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Server{
		cfg: c, started: make(chan struct{}), stopped: make(chan struct{}),
		dedup: newDedupCache(c.DedupBytes),
		conns: make(map[*connState]struct{}), waiting: make(map[*connState]struct{}),
		stopTicker: make(chan struct{}), tickerDone: make(chan struct{}),
	}, nil
}

// Serve listens on addr (host:port) and serves until Shutdown. It returns
// nil after Shutdown, or the error that kept the engine from starting.
func (s *Server) Serve(addr string) error {
	defer close(s.stopped)
	err := gnet.Run(s, "tcp://"+addr,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(s.cfg.EventLoops),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		// One read per event-loop buffer: a buffer that holds a whole Put
		// (up to MaxFrameBytes, 1 MiB at most here) lets Peek return it
		// in place instead of assembling it from gnet's ring buffer. The
		// buffer is per event loop, not per connection.
		gnet.WithReadBufferCap(min(s.cfg.MaxFrameBytes+frame.HeaderSize, 1<<20)),
		gnet.WithReusePort(false),
		gnet.WithLogger(gnetLogger{s.cfg.Logger}),
	)
	select {
	case <-s.started:
	default:
		close(s.started) // unblock Addr
	}
	if err != nil {
		return fmt.Errorf("tcp: cannot serve on %s: %w", addr, err)
	}
	return nil
}

// Addr waits for the listener and returns its address (nil if Serve
// failed).
func (s *Server) Addr() net.Addr {
	<-s.started
	return s.addr
}

// OnBoot records the engine and the listener's address and starts the
// timeout ticker.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.engine = eng
	s.booted.Store(true)
	s.addr = listenerAddr(eng)
	go s.tick()
	close(s.started)
	return gnet.None
}

// tick wakes connections whose frame or handshake deadline passed, so that
// their event loop closes them (slowloris).
func (s *Server) tick() {
	defer close(s.tickerDone)
	period := min(s.cfg.FrameTimeout/4, time.Second)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-s.stopTicker:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		s.mu.Lock()
		for st := range s.conns {
			if d := st.deadline.Load(); d != 0 && now > d {
				_ = st.conn.Wake(nil)
			}
		}
		s.mu.Unlock()
	}
}

// Shutdown stops reading new frames, lets the queued batches finish and
// their acks go out (until ctx ends), tells every client SHUTTING_DOWN and
// stops the engine. Safe to call once Serve has started; later calls
// return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	<-s.started
	if !s.booted.Load() {
		return nil
	}
	s.shutdownOnce.Do(func() { s.shutdownErr = s.shutdown(ctx) })
	return s.shutdownErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.draining.Store(true)
	// Every connection, once woken, queues SHUTTING_DOWN after its pending
	// batches, and the write of that frame closes it. Wait for all of them
	// (waking again now and then: a connection that opened just as the
	// drain began may have missed the first wake).
	err := drainConns(ctx, func(wake bool) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if wake {
			for st := range s.conns {
				_ = st.conn.Wake(nil)
			}
		}
		return len(s.conns) == 0 && s.inflight.Load() == 0
	}, func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return fmt.Sprintf("%d connections with %d bytes of batches", len(s.conns), s.inflight.Load())
	})
	if serr := s.engine.Stop(ctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("tcp: cannot stop the event loops: %w", serr))
	}
	close(s.stopTicker)
	<-s.tickerDone
	<-s.stopped
	s.workers.Wait()
	return err
}

// OnOpen sets up the connection's state and worker.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	if n >= s.cfg.MaxConnections || s.draining.Load() {
		e := frame.Error{Code: frame.CodeTooManyConnections, Fatal: true,
			Message: fmt.Sprintf("the server has %d connections, its limit; retry later or raise the connection limit", n)}
		if s.draining.Load() {
			e = frame.Error{Code: frame.CodeShuttingDown, Fatal: true, Message: "the server is shutting down"}
		}
		return frame.AppendFrame(nil, frame.TypeError, 0, frame.AppendError(nil, &e)), gnet.Close
	}
	connsTotal.Inc()
	st := newConnState(s, c)
	if _, err := rand.Read(st.nonce[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	st.deadline.Store(time.Now().Add(s.cfg.FrameTimeout).UnixNano())
	c.SetContext(st)
	s.mu.Lock()
	s.conns[st] = struct{}{}
	s.mu.Unlock()
	s.workers.Add(1)
	go st.work()
	return nil, gnet.None
}

// OnClose stops the connection's worker; batches it has not started are
// dropped (their clients get no ack and resend).
func (s *Server) OnClose(c gnet.Conn, _ error) gnet.Action {
	st, ok := c.Context().(*connState)
	if !ok {
		return gnet.None
	}
	s.mu.Lock()
	delete(s.conns, st)
	delete(s.waiting, st)
	s.mu.Unlock()
	st.stop()
	return gnet.None
}

// OnTraffic decodes the complete frames in the connection's buffer.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	st, ok := c.Context().(*connState)
	if !ok {
		return gnet.Close
	}
	st.onTraffic()
	return gnet.None
}

// acquire takes n bytes of the global budget for st, or registers st to be
// woken when bytes are released. The budget is at least one window, so a
// frame always fits once the others' bytes are released.
func (s *Server) acquire(st *connState, n int64) bool {
	if s.tryAcquire(n) {
		return true
	}
	s.mu.Lock()
	s.waiting[st] = struct{}{}
	s.mu.Unlock()
	// Re-check after registering: a release between the first try and the
	// registration would otherwise wake nobody.
	if s.tryAcquire(n) {
		s.mu.Lock()
		delete(s.waiting, st)
		s.mu.Unlock()
		return true
	}
	return false
}

// tryAcquire takes n bytes if the budget has them; it never overshoots.
func (s *Server) tryAcquire(n int64) bool {
	for {
		cur := s.inflight.Load()
		if cur+n > int64(s.cfg.MaxInflightBytes) {
			return false
		}
		if s.inflight.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// release returns n bytes of the global budget and wakes the connections
// that waited for it.
func (s *Server) release(n int64) {
	s.inflight.Add(-n)
	s.mu.Lock()
	if len(s.waiting) == 0 {
		s.mu.Unlock()
		return
	}
	woken := make([]*connState, 0, len(s.waiting))
	for st := range s.waiting {
		woken = append(woken, st)
	}
	clear(s.waiting)
	s.mu.Unlock()
	for _, st := range woken {
		_ = st.conn.Wake(nil)
	}
}

// gnetLogger sends gnet's logs to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }

// listenerAddr returns the address eng listens on (nil if it cannot be
// read), for Addr: gnet does not report the port it bound for ":0".
func listenerAddr(eng gnet.Engine) net.Addr {
	fd, err := eng.Dup()
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// drainConns waits, until ctx ends, for step to report that every
// connection is gone. step is called every 5 ms, with wake set on the
// first call and every 100 ms after: it then wakes the connections left,
// so that each queues its goodbye and closes (again now and then: a
// connection that opened just as the drain began may have missed the first
// wake). left describes what is still open, for the error.
func drainConns(ctx context.Context, step func(wake bool) (done bool), left func() string) error {
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for i := 0; ; i++ {
		if step(i%20 == 0) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tcp: %s still open: %w", left(), ctx.Err())
		case <-poll.C:
		}
	}
}
