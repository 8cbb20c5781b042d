package fanoutload

import (
	"encoding/binary"
	"sync/atomic"
	"time"
)

// Record data starts with a stamp: stampMagic and the record id, 8 bytes
// big endian. 9 bytes encode to 12 base64 characters exactly, so the
// base64 of the rest of the data can be computed once.
const (
	stampMagic = 0xEF
	// StampLen is the smallest record size: the stamp alone.
	StampLen = 9
)

// AppendStamp appends the stamp of record id to dst.
func AppendStamp(dst []byte, id uint64) []byte {
	dst = append(dst, stampMagic)
	return binary.BigEndian.AppendUint64(dst, id)
}

// RecordID returns the id stamped into data, false when data carries no
// stamp.
func RecordID(data []byte) (uint64, bool) {
	if len(data) < StampLen || data[0] != stampMagic {
		return 0, false
	}
	return binary.BigEndian.Uint64(data[1:StampLen]), true
}

// Tracker records, per record id, when the record was sent and
// acknowledged (PutRecords) and when each consumer received it, as
// nanoseconds on one monotonic clock (Now). Ids are handed out in order by
// Alloc, up to the capacity given to NewTracker. It is safe for concurrent
// use.
type Tracker struct {
	base  time.Time
	every uint64 // only ids divisible by every are recorded
	max   uint64 // ids handed out are below max
	next  atomic.Uint64
	sent  []atomic.Int64
	ack   []atomic.Int64
	recv  [][]atomic.Int64 // per consumer
	dups  []atomic.Int64   // per consumer
	alien []atomic.Int64   // per consumer: records without a known id
}

// NewTracker returns a tracker of at most maxRecords records and
// consumers consumers (numbered from 0).
func NewTracker(maxRecords, consumers int) *Tracker {
	return NewSampledTracker(maxRecords, consumers, 1)
}

// NewSampledTracker returns a tracker that hands out up to maxRecords ids
// but records only every every-th of them (ids divisible by every): the
// others are sent and received like any record, and Latencies, Pending
// and Times ignore them. Its memory is 8*(2+consumers)*maxRecords/every
// bytes.
func NewSampledTracker(maxRecords, consumers, every int) *Tracker {
	maxRecords = maxRecords / every * every
	slots := maxRecords / every
	t := &Tracker{
		base:  time.Now(),
		every: uint64(every),
		max:   uint64(maxRecords),
		sent:  make([]atomic.Int64, slots),
		ack:   make([]atomic.Int64, slots),
		recv:  make([][]atomic.Int64, consumers),
		dups:  make([]atomic.Int64, consumers),
		alien: make([]atomic.Int64, consumers),
	}
	for i := range t.recv {
		t.recv[i] = make([]atomic.Int64, slots)
	}
	return t
}

// Now returns the time since the tracker was made, in nanoseconds (at
// least 1, so that 0 means "not yet").
func (t *Tracker) Now() int64 { return max(1, int64(time.Since(t.base))) }

// Alloc hands out n consecutive ids; false when the capacity is used up.
func (t *Tracker) Alloc(n int) (first uint64, ok bool) {
	end := t.next.Add(uint64(n))
	if end > t.max {
		return 0, false
	}
	return end - uint64(n), true
}

// Allocated returns the number of ids handed out (capped at the capacity).
func (t *Tracker) Allocated() uint64 { return min(t.next.Load(), t.max) }

// Every returns the sampling step: only ids divisible by it are recorded.
func (t *Tracker) Every() uint64 { return t.every }

// slot returns the index of id in the arrays, false if id is not sampled.
func (t *Tracker) slot(id uint64) (uint64, bool) {
	if id%t.every != 0 || id >= t.max {
		return 0, false
	}
	return id / t.every, true
}

// Acked records that records first..first+n-1, sent at sentAt, were
// acknowledged at ackAt.
func (t *Tracker) Acked(first uint64, n int, sentAt, ackAt int64) {
	for id := first; id < first+uint64(n); id++ {
		if i, ok := t.slot(id); ok {
			t.sent[i].Store(sentAt)
			t.ack[i].Store(ackAt)
		}
	}
}

