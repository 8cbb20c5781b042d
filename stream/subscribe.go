package stream

import (
	"fmt"

	"github.com/sluicehq/sluice/segment"
)

// Following a shard for enhanced fan-out (SubscribeToShard).
//
// A ShardFollower is a read position in one shard that a push subscriber
// (the fanout package) advances at its own pace, straight from the shard's
// segment files: there is no per-subscriber queue between the producers
// and a subscriber, so a slow subscriber only falls behind, it never slows
// a producer or another subscriber. It waits for new records on the shard
// log's commit notification (Notify), not on a timer.
//
// Resuming without gaps or duplicates rests on the continuation sequence
// number (Continuation): the sequence number of the last record delivered,
// resumed with AFTER_SEQUENCE_NUMBER. Before any record was delivered it
// is the sequence number of the record before the read position, and at
// position 0 a sentinel that no record has: the shard's creation time and
// index with counter 0 and arrival time 0 (1970). A real record's arrival
// field is never 0, so the sentinel is never mistaken for record 0, whose
// sequence number may equal the shard's StartingSequenceNumber (same
// second). FollowShard resumes AFTER the sentinel at position 0.
// GetShardIterator does not know the sentinel yet: AFTER_SEQUENCE_NUMBER
// with it starts at position 1 there [follow-up for stream's owner].

// FollowPosition is where a ShardFollower starts: SubscribeToShard's
// StartingPosition.
type FollowPosition struct {
	// Type is one of IterTrimHorizon, IterLatest, IterAtSequenceNumber,
	// IterAfterSequenceNumber, IterAtTimestamp.
	Type string
	// SequenceNumber is used by AT_ and AFTER_SEQUENCE_NUMBER only.
	SequenceNumber string
	// TimestampMillis (Unix ms) is used by AT_TIMESTAMP only.
	TimestampMillis int64
}

// ShardFollower reads one shard in order for a push subscriber. It is
// owned by one goroutine (not safe for concurrent use); it holds no
// resources beyond memory, so it needs no Close.
type ShardFollower struct {
	m            *Manager
	name         string
	created      int64 // the stream incarnation (creation ms)
	index        int
	shardCreated int64 // ms
	log          *segment.Log
	pos          uint64 // next position to read
	cont         string // continuation for pos
}

// FollowBatch is what ShardFollower.Next read.
type FollowBatch struct {
	// Records are in order, without gaps, possibly none.
	Records []RecordOut
	// Continuation is the sequence number to resume from with
	// AFTER_SEQUENCE_NUMBER (ContinuationSequenceNumber); "" only at the
	// end of a closed shard.
	Continuation string
	// MillisBehindLatest is the arrival time of the shard's newest record
	// minus that of the last record returned; 0 when caught up.
	MillisBehindLatest int64
	// ShardEnd is set when the follower read past the last record of a
	// closed shard; ChildShards then lists the shards that took over its
	// hash keys (ParentShardID and AdjacentParentShardID name their
	// parents).
	ShardEnd    bool
	ChildShards []ShardInfo
}

// FollowShard returns a follower of shard shardID of stream name, at the
// position start names. The validation and error texts are those of
// GetShardIterator (*ArgumentError, ErrStreamNotFound, ErrShardNotFound),
// plus the continuation sentinel described above.
func (m *Manager) FollowShard(name, shardID string, start FollowPosition) (*ShardFollower, error) {
	s, err := m.stream(name)
	if err != nil {
		return nil, err
	}
	sh, err := s.shard(shardID)
	if err != nil {
		return nil, err
	}
	f := &ShardFollower{
		m: m, name: name, created: s.meta.CreatedMillis, index: sh.index,
		shardCreated: sh.created, log: sh.log,
	}
	if start.Type == IterAfterSequenceNumber && start.SequenceNumber == f.sentinel() {
		f.setPos(0)
		return f, nil
	}
	seq := start.SequenceNumber
	if start.Type != IterAtSequenceNumber && start.Type != IterAfterSequenceNumber {
		seq = ""
	}
	it, err := m.GetShardIterator(name, shardID, start.Type, seq, start.TimestampMillis)
	if err != nil {
		return nil, err
	}
	pos, err := m.codec.Decode(it, m.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("BUG: stream: decoding a fresh iterator: %w", err)
	}
	f.setPos(pos.Position)
	return f, nil
}

// sentinel is the continuation of position 0.
func (f *ShardFollower) sentinel() string {
	return FormatSeqNum(SeqNum{ShardCreated: f.shardCreated / 1000, ShardIndex: f.index})
}

