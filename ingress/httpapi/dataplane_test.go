package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
)

// openManagerWith is openManager with cfg's changes.
func openManagerWith(t *testing.T, change func(*stream.Config)) *stream.Manager {
	t.Helper()
	cfg := stream.Config{
		DataDir:    t.TempDir(),
		Durability: segment.Async,
		Segment: segment.Config{
			FragmentBytes:  4 << 20,
			MaxStripeBytes: 64 << 10,
			Logger:         discardLogger(),
		},
	}
	change(&cfg)
	m, err := stream.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// dataPlaneClient serves m on a loopback port and returns an
// aws-sdk-go-v2 client for it (HTTP/1.1, JSON, no retries).
func dataPlaneClient(t *testing.T, m *stream.Manager) *kinesis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln, Config{Manager: m})
	return sdkClient(t, "http://"+ln.Addr().String(), credentials.NewStaticCredentialsProvider("AKID", "secret", ""), func(*http.Transport) {})
}

// wantAPIError checks that err is the AWS error code with status 400 and
// message msg (a prefix when msg ends in "...").
func wantAPIError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: %T %v, want %s", what, err, err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("%s: want status 400: %v", what, err)
	}
	got := ae.ErrorMessage()
	if p, ok := strings.CutSuffix(msg, "..."); ok {
		if !strings.HasPrefix(got, p) {
			got = "!" + got
		} else {
			got = msg
		}
	}
	if ae.ErrorCode() != code || got != msg {
		t.Fatalf("%s: %s %q, want %s %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// TestHTTPAPIDataPlaneChildShards reads a shard to its end after a split
// and its children to theirs after a merge: GetRecords returns the
// remaining records, then no NextShardIterator and the ChildShards
// (KINESIS_API.md 3.7), over the real SDK.
func TestHTTPAPIDataPlaneChildShards(t *testing.T) {
	m := openManager(t)
	client := dataPlaneClient(t, m)
	ctx := context.Background()
	const name = "split"
	if err := m.CreateStream(name, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k" + strconv.Itoa(i)), Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	iter := func(shard string) *string {
		t.Helper()
		out, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.ShardIterator
	}
	// Before the split the shard is open: a NextShardIterator, no children.
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter("shardId-000000000000"), Limit: aws.Int32(2)})
	if err != nil || len(out.Records) != 2 || out.NextShardIterator == nil || len(out.ChildShards) != 0 {
		t.Fatalf("GetRecords of an open shard: %+v %v", out, err)
	}
	next := out.NextShardIterator
	const half = "170141183460469231731687303715884105728" // 2^127
	if err := m.SplitShard(name, "shardId-000000000000", half); err != nil {
		t.Fatal(err)
	}
	// The rest of the closed shard, then its end.
	var n int
	var end *kinesis.GetRecordsOutput
	for range 10 {
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Records)
		if out.NextShardIterator == nil {
			end = out
			break
		}
		if len(out.ChildShards) != 0 {
			t.Fatalf("ChildShards with a NextShardIterator: %+v", out)
		}
		next = out.NextShardIterator
	}
	if end == nil || n != 1 {
		t.Fatalf("read %d more records, end %+v", n, end)
	}
	want := []types.ChildShard{
		{ShardId: aws.String("shardId-000000000001"), ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String("170141183460469231731687303715884105727")}},
		{ShardId: aws.String("shardId-000000000002"), ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String(half), EndingHashKey: aws.String("340282366920938463463374607431768211455")}},
	}
	checkChildren := func(what string, got, want []types.ChildShard) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d ChildShards, want %d", what, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if aws.ToString(g.ShardId) != aws.ToString(w.ShardId) || strings.Join(g.ParentShards, ",") != strings.Join(w.ParentShards, ",") ||
				aws.ToString(g.HashKeyRange.StartingHashKey) != aws.ToString(w.HashKeyRange.StartingHashKey) ||
				aws.ToString(g.HashKeyRange.EndingHashKey) != aws.ToString(w.HashKeyRange.EndingHashKey) {
				t.Fatalf("%s: ChildShards[%d] %s %v %s-%s", what, i, aws.ToString(g.ShardId), g.ParentShards,
					aws.ToString(g.HashKeyRange.StartingHashKey), aws.ToString(g.HashKeyRange.EndingHashKey))
			}
		}
	}
	checkChildren("after the split", end.ChildShards, want)

	// A merge: each parent's end names the one child and both parents.
	if err := m.MergeShards(name, "shardId-000000000001", "shardId-000000000002"); err != nil {
		t.Fatal(err)
	}
	merged := []types.ChildShard{{ShardId: aws.String("shardId-000000000003"), ParentShards: []string{"shardId-000000000001", "shardId-000000000002"},
		HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String("340282366920938463463374607431768211455")}}}
	for _, parent := range []string{"shardId-000000000001", "shardId-000000000002"} {
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter(parent)})
		if err != nil || out.NextShardIterator != nil {
			t.Fatalf("GetRecords at the end of %s: %+v %v", parent, out, err)
		}
		checkChildren("after the merge, "+parent, out.ChildShards, merged)
	}
}

