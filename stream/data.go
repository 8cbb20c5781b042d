package stream

import (
	"crypto/md5"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/internal/md5x"
	"github.com/sluicehq/sluice/segment"
)

// Iterator types of GetShardIterator.
const (
	IterTrimHorizon         = "TRIM_HORIZON"
	IterLatest              = "LATEST"
	IterAtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	IterAfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
	IterAtTimestamp         = "AT_TIMESTAMP"
)

const (
	// MaxGetRecordsLimit is the largest (and default) Limit of GetRecords.
	MaxGetRecordsLimit = 10000
	// GetRecordsMaxBytes is the data GetRecords returns at most per call.
	GetRecordsMaxBytes = 10 << 20
	// MaxPartitionKeyLen is the model's maximum PartitionKey length.
	MaxPartitionKeyLen = 256
)

// PutEntry is one record of PutRecords.
type PutEntry struct {
	PartitionKey    string
	ExplicitHashKey string // "" routes by the MD5 of PartitionKey
	Data            []byte
}

// PutResult is the outcome of one PutEntry: ShardID and SequenceNumber, or
// Err when the shard's append failed.
type PutResult struct {
	ShardID        string
	SequenceNumber string
	Err            error
}

// PutGroup is the outcome of the records of one PutRecordsGroups call that
// went to one shard together: appended consecutively, or failed (Err).
type PutGroup struct {
	ShardID string
	// First is the sequence number of the record Indexes[0]; the record
	// Indexes[j] has First with Position+j. Zero with Err.
	First SeqNum
	// Indexes are the records' positions in the call's recs, ascending.
	Indexes []int32
	// Err is the shard's append error, or the throttling error of records
	// over the shard's quota (Config.EmulateQuotas); nothing of the group
	// was written.
	Err error
}

// PutGroups receives the groups of PutRecordsGroups. Its memory is reused
// from call to call; the zero value is ready.
type PutGroups struct {
	// Groups hold every record of the call exactly once, in no particular
	// order of shards.
	Groups []PutGroup
	idx    []int32 // backing array of the groups' Indexes
}

// PutRecords appends recs to the open shards their hash keys fall in and
// returns the outcome of every record, in the order of recs; see
// PutRecordsGroups, which it formats per record.
func (m *Manager) PutRecords(name string, recs []PutEntry) ([]PutResult, error) {
	g := putGroupsPool.Get().(*PutGroups)
	defer putGroupsPool.Put(g)
	if err := m.PutRecordsGroups(name, recs, g); err != nil {
		return nil, err
	}
	out := make([]PutResult, len(recs))
	// One buffer holds the sequence numbers of the call.
	seqs := make([]byte, 0, len(recs)*SeqNumDigits)
	for k := range g.Groups {
		gr := &g.Groups[k]
		if gr.Err != nil {
			for _, i := range gr.Indexes {
				out[i] = PutResult{ShardID: gr.ShardID, Err: gr.Err}
			}
			continue
		}
		sn := gr.First
		for j, i := range gr.Indexes {
			sn.Position = gr.First.Position + uint64(j)
			n := len(seqs)
			seqs = AppendSeqNum(seqs, sn)
			out[i] = PutResult{ShardID: gr.ShardID, SequenceNumber: unsafe.String(&seqs[n], len(seqs)-n)}
		}
	}
	g.Reset()
	return out, nil
}

var putGroupsPool = sync.Pool{New: func() any { return new(PutGroups) }}

// Reset drops the references of g's groups (errors, shard ids), keeping
// the memory unless a large call grew it.
func (g *PutGroups) Reset() {
	if cap(g.idx) > 1<<16 {
		g.idx = nil
	}
	clear(g.Groups)
	g.Groups = g.Groups[:0]
}

