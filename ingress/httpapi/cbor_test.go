package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/cborclient"
	"github.com/sluicehq/sluice/stream"
)

// cborKeyed returns the bytes that follow every occurrence of the CBOR
// text key in body (one slice per occurrence, to the end of body).
func cborKeyed(body []byte, key string) [][]byte {
	k := cborclient.AppendText(nil, key)
	var out [][]byte
	for rest := body; ; {
		i := bytes.Index(rest, k)
		if i < 0 {
			return out
		}
		rest = rest[i+len(k):]
		out = append(out, rest)
	}
}

// checkCBORTimestamps checks that every value of key in body is AWS's CBOR
// timestamp: tag 1 followed by an integer (epoch milliseconds), and that
// there is at least one.
func checkCBORTimestamps(t *testing.T, what string, body []byte, key string) {
	t.Helper()
	vals := cborKeyed(body, key)
	if len(vals) == 0 {
		t.Fatalf("%s: no %s in % x", what, key, body)
	}
	for _, v := range vals {
		if len(v) < 2 || v[0] != 0xc1 || v[1]>>5 != 0 {
			t.Fatalf("%s: %s is not tag 1 + unsigned integer: % x", what, key, v[:min(len(v), 10)])
		}
	}
}

// checkCBORBlobs checks that every value of key in body is a byte string
// (major type 2), not base64 text.
func checkCBORBlobs(t *testing.T, what string, body []byte, key string) {
	t.Helper()
	vals := cborKeyed(body, key)
	if len(vals) == 0 {
		t.Fatalf("%s: no %s", what, key)
	}
	for _, v := range vals {
		if len(v) == 0 || v[0]>>5 != 2 {
			t.Fatalf("%s: %s is not a byte string: % x", what, key, v[:min(len(v), 10)])
		}
	}
}

// cborCall sends in as op with c, checks that the answer is a 200 CBOR map
// and returns it decoded and raw.
func cborCall(t *testing.T, c *cborclient.Client, op string, in any) (map[string]any, []byte) {
	t.Helper()
	body, err := cborclient.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), op, body)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d, %s %q", op, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), resp.Body)
	}
	if len(resp.Body) == 0 {
		return map[string]any{}, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentCBOR {
		t.Fatalf("%s: Content-Type %q", op, ct)
	}
	v, err := cborclient.Decode(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v in % x", op, err, resp.Body)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %T", op, v)
	}
	return m, resp.Body
}

// cborError sends in as op with c and checks the CBOR error answer: the
// status, X-Amzn-ErrorType, Content-Type and a CBOR body {__type,
// message} whose message starts with msgPrefix.
func cborError(t *testing.T, c *cborclient.Client, op string, in any, status int, code, msgPrefix string) {
	t.Helper()
	body, err := cborclient.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), op, body)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if resp.StatusCode != status || resp.Header.Get("X-Amzn-ErrorType") != code || resp.Header.Get("Content-Type") != contentCBOR {
		t.Fatalf("%s: status %d, X-Amzn-ErrorType %q, Content-Type %q; want %d %s CBOR", op, resp.StatusCode,
			resp.Header.Get("X-Amzn-ErrorType"), resp.Header.Get("Content-Type"), status, code)
	}
	v, err := cborclient.Decode(resp.Body)
	if err != nil {
		t.Fatalf("%s: error body is not CBOR: %v % x", op, err, resp.Body)
	}
	m, _ := v.(map[string]any)
	msg, _ := m["message"].(string)
	if code == "SerializationException" {
		msg, _ = m["Message"].(string)
	}
	if m["__type"] != code || !strings.HasPrefix(msg, msgPrefix) {
		t.Fatalf("%s: error body %v, want __type %s and a message starting %q", op, m, code, msgPrefix)
	}
	// The client's own error path agrees.
	_, err = c.Call(context.Background(), op, in)
	var ae *cborclient.APIError
	if !errors.As(err, &ae) || ae.Code != code || ae.StatusCode != status {
		t.Fatalf("%s: cborclient error %v", op, err)
	}
}

