// Package stream is the Kinesis domain of sluice, layered over the storage
// engine in segment (one segment.Log per shard). It will hold streams,
// shards, resharding, consumers, quotas and metadata persistence; so far it
// holds the pure primitives those stand on:
//
//   - hashkey.go: the 128-bit hash-key space (HashKey, HashKeyRange),
//     partition-key routing (MD5, big-endian), the even split of CreateStream
//     and the range arithmetic of SplitShard and MergeShards.
//   - shardid.go: shard ids ("shardId-000000000007") and their parsing.
//   - seqnum.go: 56-digit decimal sequence numbers in AWS's v2 layout, built
//     from a shard's creation time and index, a record's position in the
//     shard's log and its arrival second.
//   - iterator.go: opaque, stateless, self-validating shard iterators that
//     expire after five minutes.
//
// The formats follow KINESIS_API.md sections 3.1, 3.2 and 3.6; each file
// documents its layout and the decisions taken where that reference is
// unsure. Sequence numbers and iterators are handed to clients and come back
// after restarts, so their layouts are frozen like an on-disk format: never
// change them, add a version.
//
// Errors: parse errors wrap a sentinel (ErrInvalidHashKey, ErrInvalidShardID,
// ErrInvalidSeqNum, ErrInvalidIterator, ...) and say what is wrong with the
// input. Mapping them to Kinesis error codes and message texts happens in
// wire/kinesis, except for ExpiredIteratorError, whose text is AWS's
// message. Functions panic ("BUG: ...") only on arguments the caller
// controls and must have validated, such as a negative shard index.
//
// # Concurrency
//
// These helpers are pure functions of their arguments, with no package-level
// mutable state, and are safe for concurrent use. An IteratorCodec is
// immutable after NewIteratorCodec and safe for concurrent use.
//
// # Buffers
//
// Append* functions append to the caller's slice and keep no reference to
// it. Parsers do not retain their input; errors quote at most a short copy
// of it.
//
// # Manager (first slice)
//
// Manager (manager.go, data.go, meta.go) holds the streams of one data
// directory: metadata in DataDir/streams.json (versioned JSON, replaced
// atomically, holding the iterator secret), one segment.Log per shard under
// DataDir/streams/<name>-<created ms>/shards/<shardId>/. It implements
// CreateStream (ACTIVE at once: no CREATING phase yet), DeleteStream
// (immediate, no DELETING phase), DescribeStream, ListStreams, PutRecords,
// GetShardIterator and GetRecords. Errors wrap ErrStreamNotFound,
// ErrStreamExists, ErrShardNotFound, ErrClosed or are *ArgumentError.
// PutRecordsGroups is PutRecords answered per shard (the records appended
// consecutively and the first one's SeqNum), for the binary protocol;
// PutRecords formats its groups per record.
//
// # Stream state
//
// The state a stream shows besides its shards lives in settings.go (capacity
// mode, retention, encryption, MaxRecordSizeInKiB, warm throughput,
// enhanced monitoring, DescribeLimits), tags.go, consumers.go (the
// enhanced fan-out registry, metadata only), policy.go (resource policies)
// and account.go (MinimumThroughputBillingCommitment). It is persisted in
// streams.json with the stream ("settings") and the account ("account").
// In memory a stream's settings are one immutable value behind an atomic
// pointer, replaced under Manager.mu after streams.json was written, so
// readers take no lock. Operations that would go through UPDATING (mode,
// encryption, warm throughput) complete at once. Their errors are
// *ArgumentError (InvalidArgumentException), ErrStreamNotFound, or an
// *APIError whose Kind (apierror.go) names the Kinesis error code and whose
// Msg is the client text. quotas.go emulates the per-shard throughput
// quotas when Config.EmulateQuotas is set.
//
// Resharding (reshard.go): SplitShard, MergeShards and UpdateShardCount
// close shards and create children with ParentShardId and
// AdjacentParentShardId; closed shards stay readable to their end, where
// GetRecords returns no NextShardIterator and the ChildShards. Children's
// sequence numbers sort above their parents'. With Config.UpdateDelay the
// stream is UPDATING meanwhile. ListShards (listshards.go) filters (all
// ShardFilter types) and pages with authenticated NextTokens. Their errors
// are *ArgumentError, *ResourceInUseError, *LimitExceededError,
// *ResourceNotFoundError and *ExpiredNextTokenError, each carrying AWS's
// message; the doc comment of each method lists its errors with their AWS
// codes.
//
// Not done yet: CREATING and DELETING phases, a lock against two managers
// on one data directory.
//
// stream may import only the standard library, segment and internal/...;
// it knows nothing of HTTP or codecs.
package stream