// PutRecordsGroups appends recs to the open shards their hash keys fall in
// and fills out with the outcome, per shard: the records of one shard are
// appended with one segment.Log.Append call, in request order, so they get
// consecutive positions, and their group carries the first one's sequence
// number only; nothing is formatted per record. The appends to different
// shards are all queued before the call waits for any of them, so they
// commit concurrently. An invalid entry fails the whole call with an
// *ArgumentError or *RecordTooLargeError before anything is written; a
// failed append fails only the group of that shard (PutGroup.Err), and
// with Config.EmulateQuotas the records over a shard's quota form a group
// of their own with the throttling error. out's previous groups are
// overwritten; on error out holds no groups.
//
// Sequence numbers carry the arrival second the log assigned (all records of
// one Append share one arrival time, segment.Pending.Wait returns it), so
// that PutRecords and GetRecords report the same sequence number. The
// arrival field is informational and ordering rests on the position alone.
//
// PutRecordsGroups routes by the open shards of the stream as it is while
// the call holds the stream's put lock: a reshard waits for it, so a record
// is never appended to a shard after the shard closed (its last record
// stays its last, and readers that reached its end miss nothing).
func (m *Manager) PutRecordsGroups(name string, recs []PutEntry, out *PutGroups) error {
	out.Reset()
	s, err := m.stream(name)
	if err != nil {
		return err
	}
	s.put.RLock()
	defer s.put.RUnlock()
	// The snapshot current under the put lock; a reshard swaps snapshots
	// only while it holds the lock exclusively.
	if s, err = m.current(s); err != nil {
		return err
	}
	sc := getPutScratch(len(recs), len(s.open))
	defer putPutScratch(sc)
	// The MD5s of the partition keys of the records without an explicit
	// hash key, sixteen at a time (md5x: several times one md5.Sum each).
	pks := sc.pks[:0]
	for i := range recs {
		if recs[i].ExplicitHashKey == "" {
			pks = append(pks, recs[i].PartitionKey)
		}
	}
	sc.pks = pks
	sc.sums = resize(sc.sums, len(pks))
	md5x.SumStrings(pks, sc.sums)
	sums := sc.sums
	// Route every record to its open shard (slot in s.open).
	maxBytes := s.settings.Load().MaxRecordSizeKiB << 10
	for i := range recs {
		r := &recs[i]
		if len(r.PartitionKey) < 1 || (len(r.PartitionKey) > MaxPartitionKeyLen && utf8.RuneCountInString(r.PartitionKey) > MaxPartitionKeyLen) {
			return argError("Records[" + strconv.Itoa(i) + "].PartitionKey must be 1 to 256 characters long")
		}
		if len(r.Data) > maxBytes {
			return &RecordTooLargeError{Index: i, Size: len(r.Data), Max: maxBytes}
		}
		var k HashKey
		if r.ExplicitHashKey != "" {
			k, err = ParseHashKey(r.ExplicitHashKey)
			if err != nil {
				return &ArgumentError{Msg: "ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " +
					quoteInput(r.ExplicitHashKey) + ".", err: err}
			}
		} else {
			// HashKeyFromPartitionKey, computed above.
			k = HashKeyFromBytes(sums[0])
			sums = sums[1:]
		}
		slot := SearchRanges(s.ranges, k)
		if slot < 0 {
			return fmt.Errorf("BUG: stream: hash key %s of stream %q is in no open shard", k, name)
		}
		sc.slots[i] = int32(slot)
		sc.counts[slot]++
	}
	// Group the record indexes per slot, in request order, in out's
	// backing array (the groups returned alias it).
	if cap(out.idx) < len(recs) {
		out.idx = make([]int32, len(recs))
	}
	idx := out.idx[:len(recs)]
	groups := sc.groups
	off := 0
	for slot, n := range sc.counts {
		groups[slot] = idx[off : off : off+n]
		off += n
	}
	for i, slot := range sc.slots {
		groups[slot] = append(groups[slot], int32(i))
	}
	if m.cfg.EmulateQuotas {
		m.throttleWrites(s, recs, groups, out)
	}
	// Queue every shard's append, then wait for them in turn.
	off = 0
	for slot, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		batch := sc.batch[off : off+len(idx)]
		off += len(idx)
		for j, i := range idx {
			// The log copies the records while queuing them and keeps
			// no reference, so the key may alias the caller's string.
			batch[j] = segment.Record{PartitionKey: stringBytes(recs[i].PartitionKey), Data: recs[i].Data}
		}
		sc.pending[slot] = s.shards[s.open[slot]].log.AppendStart(batch)
	}
	for slot, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		sh := s.shards[s.open[slot]]
		first, ts, err := sc.pending[slot].Wait()
		g := PutGroup{ShardID: ShardID(sh.index), Indexes: idx, Err: err}
		if err == nil {
			g.First = SeqNum{ShardCreated: sh.created / 1000, ShardIndex: sh.index, Position: first, Arrival: sh.arrivalField(ts / 1000)}
		}
		out.Groups = append(out.Groups, g)
	}
	if s.deleted.Load() {
		out.Reset()
		return notFound(name)
	}
	return nil
}

// putScratch is the per-call scratch memory of PutRecordsGroups, pooled.
type putScratch struct {
	slots   []int32   // open-shard slot of every record
	counts  []int     // records per slot
	groups  [][]int32 // record indexes per slot, in request order
	batch   []segment.Record
	pending []segment.Pending // per slot
	pks     []string          // partition keys to hash
	sums    [][md5.Size]byte  // their MD5s
}

var putScratchPool = sync.Pool{New: func() any { return new(putScratch) }}

