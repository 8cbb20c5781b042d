package cborclient

import (
	"context"
	"time"
)

// The inputs below build their Object in the member order of the Kinesis
// service model (botocore data/kinesis/2013-12-02/service-2.json, the same
// model the Java SDKs' marshallers are generated from). Empty strings, nil
// blobs, zero integers and zero times are "not set" and left out, as the
// SDK leaves out null members. StreamId (reserved) is never sent.

// objectBuilder appends set members in order.
type objectBuilder Object

func (b *objectBuilder) str(key, v string) {
	if v != "" {
		*b = append(*b, KV(key, v))
	}
}

func (b *objectBuilder) blob(key string, v []byte) {
	if v != nil {
		*b = append(*b, KV(key, v))
	}
}

func (b *objectBuilder) int(key string, v int) {
	if v != 0 {
		*b = append(*b, KV(key, v))
	}
}

func (b *objectBuilder) time(key string, v time.Time) {
	if !v.IsZero() {
		*b = append(*b, KV(key, v))
	}
}

// PutRecordInput is PutRecordInput: StreamName, Data, PartitionKey,
// ExplicitHashKey, SequenceNumberForOrdering, StreamARN.
type PutRecordInput struct {
	StreamName, PartitionKey, ExplicitHashKey, SequenceNumberForOrdering, StreamARN string
	Data                                                                            []byte
}

