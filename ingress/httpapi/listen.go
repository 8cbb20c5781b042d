package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"
)

// DefaultSniffTimeout is the default Config.SniffTimeout.
const DefaultSniffTimeout = 10 * time.Second

// One port, three protocols (KINESIS_API.md 1.8): each accepted connection
// is told apart by its first bytes.
//
//   - The HTTP/2 connection preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", h2c
//     with prior knowledge, which the JavaScript SDK v3 in Node sends on
//     every call): Go's HTTP/2 server.
//   - A TLS ClientHello (first byte 0x16, record type handshake) when a
//     certificate is configured: the TLS handshake, then by ALPN "h2" to
//     HTTP/2; with "http/1.1" or no ALPN the decrypted stream is sniffed
//     again (a client may send the HTTP/2 preface without ALPN).
//   - Anything else: fasthttp, HTTP/1.1. A request there that asks for the
//     h2c Upgrade (Upgrade: h2c, Connection: ..., HTTP2-Settings) gets 101
//     and the connection continues as HTTP/2 (handleFast, upgradeH2C).
//
// HTTP/2 runs on golang.org/x/net/http2's (*Server).ServeConn rather than
// net/http's Protocols: we route each connection ourselves, and ServeConn
// takes one connection at a time, including the h2c Upgrade's first
// request (ServeConnOpts.UpgradeRequest, Settings), which net/http's own
// unencrypted HTTP/2 does not support. ServeConn is marked deprecated in
// favour of net/http, but it stays supported (from Go 1.27 it wraps
// net/http's HTTP/2 server).
//
// Sniffing reads at most 24 bytes with a read deadline (SniffTimeout), so a
// connection that sends nothing cannot hold a goroutine; it stops as soon
// as the bytes differ from the preface (a short HTTP/1.x request is never
// kept waiting), and what it read is replayed to the protocol server, so
// HTTP/1.1 keep-alive and pipelining are unaffected.

// Serve accepts connections on ln until Shutdown, or until ln fails, and
// serves HTTP/1.1, HTTP/2 (h2c prior knowledge and Upgrade) and, with
// Config.TLSConfig, TLS on it. It returns nil after Shutdown. Serve may be
// called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.initLocked(ln.Addr())
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			delete(s.listeners, ln)
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of descriptors and the like: back off, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("httpapi: accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				s.mu.Lock()
				s.listeners[ln] = struct{}{}
				s.mu.Unlock()
				continue
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.sniffing[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.route(c)
	}
}

