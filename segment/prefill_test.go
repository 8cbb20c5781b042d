package segment

import (
	"bytes"
	"os"
	"testing"
)

// TestSegmentAsyncPrefill: in Async mode a fragment write of 16-64 KiB (a
// group commit of about 64-256 KiB with 4+2) is preceded by zeros over the
// next piece after it (fragment.prefill): 128 KiB-aligned pieces for writes
// under 48 KiB, 64 KiB ones above. The zeros never cover data: every record
// reads back, before and after a reopen whose recovery finds nothing
// wrong, and every byte from the write offset to the end of each fragment
// file is zero. The prefill did run: each fragment's zeroTo stays a whole
// piece past the write offset.
func TestSegmentAsyncPrefill(t *testing.T) {
	fakeVmstat(t, 0, 0, 1000) // write-back quiet, whatever the machine is doing
	for _, c := range []struct {
		name                string
		records, recordSpan int // records per batch: records + [0, recordSpan)
		size, sizeSpan      int // record data bytes: size + [0, sizeSpan)
		piece               int64
	}{
		{"writes of 16-48 KiB", 70, 61, 900, 200, prefillBigPiece}, // 16-36 KiB per fragment
		{"writes of 48-64 KiB", 210, 25, 1000, 50, prefillPiece},   // 52-62 KiB per fragment
	} {
		t.Run(c.name, func(t *testing.T) {
			testAsyncPrefill(t, c.records, c.recordSpan, c.size, c.sizeSpan, c.piece)
		})
	}
}

func testAsyncPrefill(t *testing.T, records, recordSpan, size, sizeSpan int, piece int64) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.FragmentBytes = 4 << 20
	cfg.MaxStripeBytes = 1 << 20
	l := mustOpen(t, cfg)
	var want []Record
	for b := 0; b < 30; b++ {
		// Batch and record sizes vary: writes end anywhere in a piece.
		batch := make([]Record, records+(b*37)%recordSpan)
		for i := range batch {
			batch[i] = rec(len(want)+i, size+(b*53+i*17)%sizeSpan)
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
			if fr.zeroTo%piece != 0 || fr.zeroTo < s.writeOff+piece/2 || fr.zeroTo > s.writeOff+piece+piece {
				t.Fatalf("batch %d, fragment %d: zeroTo %d, write offset %d: want the next %d KiB piece past it prefilled",
					b, j, fr.zeroTo, s.writeOff, piece>>10)
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
	checkCloseReopen(t, l, cfg, want)
}
