package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/klauspost/reedsolomon"
	"github.com/sluicehq/sluice/internal/xxh64x"
	"golang.org/x/sys/unix"
)

// batch is the group of appends that the flusher commits together.
// Appenders encode their records into buf under Log.mu; the flusher owns a
// batch once it has swapped it out.
type batch struct {
	buf     []byte
	count   int    // records in buf
	first   uint64 // position of the first record, set by commit
	ts      int64  // arrival time (Unix ms) of every record, set by code
	waiters []waiter
}

func (b *batch) reset() {
	b.buf = b.buf[:0]
	b.count = 0
	b.ts = 0
	clear(b.waiters)
	b.waiters = b.waiters[:0]
}

// waiter is one Append waiting for its records to be committed.
type waiter struct {
	end   int // offset in batch.buf after the waiter's records
	index int // index in the batch of the waiter's first record
	sync  *syncWaiter
	cb    func(first uint64, err error)
}

// syncWaiter carries the outcome to a blocked Append.
type syncWaiter struct {
	done  chan struct{}
	first uint64
	ts    int64
	err   error
}

var syncWaiterPool = sync.Pool{New: func() any { return &syncWaiter{done: make(chan struct{}, 1)} }}

// Append appends recs as one unit and returns the position of the first.
// It returns once the records are durable as Config.Durability says; the
// records get consecutive positions, in order. recs is not retained.
func (l *Log) Append(recs []Record) (uint64, error) {
	first, _, err := l.AppendTimed(recs)
	return first, err
}

// AppendTimed is Append that also returns the arrival time (Unix ms) the
// log stored with the records: all records of one Append share it, and it
// is the Timestamp that Read returns for them. It spares callers a Read of
// the first record to learn it.
func (l *Log) AppendTimed(recs []Record) (first uint64, ts int64, err error) {
	return l.AppendStart(recs).Wait()
}

// Pending is an Append that has been queued but not waited for; see
// AppendStart.
type Pending struct {
	l   *Log
	sw  *syncWaiter
	err error
}

// AppendStart queues recs like Append but returns before they are
// committed: the caller waits with Pending.Wait, exactly once. It lets one
// goroutine queue appends to several logs and then wait for all of them,
// with no goroutine or callback per log. recs is not retained.
//
// In Async mode without Linger the flusher is not woken yet: Wait commits
// the pending batch from its own goroutine when the writer pipeline is idle
// (flushInline), which spares the hand-offs to the writer goroutines and
// back, and wakes the flusher otherwise. In the other modes the flusher is
// woken at once, so that appends queued to several logs are synced in
// parallel.
func (l *Log) AppendStart(recs []Record) Pending {
	sw := syncWaiterPool.Get().(*syncWaiter)
	if err := l.enqueue(recs, waiter{sync: sw}, !l.inlineFlushes()); err != nil {
		syncWaiterPool.Put(sw)
		return Pending{err: err}
	}
	return Pending{l: l, sw: sw}
}

// Wait waits for the append p stands for and returns what AppendTimed
// returns. It must be called once per Pending.
func (p Pending) Wait() (first uint64, ts int64, err error) {
	if p.sw == nil {
		if p.err == nil {
			return 0, 0, errors.New("segment: Wait on a zero Pending")
		}
		return 0, 0, p.err
	}
	sw := p.sw
	if len(sw.done) == 0 && !p.l.flushInline() {
		p.l.kickFlusher()
		if t := p.l.tasks.Load(); t != nil && len(sw.done) == 0 {
			// Help write the group commit in progress: this
			// goroutine is running already, a helper may have to be
			// woken.
			t.run()
		}
	}
	<-sw.done
	first, ts, err = sw.first, sw.ts, sw.err
	sw.first, sw.ts, sw.err = 0, 0, nil
	syncWaiterPool.Put(sw)
	return first, ts, err
}

// AppendAsync appends recs like Append but does not wait: done is called
// once, when the records are durable or failed, from the goroutine that
// commits the batch (a writer goroutine, or an appender committing inline,
// see flushInline), or from the caller's goroutine when recs are refused at
// once. done must not block. AppendAsync itself waits only while more than
// Config.MaxPendingBytes are pending (backpressure).
func (l *Log) AppendAsync(recs []Record, done func(first uint64, err error)) {
	if err := l.enqueue(recs, waiter{cb: done}, true); err != nil {
		done(0, err)
	}
}

// enqueue adds recs to the pending batch; kick wakes the flusher.
func (l *Log) enqueue(recs []Record, w waiter, kick bool) error {
	size := 0
	for i := range recs {
		r := &recs[i]
		n := encodedRecordLen(r)
		if n > l.cfg.MaxRecordBytes || len(r.PartitionKey) > maxPartitionKeyBytes || len(r.ExplicitHashKey) > maxExplicitHashKeyBytes {
			return fmt.Errorf("%w: record %d is %d bytes encoded (limit %d), partition key %d bytes (limit %d), explicit hash key %d bytes (limit %d)",
				ErrRecordTooLarge, i, n, l.cfg.MaxRecordBytes, len(r.PartitionKey), maxPartitionKeyBytes, len(r.ExplicitHashKey), maxExplicitHashKeyBytes)
		}
		size += n
	}
	if len(recs) == 0 {
		return errors.New("segment: append of no records")
	}
	if l.diskFull.Load() && !l.roomForSegment() {
		// Refuse at once while full, unless retention can make room.
		if _, err := l.EnforceRetention(); err != nil {
			return err
		}
		if !l.roomForSegment() {
			return l.diskFullError()
		}
	}
	l.mu.Lock()
	for {
		switch {
		case l.closed:
			l.mu.Unlock()
			return ErrClosed
		case l.cfg.ReadOnly:
			l.mu.Unlock()
			return ErrReadOnly
		case l.werr != nil:
			err := l.werr
			l.mu.Unlock()
			return err
		}
		if len(l.active.buf) == 0 || len(l.active.buf)+size <= l.cfg.MaxPendingBytes {
			break
		}
		l.space.Wait()
	}
	b := l.active
	w.index = b.count
	for i := range recs {
		b.buf = appendRecord(b.buf, &recs[i])
	}
	b.count += len(recs)
	w.end = len(b.buf)
	b.waiters = append(b.waiters, w)
	l.mu.Unlock()
	if kick {
		l.kickFlusher()
	}
	return nil
}