// TestHTTPAPICBORControlPlane runs the control-plane operations the Java
// SDK-based clients call first (KCL, the Kinesis Agent and the KPL wrapper
// describe the stream and list its shards; CLIENTS.md 2.4, 3) with the
// project's Java-SDK-faithful CBOR client over a real socket, signed, with
// SigV4 verification on: the answers are CBOR, StreamCreationTimestamp is
// tag 1 + integer milliseconds, errors are CBOR bodies with __type. These
// operations decode and encode through decodeModel/writeModel, which follow
// the request's encoding.
func TestHTTPAPICBORControlPlane(t *testing.T) {
	_, addr, _ := testListener(t, Config{Verifier: testVerifier(t)})
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	c := cborclient.New("http://"+addr, "us-east-1", testAccessKey, testSecret, hc)
	const name = "cborcp"
	ctx := context.Background()
	start := time.Now().Add(-time.Second)

	if _, err := c.CreateStream(ctx, &cborclient.CreateStreamInput{StreamName: name, ShardCount: 2}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	desc, raw := cborCall(t, c, "DescribeStream", (&cborclient.DescribeStreamInput{StreamName: name}).Object())
	sd, _ := desc["StreamDescription"].(map[string]any)
	if sd["StreamName"] != name || sd["StreamStatus"] != "ACTIVE" || len(sd["Shards"].([]any)) != 2 {
		t.Fatalf("DescribeStream: %v", desc)
	}
	if ts, ok := sd["StreamCreationTimestamp"].(time.Time); !ok || ts.Before(start.Add(-time.Minute)) || ts.After(time.Now().Add(time.Minute)) {
		t.Fatalf("DescribeStream StreamCreationTimestamp %v", sd["StreamCreationTimestamp"])
	}
	checkCBORTimestamps(t, "DescribeStream", raw, "StreamCreationTimestamp")
	sum, raw := cborCall(t, c, "DescribeStreamSummary", (&cborclient.DescribeStreamSummaryInput{StreamName: name}).Object())
	ss, _ := sum["StreamDescriptionSummary"].(map[string]any)
	if ss["StreamName"] != name || ss["OpenShardCount"] != int64(2) {
		t.Fatalf("DescribeStreamSummary: %v", sum)
	}
	checkCBORTimestamps(t, "DescribeStreamSummary", raw, "StreamCreationTimestamp")
	shards, _ := cborCall(t, c, "ListShards", (&cborclient.ListShardsInput{StreamName: name}).Object())
	if list, _ := shards["Shards"].([]any); len(list) != 2 || list[1].(map[string]any)["ShardId"] != "shardId-000000000001" {
		t.Fatalf("ListShards: %v", shards)
	}
	cborError(t, c, "DescribeStream", (&cborclient.DescribeStreamInput{StreamName: "missing"}).Object(),
		400, "ResourceNotFoundException", "Stream missing under account 000000000000 not found.")
	cborError(t, c, "CreateStream", (&cborclient.CreateStreamInput{StreamName: name, ShardCount: 1}).Object(),
		400, "ResourceInUseException", "Stream "+name+" under account 000000000000 already exists.")
}

// TestHTTPAPICBORDataPlane runs the data plane of the KPL wrapper, KCL and
// the Kinesis Agent (PutRecord, PutRecords, GetShardIterator, GetRecords)
// with the CBOR client, signed, with SigV4 verification on: blobs are byte
// strings both ways, ApproximateArrivalTimestamp is tag 1 + integer
// milliseconds, AT_TIMESTAMP takes a tag 1 timestamp, the ChildShards of a
// split shard come in CBOR, and errors (decoding, validation, not found,
// signature) are CBOR bodies with __type and X-Amzn-ErrorType.
//
// It runs over HTTP/1.1 (the Java SDK v1's Apache client, the Kinesis
// Agent), h2c and TLS h2 (the Java SDK v2's KinesisAsyncClient, KCL 2.x).
func TestHTTPAPICBORDataPlane(t *testing.T) {
	m := openManager(t)
	s, addr, pool := testListener(t, Config{Manager: m, Verifier: testVerifier(t)})
	for _, tc := range []struct {
		name, scheme, proto string
		protocols           func(*http.Protocols)
	}{
		{"http1.1", "http", "HTTP/1.1", func(p *http.Protocols) { p.SetHTTP1(true) }},
		{"h2c", "http", "HTTP/2.0", func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }},
		{"tls h2", "https", "HTTP/2.0", func(p *http.Protocols) { p.SetHTTP2(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var protos http.Protocols
			tc.protocols(&protos)
			hc := &http.Client{Transport: &http.Transport{Protocols: &protos, TLSClientConfig: &tls.Config{RootCAs: pool}}}
			defer hc.CloseIdleConnections()
			name := "cbor-" + strings.ReplaceAll(tc.name, " ", "-")
			if err := m.CreateStream(name, 2); err != nil {
				t.Fatal(err)
			}
			before := s.h2Requests.Load()
			cborDataPlane(t, m, tc.scheme+"://"+addr, hc, name)
			if h2 := s.h2Requests.Load() - before; (tc.proto == "HTTP/2.0") != (h2 > 0) {
				t.Fatalf("the server saw %d HTTP/2 requests, want %s", h2, tc.proto)
			}
		})
	}
}

func cborDataPlane(t *testing.T, m *stream.Manager, endpoint string, hc *http.Client, name string) {
	c := cborclient.New(endpoint, "us-east-1", testAccessKey, testSecret, hc)
	start := time.Now().Add(-time.Second)
	shardIDs := []string{"shardId-000000000000", "shardId-000000000001"}

	// Binary data round-trips as byte strings.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	want := map[string][]byte{} // sequence number -> data
	put, _ := cborCall(t, c, "PutRecord", (&cborclient.PutRecordInput{StreamName: name, PartitionKey: "pk", Data: all}).Object())
	seq, _ := put["SequenceNumber"].(string)
	if seq == "" || !strings.HasPrefix(put["ShardId"].(string), "shardId-") || put["EncryptionType"] != "NONE" {
		t.Fatalf("PutRecord: %v", put)
	}
	want[seq] = all
	entries := make([]cborclient.PutRecordsEntry, 20)
	for i := range entries {
		entries[i] = cborclient.PutRecordsEntry{PartitionKey: "key-" + string(rune('a'+i)), Data: []byte{0xff, 0x00, byte(i), '"', '\\'}}
	}
	puts, _ := cborCall(t, c, "PutRecords", (&cborclient.PutRecordsInput{StreamName: name, Records: entries}).Object())
	res, _ := puts["Records"].([]any)
	if puts["FailedRecordCount"] != int64(0) || len(res) != len(entries) {
		t.Fatalf("PutRecords: %v", puts)
	}
	for i, r := range res {
		m := r.(map[string]any)
		s, _ := m["SequenceNumber"].(string)
		if s == "" || m["ErrorCode"] != nil {
			t.Fatalf("PutRecords entry %d: %v", i, m)
		}
		want[s] = entries[i].Data
	}

	// Read both shards from TRIM_HORIZON, and from AT_TIMESTAMP (a tag 1
	// timestamp in the request).
	got := map[string][]byte{}
	for _, shardID := range shardIDs {
		for _, itIn := range []*cborclient.GetShardIteratorInput{
			{StreamName: name, ShardId: shardID, ShardIteratorType: "TRIM_HORIZON"},
			{StreamName: name, ShardId: shardID, ShardIteratorType: "AT_TIMESTAMP", Timestamp: start},
		} {
			it, _ := cborCall(t, c, "GetShardIterator", itIn.Object())
			iter, _ := it["ShardIterator"].(string)
			if iter == "" {
				t.Fatalf("GetShardIterator: %v", it)
			}
			recs, raw := cborCall(t, c, "GetRecords", (&cborclient.GetRecordsInput{ShardIterator: iter, Limit: 1000}).Object())
			rs, _ := recs["Records"].([]any)
			if next, _ := recs["NextShardIterator"].(string); next == "" || recs["MillisBehindLatest"] != int64(0) || recs["ChildShards"] != nil {
				t.Fatalf("GetRecords: %v", recs)
			}
			if len(rs) > 0 {
				checkCBORTimestamps(t, "GetRecords", raw, "ApproximateArrivalTimestamp")
				checkCBORBlobs(t, "GetRecords", raw, "Data")
			}
			for _, r := range rs {
				m := r.(map[string]any)
				data, ok := m["Data"].([]byte)
				ts, tok := m["ApproximateArrivalTimestamp"].(time.Time)
				if !ok || !tok || ts.Before(start.Truncate(time.Second)) || ts.After(time.Now().Add(time.Second)) {
					t.Fatalf("GetRecords record %v", m)
				}
				got[m["SequenceNumber"].(string)] = data
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(got), len(want))
	}
	for s, d := range want {
		if !bytes.Equal(got[s], d) {
			t.Fatalf("record %s: read % x, wrote % x", s, got[s], d)
		}
	}

	// The end of a split shard: no NextShardIterator, the children.
	it, _ := cborCall(t, c, "GetShardIterator", (&cborclient.GetShardIteratorInput{StreamName: name, ShardId: shardIDs[1], ShardIteratorType: "LATEST"}).Object())
	if err := m.SplitShard(name, shardIDs[1], "255211775190703847597530955573826158592"); err != nil {
		t.Fatal(err)
	}
	end, _ := cborCall(t, c, "GetRecords", (&cborclient.GetRecordsInput{ShardIterator: it["ShardIterator"].(string)}).Object())
	children, _ := end["ChildShards"].([]any)
	if _, ok := end["NextShardIterator"]; ok || len(children) != 2 || len(end["Records"].([]any)) != 0 {
		t.Fatalf("GetRecords at the end of a split shard: %v", end)
	}
	c0 := children[0].(map[string]any)
	if c0["ShardId"] != "shardId-000000000002" || len(c0["ParentShards"].([]any)) != 1 || c0["ParentShards"].([]any)[0] != shardIDs[1] ||
		c0["HashKeyRange"].(map[string]any)["EndingHashKey"] != "255211775190703847597530955573826158591" {
		t.Fatalf("ChildShards[0]: %v", c0)
	}

	// Errors come back in CBOR.
	cborError(t, c, "PutRecord", (&cborclient.PutRecordInput{StreamName: "missing", PartitionKey: "k", Data: []byte("x")}).Object(),
		400, "ResourceNotFoundException", "Stream missing under account 000000000000 not found.")
	cborError(t, c, "GetShardIterator", (&cborclient.GetShardIteratorInput{StreamName: name, ShardId: "shardId-000000000009", ShardIteratorType: "LATEST"}).Object(),
		400, "ResourceNotFoundException", "Shard shardId-000000000009 in stream "+name+" under account 000000000000 does not exist")
	cborError(t, c, "GetRecords", (&cborclient.GetRecordsInput{ShardIterator: "AAAA"}).Object(),
		400, "InvalidArgumentException", "")
	cborError(t, c, "PutRecords", cborclient.Map(cborclient.KV("StreamName", name), cborclient.KV("Records", cborclient.List(
		cborclient.Map(cborclient.KV("Data", []byte("x")), cborclient.KV("PartitionKey", ""))))),
		400, "ValidationException", "1 validation error detected: Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1")
	cborError(t, c, "PutRecord", cborclient.Map(cborclient.KV("StreamName", 7)), 400, "SerializationException", "")
	bad := cborclient.New(endpoint, "us-east-1", testAccessKey, "wrong", hc)
	cborError(t, bad, "GetRecords", (&cborclient.GetRecordsInput{ShardIterator: "AAAA"}).Object(),
		400, "InvalidSignatureException", "The request signature we calculated does not match")
	unknown := cborclient.New(endpoint, "us-east-1", "AKIDNOBODY", testSecret, hc)
	cborError(t, unknown, "PutRecords", (&cborclient.PutRecordsInput{StreamName: name, Records: entries[:1]}).Object(),
		400, "UnrecognizedClientException", "The security token included in the request is invalid.")
	unsigned, err := http.NewRequest("POST", endpoint+"/", bytes.NewReader([]byte{0xa0}))
	if err != nil {
		t.Fatal(err)
	}
	unsigned.Header.Set("Content-Type", contentCBOR)
	unsigned.Header.Set("X-Amz-Target", targetPrefix+"PutRecord")
	resp, err := hc.Do(unsigned)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v, _ := cborclient.Decode(body)
	if mv, _ := v.(map[string]any); resp.StatusCode != 400 || resp.Header.Get("Content-Type") != contentCBOR ||
		mv["__type"] != "MissingAuthenticationTokenException" || mv["message"] != "Missing Authentication Token" {
		t.Fatalf("unsigned CBOR request: %d %q % x", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}