// getPutScratch returns scratch for records records and slots open shards,
// zeroed.
func getPutScratch(records, slots int) *putScratch {
	sc := putScratchPool.Get().(*putScratch)
	sc.slots = resize(sc.slots, records)
	sc.counts = resize(sc.counts, slots)
	sc.groups = resize(sc.groups, slots)
	sc.batch = resize(sc.batch, records)
	sc.pending = resize(sc.pending, slots)
	return sc
}

// putPutScratch clears sc's references and returns it to the pool. Scratch
// grown by an unusually large call is dropped.
func putPutScratch(sc *putScratch) {
	if cap(sc.batch) > 1<<14 || cap(sc.counts) > 1<<12 {
		return
	}
	clear(sc.groups)
	clear(sc.batch)
	clear(sc.pks)
	sc.pks = sc.pks[:0]
	clear(sc.pending)
	putScratchPool.Put(sc)
}

// resize returns s with length n and zeroed elements, reusing its array
// when it is large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// stringBytes returns the bytes of s without a copy; they must not be
// modified.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// arrivalField returns the arrival field of a sequence number of sh for a
// record that arrived at sec (Unix seconds): sec, but no earlier than the
// shard's creation second. A resharding child is created up to a few
// seconds ahead of the clock (reshard.go), and its records must not sort
// below its StartingSequenceNumber, whose arrival field is the creation
// second. The field is informational; ApproximateArrivalTimestamp keeps the
// real time.
func (sh *shardState) arrivalField(sec int64) int64 { return max(sec, sh.created/1000) }

// shard returns the shard of s with id shardID.
func (s *streamState) shard(shardID string) (*shardState, error) {
	i, err := ParseShardID(shardID)
	if err != nil || i >= len(s.shards) {
		return nil, fmt.Errorf("%w: %s in stream %s", ErrShardNotFound, quoteInput(shardID), quoteInput(s.meta.Name))
	}
	return s.shards[i], nil
}

// GetShardIterator returns an iterator into a shard (KINESIS_API.md 3.6).
// startingSeq is used by AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER only
// and must be "" for the other types; atMillis (Unix ms) by AT_TIMESTAMP
// only. A sequence number beyond the newest record reads from the tip.
func (m *Manager) GetShardIterator(name, shardID, iterType, startingSeq string, atMillis int64) (string, error) {
	s, err := m.stream(name)
	if err != nil {
		return "", err
	}
	sh, err := s.shard(shardID)
	if err != nil {
		return "", err
	}
	now := m.cfg.Now()
	bothMsg := func(which string) error {
		return argError("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified " +
			iterType + " and " + which + " StartingSequenceNumber.")
	}
	first, next := sh.log.Bounds()
	var pos uint64
	switch iterType {
	case IterTrimHorizon, IterLatest, IterAtTimestamp:
		if startingSeq != "" {
			return "", bothMsg("also a")
		}
		switch iterType {
		case IterTrimHorizon:
			pos = first
		case IterLatest:
			pos = next
		default:
			if nowMs := now.UnixMilli(); atMillis > nowMs {
				return "", argError("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: " +
					strconv.FormatInt(atMillis, 10) + ", currentTimestampInMillis: " + strconv.FormatInt(nowMs, 10))
			}
			pos = sh.log.SeekTime(atMillis)
		}
	case IterAtSequenceNumber, IterAfterSequenceNumber:
		if startingSeq == "" {
			return "", bothMsg("no")
		}
		sn, err := ParseSeqNum(startingSeq)
		if err != nil {
			return "", &ArgumentError{Msg: "StartingSequenceNumber " + quoteInput(startingSeq) + " used in GetShardIterator on shard " +
				ShardID(sh.index) + " in stream " + name + " under account " + m.cfg.AccountID + " is invalid.", err: err}
		}
		if sn.ShardIndex != sh.index || sn.ShardCreated != sh.created/1000 {
			return "", argError("Invalid StartingSequenceNumber. It encodes " + ShardID(sn.ShardIndex) +
				", while it was used in a call to a shard with " + ShardID(sh.index))
		}
		pos = sn.Position
		if iterType == IterAfterSequenceNumber && pos < EndPosition {
			pos++
		}
		pos = min(pos, next)
	default:
		return "", argError("Invalid ShardIteratorType " + quoteInput(iterType))
	}
	return m.codec.Encode(Iterator{
		Stream: name, ShardIndex: sh.index, Position: pos, Created: now, StreamCreated: s.meta.CreatedMillis,
	}), nil
}

// RecordOut is a record returned by GetRecords.
type RecordOut struct {
	SequenceNumber string
	ArrivalMillis  int64 // ApproximateArrivalTimestamp, Unix ms
	PartitionKey   string
	Data           []byte
}