// kickFlusher wakes flushLoop.
func (l *Log) kickFlusher() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// inlineFlushes tells whether appenders may commit batches themselves
// (flushInline): in Async mode without Linger.
func (l *Log) inlineFlushes() bool {
	return l.cfg.Durability == Async && l.cfg.Linger <= 0
}

// flushInline commits the pending batch from the calling goroutine, the
// whole way (code, write, publish, acknowledge), when the writer pipeline
// is idle: then the pipeline has nothing to overlap, and a light load (one
// PutRecord at a time per shard) would pay two goroutine wake-ups and a
// wake-up back per group commit for nothing. It is for Async mode without
// Linger only. It returns false, having done nothing, when it cannot: the
// pipeline is busy, or flushLoop or Scrub holds flushMu; the caller then
// wakes the flusher. It returns true when the batch is committed or was
// taken by another flusher, which will complete it.
//
// Holding flushMu, with no job in the pipeline, it is the only one coding
// and writing, so group commits stay in order.
func (l *Log) flushInline() bool {
	if !l.inlineFlushes() || l.pipelined.Load() != 0 {
		return false
	}
	if !l.flushMu.TryLock() {
		return false
	}
	if l.pipelined.Load() != 0 {
		l.flushMu.Unlock()
		return false
	}
	var next *batch
	select {
	case next = <-l.batches:
	default:
		l.flushMu.Unlock()
		return false
	}
	var job *flushJob
	select {
	case job = <-l.jobs:
	default:
		l.batches <- next
		l.flushMu.Unlock()
		return false
	}
	l.mu.Lock()
	b := l.active
	if len(b.buf) == 0 {
		// Taken by flushLoop or another inline flush since it was queued.
		l.mu.Unlock()
		l.batches <- next
		l.jobs <- job
		l.flushMu.Unlock()
		return true
	}
	l.active = next
	werr := l.werr
	l.space.Broadcast()
	l.mu.Unlock()
	job.b = b
	if werr != nil {
		job.err = werr
	} else {
		job.committedBytes, job.err = l.code(job)
	}
	l.inflight.Add(1)
	l.pipelined.Add(1)
	if l.inlineErrs == nil {
		l.inlineErrs = make([]error, l.n)
	}
	l.writeJob(job, l.inlineErrs)
	l.finish(job, nil, nil)
	l.flushMu.Unlock()
	return true
}

func (l *Log) roomForSegment() bool {
	return l.cfg.MaxDiskBytes == 0 || l.diskBytes.Load()+int64(l.n)*l.cfg.FragmentBytes <= l.cfg.MaxDiskBytes
}

func (l *Log) diskFullError() error {
	return fmt.Errorf("%w: %d of %d bytes in use, a new segment needs %d", ErrDiskFull,
		l.diskBytes.Load(), l.cfg.MaxDiskBytes, int64(l.n)*l.cfg.FragmentBytes)
}

// The writer side is a pipeline of three goroutines, so that coding the
// next group commit overlaps with writing the previous one, and writing
// overlaps with syncing (STYLE 3.4, with the sync split off as Pebble's
// LogWriter does):
//
//	flushLoop: takes the pending batch, cuts it into stripes, codes them,
//	           rolls segments                              -> writeQ
//	writeLoop: one pwritev per fragment file               -> syncQ
//	syncLoop:  syncfs per file system or fdatasync per fragment (Fsync
//	           mode), publish to readers, complete the waiters, in order;
//	           with syncfs, up to concurrentSyncs syncs at once, and
//	           ackLoop publishes and completes in order
//
// Each queue holds one job, so at most three batches (four with two syncs
// in flight) are past the pending one. A batch is acknowledged only by
// syncLoop, after its own writes and syncs and those of every batch before
// it; after a failed write or sync the error is sticky and no later batch
// is acknowledged.
//
// In Async mode there is nothing to sync, and flushLoop does the whole
// group commit itself: codes it, writes it (with a helper goroutine for a
// large one, see fragTasks), publishes and acknowledges it, then takes the
// pending batch, which grew meanwhile. writeLoop and syncLoop stay idle.
// There are fewer, larger group commits than with a pipeline (about 420
// KiB instead of 290 KiB with 8 writers of 100 KiB appends), and no
// goroutine hand-off between coding and writing: coding (Reed-Solomon
// with GFNI, a few microseconds) is too short to be worth overlapping,
// and hashing, which is not, is spread over the two writing goroutines.

// flushJob is one group commit moving through the pipeline.
type flushJob struct {
	b              *batch
	arena          []byte        // headers, parity and padded tail chunks
	shards         [][]byte      // scratch for coding one stripe
	writes         []segWrite    // one per segment touched, in order
	committedBytes int           // bytes of b.buf in writes
	err            error         // the first error; later stages skip their work
	synced         chan struct{} // with sync slots: closed when the job's sync is done
	syncErr        error         // with sync slots: the sync's error, set before synced is closed
}

// parallelWriteBytes is the size of a fragment's part of a group commit
// from which writeJob hashes and writes the fragments from two goroutines.
const parallelWriteBytes = 32 << 10

// fragBytes is how many bytes w writes to fragment 0 (every fragment gets
// as many).
func (w *segWrite) fragBytes() int {
	n := 0
	if len(w.iovs) > 0 {
		for _, b := range w.iovs[0] {
			n += len(b)
		}
	}
	return n
}

