package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
	"golang.org/x/net/http2"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
	"github.com/sluicehq/sluice/wire/sigv4"
)

const (
	// DefaultMaxBodyBytes is the default Config.MaxBodyBytes: a 10 MiB
	// PutRecords request (a stream for records over 1 MiB) in base64 JSON
	// is 13.4 MiB, plus the members' names and keys.
	DefaultMaxBodyBytes = 16 << 20

	targetPrefix = "Kinesis_20131202."
	contentJSON  = "application/x-amz-json-1.1"
	contentCBOR  = "application/x-amz-cbor-1.1"

	// codeNotImplemented is the error code of the operations of the model
	// that this server does not implement yet (status 501).
	codeNotImplemented = "NotImplemented"
)

// Config configures a Server.
type Config struct {
	// Manager serves every operation. Required.
	Manager *stream.Manager
	// Region and AccountID appear in error messages and ARNs. They should
	// match the Manager's. Defaults "us-east-1" and "000000000000".
	Region, AccountID string
	// MaxBodyBytes bounds a request body. Default DefaultMaxBodyBytes.
	MaxBodyBytes int
	// Logger receives internal failures (with their request id). Default
	// slog.Default().
	Logger *slog.Logger
	// Ops, if set, serves the GET and HEAD requests (the operational
	// endpoints such as /healthz) on both transports; without it they get
	// the Kinesis API's 403.
	Ops http.Handler
	// TLSConfig, if set with at least one certificate, makes Serve accept
	// TLS connections on the same listener too, with ALPN h2 and
	// http/1.1. Serve clones it.
	TLSConfig *tls.Config
	// SniffTimeout bounds how long a new connection may take to send the
	// bytes that tell its protocol (and, for TLS, to finish the
	// handshake). Default DefaultSniffTimeout.
	SniffTimeout time.Duration
	// ReadTimeout and IdleTimeout bound reading one request and waiting
	// for the next on a kept-alive connection (both transports). Default
	// 2 minutes each.
	ReadTimeout, IdleTimeout time.Duration
	// Verifier, if set, verifies the SigV4 signature of every API request
	// (after the method, content type and operation checks, before the
	// body is decoded, as kinesalite orders them after real AWS); a
	// failure answers AWS's MissingAuthenticationTokenException,
	// IncompleteSignatureException, InvalidSignatureException or
	// UnrecognizedClientException. Without it any signature, or none, is
	// accepted.
	Verifier *sigv4.Verifier
	// Now is the clock of the signature date check. Default time.Now.
	Now func() time.Time
	// Fanout, if set, serves SubscribeToShard's event stream (on every
	// transport); without it SubscribeToShard validates its input and
	// answers 501. It is the fanout package's Server, which cmd/sluice
	// passes in (ingress never imports fanout). Shutdown closes it, which ends
	// the live subscriptions cleanly; it is built over the same Manager.
	Fanout stream.Subscriber
}

// Server is the Kinesis HTTP API front end. It is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	ops map[string]opFunc

	opsFast      fasthttp.RequestHandler // Ops through fasthttpadaptor
	exchangePool sync.Pool               // *exchange
	h2Requests   atomic.Int64            // requests served over HTTP/2 (for tests and metrics)

	// subCtx is the context of the subscriptions that run on fasthttp's
	// body stream writers (HTTP/1.1); Shutdown cancels it after the
	// graceful end if they are still running. subs counts the running
	// subscriptions of both transports (Add under mu, not once closing).
	subCtx    context.Context
	subCancel context.CancelFunc
	subs      sync.WaitGroup
	subConns  map[net.Conn]struct{} // under mu: the connections of HTTP/1.1 subscriptions

	mu        sync.Mutex
	srv       *fasthttp.Server
	h1        *chanListener // the HTTP/1.1 connections handed to srv
	h2        *http2.Server
	h2base    *http.Server // the configuration of h2, and its graceful shutdown
	tls       *tls.Config
	h1done    chan struct{} // closed when srv.Serve(h1) has returned
	listeners map[net.Listener]struct{}
	sniffing  map[net.Conn]struct{} // connections whose protocol is not known yet
	conns     map[net.Conn]struct{} // HTTP/2 connections being served
	closing   bool
	wg        sync.WaitGroup // accept loops, sniffers and HTTP/2 connections

	putRecordPool        sync.Pool   // *putRecordState
	putRecordsPool       sync.Pool   // *putRecordsState
	getShardIteratorPool sync.Pool   // *kinesis.GetShardIteratorRequest
	getRecordsPool       sync.Pool   // *getRecordsState
	largeBufs            chan []byte // large GetRecords response buffers (largeBufCount)
}

