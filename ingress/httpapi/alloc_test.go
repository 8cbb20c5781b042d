//go:build !race

package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/valyala/fasthttp"

	"github.com/sluicehq/sluice/internal/cborclient"
	"github.com/sluicehq/sluice/stream"
)

// TestHTTPAPIHotPathAllocs checks that the HTTP/1.1 path adds no
// allocation of its own beyond the request id: the neutral request and
// response come from a pool. The data-plane operations' own counts (the
// Manager's work) are logged.
func TestHTTPAPIHotPathAllocs(t *testing.T) {
	s, err := New(Config{Manager: openManager(t), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	call := fastRequest
	ctx := call("CreateStream", `{"StreamName":"a","ShardCount":1}`)
	h(ctx)
	if ctx.Response.StatusCode() != 200 {
		t.Fatalf("CreateStream: %s", ctx.Response.Body())
	}
	// An operation that does nothing: what remains is the dispatch.
	s.ops["Noop"] = func(_ *Server, in *Request, out *Response) error {
		writeOK(in, out, noopBody)
		return nil
	}
	noop := call("Noop", "{}")
	if n := testing.AllocsPerRun(200, func() {
		noop.Response.Reset()
		h(noop)
	}); n > 1 {
		t.Errorf("dispatch of a no-op operation: %.1f allocations, want at most 1 (the request id)", n)
	}
	if noop.Response.StatusCode() != 200 || string(noop.Response.Body()) != "{}" {
		t.Fatalf("Noop: %d %s", noop.Response.StatusCode(), noop.Response.Body())
	}
	cborBody := func(v any) string {
		b, err := cborclient.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		op, body string
		cbor     cborclient.Object
	}{
		{"PutRecord", `{"StreamName":"a","PartitionKey":"k","Data":"AAAA"}`,
			(&cborclient.PutRecordInput{StreamName: "a", PartitionKey: "k", Data: []byte{0, 0, 0}}).Object()},
		{"PutRecords", `{"StreamName":"a","Records":[{"PartitionKey":"k","Data":"AAAA"},{"PartitionKey":"j","Data":"AAAA"}]}`,
			(&cborclient.PutRecordsInput{StreamName: "a", Records: []cborclient.PutRecordsEntry{{PartitionKey: "k", Data: []byte{0, 0, 0}}, {PartitionKey: "j", Data: []byte{0, 0, 0}}}}).Object()},
		{"GetShardIterator", `{"StreamName":"a","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`,
			(&cborclient.GetShardIteratorInput{StreamName: "a", ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON"}).Object()},
	} {
		ctx := call(tc.op, tc.body)
		n := testing.AllocsPerRun(200, func() {
			ctx.Response.Reset()
			h(ctx)
		})
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("%s: %s", tc.op, ctx.Response.Body())
		}
		// The same request in CBOR costs no more than in JSON.
		cctx := call(tc.op, cborBody(tc.cbor))
		cctx.Request.Header.SetContentType(contentCBOR)
		nc := testing.AllocsPerRun(200, func() {
			cctx.Response.Reset()
			h(cctx)
		})
		if cctx.Response.StatusCode() != 200 || string(cctx.Response.Header.ContentType()) != contentCBOR {
			t.Fatalf("%s in CBOR: %d % x", tc.op, cctx.Response.StatusCode(), cctx.Response.Body())
		}
		t.Logf("%s: %.1f allocs in JSON, %.1f in CBOR", tc.op, n, nc)
		if nc > n {
			t.Errorf("%s: %.1f allocations in CBOR, more than JSON's %.1f", tc.op, nc, n)
		}
	}
}

var noopBody = []byte("{}")

// fastRequest returns a fasthttp request context for a JSON call of op
// with body, as the HTTP/1.1 transport hands it to the handler.
func fastRequest(op, body string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/")
	req.Header.SetHost("kinesis.test")
	req.Header.SetContentType("application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.SetBodyString(body)
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
	return &ctx
}

// TestHTTPAPIAuthAllocs: verifying a SigV4 signature adds no allocation to
// the dispatch (the verifier's key cache is warm after the first request).
func TestHTTPAPIAuthAllocs(t *testing.T) {
	signTime := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, err := New(Config{Manager: openManager(t), Logger: discardLogger(), Verifier: testVerifier(t),
		Now: func() time.Time { return signTime }})
	if err != nil {
		t.Fatal(err)
	}
	s.ops["Noop"] = func(_ *Server, in *Request, out *Response) error {
		writeOK(in, out, noopBody)
		return nil
	}
	h := s.Handler()
	const body = "{}"
	hr, err := http.NewRequest("POST", "http://kinesis.test/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/x-amz-json-1.1")
	hr.Header.Set("X-Amz-Target", "Kinesis_20131202.Noop")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, hr, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/")
	req.Header.SetHost("kinesis.test")
	for k, vs := range hr.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.SetBodyString(body)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
	h(&ctx)
	if ctx.Response.StatusCode() != 200 {
		t.Fatalf("signed Noop: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if n := testing.AllocsPerRun(200, func() {
		ctx.Response.Reset()
		h(&ctx)
	}); n > 1 {
		t.Errorf("dispatch of a signed no-op operation: %.1f allocations, want at most 1 (the request id)", n)
	}
	if ctx.Response.StatusCode() != 200 {
		t.Fatalf("signed Noop: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	// A wrong signature is refused (the check above is not vacuous).
	ctx.Request.Header.Set("Authorization", strings.Replace(string(req.Header.Peek("Authorization")), "Signature=", "Signature=0", 1))
	ctx.Response.Reset()
	h(&ctx)
	if ctx.Response.StatusCode() != 400 || string(ctx.Response.Header.Peek("X-Amzn-ErrorType")) != "InvalidSignatureException" {
		t.Fatalf("bad signature: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// TestHTTPAPIGetRecordsLargeBuffer checks that a large GetRecords response
// is encoded into a kept buffer: after the first call, a call allocates
// less than the records' data plus half the response (the read's own copy
// of the data is the Manager's), where a fresh response buffer per call
// costs the whole response on top.
func TestHTTPAPIGetRecordsLargeBuffer(t *testing.T) {
	m := openManager(t)
	s, err := New(Config{Manager: m, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateStream("big", 1); err != nil {
		t.Fatal(err)
	}
	const n, size = 40, 100 << 10
	recs := make([]stream.PutEntry, n)
	for i := range recs {
		recs[i] = stream.PutEntry{PartitionKey: "k", Data: bytes.Repeat([]byte{byte(i)}, size)}
	}
	if _, err := m.PutRecords("big", recs); err != nil {
		t.Fatal(err)
	}
	it, err := m.GetShardIterator("big", "shardId-000000000000", "TRIM_HORIZON", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	ctx := fastRequest("GetRecords", `{"ShardIterator":"`+it+`","Limit":10000}`)
	call := func() int {
		ctx.Response.Reset()
		h(ctx)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("GetRecords: %s", ctx.Response.Body())
		}
		return len(ctx.Response.Body())
	}
	respLen := call()
	if want := n * size * 4 / 3; respLen < want {
		t.Fatalf("response of %d bytes, want at least %d", respLen, want)
	}
	var before, after runtime.MemStats
	const calls = 5
	runtime.ReadMemStats(&before)
	for range calls {
		call()
	}
	runtime.ReadMemStats(&after)
	per := int(after.TotalAlloc-before.TotalAlloc) / calls
	t.Logf("GetRecords of %d records of %d bytes: %d bytes allocated per call, response %d bytes", n, size, per, respLen)
	if limit := n*size + respLen/2; per > limit {
		t.Errorf("GetRecords allocates %d bytes per call, want at most %d (data %d + half the response)", per, limit, n*size)
	}
}
