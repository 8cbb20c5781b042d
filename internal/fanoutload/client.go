package fanoutload

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/valyala/fastjson"
	"golang.org/x/net/http2"
)

// Client is an h2c client (HTTP/2 with prior knowledge, as the JavaScript
// SDK connects) of one server: one TCP connection carrying every call and
// subscription. It is safe for concurrent use.
type Client struct {
	// StampOnly is copied into the subscriptions Consume opens.
	StampOnly bool

	hc  *http.Client
	url string
}

// NewClient returns a client of the server at addr (host:port).
func NewClient(addr string) *Client {
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	return &Client{hc: &http.Client{Transport: tr}, url: "http://" + addr + "/"}
}

// NewHTTP1Client returns a client of the server at addr that speaks
// HTTP/1.1 (keep-alive), for the JSON calls of servers without h2c; it
// cannot Subscribe.
func NewHTTP1Client(addr string) *Client {
	return &Client{hc: &http.Client{Transport: &http.Transport{}}, url: "http://" + addr + "/"}
}

// Close closes the client's idle connections; a connection with a live
// subscription closes when its last stream ends.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

func (c *Client) post(ctx context.Context, op string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("X-Amz-Date", "20261206T000000Z")
	req.Header.Set("Authorization", authorization)
	return c.hc.Do(req)
}

// Call sends a JSON 1.1 request for operation op and returns the response
// body; a status other than 200 is an error carrying the body.
func (c *Client) Call(ctx context.Context, op string, body []byte) ([]byte, error) {
	resp, err := c.post(ctx, op, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, b)
	}
	return b, nil
}

// Position is a SubscribeToShard StartingPosition.
type Position struct {
	Type           string // TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER
	SequenceNumber string
}

// subscribeBody returns the JSON body of a SubscribeToShard request.
func subscribeBody(consumerARN, shardID string, pos Position) []byte {
	b := []byte(`{"ConsumerARN":`)
	b = strconv.AppendQuote(b, consumerARN)
	b = append(b, `,"ShardId":`...)
	b = strconv.AppendQuote(b, shardID)
	b = append(b, `,"StartingPosition":{"Type":`...)
	b = strconv.AppendQuote(b, pos.Type)
	if pos.SequenceNumber != "" {
		b = append(b, `,"SequenceNumber":`...)
		b = strconv.AppendQuote(b, pos.SequenceNumber)
	}
	return append(b, "}}"...)
}

// Subscription is one SubscribeToShard response being read. It is owned
// by one goroutine.
type Subscription struct {
	// StampOnly makes Next decode only the first StampLen bytes of each
	// record's data (the rest of the base64 text is not decoded), which
	// saves a load generator most of its work.
	StampOnly bool

	body    io.ReadCloser
	br      *bufio.Reader
	dec     *sdk.Decoder
	payload []byte
	parser  fastjson.Parser
	ev      Event
}

// Event is a SubscribeToShardEvent.
type Event struct {
	Records                    []Record
	ContinuationSequenceNumber string
	MillisBehindLatest         int64
	// ChildShards holds the child shard ids at the end of a closed shard.
	ChildShards []string
}

// Record is a record of an Event.
type Record struct {
	SequenceNumber string
	PartitionKey   string
	Data           []byte
}

// ExceptionError is an exception event that ended a subscription.
type ExceptionError struct{ Type, Message string }

func (e *ExceptionError) Error() string { return "SubscribeToShard: " + e.Type + ": " + e.Message }

// Subscribe calls SubscribeToShard and reads the initial-response. The
// caller must Close the Subscription.
func (c *Client) Subscribe(ctx context.Context, consumerARN, shardID string, pos Position) (*Subscription, error) {
	resp, err := c.post(ctx, "SubscribeToShard", subscribeBody(consumerARN, shardID, pos))
	if err != nil {
		return nil, fmt.Errorf("SubscribeToShard: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("SubscribeToShard: HTTP %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.amazon.eventstream" {
		resp.Body.Close()
		return nil, fmt.Errorf("SubscribeToShard: Content-Type %q", ct)
	}
	s := &Subscription{body: resp.Body, br: bufio.NewReaderSize(resp.Body, 64<<10), dec: sdk.NewDecoder()}
	m, err := s.next()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("SubscribeToShard: reading the initial-response: %w", err)
	}
	if et := header(&m, ":event-type"); header(&m, ":message-type") != "event" || et != "initial-response" {
		s.Close()
		return nil, fmt.Errorf("SubscribeToShard: first message is %q/%q, not the initial-response", header(&m, ":message-type"), et)
	}
	return s, nil
}

// Close ends the subscription (resets its HTTP/2 stream).
func (s *Subscription) Close() error { return s.body.Close() }

