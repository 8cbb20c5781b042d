package segment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/reedsolomon"
	"golang.org/x/sys/unix"
)

var (
	// ErrClosed is returned by operations on a closed Log.
	ErrClosed = errors.New("segment: log is closed")
	// ErrReadOnly is returned by Append on a log opened with ReadOnly.
	ErrReadOnly = errors.New("segment: log is opened read-only")
	// ErrDiskFull is returned by Append while a new segment would pass
	// Config.MaxDiskBytes.
	ErrDiskFull = errors.New("segment: disk usage cap reached; raise the cap or shorten retention")
	// ErrRecordTooLarge is returned by Append for a record whose encoded
	// size passes Config.MaxRecordBytes or whose keys are too long.
	ErrRecordTooLarge = errors.New("segment: record too large")
)

// CorruptionError reports records that cannot be read because more than
// Parity chunks of their stripe are damaged or gone.
type CorruptionError struct {
	Segment  string // base position of the segment, 20 digits
	FirstSeq uint64 // first record affected
	LastSeq  uint64 // last record affected, inclusive
	File     string // a fragment file involved, if known
	Offset   int64  // stripe offset in the fragment files
	Err      error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("segment %s: records %d..%d unreadable (stripe at offset %d, %s): %v",
		e.Segment, e.FirstSeq, e.LastSeq, e.Offset, e.File, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// ErrCorrupt is wrapped by every CorruptionError.
var ErrCorrupt = errors.New("segment: too many damaged chunks to rebuild")

// Record is one record of a log. Seq and Timestamp are assigned by the log
// when the record is appended; on Append they are ignored.
type Record struct {
	Seq             uint64 // position in the log, from 0
	Timestamp       int64  // arrival time, milliseconds since the epoch
	PartitionKey    []byte
	ExplicitHashKey []byte
	Data            []byte
}

// Stats are counters of a Log since it was opened.
type Stats struct {
	Records      uint64 // records committed
	PayloadBytes uint64 // encoded record bytes committed
	Stripes      uint64 // stripes written
	Flushes      uint64 // group commits (one write, and one sync in Fsync mode, per fragment)
	Segments     int    // segments present
	DiskBytes    int64  // preallocated bytes of all fragment files
}

// Log is one shard's append-only log. It is safe for concurrent use.
type Log struct {
	cfg     Config
	k, m, n int
	enc     reedsolomon.Encoder
	rowEnc  reedsolomon.Encoder // enc without goroutines of its own, for fragTasks

	// mu guards the pending batch, the next position and the writer state.
	mu     sync.Mutex
	space  *sync.Cond // signalled when the pending batch is taken
	active *batch
	werr   error // sticky write error
	closed bool

	kick           chan struct{}
	flusherDone    chan struct{}             // closed when the pipeline has stopped
	flushMu        sync.Mutex                // held by flushLoop around coding a batch, and by Scrub
	inflight       sync.WaitGroup            // jobs in the pipeline
	pipelined      atomic.Int32              // jobs in the pipeline, for flushInline's test
	inlineErrs     []error                   // flushInline's scratch, under flushMu
	flushErrs      []error                   // flushLoop's scratch (Async mode)
	zeroHdr        []byte                    // a stripe header's size of zeros, never written to
	parallelWrites atomic.Uint64             // writes that went through fragTasks, for tests
	tasks          atomic.Pointer[fragTasks] // the large write in progress, for waiting appenders to help with
	writeQ         chan *flushJob            // flushLoop -> writeLoop
	syncQ          chan *flushJob            // writeLoop -> syncLoop
	syncSlots      chan []fsDir              // overlapped syncs: per slot, a directory descriptor per file system (nil: one sync at a time)
	jobs           chan *flushJob            // free jobs
	batches        chan *batch               // free batches
	syncWG         sync.WaitGroup            // background syncs of sealed segments
	cur            *segment                  // flushLoop-owned: the segment being written
	spare          *spare                    // under flushMu: the next segment's files, prepared ahead (spare.go)
	wbQ            chan wbWindow             // to wbLoop (writebehind.go); nil if read-only
	wbDone         chan struct{}             // closed when wbLoop returns
	nextPos        uint64                    // flushLoop-owned: position of the next record coded

	// state guards segs and first (the index) for readers.
	state    sync.RWMutex
	segs     []*segment
	first    uint64
	diskFull atomic.Bool

	committed atomic.Uint64 // position after the last committed record
	notifyMu  sync.Mutex
	notifyCh  chan struct{}

	retention atomic.Int64 // nanoseconds
	diskBytes atomic.Int64
	lastTs    int64 // flushLoop-owned

	retentionStop chan struct{} // closed by Close
	retentionDone chan struct{} // closed when retentionLoop returns

	recovery Report
	clean    bool // the log was closed cleanly: no torn stripes possible

	statRecords, statPayload, statStripes, statFlushes atomic.Uint64
}

// Open opens or creates the log in cfg.Dirs, recovering what is there:
// torn tails are cut, every checksum is verified, damaged chunks are
// rebuilt and rewritten (unless ReadOnly). What was found is in Recovery.
func Open(cfg Config) (*Log, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Dirs) == 0 {
		return nil, errors.New("segment: Config.Dirs is empty")
	}
	for _, d := range cfg.Dirs {
		if cfg.ReadOnly {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create log directory %q: %w", d, err)
		}
	}
	if !cfg.ReadOnly {
		if err := removeSpares(cfg.Dirs); err != nil {
			return nil, err
		}
	}
	bases, err := listSegments(cfg.Dirs)
	if err != nil {
		return nil, err
	}
	// Take the geometry and fragment size from the files when not given.
	var found *fileHeader
	for _, base := range bases {
		if h, ok := probeGeometry(cfg.Dirs, base); ok {
			found = &h
			break
		}
	}
	if found != nil {
		g := Geometry{found.k, found.m}
		if cfg.Geometry.Data == 0 {
			cfg.Geometry = g
		} else if cfg.Geometry != g {
			return nil, fmt.Errorf("segment: log in %v has geometry %s, configured %s", cfg.Dirs, g, cfg.Geometry)
		}
	} else if len(bases) > 0 {
		// A process killed after it created a new log's first segment
		// and before it wrote the file headers leaves files of zeros (or
		// empty ones): nothing in them was ever acknowledged, and the
		// configured (or default) geometry applies. Anything else
		// without a header is damage this cannot interpret.
		for _, base := range bases {
			blank, err := blankSegment(cfg.Dirs, base)
			if err != nil {
				return nil, err
			}
			if !blank {
				return nil, fmt.Errorf("segment: no fragment file in %v has a valid header; cannot tell the geometry", cfg.Dirs)
			}
		}
		cfg.Logger.Warn("segment: the log's only segment files were created but never written (a crash while creating them); opening it as empty", "dirs", cfg.Dirs)
	}
	if cfg.Geometry.Data == 0 {
		cfg.Geometry = DefaultGeometry
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Durability == Fsync && cfg.SyncMethod == SyncFilesystem && !kernelAtLeast(5, 8) {
		// Before 5.8 syncfs did not report writeback errors.
		cfg.Logger.Warn("segment: kernel older than 5.8; syncing each fragment file instead of syncfs")
		cfg.SyncMethod = SyncFiles
	}
	l := &Log{
		cfg:         cfg,
		k:           cfg.Geometry.Data,
		m:           cfg.Geometry.Parity,
		n:           cfg.Geometry.Data + cfg.Geometry.Parity,
		kick:        make(chan struct{}, 1),
		flusherDone: make(chan struct{}),
		notifyCh:    make(chan struct{}),
	}
	l.space = sync.NewCond(&l.mu)
	l.retention.Store(int64(cfg.Retention))
	if l.m > 0 {
		l.enc, err = reedsolomon.New(l.k, l.m)
		if err != nil {
			return nil, fmt.Errorf("segment: cannot create %s coder: %w", cfg.Geometry, err)
		}
		// fragTasks code a stripe in two halves on two goroutines
		// already: splitting further costs more hand-offs than it saves.
		l.rowEnc, err = reedsolomon.New(l.k, l.m, reedsolomon.WithMaxGoroutines(1))
		if err != nil {
			return nil, fmt.Errorf("segment: cannot create %s coder: %w", cfg.Geometry, err)
		}
	}
	if err := l.recover(bases); err != nil {
		l.closeSegments()
		return nil, err
	}
	if !cfg.ReadOnly {
		l.startWriteBehind()
	}
	if err := l.startWriter(); err != nil {
		l.stopWriteBehind()
		l.closeSegments()
		return nil, err
	}
	if !cfg.ReadOnly {
		l.retentionStop = make(chan struct{})
		l.retentionDone = make(chan struct{})
		go l.retentionLoop()
	}
	return l, nil
}

// probeGeometry reads the first valid file header of segment base.
func probeGeometry(dirs []string, base uint64) (fileHeader, bool) {
	for j := 0; j < maxFragments; j++ {
		b := make([]byte, fileHeaderSize)
		f, err := os.Open(fragmentPath(dirs, base, j))
		if err != nil {
			continue
		}
		_, err = f.ReadAt(b, 0)
		f.Close()
		if err != nil {
			continue
		}
		if h, err := decodeFileHeader(b); err == nil && h.baseSeq == base && h.index == j {
			return h, true
		}
	}
	return fileHeader{}, false
}

// blankSegment reports whether every fragment file of the segment at base
// that exists holds only zero bytes.
func blankSegment(dirs []string, base uint64) (bool, error) {
	buf := make([]byte, 1<<20)
	for j := 0; j < maxFragments; j++ {
		f, err := os.Open(fragmentPath(dirs, base, j))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		for off := int64(0); ; {
			n, err := f.ReadAt(buf, off)
			for _, c := range buf[:n] {
				if c != 0 {
					f.Close()
					return false, nil
				}
			}
			off += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return false, err
			}
		}
		f.Close()
	}
	return true, nil
}

// syncSegments fdatasyncs every fragment file of segs.
func syncSegments(segs []*segment) error {
	for _, s := range segs {
		for j := range s.frags {
			if f := s.frags[j].file; f != nil {
				if err := unix.Fdatasync(int(f.Fd())); err != nil {
					return fmt.Errorf("cannot sync %q: %w", s.frags[j].path, err)
				}
			}
		}
	}
	return nil
}

// kernelAtLeast reports whether the running kernel is at least major.minor.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var maj, min int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &maj, &min); err != nil {
		return false
	}
	return maj > major || (maj == major && min >= minor)
}

