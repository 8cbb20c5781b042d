// Package segload drives the segment package's public API with bounded
// loads, and runs the plain-file baselines those loads are compared with.
//
// Every loop is bounded twice: by a count (records, bytes) and by a
// deadline, so a slow disk makes a run shorter, never endless. Results are
// raw counts and durations; turning them into rates and ratios is the
// caller's job.
//
// Each function owns the files it creates for its duration and is safe to
// call from one goroutine at a time per directory.
package segload

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/segment"
	"golang.org/x/sys/unix"
)

// quietLogger drops recovery reports: the reconstruction load deletes
// fragment files on purpose.
var quietLogger = slog.New(slog.DiscardHandler)

// AppendConfig is one append load.
type AppendConfig struct {
	Dir          string             // log directory; must be empty or missing
	Durability   segment.Durability // segment.Async or segment.Fsync
	Geometry     segment.Geometry   // zero: segment.DefaultGeometry
	RecordBytes  int                // Record.Data bytes of every record
	KeyBytes     int                // partition key bytes; default 16
	Writers      int                // concurrent appenders; default 1
	BatchRecords int                // records per Append call; default 100
	MaxRecords   int64              // stop after this many records (count bound); required
	MaxDuration  time.Duration      // stop after this long (time bound); required
	Seed         uint64             // record contents; fixed for reproducible runs
}

// AppendResult is what one append load measured. Stats and Mallocs cover
// the measured window only (not the warm-up append).
type AppendResult struct {
	Records   int64           // records appended in the window
	DataBytes int64           // Record.Data bytes appended in the window
	Appends   int64           // Append calls in the window
	Elapsed   time.Duration   // first Append start to last Append return
	Latencies []time.Duration // one per Append call, unsorted
	Stats     segment.Stats   // counters of the window (Segments, DiskBytes: at the end)
	Total     segment.Stats   // counters since Open, warm-up included
	Mallocs   uint64          // heap allocations of the whole process in the window
}

// FlushBytes is the average group commit size: encoded record bytes per
// flush. The baselines write in chunks of this size.
func (r AppendResult) FlushBytes() int64 {
	if r.Stats.Flushes == 0 {
		return 0
	}
	return int64(r.Stats.PayloadBytes / r.Stats.Flushes)
}

// MakeBatch returns n records with size data bytes and keyBytes-byte
// partition keys, filled from a fixed seed.
func MakeBatch(n, size, keyBytes int, seed uint64) []segment.Record {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	recs := make([]segment.Record, n)
	for i := range recs {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		key := make([]byte, keyBytes)
		copy(key, fmt.Sprintf("pk-%016x", rng.Uint64()))
		recs[i] = segment.Record{PartitionKey: key, Data: data}
	}
	return recs
}

func (c AppendConfig) withDefaults() AppendConfig {
	if c.KeyBytes == 0 {
		c.KeyBytes = 16
	}
	if c.Writers == 0 {
		c.Writers = 1
	}
	if c.BatchRecords == 0 {
		c.BatchRecords = 100
	}
	return c
}

