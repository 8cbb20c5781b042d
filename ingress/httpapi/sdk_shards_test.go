package httpapi

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/stream"
)

// half is 2^127, the middle of the hash-key space.
const half = "170141183460469231731687303715884105728"

// shardWant is what a test expects of a Shard.
type shardWant struct {
	id, parent, adjacent string
	start, end           string
	closed               bool
}

func checkShards(t *testing.T, what string, got []types.Shard, want []shardWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d shards, want %d: %+v", what, len(got), len(want), got)
		return
	}
	for i, w := range want {
		g := got[i]
		if aws.ToString(g.ShardId) != w.id || aws.ToString(g.ParentShardId) != w.parent ||
			aws.ToString(g.AdjacentParentShardId) != w.adjacent ||
			g.HashKeyRange == nil || aws.ToString(g.HashKeyRange.StartingHashKey) != w.start ||
			aws.ToString(g.HashKeyRange.EndingHashKey) != w.end ||
			g.SequenceNumberRange == nil || aws.ToString(g.SequenceNumberRange.StartingSequenceNumber) == "" ||
			(g.SequenceNumberRange.EndingSequenceNumber != nil) != w.closed {
			t.Errorf("%s: shard %d:\n got %s\nwant %+v", what, i, fmtShard(g), w)
		}
	}
}

func fmtShard(s types.Shard) string {
	out := aws.ToString(s.ShardId) + " parent=" + aws.ToString(s.ParentShardId) + " adjacent=" + aws.ToString(s.AdjacentParentShardId)
	if s.HashKeyRange != nil {
		out += " [" + aws.ToString(s.HashKeyRange.StartingHashKey) + ", " + aws.ToString(s.HashKeyRange.EndingHashKey) + "]"
	}
	if s.SequenceNumberRange != nil {
		out += " seq " + aws.ToString(s.SequenceNumberRange.StartingSequenceNumber) + ".." + aws.ToString(s.SequenceNumberRange.EndingSequenceNumber)
	}
	return out
}

func seqNum(t *testing.T, s *string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(aws.ToString(s), 10)
	if !ok {
		t.Fatalf("sequence number %q", aws.ToString(s))
	}
	return n
}