// Object returns the request in model order.
func (in *PutRecordInput) Object() Object {
	var b objectBuilder
	b.str("StreamName", in.StreamName)
	b.blob("Data", in.Data)
	b.str("PartitionKey", in.PartitionKey)
	b.str("ExplicitHashKey", in.ExplicitHashKey)
	b.str("SequenceNumberForOrdering", in.SequenceNumberForOrdering)
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// PutRecordsEntry is PutRecordsRequestEntry: Data, ExplicitHashKey,
// PartitionKey.
type PutRecordsEntry struct {
	Data                          []byte
	ExplicitHashKey, PartitionKey string
}

// PutRecordsInput is PutRecordsInput: Records, StreamName, StreamARN.
type PutRecordsInput struct {
	Records               []PutRecordsEntry
	StreamName, StreamARN string
}

// Object returns the request in model order.
func (in *PutRecordsInput) Object() Object {
	var b objectBuilder
	if in.Records != nil {
		records := make(Array, len(in.Records))
		for i, r := range in.Records {
			var e objectBuilder
			e.blob("Data", r.Data)
			e.str("ExplicitHashKey", r.ExplicitHashKey)
			e.str("PartitionKey", r.PartitionKey)
			records[i] = Object(e)
		}
		b = append(b, KV("Records", records))
	}
	b.str("StreamName", in.StreamName)
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// GetShardIteratorInput is GetShardIteratorInput: StreamName, ShardId,
// ShardIteratorType, StartingSequenceNumber, Timestamp, StreamARN.
type GetShardIteratorInput struct {
	StreamName, ShardId, ShardIteratorType, StartingSequenceNumber string
	Timestamp                                                      time.Time
	StreamARN                                                      string
}

// Object returns the request in model order.
func (in *GetShardIteratorInput) Object() Object {
	var b objectBuilder
	b.str("StreamName", in.StreamName)
	b.str("ShardId", in.ShardId)
	b.str("ShardIteratorType", in.ShardIteratorType)
	b.str("StartingSequenceNumber", in.StartingSequenceNumber)
	b.time("Timestamp", in.Timestamp)
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// GetRecordsInput is GetRecordsInput: ShardIterator, Limit, StreamARN.
type GetRecordsInput struct {
	ShardIterator string
	Limit         int
	StreamARN     string
}

// Object returns the request in model order.
func (in *GetRecordsInput) Object() Object {
	var b objectBuilder
	b.str("ShardIterator", in.ShardIterator)
	b.int("Limit", in.Limit)
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// DescribeStreamInput is DescribeStreamInput: StreamName, Limit,
// ExclusiveStartShardId, StreamARN.
type DescribeStreamInput struct {
	StreamName            string
	Limit                 int
	ExclusiveStartShardId string
	StreamARN             string
}

// Object returns the request in model order.
func (in *DescribeStreamInput) Object() Object {
	var b objectBuilder
	b.str("StreamName", in.StreamName)
	b.int("Limit", in.Limit)
	b.str("ExclusiveStartShardId", in.ExclusiveStartShardId)
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// DescribeStreamSummaryInput is DescribeStreamSummaryInput: StreamName,
// StreamARN.
type DescribeStreamSummaryInput struct {
	StreamName, StreamARN string
}

// Object returns the request in model order.
func (in *DescribeStreamSummaryInput) Object() Object {
	var b objectBuilder
	b.str("StreamName", in.StreamName)
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// ShardFilter is ShardFilter: Type, ShardId, Timestamp.
type ShardFilter struct {
	Type, ShardId string
	Timestamp     time.Time
}

// ListShardsInput is ListShardsInput: StreamName, NextToken,
// ExclusiveStartShardId, MaxResults, StreamCreationTimestamp, ShardFilter,
// StreamARN.
type ListShardsInput struct {
	StreamName, NextToken, ExclusiveStartShardId string
	MaxResults                                   int
	StreamCreationTimestamp                      time.Time
	ShardFilter                                  *ShardFilter
	StreamARN                                    string
}

// Object returns the request in model order.
func (in *ListShardsInput) Object() Object {
	var b objectBuilder
	b.str("StreamName", in.StreamName)
	b.str("NextToken", in.NextToken)
	b.str("ExclusiveStartShardId", in.ExclusiveStartShardId)
	b.int("MaxResults", in.MaxResults)
	b.time("StreamCreationTimestamp", in.StreamCreationTimestamp)
	if f := in.ShardFilter; f != nil {
		var fb objectBuilder
		fb.str("Type", f.Type)
		fb.str("ShardId", f.ShardId)
		fb.time("Timestamp", f.Timestamp)
		b = append(b, KV("ShardFilter", Object(fb)))
	}
	b.str("StreamARN", in.StreamARN)
	return Object(b)
}

// CreateStreamInput is CreateStreamInput: StreamName, ShardCount,
// StreamModeDetails{StreamMode} (Tags, WarmThroughputMiBps and
// MaxRecordSizeInKiB are not offered; use Call with a Map).
type CreateStreamInput struct {
	StreamName string
	ShardCount int
	StreamMode string
}

// Object returns the request in model order.
func (in *CreateStreamInput) Object() Object {
	var b objectBuilder
	b.str("StreamName", in.StreamName)
	b.int("ShardCount", in.ShardCount)
	if in.StreamMode != "" {
		b = append(b, KV("StreamModeDetails", Map(KV("StreamMode", in.StreamMode))))
	}
	return Object(b)
}

// PutRecord calls PutRecord.
func (c *Client) PutRecord(ctx context.Context, in *PutRecordInput) (map[string]any, error) {
	return c.Call(ctx, "PutRecord", in.Object())
}

// PutRecords calls PutRecords.
func (c *Client) PutRecords(ctx context.Context, in *PutRecordsInput) (map[string]any, error) {
	return c.Call(ctx, "PutRecords", in.Object())
}

// GetShardIterator calls GetShardIterator.
func (c *Client) GetShardIterator(ctx context.Context, in *GetShardIteratorInput) (map[string]any, error) {
	return c.Call(ctx, "GetShardIterator", in.Object())
}

// GetRecords calls GetRecords.
func (c *Client) GetRecords(ctx context.Context, in *GetRecordsInput) (map[string]any, error) {
	return c.Call(ctx, "GetRecords", in.Object())
}

// DescribeStream calls DescribeStream.
func (c *Client) DescribeStream(ctx context.Context, in *DescribeStreamInput) (map[string]any, error) {
	return c.Call(ctx, "DescribeStream", in.Object())
}

// DescribeStreamSummary calls DescribeStreamSummary.
func (c *Client) DescribeStreamSummary(ctx context.Context, in *DescribeStreamSummaryInput) (map[string]any, error) {
	return c.Call(ctx, "DescribeStreamSummary", in.Object())
}

// ListShards calls ListShards.
func (c *Client) ListShards(ctx context.Context, in *ListShardsInput) (map[string]any, error) {
	return c.Call(ctx, "ListShards", in.Object())
}

// CreateStream calls CreateStream.
func (c *Client) CreateStream(ctx context.Context, in *CreateStreamInput) (map[string]any, error) {
	return c.Call(ctx, "CreateStream", in.Object())
}
