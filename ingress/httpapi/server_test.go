package httpapi

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/sluicehq/sluice/wire/kinesis"
)

type inmemClient struct {
	t *testing.T
	c *fasthttp.Client
}

func newInmemClient(t *testing.T, cfg Config) *inmemClient {
	ln := fasthttputil.NewInmemoryListener()
	startServer(t, ln, cfg)
	return &inmemClient{t: t, c: &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}}
}

type result struct {
	status    int
	requestID string
	errorType string
	ctype     string
	body      map[string]any
	raw       string
}

// do sends one request; target "" sends no X-Amz-Target.
func (c *inmemClient) do(method, ctype, target, body string) result {
	c.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://kinesis.test/")
	req.Header.SetMethod(method)
	if ctype != "" {
		req.Header.SetContentType(ctype)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.SetBodyString(body)
	if err := c.c.Do(req, resp); err != nil {
		c.t.Fatal(err)
	}
	r := result{
		status:    resp.StatusCode(),
		requestID: string(resp.Header.Peek("x-amzn-RequestId")),
		errorType: string(resp.Header.Peek("X-Amzn-ErrorType")),
		ctype:     string(resp.Header.ContentType()),
		raw:       string(resp.Body()),
	}
	if len(resp.Body()) > 0 {
		if err := json.Unmarshal(resp.Body(), &r.body); err != nil {
			c.t.Fatalf("response body %q: %v", resp.Body(), err)
		}
	}
	return r
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestHTTPAPIDispatchErrors(t *testing.T) {
	c := newInmemClient(t, Config{MaxBodyBytes: 1 << 10})
	const js = "application/x-amz-json-1.1"
	tests := []struct {
		name              string
		method, ctype, op string
		body              string
		status            int
		code              string
		messageContains   string
	}{
		{"get", "GET", js, "Kinesis_20131202.ListStreams", "", 403, "AccessDeniedException", "Unable to determine service/operation name"},
		{"put method", "PUT", js, "Kinesis_20131202.ListStreams", "{}", 403, "AccessDeniedException", ""},
		{"no content type", "POST", "", "Kinesis_20131202.ListStreams", "{}", 404, "UnknownOperationException", ""},
		{"xml content type", "POST", "text/xml", "Kinesis_20131202.ListStreams", "{}", 404, "UnknownOperationException", ""},
		{"empty body known op", "POST", js, "Kinesis_20131202.ListStreams", "", 400, "SerializationException", ""},
		{"empty body unknown op", "POST", js, "Kinesis_20131202.Frobnicate", "", 400, "UnknownOperationException", ""},
		{"unknown op", "POST", js, "Kinesis_20131202.Frobnicate", "{}", 400, "UnknownOperationException", ""},
		{"firehose prefix", "POST", js, "Firehose_20150804.ListDeliveryStreams", "{}", 400, "UnknownOperationException", ""},
		{"no target", "POST", js, "", "{}", 400, "UnknownOperationException", ""},
		{"not implemented after validation", "POST", js, "Kinesis_20131202.SubscribeToShard",
			`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}`,
			501, "NotImplemented", "not implemented: SubscribeToShard"},
		{"body too large", "POST", js, "Kinesis_20131202.ListStreams", `{"x":"` + strings.Repeat("a", 2<<10) + `"}`, 413, "InvalidArgumentException", "1024 bytes"},
		{"bad json wire", "POST", js, "Kinesis_20131202.PutRecord", "{", 400, "SerializationException", ""},
		{"bad json control", "POST", js, "Kinesis_20131202.CreateStream", "{", 400, "SerializationException", ""},
		{"type error control", "POST", js, "Kinesis_20131202.CreateStream", `{"StreamName":"a","ShardCount":"x"}`, 400, "SerializationException", ""},
		{"charset param", "POST", js + "; charset=utf-8", "Kinesis_20131202.DescribeStream", `{"StreamName":"nope"}`, 400, "ResourceNotFoundException", "Stream nope under account 000000000000 not found."},
		{"validation", "POST", js, "Kinesis_20131202.CreateStream", `{"ShardCount":1}`, 400, "ValidationException", "Value null at 'streamName' failed to satisfy constraint: Member must not be null"},
		{"bad iterator", "POST", js, "Kinesis_20131202.GetRecords", `{"ShardIterator":"AAAA"}`, 400, "InvalidArgumentException", ""},
		{"missing shard", "POST", js, "Kinesis_20131202.GetShardIterator", `{"StreamName":"nope","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}`, 400, "ResourceNotFoundException", "Stream nope under account"},
		{"no stream", "POST", js, "Kinesis_20131202.PutRecord", `{"Data":"AA==","PartitionKey":"k"}`, 400, "InvalidArgumentException", "StreamName or StreamARN"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.ctype, tc.op, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (body %s)", r.status, tc.status, r.raw)
			}
			if !uuidV4.MatchString(r.requestID) {
				t.Errorf("x-amzn-RequestId %q is not a v4 UUID", r.requestID)
			}
			if seen[r.requestID] {
				t.Errorf("request id %s repeated", r.requestID)
			}
			seen[r.requestID] = true
			if r.errorType != tc.code || r.body["__type"] != tc.code {
				t.Errorf("X-Amzn-ErrorType %q, __type %v, want %q", r.errorType, r.body["__type"], tc.code)
			}
			if r.ctype != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", r.ctype)
			}
			msg, _ := r.body["message"].(string)
			if m, ok := r.body["Message"].(string); ok {
				msg = m
			}
			if !strings.Contains(msg, tc.messageContains) {
				t.Errorf("message %q does not contain %q", msg, tc.messageContains)
			}
		})
	}
}

