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
	t := &Tracker{
		base:  time.Now(),
		sent:  make([]atomic.Int64, maxRecords),
		ack:   make([]atomic.Int64, maxRecords),
		recv:  make([][]atomic.Int64, consumers),
		dups:  make([]atomic.Int64, consumers),
		alien: make([]atomic.Int64, consumers),
	}
	for i := range t.recv {
		t.recv[i] = make([]atomic.Int64, maxRecords)
	}
	return t
}

// Now returns the time since the tracker was made, in nanoseconds (at
// least 1, so that 0 means "not yet").
func (t *Tracker) Now() int64 { return max(1, int64(time.Since(t.base))) }

// Time converts a Now value back to a time.Time.
func (t *Tracker) Time(ns int64) time.Time { return t.base.Add(time.Duration(ns)) }

// Alloc hands out n consecutive ids; false when the capacity is used up.
func (t *Tracker) Alloc(n int) (first uint64, ok bool) {
	end := t.next.Add(uint64(n))
	if end > uint64(len(t.ack)) {
		return 0, false
	}
	return end - uint64(n), true
}

// Allocated returns the number of ids handed out (capped at the capacity).
func (t *Tracker) Allocated() uint64 { return min(t.next.Load(), uint64(len(t.ack))) }

// Acked records that records first..first+n-1, sent at sentAt, were
// acknowledged at ackAt.
func (t *Tracker) Acked(first uint64, n int, sentAt, ackAt int64) {
	for id := first; id < first+uint64(n); id++ {
		t.sent[id].Store(sentAt)
		t.ack[id].Store(ackAt)
	}
}

// Received records that consumer got the record with data at time at.
func (t *Tracker) Received(consumer int, data []byte, at int64) {
	id, ok := RecordID(data)
	if !ok || id >= uint64(len(t.ack)) {
		t.alien[consumer].Add(1)
		return
	}
	if !t.recv[consumer][id].CompareAndSwap(0, at) {
		t.dups[consumer].Add(1)
	}
}

// Times returns when record id was sent and acknowledged (0, 0 if not).
func (t *Tracker) Times(id uint64) (sent, ack int64) { return t.sent[id].Load(), t.ack[id].Load() }

// Receipt returns when consumer received record id (0 if not).
func (t *Tracker) Receipt(consumer int, id uint64) int64 { return t.recv[consumer][id].Load() }

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

// Latencies returns consumer's latencies for the records sent in [from, to)
// (Now values) and acknowledged.
func (t *Tracker) Latencies(consumer int, from, to int64) Latencies {
	l := Latencies{Duplicates: t.dups[consumer].Load(), Alien: t.alien[consumer].Load()}
	n := t.Allocated()
	for id := range n {
		sent, ack := t.sent[id].Load(), t.ack[id].Load()
		if ack == 0 || sent < from || sent >= to {
			continue
		}
		r := t.recv[consumer][id].Load()
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

// Pending returns how many records acknowledged in [from, to) consumer
// has not received yet.
func (t *Tracker) Pending(consumer int, from, to int64) int {
	missing := 0
	for id := range t.Allocated() {
		sent, ack := t.sent[id].Load(), t.ack[id].Load()
		if ack != 0 && sent >= from && sent < to && t.recv[consumer][id].Load() == 0 {
			missing++
		}
	}
	return missing
}
