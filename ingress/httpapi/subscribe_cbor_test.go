package httpapi

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/fxamacker/cbor/v2"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/sluicehq/sluice/fanout"
	"github.com/sluicehq/sluice/wire/eventstream"
)

// cborEvent is a SubscribeToShardEvent payload in CBOR.
type cborEvent struct {
	Records []struct {
		SequenceNumber, PartitionKey string
		Data                         []byte
		ApproximateArrivalTimestamp  cbor.Tag
	}
	ContinuationSequenceNumber *string
	MillisBehindLatest         *int64
}

// TestSubscribeCBOR subscribes with a CBOR request (the Java SDKs' default
// encoding) over HTTP/1.1: a pre-stream error answers in CBOR, and the
// event stream carries CBOR payloads (:content-type
// application/x-amz-cbor-1.1): the initial-response {}, events with Data as
// a byte string and ApproximateArrivalTimestamp as tag 1 + integer ms, and
// the ResourceNotFoundException event when the consumer is deregistered.
func TestSubscribeCBOR(t *testing.T) {
	e := startSubscribe(t, fanout.Config{})
	e.createStream(t, "cbor", 1)
	arn := e.registerActive(t, e.sdkSubscriber(t, "http1.1"), "cbor", "c")
	recs := e.put(t, "cbor", "a", "b")
	post := func(body map[string]any) *http.Response {
		t.Helper()
		b, err := cbor.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, "http://"+e.addr+"/", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentCBOR)
		req.Header.Set("X-Amz-Target", targetPrefix+"SubscribeToShard")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := post(map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000005", "StartingPosition": map[string]any{"Type": "LATEST"}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var apiErr struct {
		Type    string `cbor:"__type"`
		Message string `cbor:"message"`
	}
	if err := cbor.Unmarshal(body, &apiErr); err != nil || resp.StatusCode != 400 || resp.Header.Get("Content-Type") != contentCBOR ||
		apiErr.Type != "ResourceNotFoundException" || apiErr.Message != "Shard shardId-000000000005 in stream cbor under account 000000000000 does not exist" {
		t.Fatalf("unknown shard: %d %s %+v %v", resp.StatusCode, resp.Header.Get("Content-Type"), apiErr, err)
	}

	// AT_TIMESTAMP with a CBOR timestamp (tag 1, ms) before the records.
	resp = post(map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000",
		"StartingPosition": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: time.Now().Add(-time.Minute).UnixMilli()}}})
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != eventstream.ContentType {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := eventstream.NewDecoder(resp.Body)
	m, err := dec.Next()
	if err != nil || eventstream.String(&m, ":event-type") != "initial-response" || eventstream.String(&m, ":content-type") != eventstream.ContentTypeCBOR ||
		!bytes.Equal(m.Payload, []byte{0xa0}) {
		t.Fatalf("initial-response: %v %v % x", err, m.Headers, m.Payload)
	}
	var got []string
	for len(got) < len(recs) {
		m, err := dec.Next()
		if err != nil {
			t.Fatal(err)
		}
		if eventstream.String(&m, ":event-type") != "SubscribeToShardEvent" || eventstream.String(&m, ":content-type") != eventstream.ContentTypeCBOR {
			t.Fatalf("event headers %v", m.Headers)
		}
		var ev cborEvent
		if err := cbor.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatalf("event payload % x: %v", m.Payload, err)
		}
		if ev.ContinuationSequenceNumber == nil || ev.MillisBehindLatest == nil {
			t.Fatalf("event without continuation or MillisBehindLatest: % x", m.Payload)
		}
		for _, r := range ev.Records {
			ms, ok := r.ApproximateArrivalTimestamp.Content.(uint64)
			if r.ApproximateArrivalTimestamp.Number != 1 || !ok || time.Since(time.UnixMilli(int64(ms))) > time.Minute {
				t.Fatalf("ApproximateArrivalTimestamp %+v", r.ApproximateArrivalTimestamp)
			}
			got = append(got, r.SequenceNumber+" "+r.PartitionKey+" "+string(r.Data))
		}
	}
	for i, r := range recs {
		if want := r.Seq + " " + r.Key + " " + string(r.Data); got[i] != want {
			t.Fatalf("record %d: %q, want %q", i, got[i], want)
		}
	}

	// Deregistering the consumer ends the stream with a CBOR
	// ResourceNotFoundException event (seen at the next heartbeat).
	if _, err := e.client.DeregisterStreamConsumer(e.ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		m, err := dec.Next()
		if err != nil {
			t.Fatalf("after deregistration: %v", err)
		}
		if eventstream.String(&m, ":message-type") == "event" && i < 50 {
			continue
		}
		var p struct {
			Message string `cbor:"message"`
		}
		if eventstream.String(&m, ":message-type") != "exception" || eventstream.String(&m, ":exception-type") != "ResourceNotFoundException" ||
			eventstream.String(&m, ":content-type") != eventstream.ContentTypeCBOR || cbor.Unmarshal(m.Payload, &p) != nil || p.Message == "" {
			t.Fatalf("after deregistration: %v % x", m.Headers, m.Payload)
		}
		break
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("after the exception: %v, want the end of the stream", err)
	}
	e.waitReleased(t, "deregistered")
}

