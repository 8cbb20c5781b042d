package kinesis

import (
	"encoding/json"
	"errors"
	"testing"
)

// checkCodes fails unless decode errors are SerializationException and
// Validate errors are ValidationException or InvalidArgumentException, and
// every error body is valid JSON.
func checkCodes(t *testing.T, decodeErr error, validate func() error) {
	t.Helper()
	var e *Error
	if decodeErr != nil {
		if !errors.As(decodeErr, &e) || e.Code != CodeSerialization {
			t.Fatalf("decode error %v is not a SerializationException", decodeErr)
		}
	} else if err := validate(); err != nil {
		if !errors.As(err, &e) || (e.Code != CodeValidation && e.Code != CodeInvalidArgument) {
			t.Fatalf("validate error %v has the wrong code", err)
		}
	} else {
		return
	}
	if body := AppendErrorJSON(nil, e); !json.Valid(body) {
		t.Fatalf("invalid error body %q", body)
	}
}

func FuzzDecodePutRecords(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s1","Records":[{"Data":"aGVsbG8=","PartitionKey":"a"},{"Data":"","PartitionKey":"b","ExplicitHashKey":"42"}]}`))
	f.Add([]byte(`{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","Records":[null,{"Data":"A==="}]}`))
	f.Add([]byte(`{"Records":[{"PartitionKey":"\ud83d\ude00","Data":"eA=="}],"StreamName":null}`))
	f.Add([]byte(`{"Records":{}}`))
	f.Add(putRecordsBody(3, 10))
	var req, again, general PutRecordsRequest
	f.Fuzz(func(t *testing.T, body []byte) {
		// Where the fast path takes a body, it decodes it as the general
		// decoder does.
		req.Reset()
		if req.decodeFast(body) {
			if err := general.decodeGeneral(body); err != nil {
				t.Fatalf("fast path took %q, the general decoder says %v", body, err)
			}
			samePutRecords(t, body, &req, &general)
		}
		err := DecodePutRecords(body, &req)
		checkCodes(t, err, req.Validate)
		if err != nil {
			return
		}
		// Deterministic, and the decoded Data survives a GetRecords-style
		// encode as valid JSON.
		if err := DecodePutRecords(body, &again); err != nil {
			t.Fatalf("second decode failed: %v", err)
		}
		resp := GetRecordsResponse{Records: make([]Record, len(req.Records))}
		for i := range req.Records {
			r, a := &req.Records[i], &again.Records[i]
			if string(r.Data) != string(a.Data) || r.PartitionKey != a.PartitionKey || r.ExplicitHashKey != a.ExplicitHashKey {
				t.Fatalf("record %d differs between decodes", i)
			}
			resp.Records[i] = Record{Data: r.Data, PartitionKey: r.PartitionKey, SequenceNumber: r.ExplicitHashKey}
		}
		if out := AppendGetRecordsResponse(nil, &resp); !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
	})
}

func FuzzDecodePutRecord(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s1","Data":"aGVsbG8=","PartitionKey":"a"}`))
	f.Add([]byte(`{"StreamName":"s1","Data":"","PartitionKey":"a","ExplicitHashKey":"340282366920938463463374607431768211456","SequenceNumberForOrdering":"1"}`))
	var req PutRecordRequest
	f.Fuzz(func(t *testing.T, body []byte) {
		checkCodes(t, DecodePutRecord(body, &req), req.Validate)
	})
}

func FuzzDecodeGetRecords(f *testing.F) {
	f.Add([]byte(`{"ShardIterator":"AAAAAAAAAAH","Limit":100}`))
	f.Add([]byte(`{"ShardIterator":"","Limit":1.5e4}`))
	f.Add([]byte(`{"Limit":"1","StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}`))
	var req GetRecordsRequest
	f.Fuzz(func(t *testing.T, body []byte) {
		err := DecodeGetRecords(body, &req)
		checkCodes(t, err, req.Validate)
		if err == nil && req.Validate() == nil {
			if l := req.EffectiveLimit(); l < 1 || l > MaxGetRecordsLimit {
				t.Fatalf("valid request with limit %d", l)
			}
		}
	})
}

func FuzzDecodeGetShardIterator(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s1","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`))
	f.Add([]byte(`{"StreamName":"s1","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1506440188.749}`))
	f.Add([]byte(`{"StreamName":"s1","ShardId":"x","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"0"}`))
	var req GetShardIteratorRequest
	f.Fuzz(func(t *testing.T, body []byte) {
		checkCodes(t, DecodeGetShardIterator(body, &req), req.Validate)
	})
}
