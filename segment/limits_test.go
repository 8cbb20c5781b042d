package segment

import (
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSegmentDiskCap fills a log up to its disk cap: appends then fail with
// ErrDiskFull and a message that says what to do, nothing acknowledged is
// lost, and retention frees room for appends again. The files in the log's
// directory never hold more than the cap, spare segment included (it takes
// the room kept for the next segment), and with no room left there is none.
func TestSegmentDiskCap(t *testing.T) {
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	cfg := testConfig(t)
	cfg.Now = clock.Now
	cfg.Retention = time.Hour
	cfg.MaxDiskBytes = 3 * 6 * cfg.FragmentBytes // three 4+2 segments
	l := mustOpen(t, cfg)
	defer l.Close()
	var acked []Record
	var full error
	for i := 0; i < 10000 && full == nil; i++ {
		r := rec(i, 1000)
		_, err := l.Append([]Record{r})
		waitSpare(l)
		if used := dirBytes(t, cfg.Dirs[0]); used > cfg.MaxDiskBytes {
			t.Fatalf("after %d appends the log's files hold %d bytes, past the cap of %d", i+1, used, cfg.MaxDiskBytes)
		}
		if err != nil {
			full = err
			break
		}
		acked = append(acked, r)
	}
	if !errors.Is(full, ErrDiskFull) {
		t.Fatalf("appends past the cap: %v, want ErrDiskFull", full)
	}
	if !strings.Contains(full.Error(), "raise the cap or shorten retention") {
		t.Fatalf("error %q does not say what to do", full)
	}
	if st := l.Stats(); st.DiskBytes > cfg.MaxDiskBytes {
		t.Fatalf("disk use %d passed the cap %d", st.DiskBytes, cfg.MaxDiskBytes)
	}
	if waitSpare(l) {
		t.Fatal("a spare was prepared with no room left under the cap")
	}
	// Refused at once while full.
	if _, err := l.Append([]Record{rec(1, 10)}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("second append: %v", err)
	}
	checkRecords(t, l, acked)
	// Two hours later the old segments are past retention.
	clock.advance(2 * time.Hour)
	if _, err := l.Append([]Record{rec(1, 10)}); err != nil {
		t.Fatalf("append after retention could free room: %v", err)
	}
	first, _ := l.Bounds()
	if first == 0 {
		t.Fatal("retention did not delete old segments")
	}
}

// TestSegmentStickyWriteError: after a failed write no append is
// acknowledged until the log is reopened, and what was acknowledged before
// survives the reopen.
func TestSegmentStickyWriteError(t *testing.T) {
	cfg := testConfig(t)
	cfg.Durability = Fsync
	l := mustOpen(t, cfg)
	var acked []Record
	for i := 0; i < 20; i++ {
		r := rec(i, 100)
		if _, err := l.Append([]Record{r}); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, r)
	}
	// A write error cannot be provoked through the file system without
	// root tricks; closing the descriptor under the flusher makes the next
	// pwritev fail with EBADF, which is what a dying disk looks like here.
	l.state.RLock()
	seg := l.segs[len(l.segs)-1]
	l.state.RUnlock()
	seg.frags[1].file.Close()
	if _, err := l.Append([]Record{rec(100, 100)}); err == nil {
		t.Fatal("append after a write error was acknowledged")
	}
	if _, err := l.Append([]Record{rec(101, 100)}); err == nil || !strings.Contains(err.Error(), "cannot write") {
		t.Fatalf("the write error is not sticky: %v", err)
	}
	seg.frags[1].file = nil // closed above
	l.Close()
	l = mustOpen(t, cfg)
	defer l.Close()
	got := readAll(t, l, 0)
	if len(got) < len(acked) {
		t.Fatalf("reopen kept %d records, %d were acknowledged", len(got), len(acked))
	}
	checkRecords(t, l, append(acked, got[len(acked):]...))
}

// TestSegmentRetentionInBackground: an idle log drops segments past
// retention on its own, never the newest.
func TestSegmentRetentionInBackground(t *testing.T) {
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	cfg := testConfig(t)
	cfg.Now = clock.Now
	cfg.Retention = time.Hour
	cfg.RetentionInterval = 5 * time.Millisecond
	l := mustOpen(t, cfg)
	defer l.Close()
	for i := 0; i < 1000; i++ {
		if _, err := l.Append([]Record{rec(i, 1000)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(l.Segments()); n < 3 {
		t.Fatalf("want several segments, have %d", n)
	}
	clock.advance(2 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Segments()) > 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(l.Segments()); n != 1 {
		t.Fatalf("%d segments left after retention passed, want only the newest", n)
	}
	first, end := l.Bounds()
	if end != 1000 || first == 0 {
		t.Fatalf("bounds [%d, %d) after retention", first, end)
	}
}

// TestSegmentOverlappedSyncs: in Fsync mode two group commits sync at once,
// and the acknowledgements stay in order: a batch whose own sync succeeded
// is not acknowledged when the sync of a batch before it failed, and a
// failed sync after a good one fails only the later batch. A sync error
// cannot be had from a real file system on demand, so syncfs is replaced.
func TestSegmentOverlappedSyncs(t *testing.T) {
	eio := syscall.EIO
	for _, c := range []struct {
		name          string
		first, second error // results of the first and second sync
		wantA, wantB  bool  // acknowledged
	}{
		{"first fails", eio, nil, false, false},
		{"second fails", nil, eio, true, false},
		{"both succeed", nil, nil, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Durability = Fsync
			l := mustOpen(t, cfg)
			defer l.Close()
			if _, err := l.Append([]Record{rec(0, 100)}); err != nil { // creates the first segment
				t.Fatal(err)
			}
			entered, release := make(chan int, 2), make(chan struct{})
			var calls atomic.Int32
			syncfs = func(fd int) error {
				switch calls.Add(1) {
				case 1:
					entered <- 1
					<-release
					return c.first
				case 2:
					entered <- 2
					return c.second
				}
				return unix.Syncfs(fd)
			}
			defer func() { syncfs = unix.Syncfs }()
			timeout := func(what string) {
				t.Helper()
				select {
				case <-entered:
				case <-time.After(10 * time.Second):
					t.Fatalf("timed out waiting for %s", what)
				}
			}
			a := l.AppendStart([]Record{rec(1, 100)})
			timeout("the first sync")
			b := l.AppendStart([]Record{rec(2, 100)})
			timeout("the second sync while the first one is in flight: the syncs do not overlap")
			bDone := make(chan error, 1)
			go func() { _, _, err := b.Wait(); bDone <- err }()
			select {
			case err := <-bDone:
				t.Fatalf("the second batch was answered (%v) before the first one's sync ended", err)
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			_, _, errA := a.Wait()
			errB := <-bDone
			if (errA == nil) != c.wantA || (errB == nil) != c.wantB {
				t.Fatalf("first batch: %v, second batch: %v; want acknowledged %v, %v", errA, errB, c.wantA, c.wantB)
			}
			for _, err := range []error{errA, errB} {
				if err != nil && !errors.Is(err, eio) {
					t.Fatalf("error %v does not wrap the sync's", err)
				}
			}
			if _, err := l.Append([]Record{rec(3, 100)}); (err == nil) != (c.wantA && c.wantB) {
				t.Fatalf("append after the two: %v (a failed sync must be sticky)", err)
			}
		})
	}
}