// TestSubscribeH2CUpgrade subscribes with the request that upgrades an
// HTTP/1.1 connection to h2c (Upgrade: h2c): the event stream is the
// response to stream 1 of the HTTP/2 connection.
func TestSubscribeH2CUpgrade(t *testing.T) {
	e := startSubscribe(t, fanout.Config{})
	e.createStream(t, "up", 1)
	arn := e.registerActive(t, e.sdkSubscriber(t, "http1.1"), "up", "c")
	recs := e.put(t, "up", "a", "b", "c")

	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var settings [6]byte
	binary.BigEndian.PutUint16(settings[:], uint16(http2.SettingMaxConcurrentStreams))
	binary.BigEndian.PutUint32(settings[2:], 100)
	body := `{"ConsumerARN":"` + arn + `","ShardId":"shardId-000000000000","StartingPosition":{"Type":"TRIM_HORIZON"}}`
	req := "POST / HTTP/1.1\r\nHost: " + e.addr + "\r\n" +
		"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
		"HTTP2-Settings: " + base64.RawURLEncoding.EncodeToString(settings[:]) + "\r\n" +
		"Content-Type: " + contentJSON + "\r\nX-Amz-Target: " + targetPrefix + "SubscribeToShard\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answer %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, br)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// Stream 1's DATA frames go into a pipe that the event-stream decoder
	// reads.
	pr, pw := io.Pipe()
	defer pr.Close()
	head := make(chan map[string]string, 1)
	go func() {
		hdec := hpack.NewDecoder(4096, nil)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					_ = fr.WriteSettingsAck()
				}
			case *http2.HeadersFrame:
				fields, err := hdec.DecodeFull(f.HeaderBlockFragment())
				if err != nil {
					pw.CloseWithError(err)
					return
				}
				h := map[string]string{}
				for _, hf := range fields {
					h[hf.Name] = hf.Value
				}
				head <- h
			case *http2.DataFrame:
				if f.StreamID != 1 {
					continue
				}
				if _, err := pw.Write(f.Data()); err != nil {
					return
				}
				if n := uint32(len(f.Data())); n > 0 {
					_ = fr.WriteWindowUpdate(0, n)
					_ = fr.WriteWindowUpdate(1, n)
				}
				if f.StreamEnded() {
					pw.Close()
					return
				}
			}
		}
	}()
	h := <-head
	if h[":status"] != "200" || h["content-type"] != eventstream.ContentType || !uuidV4.MatchString(h["x-amzn-requestid"]) {
		t.Fatalf("stream 1 head %v", h)
	}
	dec := eventstream.NewDecoder(pr)
	if m, err := dec.Next(); err != nil || eventstream.String(&m, ":event-type") != "initial-response" {
		t.Fatalf("initial-response: %v %v", err, m.Headers)
	}
	var got []string
	for len(got) < len(recs) {
		m, err := dec.Next()
		if err != nil {
			t.Fatal(err)
		}
		if eventstream.String(&m, ":event-type") != "SubscribeToShardEvent" {
			t.Fatalf("event %v", m.Headers)
		}
		for _, part := range strings.Split(string(m.Payload), `"SequenceNumber":"`)[1:] {
			got = append(got, part[:strings.IndexByte(part, '"')])
		}
	}
	for i, r := range recs {
		if got[i] != r.Seq {
			t.Fatalf("record %d: %s, want %s", i, got[i], r.Seq)
		}
	}
	if n := connsH2CUpgradeTotal.Get(); n == 0 {
		t.Fatal("no h2c upgrade counted")
	}
}
