package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// sdkClient returns an aws-sdk-go-v2 Kinesis client for the server at
// endpoint, with retries off so that every failure is seen.
func sdkClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDRESTART", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// ackedRecord is a record whose PutRecords entry succeeded.
type ackedRecord struct {
	stream, shard, seq string
	data               []byte
}

// putLoad puts records from writers goroutines to stream until stop is
// closed or each writer has put maxPerWriter batches, and returns every
// acknowledged record. Errors after stop (the server being killed) end a
// writer quietly; errors before it fail the test.
func putLoad(t *testing.T, c *kinesis.Client, stream string, writers, maxPerWriter int, stop <-chan struct{}) []ackedRecord {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []ackedRecord
		wg    sync.WaitGroup
		fail  = make(chan error, writers)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for b := range maxPerWriter {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + rng.IntN(20)
				entries := make([]types.PutRecordsRequestEntry, n)
				for i := range entries {
					d := make([]byte, 1+rng.IntN(300))
					for j := range d {
						d[j] = byte(rng.Uint32())
					}
					copy(d, fmt.Sprintf("w%d-b%d-r%d|", w, b, i))
					entries[i] = types.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(fmt.Sprintf("k%d", rng.IntN(1000)))}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
				cancel()
				if err != nil {
					select {
					case <-stop:
					default:
						fail <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					}
					return
				}
				mu.Lock()
				for i, r := range out.Records {
					if r.ErrorCode == nil {
						acked = append(acked, ackedRecord{stream: stream, shard: aws.ToString(r.ShardId), seq: aws.ToString(r.SequenceNumber), data: entries[i].Data})
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(fail)
	for err := range fail {
		t.Fatal(err)
	}
	return acked
}

// readAll reads every record of every shard of stream from TRIM_HORIZON.
func readAll(t *testing.T, c *kinesis.Client, stream string) map[string][]types.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("ListShards %s: %v", stream, err)
	}
	out := make(map[string][]types.Record)
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", aws.ToString(sh.ShardId), err)
		}
		iter := it.ShardIterator
		for range 10000 {
			got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatalf("GetRecords %s: %v", aws.ToString(sh.ShardId), err)
			}
			out[aws.ToString(sh.ShardId)] = append(out[aws.ToString(sh.ShardId)], got.Records...)
			if len(got.Records) == 0 || got.NextShardIterator == nil {
				break
			}
			iter = got.NextShardIterator
		}
	}
	return out
}

// checkAcked asserts that every acknowledged record is present, byte for
// byte, at its sequence number, that each shard's records are in strictly
// increasing sequence order, and that nothing is duplicated.
func checkAcked(t *testing.T, acked []ackedRecord, got map[string][]types.Record) {
	t.Helper()
	type key struct{ shard, seq string }
	index := make(map[key][]byte)
	for shard, recs := range got {
		for i, r := range recs {
			k := key{shard, aws.ToString(r.SequenceNumber)}
			if _, dup := index[k]; dup {
				t.Fatalf("shard %s: sequence number %s read twice", shard, k.seq)
			}
			index[k] = r.Data
			if i > 0 && !seqLess(aws.ToString(recs[i-1].SequenceNumber), k.seq) {
				t.Fatalf("shard %s: sequence numbers not increasing: %s then %s", shard, aws.ToString(recs[i-1].SequenceNumber), k.seq)
			}
		}
	}
	for _, a := range acked {
		d, ok := index[key{a.shard, a.seq}]
		if !ok {
			t.Fatalf("acknowledged record %s/%s lost (%d acknowledged in all)", a.shard, a.seq, len(acked))
		}
		if !bytes.Equal(d, a.data) {
			t.Fatalf("record %s/%s changed: got %d bytes, want %d", a.shard, a.seq, len(d), len(a.data))
		}
	}
}