func TestSDKSplitShard(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("sp", 1)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("sp"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(half)}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	below := new(big.Int).Sub(seqNum(t, aws.String(half)), big.NewInt(1)).String()
	shards := e.shards("sp", nil)
	checkShards(t, "after split", shards, []shardWant{
		{id: "shardId-000000000000", start: "0", end: maxHash, closed: true},
		{id: "shardId-000000000001", parent: "shardId-000000000000", start: "0", end: below},
		{id: "shardId-000000000002", parent: "shardId-000000000000", start: half, end: maxHash},
	})
	if len(shards) == 3 {
		parentEnd := seqNum(t, shards[0].SequenceNumberRange.EndingSequenceNumber)
		if parentEnd.Cmp(seqNum(t, shards[0].SequenceNumberRange.StartingSequenceNumber)) <= 0 {
			t.Errorf("parent's EndingSequenceNumber %v is not after its start", parentEnd)
		}
		for _, ch := range shards[1:] {
			if seqNum(t, ch.SequenceNumberRange.StartingSequenceNumber).Cmp(parentEnd) <= 0 {
				t.Errorf("child %s starts at %s, not after the parent's end %v", aws.ToString(ch.ShardId),
					aws.ToString(ch.SequenceNumberRange.StartingSequenceNumber), parentEnd)
			}
		}
	}
	if sum := e.summary("sp"); aws.ToInt32(sum.OpenShardCount) != 2 || sum.StreamStatus != types.StreamStatusActive {
		t.Errorf("summary after split: %+v", sum)
	}
	// Records now go to the children.
	for key, shard := range map[string]string{"0": "shardId-000000000001", below: "shardId-000000000001", half: "shardId-000000000002"} {
		put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("sp"), PartitionKey: aws.String("k"),
			ExplicitHashKey: aws.String(key), Data: []byte("x")})
		if err != nil || aws.ToString(put.ShardId) != shard {
			t.Errorf("PutRecord at %s: %+v, %v; want %s", key, put, err, shard)
		}
	}
	// By ARN.
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamARN: aws.String(arnBase + "sp"),
		ShardToSplit: aws.String("shardId-000000000002"), NewStartingHashKey: aws.String("300000000000000000000000000000000000000")}); err != nil {
		t.Fatalf("SplitShard by ARN: %v", err)
	}
	if got := e.shards("sp", &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}); len(got) != 3 {
		t.Errorf("open shards after the second split: %+v", got)
	}

	// Error paths.
	split := func(stream, shard, key string) error {
		_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String(shard), NewStartingHashKey: aws.String(key)})
		return err
	}
	wantErr[notFoundErr](t, "missing stream", split("nope", "shardId-000000000000", half), "ResourceNotFoundException", streamNotFound("nope"))
	wantErr[notFoundErr](t, "missing shard", split("sp", "shardId-000000000009", half), "ResourceNotFoundException",
		"Could not find shard shardId-000000000009 in stream sp under account "+acct+".")
	wantErr[invalidArg](t, "closed shard", split("sp", "shardId-000000000000", half), "InvalidArgumentException",
		"Shard shardId-000000000000 in stream sp under account "+acct+" has already been merged or split, and thus is not eligible for merging or splitting.")
	wantErr[invalidArg](t, "key at start + 1", split("sp", "shardId-000000000001", "1"), "InvalidArgumentException",
		"NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000001 in stream sp under account "+acct+
			" is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey "+below+".")
	wantErr[invalidArg](t, "key at end", split("sp", "shardId-000000000001", below), "InvalidArgumentException", "NewStartingHashKey "+below+" used in SplitShard()...")
	wantErr[validErr](t, "key not decimal", split("sp", "shardId-000000000001", "12a"), "ValidationException",
		"1 validation error detected: Value '12a' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
	wantErr[validErr](t, "bad shard id", split("sp", "shard 1", half), "ValidationException",
		"1 validation error detected: Value 'shard 1' at 'shardToSplit' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{ShardToSplit: aws.String("shardId-000000000001"), NewStartingHashKey: aws.String(half)})
	wantErr[invalidArg](t, "no stream", err, "InvalidArgumentException", "Either StreamName or StreamARN must be provided.")
	e.raw("SplitShard", `{"StreamName":"sp"}`).want(t, "no shard, no key", 400, "ValidationException",
		"2 validation errors detected: Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not be null; "+
			"Value null at 'shardToSplit' failed to satisfy constraint: Member must not be null")
	if got := e.shards("sp", nil); len(got) != 5 {
		t.Errorf("the failed splits changed the shards: %+v", got)
	}
}

func TestSDKSplitShardLimit(t *testing.T) {
	e := newSDKEnv(t, func(c *stream.Config) { c.Limits.ShardLimit = 3 })
	e.create("full", 3)
	_, err := e.c.SplitShard(e.ctx, &kinesis.SplitShardInput{StreamName: aws.String("full"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")})
	wantErr[limitErr](t, "shard limit", err, "LimitExceededException",
		"This request would exceed the shard limit for the account "+acct+" in us-east-1. Current shard count for the account: 3. Limit: 3. "+
			"Number of additional shards that would have resulted from this request: 1. ...")
	_, err = e.c.UpdateShardCount(e.ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("full"), TargetShardCount: aws.Int32(5),
		ScalingType: types.ScalingTypeUniformScaling})
	wantErr[limitErr](t, "UpdateShardCount over the shard limit", err, "LimitExceededException",
		"This request would exceed the shard limit for the account "+acct+" in us-east-1. Current shard count for the account: 3. Limit: 3. "+
			"Number of additional shards that would have resulted from this request: 2. ...")
	// Merging frees a shard for a split.
	if _, err := e.c.MergeShards(e.ctx, &kinesis.MergeShardsInput{StreamName: aws.String("full"),
		ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001")}); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	if _, err := e.c.SplitShard(e.ctx, &kinesis.SplitShardInput{StreamName: aws.String("full"),
		ShardToSplit: aws.String("shardId-000000000003"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatalf("SplitShard after the merge: %v", err)
	}
}

// TestSDKReshardUpdating checks that the stream is UPDATING while a
// reshard is pending (stream.Config.UpdateDelay) and that every
// stream-state change is refused meanwhile.
func TestSDKReshardUpdating(t *testing.T) {
	e := newSDKEnv(t, func(c *stream.Config) { c.UpdateDelay = 2 * time.Second })
	c, ctx := e.c, e.ctx
	e.create("up", 2)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("up"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	if sum := e.summary("up"); sum.StreamStatus != types.StreamStatusUpdating || aws.ToInt32(sum.OpenShardCount) != 2 {
		t.Fatalf("summary while updating: %+v", sum)
	}
	inUse := "Stream up under account " + acct + " not ACTIVE, instead in state UPDATING"
	name := aws.String("up")
	_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000001"),
		NewStartingHashKey: aws.String("300000000000000000000000000000000000000")})
	wantErr[inUseErr](t, "SplitShard", err, "ResourceInUseException", inUse)
	_, err = c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
	wantErr[inUseErr](t, "MergeShards", err, "ResourceInUseException", inUse)
	_, err = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling})
	wantErr[inUseErr](t, "UpdateShardCount", err, "ResourceInUseException", inUse)
	_, err = c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)})
	wantErr[inUseErr](t, "IncreaseStreamRetentionPeriod", err, "ResourceInUseException", inUse)
	_, err = c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(24)})
	wantErr[inUseErr](t, "DecreaseStreamRetentionPeriod", err, "ResourceInUseException", inUse)
	_, err = c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: name, EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	wantErr[inUseErr](t, "StartStreamEncryption", err, "ResourceInUseException", inUse)
	_, err = c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: name, EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	wantErr[inUseErr](t, "StopStreamEncryption", err, "ResourceInUseException", inUse)
	_, err = c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(arnBase + "up"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantErr[inUseErr](t, "UpdateStreamMode", err, "ResourceInUseException", inUse)
	_, err = c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(arnBase + "up"), MaxRecordSizeInKiB: aws.Int32(2048)})
	wantErr[inUseErr](t, "UpdateMaxRecordSize", err, "ResourceInUseException", inUse)
	_, err = c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: name, ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	wantErr[inUseErr](t, "EnableEnhancedMonitoring", err, "ResourceInUseException", inUse)
	_, err = c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: name, ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	wantErr[inUseErr](t, "DisableEnhancedMonitoring", err, "ResourceInUseException", inUse)

	// The split completes after the delay.
	deadline := time.Now().Add(20 * time.Second)
	for {
		sum := e.summary("up")
		if sum.StreamStatus == types.StreamStatusActive {
			if aws.ToInt32(sum.OpenShardCount) != 3 {
				t.Errorf("summary after the split: %+v", sum)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s after 20 s", sum.StreamStatus)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Errorf("IncreaseStreamRetentionPeriod when ACTIVE again: %v", err)
	}
}

func TestSDKMergeShards(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("mg", 3)
	r := stream.EvenSplit(3)
	merge := func(a, b string) error {
		_, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("mg"), ShardToMerge: aws.String(a), AdjacentShardToMerge: aws.String(b)})
		return err
	}
	s0, s1, s2, s3 := stream.ShardID(0), stream.ShardID(1), stream.ShardID(2), stream.ShardID(3)
	wantErr[invalidArg](t, "inverted adjacency", merge(s1, s0), "InvalidArgumentException",
		"Shards "+s1+" and "+s0+" in stream mg under account "+acct+" are not an adjacent pair of shards eligible for merging")
	wantErr[invalidArg](t, "not adjacent", merge(s0, s2), "InvalidArgumentException",
		"Shards "+s0+" and "+s2+" in stream mg under account "+acct+" are not an adjacent pair of shards eligible for merging")
	if err := merge(s1, s2); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	checkShards(t, "after merge", e.shards("mg", nil), []shardWant{
		{id: s0, start: "0", end: r[0].End.String()},
		{id: s1, start: r[1].Start.String(), end: r[1].End.String(), closed: true},
		{id: s2, start: r[2].Start.String(), end: maxHash, closed: true},
		{id: s3, parent: s1, adjacent: s2, start: r[1].Start.String(), end: maxHash},
	})
	// By ARN, the new shard with the remaining one.
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamARN: aws.String(arnBase + "mg"), ShardToMerge: aws.String(s0), AdjacentShardToMerge: aws.String(s3)}); err != nil {
		t.Fatalf("MergeShards by ARN: %v", err)
	}
	checkShards(t, "open after the second merge", e.shards("mg", &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}), []shardWant{
		{id: stream.ShardID(4), parent: s0, adjacent: s3, start: "0", end: maxHash},
	})
	if sum := e.summary("mg"); aws.ToInt32(sum.OpenShardCount) != 1 {
		t.Errorf("OpenShardCount %d", aws.ToInt32(sum.OpenShardCount))
	}

	wantErr[invalidArg](t, "closed shard", merge(s1, s2), "InvalidArgumentException",
		"Shard "+s1+" in stream mg under account "+acct+" has already been merged or split, and thus is not eligible for merging or splitting.")
	wantErr[notFoundErr](t, "missing shard", merge(stream.ShardID(4), stream.ShardID(7)), "ResourceNotFoundException",
		"Could not find shard "+stream.ShardID(7)+" in stream mg under account "+acct+".")
	_, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("nope"), ShardToMerge: aws.String(s0), AdjacentShardToMerge: aws.String(s1)})
	wantErr[notFoundErr](t, "missing stream", err, "ResourceNotFoundException", streamNotFound("nope"))
	e.raw("MergeShards", `{"StreamName":"mg","ShardToMerge":"`+s0+`"}`).want(t, "no AdjacentShardToMerge", 400, "ValidationException",
		"1 validation error detected: Value null at 'adjacentShardToMerge' failed to satisfy constraint: Member must not be null")
}

