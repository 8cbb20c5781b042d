package httpapi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

const (
	// DefaultMaxBodyBytes is the default Config.MaxBodyBytes: a 5 MiB
	// PutRecords request in base64 JSON, with room to spare.
	DefaultMaxBodyBytes = 12 << 20

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
}

// Server is the Kinesis HTTP API front end. It is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	ops map[string]opFunc

	mu  sync.Mutex
	srv *fasthttp.Server

	putRecordPool        sync.Pool // *putRecordState
	putRecordsPool       sync.Pool // *putRecordsState
	getShardIteratorPool sync.Pool // *kinesis.GetShardIteratorRequest
	getRecordsPool       sync.Pool // *getRecordsState
}

// opFunc runs one operation: it decodes body, calls the manager and writes
// a success response to ctx, or returns the error to send.
type opFunc func(s *Server, ctx *fasthttp.RequestCtx, body []byte) error

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
	s := &Server{cfg: cfg, log: cfg.Logger, ops: make(map[string]opFunc, len(operations))}
	for _, op := range operations {
		s.ops[op] = nil
	}
	for op, f := range implemented {
		s.ops[op] = f
	}
	s.putRecordPool.New = func() any { return new(putRecordState) }
	s.putRecordsPool.New = func() any { return new(putRecordsState) }
	s.getShardIteratorPool.New = func() any { return new(kinesis.GetShardIteratorRequest) }
	s.getRecordsPool.New = func() any { return new(getRecordsState) }
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

// Handler returns the request handler. It can be served by any
// fasthttp.Server; Serve adds the body size limit at the transport too.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// Serve accepts HTTP/1.1 connections on ln until Shutdown, or until ln
// fails. It returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.srv == nil {
		s.srv = &fasthttp.Server{
			Handler:               s.handle,
			ErrorHandler:          s.transportError,
			MaxRequestBodySize:    s.cfg.MaxBodyBytes,
			NoDefaultServerHeader: true,
			NoDefaultContentType:  true,
		}
	}
	srv := s.srv
	s.mu.Unlock()
	return srv.Serve(ln)
}

// Shutdown stops the listeners of Serve and waits for the requests in
// flight to finish. It does not close the Manager.
func (s *Server) Shutdown() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown()
}

// transportError answers requests that fasthttp could not read.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	setRequestID(ctx)
	var e *kinesis.Error
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		e = bodyTooLarge(s.cfg.MaxBodyBytes)
	} else {
		e = kinesis.Serialization("cannot read the request: " + err.Error())
	}
	writeError(ctx, e)
}

func bodyTooLarge(limit int) *kinesis.Error {
	e := kinesis.InvalidArgument("The request body exceeds the limit of " + strconv.Itoa(limit) + " bytes.")
	e.Status = fasthttp.StatusRequestEntityTooLarge
	return e
}

// handle dispatches one request in the order of KINESIS_API.md 1.1.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	setRequestID(ctx)
	// 1. Method.
	if !ctx.IsPost() {
		e := kinesis.AccessDenied("Unable to determine service/operation name to be authorized")
		e.Status = fasthttp.StatusForbidden
		writeError(ctx, e)
		return
	}
	// 2. Content type.
	switch mediaType(ctx.Request.Header.ContentType()) {
	case contentJSON, "application/json":
	case contentCBOR:
		e := kinesis.NewError(kinesis.CodeUnknownOperation,
			"The CBOR encoding ("+contentCBOR+") is not supported yet; configure the client to use JSON (Java SDK: aws.cborEnabled=false or AWS_CBOR_DISABLE=true).")
		e.Status = fasthttp.StatusNotFound
		writeError(ctx, e)
		return
	default:
		e := kinesis.UnknownOperation()
		e.Status = fasthttp.StatusNotFound
		writeError(ctx, e)
		return
	}
	target := ctx.Request.Header.Peek("X-Amz-Target")
	op, known := "", false
	if bytes.HasPrefix(target, []byte(targetPrefix)) {
		op = string(target[len(targetPrefix):])
		_, known = s.ops[op]
	}
	// 3. Empty body; the body size limit.
	body := ctx.Request.Body()
	if len(body) == 0 {
		if known {
			writeError(ctx, kinesis.Serialization("The request body is empty."))
		} else {
			writeError(ctx, kinesis.UnknownOperation())
		}
		return
	}
	if len(body) > s.cfg.MaxBodyBytes {
		writeError(ctx, bodyTooLarge(s.cfg.MaxBodyBytes))
		return
	}
	// 5. Operation (4, unparseable bodies, is each decoder's first check).
	if !known {
		writeError(ctx, kinesis.UnknownOperation())
		return
	}
	f := s.ops[op]
	if f == nil {
		writeError(ctx, &kinesis.Error{Code: codeNotImplemented, Message: "not implemented: " + op, Status: fasthttp.StatusNotImplemented})
		return
	}
	if err := f(s, ctx, body); err != nil {
		writeError(ctx, s.toAWS(ctx, err))
	}
}

// mediaType returns the media type of a Content-Type value, lower-cased,
// without parameters.
func mediaType(ct []byte) string {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return string(bytes.ToLower(bytes.TrimSpace(ct)))
}

// writeOK sets a 200 JSON response with body.
func writeOK(ctx *fasthttp.RequestCtx, body []byte) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(contentJSON)
	ctx.SetBody(body)
}

// writeError sets the error response of e (KINESIS_API.md 1.4).
func writeError(ctx *fasthttp.RequestCtx, e *kinesis.Error) {
	ctx.Response.Reset()
	setRequestIDFrom(ctx)
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType(contentJSON)
	ctx.Response.Header.Set("X-Amzn-ErrorType", e.Code)
	ctx.SetBody(kinesis.AppendErrorJSON(nil, e))
}

const requestIDHeader = "x-amzn-RequestId"

// setRequestID gives the request a random UUID (version 4) and sends it
// as x-amzn-RequestId.
func setRequestID(ctx *fasthttp.RequestCtx) {
	id := newUUID()
	ctx.SetUserValue(requestIDKey{}, id)
	ctx.Response.Header.Set(requestIDHeader, id)
}

// setRequestIDFrom sets the header again after a response reset.
func setRequestIDFrom(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set(requestIDHeader, requestID(ctx))
}

type requestIDKey struct{}

func requestID(ctx *fasthttp.RequestCtx) string {
	id, _ := ctx.UserValue(requestIDKey{}).(string)
	return id
}

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
