package segment

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// fragment is one fragment file of a segment, mapped read-only. Writes go
// through the descriptor (pwritev); the shared mapping sees them at once.
// In Async mode the fragments of new segments are mapped read-write, and
// small writes are copied into the mapping instead (writeFragment).
type fragment struct {
	path     string
	file     *os.File // nil when the file is missing
	mem      []byte   // read-only shared mapping of [0, mapped)
	fileSize int64    // size of the file when opened or created
	header   error    // problem with the file header found at open, if any
	// lostFrom is the offset from which the file's contents were lost
	// (a missing or truncated file that repair re-created); reads beyond it
	// see nothing until the chunks there are rewritten.
	lostFrom int64
	// fallocated: the file's blocks were reserved with fallocate when it
	// was created, so a store into its mapping cannot fail for lack of
	// space.
	fallocated bool
	// writable: mem is mapped read-write, and small writes may be copied
	// into it (writeFragment).
	writable bool
	// zeroTo: the end of the last piece prefill zeroed; it zeroes only
	// pieces at or after it, and only past a write's end (writes are
	// sequential), so zeros never land on data. Used by whichever
	// goroutine writes the fragment, one at a time.
	zeroTo int64
}

// makeWritable remaps f read-write, for writeFragment.
func (f *fragment) makeWritable() error {
	if f.writable || f.file == nil || !f.fallocated {
		return nil
	}
	f.writable = true
	return f.mapFile(int64(len(f.mem)))
}

// copyToMapping copies bufs contiguously into f's writable mapping at off.
// It returns false, maybe having copied a part, when the range is not
// mapped or the copy faulted (the file was truncated underneath the
// mapping); the caller then writes through the descriptor.
func (f *fragment) copyToMapping(bufs [][]byte, off int64, n int) (ok bool) {
	if !f.writable || off < 0 || off+int64(n) > int64(len(f.mem)) || off+int64(n) > f.fileSize {
		return false
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			ok = false
		}
	}()
	dst := f.mem[off : off+int64(n)]
	for _, b := range bufs {
		dst = dst[copy(dst, b):]
	}
	return true
}

// readable returns the mapped bytes [off, off+n) or nil if the file does not
// hold them.
func (f *fragment) readable(off int64, n int) []byte {
	if f.mem == nil || off < 0 || off+int64(n) > int64(len(f.mem)) || off+int64(n) > f.fileSize || off+int64(n) > f.lostFrom {
		return nil
	}
	return f.mem[off : off+int64(n) : off+int64(n)]
}

func (f *fragment) close() error {
	var err error
	if f.mem != nil {
		err = unix.Munmap(f.mem)
		f.mem = nil
	}
	if f.file != nil {
		if cerr := f.file.Close(); err == nil {
			err = cerr
		}
		f.file = nil
	}
	return err
}

// segment is the set of k+m fragment files that hold a run of stripes.
type segment struct {
	baseSeq uint64
	size    int64 // preallocated size of each fragment file
	frags   []fragment

	// Guarded by Log.state: the index, appended by the flusher.
	stripes []stripeEntry
	end     uint64 // position after the last record
	lastTs  int64  // arrival time of the last stripe, ms

	// wbFrom is where the next write-behind window starts (writebehind.go).
	// Owned by the goroutine finishing jobs.
	wbFrom int64

	// writeOff is the offset of the next stripe. Owned by the flusher (and
	// by open/scrub while the flusher is excluded).
	writeOff int64

	// refs counts the log's own reference plus one per reader in flight.
	// The files are unmapped and closed when it drops to zero.
	refs    atomic.Int32
	removed atomic.Bool // delete the files when refs reaches zero
	sealed  atomic.Bool // a newer segment exists and all of this one is published
}

// stripeEntry indexes one stripe of a segment.
type stripeEntry struct {
	off        int64
	firstSeq   uint64
	count      uint32
	payloadLen uint32
	chunkLen   uint32
	ts         int64
	lost       bool // fewer than k chunks were intact when last scanned
}

func (s *segment) setIndex(idx segIndex) {
	s.stripes, s.end, s.writeOff, s.lastTs = idx.stripes, idx.end, idx.writeOff, idx.lastTs
}

func (s *segment) name() string { return fmt.Sprintf("%020d", s.baseSeq) }

// acquire takes a reader's reference. Lock state must be held (read or write)
// so that the segment cannot be released concurrently.
func (s *segment) acquire() { s.refs.Add(1) }

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		for i := range s.frags {
			_ = s.frags[i].close()
			if s.removed.Load() && s.frags[i].path != "" {
				_ = os.Remove(s.frags[i].path)
			}
		}
	}
}

// fragmentPath names fragment j of the segment starting at baseSeq.
func fragmentPath(dirs []string, baseSeq uint64, j int) string {
	return filepath.Join(dirs[j%len(dirs)], fmt.Sprintf("%020d.%02d.frag", baseSeq, j))
}

