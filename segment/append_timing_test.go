package segment

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Storage-engine benchmarks and their plain-file baselines. One op is one
// Append of benchAppendBatch records (one PutRecords call), so sluice and
// baseline MB/s compare directly:
//
//	go test ./segment -run '^$' -bench 'SegmentAppend|BaselineWrite' -count 6 | benchstat -
//
// bench/cmd/sluice-bench runs the same loads with pairwise ratios and
// writes bench/RESULTS.md.

const (
	benchAppendBatch = 100 // records per Append call
	benchKeyBytes    = 16  // partition key bytes of every record
	benchReadData    = 32 << 20
	// benchBaselineWrap bounds the baseline file: past it, writes start over
	// at offset 0, so a long -benchtime does not fill the disk.
	benchBaselineWrap = 1 << 30
)

type benchAppendCase struct {
	durability Durability
	size       int
	writers    int
}

func (c benchAppendCase) name() string {
	return fmt.Sprintf("durability=%s/size=%s/writers=%d", c.durability, sizeName(c.size), c.writers)
}

func benchAppendCases() []benchAppendCase {
	var out []benchAppendCase
	for _, d := range []Durability{Async, Fsync} {
		for _, size := range []int{100, 1 << 10} {
			for _, w := range []int{1, 8} {
				out = append(out, benchAppendCase{d, size, w})
			}
		}
	}
	return out
}

// benchRecords returns n records of size data bytes, from a fixed seed.
func benchRecords(n, size int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	recs := make([]Record, n)
	for i := range recs {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		key := fmt.Appendf(nil, "pk-%013x", rng.Uint64()>>12)
		recs[i] = Record{PartitionKey: key[:benchKeyBytes], Data: data}
	}
	return recs
}

