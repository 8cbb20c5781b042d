package httpapi

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Encoding is the body encoding of a request; the response (success or
// error) is sent in the same encoding. The dispatcher sets it from the
// Content-Type; it is the one place that decides it.
type Encoding uint8

const (
	// EncodingUnknown is the encoding of a request whose Content-Type is
	// not accepted; its error response is JSON.
	EncodingUnknown Encoding = iota
	// EncodingJSON is application/x-amz-json-1.1 (and application/json).
	EncodingJSON
	// EncodingCBOR is application/x-amz-cbor-1.1 (the Java SDKs' default
	// for Kinesis).
	EncodingCBOR
)

// ContentType is the Content-Type of a response body in e. An unknown
// encoding answers in JSON.
func (e Encoding) ContentType() string {
	if e == EncodingCBOR {
		return contentCBOR
	}
	return contentJSON
}

// Request is one Kinesis API request, independent of the transport that
// carried it (HTTP/1.1 over fasthttp, HTTP/2 over golang.org/x/net/http2).
// The byte slices alias transport buffers: they are valid during the
// handler call only and must be copied to outlive it.
type Request struct {
	// Method is the request method, e.g. "POST".
	Method []byte
	// Path is the request path as sent, still escaped ("/" for the API).
	Path []byte
	// RawQuery is the query string without '?', still escaped.
	RawQuery []byte
	// Host is the Host header on HTTP/1.1 and :authority on HTTP/2 (what
	// SigV4 signs as "host").
	Host []byte
	// Proto is "HTTP/1.1" (or "HTTP/1.0") or "HTTP/2.0"; the first request
	// of an h2c Upgrade is "HTTP/1.1" although answered over HTTP/2.
	Proto string
	// Body is the whole request body.
	Body []byte
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
	// Encoding is the body encoding from the Content-Type, set by the
	// dispatcher before an operation runs.
	Encoding Encoding
	// RequestID is the x-amzn-RequestId of the response.
	RequestID string

	fh   *fasthttp.RequestHeader // HTTP/1.1
	nh   http.Header             // HTTP/2
	ctx  context.Context         // HTTP/2: the request's context (nil on HTTP/1.1)
	auth *authState              // the exchange's SigV4 scratch; nil outside an exchange
}

// Header returns the first value of the header name (case-insensitive), or
// nil. On HTTP/2 it allocates a copy.
func (r *Request) Header(name string) []byte {
	if r.fh != nil {
		return r.fh.Peek(name)
	}
	if r.nh != nil {
		if v := r.nh.Values(name); len(v) > 0 {
			return []byte(v[0])
		}
	}
	return nil
}

// VisitHeaders calls f for every header field of the request, a repeated
// header once per occurrence, names as the transport keeps them (compare
// them case-insensitively). Host is not among them on HTTP/2 (it is the
// :authority pseudo-header there); use Request.Host on both transports.
// On HTTP/1.1 Host is visited too. f must not retain the slices.
func (r *Request) VisitHeaders(f func(name, value []byte)) {
	if r.fh != nil {
		for k, v := range r.fh.All() {
			f(k, v)
		}
		return
	}
	var kb, vb []byte
	for k, vs := range r.nh {
		kb = append(kb[:0], k...)
		for _, v := range vs {
			vb = append(vb[:0], v...)
			f(kb, vb)
		}
	}
}

// reset drops every reference to the transport's buffers.
func (r *Request) reset() { *r = Request{} }

// Response is where an operation writes its one response. It sets
// x-amzn-RequestId itself.
type Response struct {
	ctx       *fasthttp.RequestCtx // HTTP/1.1
	w         http.ResponseWriter  // HTTP/2
	requestID string
	written   bool
}

// SetHeader sets a response header. It must come before Write.
func (w *Response) SetHeader(name, value string) {
	if w.ctx != nil {
		w.ctx.Response.Header.Set(name, value)
	} else {
		w.w.Header().Set(name, value)
	}
}

// Write sends the status, the Content-Type contentType (none if empty),
// x-amzn-RequestId and body; body is copied or written before Write
// returns. Only the first Write of a request counts: it reports whether it
// was the first.
func (w *Response) Write(status int, contentType string, body []byte) bool {
	if w.written {
		return false
	}
	w.written = true
	if w.ctx != nil {
		w.ctx.Response.Header.Set(requestIDHeader, w.requestID)
		w.ctx.SetStatusCode(status)
		if contentType != "" {
			w.ctx.SetContentType(contentType)
		}
		w.ctx.SetBody(body)
		return true
	}
	h := w.w.Header()
	h.Set(requestIDHeader, w.requestID)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.w.WriteHeader(status)
	_, _ = w.w.Write(body)
	return true
}

// Written reports whether Write has been called.
func (w *Response) Written() bool { return w.written }

func (w *Response) reset() { *w = Response{} }

// exchange is a pooled request and response pair: one per request in
// flight, so that dispatch does not allocate them.
type exchange struct {
	req  Request
	resp Response
	body []byte     // the HTTP/2 request body (fasthttp keeps its own)
	auth *authState // bound to &req once, when the exchange is made
}