// segWrite is the part of a job that goes to one segment.
type segWrite struct {
	seg     *segment
	off     int64      // where the first stripe starts in every fragment
	iovs    [][][]byte // per fragment: per stripe a header and a chunk, in order
	entries []stripeEntry
	hdrs    [][]byte // per stripe, the header of each of its n chunks
	sums    []uint64 // per stripe, the checksum of each of its n chunks
	chunks  [][]byte // sumChunks' scratch
	summed  bool     // the headers carry the sums and stand in iovs (seal has run)
	encoded bool     // the parity chunks are computed
	sealed  bool     // the job moved on to a new segment after this one
	written bool     // written (and synced in Fsync mode) by flushLoop at a roll
}

// Chunk checksums. encodeStripe builds every header without them (hdrs)
// and queues a zero header in its place (iovs). seal fills them in before
// a write, from one goroutine. In Async mode a large group commit is
// instead coded, hashed and written by several goroutines (fragTasks),
// the data fragments' writes not waiting for the coding and hashing:
// the fragments go out behind their zero headers, and once every chunk is
// hashed the real headers are written over them (a zero header reads as
// the end of the log, FORMAT.md, so a crash in between loses only this
// unacknowledged group commit). Coding and hashing (xxhash was about a
// sixth of the writer side's CPU one chunk at a time) then overlap the
// copies into the page cache on the other core. In Fsync mode code seals
// every write: there the flusher's pace sets the group commit size
// (bench/RESULTS.md).

// sumChunks computes the checksums of every chunk of every stripe of w,
// the n chunks of a stripe at once (xxh64x: several times faster than one
// xxhash.Sum64 per chunk on a CPU with AVX-512).
func (w *segWrite) sumChunks(n int) {
	if cap(w.chunks) < n {
		w.chunks = make([][]byte, n)
	}
	chunks := w.chunks[:n]
	for s := range w.entries {
		for j := range chunks {
			chunks[j] = w.iovs[j][2*s+1]
		}
		xxh64x.Sum64s(chunks, w.sums[s*n:(s+1)*n])
	}
	clear(chunks)
}

// sealHeaders puts the checksums into the stripe headers of fragments
// [from, to) of w, once sumChunks has covered every fragment.
func (w *segWrite) sealHeaders(n, from, to int) {
	for s := range w.entries {
		sums := w.sums[s*n : (s+1)*n]
		for j := from; j < to; j++ {
			setStripeSums(w.hdrs[s*n+j], sums)
			w.iovs[j][2*s] = w.hdrs[s*n+j]
		}
	}
}

// encodeRows computes bytes [lo, hi) of the parity chunks of stripe s of w.
func (w *segWrite) encodeRows(enc reedsolomon.Encoder, n, s, lo, hi int) {
	if enc == nil || lo >= hi {
		return
	}
	shards := make([][]byte, n)
	for j := range shards {
		shards[j] = w.iovs[j][2*s+1][lo:hi]
	}
	if err := enc.Encode(shards); err != nil {
		panic(fmt.Sprintf("BUG: segment: reed-solomon encode of %d chunks of %d bytes: %v", n, hi-lo, err))
	}
}

// seal computes every checksum of w and puts them into the headers, from
// one goroutine.
func (w *segWrite) seal(enc reedsolomon.Encoder, n int) {
	if !w.encoded {
		for s := range w.entries {
			w.encodeRows(enc, n, s, 0, int(w.entries[s].chunkLen))
		}
		w.encoded = true
	}
	if !w.summed {
		w.sumChunks(n)
		w.sealHeaders(n, 0, n)
		w.summed = true
	}
}

func (j *flushJob) reset() {
	j.b = nil
	j.arena = j.arena[:0]
	for i := range j.writes {
		w := &j.writes[i]
		for f := range w.iovs {
			clear(w.iovs[f])
			w.iovs[f] = w.iovs[f][:0]
		}
		clear(w.hdrs)
		w.seg, w.entries, w.hdrs, w.sums = nil, w.entries[:0], w.hdrs[:0], w.sums[:0]
		w.sealed, w.written, w.summed, w.encoded = false, false, false, false
	}
	j.writes = j.writes[:0]
	j.committedBytes, j.err = 0, nil
	j.synced, j.syncErr = nil, nil
}

// carve returns n bytes from the job's arena. Earlier carvings stay valid
// when the arena grows: they keep the old backing array alive.
func (j *flushJob) carve(n int) []byte {
	if cap(j.arena)-len(j.arena) < n {
		j.arena = make([]byte, 0, max(2*cap(j.arena), n, 64<<10))
	}
	s := j.arena[len(j.arena) : len(j.arena)+n : len(j.arena)+n]
	j.arena = j.arena[:len(j.arena)+n]
	return s
}

// concurrentSyncs is how many group commits may be syncing at once in
// Fsync mode with SyncFilesystem. A sync that starts while the one before
// is still waiting for the device lets the disk take both at once: on the
// 2-core reference machine, two writers of 404 KiB + syncfs reach 1.25x
// the MB/s of one, fdatasync 1.4x (bench/RESULTS.md). Acknowledgements
// stay in batch order.
const concurrentSyncs = 2

// startWriter starts the pipeline. Close stops it by closing the log.
func (l *Log) startWriter() error {
	// Jobs and batches: one being filled, one coding, one writing, and
	// one per sync in flight, plus one waiting in syncQ.
	depth := 4
	if !l.cfg.ReadOnly && l.cfg.Durability == Fsync && l.cfg.SyncMethod == SyncFilesystem {
		slots, err := openSyncSlots(l.cfg.Dirs, concurrentSyncs)
		if err != nil {
			return err
		}
		l.syncSlots = make(chan []fsDir, len(slots))
		for _, fds := range slots {
			l.syncSlots <- fds
		}
		depth += concurrentSyncs - 1
	}
	l.writeQ = make(chan *flushJob, 1)
	l.syncQ = make(chan *flushJob, 1)
	l.jobs = make(chan *flushJob, depth)
	l.batches = make(chan *batch, depth)
	for i := 0; i < depth; i++ {
		l.jobs <- &flushJob{shards: make([][]byte, l.n)}
		l.batches <- &batch{}
	}
	l.active = <-l.batches
	go l.flushLoop()
	go l.writeLoop()
	go l.syncLoop()
	return nil
}

