package fanout

import (
	"bufio"
	"net/http"

	"github.com/sluicehq/sluice/stream"
)

// StreamWriter is the body of a started event-stream response. The HTTP
// layer provides it after it has sent the response head (status 200,
// Content-Type application/vnd.amazon.eventstream, x-amzn-RequestId, no
// Content-Length). Run writes whole event-stream messages with Write and
// calls Flush after every message, so each reaches the client at once.
// A Write or Flush error (the client went away) ends the subscription.
//
// Writes may block while the client does not read (TCP or HTTP/2 flow
// control): that blocks only this subscription, which is the backpressure
// a slow consumer gets.
type StreamWriter = stream.EventWriter

// ResponseStarter starts the event-stream response: Start sends the
// response head (see StreamWriter) and returns the body writer. It is
// called only after the request passed every pre-stream check, so an error
// before it can still become an ordinary HTTP 400 JSON error.
type ResponseStarter interface {
	Start() (StreamWriter, error)
}

// NewBufioStreamWriter adapts the *bufio.Writer that fasthttp hands to a
// RequestCtx.SetBodyStreamWriter callback: Flush flushes the buffer to the
// connection (fasthttp sends it as HTTP/1.1 chunks).
func NewBufioStreamWriter(w *bufio.Writer) StreamWriter { return bufioWriter{w} }

type bufioWriter struct{ *bufio.Writer }

// NewHTTPStreamWriter adapts a net/http ResponseWriter (HTTP/1.1 chunked,
// h2c or h2) whose head the caller has written: Flush goes through
// http.ResponseController, which reaches the connection through wrapping
// middleware writers that implement Unwrap.
func NewHTTPStreamWriter(w http.ResponseWriter) StreamWriter {
	return &httpWriter{w: w, rc: http.NewResponseController(w)}
}

// httpChunk is the most an httpWriter hands net/http in one Write.
const httpChunk = 32 << 10

type httpWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte // httpChunk bytes, made by the first Write
}

// Write copies p to the ResponseWriter through buf, httpChunk bytes at a
// time. golang.org/x/net/http2's server keeps the slice of a write that was
// in flight when its connection died reachable afterwards: handed the
// subscription's event buffer (up to about 1.5 MiB), it held one per
// subscription whose client stopped reading and went away, and the
// server's memory grew with their number (TestCmdFanoutStalledConsumer in
// cmd/sluice). Copying through a small buffer bounds that to httpChunk.
func (h *httpWriter) Write(p []byte) (int, error) {
	if h.buf == nil {
		h.buf = make([]byte, httpChunk)
	}
	n := 0
	for len(p) > 0 {
		c := copy(h.buf, p)
		if _, err := h.w.Write(h.buf[:c]); err != nil {
			return n, err
		}
		n, p = n+c, p[c:]
	}
	return n, nil
}

func (h *httpWriter) Flush() error { return h.rc.Flush() }

// HTTPResponseStarter is a ResponseStarter for net/http: Start sets the
// event-stream Content-Type and x-amzn-RequestId (RequestID, if not
// empty), writes status 200 and flushes the head.
type HTTPResponseStarter struct {
	W         http.ResponseWriter
	RequestID string
}

// Start implements ResponseStarter.
func (s HTTPResponseStarter) Start() (StreamWriter, error) {
	h := s.W.Header()
	h.Set("Content-Type", "application/vnd.amazon.eventstream")
	if s.RequestID != "" {
		h.Set("x-amzn-RequestId", s.RequestID)
	}
	s.W.WriteHeader(http.StatusOK)
	w := NewHTTPStreamWriter(s.W)
	return w, w.Flush()
}