// opFunc runs one operation: it decodes req.Body (in req.Encoding), calls
// the manager and writes a success response to resp (writeOK), or returns
// the error to send (the dispatcher writes it).
type opFunc func(s *Server, req *Request, resp *Response) error

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Manager == nil {
		return nil, errors.New("httpapi: Config.Manager is nil")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, errors.New("httpapi: Config.MaxBodyBytes is negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SniffTimeout <= 0 {
		cfg.SniffTimeout = DefaultSniffTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 2 * time.Minute
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ops: make(map[string]opFunc, len(operations))}
	s.subCtx, s.subCancel = context.WithCancel(context.Background())
	for _, op := range operations {
		s.ops[op] = nil
	}
	for op, f := range implemented {
		s.ops[op] = f
	}
	if cfg.Ops != nil {
		s.opsFast = fasthttpadaptor.NewFastHTTPHandler(cfg.Ops)
	}
	s.exchangePool.New = func() any {
		x := new(exchange)
		x.auth = newAuthState(&x.req)
		return x
	}
	s.putRecordPool.New = func() any { return new(putRecordState) }
	s.putRecordsPool.New = func() any { return new(putRecordsState) }
	s.getShardIteratorPool.New = func() any { return new(kinesis.GetShardIteratorRequest) }
	s.getRecordsPool.New = func() any { return new(getRecordsState) }
	s.largeBufs = make(chan []byte, largeBufCount)
	return s, nil
}

// operations are the 39 operations of the current Kinesis Data Streams
// model (KINESIS_API.md section 2), in that document's order.
var operations = []string{
	"CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams",
	"PutRecord", "PutRecords", "GetShardIterator", "GetRecords",
	"ListShards", "SplitShard", "MergeShards", "UpdateShardCount",
	"RegisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers", "DeregisterStreamConsumer", "SubscribeToShard",
	"StartStreamEncryption", "StopStreamEncryption",
	"AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream", "TagResource", "UntagResource", "ListTagsForResource",
	"IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod",
	"UpdateStreamMode", "UpdateStreamWarmThroughput", "UpdateMaxRecordSize",
	"EnableEnhancedMonitoring", "DisableEnhancedMonitoring",
	"PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy",
	"DescribeLimits", "DescribeAccountSettings", "UpdateAccountSettings",
}

// implemented maps the operations this slice serves to their handlers.
var implemented = map[string]opFunc{
	"PutRecord":             (*Server).putRecord,
	"PutRecords":            (*Server).putRecords,
	"GetShardIterator":      (*Server).getShardIterator,
	"GetRecords":            (*Server).getRecords,
	"CreateStream":          (*Server).createStream,
	"DeleteStream":          (*Server).deleteStream,
	"DescribeStream":        (*Server).describeStream,
	"DescribeStreamSummary": (*Server).describeStreamSummary,
	"ListStreams":           (*Server).listStreams,
	"ListShards":            (*Server).listShards,
}

// Handler returns the HTTP/1.1 request handler (the one Serve runs on
// fasthttp), for callers that run their own fasthttp.Server. It does not
// enforce the body size limit at the transport, and its h2c Upgrade needs
// Serve's connection tracking: use Serve where possible.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handleFast }

// handleFast serves one HTTP/1.1 request from fasthttp: GET and HEAD go
// to Config.Ops when it is set, an h2c Upgrade switches the connection to
// HTTP/2, everything else goes to the Kinesis dispatch.
func (s *Server) handleFast(ctx *fasthttp.RequestCtx) {
	if s.opsFast != nil && (ctx.IsGet() || ctx.IsHead()) {
		s.opsFast(ctx)
		return
	}
	if isH2CUpgrade(&ctx.Request.Header) {
		s.upgradeH2C(ctx)
		return
	}
	s.handleKinesis(ctx)
}