// openSyncSlots opens, for each of n sync slots, a descriptor on one
// directory of every file system among dirs. Each slot has descriptors of
// its own because syncfs reports a writeback error once per open file
// (errseq): two syncs in flight on one descriptor could each miss an error
// the other one consumed.
func openSyncSlots(dirs []string, n int) ([][]fsDir, error) {
	var leaders []string
	seen := map[uint64]bool{}
	for _, d := range dirs {
		var st unix.Stat_t
		if err := unix.Stat(d, &st); err != nil {
			return nil, fmt.Errorf("segment: cannot stat %q: %w", d, err)
		}
		if !seen[st.Dev] {
			seen[st.Dev] = true
			leaders = append(leaders, d)
		}
	}
	slots := make([][]fsDir, n)
	for i := range slots {
		for _, d := range leaders {
			fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				closeSyncSlots(slots)
				return nil, fmt.Errorf("segment: cannot open %q: %w", d, err)
			}
			slots[i] = append(slots[i], fsDir{fd, d})
		}
	}
	return slots, nil
}

// fsDir is a descriptor of a directory, for syncfs of its file system.
type fsDir struct {
	fd   int
	path string
}

func closeSyncSlots(slots [][]fsDir) {
	for _, dirs := range slots {
		for _, d := range dirs {
			unix.Close(d.fd)
		}
	}
}

// flushLoop is the first stage: it takes the pending batch and codes it.
func (l *Log) flushLoop() {
	defer close(l.writeQ)
	var timer *time.Timer
	for {
		<-l.kick
		if l.cfg.Linger > 0 {
			// Wait for a full stripe or the linger, whichever comes first.
			deadline := time.Now().Add(l.cfg.Linger)
			for {
				l.mu.Lock()
				full := len(l.active.buf) >= l.cfg.MaxStripeBytes || l.closed
				l.mu.Unlock()
				d := time.Until(deadline)
				if full || d <= 0 {
					break
				}
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-l.kick:
				case <-timer.C:
				}
			}
		}
		for {
			// Take a free batch before the lock: it is handed back by
			// syncLoop, which never waits for mu while holding one.
			next := <-l.batches
			l.flushMu.Lock()
			l.mu.Lock()
			b := l.active
			if len(b.buf) == 0 {
				closed := l.closed
				l.mu.Unlock()
				l.flushMu.Unlock()
				l.batches <- next
				if closed {
					return
				}
				break
			}
			l.active = next
			werr := l.werr
			l.space.Broadcast()
			l.mu.Unlock()

			job := <-l.jobs
			job.b = b
			if werr != nil {
				job.err = werr
			} else {
				job.committedBytes, job.err = l.code(job)
			}
			l.inflight.Add(1) // after code, which may wait for the jobs before
			l.pipelined.Add(1)
			l.flushMu.Unlock()
			if l.cfg.Durability == Async {
				// Nothing to sync: write and finish here, and take
				// the next batch, which grew meanwhile.
				if l.flushErrs == nil {
					l.flushErrs = make([]error, l.n)
				}
				l.writeJob(job, l.flushErrs)
				l.finish(job, nil, nil)
				continue
			}
			l.writeQ <- job
		}
	}
}

// writeLoop is the second stage: it writes every fragment's chunks.
func (l *Log) writeLoop() {
	defer close(l.syncQ)
	errs := make([]error, l.n)
	for job := range l.writeQ {
		l.writeJob(job, errs)
		l.syncQ <- job
	}
}

// writeJob writes every fragment's chunks of job. errs is scratch of l.n
// errors, all nil.
func (l *Log) writeJob(job *flushJob, errs []error) {
	if job.err != nil && !errors.Is(job.err, ErrDiskFull) {
		return
	}
	for i := range job.writes {
		w := &job.writes[i]
		if w.written {
			continue
		}
		// Large writes are hashed and written by this goroutine and a
		// helper, fragment by fragment (fragTasks), so that both cores
		// hash and copy into the page cache; small ones by this one
		// alone, where a wake-up costs more than the work
		// (bench/RESULTS.md).
		if l.n > 1 && w.fragBytes() >= parallelWriteBytes {
			l.parallelWrites.Add(1)
			t := newFragTasks(w, l.rowEnc, l.k, l.n, errs)
			l.tasks.Store(t)
			go t.run()
			t.run()
			<-t.done
			l.tasks.CompareAndSwap(t, nil)
			w.encoded = true
			if !w.summed && errors.Join(errs...) == nil {
				// The chunks went out behind zero headers: now that
				// every chunk is hashed, write the real ones, through
				// the descriptor although they are small (see
				// maxMappedWrite).
				w.sealHeaders(l.n, 0, l.n)
				w.summed = true
				for s, e := range w.entries {
					for f := range l.n {
						if err := writeFragmentFD(&w.seg.frags[f], w.hdrs[s*l.n+f:s*l.n+f+1], e.off); err != nil {
							errs[f] = err
						}
					}
				}
			}
		} else {
			w.seal(l.rowEnc, l.n) // small: not worth the coder's goroutines
			for f := range l.n {
				if err := writeFragment(&w.seg.frags[f], w.iovs[f], w.off); err != nil {
					errs[f] = err
				}
			}
		}
		if err := errors.Join(errs...); err != nil {
			job.err = err
			job.committedBytes = 0
			clear(errs)
			return
		}
	}
}