// GetRecordsResult is the result of GetRecords.
type GetRecordsResult struct {
	Records []RecordOut
	// NextShardIterator is fresh on every call; "" only at the end of a
	// closed shard.
	NextShardIterator string
	// MillisBehindLatest is the arrival time of the shard's newest record
	// minus that of the last record returned; 0 when caught up.
	MillisBehindLatest int64
	// ChildShards is set, with NextShardIterator "", when the call reached
	// the end of a closed shard: the shards that took over its hash keys.
	ChildShards []ChildShard
}

// ChildShard is a child of a closed shard (GetRecords ChildShards).
type ChildShard struct {
	ShardID      string
	ParentShards []string // the child's ParentShardId, then its AdjacentParentShardId if any
	HashKeyRange HashKeyRange
}

// GetRecords returns up to limit records (0 means MaxGetRecordsLimit) and at
// most GetRecordsMaxBytes of data from the position of iterator. It returns
// an error wrapping ErrInvalidIterator for a string this manager did not
// mint (or one of a deleted incarnation of the stream), an
// *ExpiredIteratorError for an expired one.
func (m *Manager) GetRecords(iterator string, limit int) (GetRecordsResult, error) {
	if limit == 0 {
		limit = MaxGetRecordsLimit
	}
	if limit < 1 || limit > MaxGetRecordsLimit {
		return GetRecordsResult{}, argError("Limit must be between 1 and " + strconv.Itoa(MaxGetRecordsLimit))
	}
	now := m.cfg.Now()
	it, err := m.codec.Decode(iterator, now)
	if err != nil {
		return GetRecordsResult{}, err
	}
	s, err := m.stream(it.Stream)
	if err != nil {
		return GetRecordsResult{}, err
	}
	if !it.IsFor(s.meta.Name, s.meta.CreatedMillis) {
		return GetRecordsResult{}, fmt.Errorf("%w: it belongs to a deleted stream of the same name", ErrInvalidIterator)
	}
	if it.ShardIndex < 0 || it.ShardIndex >= len(s.shards) {
		return GetRecordsResult{}, fmt.Errorf("%w: no shard %d", ErrInvalidIterator, it.ShardIndex)
	}
	sh := s.shards[it.ShardIndex]
	if m.cfg.EmulateQuotas {
		if err := m.admitRead(s, sh.index); err != nil {
			return GetRecordsResult{}, err
		}
	}
	recs, next, err := sh.log.Read(it.Position, limit, GetRecordsMaxBytes)
	if err != nil && len(recs) == 0 {
		if s.deleted.Load() {
			return GetRecordsResult{}, notFound(it.Stream)
		}
		return GetRecordsResult{}, fmt.Errorf("stream: reading %s of stream %q: %w", ShardID(sh.index), it.Stream, err)
	}
	// Records before damage come with a nil error from segment; an error
	// with records is reported on the next call, which starts at the damage.
	res := GetRecordsResult{Records: make([]RecordOut, len(recs))}
	sn := SeqNum{ShardCreated: sh.created / 1000, ShardIndex: sh.index}
	// One buffer for the sequence numbers; the partition keys alias the
	// records' memory, which Read returns fresh and nobody modifies.
	seqs := make([]byte, 0, len(recs)*SeqNumDigits)
	for i, r := range recs {
		sn.Position, sn.Arrival = r.Seq, sh.arrivalField(r.Timestamp/1000)
		n := len(seqs)
		seqs = AppendSeqNum(seqs, sn)
		res.Records[i] = RecordOut{
			SequenceNumber: unsafe.String(&seqs[n], len(seqs)-n),
			ArrivalMillis:  r.Timestamp,
			PartitionKey:   unsafe.String(unsafe.SliceData(r.PartitionKey), len(r.PartitionKey)),
			Data:           r.Data,
		}
	}
	if m.cfg.EmulateQuotas {
		m.chargeRead(s, sh.index, res.Records)
	}
	_, tip := sh.log.Bounds()
	if len(recs) > 0 && next < tip {
		if last, _, err := sh.log.Read(tip-1, 1, 1); err == nil && len(last) == 1 {
			res.MillisBehindLatest = max(0, last[0].Timestamp-recs[len(recs)-1].Timestamp)
		}
	}
	if sh.closed != 0 && next >= tip {
		res.ChildShards = s.children(sh.index)
		return res, nil // shard end
	}
	res.NextShardIterator = m.codec.Encode(Iterator{
		Stream: it.Stream, ShardIndex: sh.index, Position: next, Created: now, StreamCreated: it.StreamCreated,
	})
	return res, nil
}
