package segment

import (
	"os"
	"testing"
)

// TestSegmentOpenBlankNewSegment: a process killed after it created a new
// log's first segment files and before it wrote their headers leaves
// fragment files of zeros and no header anywhere. Open must treat that as
// an empty log (nothing in it was ever acknowledged), not refuse it.
func TestSegmentOpenBlankNewSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dirs: []string{dir}, FragmentBytes: 4 << 20, Logger: quietLogger}
	for j := 0; j < 6; j++ {
		f, err := os.Create(fragmentPath(cfg.Dirs, 0, j))
		if err != nil {
			t.Fatal(err)
		}
		if j%2 == 0 {
			if err := f.Truncate(4 << 20); err != nil { // preallocated, zeros
				t.Fatal(err)
			}
		}
		f.Close()
	}
	l, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open of a log whose only segment was never written: %v", err)
	}
	if first, next := l.Bounds(); first != 0 || next != 0 {
		t.Fatalf("bounds %d, %d; want an empty log", first, next)
	}
	if _, err := l.Append([]Record{{PartitionKey: []byte("k"), Data: []byte("after the crash")}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, next := l.Bounds(); next != 1 {
		t.Fatalf("next %d after one append and a reopen, want 1", next)
	}
}

// TestSegmentOpenHeaderlessWritten: fragment files without a valid header
// that hold bytes are damage, not a crash during creation: Open refuses
// them rather than guess the geometry.
func TestSegmentOpenHeaderlessWritten(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dirs: []string{dir}, FragmentBytes: 4 << 20, Logger: quietLogger}
	for j := 0; j < 6; j++ {
		if err := os.WriteFile(fragmentPath(cfg.Dirs, 0, j), []byte("not a header, but bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := Open(cfg); err == nil {
		l.Close()
		t.Fatal("Open accepted headerless fragment files that hold bytes")
	}
}
