package kinesis

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWireEncodeCanonical(t *testing.T) {
	f := func(got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON: %s", got)
		}
	}
	// KINESIS_API.md 1.9.
	f(AppendPutRecordResponse(nil, &PutRecordResponse{ShardID: "shardId-000000000000",
		SequenceNumber: "49647060812288014558888668248263847763900017820167045122", EncryptionType: "NONE"}),
		`{"ShardId":"shardId-000000000000","SequenceNumber":"49647060812288014558888668248263847763900017820167045122","EncryptionType":"NONE"}`)
	f(AppendPutRecordsResponse(nil, &PutRecordsResponse{FailedRecordCount: 1, Records: []PutRecordsResultEntry{
		{ShardID: "shardId-000000000000", SequenceNumber: "4964"},
		{ShardID: "ignored", ErrorCode: RecordErrorProvisionedThroughputExceeded,
			ErrorMessage: "Rate exceeded for shard shardId-000000000000 in stream s1 under account 000000000000."},
	}}), `{"FailedRecordCount":1,"Records":[{"ShardId":"shardId-000000000000","SequenceNumber":"4964"},`+
		`{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000000 in stream s1 under account 000000000000."}]}`)
	f(AppendPutRecordsResponse(nil, &PutRecordsResponse{Records: []PutRecordsResultEntry{{ShardID: "a", SequenceNumber: "1"}}, EncryptionType: "KMS"}),
		`{"FailedRecordCount":0,"Records":[{"ShardId":"a","SequenceNumber":"1"}],"EncryptionType":"KMS"}`)
	f(AppendGetRecordsResponse(nil, &GetRecordsResponse{ChildShards: []ChildShard{
		{ShardID: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: HashKeyRange{"0", "170141183460469231731687303715884105727"}},
		{ShardID: "shardId-000000000002", ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: HashKeyRange{"170141183460469231731687303715884105728", "340282366920938463463374607431768211455"}},
	}}), `{"Records":[],"MillisBehindLatest":0,`+
		`"ChildShards":[{"ShardId":"shardId-000000000001","ParentShards":["shardId-000000000000"],"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"170141183460469231731687303715884105727"}},`+
		`{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],"HashKeyRange":{"StartingHashKey":"170141183460469231731687303715884105728","EndingHashKey":"340282366920938463463374607431768211455"}}]}`)
	f(AppendGetRecordsResponse(nil, &GetRecordsResponse{Records: []Record{
		{SequenceNumber: "1", ApproximateArrivalTimestampMillis: 1506440188749, Data: []byte("hello"), PartitionKey: "a", EncryptionType: "NONE"},
		{SequenceNumber: "2", ApproximateArrivalTimestampMillis: 1506440189005, Data: nil, PartitionKey: "b"},
	}, NextShardIterator: "AAAAAAAAAAH", MillisBehindLatest: 1200}),
		`{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1506440188.749,"Data":"aGVsbG8=","PartitionKey":"a","EncryptionType":"NONE"},`+
			`{"SequenceNumber":"2","ApproximateArrivalTimestamp":1506440189.005,"Data":"","PartitionKey":"b"}],"NextShardIterator":"AAAAAAAAAAH","MillisBehindLatest":1200}`)
	f(AppendGetShardIteratorResponse(nil, &GetShardIteratorResponse{ShardIterator: "AAAA/+=="}), `{"ShardIterator":"AAAA/+=="}`)
	// Appending keeps what dst held.
	f(AppendGetShardIteratorResponse([]byte("x"), &GetShardIteratorResponse{})[1:], `{"ShardIterator":""}`)
}

func TestWireEncodeTimestamp(t *testing.T) {
	f := func(ms int64, want string) {
		t.Helper()
		if got := string(appendTimestamp(nil, ms)); got != want {
			t.Fatalf("%d: got %s want %s", ms, got, want)
		}
	}
	f(0, "0.000")
	f(1506440188749, "1506440188.749")
	f(1506440188000, "1506440188.000")
	f(1, "0.001")
	f(-1, "-0.001")
	f(-1500, "-1.500")
	f(-9223372036854775808, "-9223372036854775.808")
}

