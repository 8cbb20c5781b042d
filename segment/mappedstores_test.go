package segment

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestSegmentLargeWritesStoreNothingInMapping: in Async mode a group
// commit large enough to be written from two goroutines (fragTasks) puts
// its chunks and, afterwards, its real stripe headers through the
// descriptor, so the writer faults no page of the fragments' writable
// mappings in: a page stored into through a shared writable mapping costs
// the kernel's write-back a write-protection of its entry and a TLB
// shootdown (an inter-processor interrupt, which a virtual machine pays
// dearly for) every time it is cleaned, and a page per stripe of headers
// made that cost a quarter of the machine's CPU under the TCP load
// (bench/RESULTS.md). A commit of a record or two still goes into the
// mapping (maxMappedWrite), and the test sees that page, so the check can
// see a store; every record reads back, before and after a reopen.
func TestSegmentLargeWritesStoreNothingInMapping(t *testing.T) {
	fakeVmstat(t, 0, 0, 1000) // write-back quiet: the prefill runs
	cfg := testConfig(t)
	cfg.FragmentBytes = 8 << 20
	cfg.MaxStripeBytes = 1 << 20
	l := mustOpen(t, cfg)
	var want []Record
	for range 20 {
		// 160 records of 1 KiB: a stripe of 160 KiB, 40 KiB per fragment.
		want = appendRecs(t, l, want, 160, 1<<10)
	}
	s := l.cur
	if s.writeOff == 0 {
		t.Fatal("nothing written")
	}
	if l.parallelWrites.Load() == 0 {
		t.Fatal("no commit took the two-goroutine path; the test no longer covers it")
	}
	for j := range s.frags {
		if !s.frags[j].writable {
			t.Fatalf("fragment %d of an Async segment is not writable (no fallocate here?)", j)
		}
		if rss := mappedRSS(t, s.frags[j].mem); rss != 0 {
			t.Errorf("fragment %d: %d KiB of its mapping faulted in after large commits only; want none", j, rss)
		}
	}
	// A small commit is stored through the mapping: its page shows.
	want = appendRecs(t, l, want, 1, 16)
	if rss := mappedRSS(t, s.frags[0].mem); rss == 0 {
		t.Error("a commit of one 16-byte record left no page of fragment 0's mapping faulted in; the check cannot see stores")
	}
	checkCloseReopen(t, l, cfg, want)
}

// mappedRSS returns the resident KiB (pages present in this process's page
// tables) of the mapping that holds mem, from /proc/self/smaps.
func mappedRSS(t *testing.T, mem []byte) int {
	t.Helper()
	if len(mem) == 0 {
		t.Fatal("fragment not mapped")
	}
	addr := uint64(uintptr(unsafe.Pointer(&mem[0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && !strings.HasSuffix(fields[0], ":") { // a mapping's line: "lo-hi perms ..."
			lo, hi, ok := strings.Cut(fields[0], "-")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = ok && err1 == nil && err2 == nil && a <= addr && addr < b
			continue
		}
		if in && len(fields) >= 2 && fields[0] == "Rss:" {
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			return n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping at %#x in /proc/self/smaps", addr)
	return 0
}