// initLocked creates the protocol servers on first use.
func (s *Server) initLocked(addr net.Addr) {
	if s.srv != nil {
		return
	}
	s.listeners = make(map[net.Listener]struct{})
	s.sniffing = make(map[net.Conn]struct{})
	s.conns = make(map[net.Conn]struct{})
	s.h1 = &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
	s.srv = &fasthttp.Server{
		Handler:               s.handleFast,
		ErrorHandler:          s.transportError,
		MaxRequestBodySize:    s.cfg.MaxBodyBytes,
		ReadTimeout:           s.cfg.ReadTimeout,
		IdleTimeout:           s.cfg.IdleTimeout,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		// An h2c Upgrade hands the connection to the HTTP/2 server, whose
		// frame writer can still be writing a GOAWAY after ServeConn
		// returns: fasthttp must not close and recycle the connection
		// wrapper when the hijack handler returns (that wrapper's nil
		// Conn panicked once under -race). serveH2 closes it instead.
		KeepHijackedConns: true,
		Logger:            slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.h2base = &http.Server{
		Handler:        s,
		ReadTimeout:    s.cfg.ReadTimeout,
		IdleTimeout:    s.cfg.IdleTimeout,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.h2 = &http2.Server{IdleTimeout: s.cfg.IdleTimeout}
	// ConfigureServer links h2 to h2base so that h2base.Shutdown sends
	// GOAWAY on every HTTP/2 connection.
	if err := http2.ConfigureServer(s.h2base, s.h2); err != nil {
		panic("BUG: http2.ConfigureServer: " + err.Error())
	}
	if t := s.cfg.TLSConfig; t != nil && (len(t.Certificates) > 0 || t.GetCertificate != nil || t.GetConfigForClient != nil) {
		s.tls = t.Clone()
		s.tls.NextProtos = []string{"h2", "http/1.1"}
		if s.tls.MinVersion == 0 {
			s.tls.MinVersion = tls.VersionTLS12
		}
	}
	s.h1done = make(chan struct{})
	go func() {
		defer close(s.h1done)
		_ = s.srv.Serve(s.h1) // ends when Shutdown closes s.h1
	}()
}

type protocol int

const (
	protoH1 protocol = iota
	protoH2
	protoTLS
)

// route sniffs a new connection and hands it to its protocol server.
func (s *Server) route(c net.Conn) {
	defer s.wg.Done()
	handedOff := false
	defer func() {
		s.mu.Lock()
		delete(s.sniffing, c)
		s.mu.Unlock()
		if !handedOff {
			_ = c.Close()
		}
	}()
	deadline := time.Now().Add(s.cfg.SniffTimeout)
	if err := c.SetDeadline(deadline); err != nil {
		return
	}
	pc := &peekConn{Conn: c}
	p, err := pc.sniff(s.tls != nil)
	if err != nil {
		sniffFailuresTotal.Inc()
		return
	}
	var conn net.Conn = pc
	counter := connsHTTP1Total
	if p == protoH2 {
		counter = connsH2CTotal
	}
	if p == protoTLS {
		tc := tls.Server(pc, s.tls)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			tlsFailuresTotal.Inc()
			s.log.Debug("httpapi: TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			p, conn, counter = protoH2, tc, connsTLSH2Total
		} else {
			pc2 := &peekConn{Conn: tc}
			if p, err = pc2.sniff(false); err != nil {
				sniffFailuresTotal.Inc()
				_ = tc.Close()
				return
			}
			conn, counter = pc2, connsTLSHTTP1Total
			if p == protoH2 {
				counter = connsTLSH2NoALPNTotal
			}
		}
	}
	counter.Inc()
	if err := c.SetDeadline(time.Time{}); err != nil {
		return
	}
	s.mu.Lock()
	closing := s.closing
	delete(s.sniffing, c)
	s.mu.Unlock()
	if closing {
		return
	}
	handedOff = true
	if p == protoH2 {
		s.serveH2(conn, nil, nil)
		return
	}
	if !s.h1.handOff(conn) {
		_ = conn.Close()
	}
}

// serveH2 serves HTTP/2 on c until it closes; up and settings are the
// first request and the HTTP2-Settings of an h2c Upgrade.
func (s *Server) serveH2(c net.Conn, up *http.Request, settings []byte) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	//nolint:staticcheck // ServeConn: see the comment at the top of this file.
	s.h2.ServeConn(c, &http2.ServeConnOpts{
		BaseConfig:     s.h2base,
		Handler:        s,
		UpgradeRequest: up,
		Settings:       settings,
	})
	_ = c.Close()
}

// isH2CUpgrade reports whether an HTTP/1.1 request asks for the h2c
// Upgrade (RFC 7540 3.2).
func isH2CUpgrade(h *fasthttp.RequestHeader) bool {
	up := h.Peek("Upgrade")
	if len(up) == 0 {
		return false
	}
	return hasToken(up, "h2c") && hasToken(h.Peek("Connection"), "HTTP2-Settings") && len(h.Peek("HTTP2-Settings")) > 0
}

// hasToken reports whether the comma-separated list v holds token
// (case-insensitive).
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}

// upgradeH2C answers an h2c Upgrade request with 101 and serves the
// connection as HTTP/2 from then on; the request itself is answered as
// the HTTP/2 stream 1. A request with bad HTTP2-Settings is served as
// plain HTTP/1.1 (a server may ignore an Upgrade).
func (s *Server) upgradeH2C(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	settings, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(h.Peek("HTTP2-Settings"), "=")))
	s.mu.Lock()
	closing, serving := s.closing, s.h2 != nil
	s.mu.Unlock()
	if err != nil || closing || !serving {
		// Not through Serve (Handler on a caller's fasthttp.Server): no
		// HTTP/2 server to switch to.
		s.handleKinesis(ctx)
		return
	}
	u, err := url.ParseRequestURI(string(h.RequestURI()))
	if err != nil {
		s.handleKinesis(ctx)
		return
	}
	hdr := make(http.Header)
	for k, v := range h.All() {
		if string(k) == "Host" {
			continue
		}
		hdr.Add(string(k), string(v))
	}
	body := bytes.Clone(ctx.Request.Body())
	r := &http.Request{
		Method:        string(h.Method()),
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        hdr,
		Host:          string(h.Host()),
		RequestURI:    string(h.RequestURI()),
		RemoteAddr:    ctx.RemoteAddr().String(),
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
	}
	ctx.SetStatusCode(fasthttp.StatusSwitchingProtocols)
	ctx.Response.Header.Set("Connection", "Upgrade")
	ctx.Response.Header.Set("Upgrade", "h2c")
	ctx.Hijack(func(c net.Conn) {
		connsH2CUpgradeTotal.Inc()
		_ = c.SetDeadline(time.Time{})
		s.serveH2(c, r, settings)
	})
}

// Shutdown stops the listeners of Serve and waits for the requests in
// flight to finish (HTTP/1.1 and HTTP/2: HTTP/2 connections get a GOAWAY).
// It does not close the Manager.
func (s *Server) Shutdown() error { return s.ShutdownContext(context.Background()) }

