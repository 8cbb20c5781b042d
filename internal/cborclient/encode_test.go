package cborclient

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// hx decodes hex written with spaces and "|"-separated ASCII runs:
// hx("6a|StreamName|62|s1") is 6a followed by the bytes of "StreamName"...
// Segments at even positions are hex, at odd positions ASCII.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for i, seg := range strings.Split(s, "|") {
		if i%2 == 1 {
			out = append(out, seg...)
			continue
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(seg), ""))
		if err != nil {
			t.Fatalf("bad hex %q: %v", seg, err)
		}
		out = append(out, b...)
	}
	return out
}

func checkGolden(t *testing.T, name string, v any, want []byte) {
	t.Helper()
	got, err := Encode(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %x\nwant %x", name, got, want)
	}
}

// 2026-08-18T07:01:26.712Z, the KINESIS_API.md 1.3 example c1 1b 000001a013accc38.
var exampleTime = time.UnixMilli(0x000001a013accc38)

// The goldens below are the bytes the AWS SDK for Java (v1
// AmazonKinesisClient / v2 KinesisClient) sends, derived from:
//   - jackson-dataformat-cbor CBORGenerator (2.12+, as shaded in the
//     current SDKs): writeStartObject writes 0xbf, writeEndObject 0xff,
//     writeStartArray 0x9f; _writeString writes the shortest length
//     (actual <= 23, actual <= 255) and chunks above 3996 UTF-16 units;
//     writeBinary writes a minimal length; writeNumber(int/long) is
//     minimal with WRITE_MINIMAL_INTS (default on);
//   - the SDKs' SdkCborGenerator.writeValue(Date / Instant): writeTag(1) +
//     writeNumber(epoch millis) (KINESIS_API.md 1.3: c1 1b 000001a013accc38;
//     aws/aws-sdk-java-v2#4661);
//   - member order of the generated marshallers = the service model's
//     member order (botocore service-2.json for kinesis 2013-12-02);
//     unset (null) members are not written.
func TestCBORClientGoldens(t *testing.T) {
	checkGolden(t, "PutRecord", (&PutRecordInput{StreamName: "s1", Data: []byte("hello"), PartitionKey: "pk"}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 64|Data|45|hello| 6c|PartitionKey|62|pk| ff"))

	checkGolden(t, "PutRecord all members", (&PutRecordInput{
		StreamName: "s1", Data: []byte{}, PartitionKey: "pk", ExplicitHashKey: "340282366920938463463374607431768211455",
		SequenceNumberForOrdering: "49590338271490256608559692538361571095921575989136588898", StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s1",
	}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 64|Data|40 6c|PartitionKey|62|pk|"+
			" 6f|ExplicitHashKey|78 27|340282366920938463463374607431768211455|"+
			" 78 19|SequenceNumberForOrdering|78 38|49590338271490256608559692538361571095921575989136588898|"+
			" 69|StreamARN|78 30|arn:aws:kinesis:us-east-1:000000000000:stream/s1| ff"))

	// PutRecords as the Kinesis Agent sends it (records first: model order
	// Records, StreamName; each entry Data, ExplicitHashKey, PartitionKey).
	checkGolden(t, "PutRecords", (&PutRecordsInput{StreamName: "s1", Records: []PutRecordsEntry{
		{Data: []byte("line 1\n"), PartitionKey: "p1"},
		{Data: []byte{0x00, 0xff}, ExplicitHashKey: "123", PartitionKey: "p2"},
	}}).Object(),
		hx(t, "bf 67|Records|9f"+
			" bf 64|Data|47|line 1\n| 6c|PartitionKey|62|p1| ff"+
			" bf 64|Data|42 00ff 6f|ExplicitHashKey|63|123| 6c|PartitionKey|62|p2| ff"+
			" ff 6a|StreamName|62|s1| ff"))

	checkGolden(t, "GetRecords", (&GetRecordsInput{ShardIterator: "AAAAAAAAAAH", Limit: 10000}).Object(),
		hx(t, "bf 6d|ShardIterator|6b|AAAAAAAAAAH| 65|Limit|19 2710 ff"))

	checkGolden(t, "GetShardIterator AT_TIMESTAMP", (&GetShardIteratorInput{
		StreamName: "s1", ShardId: "shardId-000000000000", ShardIteratorType: "AT_TIMESTAMP", Timestamp: exampleTime,
	}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 67|ShardId|74|shardId-000000000000|"+
			" 71|ShardIteratorType|6c|AT_TIMESTAMP| 69|Timestamp|c1 1b 000001a013accc38 ff"))

	checkGolden(t, "GetShardIterator AFTER_SEQUENCE_NUMBER", (&GetShardIteratorInput{
		StreamName: "s1", ShardId: "shardId-000000000000", ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
		StartingSequenceNumber: "49590338271490256608559692538361571095921575989136588898",
	}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 67|ShardId|74|shardId-000000000000|"+
			" 71|ShardIteratorType|75|AFTER_SEQUENCE_NUMBER|"+
			" 76|StartingSequenceNumber|78 38|49590338271490256608559692538361571095921575989136588898| ff"))

	checkGolden(t, "DescribeStream", (&DescribeStreamInput{StreamName: "s1", Limit: 100, ExclusiveStartShardId: "shardId-000000000001"}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 65|Limit|18 64 75|ExclusiveStartShardId|74|shardId-000000000001| ff"))

	checkGolden(t, "DescribeStreamSummary", (&DescribeStreamSummaryInput{StreamName: "s1"}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| ff"))

	// "StreamCreationTimestamp" is exactly 23 bytes: 77 (old Jackson wrote 78 17).
	checkGolden(t, "ListShards", (&ListShardsInput{
		StreamName: "s1", MaxResults: 1000, StreamCreationTimestamp: time.UnixMilli(1700000000123),
		ShardFilter: &ShardFilter{Type: "AT_LATEST"},
	}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 6a|MaxResults|19 03e8"+
			" 77|StreamCreationTimestamp|c1 1b 0000018bcfe5687b"+
			" 6b|ShardFilter|bf 64|Type|69|AT_LATEST| ff ff"))

	checkGolden(t, "ListShards NextToken", (&ListShardsInput{NextToken: "tok"}).Object(),
		hx(t, "bf 69|NextToken|63|tok| ff"))

	checkGolden(t, "CreateStream", (&CreateStreamInput{StreamName: "s1", ShardCount: 4, StreamMode: "PROVISIONED"}).Object(),
		hx(t, "bf 6a|StreamName|62|s1| 6a|ShardCount|04 71|StreamModeDetails|bf 6a|StreamMode|6b|PROVISIONED| ff ff"))

	checkGolden(t, "empty request", Map(), hx(t, "bf ff"))
}

func TestCBORClientScalars(t *testing.T) {
	f := func(v any, want string) {
		t.Helper()
		got, err := Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if g := hex.EncodeToString(got); g != want {
			t.Errorf("%T (%d bytes encoded): got %.80s..., want %.80s...", v, len(got), g, want)
		}
	}
	f(0, "00")
	f(23, "17")
	f(24, "1818")
	f(255, "18ff")
	f(256, "190100")
	f(65535, "19ffff")
	f(65536, "1a00010000")
	f(int64(2147483647), "1a7fffffff")
	f(int64(2147483648), "1a80000000")
	f(int64(4294967295), "1affffffff")
	f(int64(4294967296), "1b0000000100000000")
	f(-1, "20")
	f(-24, "37")
	f(-25, "3818")
	f(int64(-2147483648), "3a7fffffff")
	f(int64(-2147483649), "3a80000000")
	f(int64(-4294967297), "3b0000000100000000")
	f(true, "f5")
	f(false, "f4")
	f(nil, "f6")
	f(1.5, "fb3ff8000000000000")
	f(time.UnixMilli(1000), "c11903e8") // a millisecond count that fits a Java int is minimal
	f([]byte{}, "40")
	f(List(1, "a"), "9f016161ff")
	f("", "60")
	f(strings.Repeat("a", 22), "76"+strings.Repeat("61", 22))
	f(strings.Repeat("a", 23), "77"+strings.Repeat("61", 23))
	f(strings.Repeat("a", 24), "7818"+strings.Repeat("61", 24))
	f(strings.Repeat("a", 254), "78fe"+strings.Repeat("61", 254))
	f(strings.Repeat("a", 255), "78ff"+strings.Repeat("61", 255))
	f(strings.Repeat("a", 256), "790100"+strings.Repeat("61", 256))
	f(strings.Repeat("é", 8), "70"+strings.Repeat("c3a9", 8))         // 16 bytes
	f(strings.Repeat("é", 20), "7828"+strings.Repeat("c3a9", 20))     // 20 units, 40 bytes
	f(strings.Repeat("é", 200), "790190"+strings.Repeat("c3a9", 200)) // 200 units, 400 bytes
	// "a" + 1998 surrogate pairs = 3997 units: Jackson's first chunk would
	// end in a high surrogate, so it takes 3995 units ("a" + 1997 pairs).
	f("a"+strings.Repeat("😀", 1998), "7f791f35"+"61"+strings.Repeat("f09f9880", 1997)+"64f09f9880ff")
	if _, err := Encode(struct{}{}); err == nil {
		t.Error("encoded a struct")
	}
}
