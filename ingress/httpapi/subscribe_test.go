package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/fanout"
	"github.com/sluicehq/sluice/internal/sdkhttp"
	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/eventstream"
)

// The SubscribeToShard end-to-end tests: a server on a loopback socket
// with a fanout.Server, driven by the real aws-sdk-go-v2 client (over
// HTTP/1.1, h2c, TLS h2 and TLS HTTP/1.1) and by a raw HTTP/2 client
// (golang.org/x/net/http2 with prior knowledge) that decodes the event
// stream with wire/eventstream. Every client runs the same scenario
// (subscribeScenario).

// Test timings: fast heartbeats and takeovers, so that the scenario runs
// in seconds.
const (
	testHeartbeat     = 150 * time.Millisecond
	testTakeoverAfter = 400 * time.Millisecond
	testActivation    = 300 * time.Millisecond
	eventTimeout      = 10 * time.Second
)

// subEnv is a server with enhanced fan-out and an SDK client for the
// control plane (HTTP/1.1).
type subEnv struct {
	m      *stream.Manager
	fan    *fanout.Server
	srv    *Server
	addr   string
	pool   *x509.CertPool
	client *kinesis.Client
	ctx    context.Context
}

// startSubscribe starts a server (HTTP/1.1, h2c and TLS on one port)
// whose fanout.Server has the configuration fcfg (test heartbeat and
// takeover defaults where zero).
func startSubscribe(t *testing.T, fcfg fanout.Config) *subEnv {
	t.Helper()
	m, err := stream.Open(stream.Config{
		DataDir:                 t.TempDir(),
		Durability:              segment.Async,
		ConsumerActivationDelay: testActivation,
		Segment:                 segment.Config{FragmentBytes: 4 << 20, MaxStripeBytes: 64 << 10, Logger: discardLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fcfg.Heartbeat == 0 {
		fcfg.Heartbeat = testHeartbeat
	}
	if fcfg.TakeoverAfter == 0 {
		fcfg.TakeoverAfter = testTakeoverAfter
	}
	fcfg.Logger = discardLogger()
	fan, err := fanout.New(m, fcfg)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the server's shutdown (registered
	// by testListener) runs before the Manager closes.
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	srv, addr, pool := testListener(t, Config{Manager: m, Fanout: fan})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	e := &subEnv{m: m, fan: fan, srv: srv, addr: addr, pool: pool, ctx: ctx}
	e.client = e.sdkFor(t, "http1.1")
	return e
}

// rec is a record as a subscriber received it.
type rec struct {
	Seq, Key string
	Shard    string // from PutRecord; not compared
	Data     []byte
	Arrival  time.Time
}

// subEvent is one SubscribeToShardEvent.
type subEvent struct {
	Records  []rec
	Cont     *string // ContinuationSequenceNumber; nil only at shard end
	Behind   int64
	Children []types.ChildShard
}

// streamException is the exception event that ended a stream.
type streamException struct{ Type, Msg string }

func (e *streamException) Error() string { return e.Type + ": " + e.Msg }

// subStream is a client's open SubscribeToShard event stream.
type subStream interface {
	// Next returns the next SubscribeToShardEvent; io.EOF at a clean
	// end of the stream, a *streamException after an exception event.
	Next() (*subEvent, error)
	Close()
}

// subscriber opens a subscription with one client; a pre-stream failure
// is an error with ErrorCode and ErrorMessage (HTTP 400).
type subscriber func(ctx context.Context, consumerARN, shardID string, pos types.StartingPosition) (subStream, error)

// ---- aws-sdk-go-v2 ----

// sdkSubscriber subscribes with SDK clients of the transport: a new
// client for every subscription, because one client's event streams share
// a payload buffer (smithy-go 1.28.9 internal/eventstream Codec.payloadBuf)
// and race on it when two are read at once (the race detector shows it).
func (e *subEnv) sdkSubscriber(t *testing.T, transport string) subscriber {
	return func(ctx context.Context, arn, shard string, pos types.StartingPosition) (subStream, error) {
		c := e.sdkFor(t, transport)
		ctx, cancel := context.WithCancel(ctx)
		out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
			ConsumerARN: aws.String(arn), ShardId: aws.String(shard), StartingPosition: &pos,
		})
		if err != nil {
			cancel()
			return nil, err
		}
		return &sdkStream{es: out.GetStream(), cancel: cancel}, nil
	}
}

type sdkStream struct {
	es     *kinesis.SubscribeToShardEventStream
	cancel context.CancelFunc
}

func (s *sdkStream) Next() (*subEvent, error) {
	select {
	case ev, ok := <-s.es.Events():
		if !ok {
			err := s.es.Err()
			if err == nil {
				return nil, io.EOF
			}
			var ae smithy.APIError
			if errors.As(err, &ae) {
				return nil, &streamException{Type: ae.ErrorCode(), Msg: ae.ErrorMessage()}
			}
			return nil, err
		}
		e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			return nil, fmt.Errorf("unexpected event %T", ev)
		}
		out := &subEvent{Cont: e.Value.ContinuationSequenceNumber, Behind: aws.ToInt64(e.Value.MillisBehindLatest), Children: e.Value.ChildShards}
		for _, r := range e.Value.Records {
			out.Records = append(out.Records, rec{Seq: aws.ToString(r.SequenceNumber), Key: aws.ToString(r.PartitionKey),
				Data: r.Data, Arrival: aws.ToTime(r.ApproximateArrivalTimestamp)})
		}
		return out, nil
	case <-time.After(eventTimeout):
		return nil, errors.New("no event within " + eventTimeout.String())
	}
}

