package segment

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fakeVmstat points the write-back gate at a file with the given counters
// (in pages) until the test ends.
func fakeVmstat(t *testing.T, dirty, writeback, bgThreshold int64) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vmstat")
	text := fmt.Sprintf("nr_free_pages 5368411\nnr_dirty %d\nnr_writeback %d\nnr_writeback_temp 0\n"+
		"nr_dirty_threshold 1155071\nnr_dirty_background_threshold %d\npgpgin 7\n", dirty, writeback, bgThreshold)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	old := vmstatPath
	vmstatPath = p
	writebackChecked.Store(0)
	t.Cleanup(func() {
		vmstatPath = old
		writebackChecked.Store(0)
	})
}

func TestSegmentVmstatBusy(t *testing.T) {
	for _, c := range []struct {
		text string
		busy bool
	}{
		{"nr_dirty 100\nnr_writeback 0\nnr_dirty_background_threshold 1000\n", false},
		{"nr_dirty 600\nnr_writeback 400\nnr_dirty_background_threshold 1000\n", true},
		{"nr_dirty 2000\nnr_writeback 0\nnr_dirty_background_threshold 1000", true},  // no final newline
		{"nr_writeback 1\nnr_dirty_background_threshold 1000\nnr_dirty 999\n", true}, // any order
		{"nr_dirty 2000\nnr_writeback 0\n", false},                                   // no threshold
		{"nr_dirty 2000\nnr_dirty 1\nnr_dirty_background_threshold 1000\n", false},   // no nr_writeback
		{"nr_dirty x\nnr_writeback 0\nnr_dirty_background_threshold 1000\n", false},
		{"nr_dirty -5\nnr_writeback 0\nnr_dirty_background_threshold 1\n", false},
		{"nr_dirty 5\nnr_writeback 0\nnr_dirty_background_threshold 0\n", false},
		{"", false},
	} {
		if got := vmstatBusy([]byte(c.text)); got != c.busy {
			t.Errorf("vmstatBusy(%q) = %v, want %v", c.text, got, c.busy)
		}
	}
}

func FuzzVmstatBusy(f *testing.F) {
	f.Add([]byte("nr_dirty 600\nnr_writeback 400\nnr_dirty_background_threshold 1000\n"))
	f.Add([]byte("nr_dirty 1\nnr_writeback 0\nnr_dirty_background_threshold 1000"))
	f.Add([]byte("nr_dirty 281474976710656\nnr_writeback 281474976710656\nnr_dirty_background_threshold 1\n"))
	f.Add([]byte("nr_dirty  5\n\n\nnr_writeback\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if vmstatBusy(b) {
			for _, name := range []string{"nr_dirty ", "nr_writeback ", "nr_dirty_background_threshold "} {
				if !bytes.Contains(b, []byte(name)) {
					t.Fatalf("busy without %q in %q", name, b)
				}
			}
		}
	})
}

// TestSegmentPrefillPausedByWriteback: while the kernel's write-back runs
// (dirty + write-back pages at or past the background threshold, here from
// a stand-in for /proc/vmstat), Async writes of 16-64 KiB are not preceded
// by zeros; once it is quiet again they are. Every record reads back.
func TestSegmentPrefillPausedByWriteback(t *testing.T) {
	fakeVmstat(t, 900, 200, 1000)
	cfg := testConfig(t)
	cfg.FragmentBytes = 4 << 20
	cfg.MaxStripeBytes = 1 << 20
	l := mustOpen(t, cfg)
	defer l.Close()
	var want []Record
	for range 10 {
		want = appendRecs(t, l, want, 100, 1000)
	}
	for j, fr := range l.cur.frags {
		if !fr.writable {
			t.Fatalf("fragment %d of an Async segment is not writable (no fallocate here?)", j)
		}
		if fr.zeroTo != 0 {
			t.Fatalf("fragment %d prefilled up to %d while write-back was busy", j, fr.zeroTo)
		}
	}
	fakeVmstat(t, 100, 0, 1000)
	want = appendRecs(t, l, want, 100, 1000)
	for j, fr := range l.cur.frags {
		if fr.zeroTo <= l.cur.writeOff {
			t.Fatalf("fragment %d: zeroTo %d, write offset %d: no prefill once write-back was quiet", j, fr.zeroTo, l.cur.writeOff)
		}
	}
	checkRecords(t, l, want)
}