// TestHTTPAPIDataPlaneRecordSize: the stream's MaxRecordSizeInKiB bounds
// Data with the model's ValidationException text (KINESIS_API.md 3.5),
// for PutRecord ('data') and PutRecords ('records.N.member.data'), and a
// stream configured for larger records takes them.
func TestHTTPAPIDataPlaneRecordSize(t *testing.T) {
	m := openManager(t)
	client := dataPlaneClient(t, m)
	ctx := context.Background()
	const name = "sizes"
	if err := m.CreateStream(name, 1); err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	_, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: make([]byte, mib)})
	if err != nil {
		t.Fatalf("PutRecord of 1 MiB: %v", err)
	}
	_, err = client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: make([]byte, mib+1)})
	wantAPIError(t, "PutRecord of 1 MiB + 1", err, "ValidationException",
		"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
	_, err = client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("a"), Data: []byte("small")},
		{PartitionKey: aws.String("b"), Data: make([]byte, mib+5)},
	}})
	wantAPIError(t, "PutRecords with a 1 MiB + 5 entry", err, "ValidationException",
		"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048581 cap=1048581]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576")

	// A stream for 2 MiB records.
	if err := m.UpdateMaxRecordSize(name, 2048); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0x5a}, 2*mib)
	put, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: big})
	if err != nil {
		t.Fatalf("PutRecord of 2 MiB to a 2048 KiB stream: %v", err)
	}
	puts, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("b"), Data: make([]byte, mib+5)},
	}})
	if err != nil || aws.ToInt32(puts.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords of 1 MiB + 5 to a 2048 KiB stream: %+v %v", puts, err)
	}
	_, err = client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: make([]byte, 2*mib+1)})
	wantAPIError(t, "PutRecord of 2 MiB + 1", err, "ValidationException",
		"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=2097153 cap=2097153]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 2097152")
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: put.SequenceNumber})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	if err != nil || len(recs.Records) != 1 || !bytes.Equal(recs.Records[0].Data, big) {
		t.Fatalf("GetRecords of the 2 MiB record: %v", err)
	}
}

// TestHTTPAPIDataPlaneRequestCap: a PutRecords request carries at most
// 5 MiB of data and partition keys (KINESIS_API.md 3.5), 10 MiB on a
// stream configured for records over 1 MiB.
func TestHTTPAPIDataPlaneRequestCap(t *testing.T) {
	m := openManager(t)
	client := dataPlaneClient(t, m)
	ctx := context.Background()
	const name = "cap"
	if err := m.CreateStream(name, 1); err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	entries := func(n, size int) []types.PutRecordsRequestEntry {
		e := make([]types.PutRecordsRequestEntry, n)
		for i := range e {
			e[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(strconv.Itoa(i % 10)), Data: make([]byte, size)}
		}
		return e
	}
	// Exactly 5 MiB: five 1-byte keys and five 1 MiB - 1 blobs.
	puts, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries(5, mib-1)})
	if err != nil || aws.ToInt32(puts.FailedRecordCount) != 0 || len(puts.Records) != 5 {
		t.Fatalf("PutRecords of exactly 5 MiB: %+v %v", puts, err)
	}
	over := entries(5, mib-1)
	over[4].Data = make([]byte, mib)
	_, err = client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: over})
	wantAPIError(t, "PutRecords of 5 MiB + 1", err, "InvalidArgumentException",
		"Records size exceeds 5 MB limit: the data and partition keys of the request take 5242881 bytes.")
	// A 2048 KiB stream takes 10 MiB requests.
	if err := m.UpdateMaxRecordSize(name, 2048); err != nil {
		t.Fatal(err)
	}
	puts, err = client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries(10, mib-1)})
	if err != nil || aws.ToInt32(puts.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords of exactly 10 MiB to a 2048 KiB stream: %+v %v", puts, err)
	}
	over = entries(10, mib-1)
	over[9].Data = make([]byte, mib)
	_, err = client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: over})
	wantAPIError(t, "PutRecords of 10 MiB + 1", err, "InvalidArgumentException",
		"Records size exceeds 10 MB limit: the data and partition keys of the request take 10485761 bytes.")
}

