package kinesis

// CBOR codecs of the four hot operations. The decoders check member types
// against the model (SerializationException with the texts of the JSON
// path) and fill the same request structs as the JSON decoders, so the
// caller runs the same Validate afterwards. The decoders (cbor_stream.go)
// stream over a copy of body owned by the request: the values stay valid
// until the next Decode or Reset on the request, like the JSON ones, and
// body may be reused as soon as the decoder returns.

// AppendPutRecordResponseCBOR appends the CBOR body for resp to dst.
func AppendPutRecordResponseCBOR(dst []byte, resp *PutRecordResponse) []byte {
	n := uint64(2)
	if resp.EncryptionType != "" {
		n++
	}
	dst = appendCBORHead(dst, 5, n)
	dst = appendCBORText(dst, "ShardId")
	dst = appendCBORText(dst, resp.ShardID)
	dst = appendCBORText(dst, "SequenceNumber")
	dst = appendCBORText(dst, resp.SequenceNumber)
	if resp.EncryptionType != "" {
		dst = appendCBORText(dst, "EncryptionType")
		dst = appendCBORText(dst, resp.EncryptionType)
	}
	return dst
}

// AppendPutRecordsResponseCBOR appends the CBOR body for resp to dst; entries
// carry the same members as in AppendPutRecordsResponse.
func AppendPutRecordsResponseCBOR(dst []byte, resp *PutRecordsResponse) []byte {
	n := uint64(2)
	if resp.EncryptionType != "" {
		n++
	}
	dst = appendCBORHead(dst, 5, n)
	dst = appendCBORText(dst, "FailedRecordCount")
	dst = appendCBORInt(dst, int64(resp.FailedRecordCount))
	dst = appendCBORText(dst, "Records")
	dst = appendCBORHead(dst, 4, uint64(len(resp.Records)))
	for i := range resp.Records {
		e := &resp.Records[i]
		dst = append(dst, 0xa2)
		if e.ErrorCode != "" {
			dst = appendCBORText(dst, "ErrorCode")
			dst = appendCBORText(dst, e.ErrorCode)
			dst = appendCBORText(dst, "ErrorMessage")
			dst = appendCBORText(dst, e.ErrorMessage)
		} else {
			dst = appendCBORText(dst, "ShardId")
			dst = appendCBORText(dst, e.ShardID)
			dst = appendCBORText(dst, "SequenceNumber")
			dst = appendCBORText(dst, e.SequenceNumber)
		}
	}
	if resp.EncryptionType != "" {
		dst = appendCBORText(dst, "EncryptionType")
		dst = appendCBORText(dst, resp.EncryptionType)
	}
	return dst
}

// AppendGetShardIteratorResponseCBOR appends the CBOR body for resp to dst.
func AppendGetShardIteratorResponseCBOR(dst []byte, resp *GetShardIteratorResponse) []byte {
	dst = append(dst, 0xa1)
	dst = appendCBORText(dst, "ShardIterator")
	return appendCBORText(dst, resp.ShardIterator)
}

// AppendGetRecordsResponseCBOR appends the CBOR body for resp to dst: Data
// as byte strings, ApproximateArrivalTimestamp as tag 1 + integer ms.
func AppendGetRecordsResponseCBOR(dst []byte, resp *GetRecordsResponse) []byte {
	n := uint64(2)
	if resp.NextShardIterator != "" {
		n++
	}
	if len(resp.ChildShards) > 0 {
		n++
	}
	dst = appendCBORHead(dst, 5, n)
	dst = appendCBORText(dst, "Records")
	dst = appendCBORHead(dst, 4, uint64(len(resp.Records)))
	for i := range resp.Records {
		r := &resp.Records[i]
		if r.EncryptionType != "" {
			dst = append(dst, 0xa5)
		} else {
			dst = append(dst, 0xa4)
		}
		dst = appendCBORText(dst, "SequenceNumber")
		dst = appendCBORText(dst, r.SequenceNumber)
		dst = appendCBORText(dst, "ApproximateArrivalTimestamp")
		dst = appendCBORTimestamp(dst, r.ApproximateArrivalTimestampMillis)
		dst = appendCBORText(dst, "Data")
		dst = appendCBORBytes(dst, r.Data)
		dst = appendCBORText(dst, "PartitionKey")
		dst = appendCBORText(dst, r.PartitionKey)
		if r.EncryptionType != "" {
			dst = appendCBORText(dst, "EncryptionType")
			dst = appendCBORText(dst, r.EncryptionType)
		}
	}
	if resp.NextShardIterator != "" {
		dst = appendCBORText(dst, "NextShardIterator")
		dst = appendCBORText(dst, resp.NextShardIterator)
	}
	dst = appendCBORText(dst, "MillisBehindLatest")
	dst = appendCBORInt(dst, resp.MillisBehindLatest)
	if len(resp.ChildShards) > 0 {
		dst = appendCBORText(dst, "ChildShards")
		dst = appendCBORHead(dst, 4, uint64(len(resp.ChildShards)))
		for i := range resp.ChildShards {
			c := &resp.ChildShards[i]
			dst = append(dst, 0xa3)
			dst = appendCBORText(dst, "ShardId")
			dst = appendCBORText(dst, c.ShardID)
			dst = appendCBORText(dst, "ParentShards")
			dst = appendCBORHead(dst, 4, uint64(len(c.ParentShards)))
			for _, p := range c.ParentShards {
				dst = appendCBORText(dst, p)
			}
			dst = appendCBORText(dst, "HashKeyRange")
			dst = append(dst, 0xa2)
			dst = appendCBORText(dst, "StartingHashKey")
			dst = appendCBORText(dst, c.HashKeyRange.StartingHashKey)
			dst = appendCBORText(dst, "EndingHashKey")
			dst = appendCBORText(dst, c.HashKeyRange.EndingHashKey)
		}
	}
	return dst
}