func (s *sdkStream) Close() {
	_ = s.es.Close()
	s.cancel()
}

// ---- raw HTTP/2 (h2c prior knowledge) ----

// rawAPIError is a pre-stream error response as the raw client reads it.
type rawAPIError struct {
	Status    int
	Code, Msg string
}

func (e *rawAPIError) Error() string        { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }
func (e *rawAPIError) ErrorCode() string    { return e.Code }
func (e *rawAPIError) ErrorMessage() string { return e.Msg }

// rawSubscriber subscribes with a raw JSON request over hc (an HTTP/2
// client) and decodes the event stream with wire/eventstream.
func rawSubscriber(hc *http.Client, url string) subscriber {
	return func(ctx context.Context, arn, shard string, pos types.StartingPosition) (subStream, error) {
		sp := map[string]any{"Type": string(pos.Type)}
		if pos.SequenceNumber != nil {
			sp["SequenceNumber"] = *pos.SequenceNumber
		}
		if pos.Timestamp != nil {
			sp["Timestamp"] = float64(pos.Timestamp.UnixMilli()) / 1000
		}
		body, _ := json.Marshal(map[string]any{"ConsumerARN": arn, "ShardId": shard, "StartingPosition": sp})
		ctx, cancel := context.WithCancel(ctx)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
		if err != nil {
			cancel()
			return nil, err
		}
		req.Header.Set("Content-Type", contentJSON)
		req.Header.Set("X-Amz-Target", targetPrefix+"SubscribeToShard")
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			return nil, err
		}
		if resp.ProtoMajor != 2 {
			resp.Body.Close()
			cancel()
			return nil, fmt.Errorf("response over %s, want HTTP/2", resp.Proto)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			cancel()
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(b, &e); err != nil {
				return nil, fmt.Errorf("status %d, body %q", resp.StatusCode, b)
			}
			return nil, &rawAPIError{Status: resp.StatusCode, Code: e.Type, Msg: e.Message}
		}
		if ct := resp.Header.Get("Content-Type"); ct != eventstream.ContentType || !uuidV4.MatchString(resp.Header.Get(requestIDHeader)) {
			resp.Body.Close()
			cancel()
			return nil, fmt.Errorf("response head: Content-Type %q, request id %q", ct, resp.Header.Get(requestIDHeader))
		}
		s := &rawStream{body: resp.Body, cancel: cancel, dec: eventstream.NewDecoder(resp.Body), msgs: make(chan rawMsg, 1), done: make(chan struct{})}
		go s.read()
		m := <-s.msgs
		if m.err != nil {
			s.Close()
			return nil, fmt.Errorf("reading the initial-response: %w", m.err)
		}
		if eventstream.String(&m.m, ":message-type") != "event" || eventstream.String(&m.m, ":event-type") != "initial-response" || string(m.m.Payload) != "{}" {
			s.Close()
			return nil, fmt.Errorf("first message is not the initial-response: %v %q", m.m.Headers, m.m.Payload)
		}
		return s, nil
	}
}

type rawMsg struct {
	m   eventstream.Message
	err error
}

type rawStream struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	dec    *eventstream.Decoder
	msgs   chan rawMsg
	done   chan struct{} // closed by Close
}

// read decodes messages on its own goroutine, so that Next can time out.
func (s *rawStream) read() {
	for {
		m, err := s.dec.Next()
		select {
		case s.msgs <- rawMsg{m, err}:
		case <-s.done:
			return
		}
		if err != nil {
			close(s.msgs)
			return
		}
	}
}