// seqLess compares two decimal sequence numbers as integers.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// streamShape is what DescribeStream says of a stream, for comparison
// across restarts.
func streamShape(t *testing.T, c *kinesis.Client, stream string) string {
	t.Helper()
	d, err := c.DescribeStream(context.Background(), &kinesis.DescribeStreamInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("DescribeStream %s: %v", stream, err)
	}
	sd := d.StreamDescription
	s := fmt.Sprintf("%s %s %s retention=%d created=%d", aws.ToString(sd.StreamName), aws.ToString(sd.StreamARN),
		sd.StreamStatus, aws.ToInt32(sd.RetentionPeriodHours), sd.StreamCreationTimestamp.UnixMilli())
	tags, err := c.ListTagsForStream(context.Background(), &kinesis.ListTagsForStreamInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("ListTagsForStream %s: %v", stream, err)
	}
	s += " tags:"
	for _, tag := range tags.Tags {
		s += fmt.Sprintf(" %s=%s", aws.ToString(tag.Key), aws.ToString(tag.Value))
	}
	cons, err := c.ListStreamConsumers(context.Background(), &kinesis.ListStreamConsumersInput{StreamARN: sd.StreamARN})
	if err != nil {
		t.Fatalf("ListStreamConsumers %s: %v", stream, err)
	}
	s += " consumers:"
	for _, co := range cons.Consumers {
		ctags, err := c.ListTagsForResource(context.Background(), &kinesis.ListTagsForResourceInput{ResourceARN: co.ConsumerARN})
		if err != nil {
			t.Fatalf("ListTagsForResource %s: %v", aws.ToString(co.ConsumerARN), err)
		}
		s += fmt.Sprintf(" [%s %s %s created=%d tags=%d]", aws.ToString(co.ConsumerName), aws.ToString(co.ConsumerARN),
			co.ConsumerStatus, co.ConsumerCreationTimestamp.UnixMilli(), len(ctags.Tags))
	}
	s += " shards:"
	for _, sh := range sd.Shards {
		s += fmt.Sprintf(" [%s %s-%s start=%s end=%s parent=%s adj=%s]", aws.ToString(sh.ShardId),
			aws.ToString(sh.HashKeyRange.StartingHashKey), aws.ToString(sh.HashKeyRange.EndingHashKey),
			aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber),
			aws.ToString(sh.ParentShardId), aws.ToString(sh.AdjacentParentShardId))
	}
	return s
}

func createStreams(t *testing.T, c *kinesis.Client, shards map[string]int32) {
	t.Helper()
	for name, n := range shards {
		if _, err := c.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(n)}); err != nil {
			t.Fatalf("CreateStream %s: %v", name, err)
		}
	}
}

// TestCmdRestart stops the server cleanly (SIGTERM) and then kills it with
// SIGKILL in the middle of a write load, restarting it on the same data
// dir each time: streams and shards come back exactly, and every record
// the server acknowledged (fsync mode) is read back, byte for byte, in
// order, once.
func TestCmdRestart(t *testing.T) {
	bin := buildSluice(t)
	dataDir := t.TempDir()
	start := func() (*sluiceProcess, *kinesis.Client) {
		addr := freeAddr(t)
		p := startSluice(t, bin, "--data-dir", dataDir, "--api-addr", addr, "--tcp-addr", freeAddr(t), "--durability", "fsync")
		endpoint := "http://" + addr
		waitReady(t, endpoint, p)
		return p, sdkClient(endpoint)
	}

	p, c := start()
	streams := map[string]int32{"restart-a": 3, "restart-b": 1}
	createStreams(t, c, streams)
	acked := putLoad(t, c, "restart-a", 4, 5, nil)
	acked = append(acked, putLoad(t, c, "restart-b", 1, 3, nil)...)
	// Closed shards, consumers, tags and retention must come back too:
	// split and merge restart-a (its parents keep the records put above),
	// register a tagged consumer on restart-b, tag both streams.
	reshapeForRestart(t, c)
	acked = append(acked, putLoad(t, c, "restart-a", 4, 5, nil)...)
	shapes := make(map[string]string)
	for name := range streams {
		shapes[name] = streamShape(t, c, name)
	}
	for _, want := range []string{"parent=shardId-000000000000", "adj=shardId-000000000002", "tags: env=test", "[restart-consumer arn:aws:kinesis:"} {
		if !strings.Contains(shapes["restart-a"]+shapes["restart-b"], want) {
			t.Fatalf("the stream shapes before the restart lack %q:\n%s\n%s", want, shapes["restart-a"], shapes["restart-b"])
		}
	}

	// 1. Clean stop.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; log:\n%s", code, p.stderr)
	}
	p, c = start()
	checkRestarted(t, c, shapes, acked)

	// 2. kill -9 during a write load, three times.
	for round := range 3 {
		stop := make(chan struct{})
		var more []ackedRecord
		done := make(chan struct{})
		go func() {
			defer close(done)
			more = putLoad(t, c, "restart-a", 6, 1000, stop)
		}()
		time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond)
		close(stop)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-done
		p.wait(t, 10*time.Second)
		if len(more) == 0 {
			t.Fatalf("round %d: no record acknowledged before the kill; the load did not run", round)
		}
		acked = append(acked, more...)
		p, c = start()
		checkRestarted(t, c, shapes, acked)
	}
}

