//go:build !race

package kinesis

import (
	"testing"

	"github.com/fxamacker/cbor/v2"
)

func TestWireAllocsCBOR(t *testing.T) {
	name := "stream-1"
	in := PutRecordsInput{StreamName: &name}
	for i := 0; i < 500; i++ {
		in.Records = append(in.Records, PutRecordsRequestEntry{Data: make([]byte, 100), PartitionKey: "partition-key"})
	}
	body, err := cbor.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var req PutRecordsRequest
	decode := func() {
		if err := DecodePutRecordsCBOR(body, &req); err != nil {
			t.Fatal(err)
		}
		if err := req.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	decode()
	if n := testing.AllocsPerRun(100, decode); n != 0 {
		t.Fatalf("DecodePutRecordsCBOR+Validate of 500 records: %v allocs, want 0", n)
	}
	if len(req.Records) != 500 || len(req.Records[499].Data) != 100 || req.StreamName != name {
		t.Fatalf("decoded %d records", len(req.Records))
	}
	limit := int32(100)
	grBody, _ := cbor.Marshal(GetRecordsInput{ShardIterator: "AAAAAAAAAAE=", Limit: &limit})
	var gr GetRecordsRequest
	ts := Timestamp(1700000000000)
	gsiBody, _ := cbor.Marshal(GetShardIteratorInput{StreamName: &name, ShardId: "shardId-000000000000", ShardIteratorType: "AT_TIMESTAMP", Timestamp: &ts})
	var gsi GetShardIteratorRequest
	prBody, _ := cbor.Marshal(PutRecordInput{StreamName: &name, Data: make([]byte, 100), PartitionKey: "pk"})
	var pr PutRecordRequest
	small := func() {
		if DecodeGetRecordsCBOR(grBody, &gr) != nil || DecodeGetShardIteratorCBOR(gsiBody, &gsi) != nil || DecodePutRecordCBOR(prBody, &pr) != nil {
			t.Fatal("decode failed")
		}
	}
	small()
	if n := testing.AllocsPerRun(100, small); n != 0 {
		t.Fatalf("GetRecords/GetShardIterator/PutRecord CBOR decoders: %v allocs, want 0", n)
	}
	if gr.Limit != 100 || gsi.TimestampMillis != 1700000000000 || len(pr.Data) != 100 {
		t.Fatal("decoded wrong values")
	}

	resp := putRecordsResponse(500)
	buf := AppendPutRecordsResponseCBOR(nil, resp)
	encode := func() { buf = AppendPutRecordsResponseCBOR(buf[:0], resp) }
	if n := testing.AllocsPerRun(100, encode); n != 0 {
		t.Fatalf("AppendPutRecordsResponseCBOR: %v allocs, want 0", n)
	}
}

// TestWireCBORBodyReuse checks that the decoded request does not alias
// body: overwriting body after decoding leaves the values intact.
func TestWireCBORBodyReuse(t *testing.T) {
	name := "stream-1"
	body, _ := cbor.Marshal(PutRecordsInput{StreamName: &name, Records: []PutRecordsRequestEntry{{Data: []byte("hello"), PartitionKey: "pk"}}})
	var req PutRecordsRequest
	if err := DecodePutRecordsCBOR(body, &req); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	if req.StreamName != name || string(req.Records[0].Data) != "hello" || req.Records[0].PartitionKey != "pk" {
		t.Fatalf("request changed with body: %q %q %q", req.StreamName, req.Records[0].Data, req.Records[0].PartitionKey)
	}
}

func BenchmarkDecodePutRecordsCBOR(b *testing.B) {
	name := "stream-1"
	in := PutRecordsInput{StreamName: &name}
	for i := 0; i < 500; i++ {
		in.Records = append(in.Records, PutRecordsRequestEntry{Data: make([]byte, 100), PartitionKey: "partition-key"})
	}
	body, _ := cbor.Marshal(in)
	var req PutRecordsRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := DecodePutRecordsCBOR(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}