// parseFragmentName parses "BASESEQ.JJ.frag".
func parseFragmentName(name string) (baseSeq uint64, j int, ok bool) {
	base, rest, found := strings.Cut(name, ".")
	if !found || len(base) != 20 {
		return 0, 0, false
	}
	idx, ext, found := strings.Cut(rest, ".")
	if !found || ext != "frag" || len(idx) != 2 {
		return 0, 0, false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	jj, err := strconv.Atoi(idx)
	if err != nil {
		return 0, 0, false
	}
	return seq, jj, true
}

// listSegments returns the base positions of every segment with at least one
// fragment file in dirs, ascending.
func listSegments(dirs []string) ([]uint64, error) {
	seen := map[uint64]bool{}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("cannot list %q: %w", d, err)
		}
		for _, e := range entries {
			if seq, _, ok := parseFragmentName(e.Name()); ok && e.Type().IsRegular() {
				seen[seq] = true
			}
		}
	}
	out := make([]uint64, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out, nil
}

// openFragment opens and maps an existing fragment file read-write (or
// read-only). A missing file yields a fragment with a nil file.
func openFragment(path string, size int64, readOnly bool) (fragment, error) {
	fr := fragment{path: path, lostFrom: 0}
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fr, nil
		}
		return fr, fmt.Errorf("cannot open fragment %q: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fr, fmt.Errorf("cannot stat fragment %q: %w", path, err)
	}
	fr.file = f
	fr.fileSize = st.Size()
	fr.lostFrom = math.MaxInt64
	if err := fr.mapFile(size); err != nil {
		fr.close()
		return fr, err
	}
	return fr, nil
}

// mapFile maps the first size bytes of the file (or the whole file if it is
// shorter, rounded up to a page).
func (f *fragment) mapFile(size int64) error {
	if f.mem != nil {
		if err := unix.Munmap(f.mem); err != nil {
			return fmt.Errorf("cannot unmap fragment %q: %w", f.path, err)
		}
		f.mem = nil
	}
	n := min(size, f.fileSize)
	if n <= 0 {
		return nil
	}
	prot := unix.PROT_READ
	if f.writable {
		prot |= unix.PROT_WRITE
	}
	mem, err := unix.Mmap(int(f.file.Fd()), 0, int(n), prot, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("cannot mmap fragment %q (%d bytes): %w", f.path, n, err)
	}
	f.mem = mem
	if f.writable {
		// A store into a page not yet in the page cache faults, and a
		// fault on a file mapping reads around it: with the disk's
		// read-ahead (8 MiB on virtio disks) that zero-fills megabytes of
		// the preallocated file per fault, for every fragment of every
		// log. Stores here go to the append point only, and the pages
		// written are cached for the readers that follow: no read-around.
		if err := unix.Madvise(mem, unix.MADV_RANDOM); err != nil {
			return fmt.Errorf("cannot madvise fragment %q: %w", f.path, err)
		}
	}
	return nil
}

// createFragment creates (or re-creates, truncating what is there)
// a preallocated fragment file with its header, and maps it.
func createFragment(path string, h fileHeader) (fragment, error) {
	fr, err := createFile(path, h.size)
	if err != nil {
		return fr, err
	}
	if _, err := fr.file.WriteAt(appendFileHeader(nil, h), 0); err != nil {
		fr.close()
		return fr, fmt.Errorf("cannot write header of fragment %q: %w", path, err)
	}
	return fr, nil
}

// createFile creates (or re-creates, truncating what is there) a fragment
// file preallocated to size bytes, without a header, and maps it.
func createFile(path string, size int64) (fragment, error) {
	fr := fragment{path: path, lostFrom: math.MaxInt64}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fr, fmt.Errorf("cannot create fragment %q: %w", path, err)
	}
	fr.file = f
	if fr.fallocated, err = preallocateReal(f, size); err != nil {
		fr.close()
		return fr, fmt.Errorf("cannot preallocate %d bytes for fragment %q: %w", size, path, err)
	}
	fr.fileSize = size
	if err := fr.mapFile(size); err != nil {
		fr.close()
		return fr, err
	}
	return fr, nil
}

// preallocate reserves size bytes for f, so that a write inside the mapping
// never fails for lack of space, falling back to ftruncate where the file
// system has no fallocate.
func preallocate(f *os.File, size int64) error {
	_, err := preallocateReal(f, size)
	return err
}

// preallocateReal is preallocate that also tells whether fallocate
// reserved the blocks (false after the ftruncate fallback).
func preallocateReal(f *os.File, size int64) (fallocated bool, err error) {
	err = unix.Fallocate(int(f.Fd()), 0, 0, size)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return false, f.Truncate(size)
	}
	return false, err
}

// syncDir fsyncs a directory so that created or removed entries persist.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// safeRead runs fn, turning a fault on a mapped page (SIGBUS after a file
// was truncated underneath its mapping) into an error instead of a crash.
func safeRead(fn func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = fmt.Errorf("segment: fault reading mapped fragment: %v", r)
		}
	}()
	fn()
	return nil
}