// checkGaps reports positions missing between consecutive segments (a
// segment whose files are all gone starts where its predecessor ends, so the
// range is named after it).
func checkGaps(segs []*segment, rep *Report) error {
	for i := 1; i < len(segs); i++ {
		prev, s := segs[i-1], segs[i]
		if prev.end < s.baseSeq {
			rep.Lost = append(rep.Lost, LostRange{Segment: fmt.Sprintf("%020d", prev.end), FirstSeq: prev.end, LastSeq: s.baseSeq - 1,
				Reason: fmt.Sprintf("records missing between segments %s and %s", prev.name(), s.name())})
		} else if prev.end > s.baseSeq {
			return fmt.Errorf("segment: segment %s ends at record %d, after the start of segment %s; the log is inconsistent",
				prev.name(), prev.end, s.name())
		}
	}
	return nil
}

// cleanMarker is the file Close leaves in Dirs[0] after a clean shutdown.
// While it exists no stripe can be torn: recovery then treats every
// incomplete stripe as damage, never cutting it.
const cleanMarker = "CLEAN"

// recover opens every segment, checks it, repairs it unless read-only, and
// builds the index.
func (l *Log) recover(bases []uint64) error {
	rep := &l.recovery
	marker := filepath.Join(l.cfg.Dirs[0], cleanMarker)
	if _, err := os.Stat(marker); err == nil {
		l.clean = true
		if !l.cfg.ReadOnly {
			if err := os.Remove(marker); err != nil {
				return fmt.Errorf("cannot remove %q: %w", marker, err)
			}
			if err := syncDir(l.cfg.Dirs[0]); err != nil {
				return fmt.Errorf("cannot sync directory %q: %w", l.cfg.Dirs[0], err)
			}
		}
	}
	for i, base := range bases {
		s, err := l.openSegment(base)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
		last := i == len(bases)-1
		idx, err := l.checkSegment(s, last, !l.cfg.ReadOnly, rep)
		if err != nil {
			return err
		}
		s.setIndex(idx)
	}
	if err := checkGaps(l.segs, rep); err != nil {
		return err
	}
	rep.Segments = len(l.segs)
	if !l.cfg.ReadOnly {
		if err := syncSegments(l.segs); err != nil {
			return err
		}
	}
	if len(l.segs) > 0 {
		l.first = l.segs[0].baseSeq
		last := l.segs[len(l.segs)-1]
		l.nextPos = last.end
		l.cur = last
		l.lastTs = last.lastTs
		for _, s := range l.segs {
			l.diskBytes.Add(int64(l.n) * s.size)
			for _, e := range s.stripes {
				l.lastTs = max(l.lastTs, e.ts)
			}
		}
	}
	for _, s := range l.segs[:max(len(l.segs)-1, 0)] {
		s.sealed.Store(true)
	}
	l.committed.Store(l.nextPos)
	for _, p := range rep.Problems {
		l.cfg.Logger.Warn("segment recovery", "dirs", l.cfg.Dirs, "problem", p.String())
	}
	for _, lost := range rep.Lost {
		l.cfg.Logger.Error("segment recovery", "dirs", l.cfg.Dirs, "lost", lost.String())
	}
	return nil
}

