package cborclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/wire/sigv4"
)

// fakeKinesis is an httptest server that checks each request (method,
// headers, SigV4 signature with wire/sigv4, body bytes against the golden)
// and answers with a canned status, headers and body.
type fakeKinesis struct {
	t        *testing.T
	verifier *sigv4.Verifier
	now      time.Time

	wantOp   string
	wantBody []byte
	status   int
	header   map[string]string
	body     []byte
}

func (f *fakeKinesis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	body, _ := io.ReadAll(r.Body)
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		http.Error(w, "test server: bad request", 599)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		fail("request %s %s", r.Method, r.URL.Path)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-cbor-1.1" {
		fail("Content-Type %q", ct)
		return
	}
	if tg := r.Header.Get("X-Amz-Target"); tg != "Kinesis_20131202."+f.wantOp {
		fail("X-Amz-Target %q, want op %s", tg, f.wantOp)
		return
	}
	path, query, _ := strings.Cut(r.RequestURI, "?")
	res, err := f.verifier.Verify(&sigv4.Request{Method: r.Method, Path: path, RawQuery: query, Host: r.Host,
		Header: func(n string) []string { return r.Header.Values(n) }, Body: body}, f.now)
	if err != nil {
		fail("signature: %v", err)
		return
	}
	if res.Region != "eu-central-1" || res.AccessKeyID != "AKIDCBOR" {
		fail("signed for %+v", res)
		return
	}
	if !bytes.Equal(body, f.wantBody) {
		fail("%s body\n got %x\nwant %x", f.wantOp, body, f.wantBody)
		return
	}
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.status)
	w.Write(f.body)
}

