package segment

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSegmentDiskCap fills a log up to its disk cap: appends then fail with
// ErrDiskFull and a message that says what to do, nothing acknowledged is
// lost, and retention frees room for appends again.
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
		if _, err := l.Append([]Record{r}); err != nil {
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