// fragTasks is the work of writing one segWrite, in tasks that any
// goroutine may claim, in this order: code the parity of the first or the
// second half of a stripe's rows (unless w is encoded already); hash every
// chunk (unless w is summed already; it waits for the coding); write
// fragment f, one task per fragment, behind zero headers unless w is
// summed (a parity fragment's task waits for the coding). The goroutine that writes
// the job, a helper started for it and appenders waiting in Pending.Wait
// all run it (Log.tasks). An appender is running already when it offers
// help, where the helper has to be woken, and often only runs once the
// other processor steals it from the writer's: whoever comes late finds
// less to do, or nothing, instead of holding the job up.
type fragTasks struct {
	n, k        int32 // fragments, data fragments
	rsTasks     int32 // tasks coding half the rows of a stripe's parity, before the fragment tasks
	hashTasks   int32 // 1 if w is to be hashed (after the coding, before the fragment tasks), else 0
	w           *segWrite
	enc         reedsolomon.Encoder
	errs        []error
	next        atomic.Int32 // the next task to claim
	rsDone, end atomic.Int32
	encoded     chan struct{} // closed when the parity is coded
	done        chan struct{} // closed when every fragment is written and w is hashed
}

// newFragTasks returns the tasks of writing w.
func newFragTasks(w *segWrite, enc reedsolomon.Encoder, k, n int, errs []error) *fragTasks {
	t := &fragTasks{n: int32(n), k: int32(k), w: w, enc: enc, errs: errs, encoded: make(chan struct{}), done: make(chan struct{})}
	if !w.encoded && enc != nil {
		t.rsTasks = 2 * int32(len(w.entries))
	} else {
		close(t.encoded)
	}
	if !w.summed {
		t.hashTasks = 1
	}
	return t
}

// run claims and runs tasks until none is left: a task hashes fragment f's
// chunks (unless w is summed) and writes them.
func (t *fragTasks) run() {
	n := int(t.n)
	w := t.w
	for {
		i := t.next.Add(1) - 1
		if i < t.rsTasks {
			s := int(i / 2)
			c := int(w.entries[s].chunkLen)
			mid := (c / 2) &^ 63
			if i%2 == 0 {
				w.encodeRows(t.enc, n, s, 0, mid)
			} else {
				w.encodeRows(t.enc, n, s, mid, c)
			}
			if t.rsDone.Add(1) == t.rsTasks {
				close(t.encoded)
			}
			continue
		}
		if i < t.rsTasks+t.hashTasks {
			// Every chunk at once, while the other goroutines write
			// the data fragments behind zero headers.
			<-t.encoded
			w.sumChunks(n)
			if t.end.Add(1) == t.n+t.hashTasks {
				close(t.done)
			}
			continue
		}
		f := int(i - t.rsTasks - t.hashTasks)
		if f >= n {
			return
		}
		if f >= int(t.k) {
			<-t.encoded
		}
		if err := writeFragment(&w.seg.frags[f], w.iovs[f], w.off); err != nil {
			t.errs[f] = err
		}
		if t.end.Add(1) == t.n+t.hashTasks {
			close(t.done)
		}
	}
}

// syncLoop is the last stage: it syncs, publishes and acknowledges, in
// batch order (Fsync mode; in Async mode flushLoop finishes the jobs). With
// sync slots (Fsync mode, SyncFilesystem), up to concurrentSyncs jobs sync
// at once, each on its slot's descriptors, and ackLoop finishes them in
// order.
func (l *Log) syncLoop() {
	defer close(l.flusherDone)
	if l.syncSlots == nil {
		var wg sync.WaitGroup
		errs := make([]error, l.n)
		for job := range l.syncQ {
			l.finish(job, errs, &wg)
		}
		return
	}
	acks := make(chan *flushJob, concurrentSyncs)
	ackDone := make(chan struct{})
	go l.ackLoop(acks, ackDone)
	for job := range l.syncQ {
		job.synced = make(chan struct{})
		if job.err != nil && !errors.Is(job.err, ErrDiskFull) || len(job.writes) == 0 {
			close(job.synced) // nothing to sync
		} else {
			fds := <-l.syncSlots
			go func() {
				job.syncErr = syncfsAll(fds)
				l.syncSlots <- fds
				close(job.synced)
			}()
		}
		acks <- job
	}
	close(acks)
	<-ackDone
	slots := make([][]fsDir, 0, concurrentSyncs)
	for range concurrentSyncs {
		slots = append(slots, <-l.syncSlots)
	}
	closeSyncSlots(slots)
}

// ackLoop finishes the jobs of acks in order, each once its sync is done.
func (l *Log) ackLoop(acks <-chan *flushJob, done chan<- struct{}) {
	defer close(done)
	for job := range acks {
		<-job.synced
		if job.syncErr != nil {
			job.err, job.committedBytes = job.syncErr, 0
		}
		l.finish(job, nil, nil)
	}
}

// syncfs is unix.Syncfs; tests replace it to make a sync slow or fail,
// which a real file system does not do on demand.
var syncfs = unix.Syncfs