func newFake(t *testing.T) (*fakeKinesis, *Client) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v, err := sigv4.NewVerifier(sigv4.Config{Credentials: sigv4.StaticCredentials{"AKIDCBOR": "cbor-secret"}, Service: "kinesis"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeKinesis{t: t, verifier: v, now: now}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := New(srv.URL, "eu-central-1", "AKIDCBOR", "cbor-secret", srv.Client())
	c.Now = func() time.Time { return now }
	return f, c
}

func TestCBORClientCalls(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	cborOK := map[string]string{"Content-Type": ContentType, "X-Amzn-RequestId": "req-1"}

	// PutRecord: golden request, AWS-style indefinite response.
	f.wantOp, f.status, f.header = "PutRecord", 200, cborOK
	f.wantBody = hx(t, "bf 6a|StreamName|62|s1| 64|Data|45|hello| 6c|PartitionKey|62|pk| ff")
	f.body = hx(t, "bf 67|ShardId|74|shardId-000000000000| 6e|SequenceNumber|62|49| ff")
	out, err := c.PutRecord(ctx, &PutRecordInput{StreamName: "s1", Data: []byte("hello"), PartitionKey: "pk"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"ShardId": "shardId-000000000000", "SequenceNumber": "49"}; !reflect.DeepEqual(out, want) {
		t.Fatalf("PutRecord: %v", out)
	}

	// GetShardIterator AT_TIMESTAMP.
	f.wantOp = "GetShardIterator"
	f.wantBody = hx(t, "bf 6a|StreamName|62|s1| 67|ShardId|74|shardId-000000000000|"+
		" 71|ShardIteratorType|6c|AT_TIMESTAMP| 69|Timestamp|c1 1b 000001a013accc38 ff")
	f.body = hx(t, "bf 6d|ShardIterator|63|it1| ff")
	out, err = c.GetShardIterator(ctx, &GetShardIteratorInput{StreamName: "s1", ShardId: "shardId-000000000000", ShardIteratorType: "AT_TIMESTAMP", Timestamp: exampleTime})
	if err != nil || out["ShardIterator"] != "it1" {
		t.Fatalf("GetShardIterator: %v %v", out, err)
	}

	// GetRecords: records with byte-string Data and tag-1 millisecond timestamps.
	f.wantOp = "GetRecords"
	f.wantBody = hx(t, "bf 6d|ShardIterator|63|it1| 65|Limit|19 2710 ff")
	f.body = hx(t, "bf 67|Records|9f bf 6e|SequenceNumber|62|49| 78 1b|ApproximateArrivalTimestamp|c1 1b 000001a013accc38"+
		" 64|Data|45|hello| 6c|PartitionKey|62|pk| ff ff 71|NextShardIterator|63|it2| 72|MillisBehindLatest|00 ff")
	out, err = c.GetRecords(ctx, &GetRecordsInput{ShardIterator: "it1", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	rec := out["Records"].([]any)[0].(map[string]any)
	if !bytes.Equal(rec["Data"].([]byte), []byte("hello")) || !rec["ApproximateArrivalTimestamp"].(time.Time).Equal(exampleTime) || out["NextShardIterator"] != "it2" {
		t.Fatalf("GetRecords: %v", out)
	}

	// CreateStream: no output shape, empty body.
	f.wantOp, f.header, f.body = "CreateStream", map[string]string{"Content-Type": ContentType}, nil
	f.wantBody = hx(t, "bf 6a|StreamName|62|s2| 6a|ShardCount|02 ff")
	if out, err = c.CreateStream(ctx, &CreateStreamInput{StreamName: "s2", ShardCount: 2}); err != nil || len(out) != 0 {
		t.Fatalf("CreateStream: %v %v", out, err)
	}

	// Generic Call with no members.
	f.wantOp, f.wantBody, f.header = "ListStreams", hx(t, "bf ff"), cborOK
	f.body = hx(t, "bf 6b|StreamNames|9f 62|s1| ff 6e|HasMoreStreams|f4 ff")
	if out, err = c.Call(ctx, "ListStreams", nil); err != nil || out["HasMoreStreams"] != false {
		t.Fatalf("ListStreams: %v %v", out, err)
	}
}

func TestCBORClientErrors(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	f.wantOp = "DescribeStreamSummary"
	f.wantBody = hx(t, "bf 6a|StreamName|62|s9| ff")
	in := &DescribeStreamSummaryInput{StreamName: "s9"}

	check := func(name string, status int, header map[string]string, body []byte, want APIError) {
		t.Helper()
		f.status, f.header, f.body = status, header, body
		_, err := c.DescribeStreamSummary(ctx, in)
		var e *APIError
		if !errors.As(err, &e) || *e != want {
			t.Fatalf("%s: got %#v (%v), want %#v", name, e, err, want)
		}
	}
	check("CBOR body", 400, map[string]string{"Content-Type": ContentType, "X-Amzn-ErrorType": "ResourceNotFoundException", "X-Amzn-RequestId": "r1"},
		hx(t, "bf 66|__type|78 19|ResourceNotFoundException| 67|message|78 2f|Stream s9 under account 000000000000 not found.| ff"),
		APIError{StatusCode: 400, Code: "ResourceNotFoundException", Message: "Stream s9 under account 000000000000 not found.", RequestID: "r1"})
	check("namespaced __type, capital Message", 400, map[string]string{"Content-Type": ContentType},
		hx(t, "a2 66|__type|78 35|com.amazon.coral.service#SerializationException:extra| 67|Message|62|no|"),
		APIError{StatusCode: 400, Code: "SerializationException", Message: "no"})
	check("header only", 500, map[string]string{"X-Amzn-ErrorType": "InternalFailureException"}, []byte("oops"),
		APIError{StatusCode: 500, Code: "InternalFailureException"})
	check("nothing", 503, nil, nil, APIError{StatusCode: 503, Code: "Service Unavailable"})

	f.status, f.header, f.body = 200, map[string]string{"Content-Type": "application/x-amz-json-1.1"}, []byte(`{}`)
	if _, err := c.DescribeStreamSummary(ctx, in); err == nil || !strings.Contains(err.Error(), "Content-Type") {
		t.Fatalf("JSON answer to a CBOR request: %v", err)
	}
	f.header, f.body = map[string]string{"Content-Type": ContentType}, hx(t, "bf 61|a|")
	if _, err := c.DescribeStreamSummary(ctx, in); err == nil || !strings.Contains(err.Error(), "cannot decode") {
		t.Fatalf("truncated answer: %v", err)
	}
	if _, err := c.Call(ctx, "X", struct{}{}); err == nil {
		t.Fatal("encoded a struct")
	}
}

// TestCBORClientConcurrent calls through one Client from several
// goroutines (run with -race).
func TestCBORClientConcurrent(t *testing.T) {
	f, c := newFake(t)
	f.wantOp, f.status = "DescribeStreamSummary", 200
	f.header = map[string]string{"Content-Type": ContentType}
	f.wantBody = hx(t, "bf 6a|StreamName|62|s1| ff")
	f.body = hx(t, "bf 78 18|StreamDescriptionSummary|bf 6a|StreamName|62|s1| ff ff")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var err error
			for range 20 {
				var out map[string]any
				if out, err = c.DescribeStreamSummary(context.Background(), &DescribeStreamSummaryInput{StreamName: "s1"}); err != nil {
					break
				}
				if out["StreamDescriptionSummary"].(map[string]any)["StreamName"] != "s1" {
					err = errors.New("bad response")
					break
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
