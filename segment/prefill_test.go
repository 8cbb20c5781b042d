package segment

import (
	"bytes"
	"os"
	"testing"
)

// TestSegmentAsyncPrefill: in Async mode a fragment write of 16-64 KiB (a
// group commit of about 100 KiB with 4+2) is preceded by zeros over the
// next 64 KiB-aligned piece after it (fragment.prefill). The zeros never
// cover data: every record reads back, before and after a reopen whose
// recovery finds nothing wrong, and every byte from the write offset to
// the end of each fragment file is zero. The prefill did run: each
// fragment's zeroTo stays a whole piece past the write offset.
func TestSegmentAsyncPrefill(t *testing.T) {
	fakeVmstat(t, 0, 0, 1000) // write-back quiet, whatever the machine is doing
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.FragmentBytes = 4 << 20
	cfg.MaxStripeBytes = 1 << 20
	l := mustOpen(t, cfg)
	var want []Record
	for b := 0; b < 30; b++ {
		// 70-130 records of 900-1100 bytes: write ends anywhere in a piece.
		batch := make([]Record, 70+(b*37)%61)
		for i := range batch {
			batch[i] = rec(len(want)+i, 900+(b*53+i*17)%200)
		}
		if _, err := l.Append(batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
		s := l.cur
		for j := range s.frags {
			fr := &s.frags[j]
			if !fr.writable {
				t.Fatalf("fragment %d of an Async segment is not writable (no fallocate here?)", j)
			}
			if fr.zeroTo%prefillPiece != 0 || fr.zeroTo < s.writeOff+prefillPiece/2 || fr.zeroTo > s.writeOff+prefillPiece+prefillPiece {
				t.Fatalf("batch %d, fragment %d: zeroTo %d, write offset %d: want the next %d KiB piece past it prefilled",
					b, j, fr.zeroTo, s.writeOff, prefillPiece>>10)
			}
		}
	}
	s := l.cur
	for j := range s.frags {
		b, err := os.ReadFile(s.frags[j].path)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.IndexFunc(b[s.writeOff:], func(r rune) bool { return r != 0 }); i >= 0 {
			t.Fatalf("fragment %d: non-zero byte at %d, after the write offset %d", j, s.writeOff+int64(i), s.writeOff)
		}
	}
	checkRecords(t, l, want)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, cfg)
	defer l.Close()
	if rep := l.Recovery(); !rep.OK() {
		t.Fatalf("recovery after a clean close:\n%s", rep.String())
	}
	checkRecords(t, l, want)
}