// benchAppendLoad appends ops batches with c.writers goroutines to l and
// returns the latency of every Append.
func benchAppendLoad(tb testing.TB, l *Log, c benchAppendCase, ops int64, batches [][]Record) []time.Duration {
	var next atomic.Int64
	lats := make([][]time.Duration, c.writers)
	var wg sync.WaitGroup
	for w := 0; w < c.writers; w++ {
		wg.Go(func() {
			for next.Add(1) <= ops {
				t0 := time.Now()
				if _, err := l.Append(batches[w]); err != nil {
					tb.Error(err)
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	return slices.Concat(lats...)
}

// benchPercentile returns the p-th percentile (nearest rank) of sorted ds.
func benchPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// benchOpenAppend opens a new log in dir and makes each writer's batch.
func benchOpenAppend(b *testing.B, dir string, c benchAppendCase) (*Log, [][]Record) {
	l, err := Open(Config{Dirs: []string{dir}, Durability: c.durability, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	batches := make([][]Record, c.writers)
	for w := range batches {
		batches[w] = benchRecords(benchAppendBatch, c.size, uint64(w))
	}
	return l, batches
}

// BenchmarkSegmentAppend measures Append of 100-record batches with
// geometry 4+2 and default settings. Reported: MB/s of record data,
// records/s, p50/p99 Append latency and the average group commit size.
func BenchmarkSegmentAppend(b *testing.B) {
	for _, c := range benchAppendCases() {
		b.Run(c.name(), func(b *testing.B) {
			l, batches := benchOpenAppend(b, b.TempDir(), c)
			defer l.Close()
			// Warm up: the first append creates the first segment.
			benchAppendLoad(b, l, c, int64(c.writers), batches)
			before := l.Stats()
			b.SetBytes(int64(benchAppendBatch * c.size))
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), benchCPU()
			lats := benchAppendLoad(b, l, c, int64(b.N), batches)
			elapsed, cpu := time.Since(start), benchCPU()-cpu0
			b.StopTimer()
			after := l.Stats()
			slices.Sort(lats)
			b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
			b.ReportMetric(float64(benchPercentile(lats, 50).Nanoseconds())/1e3, "p50-us")
			b.ReportMetric(float64(benchPercentile(lats, 99).Nanoseconds())/1e3, "p99-us")
			b.ReportMetric(float64(b.N*benchAppendBatch)/elapsed.Seconds(), "records/s")
			if flushes := after.Flushes - before.Flushes; flushes > 0 {
				b.ReportMetric(float64(after.PayloadBytes-before.PayloadBytes)/float64(flushes), "flush-bytes")
			}
		})
	}
}

// benchCPU is the process's user and system CPU time so far.
func benchCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCalibration is what a short sluice run of a case formed: the
// baselines write in chunks of its average flush size.
type benchCalibration struct {
	flushBytes  int64 // PayloadBytes / Flushes
	recordBytes int64 // encoded bytes per record
}

var (
	benchCalibrationMu    sync.Mutex
	benchCalibrationCache = map[benchAppendCase]benchCalibration{}
)

// benchCalibrate runs c against sluice for about 100 ms (at most 2000
// appends), untimed, once per process and case.
func benchCalibrate(b *testing.B, c benchAppendCase) benchCalibration {
	benchCalibrationMu.Lock()
	defer benchCalibrationMu.Unlock()
	if cal, ok := benchCalibrationCache[c]; ok {
		return cal
	}
	l, batches := benchOpenAppend(b, b.TempDir(), c)
	defer l.Close()
	benchAppendLoad(b, l, c, int64(c.writers), batches)
	before := l.Stats()
	deadline := time.Now().Add(100 * time.Millisecond)
	for i := 0; i < 20 && time.Now().Before(deadline); i++ {
		benchAppendLoad(b, l, c, 100, batches)
	}
	after := l.Stats()
	payload, flushes := after.PayloadBytes-before.PayloadBytes, after.Flushes-before.Flushes
	cal := benchCalibration{flushBytes: int64(payload / max(flushes, 1)), recordBytes: int64(payload / max(after.Records-before.Records, 1))}
	benchCalibrationCache[c] = cal
	return cal
}

// benchBaselineWrite writes b.N batches' worth of encoded records to a plain
// file in chunks of the calibrated flush size, with fdatasync after each
// chunk if sync is set.
func benchBaselineWrite(b *testing.B, c benchAppendCase, sync bool) {
	cal := benchCalibrate(b, c)
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "baseline.dat"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, cal.flushBytes)
	for i := range chunk {
		chunk[i] = byte(i * 31)
	}
	batchBytes := benchAppendBatch * cal.recordBytes
	var off, pending int64
	write := func(n int64) {
		if off+n > benchBaselineWrap {
			off = 0
		}
		if _, err := unix.Pwrite(int(f.Fd()), chunk[:n], off); err != nil {
			b.Fatal(err)
		}
		off += n
		if sync {
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetBytes(int64(benchAppendBatch * c.size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		pending += batchBytes
		for pending >= cal.flushBytes {
			write(cal.flushBytes)
			pending -= cal.flushBytes
		}
	}
	if pending > 0 {
		write(pending)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchAppendBatch)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cal.flushBytes), "flush-bytes")
}

// BenchmarkBaselineWrite is the async baseline of BenchmarkSegmentAppend:
// a sequential plain-file write loop of the same encoded bytes, in chunks
// of the flush size sluice formed for the same case.
func BenchmarkBaselineWrite(b *testing.B) {
	for _, c := range benchAppendCases() {
		if c.durability != Async {
			continue
		}
		b.Run(fmt.Sprintf("size=%s/writers=%d", sizeName(c.size), c.writers), func(b *testing.B) {
			benchBaselineWrite(b, c, false)
		})
	}
}

// BenchmarkBaselineWriteFdatasync is the fsync baseline: write plus
// unix.Fdatasync per chunk of the group commit size sluice formed.
func BenchmarkBaselineWriteFdatasync(b *testing.B) {
	for _, c := range benchAppendCases() {
		if c.durability != Fsync {
			continue
		}
		b.Run(fmt.Sprintf("size=%s/writers=%d", sizeName(c.size), c.writers), func(b *testing.B) {
			benchBaselineWrite(b, c, true)
		})
	}
}

// benchReadLog builds a closed log of benchReadData bytes of size-byte
// records in a new directory and returns the directory, the record count
// and the encoded bytes.
func benchReadLog(b *testing.B, size int) (dir string, records, payload int64) {
	dir = b.TempDir()
	c := benchAppendCase{Async, size, 2}
	l, batches := benchOpenAppend(b, dir, c)
	benchAppendLoad(b, l, c, int64(benchReadData/(size*benchAppendBatch)), batches)
	st := l.Stats()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, int64(st.Records), int64(st.PayloadBytes)
}

// benchReadAll reads the log from its first record to the end.
func benchReadAll(b *testing.B, l *Log, want int64) {
	pos, end := l.Bounds()
	n := int64(0)
	for pos < end {
		recs, next, err := l.Read(pos, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		n += int64(len(recs))
		pos = next
	}
	if n != want {
		b.Fatalf("read %d records, want %d", n, want)
	}
}

func benchReadSizes(b *testing.B, f func(b *testing.B, size int)) {
	for _, size := range []int{100, 1 << 10} {
		b.Run("size="+sizeName(size), func(b *testing.B) { f(b, size) })
	}
}

// benchRead reads a whole read-only log per op, after deleting the
// fragment files listed in lost from every segment.
func benchRead(b *testing.B, size int, lost ...int) {
	dir, records, _ := benchReadLog(b, size)
	if len(lost) > 0 {
		l, err := Open(Config{Dirs: []string{dir}, ReadOnly: true, Logger: quietLogger})
		if err != nil {
			b.Fatal(err)
		}
		segs := l.Segments()
		l.Close()
		for _, s := range segs {
			for _, j := range lost {
				if err := os.Remove(s.Files[j]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	l, err := Open(Config{Dirs: []string{dir}, ReadOnly: true, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	benchReadAll(b, l, records) // warm up
	b.SetBytes(records * int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchReadAll(b, l, records)
	}
}

// BenchmarkSegmentRead reads a 32 MiB log, whole, per op (page cache hot).
func BenchmarkSegmentRead(b *testing.B) {
	benchReadSizes(b, func(b *testing.B, size int) { benchRead(b, size) })
}

// BenchmarkSegmentReconstruct is BenchmarkSegmentRead with fragment files
// 0 and 1 (two data fragments) of every segment deleted and the log opened
// read-only, so every stripe is rebuilt from parity on every read.
func BenchmarkSegmentReconstruct(b *testing.B) {
	benchReadSizes(b, func(b *testing.B, size int) { benchRead(b, size, 0, 1) })
}

// BenchmarkBaselineRead reads a plain file of the same encoded bytes as
// BenchmarkSegmentRead's log with ReadAt in 1 MiB chunks, per op.
func BenchmarkBaselineRead(b *testing.B) {
	benchReadSizes(b, func(b *testing.B, size int) {
		_, records, payload := benchReadLog(b, size)
		path := filepath.Join(b.TempDir(), "plain.dat")
		data := make([]byte, payload)
		for i := range data {
			data[i] = byte(i * 7)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 1<<20)
		readAll := func() {
			for off := int64(0); off < payload; {
				n, err := f.ReadAt(buf, off)
				if n == 0 && err != nil {
					b.Fatal(err)
				}
				off += int64(n)
			}
		}
		readAll() // warm up
		b.SetBytes(records * int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			readAll()
		}
	})
}
