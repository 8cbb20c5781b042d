package stream

import (
	"sync"
	"time"
)

// Throughput quotas (KINESIS_API.md 3.3), enforced per shard when
// Config.EmulateQuotas is set: writes 1 MiB/s and 1,000 records/s (a
// record counts len(Data) + len(PartitionKey)), reads 5 GetRecords calls/s
// and 2 MiB/s. Each limit is a token bucket holding one second of its rate,
// refilled continuously from Config.Now. A record or a read larger than the
// bucket is admitted when the bucket is full and leaves it in debt, so that
// a GetRecords call returning 10 MiB throttles the shard's reads for about
// the next 4 to 5 seconds, as AWS does. With EmulateQuotas off (the
// default) the data path does not touch any of this.
const (
	WriteBytesPerShard   = 1 << 20
	WriteRecordsPerShard = 1000
	ReadCallsPerShard    = 5
	ReadBytesPerShard    = 2 << 20
)

// bucket is a token bucket; its owner serializes access.
type bucket struct {
	tokens float64
	last   int64 // Unix ns of the last refill; 0 before the first use
}

// refill adds rate tokens per second since the last refill, up to rate.
func (b *bucket) refill(now int64, rate float64) {
	if b.last == 0 {
		b.tokens, b.last = rate, now
		return
	}
	if now > b.last {
		b.tokens = min(rate, b.tokens+rate*float64(now-b.last)/float64(time.Second))
		b.last = now
	}
}

// shardQuota holds the buckets of one shard.
type shardQuota struct {
	mu                    sync.Mutex
	writeBytes, writeRecs bucket
	readCalls, readBytes  bucket
}

// shardQuotas maps shard indexes to their quotas, made on first use (so
// that shards created by resharding get theirs too). The zero value is
// ready.
type shardQuotas struct {
	mu     sync.Mutex
	shards map[int]*shardQuota
}

func (q *shardQuotas) get(index int) *shardQuota {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shards == nil {
		q.shards = make(map[int]*shardQuota)
	}
	sq := q.shards[index]
	if sq == nil {
		sq = &shardQuota{}
		q.shards[index] = sq
	}
	return sq
}

// throttledError is AWS's ProvisionedThroughputExceededException text for
// writes to a shard (the PutRecords ErrorMessage, captured from AWS's API
// reference example, and the PutRecord exception).
func (m *Manager) throttledError(s *streamState, shardIndex int) error {
	return apiError(ErrThroughputExceeded, "Rate exceeded for shard "+ShardID(shardIndex)+" in stream "+s.meta.Name+
		" under account "+m.cfg.AccountID+".")
}

// throttleWrites takes the records of each group (by slot in s.open) out of
// the group when their shard's write quota is used up, in request order,
// and adds them to out as a group of their own that failed with
// ErrThroughputExceeded.
func (m *Manager) throttleWrites(s *streamState, recs []PutEntry, groups [][]int32, out *PutGroups) {
	now := m.cfg.Now().UnixNano()
	var throttled []int32
	for slot, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		index := s.open[slot]
		q := s.quotas.get(index)
		kept := idx[:0]
		throttled = throttled[:0]
		q.mu.Lock()
		q.writeBytes.refill(now, WriteBytesPerShard)
		q.writeRecs.refill(now, WriteRecordsPerShard)
		for _, i := range idx {
			size := float64(len(recs[i].Data) + len(recs[i].PartitionKey))
			if q.writeRecs.tokens >= 1 && q.writeBytes.tokens >= min(size, WriteBytesPerShard) {
				q.writeRecs.tokens--
				q.writeBytes.tokens -= size
				kept = append(kept, i)
				continue
			}
			throttled = append(throttled, i)
		}
		q.mu.Unlock()
		groups[slot] = kept
		if len(throttled) > 0 {
			// The throttled records go after the kept ones in the slot's
			// part of the backing array, both in request order.
			rest := idx[len(kept):len(idx)]
			copy(rest, throttled)
			out.Groups = append(out.Groups, PutGroup{ShardID: ShardID(index), Indexes: rest, Err: m.throttledError(s, index)})
		}
	}
}

// admitRead takes one GetRecords call from the shard's read quota; it
// fails with ErrThroughputExceeded when the calls or the bytes are used
// up.
func (m *Manager) admitRead(s *streamState, index int) error {
	now := m.cfg.Now().UnixNano()
	q := s.quotas.get(index)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.readCalls.refill(now, ReadCallsPerShard)
	q.readBytes.refill(now, ReadBytesPerShard)
	if q.readCalls.tokens < 1 || q.readBytes.tokens <= 0 {
		// The newer of the two observed GetRecords texts (KINESIS_API.md
		// 3.3, seen 2023 and in client code matching it) [unsure].
		return apiError(ErrThroughputExceeded, "Rate exceeded for Shard - "+m.cfg.AccountID+"/"+s.meta.Name+"/"+ShardID(index))
	}
	q.readCalls.tokens--
	return nil
}

// chargeRead takes the bytes a GetRecords call returned from the shard's
// read quota.
func (m *Manager) chargeRead(s *streamState, index int, recs []RecordOut) {
	n := 0
	for i := range recs {
		n += len(recs[i].Data)
	}
	if n == 0 {
		return
	}
	q := s.quotas.get(index)
	q.mu.Lock()
	q.readBytes.tokens -= float64(n)
	q.mu.Unlock()
}