// handleKinesis runs the Kinesis dispatch on a fasthttp request.
func (s *Server) handleKinesis(ctx *fasthttp.RequestCtx) {
	x := s.exchangePool.Get().(*exchange)
	h := &ctx.Request.Header
	uri := ctx.Request.URI()
	x.req = Request{
		Method: h.Method(), Path: uri.PathOriginal(), RawQuery: uri.QueryString(), Host: h.Host(),
		Proto: protoHTTP11, Body: ctx.Request.Body(), RemoteAddr: ctx.RemoteAddr(), fh: h, auth: x.auth,
	}
	if !h.IsHTTP11() {
		x.req.Proto = "HTTP/1.0"
	}
	x.resp = Response{ctx: ctx}
	s.dispatch(&x.req, &x.resp)
	x.req.reset()
	x.resp.reset()
	s.exchangePool.Put(x)
}

// ServeHTTP serves one request from net/http (the HTTP/2 connections of
// Serve): GET and HEAD go to Config.Ops when it is set, everything else to
// the Kinesis dispatch. It can serve any net/http server, but Shutdown
// waits only for the requests of Serve's connections.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A handler may outlive its connection's ServeConn (a client that
	// goes away mid-request); Shutdown waits for it too, so that the
	// Manager is not closed under it. The count is above zero here (the
	// connection's serveH2 holds one), so Add is safe during Wait.
	s.wg.Add(1)
	defer s.wg.Done()
	if s.cfg.Ops != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.cfg.Ops.ServeHTTP(w, r)
		return
	}
	s.h2Requests.Add(1)
	x := s.exchangePool.Get().(*exchange)
	defer func() {
		x.req.reset()
		x.resp.reset()
		if cap(x.body) > 1<<20 {
			x.body = nil // do not pin the memory of one large request
		}
		s.exchangePool.Put(x)
	}()
	var remote net.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		remote = net.TCPAddrFromAddrPort(ap)
	}
	// The path and query as sent (:path), which SigV4 signs; the parsed
	// URL may escape differently.
	path, query := r.RequestURI, ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		path, query = r.URL.EscapedPath(), r.URL.RawQuery
	}
	x.req = Request{
		Method: []byte(r.Method), Path: []byte(path), RawQuery: []byte(query),
		Host: []byte(r.Host), Proto: r.Proto, RemoteAddr: remote, nh: r.Header, auth: x.auth,
		ctx: r.Context(),
	}
	x.resp = Response{w: w}
	// The body limit: read one byte more than allowed to tell a body at
	// the limit from one over it. The buffer is the exchange's, reused.
	body, err := readBody(x.body[:0], r, s.cfg.MaxBodyBytes+1)
	x.body = body
	if err != nil {
		x.resp.requestID = newUUID()
		x.req.RequestID = x.resp.requestID
		s.writeError(&x.req, &x.resp, kinesis.Serialization("cannot read the request: "+err.Error()))
		return
	}
	x.req.Body = body
	s.dispatch(&x.req, &x.resp)
}

const protoHTTP11 = "HTTP/1.1"

// readBody appends at most limit bytes of r's body to buf.
func readBody(buf []byte, r *http.Request, limit int) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= int64(limit) && int64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// transportError answers requests that fasthttp could not read.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	var e *kinesis.Error
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		e = bodyTooLarge(s.cfg.MaxBodyBytes)
	} else {
		e = kinesis.Serialization("cannot read the request: " + err.Error())
	}
	ctx.Response.Reset()
	req := Request{RequestID: newUUID()}
	resp := Response{ctx: ctx, requestID: req.RequestID}
	s.writeError(&req, &resp, e)
}

func bodyTooLarge(limit int) *kinesis.Error {
	e := kinesis.InvalidArgument("The request body exceeds the limit of " + strconv.Itoa(limit) + " bytes.")
	e.Status = fasthttp.StatusRequestEntityTooLarge
	return e
}

