package segment

import (
	"bytes"
	"os"
	"testing"
)

// TestSegmentGrowingSegments: with InitialFragmentBytes a log's first
// segment is small and each later one doubles up to FragmentBytes; a
// stripe larger than the next size gets a segment that fits it; the sizes
// survive reopening, and losing 2 fragment files of a small segment and
// truncating one of a larger one loses nothing (the file headers carry
// each segment's size).
func TestSegmentGrowingSegments(t *testing.T) {
	cfg := testConfig(t)
	cfg.FragmentBytes = 256 << 10
	cfg.InitialFragmentBytes = 16 << 10
	l := mustOpen(t, cfg)
	var want []Record
	for i := range 2000 {
		r := rec(i, 900)
		if _, err := l.Append([]Record{r}); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	segs := l.Segments()
	if len(segs) < 5 {
		t.Fatalf("%d segments, want at least 5 to see the growth", len(segs))
	}
	for i, s := range segs {
		wantSize := min(int64(16<<10)<<i, 256<<10)
		if s.SizeBytes != wantSize {
			t.Fatalf("segment %d (%s): %d bytes, want %d", i, s.Name, s.SizeBytes, wantSize)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// A fresh log whose first record is larger than the initial size.
	cfg2 := testConfig(t)
	cfg2.FragmentBytes = 256 << 10
	cfg2.InitialFragmentBytes = 16 << 10
	cfg2.MaxRecordBytes = 128 << 10
	big := mustOpen(t, cfg2)
	large := rec(1, 100<<10) // 25 KiB chunks: more than a 16 KiB fragment holds
	if _, err := big.Append([]Record{large}); err != nil {
		t.Fatalf("Append of a record larger than the first segment: %v", err)
	}
	if s := big.Segments(); len(s) != 1 || s[0].SizeBytes <= 25<<10 || s[0].SizeBytes > 32<<10 {
		t.Fatalf("segments for a 100 KiB first record: %+v, want one of 25-32 KiB per fragment", s)
	}
	if got := readAll(t, big, 0); len(got) != 1 || !bytes.Equal(got[0].Data, large.Data) {
		t.Fatalf("large record read back wrong")
	}
	if err := big.Close(); err != nil {
		t.Fatal(err)
	}

	// Damage: 2 fragments of the first (16 KiB) segment gone, one
	// fragment of the third (64 KiB) segment cut in half.
	for _, j := range []int{0, 4} {
		if err := os.Remove(fragmentPath(cfg.Dirs, segs[0].FirstSeq, j)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(fragmentPath(cfg.Dirs, segs[2].FirstSeq, 1), segs[2].SizeBytes/2); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, cfg)
	defer l.Close()
	for i, s := range l.Segments() {
		if s.SizeBytes != segs[i].SizeBytes {
			t.Fatalf("after reopening, segment %d is %d bytes, was %d", i, s.SizeBytes, segs[i].SizeBytes)
		}
	}
	got := readAll(t, l, 0)
	if len(got) != len(want) {
		t.Fatalf("read %d records after reopening, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i].Data) || !bytes.Equal(got[i].PartitionKey, want[i].PartitionKey) {
			t.Fatalf("record %d differs after reopening", i)
		}
	}
	// Appends go on into a segment of the next size.
	if _, err := l.Append([]Record{rec(9999, 100)}); err != nil {
		t.Fatal(err)
	}
}