// ShutdownContext is Shutdown that gives up waiting when ctx is done: it
// then closes the remaining connections and returns ctx's error.
func (s *Server) ShutdownContext(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	// Live subscriptions end now, cleanly (their clients re-subscribe
	// elsewhere or later); new ones are refused. Their requests are then
	// no longer in flight, so the graceful shutdown below does not wait
	// for the 5-minute lifetime.
	if s.cfg.Fanout != nil {
		_ = s.cfg.Fanout.Close()
	}
	// Connections still being sniffed have sent no request yet.
	for c := range s.sniffing {
		_ = c.Close()
	}
	srv, h2base := s.srv, s.h2base
	s.mu.Unlock()
	defer s.subCancel()
	if srv == nil {
		s.waitSubscriptions(ctx)
		return nil
	}
	// GOAWAY to the HTTP/2 connections (h2base serves none itself, so this
	// returns at once).
	err := h2base.Shutdown(ctx)
	if ferr := srv.ShutdownWithContext(ctx); ferr != nil {
		err = errors.Join(err, ferr)
	}
	<-s.h1done
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return errors.Join(err, s.waitSubscriptions(ctx))
		case <-tick.C:
			// A connection that started just before the first GOAWAY
			// round may have missed it.
			_ = h2base.Shutdown(ctx)
		case <-ctx.Done():
			s.mu.Lock()
			for c := range s.conns {
				_ = c.Close()
			}
			s.mu.Unlock()
			<-done
			_ = s.waitSubscriptions(ctx) // ctx is done: cancels and closes them
			return errors.Join(err, ctx.Err())
		}
	}
}

// peekConn is a net.Conn whose first bytes were read to sniff the protocol
// and are read again by the protocol server.
type peekConn struct {
	net.Conn
	buf []byte
	off int
}

var h2Preface = []byte(http2.ClientPreface)

// sniff reads until the bytes tell the protocol: the whole HTTP/2 preface,
// a TLS handshake record (when tlsOK) or a byte that differs from the
// preface. The caller sets the read deadline.
func (p *peekConn) sniff(tlsOK bool) (protocol, error) {
	p.buf = make([]byte, 0, len(h2Preface))
	for {
		n, err := p.Conn.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		if len(p.buf) > 0 {
			switch {
			case tlsOK && p.buf[0] == 0x16:
				return protoTLS, nil
			case !bytes.HasPrefix(h2Preface, p.buf):
				return protoH1, nil
			case len(p.buf) == len(h2Preface):
				return protoH2, nil
			}
		}
		if err != nil {
			return 0, err
		}
	}
}

func (p *peekConn) Read(b []byte) (int, error) {
	if p.off < len(p.buf) {
		n := copy(b, p.buf[p.off:])
		p.off += n
		if p.off == len(p.buf) {
			p.buf, p.off = nil, 0
		}
		return n, nil
	}
	return p.Conn.Read(b)
}

// chanListener is the net.Listener fasthttp serves: route hands it the
// HTTP/1.1 connections.
type chanListener struct {
	addr      net.Addr
	ch        chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

// handOff gives c to the Accept of fasthttp; false after Close.
func (l *chanListener) handOff(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// Connections by how they were told apart (TLS ones count after the
// handshake; h2c Upgrades also counted as http1 when they arrived).
var (
	connsHTTP1Total       = metrics.NewCounter(`sluice_api_connections_total{protocol="http1"}`)
	connsH2CTotal         = metrics.NewCounter(`sluice_api_connections_total{protocol="h2c"}`)
	connsH2CUpgradeTotal  = metrics.NewCounter(`sluice_api_connections_total{protocol="h2c_upgrade"}`)
	connsTLSH2Total       = metrics.NewCounter(`sluice_api_connections_total{protocol="tls_h2"}`)
	connsTLSHTTP1Total    = metrics.NewCounter(`sluice_api_connections_total{protocol="tls_http1"}`)
	connsTLSH2NoALPNTotal = metrics.NewCounter(`sluice_api_connections_total{protocol="tls_h2_prior_knowledge"}`)
	sniffFailuresTotal    = metrics.NewCounter(`sluice_api_sniff_failures_total`)
	tlsFailuresTotal      = metrics.NewCounter(`sluice_api_tls_handshake_failures_total`)
)

// waitSubscriptions waits for the running subscriptions (the HTTP/1.1
// ones run on fasthttp's body stream goroutines, which its shutdown may
// not wait for when their connection failed). When ctx ends first it
// cancels them and waits for them to see it.
func (s *Server) waitSubscriptions(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.subs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.subCancel()
		s.mu.Lock()
		for c := range s.subConns {
			_ = c.Close() // a subscription blocked in a write to a stalled client
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