// dispatch runs one request in the order of KINESIS_API.md 1.1. Both
// transports come here.
func (s *Server) dispatch(req *Request, resp *Response) {
	req.RequestID = newUUID()
	resp.requestID = req.RequestID
	// 1. Method.
	if string(req.Method) != http.MethodPost {
		e := kinesis.AccessDenied("Unable to determine service/operation name to be authorized")
		e.Status = fasthttp.StatusForbidden
		s.writeError(req, resp, e)
		return
	}
	// 2. Content type: the request's encoding, which is also the
	// response's (errors included).
	req.Encoding = encodingOf(req.Header("Content-Type"))
	switch req.Encoding {
	case EncodingJSON, EncodingCBOR:
	default:
		e := kinesis.UnknownOperation()
		e.Status = fasthttp.StatusNotFound
		s.writeError(req, resp, e)
		return
	}
	target := req.Header("X-Amz-Target")
	var op []byte
	var f opFunc
	known := false
	if bytes.HasPrefix(target, []byte(targetPrefix)) {
		op = target[len(targetPrefix):]
		f, known = s.ops[string(op)] // no allocation: the conversion is in the index
	}
	// 3. Empty body; the body size limit.
	body := req.Body
	if len(body) == 0 {
		if known {
			s.writeError(req, resp, kinesis.Serialization("The request body is empty."))
		} else {
			s.writeError(req, resp, kinesis.UnknownOperation())
		}
		return
	}
	if len(body) > s.cfg.MaxBodyBytes {
		s.writeError(req, resp, bodyTooLarge(s.cfg.MaxBodyBytes))
		return
	}
	// 5. Operation (4, unparseable bodies, is each decoder's first check).
	if !known {
		s.writeError(req, resp, kinesis.UnknownOperation())
		return
	}
	// 6. Authentication (kinesalite, after real AWS: once the operation
	// is known, before the body's members are looked at).
	if e := s.verify(req); e != nil {
		s.writeError(req, resp, e)
		return
	}
	if f == nil {
		s.writeError(req, resp, &kinesis.Error{Code: codeNotImplemented, Message: "not implemented: " + string(op), Status: fasthttp.StatusNotImplemented})
		return
	}
	err := f(s, req, resp)
	if err != nil {
		s.writeError(req, resp, s.toAWS(req, err))
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.logRequest(req, op, err)
	}
}

// logRequest logs a dispatched request at debug level, with the AWS SDKs'
// amz-sdk-invocation-id and amz-sdk-request ("attempt=2; max=3") headers:
// a client's retry of a call shows as a second line with the same
// invocation id.
func (s *Server) logRequest(req *Request, op []byte, err error) {
	remote := ""
	if req.RemoteAddr != nil {
		remote = req.RemoteAddr.String()
	}
	s.log.Debug("httpapi: request", "operation", string(op), "requestId", req.RequestID,
		"sdkInvocationId", string(req.Header("Amz-Sdk-Invocation-Id")), "sdkRequest", string(req.Header("Amz-Sdk-Request")),
		"bodyBytes", len(req.Body), "remote", remote, "err", err)
}

// encodingOf returns the encoding a Content-Type value names: the media
// type without parameters, case-insensitive.
func encodingOf(ct []byte) Encoding {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	switch {
	case bytes.EqualFold(ct, []byte(contentJSON)), bytes.EqualFold(ct, []byte("application/json")):
		return EncodingJSON
	case bytes.EqualFold(ct, []byte(contentCBOR)):
		return EncodingCBOR
	}
	return EncodingUnknown
}

// writeOK sends a 200 response with body, which is in the request's
// encoding (or empty).
func writeOK(req *Request, resp *Response, body []byte) {
	resp.Write(fasthttp.StatusOK, req.Encoding.ContentType(), body)
}

// writeError sends the error response of e (KINESIS_API.md 1.4) in the
// request's encoding. An error after the response was written is logged
// and dropped.
func (s *Server) writeError(req *Request, resp *Response, e *kinesis.Error) {
	if resp.Written() {
		s.log.Error("httpapi: error after the response was written", "requestId", req.RequestID, "err", e.Error())
		return
	}
	resp.SetHeader("X-Amzn-ErrorType", e.Code)
	resp.Write(e.Status, req.Encoding.ContentType(), kinesis.AppendError(wireEncoding(req.Encoding), nil, e))
}

const requestIDHeader = "x-amzn-RequestId"

// newUUID returns a random RFC 9562 version 4 UUID from crypto/rand.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexdigits[c>>4], hexdigits[c&0x0f]
		j += 2
	}
	return string(out[:])
}