func (s *rawStream) Next() (*subEvent, error) {
	var m rawMsg
	select {
	case r, ok := <-s.msgs:
		if !ok {
			return nil, errors.New("read after the end of the stream")
		}
		m = r
	case <-time.After(eventTimeout):
		return nil, errors.New("no event within " + eventTimeout.String())
	}
	if m.err != nil {
		return nil, m.err // io.EOF at a clean end
	}
	switch mt := eventstream.String(&m.m, ":message-type"); mt {
	case "exception":
		var p struct{ Message string }
		if err := json.Unmarshal(m.m.Payload, &p); err != nil {
			return nil, fmt.Errorf("exception payload %q: %v", m.m.Payload, err)
		}
		return nil, &streamException{Type: eventstream.String(&m.m, ":exception-type"), Msg: p.Message}
	case "event":
	default:
		return nil, fmt.Errorf("message type %q", mt)
	}
	if et, ct := eventstream.String(&m.m, ":event-type"), eventstream.String(&m.m, ":content-type"); et != "SubscribeToShardEvent" || ct != eventstream.ContentTypeJSON {
		return nil, fmt.Errorf("event type %q, content type %q", et, ct)
	}
	var p struct {
		Records []struct {
			SequenceNumber, PartitionKey string
			Data                         []byte
			ApproximateArrivalTimestamp  float64
		}
		ContinuationSequenceNumber *string
		MillisBehindLatest         *int64
		ChildShards                []struct {
			ShardId      string
			ParentShards []string
			HashKeyRange struct{ StartingHashKey, EndingHashKey string }
		}
	}
	if err := json.Unmarshal(m.m.Payload, &p); err != nil {
		return nil, fmt.Errorf("event payload %q: %v", m.m.Payload, err)
	}
	if p.MillisBehindLatest == nil || !strings.Contains(string(m.m.Payload), `"Records":[`) {
		return nil, fmt.Errorf("event without MillisBehindLatest or Records: %s", m.m.Payload)
	}
	out := &subEvent{Cont: p.ContinuationSequenceNumber, Behind: *p.MillisBehindLatest}
	for _, r := range p.Records {
		out.Records = append(out.Records, rec{Seq: r.SequenceNumber, Key: r.PartitionKey, Data: r.Data,
			Arrival: time.UnixMilli(int64(r.ApproximateArrivalTimestamp*1000 + 0.5))})
	}
	for _, c := range p.ChildShards {
		out.Children = append(out.Children, types.ChildShard{ShardId: aws.String(c.ShardId), ParentShards: c.ParentShards,
			HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String(c.HashKeyRange.StartingHashKey), EndingHashKey: aws.String(c.HashKeyRange.EndingHashKey)}})
	}
	return out, nil
}

func (s *rawStream) Close() {
	select {
	case <-s.done:
		return
	default:
		close(s.done)
	}
	s.cancel()
	s.body.Close()
}

// ---- the scenario ----