func TestSDKUpdateShardCount(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("uc", 2)
	update := func(name string, target int32, scaling types.ScalingType) (*kinesis.UpdateShardCountOutput, error) {
		return c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(target), ScalingType: scaling})
	}
	out, err := update("uc", 4, types.ScalingTypeUniformScaling)
	if err != nil {
		t.Fatalf("UpdateShardCount 2 -> 4: %v", err)
	}
	if aws.ToString(out.StreamName) != "uc" || aws.ToString(out.StreamARN) != arnBase+"uc" ||
		aws.ToInt32(out.CurrentShardCount) != 2 || aws.ToInt32(out.TargetShardCount) != 4 {
		t.Errorf("UpdateShardCount output: %+v", out)
	}
	open := e.shards("uc", &types.ShardFilter{Type: types.ShardFilterTypeAtLatest})
	even := stream.EvenSplit(4)
	if len(open) != 4 {
		t.Fatalf("open shards: %+v", open)
	}
	for i, sh := range open {
		if aws.ToString(sh.HashKeyRange.StartingHashKey) != even[i].Start.String() || aws.ToString(sh.HashKeyRange.EndingHashKey) != even[i].End.String() ||
			sh.ParentShardId == nil || sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Errorf("open shard %d: %s", i, fmtShard(sh))
		}
	}
	if sum := e.summary("uc"); aws.ToInt32(sum.OpenShardCount) != 4 {
		t.Errorf("OpenShardCount %d", aws.ToInt32(sum.OpenShardCount))
	}
	// Down to half, by ARN.
	out, err = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamARN: aws.String(arnBase + "uc"), TargetShardCount: aws.Int32(2),
		ScalingType: types.ScalingTypeUniformScaling})
	if err != nil || aws.ToInt32(out.CurrentShardCount) != 4 || aws.ToInt32(out.TargetShardCount) != 2 || aws.ToString(out.StreamName) != "uc" {
		t.Fatalf("UpdateShardCount 4 -> 2: %+v, %v", out, err)
	}
	if open := e.shards("uc", &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}); len(open) != 2 ||
		aws.ToString(open[1].HashKeyRange.StartingHashKey) != half {
		t.Errorf("open shards after 4 -> 2: %+v", open)
	}

	_, err = update("uc", 5, types.ScalingTypeUniformScaling)
	wantErr[limitErr](t, "over double", err, "LimitExceededException",
		"UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, Target shard count: 5")
	e.create("uc8", 8)
	_, err = update("uc8", 3, types.ScalingTypeUniformScaling)
	wantErr[limitErr](t, "below half", err, "LimitExceededException",
		"UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 8, Target shard count: 3")
	_, err = update("uc", 20000, types.ScalingTypeUniformScaling)
	wantErr[limitErr](t, "over 10000", err, "LimitExceededException",
		"Target shard count or number of open shards cannot be greater than 10000. Current open shard count: 2, Target shard count: 20000")
	_, err = update("uc", 3, "RANDOM_SCALING")
	wantErr[validErr](t, "bad ScalingType", err, "ValidationException",
		"1 validation error detected: Value 'RANDOM_SCALING' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]")
	_, err = update("uc", 0, types.ScalingTypeUniformScaling)
	wantErr[validErr](t, "target 0", err, "ValidationException",
		"1 validation error detected: Value '0' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = update("nope", 2, types.ScalingTypeUniformScaling)
	wantErr[notFoundErr](t, "missing stream", err, "ResourceNotFoundException", streamNotFound("nope"))
	if sum := e.summary("uc"); aws.ToInt32(sum.OpenShardCount) != 2 {
		t.Errorf("the failed calls changed the shards: %d open", aws.ToInt32(sum.OpenShardCount))
	}
}