func TestWireEncodeStrings(t *testing.T) {
	f := func(s string) {
		t.Helper()
		got := appendJSONString(nil, s)
		if !utf8.Valid(got) {
			t.Fatalf("%q: invalid UTF-8 output %q", s, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %v (%s)", s, err, got)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q: round trip gave %q", s, back)
		}
	}
	f("")
	f("plain")
	f("quote\" backslash\\ nl\n cr\r tab\t nul\x00 del\x7f esc\x1b")
	f("\u00e9\u4e16\U0001F600 \u2028\u2029")
	f("bad \xff\xfe utf8 \xc3")
	if got := string(appendJSONString(nil, "a\x01\u2028\xff")); got != `"a\u0001\u2028\ufffd"` {
		t.Fatalf("got %s", got)
	}
	// Partition keys survive a decode/encode round trip for any valid UTF-8.
	for _, key := range []string{"k", "\U0001F600", "\"<>&\u2029", strings.Repeat("\u00e9", 256)} {
		var req PutRecordsRequest
		body := AppendPutRecordsBodyForTest(nil, "s", [][2]string{{key, "aGk="}})
		if err := DecodePutRecords(body, &req); err != nil {
			t.Fatal(err)
		}
		if req.Records[0].PartitionKey != key {
			t.Fatalf("got %q want %q", req.Records[0].PartitionKey, key)
		}
	}
}

// AppendPutRecordsBodyForTest builds a PutRecords body from (key, base64) pairs.
func AppendPutRecordsBodyForTest(dst []byte, stream string, records [][2]string) []byte {
	dst = append(dst, `{"StreamName":`...)
	dst = appendJSONString(dst, stream)
	dst = append(dst, `,"Records":[`...)
	for i, r := range records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"Data":"`...)
		dst = append(dst, r[1]...)
		dst = append(dst, `","PartitionKey":`...)
		dst = appendJSONString(dst, r[0])
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func TestWireRoundTripData(t *testing.T) {
	// Encode records as GetRecords does, feed the same Data back through
	// PutRecords, and compare bytes.
	datas := [][]byte{{}, {0}, []byte("hello"), bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 100)}
	var records [][2]string
	for i, d := range datas {
		out := AppendGetRecordsResponse(nil, &GetRecordsResponse{Records: []Record{{Data: d}}})
		var parsed struct{ Records []struct{ Data string } }
		if err := json.Unmarshal(out, &parsed); err != nil {
			t.Fatal(err)
		}
		records = append(records, [2]string{string(rune('a' + i)), parsed.Records[0].Data})
	}
	var req PutRecordsRequest
	if err := DecodePutRecords(AppendPutRecordsBodyForTest(nil, "s", records), &req); err != nil {
		t.Fatal(err)
	}
	for i, d := range datas {
		if !bytes.Equal(req.Records[i].Data, d) {
			t.Fatalf("record %d: got %x want %x", i, req.Records[i].Data, d)
		}
	}
}