// registerActive registers consumer name on stream and waits until it
// is ACTIVE; it first checks that a subscription while it is CREATING is
// refused before the stream starts.
func (e *subEnv) registerActive(t *testing.T, sub subscriber, streamName, name string) string {
	t.Helper()
	streamARN := "arn:aws:kinesis:us-east-1:000000000000:stream/" + streamName
	registered := time.Now()
	out, err := e.client.RegisterStreamConsumer(e.ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String(name)})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	arn := aws.ToString(out.Consumer.ConsumerARN)
	s, err := sub(e.ctx, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if err == nil {
		// Only a slow machine (the race detector) may take longer than
		// the activation delay to get here.
		if time.Since(registered) < testActivation {
			t.Fatalf("subscribed to consumer %s while it was CREATING", arn)
		}
		s.Close()
		e.waitReleased(t, "late CREATING check")
	} else {
		wantPreStream(t, "subscribe while CREATING", err, "ResourceInUseException",
			"Consumer "+name+" with creation timestamp "+arn[strings.LastIndexByte(arn, ':')+1:]+" under stream: "+streamName+" , account 000000000000 is not in ACTIVE status.")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := e.client.DescribeStreamConsumer(e.ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStreamConsumer: %v", err)
		}
		if d.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			return arn
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s not ACTIVE after 10 s", arn)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantPreStream checks a SubscribeToShard failure before the stream
// started: an error response with code and message (a prefix if msg ends
// in "...").
func wantPreStream(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !errors.As(err, &ae) {
		t.Fatalf("%s: got %T %v, want %s", what, err, err, code)
	}
	var st interface{ HTTPStatusCode() int }
	var raw *rawAPIError
	if errors.As(err, &raw) && raw.Status != 400 || !errors.As(err, &raw) && (!errors.As(err, &st) || st.HTTPStatusCode() != 400) {
		t.Errorf("%s: not an HTTP 400: %v", what, err)
	}
	got := ae.ErrorMessage()
	if p, ok := strings.CutSuffix(msg, "..."); ok && strings.HasPrefix(got, p) {
		got = msg
	}
	if ae.ErrorCode() != code || got != msg {
		t.Fatalf("%s: %s %q, want %s %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// put puts records with the given keys (data "<key>-data") and returns
// them as a subscriber should see them.
func (e *subEnv) put(t *testing.T, streamName string, keys ...string) []rec {
	t.Helper()
	var out []rec
	for _, k := range keys {
		r, err := e.client.PutRecord(e.ctx, &kinesis.PutRecordInput{StreamName: aws.String(streamName), PartitionKey: aws.String(k), Data: []byte(k + "-data")})
		if err != nil {
			t.Fatalf("PutRecord %s: %v", k, err)
		}
		out = append(out, rec{Seq: aws.ToString(r.SequenceNumber), Key: k, Data: []byte(k + "-data"), Shard: aws.ToString(r.ShardId)})
	}
	return out
}

// collect reads events until it has n records and returns them, with the
// last event. Every event must carry a continuation and MillisBehindLatest
// >= 0; the continuation of an event with records is its last record's
// sequence number.
func collect(t *testing.T, what string, s subStream, n int) ([]rec, *subEvent) {
	t.Helper()
	var got []rec
	var last *subEvent
	for len(got) < n {
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("%s: after %d of %d records: %v", what, len(got), n, err)
		}
		got = append(got, ev.Records...)
		last = ev
		if ev.Cont == nil && len(ev.Children) > 0 {
			break // the shard end, which may carry the last records
		}
		checkEvent(t, what, ev)
	}
	return got, last
}

func checkEvent(t *testing.T, what string, ev *subEvent) {
	t.Helper()
	if ev.Cont == nil || *ev.Cont == "" {
		t.Fatalf("%s: event without ContinuationSequenceNumber", what)
	}
	if ev.Behind < 0 {
		t.Fatalf("%s: MillisBehindLatest %d", what, ev.Behind)
	}
	if len(ev.Records) > 0 && *ev.Cont != ev.Records[len(ev.Records)-1].Seq {
		t.Fatalf("%s: continuation %s, last record %s", what, *ev.Cont, ev.Records[len(ev.Records)-1].Seq)
	}
	if len(ev.Children) > 0 {
		t.Fatalf("%s: ChildShards before the end of the shard", what)
	}
}

// sameRecords checks that got are exactly want, in order.
func sameRecords(t *testing.T, what string, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records %v, want %d %v", what, len(got), keysOf(got), len(want), keysOf(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].Key != want[i].Key || string(got[i].Data) != string(want[i].Data) {
			t.Fatalf("%s: record %d is %s %s %q, want %s %s %q", what, i, got[i].Seq, got[i].Key, got[i].Data, want[i].Seq, want[i].Key, want[i].Data)
		}
		if got[i].Arrival.IsZero() || time.Since(got[i].Arrival) > time.Minute || time.Until(got[i].Arrival) > time.Second {
			t.Fatalf("%s: record %d arrival %v", what, i, got[i].Arrival)
		}
	}
}

func keysOf(rs []rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	return out
}

// waitReleased waits until the server has no live subscription (it
// noticed that the client went away).
func (e *subEnv) waitReleased(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.fan.Live() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d subscriptions still live 5 s after their clients closed them", what, e.fan.Live())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// open subscribes and fails the test on an error.
func open(t *testing.T, e *subEnv, sub subscriber, what, arn, shard string, pos types.StartingPosition) subStream {
	t.Helper()
	s, err := sub(e.ctx, arn, shard, pos)
	if err != nil {
		t.Fatalf("%s: SubscribeToShard: %v", what, err)
	}
	return s
}

// TestSubscribeSDKHTTP1 is the basic case: the aws-sdk-go-v2 client over
// HTTP/1.1 subscribes from TRIM_HORIZON, gets the records already put,
// then those put while it is subscribed, pushed.
func TestSubscribeSDKHTTP1(t *testing.T) {
	e := startSubscribe(t, fanout.Config{})
	sub := e.sdkSubscriber(t, "http1.1")
	e.createStream(t, "basic", 1)
	arn := e.registerActive(t, sub, "basic", "c")
	before := e.put(t, "basic", "a", "b", "c")
	s := open(t, e, sub, "TRIM_HORIZON", arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	got, _ := collect(t, "TRIM_HORIZON", s, 3)
	sameRecords(t, "TRIM_HORIZON", got, before)
	after := e.put(t, "basic", "d", "e")
	got, _ = collect(t, "pushed", s, 2)
	sameRecords(t, "pushed", got, after)
	s.Close()
	e.waitReleased(t, "after close")
}

func (e *subEnv) createStream(t *testing.T, name string, shards int32) {
	t.Helper()
	if _, err := e.client.CreateStream(e.ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
}

// subscribeScenario is the whole SubscribeToShard contract with one client
// (KINESIS_API.md 4.2-4.7), on a new one-shard stream name: pre-stream
// errors as HTTP 400 responses; every starting position type receives
// exactly the records put, in order; a chain of re-subscriptions, each
// from the last event's ContinuationSequenceNumber with
// AFTER_SEQUENCE_NUMBER, sees every record once; heartbeats while idle; a
// second subscription within TakeoverAfter is refused with
// ResourceInUseException, a later one takes over and the old stream ends
// with a ResourceInUseException event; after SplitShard the last event has
// no continuation and lists the ChildShards, and the stream ends. The
// server must run with fanout.Config.MaxEventRecords 2.
func subscribeScenario(t *testing.T, e *subEnv, sub subscriber, name string) {
	ctx := e.ctx
	const shard = "shardId-000000000000"
	e.createStream(t, name, 1)
	arn := e.registerActive(t, sub, name, "c")
	pos := func(typ types.ShardIteratorType, seq string) types.StartingPosition {
		p := types.StartingPosition{Type: typ}
		if seq != "" {
			p.SequenceNumber = aws.String(seq)
		}
		return p
	}

	// Pre-stream failures are ordinary error responses.
	_, err := sub(ctx, arn, "shardId-000000000007", pos(types.ShardIteratorTypeTrimHorizon, ""))
	wantPreStream(t, "unknown shard", err, "ResourceNotFoundException",
		"Shard shardId-000000000007 in stream "+name+" under account 000000000000 does not exist")
	_, err = sub(ctx, arn+"0", shard, pos(types.ShardIteratorTypeTrimHorizon, ""))
	wantPreStream(t, "unknown consumer", err, "ResourceNotFoundException", "...")
	_, err = sub(ctx, arn, shard, pos(types.ShardIteratorTypeAtSequenceNumber, "12"))
	wantPreStream(t, "foreign sequence number", err, "InvalidArgumentException", "...")
	// A refused call never registers a subscription (one that did would
	// never be released).
	e.waitReleased(t, "after refused ones")

	// LATEST on an empty shard: an empty first event at once, then the
	// records as they are put.
	s := open(t, e, sub, "LATEST", arn, shard, pos(types.ShardIteratorTypeLatest, ""))
	first, err := s.Next()
	if err != nil {
		t.Fatalf("LATEST: first event: %v", err)
	}
	checkEvent(t, "LATEST first event", first)
	if len(first.Records) != 0 || first.Behind != 0 {
		t.Fatalf("LATEST: first event has %d records, %d ms behind", len(first.Records), first.Behind)
	}
	b1 := e.put(t, name, "k1", "k2", "k3")
	got, _ := collect(t, "LATEST", s, 3)
	sameRecords(t, "LATEST", got, b1)
	s.Close()
	e.waitReleased(t, "LATEST")

	// The continuation of an event without records resumes at that
	// position: AFTER it gives everything put since.
	s = open(t, e, sub, "AFTER empty continuation", arn, shard, pos(types.ShardIteratorTypeAfterSequenceNumber, *first.Cont))
	got, _ = collect(t, "AFTER empty continuation", s, 3)
	sameRecords(t, "AFTER empty continuation", got, b1)
	s.Close()
	e.waitReleased(t, "AFTER empty continuation")

	time.Sleep(20 * time.Millisecond)
	mark := time.Now()
	time.Sleep(20 * time.Millisecond)
	b2 := e.put(t, name, "k4", "k5", "k6")
	all := append(append([]rec(nil), b1...), b2...)

	// TRIM_HORIZON, then heartbeats while idle: empty events that keep
	// the continuation of the last record.
	s = open(t, e, sub, "TRIM_HORIZON", arn, shard, pos(types.ShardIteratorTypeTrimHorizon, ""))
	got, _ = collect(t, "TRIM_HORIZON", s, 6)
	sameRecords(t, "TRIM_HORIZON", got, all)
	start := time.Now()
	for i := range 3 {
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("heartbeat %d: %v", i, err)
		}
		checkEvent(t, "heartbeat", ev)
		if len(ev.Records) != 0 || *ev.Cont != all[5].Seq || ev.Behind != 0 {
			t.Fatalf("heartbeat %d: %d records, continuation %s (want %s), %d ms behind", i, len(ev.Records), *ev.Cont, all[5].Seq, ev.Behind)
		}
	}
	if d := time.Since(start); d < 2*testHeartbeat || d > 20*testHeartbeat {
		t.Fatalf("3 heartbeats took %v with a %v heartbeat", d, testHeartbeat)
	}
	s.Close()
	e.waitReleased(t, "TRIM_HORIZON")

	for _, tc := range []struct {
		what string
		pos  types.StartingPosition
		want []rec
	}{
		{"AT_SEQUENCE_NUMBER", pos(types.ShardIteratorTypeAtSequenceNumber, all[1].Seq), all[1:]},
		{"AFTER_SEQUENCE_NUMBER", pos(types.ShardIteratorTypeAfterSequenceNumber, all[1].Seq), all[2:]},
		{"AFTER the last record", pos(types.ShardIteratorTypeAfterSequenceNumber, all[5].Seq), nil},
		{"AT_TIMESTAMP", types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(mark)}, b2},
	} {
		s = open(t, e, sub, tc.what, arn, shard, tc.pos)
		got, last := collect(t, tc.what, s, len(tc.want))
		sameRecords(t, tc.what, got, tc.want)
		if last == nil { // nothing to read: one empty event at once
			ev, err := s.Next()
			if err != nil {
				t.Fatalf("%s: %v", tc.what, err)
			}
			checkEvent(t, tc.what, ev)
			if len(ev.Records) != 0 || *ev.Cont != all[5].Seq {
				t.Fatalf("%s: %d records, continuation %s", tc.what, len(ev.Records), *ev.Cont)
			}
		}
		s.Close()
		e.waitReleased(t, tc.what)
	}

	// A chain of subscriptions, each taking one event (at most 2 records)
	// and resuming after its continuation: every record exactly once.
	var chain []rec
	p := pos(types.ShardIteratorTypeTrimHorizon, "")
	for i := 0; len(chain) < len(all); i++ {
		if i > 10 {
			t.Fatalf("continuation chain: %d records after %d subscriptions", len(chain), i)
		}
		s = open(t, e, sub, "chain", arn, shard, p)
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("chain %d: %v", i, err)
		}
		checkEvent(t, "chain", ev)
		if len(ev.Records) > 2 {
			t.Fatalf("chain %d: %d records in one event, MaxEventRecords is 2", i, len(ev.Records))
		}
		chain = append(chain, ev.Records...)
		p = pos(types.ShardIteratorTypeAfterSequenceNumber, *ev.Cont)
		s.Close()
		e.waitReleased(t, "chain")
	}
	sameRecords(t, "continuation chain", chain, all)

	// One live subscription per consumer and shard.
	a := open(t, e, sub, "first of two", arn, shard, pos(types.ShardIteratorTypeLatest, ""))
	if _, err := a.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = sub(ctx, arn, shard, pos(types.ShardIteratorTypeLatest, ""))
	wantPreStream(t, "second subscription at once", err, "ResourceInUseException", "Another active subscription exists for this consumer: "+arn)
	time.Sleep(testTakeoverAfter)
	b := open(t, e, sub, "takeover", arn, shard, pos(types.ShardIteratorTypeLatest, ""))
	for i := 0; ; i++ {
		_, err := a.Next()
		if err == nil && i < 20 {
			continue // heartbeats written before the takeover
		}
		var ex *streamException
		if !errors.As(err, &ex) || ex.Type != "ResourceInUseException" {
			t.Fatalf("taken-over stream ended with %v, want a ResourceInUseException event", err)
		}
		break
	}
	a.Close()
	if n := e.fan.Live(); n != 1 {
		t.Fatalf("%d live subscriptions after the takeover, want 1", n)
	}

	// Shard end: records put before the split, then a last event with no
	// continuation and the children, then the end of the stream.
	tail := e.put(t, name, "k7")
	got, _ = collect(t, "before split", b, 1)
	sameRecords(t, "before split", got, tail)
	if _, err := e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(shard),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	var end *subEvent
	for i := 0; end == nil; i++ {
		ev, err := b.Next()
		if err != nil {
			t.Fatalf("before the shard end: %v", err)
		}
		if len(ev.Records) != 0 {
			t.Fatalf("records after the split: %v", keysOf(ev.Records))
		}
		if ev.Cont == nil {
			end = ev
		} else if i > 50 {
			t.Fatal("no shard end after 50 events")
		}
	}
	if len(end.Children) != 2 {
		t.Fatalf("shard end: %d ChildShards", len(end.Children))
	}
	for i, c := range end.Children {
		wantID := fmt.Sprintf("shardId-%012d", i+1)
		if aws.ToString(c.ShardId) != wantID || len(c.ParentShards) != 1 || c.ParentShards[0] != shard || c.HashKeyRange == nil {
			t.Fatalf("child %d: %s parents %v", i, aws.ToString(c.ShardId), c.ParentShards)
		}
	}
	if r := end.Children[0].HashKeyRange; aws.ToString(r.StartingHashKey) != "0" || aws.ToString(r.EndingHashKey) != "170141183460469231731687303715884105727" {
		t.Fatalf("child 1 range %s-%s", aws.ToString(r.StartingHashKey), aws.ToString(r.EndingHashKey))
	}
	if _, err := b.Next(); err != io.EOF {
		t.Fatalf("after the shard end: %v, want the end of the stream", err)
	}
	b.Close()
	e.waitReleased(t, "shard end")

	// The closed parent can still be read to its end from the start.
	s = open(t, e, sub, "closed parent", arn, shard, pos(types.ShardIteratorTypeTrimHorizon, ""))
	got, last := collect(t, "closed parent", s, 7)
	sameRecords(t, "closed parent", got, append(append([]rec(nil), all...), tail...))
	for last.Cont != nil {
		if last, err = s.Next(); err != nil {
			t.Fatalf("closed parent: %v", err)
		}
		if len(last.Records) != 0 {
			t.Fatalf("closed parent: records after the last: %v", keysOf(last.Records))
		}
	}
	if len(last.Children) != 2 {
		t.Fatalf("closed parent: %d ChildShards at its end", len(last.Children))
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("closed parent after its end: %v", err)
	}
	s.Close()
	e.waitReleased(t, "closed parent")
}

// sdkFor returns an SDK client for the scenario over one transport.
func (e *subEnv) sdkFor(t *testing.T, transport string) *kinesis.Client {
	endpoint := "http://" + e.addr
	if strings.HasPrefix(transport, "tls") {
		endpoint = "https://" + e.addr
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")),
		config.WithRetryMaxAttempts(1),
		config.WithSharedConfigProfile(""),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	var transportUsed *http.Transport
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		var p http.Protocols
		switch transport {
		case "http1.1", "tls-http1.1":
			p.SetHTTP1(true)
		case "h2c":
			p.SetUnencryptedHTTP2(true)
		case "tls-h2":
			p.SetHTTP2(true)
		}
		tr.Protocols = &p
		tr.TLSClientConfig = &tls.Config{RootCAs: e.pool}
		transportUsed = tr
	})
	t.Cleanup(func() {
		if transportUsed != nil {
			transportUsed.CloseIdleConnections()
		}
	})
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New(hc) // see internal/sdkhttp: smithy-go can close the connection under the stream
	})
}

