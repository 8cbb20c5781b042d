package segment

import (
	"os"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// diskDir returns a temporary directory on a file system with a page cache
// to drop: t.TempDir, unless that is tmpfs (whose pages cannot be dropped),
// then one beside the package's files.
func diskDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return dir
	}
	dir, err := os.MkdirTemp(".", "writebehind-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// residentPages returns how many of the pages of [0, n) of the file at path
// are in the page cache, and how many pages that is.
func residentPages(t *testing.T, path string, n int64) (resident, pages int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, int(n), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	page := int64(os.Getpagesize())
	vec := make([]byte, (n+page-1)/page)
	// x/sys/unix has no wrapper for mincore(2).
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident++
		}
	}
	return resident, len(vec)
}

// smallWriteBehind shrinks the write-behind sizes until the test ends.
func smallWriteBehind(t *testing.T, window, keep, most int64) {
	t.Helper()
	w, k, m := writeBehindWindow, writeBehindKeep, writeBehindMax
	writeBehindWindow, writeBehindKeep, writeBehindMax = window, keep, most
	t.Cleanup(func() { writeBehindWindow, writeBehindKeep, writeBehindMax = w, k, m })
}

// writeBehindConfig is a log of 1 MiB fragment files whose stripes are
// 16 KiB per fragment.
func writeBehindConfig(t *testing.T, dir string) Config {
	cfg := testConfig(t, dir)
	cfg.FragmentBytes = 1 << 20
	cfg.MaxStripeBytes = 64 << 10
	return cfg
}

// appendMiB appends n MiB of 1 KiB records in batches of 64 and returns
// them.
func appendMiB(t *testing.T, l *Log, n int) []Record {
	t.Helper()
	var want []Record
	for len(want) < n<<10 {
		want = appendRecs(t, l, want, 64, 1000)
	}
	return want
}

// TestSegmentWriteBehind: while the kernel's write-back is busy (a
// stand-in vmstat), what a log wrote more than writeBehindKeep bytes ago
// is written back and dropped from the page cache; while it is quiet, the
// page cache keeps it. Either way every record reads back, from the disk
// where it was dropped, after a reopen that verifies every chunk.
func TestSegmentWriteBehind(t *testing.T) {
	for _, busy := range []bool{true, false} {
		name := map[bool]string{true: "busy", false: "quiet"}[busy]
		t.Run(name, func(t *testing.T) {
			if busy {
				fakeVmstat(t, 500000, 1000, 100000)
			} else {
				fakeVmstat(t, 10, 0, 100000)
			}
			// Windows of 64 KiB per fragment; 3 windows of every
			// fragment stay cached; nothing is forgotten while quiet.
			smallWriteBehind(t, 64<<10, 6*(192<<10), 1<<30)
			dir := diskDir(t)
			l := mustOpen(t, writeBehindConfig(t, dir))
			want := appendMiB(t, l, 12) // 3 MiB per fragment: 3 segments and more
			l.state.RLock()
			nsegs := len(l.segs)
			first := l.segs[0]
			firstEnd := first.writeOff
			l.state.RUnlock()
			if nsegs < 3 || firstEnd < 512<<10 {
				t.Fatalf("%d segments, the first one written to %d: want 3 or more, and 512 KiB", nsegs, firstEnd)
			}
			// Close waits for the write-behind goroutine to finish
			// what it was handed.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			for j := range first.frags {
				path := fragmentPath([]string{dir}, first.baseSeq, j)
				res, pages := residentPages(t, path, 512<<10)
				if busy && res != 0 {
					t.Errorf("busy: fragment %d of the first segment: %d of its first %d pages cached, want all dropped", j, res, pages)
				}
				if !busy && res < pages/2 {
					t.Errorf("quiet: fragment %d of the first segment: %d of its first %d pages cached, want them kept", j, res, pages)
				}
			}
			l = mustOpen(t, writeBehindConfig(t, dir))
			defer l.Close()
			if rep := l.Recovery(); !rep.OK() || len(rep.Problems) > 0 {
				t.Fatalf("recovery after the write-behind: %s", rep.String())
			}
			checkRecords(t, l, want)
		})
	}
}

// TestSegmentWriteBehindRetention: a window handed to the write-behind
// goroutine keeps its segment's files open, so a segment deleted by
// retention meanwhile keeps its files until the window is done; Close
// lets go of every window, and the deleted segments' files are gone.
func TestSegmentWriteBehindRetention(t *testing.T) {
	fakeVmstat(t, 10, 0, 100000) // quiet: windows stay queued
	smallWriteBehind(t, 64<<10, 6*(192<<10), 1<<30)
	dir := diskDir(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).UnixNano())
	cfg := writeBehindConfig(t, dir)
	cfg.Now = func() time.Time { return time.Unix(0, now.Load()) }
	cfg.Retention = time.Hour
	l := mustOpen(t, cfg)
	appendMiB(t, l, 12)
	segBases := func() map[uint64]bool {
		l.state.RLock()
		defer l.state.RUnlock()
		m := map[uint64]bool{}
		for _, s := range l.segs {
			m[s.baseSeq] = true
		}
		return m
	}
	old := segBases()
	now.Add(int64(2 * time.Hour))
	want := appendMiB(t, l, 2) // new segments; a roll applies retention too
	if _, err := l.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	live := segBases()
	var deleted []uint64
	for b := range old {
		if !live[b] {
			deleted = append(deleted, b)
		}
	}
	if len(deleted) < 2 {
		t.Fatalf("retention deleted %d of the %d old segments, want 2 or more", len(deleted), len(old))
	}
	for _, b := range deleted {
		if _, err := os.Stat(fragmentPath([]string{dir}, b, 0)); err != nil {
			t.Fatalf("segment %d, deleted while windows of it are queued: %v", b, err)
		}
	}
	first, _ := l.Bounds()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, b := range deleted {
		for j := range 6 {
			if _, err := os.Stat(fragmentPath([]string{dir}, b, j)); !os.IsNotExist(err) {
				t.Fatalf("segment %d fragment %d after Close: %v, want it removed", b, j, err)
			}
		}
	}
	l = mustOpen(t, cfg)
	defer l.Close()
	got := readAll(t, l, first)
	if len(got) < len(want) {
		t.Fatalf("read %d records after the deleted segments, want at least the last %d", len(got), len(want))
	}
}