func TestWireErrorJSON(t *testing.T) {
	f := func(e *Error, status int, want string) {
		t.Helper()
		if e.Status != status {
			t.Fatalf("%s: status %d want %d", e.Code, e.Status, status)
		}
		if got := string(AppendErrorJSON(nil, e)); got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
	f(ResourceNotFound("Stream s1 under account 000000000000 not found."), 400,
		`{"__type":"ResourceNotFoundException","message":"Stream s1 under account 000000000000 not found."}`)
	f(Serialization("class java.lang.String can not be converted to an Integer"), 400,
		`{"__type":"SerializationException","Message":"class java.lang.String can not be converted to an Integer"}`)
	f(Serialization(""), 400, `{"__type":"SerializationException"}`)
	f(UnknownOperation(), 400, `{"__type":"UnknownOperationException"}`)
	f(InternalFailure("Internal Service Failure"), 500, `{"__type":"InternalFailureException","message":"Internal Service Failure"}`)
	f(InvalidArgument("Invalid ShardIterator."), 400, `{"__type":"InvalidArgumentException","message":"Invalid ShardIterator."}`)
	f(ExpiredIterator("Iterator expired."), 400, `{"__type":"ExpiredIteratorException","message":"Iterator expired."}`)
	f(ProvisionedThroughputExceeded("Rate exceeded"), 400, `{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"}`)
	f(Validation("a \"q\""), 400, `{"__type":"ValidationException","message":"a \"q\""}`)
	if got := ResourceInUse("x").Error(); got != "kinesis: ResourceInUseException: x" {
		t.Fatal(got)
	}
	if got := UnknownOperation().Error(); got != "kinesis: UnknownOperationException (status 400)" {
		t.Fatal(got)
	}
}

// TestWireFastPathsAgree compares the table-driven fast paths of
// checkBase64 and appendJSONString with their byte-by-byte paths on every
// string of up to 4 characters from an alphabet that hits each branch.
func TestWireFastPathsAgree(t *testing.T) {
	alphabet := []string{"A", "z", "9", "+", "/", "=", "\n", "\"", "\\", "-", "\x01", "é", "\u2028", "\xff"}
	var walk func(prefix string, depth int)
	n := 0
	walk = func(s string, depth int) {
		n++
		fast, slow := checkBase64(s), checkBase64Slow(s)
		if (fast == nil) != (slow == nil) || (fast != nil && fast.Message != slow.Message) {
			t.Fatalf("checkBase64(%q) = %v, byte by byte %v", s, fast, slow)
		}
		got := string(appendJSONString(nil, s))
		var want []byte
		want = append(want, '"')
		for _, c := range []byte(s) {
			if !jsonPlain[c] {
				want = nil
				break
			}
			want = append(want, c)
		}
		if want != nil && got != string(append(want, '"')) {
			t.Fatalf("appendJSONString(%q) = %s, want %s\"", s, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Fatalf("appendJSONString(%q) = %s: not JSON", s, got)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || (utf8.ValidString(s) && back != s) {
			t.Fatalf("appendJSONString(%q) = %s decodes to %q, %v", s, got, back, err)
		}
		if depth == 4 {
			return
		}
		for _, c := range alphabet {
			walk(s+c, depth+1)
		}
	}
	walk("", 0)
	if n < 10000 {
		t.Fatalf("walked only %d strings", n)
	}
}

// TestWireGetRecordsSizeHint checks that the size hint covers a response
// without escapes, so AppendGetRecordsResponse grows its buffer once.
func TestWireGetRecordsSizeHint(t *testing.T) {
	resp := &GetRecordsResponse{NextShardIterator: strings.Repeat("I", 300), MillisBehindLatest: 1 << 40}
	for i := range 1000 {
		resp.Records = append(resp.Records, Record{
			SequenceNumber:                    strings.Repeat("9", 56),
			ApproximateArrivalTimestampMillis: 1_795_000_000_123 + int64(i),
			Data:                              bytes.Repeat([]byte{byte(i)}, i%300),
			PartitionKey:                      strings.Repeat("k", 1+i%256),
			EncryptionType:                    "NONE",
		})
	}
	got := AppendGetRecordsResponse(nil, resp)
	if hint := getRecordsSizeHint(resp); hint < len(got) {
		t.Fatalf("size hint %d < actual length %d", hint, len(got))
	}
	if n := testing.AllocsPerRun(5, func() { _ = AppendGetRecordsResponse(nil, resp) }); n != 1 {
		t.Fatalf("AppendGetRecordsResponse(nil, ...) allocates %v times, want 1", n)
	}
}

// TestWireAppendBase64: appendBase64 encodes every length (all tails, the
// 8-byte steps and the 3-byte steps) exactly as encoding/base64 does.
func TestWireAppendBase64(t *testing.T) {
	for n := 0; n < 300; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*131 + n)
		}
		got := appendBase64([]byte("x"), src)
		if want := "x" + base64.StdEncoding.EncodeToString(src); string(got) != want {
			t.Fatalf("%d bytes: %s, want %s", n, got, want)
		}
		// Into a buffer with room: no reallocation, same result.
		buf := make([]byte, 1, 1+base64.StdEncoding.EncodedLen(n))
		buf[0] = 'x'
		if got := appendBase64(buf, src); string(got) != "x"+base64.StdEncoding.EncodeToString(src) {
			t.Fatalf("%d bytes into a sized buffer: %s", n, got)
		}
	}
}
