package httpapi

import (
	"encoding/json"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluicehq/sluice/internal/cborclient"
)

// FuzzHTTPAPIDispatch sends arbitrary bodies, as JSON or CBOR, to the
// data-plane operations and to a control-plane one through the whole
// dispatch: the server never fails internally (500) on client input, and
// every error is a body in the request's encoding whose __type equals
// X-Amzn-ErrorType.
func FuzzHTTPAPIDispatch(f *testing.F) {
	ops := []string{"PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "DescribeStreamSummary"}
	seed := func(op int, cbor bool, v any) {
		var b []byte
		if cbor {
			var err error
			if b, err = cborclient.Encode(v); err != nil {
				f.Fatal(err)
			}
		} else {
			b, _ = json.Marshal(v)
		}
		f.Add(uint8(op), cbor, b)
	}
	for _, cbor := range []bool{false, true} {
		seed(0, cbor, map[string]any{"StreamName": "a", "PartitionKey": "k", "Data": []byte("x")})
		seed(1, cbor, map[string]any{"StreamName": "a", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte("x")}}})
		seed(2, cbor, map[string]any{"StreamName": "a", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
		seed(3, cbor, map[string]any{"ShardIterator": "AAAA", "Limit": 5})
		seed(4, cbor, map[string]any{"StreamName": "a"})
		f.Add(uint8(1), cbor, []byte{0xbf, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x9f, 0xa0, 0xff, 0xff})
		f.Add(uint8(0), cbor, []byte("{\"Data\":"))
	}
	m := openManager(f)
	if err := m.CreateStream("a", 1); err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Manager: m, Logger: discardLogger()})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, op uint8, cbor bool, body []byte) {
		var req fasthttp.Request
		req.Header.SetMethod("POST")
		req.SetRequestURI("/")
		req.Header.SetHost("kinesis.test")
		ct := contentJSON
		if cbor {
			ct = contentCBOR
		}
		req.Header.SetContentType(ct)
		req.Header.Set("X-Amz-Target", targetPrefix+ops[int(op)%len(ops)])
		req.SetBody(body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
		h(&ctx)
		status := ctx.Response.StatusCode()
		if status >= 500 {
			t.Fatalf("status %d for client input: %s", status, ctx.Response.Body())
		}
		if got := string(ctx.Response.Header.ContentType()); got != ct {
			t.Fatalf("Content-Type %q, want %q", got, ct)
		}
		if status == 200 {
			return
		}
		var m map[string]any
		if cbor {
			v, err := cborclient.Decode(ctx.Response.Body())
			if err != nil {
				t.Fatalf("error body is not CBOR: %v", err)
			}
			m, _ = v.(map[string]any)
		} else if err := json.Unmarshal(ctx.Response.Body(), &m); err != nil {
			t.Fatalf("error body is not JSON: %v", err)
		}
		if m["__type"] == nil || m["__type"] != string(ctx.Response.Header.Peek("X-Amzn-ErrorType")) {
			t.Fatalf("__type %v, X-Amzn-ErrorType %q", m["__type"], ctx.Response.Header.Peek("X-Amzn-ErrorType"))
		}
	})
}
