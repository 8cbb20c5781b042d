package segload

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/segment"
)

// TestBenchSegloadSmoke runs every load briefly and checks that the counts
// add up: what was appended is what is read back, healthy or rebuilt.
func TestBenchSegloadSmoke(t *testing.T) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	res, err := RunAppend(AppendConfig{Dir: logDir, Durability: segment.Fsync, RecordBytes: 100, Writers: 2,
		MaxRecords: 1000, MaxDuration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 1000 || res.Appends != 10 || len(res.Latencies) != 10 || res.DataBytes != 100_000 {
		t.Fatalf("append result: %d records, %d appends, %d latencies, %d bytes", res.Records, res.Appends, len(res.Latencies), res.DataBytes)
	}
	if res.FlushBytes() <= 0 || res.Stats.PayloadBytes < 100_000 {
		t.Fatalf("stats: %+v", res.Stats)
	}

	w, err := RunBaselineWrite(WriteConfig{Dir: filepath.Join(dir, "base"), TotalBytes: int64(res.Stats.PayloadBytes),
		ChunkBytes: res.FlushBytes(), Fdatasync: true, MaxDuration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if w.Bytes != int64(res.Stats.PayloadBytes) || w.Fraction(int64(res.Stats.PayloadBytes)) != 1 || int(w.Writes) != len(w.Latencies) {
		t.Fatalf("baseline write: %+v", w)
	}

	// Side by side: 6 files, one chunk to each in turn, TotalBytes in all.
	six, err := RunBaselineWrite(WriteConfig{Dir: filepath.Join(dir, "six"), TotalBytes: 6*3*1000 + 500,
		ChunkBytes: 1000, Files: 6, MaxDuration: 5 * time.Second})
	if err != nil || six.Bytes != 6*3*1000+500 || six.Writes != 19 {
		t.Fatalf("6 files: %+v, %v", six, err)
	}
	for i := range 6 {
		st, err := os.Stat(filepath.Join(dir, "six", fmt.Sprintf("baseline.%02d.dat", i)))
		want := int64(3000)
		if i == 0 {
			want = 3500
		}
		if err != nil || st.Size() != want {
			t.Fatalf("file %d of 6: %v, %v; want %d bytes", i, st, err, want)
		}
	}

	// Deadline bound: a zero-length window appends nothing and fails nothing.
	short, err := RunAppend(AppendConfig{Dir: filepath.Join(dir, "short"), Durability: segment.Async, RecordBytes: 10,
		MaxRecords: 1 << 40, MaxDuration: time.Nanosecond})
	if err != nil || short.Records > 100 {
		t.Fatalf("deadline not honoured: %d records, %v", short.Records, err)
	}

	info, err := BuildLog(filepath.Join(dir, "read"), 1024, 2<<20, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	healthy, err := ReadLog(filepath.Join(dir, "read"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if healthy.Records != info.Records || healthy.DataBytes != info.DataBytes {
		t.Fatalf("read %d records %d bytes, built %+v", healthy.Records, healthy.DataBytes, info)
	}
	n, err := DropFragments(filepath.Join(dir, "read"), 0, 1)
	if err != nil || n != 2*info.Segments {
		t.Fatalf("DropFragments = %d, %v (segments %d)", n, err, info.Segments)
	}
	rebuilt, err := ReadLog(filepath.Join(dir, "read"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt.Records != info.Records || rebuilt.DataBytes != info.DataBytes {
		t.Fatalf("rebuilt read %d records %d bytes, built %+v", rebuilt.Records, rebuilt.DataBytes, info)
	}

	plain := filepath.Join(dir, "plain.dat")
	if err := WritePlainFile(plain, info.PayloadBytes); err != nil {
		t.Fatal(err)
	}
	pr, err := ReadPlainFile(plain, 1<<20, 10*time.Second)
	if err != nil || pr.DataBytes != info.PayloadBytes {
		t.Fatalf("plain read %d of %d bytes: %v", pr.DataBytes, info.PayloadBytes, err)
	}
	if err := Settle(dir); err != nil {
		t.Fatal(err)
	}
}
