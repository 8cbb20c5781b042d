package fanoutload

import (
	"bytes"
	"fmt"
	"hash/maphash"

	"github.com/valyala/fastjson"
)

// Placement records where the server put each record, as its PutRecords
// response said: the shard and the sequence number (kept as a hash). With
// it, a reader's log (ReadLog) can be checked against what was
// acknowledged: every record on the right shard, with the acknowledged
// sequence number, in order.
//
// The producers write disjoint ids while they run; Shard, Check and the
// Tracker filters built on it may be called once RunProducers has
// returned.
type Placement struct {
	shards map[string]int // shard id -> index, read-only
	seed   maphash.Seed
	max    uint64
	shard  []int32 // index + 1; 0: no acknowledgement recorded
	seq    []uint64
}

// NewPlacement returns a placement of ids below maxRecords on the shards
// shardIDs (the index of a shard is its position there).
func NewPlacement(maxRecords int, shardIDs []string) *Placement {
	p := &Placement{shards: make(map[string]int, len(shardIDs)), seed: maphash.MakeSeed(), max: uint64(maxRecords),
		shard: make([]int32, maxRecords), seq: make([]uint64, maxRecords)}
	for i, s := range shardIDs {
		p.shards[s] = i
	}
	return p
}

func (p *Placement) hash(seq []byte) uint64 { return maphash.Bytes(p.seed, seq) }

// record parses the PutRecords response body of records first..first+n-1.
func (p *Placement) record(first uint64, n int, body []byte) error {
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return fmt.Errorf("PutRecords response: %w", err)
	}
	recs := v.GetArray("Records")
	if len(recs) != n {
		return fmt.Errorf("PutRecords response: %d result entries for %d records", len(recs), n)
	}
	for i, r := range recs {
		id := first + uint64(i)
		shard, ok := p.shards[string(r.GetStringBytes("ShardId"))]
		seq := r.GetStringBytes("SequenceNumber")
		if !ok || len(seq) == 0 || id >= p.max {
			return fmt.Errorf("PutRecords response entry %d: ShardId %q of no shard of the stream, or no SequenceNumber: %s", i, r.GetStringBytes("ShardId"), r)
		}
		p.shard[id] = int32(shard) + 1
		p.seq[id] = p.hash(seq)
	}
	return nil
}

// Shard returns the index of the shard record id was acknowledged on,
// false if no acknowledgement was recorded.
func (p *Placement) Shard(id uint64) (int, bool) {
	if id >= p.max || p.shard[id] == 0 {
		return 0, false
	}
	return int(p.shard[id]) - 1, true
}

// OnShard returns a filter of the ids acknowledged on shard (for
// Tracker.LatenciesIf and PendingIf).
func (p *Placement) OnShard(shard int) func(id uint64) bool {
	return func(id uint64) bool { s, ok := p.Shard(id); return ok && s == shard }
}

// ReadLog is what one reader of one shard received, in order: record ids
// and sequence numbers. It is owned by one goroutine.
type ReadLog struct {
	p        *Placement
	shard    int
	ids      []uint64
	seqs     []uint64 // hashes
	last     []byte   // the previous sequence number
	disorder int      // sequence numbers not above the previous one
	unstamp  int
}

// NewReadLog returns the log of a reader of shard (its index).
func (p *Placement) NewReadLog(shard int) *ReadLog { return &ReadLog{p: p, shard: shard} }

// Add logs a received record: its data (stamped) and sequence number.
func (l *ReadLog) Add(data, seq []byte) {
	id, ok := RecordID(data)
	if !ok {
		l.unstamp++
		return
	}
	if len(l.ids) > 0 && compareSeq(seq, l.last) <= 0 {
		l.disorder++
	}
	l.last = append(l.last[:0], seq...)
	l.ids = append(l.ids, id)
	l.seqs = append(l.seqs, l.p.hash(seq))
}

// compareSeq compares decimal sequence numbers (no leading zeros) by
// value.
func compareSeq(a, b []byte) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return bytes.Compare(a, b)
}

// ReadCheck counts what a reader received against the placement.
type ReadCheck struct {
	Records int // received with a stamp
	// WrongShard: acknowledged on another shard; WrongSeq: with another
	// sequence number than acknowledged; Unacked: never acknowledged;
	// OutOfOrder: sequence number not above the previous record's;
	// Unstamped: without a record stamp.
	WrongShard, WrongSeq, Unacked, OutOfOrder, Unstamped int
}

// Bad returns the number of records that break the promise.
func (c ReadCheck) Bad() int {
	return c.WrongShard + c.WrongSeq + c.Unacked + c.OutOfOrder + c.Unstamped
}

// Add returns the sum of c and d.
func (c ReadCheck) Add(d ReadCheck) ReadCheck {
	return ReadCheck{Records: c.Records + d.Records, WrongShard: c.WrongShard + d.WrongShard, WrongSeq: c.WrongSeq + d.WrongSeq,
		Unacked: c.Unacked + d.Unacked, OutOfOrder: c.OutOfOrder + d.OutOfOrder, Unstamped: c.Unstamped + d.Unstamped}
}

// Check compares the log with the acknowledgements. Received sequence
// numbers that increase and equal the acknowledged ones mean the records
// came in the shard's order; missing and duplicate records are the
// Tracker's to count.
func (l *ReadLog) Check() ReadCheck {
	c := ReadCheck{Records: len(l.ids), OutOfOrder: l.disorder, Unstamped: l.unstamp}
	for i, id := range l.ids {
		s, ok := l.p.Shard(id)
		switch {
		case !ok:
			c.Unacked++
		case s != l.shard:
			c.WrongShard++
		case l.p.seq[id] != l.seqs[i]:
			c.WrongSeq++
		}
	}
	return c
}
