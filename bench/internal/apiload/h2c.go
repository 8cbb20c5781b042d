package apiload

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// H2CConn is one HTTP/2 cleartext connection with prior knowledge (the
// connection preface, no Upgrade) to one server, shared by several
// streams (NewStream). It is a golang.org/x/net/http2 Transport of its own
// with AllowHTTP and a DialTLSContext that dials plain TCP, and
// StrictMaxConcurrentStreams, so a stream beyond the server's limit waits
// for a slot instead of opening a second connection: the number of
// connections stays bounded by the number of H2CConns. After a dropped
// connection the transport dials again. Dials counts the connections
// opened.
type H2CConn struct {
	tr    *http2.Transport
	uri   string
	Dials atomic.Int64
}

// NewH2CConn returns an h2c connection to addr (host:port), dialled on
// first use.
func NewH2CConn(addr string) *H2CConn {
	h := &H2CConn{uri: "http://" + addr + "/"}
	h.tr = &http2.Transport{
		AllowHTTP:                  true,
		StrictMaxConcurrentStreams: true,
		DialTLSContext: func(ctx context.Context, network, a string, _ *tls.Config) (net.Conn, error) {
			h.Dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, a)
		},
	}
	return h
}

// Close closes the connection.
func (h *H2CConn) Close() { h.tr.CloseIdleConnections() }

// NewStream returns a Conn whose requests are streams of h, sending
// bodies of Content-Type codec. Streams of one H2CConn may be used
// concurrently, one goroutine each.
func (h *H2CConn) NewStream(codec string) Conn { return &h2cStream{h: h, codec: codec} }

type h2cStream struct {
	h     *H2CConn
	codec string
	buf   bytes.Buffer
}

// h2cTimeout bounds one request, as the HTTP/1.1 client's read and write
// timeouts do.
const h2cTimeout = 30 * time.Second

func (s *h2cStream) Do(op string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), h2cTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.h.uri, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", s.codec)
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("X-Amz-Date", "20261129T000000Z")
	req.Header.Set("Authorization", authorization)
	resp, err := s.h.tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	s.buf.Reset()
	if _, err := s.buf.ReadFrom(io.LimitReader(resp.Body, 64<<20)); err != nil {
		return nil, err
	}
	b := s.buf.Bytes()
	if resp.StatusCode != http.StatusOK {
		if len(b) > 300 {
			b = b[:300]
		}
		return nil, &httpError{msg: fmt.Sprintf("%s: HTTP %d (h2c): %s", op, resp.StatusCode, quoteBody(s.codec, b))}
	}
	if resp.ProtoMajor != 2 {
		return nil, &httpError{msg: fmt.Sprintf("%s: answered over %s, not HTTP/2", op, resp.Proto), verify: true}
	}
	if err := checkContentType(s.codec, op, []byte(resp.Header.Get("Content-Type"))); err != nil {
		return nil, err
	}
	return b, nil
}

// redial: the transport drops a broken connection itself and dials again.
func (s *h2cStream) redial() {}

func (s *h2cStream) Close() {}

// NewConn returns one Conn to addr sending Content-Type codec: an HTTP/1.1
// Client, or (h2c) the one stream of a new h2c connection, closed with it.
func NewConn(addr, codec string, h2c bool) Conn {
	if !h2c {
		return NewCodecClient(addr, codec)
	}
	h := NewH2CConn(addr)
	return &ownedStream{Conn: h.NewStream(codec), h: h}
}

type ownedStream struct {
	Conn
	h *H2CConn
}

func (s *ownedStream) Close() { s.h.Close() }