func header(m *sdk.Message, name string) string {
	if v, ok := m.Headers.Get(name).(sdk.StringValue); ok {
		return string(v)
	}
	return ""
}

// next reads one message; io.EOF at a clean end of the stream.
func (s *Subscription) next() (sdk.Message, error) {
	if _, err := s.br.Peek(1); err != nil {
		return sdk.Message{}, err
	}
	m, err := s.dec.Decode(s.br, s.payload[:0])
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return sdk.Message{}, err
	}
	s.payload = m.Payload
	return m, nil
}

// Next returns the next SubscribeToShardEvent. It returns io.EOF when the
// server ended the stream cleanly (lifetime, shard end), an
// *ExceptionError for an exception event. The Event is valid until the
// next call.
func (s *Subscription) Next() (*Event, error) {
	m, err := s.next()
	if err != nil {
		return nil, err
	}
	switch mt := header(&m, ":message-type"); mt {
	case "event":
	case "exception":
		msg := string(m.Payload)
		if v, err := fastjson.ParseBytes(m.Payload); err == nil {
			msg = string(v.GetStringBytes("message"))
		}
		return nil, &ExceptionError{Type: header(&m, ":exception-type"), Message: msg}
	case "error":
		return nil, &ExceptionError{Type: header(&m, ":error-code"), Message: header(&m, ":error-message")}
	default:
		return nil, fmt.Errorf("SubscribeToShard: message type %q", mt)
	}
	if et := header(&m, ":event-type"); et != "SubscribeToShardEvent" {
		return nil, fmt.Errorf("SubscribeToShard: event type %q", et)
	}
	v, err := s.parser.ParseBytes(m.Payload)
	if err != nil {
		return nil, fmt.Errorf("SubscribeToShard: event payload: %w", err)
	}
	ev := &s.ev
	recs := ev.Records[:0]
	for _, r := range v.GetArray("Records") {
		// Reuse the data buffers of the previous event.
		var data []byte
		if len(recs) < cap(recs) {
			data = recs[:len(recs)+1][len(recs)].Data[:0]
		}
		b64 := r.GetStringBytes("Data")
		if s.StampOnly && len(b64) > stampB64Len {
			b64 = b64[:stampB64Len]
		}
		data, err = base64.StdEncoding.AppendDecode(data, b64)
		if err != nil {
			return nil, fmt.Errorf("SubscribeToShard: record data: %w", err)
		}
		recs = append(recs, Record{SequenceNumber: string(r.GetStringBytes("SequenceNumber")),
			PartitionKey: string(r.GetStringBytes("PartitionKey")), Data: data})
	}
	ev.Records = recs
	ev.ContinuationSequenceNumber = string(v.GetStringBytes("ContinuationSequenceNumber"))
	ev.MillisBehindLatest = v.GetInt64("MillisBehindLatest")
	ev.ChildShards = ev.ChildShards[:0]
	for _, c := range v.GetArray("ChildShards") {
		ev.ChildShards = append(ev.ChildShards, string(c.GetStringBytes("ShardId")))
	}
	return ev, nil
}

// stampB64Len is the base64 length of a stamp (StampLen is a multiple of 3).
const stampB64Len = StampLen / 3 * 4

// Consume subscribes consumerARN to shardID from pos and calls onEvent with
// every event, as soon as it is decoded, until ctx ends (nil), the shard
// ends (nil) or a subscription fails. A subscription the server ends cleanly (its
// lifetime) is renewed AFTER_SEQUENCE_NUMBER its last continuation, as the
// KCL does. ready, if not nil, is called once the first subscription is
// open.
func Consume(ctx context.Context, c *Client, consumerARN, shardID string, pos Position, ready func(), onEvent func(ev *Event)) error {
	for {
		sub, err := c.Subscribe(ctx, consumerARN, shardID, pos)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sub.StampOnly = c.StampOnly
		if ready != nil {
			ready()
			ready = nil
		}
		stop := context.AfterFunc(ctx, func() { sub.Close() })
		for {
			ev, err := sub.Next()
			if err != nil {
				stop()
				sub.Close()
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, io.EOF) {
					break // re-subscribe
				}
				return err
			}
			onEvent(ev)
			if ev.ContinuationSequenceNumber == "" {
				stop()
				sub.Close()
				return nil // shard end
			}
			pos = Position{Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: ev.ContinuationSequenceNumber}
		}
	}
}

// WaitActive polls DescribeStreamConsumer until consumerARN is ACTIVE.
func WaitActive(ctx context.Context, c *Client, consumerARN string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	body := append(strconv.AppendQuote([]byte(`{"ConsumerARN":`), consumerARN), '}')
	for {
		b, err := c.Call(ctx, "DescribeStreamConsumer", body)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(`"ConsumerStatus":"ACTIVE"`)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("consumer %s not ACTIVE after %v: %s", consumerARN, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