// openSegment opens the fragment files of the segment at base.
func (l *Log) openSegment(base uint64) (*segment, error) {
	s := &segment{baseSeq: base, frags: make([]fragment, l.n)}
	s.refs.Store(1)
	size := int64(0)
	for j := 0; j < l.n; j++ {
		path := fragmentPath(l.cfg.Dirs, base, j)
		fr, err := openFragment(path, 1<<62, l.cfg.ReadOnly)
		if err != nil {
			s.release()
			return nil, err
		}
		fr.path = path
		if fr.file != nil {
			var h fileHeader
			var herr error
			if b := fr.readable(0, fileHeaderSize); b == nil {
				herr = errShort
			} else if h, herr = decodeFileHeader(b); herr == nil {
				if h.index != j || h.k != l.k || h.m != l.m || h.baseSeq != base {
					herr = fmt.Errorf("file header says fragment %d of segment %d with geometry %d+%d", h.index, h.baseSeq, h.k, h.m)
				} else if size == 0 {
					size = h.size
				}
			}
			fr.header = herr
		}
		s.frags[j] = fr
	}
	if size == 0 {
		size = l.cfg.FragmentBytes
	}
	s.size = size
	// Remap to exactly the segment size.
	for j := range s.frags {
		if s.frags[j].file != nil {
			if err := s.frags[j].mapFile(size); err != nil {
				s.release()
				return nil, err
			}
		}
	}
	return s, nil
}