// RunAppend opens a new log in cfg.Dir, appends one warm-up batch (which
// creates the first segment), then lets cfg.Writers goroutines append
// batches until MaxRecords records or MaxDuration, and closes the log. The
// close (a final sync of everything) is not timed.
func RunAppend(cfg AppendConfig) (res AppendResult, err error) {
	cfg = cfg.withDefaults()
	if cfg.RecordBytes <= 0 || cfg.MaxRecords <= 0 || cfg.MaxDuration <= 0 {
		return res, errors.New("segload: RecordBytes, MaxRecords and MaxDuration must be positive")
	}
	l, err := segment.Open(segment.Config{Dirs: []string{cfg.Dir}, Geometry: cfg.Geometry,
		Durability: cfg.Durability, Logger: quietLogger})
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cannot close log in %q: %w", cfg.Dir, cerr)
		}
	}()
	batches := make([][]segment.Record, cfg.Writers)
	for w := range batches {
		batches[w] = MakeBatch(cfg.BatchRecords, cfg.RecordBytes, cfg.KeyBytes, cfg.Seed+uint64(w))
	}
	if _, err := l.Append(batches[0]); err != nil {
		return res, fmt.Errorf("warm-up append: %w", err)
	}
	before := l.Stats()
	maxAppends := max(cfg.MaxRecords/int64(cfg.BatchRecords), 1)
	lats := make([][]time.Duration, cfg.Writers)
	for w := range lats {
		// Preallocate what a typical run needs; the count bound caps growth.
		lats[w] = make([]time.Duration, 0, min(maxAppends/int64(cfg.Writers)+1, 1<<16))
	}
	var claimed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	deadline := start.Add(cfg.MaxDuration)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Writers; w++ {
		wg.Go(func() {
			batch := batches[w]
			for claimed.Add(1) <= maxAppends {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				if _, err := l.Append(batch); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	runtime.ReadMemStats(&ms1)
	after := l.Stats()
	if firstErr != nil {
		return res, fmt.Errorf("append: %w", firstErr)
	}
	for _, ls := range lats {
		res.Latencies = append(res.Latencies, ls...)
	}
	res.Appends = int64(len(res.Latencies))
	res.Records = res.Appends * int64(cfg.BatchRecords)
	res.DataBytes = res.Records * int64(cfg.RecordBytes)
	res.Mallocs = ms1.Mallocs - ms0.Mallocs
	res.Stats = segment.Stats{
		Records:      after.Records - before.Records,
		PayloadBytes: after.PayloadBytes - before.PayloadBytes,
		Stripes:      after.Stripes - before.Stripes,
		Flushes:      after.Flushes - before.Flushes,
		Segments:     after.Segments,
		DiskBytes:    after.DiskBytes,
	}
	res.Total = after
	if res.Stats.Records != uint64(res.Records) {
		return res, fmt.Errorf("segload: log committed %d records in the window, writers appended %d", res.Stats.Records, res.Records)
	}
	return res, nil
}

// WriteConfig is one plain-file baseline write: TotalBytes written to a new
// file in Dir in writes of ChunkBytes (the last one shorter), each followed
// by fdatasync when Fdatasync is set. With Files > 1 it writes that many
// files side by side, one write of ChunkBytes to each in turn (the way a
// segment's fragment files are written), TotalBytes in all.
type WriteConfig struct {
	Dir         string
	TotalBytes  int64
	ChunkBytes  int64
	Files       int
	Fdatasync   bool
	MaxDuration time.Duration // time bound; the count bound is TotalBytes
}

// WriteResult is what a baseline write measured.
type WriteResult struct {
	Bytes     int64           // bytes written (TotalBytes unless the deadline hit)
	Writes    int64           // write calls (each with its fdatasync)
	Elapsed   time.Duration   // first write to last return; the file's close is not timed
	Latencies []time.Duration // one per write (+ fdatasync)
}

// Fraction is the share of the planned bytes that were written; rates of
// the planned records scale by it when the deadline cut the run short.
func (r WriteResult) Fraction(total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(r.Bytes) / float64(total)
}

// RunBaselineWrite is the baseline of an append load: a sequential
// os.File write loop (plus unix.Fdatasync per write in the fsync case) of
// the bytes the log wrote as records, in chunks of the size of its group
// commits. The file is neither preallocated nor erasure coded.
func RunBaselineWrite(cfg WriteConfig) (res WriteResult, err error) {
	if cfg.TotalBytes <= 0 || cfg.ChunkBytes <= 0 || cfg.MaxDuration <= 0 {
		return res, errors.New("segload: TotalBytes, ChunkBytes and MaxDuration must be positive")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return res, err
	}
	files := make([]*os.File, max(cfg.Files, 1))
	for i := range files {
		path := filepath.Join(cfg.Dir, fmt.Sprintf("baseline.%02d.dat", i))
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return res, fmt.Errorf("cannot create baseline file: %w", err)
		}
		defer f.Close()
		files[i] = f
	}
	buf := make([]byte, cfg.ChunkBytes)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	res.Latencies = make([]time.Duration, 0, min(cfg.TotalBytes/cfg.ChunkBytes+1, 1<<16))
	start := time.Now()
	deadline := start.Add(cfg.MaxDuration)
	for res.Bytes < cfg.TotalBytes {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		f := files[res.Writes%int64(len(files))]
		n := min(cfg.ChunkBytes, cfg.TotalBytes-res.Bytes)
		if _, err := f.Write(buf[:n]); err != nil {
			return res, fmt.Errorf("cannot write baseline file at %d: %w", res.Bytes, err)
		}
		if cfg.Fdatasync {
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				return res, fmt.Errorf("cannot sync baseline file: %w", err)
			}
		}
		res.Latencies = append(res.Latencies, time.Since(t0))
		res.Bytes += n
		res.Writes++
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// LogInfo describes a log built by BuildLog.
type LogInfo struct {
	Records      int64
	DataBytes    int64
	PayloadBytes int64 // encoded record bytes, the size of the plain-file baseline
	Stripes      uint64
	Segments     int
}

// BuildLog writes a log of about dataBytes of recordBytes-byte records in
// dir (async, default geometry, 2 writers), bounded by maxDuration, and
// closes it.
func BuildLog(dir string, recordBytes int, dataBytes int64, maxDuration time.Duration) (LogInfo, error) {
	res, err := RunAppend(AppendConfig{Dir: dir, Durability: segment.Async, RecordBytes: recordBytes,
		Writers: 2, MaxRecords: max(dataBytes/int64(recordBytes), 1), MaxDuration: maxDuration, Seed: 7})
	if err != nil {
		return LogInfo{}, err
	}
	// The warm-up batch is in the log too: take the totals.
	return LogInfo{
		Records:      int64(res.Total.Records),
		DataBytes:    int64(res.Total.Records) * int64(recordBytes),
		PayloadBytes: int64(res.Total.PayloadBytes),
		Stripes:      res.Total.Stripes,
		Segments:     res.Total.Segments,
	}, nil
}

// ReadResult is what a read load measured.
type ReadResult struct {
	Records   int64
	DataBytes int64 // Record.Data bytes, or file bytes for the plain-file baseline
	Elapsed   time.Duration
}

// ReadLog opens the log in dir read-only (nothing is repaired, so missing
// fragments are rebuilt on every read) and reads it from the first record
// to the end with Read's default limits: once to warm up (heap growth,
// page faults), untimed, then once timed. Each pass stops at the end of the
// log or at maxDuration. Open, which verifies every chunk, is not timed.
func ReadLog(dir string, maxDuration time.Duration) (res ReadResult, err error) {
	l, err := segment.Open(segment.Config{Dirs: []string{dir}, ReadOnly: true, Logger: quietLogger})
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if rep := l.Recovery(); len(rep.Lost) > 0 {
		return res, fmt.Errorf("segload: log in %q has unreadable records: %v", dir, rep.Lost)
	}
	if _, err := readPass(l, maxDuration); err != nil {
		return res, err
	}
	return readPass(l, maxDuration)
}

func readPass(l *segment.Log, maxDuration time.Duration) (res ReadResult, err error) {
	pos, end := l.Bounds()
	start := time.Now()
	deadline := start.Add(maxDuration)
	for pos < end && time.Now().Before(deadline) {
		recs, next, err := l.Read(pos, 0, 0)
		if err != nil {
			return res, fmt.Errorf("read at %d: %w", pos, err)
		}
		if len(recs) == 0 || next <= pos {
			return res, fmt.Errorf("segload: read at %d of %d made no progress", pos, end)
		}
		for i := range recs {
			res.DataBytes += int64(len(recs[i].Data))
		}
		res.Records += int64(len(recs))
		pos = next
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// DropFragments deletes fragment files with the given indexes from every
// segment of the log in dir, as a lost disk would. It returns how many
// files it removed.
func DropFragments(dir string, fragments ...int) (int, error) {
	l, err := segment.Open(segment.Config{Dirs: []string{dir}, ReadOnly: true, Logger: quietLogger})
	if err != nil {
		return 0, err
	}
	segs := l.Segments()
	if err := l.Close(); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range segs {
		for _, j := range fragments {
			if j < 0 || j >= len(s.Files) {
				return n, fmt.Errorf("segload: segment %s has no fragment %d", s.Name, j)
			}
			if err := os.Remove(s.Files[j]); err != nil {
				return n, fmt.Errorf("cannot remove fragment: %w", err)
			}
			n++
		}
	}
	return n, nil
}

// WritePlainFile writes size bytes to path and syncs it, untimed: the
// file the read baseline reads.
func WritePlainFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for off := int64(0); off < size; off += int64(len(buf)) {
		n := min(int64(len(buf)), size-off)
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadPlainFile is the read baseline: ReadAt of the whole file in chunks of
// chunk bytes into one reused buffer, once untimed to warm up and once
// timed, each pass until the end or maxDuration.
func ReadPlainFile(path string, chunk int, maxDuration time.Duration) (res ReadResult, err error) {
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, err
	}
	buf := make([]byte, chunk)
	for pass := 0; pass < 2; pass++ {
		res = ReadResult{}
		start := time.Now()
		deadline := start.Add(maxDuration)
		for res.DataBytes < st.Size() && time.Now().Before(deadline) {
			n, err := f.ReadAt(buf, res.DataBytes)
			res.DataBytes += int64(n)
			if err != nil && !errors.Is(err, io.EOF) {
				return res, fmt.Errorf("cannot read %q at %d: %w", path, res.DataBytes, err)
			}
			if n == 0 {
				break
			}
		}
		res.Elapsed = time.Since(start)
	}
	return res, nil
}

// Settle flushes dirty pages of the file system holding dir (syncfs), so
// that the write-back of one run does not land in the next one's timing.
func Settle(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
