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

// appendEventCBOR appends the CBOR payload of a SubscribeToShardEvent, for
// a subscription whose request was CBOR (the Java SDKs): the members of
// appendEventJSON, as a map with text keys, Data as a byte string and
// ApproximateArrivalTimestamp as tag 1 with integer epoch milliseconds
// (the CBOR rules of KINESIS_API.md 1.3).
func appendEventCBOR(dst []byte, b *stream.FollowBatch, encType string) []byte {
	dst = eventstream.AppendCBORHead(dst, cborMap, 3)
	if b.ShardEnd {
		dst = eventstream.AppendCBORText(dst, "ChildShards")
		dst = eventstream.AppendCBORHead(dst, cborArray, uint64(len(b.ChildShards)))
		for _, c := range b.ChildShards {
			dst = eventstream.AppendCBORHead(dst, cborMap, 3)
			dst = eventstream.AppendCBORText(dst, "HashKeyRange")
			dst = eventstream.AppendCBORHead(dst, cborMap, 2)
			dst = eventstream.AppendCBORText(dst, "EndingHashKey")
			dst = eventstream.AppendCBORText(dst, c.HashKeyRange.End.String())
			dst = eventstream.AppendCBORText(dst, "StartingHashKey")
			dst = eventstream.AppendCBORText(dst, c.HashKeyRange.Start.String())
			dst = eventstream.AppendCBORText(dst, "ParentShards")
			if c.AdjacentParentShardID != "" {
				dst = eventstream.AppendCBORHead(dst, cborArray, 2)
				dst = eventstream.AppendCBORText(dst, c.ParentShardID)
				dst = eventstream.AppendCBORText(dst, c.AdjacentParentShardID)
			} else {
				dst = eventstream.AppendCBORHead(dst, cborArray, 1)
				dst = eventstream.AppendCBORText(dst, c.ParentShardID)
			}
			dst = eventstream.AppendCBORText(dst, "ShardId")
			dst = eventstream.AppendCBORText(dst, c.ShardID)
		}
	} else {
		dst = eventstream.AppendCBORText(dst, "ContinuationSequenceNumber")
		dst = eventstream.AppendCBORText(dst, b.Continuation)
	}
	dst = eventstream.AppendCBORText(dst, "MillisBehindLatest")
	dst = appendCBORInt(dst, b.MillisBehindLatest)
	dst = eventstream.AppendCBORText(dst, "Records")
	dst = eventstream.AppendCBORHead(dst, cborArray, uint64(len(b.Records)))
	withEnc := encType != "" && encType != stream.EncryptionNone
	for i := range b.Records {
		r := &b.Records[i]
		n := uint64(4)
		if withEnc {
			n = 5
		}
		dst = eventstream.AppendCBORHead(dst, cborMap, n)
		dst = eventstream.AppendCBORText(dst, "ApproximateArrivalTimestamp")
		dst = append(dst, 0xc1) // tag 1
		dst = appendCBORInt(dst, r.ArrivalMillis)
		dst = eventstream.AppendCBORText(dst, "Data")
		dst = eventstream.AppendCBORHead(dst, cborBytes, uint64(len(r.Data)))
		dst = append(dst, r.Data...)
		if withEnc {
			dst = eventstream.AppendCBORText(dst, "EncryptionType")
			dst = eventstream.AppendCBORText(dst, encType)
		}
		dst = eventstream.AppendCBORText(dst, "PartitionKey")
		dst = eventstream.AppendCBORText(dst, r.PartitionKey)
		dst = eventstream.AppendCBORText(dst, "SequenceNumber")
		dst = eventstream.AppendCBORText(dst, r.SequenceNumber)
	}
	return dst
}

// CBOR major types.
const (
	cborUint  = 0
	cborNeg   = 1
	cborBytes = 2
	cborArray = 4
	cborMap   = 5
)

func appendCBORInt(dst []byte, v int64) []byte {
	if v < 0 {
		return eventstream.AppendCBORHead(dst, cborNeg, uint64(-1-v))
	}
	return eventstream.AppendCBORHead(dst, cborUint, uint64(v))
}