func checkRestarted(t *testing.T, c *kinesis.Client, shapes map[string]string, acked []ackedRecord) {
	t.Helper()
	ctx := context.Background()
	list, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	names = append(names, list.StreamNames...)
	for n := range shapes {
		want = append(want, n)
	}
	sort.Strings(names)
	sort.Strings(want)
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("streams after restart %v, want %v", names, want)
	}
	for name, shape := range shapes {
		if got := streamShape(t, c, name); got != shape {
			t.Fatalf("stream %s after restart:\n got %s\nwant %s", name, got, shape)
		}
	}
	for name := range shapes {
		var mine []ackedRecord
		for _, r := range acked {
			if r.stream == name {
				mine = append(mine, r)
			}
		}
		got := readAll(t, c, name)
		checkAcked(t, mine, got)
		n := 0
		for _, recs := range got {
			n += len(recs)
		}
		t.Logf("%s: %d records acknowledged, %d read back", name, len(mine), n)
	}
}

// reshapeForRestart splits shardId-000000000000 of restart-a at its middle
// and merges shards 1 and 2, tags restart-a, raises restart-b's retention
// and registers a tagged consumer on it, waiting for each step to finish.
func reshapeForRestart(t *testing.T, c *kinesis.Client) {
	t.Helper()
	ctx := context.Background()
	waitActive := func(name string) {
		t.Helper()
		for range 200 {
			d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatalf("DescribeStreamSummary %s: %v", name, err)
			}
			if d.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("stream %s did not become ACTIVE", name)
	}
	sh, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("restart-a")})
	if err != nil {
		t.Fatal(err)
	}
	r := sh.Shards[0].HashKeyRange
	lo, _ := new(big.Int).SetString(aws.ToString(r.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(r.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("restart-a"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	waitActive("restart-a")
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("restart-a"),
		ShardToMerge: aws.String("shardId-000000000001"), AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	waitActive("restart-a")
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("restart-a"),
		Tags: map[string]string{"env": "test", "team": "sluice"}}); err != nil {
		t.Fatalf("AddTagsToStream: %v", err)
	}
	if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("restart-b"),
		RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatalf("IncreaseStreamRetentionPeriod: %v", err)
	}
	waitActive("restart-b")
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("restart-b")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: d.StreamDescriptionSummary.StreamARN,
		ConsumerName: aws.String("restart-consumer"), Tags: map[string]string{"owner": "restart-test"}})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	for i := 0; ; i++ {
		co, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN})
		if err != nil {
			t.Fatalf("DescribeStreamConsumer: %v", err)
		}
		if co.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			break
		}
		if i == 200 {
			t.Fatal("the consumer did not become ACTIVE")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