func TestSDKListShards(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("ls", 3)
	created := aws.ToTime(e.summary("ls").StreamCreationTimestamp)

	// Paging one shard at a time; the NextToken alone names the stream.
	var ids []string
	out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("ls"), MaxResults: aws.Int32(1)})
	for i := 0; ; i++ {
		if err != nil || len(out.Shards) != 1 || i > 3 {
			t.Fatalf("ListShards page %d: %+v, %v", i, out, err)
		}
		ids = append(ids, aws.ToString(out.Shards[0].ShardId))
		if out.NextToken == nil {
			break
		}
		out, err = c.ListShards(ctx, &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(1)})
	}
	if !slices.Equal(ids, []string{stream.ShardID(0), stream.ShardID(1), stream.ShardID(2)}) {
		t.Errorf("pages: %v", ids)
	}
	first, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arnBase + "ls"), MaxResults: aws.Int32(2)})
	if err != nil || len(first.Shards) != 2 || first.NextToken == nil {
		t.Fatalf("ListShards by ARN: %+v, %v", first, err)
	}
	tok := first.NextToken
	out, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("ls"), ExclusiveStartShardId: aws.String(stream.ShardID(0))})
	if err != nil || len(out.Shards) != 2 || aws.ToString(out.Shards[0].ShardId) != stream.ShardID(1) || out.NextToken != nil {
		t.Errorf("ExclusiveStartShardId: %+v, %v", out, err)
	}
	out, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("ls"), StreamCreationTimestamp: aws.Time(created)})
	if err != nil || len(out.Shards) != 3 {
		t.Errorf("StreamCreationTimestamp of the stream: %+v, %v", out, err)
	}
	_, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("ls"), StreamCreationTimestamp: aws.Time(created.Add(-time.Hour))})
	wantErr[notFoundErr](t, "another incarnation", err, "ResourceNotFoundException", streamNotFound("ls"))

	// Filters, after a split of shard 0.
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("ls"), ShardToSplit: aws.String(stream.ShardID(0)),
		NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatal(err)
	}
	filtered := func(f types.ShardFilter) []string {
		t.Helper()
		var ids []string
		for _, sh := range e.shards("ls", &f) {
			ids = append(ids, aws.ToString(sh.ShardId))
		}
		return ids
	}
	for _, tc := range []struct {
		name   string
		filter types.ShardFilter
		want   []int
	}{
		{"AT_LATEST", types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, []int{1, 2, 3, 4}},
		{"AT_TRIM_HORIZON", types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, []int{0, 1, 2}},
		{"FROM_TRIM_HORIZON", types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, []int{0, 1, 2, 3, 4}},
		{"AFTER_SHARD_ID", types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String(stream.ShardID(2))}, []int{3, 4}},
		{"AT_TIMESTAMP at creation", types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(created)}, []int{0, 1, 2}},
		{"FROM_TIMESTAMP long ago", types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(created.Add(-72 * time.Hour))}, []int{0, 1, 2, 3, 4}},
		{"FROM_TIMESTAMP in an hour", types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(time.Now().Add(time.Hour))}, []int{1, 2, 3, 4}},
	} {
		var want []string
		for _, i := range tc.want {
			want = append(want, stream.ShardID(i))
		}
		if got := filtered(tc.filter); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.name, got, want)
		}
	}

	// Error paths.
	list := func(in *kinesis.ListShardsInput) error {
		_, err := c.ListShards(ctx, in)
		return err
	}
	wantErr[invalidArg](t, "NextToken and StreamName", list(&kinesis.ListShardsInput{NextToken: tok, StreamName: aws.String("ls")}),
		"InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
	wantErr[invalidArg](t, "NextToken and StreamARN", list(&kinesis.ListShardsInput{NextToken: tok, StreamARN: aws.String(arnBase + "ls")}),
		"InvalidArgumentException", "NextToken and StreamARN cannot be provided together.")
	wantErr[invalidArg](t, "NextToken and ExclusiveStartShardId", list(&kinesis.ListShardsInput{NextToken: tok, ExclusiveStartShardId: aws.String(stream.ShardID(0))}),
		"InvalidArgumentException", "NextToken and ExclusiveStartShardId cannot be provided together.")
	wantErr[invalidArg](t, "NextToken and ShardFilter", list(&kinesis.ListShardsInput{NextToken: tok, ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}}),
		"InvalidArgumentException", "NextToken and ShardFilter cannot be provided together.")
	wantErr[invalidArg](t, "neither", list(&kinesis.ListShardsInput{}), "InvalidArgumentException", "Either NextToken or StreamName should be provided.")
	wantErr[invalidArg](t, "forged NextToken", list(&kinesis.ListShardsInput{NextToken: aws.String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}),
		"InvalidArgumentException", "Invalid NextToken.")
	wantErr[invalidArg](t, "AFTER_SHARD_ID without ShardId", list(&kinesis.ListShardsInput{StreamName: aws.String("ls"),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId}}),
		"InvalidArgumentException", "ShardId must be specified for the AFTER_SHARD_ID ShardFilter type.")
	wantErr[invalidArg](t, "AT_TIMESTAMP without Timestamp", list(&kinesis.ListShardsInput{StreamName: aws.String("ls"),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp}}),
		"InvalidArgumentException", "Timestamp must be specified for the AT_TIMESTAMP ShardFilter type.")
	wantErr[validErr](t, "bad filter type", list(&kinesis.ListShardsInput{StreamName: aws.String("ls"), ShardFilter: &types.ShardFilter{Type: "SIDEWAYS"}}),
		"ValidationException", "1 validation error detected: Value 'SIDEWAYS' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: "+
			"[AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]")
	wantErr[validErr](t, "MaxResults 0", list(&kinesis.ListShardsInput{StreamName: aws.String("ls"), MaxResults: aws.Int32(0)}),
		"ValidationException", "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")
	wantErr[notFoundErr](t, "missing stream", list(&kinesis.ListShardsInput{StreamName: aws.String("nope")}), "ResourceNotFoundException", streamNotFound("nope"))
	wantErr[invalidArg](t, "name and ARN disagree", list(&kinesis.ListShardsInput{StreamName: aws.String("ls"), StreamARN: aws.String(arnBase + "other")}),
		"InvalidArgumentException", `StreamName "ls" does not match the stream of StreamARN "`+arnBase+`other".`)

	// A token expires after 300 s; the stream's re-creation invalidates it.
	e.offset.Store((301 * time.Second).Milliseconds())
	wantErr[expiredToken](t, "expired NextToken", list(&kinesis.ListShardsInput{NextToken: tok}), "ExpiredNextTokenException",
		"The NextToken has expired. It was created at ...")
	e.offset.Store(0)
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("ls")}); err != nil {
		t.Fatal(err)
	}
	e.create("ls", 3)
	wantErr[notFoundErr](t, "NextToken of a deleted stream", list(&kinesis.ListShardsInput{NextToken: tok}), "ResourceNotFoundException", streamNotFound("ls"))
}

