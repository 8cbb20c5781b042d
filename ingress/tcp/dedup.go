package tcp

import (
	"sync"

	"github.com/sluicehq/sluice/wire/frame"
)

// dedupKey names a batch: the producer id of the connection's Hello and
// the batch id of the Put.
type dedupKey struct {
	producer [frame.ProducerIDSize]byte
	batch    uint64
}

// dedupEntry is one batch, in progress (done open) or answered.
type dedupEntry struct {
	key  dedupKey
	crc  uint32 // of the Put body, to catch a batch id reused for other records
	done chan struct{}
	// Set before done is closed:
	ok   bool   // the batch was written (Ack); false: forget it, a resend runs again
	resp []byte // the Ack body (batch id included)

	counted bool // resp is in dedupCache.bytes; guarded by dedupCache.mu
}

// dedupCache remembers the answers of recent batches, bounded in bytes and
// entries, oldest evicted first. Safe for concurrent use.
type dedupCache struct {
	mu       sync.Mutex
	m        map[dedupKey]*dedupEntry
	fifo     []dedupKey
	bytes    int
	maxBytes int
}

// maxDedupEntries bounds the entries whatever their size.
const maxDedupEntries = 1 << 16

func newDedupCache(maxBytes int) *dedupCache {
	return &dedupCache{m: make(map[dedupKey]*dedupEntry), maxBytes: maxBytes}
}

// begin returns the entry of k: a new one the caller must finish (fresh
// true), or the existing one to wait for.
func (d *dedupCache) begin(k dedupKey, crc uint32) (e *dedupEntry, fresh bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.m[k]; e != nil {
		return e, false
	}
	e = &dedupEntry{key: k, crc: crc, done: make(chan struct{})}
	d.m[k] = e
	d.fifo = append(d.fifo, k)
	d.evictLocked()
	return e, true
}

// finish completes e: ok with the Ack body resp, or not ok (dropped, so
// that a resend is executed again).
func (d *dedupCache) finish(e *dedupEntry, ok bool, resp []byte) {
	d.mu.Lock()
	e.ok, e.resp = ok, resp
	if d.m[e.key] == e {
		if ok {
			d.bytes += len(resp) + 64
			e.counted = true
		} else {
			delete(d.m, e.key)
		}
	}
	d.evictLocked()
	d.mu.Unlock()
	close(e.done)
}

// evictLocked drops the oldest entries over the bounds.
// Lock must be held.
func (d *dedupCache) evictLocked() {
	for len(d.fifo) > 0 && (d.bytes > d.maxBytes || len(d.fifo) > maxDedupEntries) {
		k := d.fifo[0]
		d.fifo = d.fifo[1:]
		if e := d.m[k]; e != nil {
			delete(d.m, k)
			if e.counted {
				d.bytes -= len(e.resp) + 64
				e.counted = false
			}
		}
	}
	if cap(d.fifo) > 2*maxDedupEntries && len(d.fifo) < cap(d.fifo)/4 {
		d.fifo = append([]dedupKey(nil), d.fifo...)
	}
}
