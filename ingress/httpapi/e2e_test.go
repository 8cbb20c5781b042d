package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestHTTPAPIEndToEndSDK drives the server over a loopback socket with the
// real aws-sdk-go-v2 Kinesis client.
func TestHTTPAPIEndToEndSDK(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := sdkTestClient(ctx, t, "http://"+ln.Addr().String())
	const name = "e2e"

	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	desc, err := client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	sd := desc.StreamDescription
	if aws.ToString(sd.StreamName) != name || sd.StreamStatus != types.StreamStatusActive || len(sd.Shards) != 2 ||
		aws.ToBool(sd.HasMoreShards) || aws.ToInt32(sd.RetentionPeriodHours) != 24 ||
		aws.ToString(sd.StreamARN) != "arn:aws:kinesis:us-east-1:000000000000:stream/"+name {
		t.Fatalf("DescribeStream: %+v", sd)
	}
	if age := time.Since(aws.ToTime(sd.StreamCreationTimestamp)); age < 0 || age > time.Minute {
		t.Errorf("StreamCreationTimestamp %v", sd.StreamCreationTimestamp)
	}
	list, err := client.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	if len(list.StreamNames) != 1 || list.StreamNames[0] != name || aws.ToBool(list.HasMoreStreams) ||
		len(list.StreamSummaries) != 1 || aws.ToString(list.StreamSummaries[0].StreamName) != name {
		t.Fatalf("ListStreams: %+v", list)
	}

	// 1 + 100 records; the first one is 1 MiB (Kinesis's record size cap).
	want := map[string][]byte{} // sequence number -> data
	big := bytes.Repeat([]byte{0xa5, 0x00, 0xff}, (1<<20)/3)
	put, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("big"), Data: big})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	want[aws.ToString(put.SequenceNumber)] = big
	entries := make([]types.PutRecordsRequestEntry, 100)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{
			PartitionKey: aws.String(fmt.Sprintf("key-%d", i)),
			Data:         []byte(fmt.Sprintf("record %d \x00\xff", i)),
		}
	}
	puts, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if aws.ToInt32(puts.FailedRecordCount) != 0 || len(puts.Records) != 100 {
		t.Fatalf("PutRecords: %+v", puts)
	}
	shardsUsed := map[string]bool{}
	for i, r := range puts.Records {
		if r.ErrorCode != nil || r.SequenceNumber == nil {
			t.Fatalf("PutRecords entry %d: %+v", i, r)
		}
		shardsUsed[aws.ToString(r.ShardId)] = true
		want[aws.ToString(r.SequenceNumber)] = entries[i].Data
	}
	if len(want) != 101 || len(shardsUsed) != 2 {
		t.Fatalf("%d distinct sequence numbers, %d shards used", len(want), len(shardsUsed))
	}

	got := 0
	for _, sh := range sd.Shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", aws.ToString(sh.ShardId), err)
		}
		iter := it.ShardIterator
		for range 10 {
			recs, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(30)})
			if err != nil {
				t.Fatalf("GetRecords %s: %v", aws.ToString(sh.ShardId), err)
			}
			for _, r := range recs.Records {
				seq := aws.ToString(r.SequenceNumber)
				data, ok := want[seq]
				if !ok {
					t.Fatalf("unexpected record %s", seq)
				}
				if !bytes.Equal(r.Data, data) {
					t.Fatalf("record %s: data differs (%d bytes, want %d)", seq, len(r.Data), len(data))
				}
				if r.ApproximateArrivalTimestamp == nil || time.Since(*r.ApproximateArrivalTimestamp) > time.Minute {
					t.Errorf("record %s: ApproximateArrivalTimestamp %v", seq, r.ApproximateArrivalTimestamp)
				}
				delete(want, seq)
				got++
			}
			if recs.NextShardIterator == nil {
				t.Fatalf("GetRecords %s: no NextShardIterator on an open shard", aws.ToString(sh.ShardId))
			}
			iter = recs.NextShardIterator
			if len(recs.Records) == 0 {
				break
			}
		}
	}
	if got != 101 || len(want) != 0 {
		t.Fatalf("read %d records back, %d missing", got, len(want))
	}

	_, err = client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("missing")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("DescribeStream of a missing stream: %T %v", err, err)
	}
	if msg := rnf.ErrorMessage(); msg != "Stream missing under account 000000000000 not found." {
		t.Errorf("message %q", msg)
	}

	if _, err := client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	list, err = client.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || len(list.StreamNames) != 0 {
		t.Fatalf("ListStreams after DeleteStream: %+v, %v", list, err)
	}
}