func TestHTTPAPISuccessHeaders(t *testing.T) {
	c := newInmemClient(t, Config{})
	const js = "application/x-amz-json-1.1"
	r := c.do("POST", js, "Kinesis_20131202.CreateStream", `{"StreamName":"s1","ShardCount":3}`)
	if r.status != 200 || r.raw != "" || !uuidV4.MatchString(r.requestID) || r.errorType != "" {
		t.Fatalf("CreateStream: %+v", r)
	}
	r = c.do("POST", js, "Kinesis_20131202.CreateStream", `{"StreamName":"s1","ShardCount":3}`)
	if r.status != 400 || r.errorType != "ResourceInUseException" {
		t.Fatalf("second CreateStream: %+v", r)
	}
	r = c.do("POST", js, "Kinesis_20131202.ListShards", `{"StreamName":"s1","MaxResults":2}`)
	if r.status != 200 || len(r.body["Shards"].([]any)) != 2 || r.body["NextToken"] == nil {
		t.Fatalf("ListShards page 1: %+v", r)
	}
	r = c.do("POST", js, "Kinesis_20131202.ListShards", `{"NextToken":"`+r.body["NextToken"].(string)+`"}`)
	if r.status != 200 || len(r.body["Shards"].([]any)) != 1 || r.body["NextToken"] != nil {
		t.Fatalf("ListShards page 2: %+v", r)
	}
	r = c.do("POST", js, "Kinesis_20131202.DescribeStreamSummary", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s1"}`)
	if r.status != 200 {
		t.Fatalf("DescribeStreamSummary: %+v", r)
	}
	sum := r.body["StreamDescriptionSummary"].(map[string]any)
	if sum["OpenShardCount"] != 3.0 || sum["StreamName"] != "s1" {
		t.Fatalf("DescribeStreamSummary: %s", r.raw)
	}
	if !regexp.MustCompile(`"StreamCreationTimestamp":\d+(\.\d{1,3})?[,}]`).MatchString(r.raw) {
		t.Errorf("StreamCreationTimestamp is not a number of seconds: %s", r.raw)
	}
}

// TestHTTPAPIEpochMillis checks the timestamps of the control-plane
// outputs: JSON seconds with a millisecond fraction (KINESIS_API.md 1.2).
func TestHTTPAPIEpochMillis(t *testing.T) {
	for ms, want := range map[int64]string{0: "0.000", 1506440188749: "1506440188.749", 1506440188000: "1506440188.000", 1506440188005: "1506440188.005"} {
		b, _ := kinesis.Timestamp(ms).MarshalJSON()
		if string(b) != want {
			t.Errorf("%d: %s, want %s", ms, b, want)
		}
		var back kinesis.Timestamp
		if err := back.UnmarshalJSON(b); err != nil || back.Millis() != ms {
			t.Errorf("%s: back %d, %v", b, back, err)
		}
	}
}
