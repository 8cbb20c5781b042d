package kinesis

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func wantError(t *testing.T, err error, code, message string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code || e.Message != message || e.Status != 400 {
		t.Fatalf("got %s %d %q\nwant %s 400 %q", e.Code, e.Status, e.Message, code, message)
	}
}

func TestWireDecodePutRecordsOK(t *testing.T) {
	var req PutRecordsRequest
	body := []byte(`{"StreamName":"s1","StreamARN":null,"Unknown":{"x":[1,2]},"Records":[` +
		`{"Data":"aGVsbG8=","PartitionKey":"a"},` +
		`{"Data":"","PartitionKey":"k\u00e9\"y","ExplicitHashKey":"42","Extra":true}]}`)
	if err := DecodePutRecords(body, &req); err != nil {
		t.Fatal(err)
	}
	if req.StreamName != "s1" || req.StreamARN != "" || len(req.Records) != 2 {
		t.Fatalf("got %+v", &req)
	}
	r0, r1 := req.Records[0], req.Records[1]
	if string(r0.Data) != "hello" || r0.PartitionKey != "a" || r0.ExplicitHashKey != "" {
		t.Fatalf("record 0: %+v", r0)
	}
	if r1.Data == nil || len(r1.Data) != 0 || r1.PartitionKey != "k\u00e9\"y" || r1.ExplicitHashKey != "42" {
		t.Fatalf("record 1: %+v", r1)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	// Reuse: a smaller body leaves no trace of the previous one, and the
	// caller's body buffer may be overwritten after decoding.
	body2 := []byte(`{"StreamName":"s2","Records":[{"Data":"eA==","PartitionKey":"p"}]}`)
	if err := DecodePutRecords(body2, &req); err != nil {
		t.Fatal(err)
	}
	copy(body2, bytes.Repeat([]byte("z"), len(body2)))
	if req.StreamName != "s2" || len(req.Records) != 1 || string(req.Records[0].Data) != "x" || req.Records[0].PartitionKey != "p" {
		t.Fatalf("reuse: %+v", &req)
	}
}

func TestWireDecodeTypeErrors(t *testing.T) {
	f := func(body, message string) {
		t.Helper()
		var req PutRecordsRequest
		wantError(t, DecodePutRecords([]byte(body), &req), CodeSerialization, message)
	}
	f(``, "")
	f(`{`, "")
	f(`{"StreamName":"s"} x`, "")
	f(`[]`, "Start of list found where not expected")
	f(`{"StreamName":1}`, "class java.math.BigDecimal can not be converted to an String")
	f(`{"StreamName":true}`, "class java.lang.Boolean can not be converted to an String")
	f(`{"StreamName":[]}`, "Start of list found where not expected")
	f(`{"StreamName":{}}`, "Start of structure or map found where not expected.")
	f(`{"Records":"x"}`, "Expected list or null")
	f(`{"Records":{}}`, "Start of structure or map found where not expected.")
	f(`{"Records":[1]}`, "Expected null")
	f(`{"Records":[[]]}`, "Start of list found where not expected")
	f(`{"Records":[{"PartitionKey":5}]}`, "class java.math.BigDecimal can not be converted to an String")
	f(`{"Records":[{"Data":5}]}`, "class java.math.BigDecimal can not be converted to a Blob")
	f(`{"Records":[{"Data":false}]}`, "class java.lang.Boolean can not be converted to a Blob")
	f(`{"Records":[{"Data":"abc"}]}`, "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3")
	f(`{"Records":[{"Data":"ab$d"}]}`, "'ab$d' can not be converted to a Blob: Invalid Base64 character: '$'")
	f(`{"Records":[{"Data":"a=bc"}]}`, "'a=bc' can not be converted to a Blob: Invalid Base64 character: '='")
	f(`{"Records":[{"Data":"ab\ncd=="}]}`, "'ab\ncd==' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 7")
	f(`{"Records":[{"Data":"abc\nd==="}]}`, "'abc\nd===' can not be converted to a Blob: Invalid Base64 character: '\n'")
	f(`{"Records":[{"Data":"aGVsbG9="}]}`, "'aGVsbG9=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
	f(`{"Records":[{"Data":"A==="}]}`, "'A===' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
	// Text Go's decoder accepts by skipping the line breaks (length a
	// multiple of 4): AWS rejects the line break.
	f(`{"Records":[{"Data":"YWJj\n\n\n\nZGVm"}]}`, "'YWJj\n\n\n\nZGVm' can not be converted to a Blob: Invalid Base64 character: '\n'")
	f(`{"Records":[{"Data":"YWJj\r\n\r\nZG=="}]}`, "'YWJj\r\n\r\nZG==' can not be converted to a Blob: Invalid Base64 character: '\r'")

	var gr GetRecordsRequest
	wantError(t, DecodeGetRecords([]byte(`{"ShardIterator":"x","Limit":"5"}`), &gr), CodeSerialization,
		"class java.lang.String can not be converted to an Integer")
	wantError(t, DecodeGetRecords([]byte(`{"ShardIterator":"x","Limit":true}`), &gr), CodeSerialization,
		"class java.lang.Boolean can not be converted to an Integer")
	wantError(t, DecodeGetRecords([]byte(`{"ShardIterator":"x","Limit":1e12}`), &gr), CodeSerialization,
		"class java.lang.Long can not be converted to an Integer")
	var gs GetShardIteratorRequest
	wantError(t, DecodeGetShardIterator([]byte(`{"Timestamp":{}}`), &gs), CodeSerialization,
		"Start of structure or map found where not expected.")
}

func TestWireDecodePutRecord(t *testing.T) {
	// Canonical example of KINESIS_API.md 1.9.
	var req PutRecordRequest
	if err := DecodePutRecord([]byte(`{"StreamName":"s1","Data":"aGVsbG8=","PartitionKey":"a"}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.StreamName != "s1" || string(req.Data) != "hello" || req.PartitionKey != "a" {
		t.Fatalf("got %+v", &req)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DecodePutRecord([]byte(`{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s1","Data":"","PartitionKey":"a","ExplicitHashKey":"0","SequenceNumberForOrdering":"12"}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.StreamName != "" || req.Data == nil || len(req.Data) != 0 || req.ExplicitHashKey != "0" || req.SequenceNumberForOrdering != "12" {
		t.Fatalf("got %+v", &req)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWireDecodeGetShardIterator(t *testing.T) {
	var req GetShardIteratorRequest
	body := `{"StreamName":"s1","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1506440188.749}`
	if err := DecodeGetShardIterator([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	if req.ShardID != "shardId-000000000000" || req.ShardIteratorType != IteratorAtTimestamp || !req.HasTimestamp || req.TimestampMillis != 1506440188749 {
		t.Fatalf("got %+v", &req)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	// botocore sends integer seconds.
	if err := DecodeGetShardIterator([]byte(`{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1506440188}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.TimestampMillis != 1506440188000 {
		t.Fatalf("got %d", req.TimestampMillis)
	}
}

func TestWireDecodeGetRecords(t *testing.T) {
	var req GetRecordsRequest
	if err := DecodeGetRecords([]byte(`{"ShardIterator":"AAAAAAAAAAH","Limit":25.9}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.ShardIterator != "AAAAAAAAAAH" || req.Limit != 25 || req.EffectiveLimit() != 25 {
		t.Fatalf("got %+v", &req)
	}
	if err := DecodeGetRecords([]byte(`{"ShardIterator":"AAAAAAAAAAH","Limit":null}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.EffectiveLimit() != DefaultGetRecordsLimit {
		t.Fatalf("got %d", req.EffectiveLimit())
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWireDecodeEscapedStrings(t *testing.T) {
	var req PutRecordsRequest
	body := `{"StreamName":"s\u0031","Records":[{"Data":"aGk=","PartitionKey":"\ud83d\ude00\n\\"}]}`
	if err := DecodePutRecords([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	if req.StreamName != "s1" || req.Records[0].PartitionKey != "\U0001F600\n\\" {
		t.Fatalf("got %q %q", req.StreamName, req.Records[0].PartitionKey)
	}
	if !strings.Contains(string(AppendPutRecordResponse(nil, &PutRecordResponse{ShardID: req.Records[0].PartitionKey})), "\"\U0001F600\\n\\\\\"") {
		t.Fatal("round trip of escaped key failed")
	}
}

// samePutRecords fails unless a and b decoded the same request.
func samePutRecords(t *testing.T, body []byte, a, b *PutRecordsRequest) {
	t.Helper()
	if a.StreamName != b.StreamName || a.StreamARN != b.StreamARN || a.present != b.present || len(a.Records) != len(b.Records) {
		t.Fatalf("%q: fast path %q %q %b %d records, general %q %q %b %d records", body,
			a.StreamName, a.StreamARN, a.present, len(a.Records), b.StreamName, b.StreamARN, b.present, len(b.Records))
	}
	for i := range a.Records {
		x, y := &a.Records[i], &b.Records[i]
		if x.present != y.present || x.PartitionKey != y.PartitionKey || x.ExplicitHashKey != y.ExplicitHashKey ||
			string(x.Data) != string(y.Data) || (x.Data == nil) != (y.Data == nil) {
			t.Fatalf("%q: record %d: fast path %+v, general %+v", body, i, *x, *y)
		}
	}
}

// TestWirePutRecordsFastPath: decodeFast takes the usual bodies and gives
// what the general decoder gives; it leaves everything else (escapes,
// unknown or repeated members, null, other types, bad base64, trailing
// bytes) to the general decoder.
func TestWirePutRecordsFastPath(t *testing.T) {
	accept := []string{
		`{}`,
		` { "StreamName" : "s" , "Records" : [ ] } `,
		"{\"StreamName\":\"s\",\n\t\"Records\":[{\"Data\":\"aGVsbG8=\",\"PartitionKey\":\"a\"},\r\n{\"PartitionKey\":\"b\",\"ExplicitHashKey\":\"42\",\"Data\":\"\"}]}",
		`{"Records":[{}],"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}`,
		`{"Records":[{"PartitionKey":"raw UTF-8: é","Data":"eA=="}],"StreamName":""}`,
		string(putRecordsBody(20, 100)),
	}
	reject := []string{
		``, `{`, `[]`, `{"StreamName":"s"} x`, `{"StreamName":"s",}`, `{"StreamName":null}`, `{"StreamName":1}`,
		`{"StreamName":"a","StreamName":"b"}`, `{"Other":"x"}`, `{"Records":null}`, `{"Records":[null]}`,
		`{"Records":[{"Data":"abc"}]}`, `{"Records":[{"Data":"YWJj\n\n\n\nZGVm"}]}`, `{"Records":[{"Data":"aGVsbG9="}]}`,
		`{"Records":[{"PartitionKey":"a\"b"}]}`, `{"Records":[{"PartitionKey":"\u00e9"}]}`, `{"Records":[{"PartitionKey":"a","PartitionKey":"b"}]}`,
		`{"Records":[{"Data":"eA==",}]}`, `{"Records":[{"Data":"eA=="}],"Records":[]}`, `{"Records":[{"X":"y"}]}`,
		`{"Records":[{"Data":"eA=="} {"Data":"eA=="}]}`, `{"Records":[1]}`, `{"Records":{}}`, `{"StreamName":"s"}` + "\x00",
	}
	var fast, general PutRecordsRequest
	for _, b := range accept {
		body := []byte(b)
		fast.Reset()
		if !fast.decodeFast(body) {
			t.Fatalf("%q: not taken by the fast path", body)
		}
		if err := general.decodeGeneral(body); err != nil {
			t.Fatalf("%q: general decoder: %v", body, err)
		}
		samePutRecords(t, body, &fast, &general)
	}
	for _, b := range reject {
		fast.Reset()
		if fast.decodeFast([]byte(b)) {
			t.Fatalf("%q: taken by the fast path", b)
		}
	}
	// The strings alias the request, not the body.
	body := []byte(`{"StreamName":"s","Records":[{"Data":"eA==","PartitionKey":"k"}]}`)
	if err := DecodePutRecords(body, &fast); err != nil {
		t.Fatal(err)
	}
	clear(body)
	if fast.StreamName != "s" || fast.Records[0].PartitionKey != "k" {
		t.Fatalf("decoded strings changed with the body: %q %q", fast.StreamName, fast.Records[0].PartitionKey)
	}
}
