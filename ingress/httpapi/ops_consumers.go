package httpapi

import (
	"bufio"
	"context"
	"net"
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/eventstream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// The enhanced fan-out consumer operations (KINESIS_API.md 2.4, 4.1):
// RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers,
// DeregisterStreamConsumer, and SubscribeToShard over the fanout package
// (Config.Fanout). The rules (names, limits,
// ARNs, CREATING until Config.ConsumerActivationDelay has passed) are the
// Manager's (stream/consumers.go).

func init() {
	implemented["RegisterStreamConsumer"] = (*Server).registerStreamConsumer
	implemented["DescribeStreamConsumer"] = (*Server).describeStreamConsumer
	implemented["ListStreamConsumers"] = (*Server).listStreamConsumers
	implemented["DeregisterStreamConsumer"] = (*Server).deregisterStreamConsumer
	if implemented["SubscribeToShard"] == nil { // a real implementation wins
		implemented["SubscribeToShard"] = (*Server).subscribeToShard
	}
}

func (s *Server) registerStreamConsumer(in *Request, out *Response) error {
	var req kinesis.RegisterStreamConsumerInput
	if err := decodeModel(in, "RegisterStreamConsumer", &req); err != nil {
		return err
	}
	c, err := s.cfg.Manager.RegisterStreamConsumer(req.StreamARN, req.ConsumerName, req.Tags)
	if err != nil {
		return arnErr(err, req.StreamARN)
	}
	return writeModel(in, out, &kinesis.RegisterStreamConsumerOutput{Consumer: wireConsumer(&c)})
}

func (s *Server) describeStreamConsumer(in *Request, out *Response) error {
	var req kinesis.DescribeStreamConsumerInput
	if err := decodeModel(in, "DescribeStreamConsumer", &req); err != nil {
		return err
	}
	c, err := s.cfg.Manager.DescribeStreamConsumer(optStr(req.StreamARN), optStr(req.ConsumerName), optStr(req.ConsumerARN))
	if err != nil {
		return arnErr(err, firstARN(req.ConsumerARN, req.StreamARN))
	}
	return writeModel(in, out, &kinesis.DescribeStreamConsumerOutput{ConsumerDescription: kinesis.ConsumerDescription{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: kinesis.Timestamp(c.CreatedMillis),
		StreamARN:                 c.StreamARN,
	}})
}

func (s *Server) listStreamConsumers(in *Request, out *Response) error {
	var req kinesis.ListStreamConsumersInput
	if err := decodeModel(in, "ListStreamConsumers", &req); err != nil {
		return err
	}
	maxResults := 0 // the Manager's default, stream.DefaultListConsumers
	if req.MaxResults != nil {
		maxResults = int(*req.MaxResults)
	}
	var created int64
	if req.StreamCreationTimestamp != nil {
		created = req.StreamCreationTimestamp.Millis()
	}
	cs, next, err := s.cfg.Manager.ListStreamConsumers(req.StreamARN, optStr(req.NextToken), maxResults, created)
	if err != nil {
		return arnErr(err, req.StreamARN)
	}
	resp := kinesis.ListStreamConsumersOutput{Consumers: make([]kinesis.Consumer, len(cs))}
	for i := range cs {
		resp.Consumers[i] = wireConsumer(&cs[i])
	}
	if next != "" {
		resp.NextToken = &next
	}
	return writeModel(in, out, &resp)
}

func (s *Server) deregisterStreamConsumer(in *Request, out *Response) error {
	var req kinesis.DeregisterStreamConsumerInput
	if err := decodeModel(in, "DeregisterStreamConsumer", &req); err != nil {
		return err
	}
	err := s.cfg.Manager.DeregisterStreamConsumer(optStr(req.StreamARN), optStr(req.ConsumerName), optStr(req.ConsumerARN))
	if err != nil {
		return arnErr(err, firstARN(req.ConsumerARN, req.StreamARN))
	}
	return writeModel(in, out, nil)
}

func wireConsumer(c *stream.ConsumerInfo) kinesis.Consumer {
	return kinesis.Consumer{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: kinesis.Timestamp(c.CreatedMillis),
	}
}

// firstARN returns the first of the ARNs that is set, for error texts.
func firstARN(arns ...*string) string {
	for _, a := range arns {
		if a != nil && *a != "" {
			return *a
		}
	}
	return ""
}

// subscribeToShard serves SubscribeToShard through Config.Fanout
// (KINESIS_API.md 4.2-4.7): the request is decoded and checked against the
// model here, then Config.Fanout.Subscribe (the fanout package) does the pre-stream checks, whose
// failures are ordinary error responses (toAWS). After that the response
// is 200 application/vnd.amazon.eventstream and the subscription runs:
// on HTTP/1.1 (fasthttp) in its body stream writer, chunked, after this
// returns; on HTTP/2 (h2c, h2 over TLS, the first request of an h2c
// Upgrade) in this call, on the request's goroutine, until it ends. The
// event payloads are in the request's encoding. Without Config.Fanout it
// answers 501.
func (s *Server) subscribeToShard(in *Request, out *Response) error {
	var req kinesis.SubscribeToShardInput
	if err := decodeModel(in, "SubscribeToShard", &req); err != nil {
		return err
	}
	if s.cfg.Fanout == nil {
		return &kinesis.Error{Code: codeNotImplemented, Message: "not implemented: SubscribeToShard", Status: fasthttp.StatusNotImplemented}
	}
	fr := stream.SubscribeRequest{
		ConsumerARN: req.ConsumerARN,
		ShardID:     req.ShardId,
		StartingPosition: stream.SubscribePosition{
			Type:           req.StartingPosition.Type,
			SequenceNumber: optStr(req.StartingPosition.SequenceNumber),
		},
		CBOR: in.Encoding == EncodingCBOR,
	}
	if ts := req.StartingPosition.Timestamp; ts != nil {
		fr.StartingPosition.TimestampMillis, fr.StartingPosition.HasTimestamp = ts.Millis(), true
	}
	sub, err := s.cfg.Fanout.Subscribe(fr)
	if err != nil {
		return callErr(err, streamOfARN(req.ConsumerARN), req.ShardId)
	}
	// Count the subscription for Shutdown, unless it has begun.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		sub.Close()
		return stream.ErrClosed
	}
	s.subs.Add(1)
	var conn net.Conn
	if out.ctx != nil {
		// Shutdown closes it if the subscription is still stuck in a
		// write when its time is up.
		conn = out.ctx.Conn()
		if s.subConns == nil {
			s.subConns = make(map[net.Conn]struct{})
		}
		s.subConns[conn] = struct{}{}
	}
	s.mu.Unlock()
	out.written = true
	requestID := out.requestID
	if rc := out.ctx; rc != nil {
		rc.SetStatusCode(fasthttp.StatusOK)
		rc.SetContentType(eventstream.ContentType)
		rc.Response.Header.Set(requestIDHeader, requestID)
		// fasthttp runs the writer on a goroutine of its own once the
		// head is out, and sends what it writes as chunks: each Flush
		// is one chunk on the wire.
		rc.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer func() {
				s.mu.Lock()
				delete(s.subConns, conn)
				s.mu.Unlock()
				s.subs.Done()
			}()
			s.runSubscription(s.subCtx, sub, w, requestID)
		})
		return nil
	}
	defer s.subs.Done()
	w, err := startEventStream(out.w, requestID)
	if err != nil {
		sub.Close()
		s.log.Debug("httpapi: SubscribeToShard: cannot start the event stream", "requestId", requestID, "err", err)
		return nil
	}
	// The request's context ends when the client resets the stream or
	// the connection goes; Shutdown's cancel ends it too.
	parent := in.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer context.AfterFunc(s.subCtx, cancel)()
	s.runSubscription(ctx, sub, w, requestID)
	return nil
}