// TestSubscribeSDK runs the scenario with the real aws-sdk-go-v2 client
// over HTTP/1.1 (chunked, fasthttp), h2c with prior knowledge, TLS with
// ALPN h2 and TLS HTTP/1.1.
func TestSubscribeSDK(t *testing.T) {
	e := startSubscribe(t, fanout.Config{MaxEventRecords: 2})
	for _, tr := range []string{"http1.1", "h2c", "tls-h2", "tls-http1.1"} {
		t.Run(tr, func(t *testing.T) {
			before := e.srv.h2Requests.Load()
			subscribeScenario(t, e, e.sdkSubscriber(t, tr), "sdk-"+tr)
			h2 := e.srv.h2Requests.Load() - before
			if strings.HasSuffix(tr, "h2") || tr == "h2c" {
				if h2 == 0 {
					t.Fatal("no request went over HTTP/2")
				}
			} else if h2 != 0 {
				t.Fatalf("%d requests went over HTTP/2", h2)
			}
		})
	}
}

// TestSubscribeRawH2C runs the scenario with a raw HTTP/2 client (h2c
// prior knowledge, golang.org/x/net/http2) that decodes the event stream
// with wire/eventstream and checks the framing: the initial-response
// first, SubscribeToShardEvent messages with JSON payloads.
func TestSubscribeRawH2C(t *testing.T) {
	e := startSubscribe(t, fanout.Config{MaxEventRecords: 2})
	hc := h2cClient()
	defer hc.CloseIdleConnections()
	subscribeScenario(t, e, rawSubscriber(hc, "http://"+e.addr+"/"), "raw-h2c")
}