// Recovery returns what Open found and repaired.
func (l *Log) Recovery() Report { return l.recovery }

// Geometry returns the erasure coding of the log.
func (l *Log) Geometry() Geometry { return Geometry{l.k, l.m} }

// Bounds returns the position of the oldest record kept and the position
// the next record will get; the log holds [first, next).
func (l *Log) Bounds() (first, next uint64) {
	l.state.RLock()
	first = l.first
	l.state.RUnlock()
	return first, l.committed.Load()
}

// LastTimestamp returns the arrival time (Unix ms) of the newest committed
// record, or 0 when the log holds none. It reads the in-memory index only:
// callers that want the newest record's time (MillisBehindLatest) need not
// Read it.
func (l *Log) LastTimestamp() int64 {
	l.state.RLock()
	defer l.state.RUnlock()
	for i := len(l.segs) - 1; i >= 0; i-- {
		if s := l.segs[i]; len(s.stripes) > 0 {
			return s.lastTs
		}
	}
	return 0
}

// Notify returns a channel that is closed at the next commit (or Close).
// A reader that found nothing new waits on it instead of polling.
func (l *Log) Notify() <-chan struct{} {
	l.notifyMu.Lock()
	ch := l.notifyCh
	l.notifyMu.Unlock()
	return ch
}