// runSubscription runs sub until its stream ends. A client that goes away
// ends it with a write error, which is only logged at debug level.
func (s *Server) runSubscription(ctx context.Context, sub stream.Subscription, w stream.EventWriter, requestID string) {
	if err := sub.Run(ctx, w); err != nil {
		s.log.Debug("httpapi: SubscribeToShard: event stream ended", "requestId", requestID, "err", err)
	}
}

// startEventStream sends the head of an event-stream response on net/http
// (status 200, Content-Type application/vnd.amazon.eventstream,
// x-amzn-RequestId) and returns its body writer, whose Flush goes through
// http.ResponseController.
func startEventStream(w http.ResponseWriter, requestID string) (stream.EventWriter, error) {
	h := w.Header()
	h.Set("Content-Type", eventstream.ContentType)
	h.Set(requestIDHeader, requestID)
	w.WriteHeader(http.StatusOK)
	ew := &httpEventWriter{w: w, rc: http.NewResponseController(w)}
	return ew, ew.Flush()
}

// httpChunk is the most an httpEventWriter hands net/http in one Write.
const httpChunk = 32 << 10

type httpEventWriter struct {
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
func (h *httpEventWriter) Write(p []byte) (int, error) {
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

func (h *httpEventWriter) Flush() error { return h.rc.Flush() }
