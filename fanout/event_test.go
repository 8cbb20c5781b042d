package fanout

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/sluicehq/sluice/stream"
)

// wireEvent is a SubscribeToShardEvent as a client decodes it, from JSON or
// CBOR (timestamps are checked apart).
type wireEvent struct {
	Records []struct {
		SequenceNumber, PartitionKey, EncryptionType string
		Data                                         []byte
	}
	ContinuationSequenceNumber *string
	MillisBehindLatest         *int64
	ChildShards                []struct {
		ShardId      string
		ParentShards []string
		HashKeyRange struct{ StartingHashKey, EndingHashKey string }
	}
}

func testBatch(t *testing.T, end bool) *stream.FollowBatch {
	t.Helper()
	key := func(s string) stream.HashKey {
		k, err := stream.ParseHashKey(s)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	b := &stream.FollowBatch{
		Records: []stream.RecordOut{
			{SequenceNumber: "49600000000000000000000000000000000000000000000000000001", ArrivalMillis: 1700000000123, PartitionKey: `k"<&>`, Data: []byte{0, 1, 0xff}},
			{SequenceNumber: "49600000000000000000000000000000000000000000000000000002", ArrivalMillis: 1700000000007, PartitionKey: "ü", Data: nil},
		},
		Continuation:       "49600000000000000000000000000000000000000000000000000002",
		MillisBehindLatest: 1234,
	}
	if end {
		b.Continuation, b.ShardEnd = "", true
		b.ChildShards = []stream.ShardInfo{
			{ShardID: "shardId-000000000001", ParentShardID: "shardId-000000000000", HashKeyRange: stream.HashKeyRange{Start: key("0"), End: key("170141183460469231731687303715884105727")}},
			{ShardID: "shardId-000000000003", ParentShardID: "shardId-000000000000", AdjacentParentShardID: "shardId-000000000002",
				HashKeyRange: stream.HashKeyRange{Start: key("170141183460469231731687303715884105728"), End: key("340282366920938463463374607431768211455")}},
		}
	}
	return b
}

// TestEventPayloads checks that the JSON and CBOR payloads of an event
// decode to the same SubscribeToShardEvent with the standard decoders:
// records, continuation (absent only at shard end), MillisBehindLatest,
// EncryptionType only when encrypted, ChildShards only at shard end;
// timestamps as fractional seconds in JSON and tag 1 + ms in CBOR.
func TestEventPayloads(t *testing.T) {
	for _, end := range []bool{false, true} {
		for _, enc := range []string{stream.EncryptionNone, "KMS"} {
			b := testBatch(t, end)
			var fromJSON, fromCBOR wireEvent
			js := appendEventJSON(nil, b, enc)
			if err := json.Unmarshal(js, &fromJSON); err != nil {
				t.Fatalf("JSON %s: %v", js, err)
			}
			var rawJS struct {
				Records []struct{ ApproximateArrivalTimestamp json.Number }
			}
			if err := json.Unmarshal(js, &rawJS); err != nil {
				t.Fatal(err)
			}
			cb := appendEventCBOR(nil, b, enc)
			if err := cbor.Unmarshal(cb, &fromCBOR); err != nil {
				t.Fatalf("CBOR % x: %v", cb, err)
			}
			var rawCB struct {
				Records []struct{ ApproximateArrivalTimestamp cbor.Tag }
			}
			if err := cbor.Unmarshal(cb, &rawCB); err != nil {
				t.Fatal(err)
			}
			for i, r := range b.Records {
				if got, want := string(rawJS.Records[i].ApproximateArrivalTimestamp), []string{"1700000000.123", "1700000000.007"}[i]; got != want {
					t.Errorf("JSON timestamp %d: %s, want %s", i, got, want)
				}
				if tg := rawCB.Records[i].ApproximateArrivalTimestamp; tg.Number != 1 || tg.Content != uint64(r.ArrivalMillis) {
					t.Errorf("CBOR timestamp %d: %+v, want tag 1 %d", i, tg, r.ArrivalMillis)
				}
				for _, w := range []*wireEvent{&fromJSON, &fromCBOR} {
					wr := w.Records[i]
					wantEnc := ""
					if enc == "KMS" {
						wantEnc = "KMS"
					}
					if wr.SequenceNumber != r.SequenceNumber || wr.PartitionKey != r.PartitionKey || string(wr.Data) != string(r.Data) || wr.EncryptionType != wantEnc {
						t.Errorf("record %d: %+v, want %+v (encryption %q)", i, wr, r, wantEnc)
					}
				}
			}
			if !reflect.DeepEqual(fromJSON, fromCBOR) {
				t.Errorf("JSON and CBOR differ:\n%+v\n%+v", fromJSON, fromCBOR)
			}
			if *fromJSON.MillisBehindLatest != 1234 {
				t.Errorf("MillisBehindLatest %d", *fromJSON.MillisBehindLatest)
			}
			if end {
				if fromJSON.ContinuationSequenceNumber != nil || len(fromJSON.ChildShards) != 2 {
					t.Fatalf("shard end: continuation %v, %d children", fromJSON.ContinuationSequenceNumber, len(fromJSON.ChildShards))
				}
				c := fromJSON.ChildShards[1]
				if c.ShardId != "shardId-000000000003" || !reflect.DeepEqual(c.ParentShards, []string{"shardId-000000000000", "shardId-000000000002"}) ||
					c.HashKeyRange.StartingHashKey != "170141183460469231731687303715884105728" || c.HashKeyRange.EndingHashKey != "340282366920938463463374607431768211455" {
					t.Errorf("child: %+v", c)
				}
			} else if fromJSON.ContinuationSequenceNumber == nil || *fromJSON.ContinuationSequenceNumber != b.Continuation || fromJSON.ChildShards != nil {
				t.Errorf("open shard: continuation %v, children %v", fromJSON.ContinuationSequenceNumber, fromJSON.ChildShards)
			}
		}
	}
}