func (l *Log) notifyAll() {
	l.notifyMu.Lock()
	close(l.notifyCh)
	l.notifyCh = make(chan struct{})
	l.notifyMu.Unlock()
}

// Wait blocks until a record at position pos or later is committed, the
// context ends or the log is closed.
func (l *Log) Wait(ctx context.Context, pos uint64) error {
	for {
		ch := l.Notify()
		if l.committed.Load() > pos {
			return nil
		}
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return ErrClosed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// SetRetention changes the retention period; zero keeps everything.
func (l *Log) SetRetention(d time.Duration) { l.retention.Store(int64(d)) }

// EnforceRetention deletes whole segments whose newest record is older than
// the retention period. The newest segment is never deleted. It returns the
// number of segments deleted.
func (l *Log) EnforceRetention() (int, error) {
	ret := time.Duration(l.retention.Load())
	if ret <= 0 {
		return 0, nil
	}
	cutoff := l.cfg.Now().Add(-ret).UnixMilli()
	l.state.Lock()
	var doomed []*segment
	// A segment is deleted only once everything written to it is published
	// (sealed), so that retention never races the writer pipeline.
	for len(l.segs) > 1 && l.segs[0].sealed.Load() && l.segs[0].lastTs < cutoff {
		doomed = append(doomed, l.segs[0])
		l.segs = l.segs[1:]
	}
	if len(doomed) > 0 {
		l.first = l.segs[0].baseSeq
	}
	l.state.Unlock()
	for _, s := range doomed {
		s.removed.Store(true)
		l.diskBytes.Add(-int64(l.n) * s.size)
		s.release()
	}
	if len(doomed) > 0 {
		l.diskFull.Store(false)
		for _, d := range l.cfg.Dirs {
			if err := syncDir(d); err != nil {
				return len(doomed), fmt.Errorf("cannot sync directory %q: %w", d, err)
			}
		}
	}
	return len(doomed), nil
}

// retentionLoop drops segments past retention every RetentionInterval, so
// that an idle log (which never rolls) still lets old data go.
func (l *Log) retentionLoop() {
	defer close(l.retentionDone)
	t := time.NewTicker(l.cfg.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-l.retentionStop:
			return
		case <-t.C:
			if _, err := l.EnforceRetention(); err != nil {
				l.cfg.Logger.Error("segment retention", "dirs", l.cfg.Dirs, "err", err)
			}
		}
	}
}

// Stats returns counters since Open.
func (l *Log) Stats() Stats {
	l.state.RLock()
	segs := len(l.segs)
	l.state.RUnlock()
	return Stats{
		Records:      l.statRecords.Load(),
		PayloadBytes: l.statPayload.Load(),
		Stripes:      l.statStripes.Load(),
		Flushes:      l.statFlushes.Load(),
		Segments:     segs,
		DiskBytes:    l.diskBytes.Load(),
	}
}

// Scrub verifies every chunk of every segment and, with repair, rewrites
// what can be rebuilt. Appends wait while it runs. It works on the files as
// the log holds them open: a fragment file deleted or replaced under an open
// log is read around (rebuilt from parity) but re-created only by the next
// Open.
func (l *Log) Scrub(repair bool) (Report, error) {
	if l.cfg.ReadOnly {
		repair = false
	}
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.inflight.Wait() // let the pipeline drain: the files are quiet now
	l.state.RLock()
	segs := append([]*segment(nil), l.segs...)
	l.state.RUnlock()
	var rep Report
	rep.Segments = len(segs)
	for i, s := range segs {
		// Indexes are rebuilt from the files: swap them in under the lock.
		idx, err := l.checkSegment(s, i == len(segs)-1, repair, &rep)
		if err != nil {
			return rep, err
		}
		l.state.Lock()
		s.setIndex(idx)
		l.state.Unlock()
	}
	if err := checkGaps(segs, &rep); err != nil {
		return rep, err
	}
	if repair {
		if err := syncSegments(segs); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// SegmentInfo describes one segment for inspection.
type SegmentInfo struct {
	Name      string   `json:"name"`
	FirstSeq  uint64   `json:"first_seq"`
	EndSeq    uint64   `json:"end_seq"` // position after the last record
	Stripes   int      `json:"stripes"`
	FirstTime int64    `json:"first_time_ms"`
	LastTime  int64    `json:"last_time_ms"`
	UsedBytes int64    `json:"used_bytes"` // bytes written in each fragment file
	SizeBytes int64    `json:"size_bytes"` // preallocated size of each fragment file
	Files     []string `json:"files"`
}

// Segments describes the segments of the log, oldest first.
func (l *Log) Segments() []SegmentInfo {
	l.state.RLock()
	defer l.state.RUnlock()
	out := make([]SegmentInfo, 0, len(l.segs))
	for _, s := range l.segs {
		info := SegmentInfo{Name: s.name(), FirstSeq: s.baseSeq, EndSeq: s.end, Stripes: len(s.stripes),
			UsedBytes: fileHeaderSize, SizeBytes: s.size}
		if len(s.stripes) > 0 {
			last := s.stripes[len(s.stripes)-1]
			info.FirstTime, info.LastTime = s.stripes[0].ts, last.ts
			info.UsedBytes = last.off + int64(stripeHeaderSize(l.n)) + int64(last.chunkLen)
		}
		for j := range s.frags {
			info.Files = append(info.Files, s.frags[j].path)
		}
		out = append(out, info)
	}
	return out
}

// Close stops the flusher after committing what is pending, syncs and
// closes the files. Readers in flight finish first.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.space.Broadcast()
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	if l.retentionStop != nil {
		close(l.retentionStop)
		<-l.retentionDone
	}
	<-l.flusherDone
	l.flushMu.Lock()
	l.dropSpare()
	l.stopWriteBehind() // under flushMu: no inline flush is finishing a job
	l.flushMu.Unlock()
	var err error
	if !l.cfg.ReadOnly {
		l.state.RLock()
		err = syncSegments(l.segs)
		l.state.RUnlock()
		if err == nil && l.werr == nil {
			err = writeCleanMarker(l.cfg.Dirs[0])
		}
	}
	l.closeSegments()
	l.notifyAll()
	return err
}

func writeCleanMarker(dir string) error {
	path := filepath.Join(dir, cleanMarker)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot sync %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(dir)
}

func (l *Log) closeSegments() {
	l.state.Lock()
	segs := l.segs
	l.segs = nil
	l.state.Unlock()
	for _, s := range segs {
		s.release()
	}
}

// findSegmentLocked returns the index of the segment holding pos.
// Lock state must be held.
func (l *Log) findSegmentLocked(pos uint64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].baseSeq > pos })
	return i - 1
}