// TestSubscribeLifetime: a subscription ends cleanly after
// fanout.Config.Lifetime (AWS: 5 minutes), with heartbeats until then.
func TestSubscribeLifetime(t *testing.T) {
	const lifetime = time.Second
	e := startSubscribe(t, fanout.Config{Lifetime: lifetime})
	sub := e.sdkSubscriber(t, "http1.1")
	e.createStream(t, "life", 1)
	arn := e.registerActive(t, sub, "life", "c")
	start := time.Now()
	s := open(t, e, sub, "lifetime", arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	events := 0
	for {
		ev, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d events: %v", events, err)
		}
		checkEvent(t, "lifetime", ev)
		events++
	}
	if d := time.Since(start); d < lifetime || d > lifetime+2*time.Second {
		t.Fatalf("the stream ended after %v, lifetime %v", d, lifetime)
	}
	if events < 4 {
		t.Fatalf("%d events in %v with a %v heartbeat", events, lifetime, testHeartbeat)
	}
	s.Close()
	e.waitReleased(t, "lifetime")
}

// TestSubscribeShutdown: Shutdown ends live subscriptions at once (their
// streams end cleanly) instead of waiting for their lifetime.
func TestSubscribeShutdown(t *testing.T) {
	e := startSubscribe(t, fanout.Config{})
	e.createStream(t, "down", 1)
	arn := e.registerActive(t, e.sdkSubscriber(t, "http1.1"), "down", "c")
	arn2 := e.registerActive(t, e.sdkSubscriber(t, "http1.1"), "down", "c2")
	hc := h2cClient()
	defer hc.CloseIdleConnections()
	latest := types.StartingPosition{Type: types.ShardIteratorTypeLatest}
	subs := []subStream{
		open(t, e, e.sdkSubscriber(t, "http1.1"), "http1.1", arn, "shardId-000000000000", latest),
		open(t, e, rawSubscriber(hc, "http://"+e.addr+"/"), "h2c", arn2, "shardId-000000000000", latest),
	}
	for _, s := range subs {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fan.Live(); n != 2 {
		t.Fatalf("%d live subscriptions, want 2", n)
	}
	start := time.Now()
	if err := e.srv.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v with a live subscription", d)
	}
	for _, s := range subs {
		for {
			_, err := s.Next()
			if err == nil {
				continue
			}
			var ex *streamException
			if err != io.EOF && !errors.As(err, &ex) {
				t.Fatalf("stream ended with %v", err)
			}
			break
		}
		s.Close()
	}
	if n := e.fan.Live(); n != 0 {
		t.Fatalf("%d live subscriptions after Shutdown", n)
	}
}

