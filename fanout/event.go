package fanout

import (
	"encoding/base64"
	"strconv"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/eventstream"
)

// Event types and exception types of the SubscribeToShard event stream
// (KINESIS_API.md 4.5).
const (
	EventSubscribeToShard = "SubscribeToShardEvent"

	ExceptionResourceInUse    = "ResourceInUseException"
	ExceptionResourceNotFound = "ResourceNotFoundException"
	ExceptionInternalFailure  = "InternalFailureException"
)

// appendEventJSON appends the JSON payload of a SubscribeToShardEvent:
//
//	{"ChildShards":[...],"ContinuationSequenceNumber":"...","MillisBehindLatest":0,
//	 "Records":[{"ApproximateArrivalTimestamp":1700000000.123,"Data":"<base64>",
//	 "EncryptionType":"KMS","PartitionKey":"...","SequenceNumber":"..."}]}
//
// ContinuationSequenceNumber is left out only at shard end (b.ShardEnd),
// ChildShards is present only then; EncryptionType only when encType is
// not "" or NONE.
func appendEventJSON(dst []byte, b *stream.FollowBatch, encType string) []byte {
	dst = append(dst, '{')
	if b.ShardEnd {
		dst = append(dst, `"ChildShards":[`...)
		for i, c := range b.ChildShards {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"HashKeyRange":{"EndingHashKey":"`...)
			dst = append(dst, c.HashKeyRange.End.String()...)
			dst = append(dst, `","StartingHashKey":"`...)
			dst = append(dst, c.HashKeyRange.Start.String()...)
			dst = append(dst, `"},"ParentShards":[`...)
			dst = eventstream.AppendJSONString(dst, c.ParentShardID)
			if c.AdjacentParentShardID != "" {
				dst = append(dst, ',')
				dst = eventstream.AppendJSONString(dst, c.AdjacentParentShardID)
			}
			dst = append(dst, `],"ShardId":`...)
			dst = eventstream.AppendJSONString(dst, c.ShardID)
			dst = append(dst, '}')
		}
		dst = append(dst, "],"...)
	} else {
		dst = append(dst, `"ContinuationSequenceNumber":"`...)
		dst = append(dst, b.Continuation...)
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"MillisBehindLatest":`...)
	dst = strconv.AppendInt(dst, b.MillisBehindLatest, 10)
	dst = append(dst, `,"Records":[`...)
	for i := range b.Records {
		r := &b.Records[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"ApproximateArrivalTimestamp":`...)
		dst = appendSeconds(dst, r.ArrivalMillis)
		dst = append(dst, `,"Data":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.Data)
		dst = append(dst, '"')
		if encType != "" && encType != stream.EncryptionNone {
			dst = append(dst, `,"EncryptionType":`...)
			dst = eventstream.AppendJSONString(dst, encType)
		}
		dst = append(dst, `,"PartitionKey":`...)
		dst = eventstream.AppendJSONString(dst, r.PartitionKey)
		dst = append(dst, `,"SequenceNumber":"`...)
		dst = append(dst, r.SequenceNumber...)
		dst = append(dst, `"}`...)
	}
	return append(dst, "]}"...)
}

// appendSeconds appends Unix ms as epoch seconds with a 3-digit fraction
// (JSON 1.1 timestamps: fractional seconds, no exponent).
func appendSeconds(dst []byte, ms int64) []byte {
	if ms < 0 {
		dst = append(dst, '-')
		ms = -ms
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	frac := ms % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}