// arrival returns the arrival field of a sequence number for a record of
// this shard that arrived at ms: its second, but no earlier than the
// shard's creation second (the rule of PutRecords and GetRecords with
// resharding, where a child may be created ahead of the clock).
func (f *ShardFollower) arrival(ms int64) int64 { return max(ms/1000, f.shardCreated/1000) }

func (f *ShardFollower) seq(pos uint64, ms int64) string {
	return FormatSeqNum(SeqNum{ShardCreated: f.shardCreated / 1000, ShardIndex: f.index, Position: pos, Arrival: f.arrival(ms)})
}

// setPos moves the follower to pos and computes its continuation: the
// sequence number of the record before pos (the shard's creation second
// stands in for the arrival time of a record that is no longer readable;
// only the counter matters for resuming).
func (f *ShardFollower) setPos(pos uint64) {
	f.pos = pos
	if pos == 0 {
		f.cont = f.sentinel()
		return
	}
	ms := f.shardCreated
	if recs, _, err := f.log.Read(pos-1, 1, 1); err == nil && len(recs) == 1 && recs[0].Seq == pos-1 {
		ms = recs[0].Timestamp
	}
	f.cont = f.seq(pos-1, ms)
}

// Position returns the position of the next record to read.
func (f *ShardFollower) Position() uint64 { return f.pos }

// Continuation returns the continuation sequence number of the current
// position (see FollowBatch.Continuation).
func (f *ShardFollower) Continuation() string { return f.cont }

// Notify returns a channel closed at the shard log's next commit (or when
// it closes). Take it before Next and wait on it after a Next that found
// nothing, so that a commit in between is not missed.
func (f *ShardFollower) Notify() <-chan struct{} { return f.log.Notify() }

// Next reads up to maxRecords records and, past the first, maxBytes of
// data from the current position and advances past them. It returns an
// error wrapping ErrStreamNotFound when the stream was deleted (or
// re-created), ErrClosed when the manager closed, or a read error of the
// log (e.g. a segment.CorruptionError) with no records.
func (f *ShardFollower) Next(maxRecords, maxBytes int) (FollowBatch, error) {
	s, err := f.m.stream(f.name)
	if err != nil {
		return FollowBatch{}, err
	}
	if s.meta.CreatedMillis != f.created || f.index >= len(s.shards) {
		return FollowBatch{}, notFound(f.name)
	}
	// Closed is read before the log's end: a shard closes only after its
	// last append committed, so a closed shard's end is final.
	closed := s.shards[f.index].closed != 0
	recs, next, err := f.log.Read(f.pos, maxRecords, maxBytes)
	if err != nil && len(recs) == 0 {
		if s.deleted.Load() {
			return FollowBatch{}, notFound(f.name)
		}
		return FollowBatch{}, fmt.Errorf("stream: reading %s of stream %q: %w", ShardID(f.index), f.name, err)
	}
	b := FollowBatch{Records: make([]RecordOut, len(recs))}
	for i, r := range recs {
		b.Records[i] = RecordOut{
			SequenceNumber: f.seq(r.Seq, r.Timestamp),
			ArrivalMillis:  r.Timestamp,
			PartitionKey:   string(r.PartitionKey),
			Data:           r.Data,
		}
	}
	f.pos = next
	if len(recs) > 0 {
		f.cont = b.Records[len(recs)-1].SequenceNumber
	}
	_, tip := f.log.Bounds()
	if len(recs) > 0 && next < tip {
		if last, _, err := f.log.Read(tip-1, 1, 1); err == nil && len(last) == 1 {
			b.MillisBehindLatest = max(0, last[0].Timestamp-recs[len(recs)-1].Timestamp)
		}
	}
	if closed && next >= tip {
		b.ShardEnd = true
		b.ChildShards = s.childShards(f.index)
		return b, nil
	}
	b.Continuation = f.cont
	return b, nil
}

// childShards returns the shards whose parent or adjacent parent is shard
// index.
func (s *streamState) childShards(index int) []ShardInfo {
	id := ShardID(index)
	var out []ShardInfo
	for i, sm := range s.meta.Shards {
		if i >= len(s.shards) || (sm.ParentShardID != id && sm.AdjacentParentShardID != id) {
			continue
		}
		out = append(out, ShardInfo{
			ShardID:               ShardID(i),
			ParentShardID:         sm.ParentShardID,
			AdjacentParentShardID: sm.AdjacentParentShardID,
			HashKeyRange:          s.shards[i].rng,
			CreatedMillis:         s.shards[i].created,
		})
	}
	return out
}