// TestSDKReshardOnDemand: AWS manages the shards of an ON_DEMAND stream;
// resharding calls are ValidationException until it is PROVISIONED again.
func TestSDKReshardOnDemand(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	name := aws.String("od")
	_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String(stream.ShardID(0)), NewStartingHashKey: aws.String("1000")})
	wantErr[validErr](t, "SplitShard", err, "ValidationException", "SplitShard is not supported for streams in ON_DEMAND mode.")
	_, err = c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String(stream.ShardID(0)), AdjacentShardToMerge: aws.String(stream.ShardID(1))})
	wantErr[validErr](t, "MergeShards", err, "ValidationException", "MergeShards is not supported for streams in ON_DEMAND mode.")
	_, err = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(8), ScalingType: types.ScalingTypeUniformScaling})
	wantErr[validErr](t, "UpdateShardCount", err, "ValidationException", "UpdateShardCount is not supported for streams in ON_DEMAND mode.")
	if got := e.shards("od", nil); len(got) != stream.OnDemandShardCount {
		t.Errorf("shards after the refusals: %+v", got)
	}
	if _, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(arnBase + "od"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(8), ScalingType: types.ScalingTypeUniformScaling})
	if err != nil || aws.ToInt32(out.CurrentShardCount) != 4 || aws.ToInt32(out.TargetShardCount) != 8 {
		t.Errorf("UpdateShardCount once PROVISIONED: %+v, %v", out, err)
	}
}