// syncfsAll calls syncfs on every descriptor, in parallel when there are
// several (several file systems).
func syncfsAll(dirs []fsDir) error {
	sync1 := func(d fsDir) error {
		syncsTotal.Inc()
		if err := syncfs(d.fd); err != nil {
			return fmt.Errorf("cannot syncfs the file system of %q: %w", d.path, err)
		}
		return nil
	}
	if len(dirs) == 1 {
		return sync1(dirs[0])
	}
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Go(func() { errs[i] = sync1(d) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// finish syncs (Fsync mode), publishes and acknowledges job, and hands its
// job and batch back. errs is scratch of l.n errors, all nil.
func (l *Log) finish(job *flushJob, errs []error, wg *sync.WaitGroup) {
	start := time.Now()
	l.mu.Lock()
	werr := l.werr
	l.mu.Unlock()
	if werr != nil && job.err == nil {
		// An earlier batch failed: nothing after it is acknowledged.
		job.err, job.committedBytes = werr, 0
	}
	if job.err == nil || errors.Is(job.err, ErrDiskFull) {
		for i := range job.writes {
			w := &job.writes[i]
			if l.cfg.Durability == Fsync && job.synced == nil {
				// Without sync slots, Fsync mode is SyncFiles: one
				// fdatasync per fragment file, in parallel.
				syncOne := func(f int) {
					fr := &w.seg.frags[f]
					if err := unix.Fdatasync(int(fr.file.Fd())); err != nil {
						errs[f] = fmt.Errorf("cannot fdatasync %q: %w", fr.path, err)
					}
					syncsTotal.Inc()
				}
				if l.n == 1 {
					syncOne(0)
				} else {
					for f := range l.n {
						wg.Go(func() { syncOne(f) })
					}
					wg.Wait()
				}
				if err := errors.Join(errs...); err != nil {
					job.err, job.committedBytes = err, 0
					clear(errs)
					break
				}
			}
			l.publish(w)
		}
	}
	flushDuration.UpdateDuration(start)
	if job.err != nil && !errors.Is(job.err, ErrDiskFull) {
		l.mu.Lock()
		if l.werr == nil {
			l.werr = job.err
		}
		l.mu.Unlock()
	}
	if len(job.writes) > 0 {
		l.statFlushes.Add(1)
	}
	b := job.b
	l.complete(b, job.committedBytes, job.err)
	if job.err == nil {
		for i := range job.writes {
			l.queueWriteBehind(&job.writes[i])
		}
	}
	b.reset()
	job.reset()
	l.jobs <- job
	l.batches <- b
	l.pipelined.Add(-1)
	l.inflight.Done()
}

// publish makes the stripes of w visible to readers.
func (l *Log) publish(w *segWrite) {
	seg := w.seg
	if len(w.entries) > 0 {
		var records, payload uint64
		l.state.Lock()
		for _, e := range w.entries {
			seg.stripes = append(seg.stripes, e)
			records += uint64(e.count)
			payload += uint64(e.payloadLen)
		}
		last := w.entries[len(w.entries)-1]
		seg.end = last.firstSeq + uint64(last.count)
		seg.lastTs = last.ts
		l.state.Unlock()
		l.committed.Store(seg.end)
		l.statRecords.Add(records)
		l.statPayload.Add(payload)
		l.statStripes.Add(uint64(len(w.entries)))
		recordsTotal.Add(int(records))
		payloadBytesTotal.Add(int(payload))
		stripesTotal.Add(len(w.entries))
		l.notifyAll()
	}
	if w.sealed {
		// In Async mode a sealed segment is left to the kernel's
		// writeback: syncing it here cost a third of the sustained
		// throughput (bench/RESULTS.md) for no promise Async makes.
		seg.sealed.Store(true)
	}
}

// complete tells every waiter of b its outcome: those whose records all lie
// in the first committedBytes succeeded.
func (l *Log) complete(b *batch, committedBytes int, err error) {
	for i := range b.waiters {
		w := &b.waiters[i]
		werr := err
		if w.end <= committedBytes {
			werr = nil
		} else if werr == nil {
			werr = errors.New("BUG: segment: waiter beyond the committed bytes without an error")
		}
		first := b.first + uint64(w.index)
		if w.sync != nil {
			w.sync.first, w.sync.ts, w.sync.err = first, b.ts, werr
			w.sync.done <- struct{}{}
		} else {
			w.cb(first, werr)
		}
	}
}

// code cuts the job's batch into stripes, codes them and queues their
// chunks per segment, rolling segments as needed. It returns how many bytes
// of the batch were coded; less than all only with an error.
func (l *Log) code(job *flushJob) (int, error) {
	b := job.b
	b.first = l.nextPos
	now := l.cfg.Now().UnixMilli()
	ts := max(now, l.lastTs)
	l.lastTs = ts
	b.ts = ts
	hdrSize := stripeHeaderSize(l.n)
	seg := l.cur
	var w *segWrite
	startWrite := func(seg *segment) {
		if len(job.writes) == cap(job.writes) {
			job.writes = append(job.writes, segWrite{iovs: make([][][]byte, l.n)})
		} else {
			job.writes = job.writes[:len(job.writes)+1]
		}
		w = &job.writes[len(job.writes)-1]
		w.seg, w.off = seg, seg.writeOff
	}
	if seg != nil {
		startWrite(seg)
	}
	buf := b.buf
	pos := 0
	seq := l.nextPos
	for pos < len(buf) {
		start, count := pos, uint32(0)
		for pos < len(buf) {
			rl := recordLenAt(buf[pos:])
			if count > 0 && pos-start+rl > l.cfg.MaxStripeBytes {
				break
			}
			pos += rl
			count++
		}
		payload := buf[start:pos]
		c := chunkLenFor(len(payload), l.k)
		need := int64(hdrSize + c)
		if seg == nil || seg.writeOff+need > seg.size {
			if seg != nil {
				// Before the next segment exists, everything coded for
				// this one must be written (and synced in Fsync mode): a
				// torn tail is then only ever in the newest segment, where
				// recovery can tell it from damage (FORMAT.md, Recovery).
				// Rolls are rare, so waiting here costs little.
				l.inflight.Wait()
				if err := l.writeNow(w); err != nil {
					return 0, err
				}
			}
			ns, err := l.newSegment(seq, need)
			if err != nil {
				return start, err
			}
			if w != nil {
				w.sealed = true
			}
			seg = ns
			l.cur = ns
			startWrite(ns)
		}
		l.encodeStripe(job, w, payload, c, seq, count, ts)
		w.entries = append(w.entries, stripeEntry{off: seg.writeOff, firstSeq: seq, count: count,
			payloadLen: uint32(len(payload)), chunkLen: uint32(c), ts: ts})
		seg.writeOff += need
		seq += uint64(count)
		l.nextPos = seq
	}
	if seg != nil {
		l.maybePrepareSpare(seg)
	}
	if l.cfg.Durability == Fsync {
		for i := range job.writes {
			job.writes[i].seal(l.enc, l.n)
		}
	}
	return len(buf), nil
}

// writeNow writes w's chunks and, in Fsync mode, syncs them, from
// flushLoop.
func (l *Log) writeNow(w *segWrite) error {
	w.seal(l.enc, l.n)
	errs := make([]error, l.n)
	var wg sync.WaitGroup
	for f := 0; f < l.n; f++ {
		wg.Go(func() {
			fr := &w.seg.frags[f]
			if err := pwritevAll(fr.file, w.iovs[f], w.off); err != nil {
				errs[f] = fmt.Errorf("cannot write stripes to %q at %d: %w", fr.path, w.off, err)
				return
			}
			if l.cfg.Durability == Fsync {
				if err := unix.Fdatasync(int(fr.file.Fd())); err != nil {
					errs[f] = fmt.Errorf("cannot sync %q: %w", fr.path, err)
				}
			}
		})
	}
	wg.Wait()
	w.written = true
	return errors.Join(errs...)
}

// recordLenAt returns the encoded length of the record at the start of b,
// which was encoded by appendRecord.
func recordLenAt(b []byte) int {
	return recordHeaderSize + int(binary.LittleEndian.Uint32(b[0:])) + int(binary.LittleEndian.Uint16(b[4:])) + int(b[6])
}

// encodeStripe codes one stripe and queues its chunks in w.
func (l *Log) encodeStripe(job *flushJob, w *segWrite, payload []byte, c int, seq uint64, count uint32, ts int64) {
	shards := job.shards
	for i := 0; i < l.k; i++ {
		lo, hi := i*c, (i+1)*c
		if hi <= len(payload) {
			shards[i] = payload[lo:hi:hi]
			continue
		}
		// The tail chunk is padded with zeros.
		chunk := job.carve(c)
		if lo < len(payload) {
			n := copy(chunk, payload[lo:])
			clear(chunk[n:])
		} else {
			clear(chunk)
		}
		shards[i] = chunk
	}
	for j := l.k; j < l.n; j++ {
		shards[j] = job.carve(c)
	}
	// Parity and checksums are left to the writer (seal, fragTasks).
	h := stripeHeader{k: l.k, m: l.m, firstSeq: seq, count: count, payloadLen: uint32(len(payload)), chunkLen: uint32(c), timestamp: ts}
	w.sums = append(w.sums, make([]uint64, l.n)...)
	hdrSize := stripeHeaderSize(l.n)
	if len(l.zeroHdr) != hdrSize {
		l.zeroHdr = make([]byte, hdrSize)
	}
	for j := 0; j < l.n; j++ {
		h.index = j
		hb := appendStripeHeader(job.carve(hdrSize)[:0], &h)
		w.hdrs = append(w.hdrs, hb)
		// A zero header until seal or writeJob puts the real one in.
		w.iovs[j] = append(w.iovs[j], l.zeroHdr, shards[j])
	}
}

// maxMappedWrite is the largest write to one fragment that writeFragment
// copies into the mapping. A small write costs a system call's fixed cost
// (about 1 us) through the descriptor but only a copy into the mapping plus
// a page fault every 4 KiB; a large one faults on every page it touches
// first, which costs more than pwritev (BenchmarkSegmentWritePath,
// bench/RESULTS.md). A store also costs later: the fault maps the page's
// whole folio writable, and every time the kernel's write-back cleans that
// folio it write-protects those entries with a TLB shootdown (an
// inter-processor interrupt, dear in a virtual machine). A commit of a
// record or two writes many times into each page and pays that once per
// page; the real headers of a large commit (writeJob) would pay it once per
// stripe over a folio of up to 128 KiB, so they go through the descriptor.
const maxMappedWrite = 512

// writeFragment writes bufs contiguously at off in fr: a small write into
// fr's writable mapping (Async mode, see fragment.makeWritable), anything
// else, or a copy that faulted, with pwritev (a 16-64 KiB one after
// fragment.prefill). Either lands in the page cache, which is what Async
// promises.
func writeFragment(fr *fragment, bufs [][]byte, off int64) error {
	if fr.writable {
		n := 0
		for _, b := range bufs {
			n += len(b)
		}
		if n <= maxMappedWrite && fr.copyToMapping(bufs, off, n) {
			return nil
		}
		if n >= prefillMinWrite && n < prefillPiece && !writebackBusy() {
			piece := int64(prefillPiece)
			if n < prefillBigBelow {
				piece = prefillBigPiece
			}
			fr.prefill(off+int64(n), piece)
		}
	}
	return writeFragmentFD(fr, bufs, off)
}

// writeFragmentFD writes bufs contiguously at off in fr through the
// descriptor, never the mapping.
func writeFragmentFD(fr *fragment, bufs [][]byte, off int64) error {
	if err := pwritevAll(fr.file, bufs, off); err != nil {
		return fmt.Errorf("cannot write stripes to %q at %d: %w", fr.path, off, err)
	}
	return nil
}

// Prefill. The kernel (ext4 on 6.18) builds the page cache of a buffered
// write out of folios as large as the write's length and its offset's
// alignment allow, and its cost per write is mostly per folio (allocation,
// memory-cgroup charge, LRU and page-cache insertion, marking dirty): a
// fragment's 26 KiB unaligned write (a 100 KiB group commit, 4+2) makes
// seven small folios and copies at half the speed of a large aligned write.
// So in Async mode, before such a write, the 64 KiB-aligned piece after
// the one holding its end is written with zeros first (unless done already):
// one 64 KiB folio that the data writes then fill. The zeros are beyond
// everything written, in the file's preallocated blocks (writable implies
// fallocated), so they change no byte a reader or recovery sees.
// Measured (bench/RESULTS.md): `append async 1KiB, 1 writer` 0.39 -> 0.65
// of the plain-write baseline. Limits, also measured: writes of 64 KiB and
// more already make 64 KiB folios, and larger pieces (128, 256 KiB) made
// the sustained 8-writer load (write-back running) 1.6 and 2.2 times
// slower; writes under 16 KiB (100 B records) gained nothing and lost with
// 256 KiB pieces. Fsync mode would have to sync the zeros too: not used.
// While the kernel's write-back runs the prefill costs more than it saves,
// even with 64 KiB pieces: it pauses then (writebackBusy, writeback.go).
// So paused, 128 KiB pieces for writes under 48 KiB (the 1-writer case is
// 25.7 KiB) no longer hurt the sustained load and make `1 writer` about 8%
// faster than 64 KiB pieces.
const (
	prefillPiece    = 64 << 10  // piece for writes of 48-64 KiB
	prefillBigPiece = 128 << 10 // piece for writes of 16-48 KiB
	prefillBigBelow = 48 << 10
	prefillMinWrite = 16 << 10
)

// zeroPiece is the largest piece's bytes of zeros, never written to.
var zeroPiece = make([]byte, prefillBigPiece)

// prefill writes zeros over the piece (of size piece, a power of two) after
// the one holding end (where nothing was written yet) unless an earlier
// call zeroed it. A failure only ends prefilling for the fragment: the data
// write reports its own.
func (f *fragment) prefill(end, piece int64) {
	next := (end + piece - 1) &^ (piece - 1)
	if next < f.zeroTo || next+piece > f.fileSize {
		return
	}
	if _, err := unix.Pwrite(int(f.file.Fd()), zeroPiece[:piece], next); err != nil {
		f.zeroTo = f.fileSize
		return
	}
	f.zeroTo = next + piece
}

// pwritevAll writes bufs contiguously at off, retrying short writes.
func pwritevAll(f *os.File, bufs [][]byte, off int64) error {
	const maxIov = 1024
	fd := int(f.Fd())
	for len(bufs) > 0 {
		part := bufs[:min(len(bufs), maxIov)]
		n, err := unix.Pwritev(fd, part, off)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err
		}
		off += int64(n)
		// Drop what was written, keeping a partly written buffer's rest.
		for n > 0 {
			if n >= len(bufs[0]) {
				n -= len(bufs[0])
				bufs = bufs[1:]
			} else {
				bufs[0] = bufs[0][n:]
				n = 0
			}
		}
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return nil
}

// newSegment creates the segment that starts at base, honouring the disk cap.
func (l *Log) newSegment(base uint64, need int64) (*segment, error) {
	// A roll is the natural moment to drop segments past retention.
	if _, err := l.EnforceRetention(); err != nil {
		return nil, err
	}
	if !l.roomForSegment() {
		l.diskFull.Store(true)
		return nil, l.diskFullError()
	}
	s := &segment{baseSeq: base, size: l.nextSegmentSize(need), frags: make([]fragment, l.n),
		end: base, writeOff: fileHeaderSize}
	s.refs.Store(1)
	created := l.cfg.Now().UnixMilli()
	h := fileHeader{k: l.k, m: l.m, baseSeq: base, createdMs: created, size: s.size}
	adopted := false
	if sp := l.takeSpare(); sp != nil && sp.err == nil {
		if sp.size == s.size {
			adopted = adoptSpare(sp, l.cfg.Dirs, s, h) == nil
		} else {
			discardFrags(sp.frags)
		}
	}
	if !adopted {
		// No spare was ready (or it did not fit, or could not be
		// adopted): make the files now, the same way.
		frags, err := createSpare(l.cfg.Dirs, l.n, s.size, l.cfg.Durability == Async)
		if err != nil {
			return nil, err
		}
		if err := adoptSpare(&spare{size: s.size, frags: frags}, l.cfg.Dirs, s, h); err != nil {
			return nil, err
		}
	}
	if l.cfg.Durability == Fsync {
		for _, d := range l.cfg.Dirs {
			if err := syncDir(d); err != nil {
				return nil, fmt.Errorf("cannot sync directory %q: %w", d, err)
			}
		}
	}
	l.state.Lock()
	l.segs = append(l.segs, s)
	if len(l.segs) == 1 {
		l.first = base
	}
	l.state.Unlock()
	l.diskBytes.Add(int64(l.n) * s.size)
	l.diskFull.Store(false)
	return s, nil
}

// nextSegmentSize is the fragment size of the next segment, which must
// hold a stripe of need bytes (header included) after the file header:
// double the newest segment's, InitialFragmentBytes for the first, never
// more than FragmentBytes unless the stripe needs it (Config.validate
// keeps FragmentBytes large enough for the largest stripe).
func (l *Log) nextSegmentSize(need int64) int64 {
	size := l.cfg.InitialFragmentBytes
	l.state.RLock()
	if n := len(l.segs); n > 0 {
		size = l.segs[n-1].size * 2
	}
	l.state.RUnlock()
	size = min(size, l.cfg.FragmentBytes)
	fit := (fileHeaderSize + need + 4095) &^ 4095 // whole pages
	return max(size, min(fit, l.cfg.FragmentBytes))
}

var (
	recordsTotal      = metrics.NewCounter(`sluice_segment_records_total`)
	payloadBytesTotal = metrics.NewCounter(`sluice_segment_payload_bytes_total`)
	stripesTotal      = metrics.NewCounter(`sluice_segment_stripes_total`)
	syncsTotal        = metrics.NewCounter(`sluice_segment_fdatasyncs_total`)
	flushDuration     = metrics.NewHistogram(`sluice_segment_flush_duration_seconds`)
)