// TestHTTPAPIDataPlaneQuotas runs with EmulateQuotas on a frozen clock:
// past a shard's 1,000 records/s PutRecords fails the entries of that
// shard only, with AWS's per-record ErrorCode and ErrorMessage and
// FailedRecordCount, in an HTTP 200; PutRecord answers
// ProvisionedThroughputExceededException; so does PutRecord past 1 MiB/s
// and GetRecords past 5 calls/s; a second later the shard takes writes
// again.
func TestHTTPAPIDataPlaneQuotas(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	m := openManagerWith(t, func(c *stream.Config) {
		c.EmulateQuotas = true
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	client := dataPlaneClient(t, m)
	ctx := context.Background()
	const name = "quota"
	if err := m.CreateStream(name, 2); err != nil {
		t.Fatal(err)
	}
	const shard1Key = "170141183460469231731687303715884105728" // 2^127, in shardId-000000000001
	batch := func(n int, hashKey func(i int) string) []types.PutRecordsRequestEntry {
		e := make([]types.PutRecordsRequestEntry, n)
		for i := range e {
			e[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(hashKey(i)), Data: []byte("x")}
		}
		return e
	}
	toShard0 := func(int) string { return "0" }
	for i := range 2 {
		out, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: batch(500, toShard0)})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords %d within the quota: %+v %v", i, out, err)
		}
	}
	// Shard 0 has used its 1,000 records of this second; shard 1 has not.
	out, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: batch(10, func(i int) string {
		if i%2 == 0 {
			return "0"
		}
		return shard1Key
	})})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 5 || len(out.Records) != 10 {
		t.Fatalf("PutRecords over shard 0's quota: %+v %v", out, err)
	}
	const throttled = "Rate exceeded for shard shardId-000000000000 in stream quota under account 000000000000."
	for i, r := range out.Records {
		if i%2 == 0 {
			if aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" || aws.ToString(r.ErrorMessage) != throttled ||
				r.SequenceNumber != nil || r.ShardId != nil {
				t.Fatalf("entry %d to shard 0: %s %q seq %v", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage), r.SequenceNumber)
			}
		} else if r.ErrorCode != nil || aws.ToString(r.ShardId) != "shardId-000000000001" || r.SequenceNumber == nil {
			t.Fatalf("entry %d to shard 1: %s %q", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
		}
	}
	_, err = client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("0"), Data: []byte("x")})
	wantAPIError(t, "PutRecord over the records quota", err, "ProvisionedThroughputExceededException", throttled)

	// A second later: 1 MiB/s. One record of nearly 1 MiB fits, the next
	// small one does not.
	clock.Add(int64(time.Second))
	if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("0"),
		Data: make([]byte, 1<<20-100)}); err != nil {
		t.Fatalf("PutRecord after a second: %v", err)
	}
	_, err = client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("0"), Data: make([]byte, 200)})
	wantAPIError(t, "PutRecord over the bytes quota", err, "ProvisionedThroughputExceededException", throttled)

	// Reads: 5 GetRecords calls per second and shard.
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)}); err != nil {
			t.Fatalf("GetRecords call %d: %v", i+1, err)
		}
	}
	_, err = client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	wantAPIError(t, "the sixth GetRecords call in a second", err, "ProvisionedThroughputExceededException",
		"Rate exceeded for Shard - 000000000000/quota/shardId-000000000000")
	clock.Add(int64(time.Second))
	if _, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)}); err != nil {
		t.Fatalf("GetRecords a second later: %v", err)
	}
}
