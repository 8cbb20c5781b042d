package segment

import (
	"os"

	"golang.org/x/sys/unix"
)

// Write-behind. A log that writes faster than the kernel writes back
// fills the page cache with pages of fragments that nobody reads again
// (readers tail the newest records; parity is read only to rebuild), and
// every new page of its writes then has to be reclaimed from them or, in a
// virtual machine whose guest hands free memory back to the host, faulted
// back in. Measured here, a plain 6-file writer of 12 GiB went at 0.9-1.3
// GB/s through the page cache in one memory state of this VM and 2.4 GB/s
// in another, and at 1.8-2.0 GB/s in both when it had the pages it wrote
// written back and dropped (bench/RESULTS.md): steadier, and faster where
// the page cache is slow, which is also why it runs only while the
// write-back is busy.
//
// So each log hands every writeBehindWindow bytes of its fragment files
// (and the rest of a segment when it is sealed) to a goroutine of its own,
// wbLoop, which never holds the writer up: the hand-off does not block
// (a window that does not fit in the channel is left to the kernel). While
// the kernel's write-back runs (writebackBusy, the gate of the prefill),
// wbLoop starts each window's write-back as it arrives (sync_file_range
// SYNC_FILE_RANGE_WRITE) and, once more than writeBehindKeep bytes are
// queued, waits for the oldest window's write-back and drops it from the
// page cache (POSIX_FADV_DONTNEED; pages a reader has mapped stay). While
// the write-back is quiet (bursts) it does neither: the page cache keeps
// everything, as before, and windows beyond writeBehindMax are forgotten.
// Nothing here changes a byte of a file, and the errors of sync_file_range
// are the kernel's write-back errors, which Fsync mode's syncs report and
// Async mode does not promise to: they are ignored.

// Sizes of write-behind, variables for tests.
var (
	writeBehindWindow int64 = 4 << 20    // bytes of each fragment file handed over at once
	writeBehindKeep   int64 = 256 << 20  // bytes (all fragments) written back but left cached
	writeBehindMax    int64 = 2048 << 20 // bytes (all fragments) queued at most while quiet
)

// wbWindow is [off, off+n) of every fragment file of seg, which it holds a
// reference to, so that the files stay open. files are seg's files when the
// window was queued: wbLoop reads nothing of seg.frags, which Scrub may
// rewrite (re-creating a missing file); a nil (missing) file is skipped.
type wbWindow struct {
	seg    *segment
	files  []*os.File
	off, n int64
}

// queueWriteBehind hands the windows that w's stripes completed to wbLoop.
// Called by the goroutine finishing jobs (one at a time, see flushInline),
// which owns seg.wbFrom.
func (l *Log) queueWriteBehind(w *segWrite) {
	if l.wbQ == nil || len(w.entries) == 0 {
		return
	}
	seg := w.seg
	last := w.entries[len(w.entries)-1]
	end := last.off + int64(stripeHeaderSize(l.n)) + int64(last.chunkLen)
	for {
		n := min(end-seg.wbFrom, writeBehindWindow)
		if n <= 0 || n < writeBehindWindow && !w.sealed {
			return
		}
		win := wbWindow{seg: seg, files: make([]*os.File, len(seg.frags)), off: seg.wbFrom, n: n}
		for f := range seg.frags {
			win.files[f] = seg.frags[f].file
		}
		seg.wbFrom += n
		l.state.RLock()
		seg.acquire()
		l.state.RUnlock()
		select {
		case l.wbQ <- win:
		default:
			seg.release()
		}
	}
}

// startWriteBehind starts wbLoop (not for read-only logs).
func (l *Log) startWriteBehind() {
	l.wbQ = make(chan wbWindow, 64) // 1.5 GiB of windows with 4+2; a window that finds it full is left to the kernel
	l.wbDone = make(chan struct{})
	go l.wbLoop()
}

// stopWriteBehind stops wbLoop once the writer is done (Close), leaving
// what it queued to the kernel.
func (l *Log) stopWriteBehind() {
	if l.wbQ != nil {
		close(l.wbQ)
		<-l.wbDone
	}
}

// wbLoop queues the windows it is handed, oldest first, starts their
// write-back and drops them as described above, until wbQ is closed.
func (l *Log) wbLoop() {
	defer close(l.wbDone)
	var q []wbWindow
	var bytes int64
	pop := func(drop bool) {
		win := q[0]
		q = q[1:]
		bytes -= win.n * int64(len(win.files))
		if drop {
			for _, f := range win.files {
				syncRange(f, win.off, win.n,
					unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER, true)
			}
		}
		win.seg.release()
	}
	for win := range l.wbQ {
		busy := writebackBusy()
		if busy {
			for _, f := range win.files {
				syncRange(f, win.off, win.n, unix.SYNC_FILE_RANGE_WRITE, false)
			}
		}
		q = append(q, win)
		bytes += win.n * int64(len(win.files))
		for busy && bytes > writeBehindKeep {
			pop(true)
		}
		for bytes > writeBehindMax {
			pop(false)
		}
	}
	for len(q) > 0 {
		pop(false)
	}
}

// syncRange calls sync_file_range on [off, off+n) of f with flags and then,
// if drop, drops the range from the page cache. A closed or missing (nil)
// file is skipped: the descriptor is held through the calls
// (RawConn.Control), so it cannot be closed and reused under them.
func syncRange(f *os.File, off, n int64, flags int, drop bool) {
	if f == nil {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, flags)
		if drop {
			_ = unix.Fadvise(int(fd), off, n, unix.FADV_DONTNEED)
		}
	})
}