// Received records that consumer got the record with data at time at.
func (t *Tracker) Received(consumer int, data []byte, at int64) {
	id, ok := RecordID(data)
	if !ok || id >= t.max {
		t.alien[consumer].Add(1)
		return
	}
	i, ok := t.slot(id)
	if !ok {
		return
	}
	if !t.recv[consumer][i].CompareAndSwap(0, at) {
		t.dups[consumer].Add(1)
	}
}

// Times returns when record id was sent and acknowledged (0, 0 if not, or
// if id is not sampled).
func (t *Tracker) Times(id uint64) (sent, ack int64) {
	i, ok := t.slot(id)
	if !ok {
		return 0, 0
	}
	return t.sent[i].Load(), t.ack[i].Load()
}

// Receipt returns when consumer received record id (0 if not, or if id is
// not sampled).
func (t *Tracker) Receipt(consumer int, id uint64) int64 {
	i, ok := t.slot(id)
	if !ok {
		return 0
	}
	return t.recv[consumer][i].Load()
}

// Latencies is the outcome of one consumer over a window of records.
type Latencies struct {
	// AckToReceipt holds, per record acknowledged in the window and
	// received, the time from its acknowledgement to its receipt; a record
	// received before its PutRecords response arrived counts as 0.
	AckToReceipt []time.Duration
	// SendToReceipt is the time from sending the PutRecords request.
	SendToReceipt []time.Duration
	// BeforeAck counts the records received before their acknowledgement.
	BeforeAck int
	// Missing counts acknowledged records of the window never received.
	Missing int
	// Duplicates and Alien count, over the whole run, records received
	// twice and records without a stamp of this tracker.
	Duplicates, Alien int64
}

// Latencies returns consumer's latencies for the (sampled) records sent in
// [from, to) (Now values) and acknowledged.
func (t *Tracker) Latencies(consumer int, from, to int64) Latencies {
	return t.LatenciesIf(consumer, from, to, nil)
}

// LatenciesIf is Latencies over the records whose id keep accepts (all if
// keep is nil), e.g. those of one shard (Placement.OnShard).
func (t *Tracker) LatenciesIf(consumer int, from, to int64, keep func(id uint64) bool) Latencies {
	l := Latencies{Duplicates: t.dups[consumer].Load(), Alien: t.alien[consumer].Load()}
	n := t.slots()
	for i := range n {
		sent, ack := t.sent[i].Load(), t.ack[i].Load()
		if ack == 0 || sent < from || sent >= to || keep != nil && !keep(i*t.every) {
			continue
		}
		r := t.recv[consumer][i].Load()
		if r == 0 {
			l.Missing++
			continue
		}
		d := r - ack
		if d < 0 {
			l.BeforeAck++
			d = 0
		}
		l.AckToReceipt = append(l.AckToReceipt, time.Duration(d))
		l.SendToReceipt = append(l.SendToReceipt, time.Duration(r-sent))
	}
	return l
}

// slots returns the number of slots in use.
func (t *Tracker) slots() uint64 { return (t.Allocated() + t.every - 1) / t.every }

// Pending returns how many records acknowledged in [from, to) consumer
// has not received yet.
func (t *Tracker) Pending(consumer int, from, to int64) int {
	return t.PendingIf(consumer, from, to, nil)
}

// PendingIf is Pending over the records whose id keep accepts (all if
// keep is nil).
func (t *Tracker) PendingIf(consumer int, from, to int64, keep func(id uint64) bool) int {
	missing := 0
	for i := range t.slots() {
		sent, ack := t.sent[i].Load(), t.ack[i].Load()
		if ack != 0 && sent >= from && sent < to && t.recv[consumer][i].Load() == 0 && (keep == nil || keep(i*t.every)) {
			missing++
		}
	}
	return missing
}