// TestSubscribeShutdownStalled: a subscriber that stopped reading blocks
// its subscription in a write (HTTP/1.1 over fasthttp); Shutdown with a
// deadline still returns by then plus a little, closing that connection,
// and leaves no subscription running.
func TestSubscribeShutdownStalled(t *testing.T) {
	e := startSubscribe(t, fanout.Config{})
	e.createStream(t, "stall", 1)
	arn := e.registerActive(t, e.sdkSubscriber(t, "http1.1"), "stall", "c")
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := `{"ConsumerARN":"` + arn + `","ShardId":"shardId-000000000000","StartingPosition":{"Type":"TRIM_HORIZON"}}`
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "+contentJSON+"\r\nX-Amz-Target: "+targetPrefix+
		"SubscribeToShard\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	// Read the head, then never read again.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var head [12]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || string(head[:]) != "HTTP/1.1 200" {
		t.Fatalf("response head %q: %v", head, err)
	}
	// 32 MiB of records: far more than the socket buffers hold.
	data := bytes.Repeat([]byte{'x'}, 512<<10)
	for range 8 {
		entries := make([]stream.PutEntry, 8)
		for i := range entries {
			entries[i] = stream.PutEntry{PartitionKey: "k", Data: data}
		}
		if _, err := e.m.PutRecords("stall", entries); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // the subscription fills the buffers and blocks
	if n := e.fan.Live(); n != 1 {
		t.Fatalf("%d live subscriptions, want the stalled one", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err = e.srv.ShutdownContext(ctx)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("ShutdownContext took %v with a 1 s deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ShutdownContext: %v, want the deadline (the stalled stream could not end cleanly)", err)
	}
	if n := e.fan.Live(); n != 0 {
		t.Fatalf("%d live subscriptions after Shutdown", n)
	}
}
