package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/internal/segload"
	"github.com/sluicehq/sluice/bench/internal/stats"
	"github.com/sluicehq/sluice/bench/report"
	"github.com/sluicehq/sluice/segment"
)

const (
	resultsTitle  = "sluice benchmark results"
	sectionName   = "segment"
	batchRecords  = 100     // records per Append, like one PutRecords call
	maxAppendData = 1 << 30 // count bound of one append run: record data bytes
	readRecord    = 1024    // record size of the read and reconstruction loads
)

type segmentOptions struct {
	quick      bool
	runs       int
	dir        string
	out        string
	runTime    time.Duration // time bound of one load run
	readBytes  int64         // record data of the log the read loads read
	budget     time.Duration // no new round starts after this
	only       *regexp.Regexp
	allowTmpfs bool
}

func parseSegmentFlags(args []string) (segmentOptions, error) {
	fs := flag.NewFlagSet("segment", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "1 run of about 0.5 s per scenario and a 32 MiB read log (under a minute)")
	runs := fs.Int("runs", 0, "runs per scenario, each a sluice/baseline pair (default 5, 1 with --quick)")
	dir := fs.String("dir", "", "directory on the disk under test for the run directories (default $TMPDIR, or bench/out if that is tmpfs)")
	out := fs.String("out", "bench/RESULTS.md", "results file whose segment section is replaced; - for stdout only")
	runTime := fs.Duration("run-time", 0, "time bound of one load run (default 3s, 500ms with --quick)")
	readMiB := fs.Int64("read-mib", 0, "MiB of record data in the log that the read loads read (default 256, 32 with --quick)")
	budget := fs.Duration("budget", 0, "start no new round after this long (default 15m, 1m with --quick)")
	only := fs.String("only", "", "run only the scenarios whose name matches this regexp")
	allowTmpfs := fs.Bool("allow-tmpfs", false, "run even if the directory is in memory (the figures then say nothing about disks)")
	if err := fs.Parse(args); err != nil {
		return segmentOptions{}, err
	}
	if fs.NArg() > 0 {
		return segmentOptions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := segmentOptions{quick: *quick, runs: *runs, dir: *dir, out: *out, runTime: *runTime,
		readBytes: *readMiB << 20, budget: *budget, allowTmpfs: *allowTmpfs}
	pick := func(v, normal, fast int64) int64 {
		if v != 0 {
			return v
		}
		if o.quick {
			return fast
		}
		return normal
	}
	o.runs = int(pick(int64(o.runs), 5, 1))
	o.runTime = time.Duration(pick(int64(o.runTime), int64(3*time.Second), int64(500*time.Millisecond)))
	o.readBytes = pick(o.readBytes, 256<<20, 32<<20)
	o.budget = time.Duration(pick(int64(o.budget), int64(15*time.Minute), int64(time.Minute)))
	if o.runs < 1 || o.runTime <= 0 || o.readBytes <= 0 || o.budget <= 0 {
		return o, errors.New("--runs, --run-time, --read-mib and --budget must be positive")
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return o, fmt.Errorf("--only: %w", err)
		}
		o.only = re
	}
	return o, nil
}

// benchDir picks the directory for the run directories: on the disk, never
// in memory unless asked.
func benchDir(o segmentOptions) (string, machine.Info, error) {
	dir := o.dir
	if dir == "" {
		dir = os.TempDir()
		if machine.Describe(dir).IsMemoryFS() {
			dir = filepath.Join("bench", "out")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", machine.Info{}, fmt.Errorf("cannot create bench directory: %w", err)
	}
	info := machine.Describe(dir)
	if info.IsMemoryFS() && !o.allowTmpfs {
		return "", info, fmt.Errorf("bench directory %q is on %s, which measures memory, not the disk; pass --dir on a disk (or --allow-tmpfs)", dir, info.FSType)
	}
	return dir, info, nil
}

// appendScenario is one append load and its baseline.
type appendScenario struct {
	durability segment.Durability
	size       int
	writers    int
	// sustained writes sustainedData, far past the kernel's dirty page
	// limit, so that both sluice and the baseline run at the disk's speed
	// rather than the page cache's.
	sustained bool
}

// sustainedData is the record data of a sustained run: 8 GiB, about twice
// the dirty page limit (20% of memory) of the 24 GiB reference machine.
const sustainedData = 8 << 30

func (s appendScenario) name() string {
	unit := "writers"
	if s.writers == 1 {
		unit = "writer"
	}
	name := fmt.Sprintf("append %s %s, %d %s", s.durability, sizeName(s.size), s.writers, unit)
	if s.sustained {
		name += ", sustained 8 GiB"
	}
	return name
}

func (s appendScenario) slug() string {
	slug := fmt.Sprintf("append-%s-%s-w%d", s.durability, sizeName(s.size), s.writers)
	if s.sustained {
		slug += "-sustained"
	}
	return slug
}

// appendRun holds the figures of one sluice/baseline pair. Latencies are in
// seconds, rates per second.
type appendRun struct {
	mbps, recs, p50, p99                 float64
	flushBytes, flushesPerSec            float64
	stripesPerFlush, allocsPerAppend     float64
	baseMBps, baseRecs, baseP50, baseP99 float64
	// codedMBps (sustained runs only): the record data rate of a plain
	// write of the bytes sluice wrote with 4+2 (k+m files side by side, a
	// write per file of a group commit's share), with no coding or
	// hashing: what any writer of that format could reach here.
	codedMBps float64
}

// readRun holds the figures of one read round: the healthy read, the plain
// file baseline and the read with two fragments of every segment gone.
type readRun struct {
	healthy, plain, rebuilt float64 // MB/s of record data
}

func appendScenarios(quick bool) []appendScenario {
	var out []appendScenario
	for _, d := range []segment.Durability{segment.Async, segment.Fsync} {
		for _, size := range []int{100, 1024} {
			for _, w := range []int{1, 8} {
				out = append(out, appendScenario{durability: d, size: size, writers: w})
			}
		}
	}
	if !quick {
		out = append(out, appendScenario{durability: segment.Async, size: 1024, writers: 8, sustained: true})
	}
	return out
}

func runSegment(ctx context.Context, args []string) error {
	o, err := parseSegmentFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	dir, info, err := benchDir(o)
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp(dir, "sluice-bench-")
	if err != nil {
		return fmt.Errorf("cannot create run directory: %w", err)
	}
	defer os.RemoveAll(root)
	logf("segment suite: %d run(s) per scenario, %v per load run, dir %s (%s)", o.runs, o.runTime, root, info.FSType)

	var scenarios []appendScenario
	for _, s := range appendScenarios(o.quick) {
		if o.only == nil || o.only.MatchString(s.name()) {
			scenarios = append(scenarios, s)
		}
	}
	doRead := o.only == nil || o.only.MatchString("read") || o.only.MatchString("reconstruct")
	appendRuns := make([][]appendRun, len(scenarios))
	var readRuns []readRun
	start := time.Now()
	stopped := ""
rounds:
	for i := 0; i < o.runs; i++ {
		for si, s := range scenarios {
			if why := shouldStop(ctx, start, o.budget); why != "" {
				stopped = why
				break rounds
			}
			r, err := runAppendPair(root, i, s, o)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", s.name(), i+1, err)
			}
			appendRuns[si] = append(appendRuns[si], r)
			logf("[run %d/%d] %-30s sluice %7.1f MB/s %9.0f rec/s p50 %s p99 %s | baseline %7.1f MB/s %9.0f rec/s | ratio %.2f (flush %s)",
				i+1, o.runs, s.name(), r.mbps, r.recs, fmtDur(r.p50), fmtDur(r.p99), r.baseMBps, r.baseRecs, r.mbps/r.baseMBps, fmtBytes(r.flushBytes))
		}
		if doRead {
			if why := shouldStop(ctx, start, o.budget); why != "" {
				stopped = why
				break rounds
			}
			r, err := runReadRound(root, i, o)
			if err != nil {
				return fmt.Errorf("read, run %d: %w", i+1, err)
			}
			readRuns = append(readRuns, r)
			logf("[run %d/%d] read %s: sluice %.0f MB/s | plain file %.0f MB/s | rebuilt (2 of 6 fragments gone) %.0f MB/s",
				i+1, o.runs, sizeName(readRecord), r.healthy, r.plain, r.rebuilt)
		}
	}
	if stopped != "" {
		logf("stopped early: %s", stopped)
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; results not written")
	}
	body := segmentSection(o, info, time.Since(start), stopped, scenarios, appendRuns, readRuns)
	return publish(o.out, sectionName, body, nil)
}

func shouldStop(ctx context.Context, start time.Time, budget time.Duration) string {
	if ctx.Err() != nil {
		return "interrupted"
	}
	if time.Since(start) > budget {
		return fmt.Sprintf("time budget of %v used up", budget)
	}
	return ""
}

// runAppendPair runs the sluice append load, then its baseline, then
// (sustained runs only) a plain write of the same 4+2 bytes, each in a
// fresh directory that is removed afterwards.
func runAppendPair(root string, i int, s appendScenario, o segmentOptions) (appendRun, error) {
	runDir := filepath.Join(root, fmt.Sprintf("r%d-%s", i, s.slug()))
	defer os.RemoveAll(runDir)
	if err := segload.Settle(root); err != nil {
		return appendRun{}, err
	}
	maxData, runTime := int64(maxAppendData), o.runTime
	if s.sustained {
		maxData, runTime = sustainedData, 90*time.Second
	}
	res, err := segload.RunAppend(segload.AppendConfig{Dir: filepath.Join(runDir, "log"), Durability: s.durability,
		RecordBytes: s.size, Writers: s.writers, BatchRecords: batchRecords,
		MaxRecords: maxData / int64(s.size), MaxDuration: runTime, Seed: uint64(i)})
	if err != nil {
		return appendRun{}, err
	}
	if res.Records == 0 || res.Stats.Flushes == 0 {
		return appendRun{}, errors.New("no append finished within the time bound")
	}
	if err := os.RemoveAll(filepath.Join(runDir, "log")); err != nil {
		return appendRun{}, err
	}
	secs := res.Elapsed.Seconds()
	lat := stats.DurationPercentiles(res.Latencies, 50, 99)
	r := appendRun{
		mbps:            float64(res.DataBytes) / secs / 1e6,
		recs:            float64(res.Records) / secs,
		p50:             lat[0].Seconds(),
		p99:             lat[1].Seconds(),
		flushBytes:      float64(res.FlushBytes()),
		flushesPerSec:   float64(res.Stats.Flushes) / secs,
		stripesPerFlush: float64(res.Stats.Stripes) / float64(res.Stats.Flushes),
		allocsPerAppend: float64(res.Mallocs) / float64(res.Appends),
	}
	if err := segload.Settle(root); err != nil {
		return r, err
	}
	total := int64(res.Stats.PayloadBytes)
	base, err := segload.RunBaselineWrite(segload.WriteConfig{Dir: filepath.Join(runDir, "base"), TotalBytes: total,
		ChunkBytes: res.FlushBytes(), Fdatasync: s.durability == segment.Fsync, MaxDuration: 3*runTime + time.Second})
	if err != nil {
		return r, err
	}
	bsecs := base.Elapsed.Seconds()
	frac := base.Fraction(total)
	blat := stats.DurationPercentiles(base.Latencies, 50, 99)
	r.baseMBps = float64(res.DataBytes) * frac / bsecs / 1e6
	r.baseRecs = float64(res.Records) * frac / bsecs
	r.baseP50, r.baseP99 = blat[0].Seconds(), blat[1].Seconds()
	if s.sustained {
		// After the baseline, so that it follows the removal of the
		// previous phase's files the way sluice's run does (the state of
		// this virtual machine's memory after a removal changes a
		// buffered write's speed several times over; RESULTS.md).
		if err := os.RemoveAll(filepath.Join(runDir, "base")); err != nil {
			return r, err
		}
		if err := segload.Settle(root); err != nil {
			return r, err
		}
		g := segment.DefaultGeometry
		coded := total / int64(g.Data) * int64(g.Data+g.Parity)
		c, err := segload.RunBaselineWrite(segload.WriteConfig{Dir: filepath.Join(runDir, "coded"), TotalBytes: coded,
			ChunkBytes: res.FlushBytes() / int64(g.Data), Files: g.Data + g.Parity, MaxDuration: 3*runTime + time.Second})
		if err != nil {
			return r, err
		}
		r.codedMBps = float64(res.DataBytes) * c.Fraction(coded) / c.Elapsed.Seconds() / 1e6
	}
	return r, nil
}

// runReadRound builds a log, reads it healthy, reads the same bytes from a
// plain file, then deletes fragments 0 and 1 (two data fragments) of every
// segment and reads it again, rebuilding every stripe from parity.
func runReadRound(root string, i int, o segmentOptions) (readRun, error) {
	runDir := filepath.Join(root, fmt.Sprintf("r%d-read", i))
	defer os.RemoveAll(runDir)
	logDir := filepath.Join(runDir, "log")
	info, err := segload.BuildLog(logDir, readRecord, o.readBytes, 10*o.runTime+10*time.Second)
	if err != nil {
		return readRun{}, err
	}
	readBound := 10*o.runTime + 10*time.Second
	if err := segload.Settle(root); err != nil {
		return readRun{}, err
	}
	healthy, err := segload.ReadLog(logDir, readBound)
	if err != nil {
		return readRun{}, err
	}
	if healthy.Records != info.Records && healthy.Elapsed < readBound {
		return readRun{}, fmt.Errorf("read %d records, the log holds %d", healthy.Records, info.Records)
	}
	plainPath := filepath.Join(runDir, "plain.dat")
	if err := segload.WritePlainFile(plainPath, info.PayloadBytes); err != nil {
		return readRun{}, fmt.Errorf("cannot write plain file: %w", err)
	}
	plain, err := segload.ReadPlainFile(plainPath, 1<<20, readBound)
	if err != nil {
		return readRun{}, err
	}
	if err := os.Remove(plainPath); err != nil {
		return readRun{}, err
	}
	if _, err := segload.DropFragments(logDir, 0, 1); err != nil {
		return readRun{}, err
	}
	rebuilt, err := segload.ReadLog(logDir, readBound)
	if err != nil {
		return readRun{}, err
	}
	if rebuilt.Records != info.Records && rebuilt.Elapsed < readBound {
		return readRun{}, fmt.Errorf("rebuilt read %d records, the log holds %d", rebuilt.Records, info.Records)
	}
	// The plain file holds the encoded records; count the record data they
	// carry, so that both sides are MB/s of the same record data.
	plainData := float64(info.DataBytes) * float64(plain.DataBytes) / float64(info.PayloadBytes)
	return readRun{
		healthy: float64(healthy.DataBytes) / healthy.Elapsed.Seconds() / 1e6,
		plain:   plainData / plain.Elapsed.Seconds() / 1e6,
		rebuilt: float64(rebuilt.DataBytes) / rebuilt.Elapsed.Seconds() / 1e6,
	}, nil
}

// target is a pass/miss rule on a summarized figure.
type target struct {
	text string
	ok   func(float64) bool
}

func atLeast(x float64) *target {
	return &target{fmt.Sprintf(">= %.2f", x), func(v float64) bool { return v >= x }}
}

func verdict(t *target, v float64) (string, string) {
	if t == nil {
		return "-", "-"
	}
	if math.IsNaN(v) {
		return t.text, "MISS (no data)"
	}
	if t.ok(v) {
		return t.text, "PASS"
	}
	return t.text, "MISS"
}

func segmentSection(o segmentOptions, info machine.Info, took time.Duration, stopped string,
	scenarios []appendScenario, appendRuns [][]appendRun, readRuns []readRun) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Storage engine (segment)\n\n")
	cmd := "go run ./bench/cmd/sluice-bench segment"
	if o.quick {
		cmd += " --quick"
	}
	w("Generated by `%s`: %d run(s) per scenario, each a sluice run then its baseline, %v time bound per load run; took %v.",
		cmd, o.runs, o.runTime, took.Round(time.Second))
	if stopped != "" {
		w(" Stopped early (%s): some scenarios have fewer runs.", stopped)
	}
	w("\n\n")
	for _, l := range info.Lines() {
		w("%s\n", l)
	}
	w("\nFigures are medians over runs with [min-max]. A ratio is sluice/baseline taken pair by pair (run i with run i),\n")
	w("then the median of those ratios. MB/s counts record data (Record.Data), 1 MB = 10^6 bytes.\n\n")

	tb := report.Table{Header: []string{"scenario", "sluice", "baseline", "ratio", "target", "result"},
		Align: []byte{'l', 'r', 'r', 'r', 'l', 'l'}}
	for si, s := range scenarios {
		runs := appendRuns[si]
		if len(runs) == 0 {
			continue
		}
		col := func(f func(appendRun) float64) []float64 {
			out := make([]float64, len(runs))
			for i, r := range runs {
				out[i] = f(r)
			}
			return out
		}
		var sl, bl []float64
		var unit string
		var tgt *target
		if s.durability == segment.Async {
			sl, bl, unit = col(func(r appendRun) float64 { return r.mbps }), col(func(r appendRun) float64 { return r.baseMBps }), "MB/s"
			if s.size == 1024 {
				tgt = atLeast(0.60)
			}
		} else {
			sl, bl, unit = col(func(r appendRun) float64 { return r.recs }), col(func(r appendRun) float64 { return r.baseRecs }), "records/s"
			if s.size == 1024 && s.writers == 8 {
				tgt = atLeast(0.70)
			}
		}
		ratio := stats.Summarize(stats.Ratios(sl, bl))
		t, v := verdict(tgt, ratio.Median)
		tb.Add(s.name()+": "+unit, fmtSummary(stats.Summarize(sl), fmtRate), fmtSummary(stats.Summarize(bl), fmtRate),
			fmtSummary(ratio, fmtRatio), t, v)
		if s.sustained {
			coded := col(func(r appendRun) float64 { return r.codedMBps })
			tb.Add(s.name()+": plain write of the 4+2 bytes (no coding): MB/s", fmtSummary(stats.Summarize(coded), fmtRate),
				fmtSummary(stats.Summarize(bl), fmtRate), fmtSummary(stats.Summarize(stats.Ratios(coded, bl)), fmtRatio), "-", "-")
			tb.Add(s.name()+": sluice against that plain write: MB/s", fmtSummary(stats.Summarize(sl), fmtRate),
				fmtSummary(stats.Summarize(coded), fmtRate), fmtSummary(stats.Summarize(stats.Ratios(sl, coded)), fmtRatio), "-", "-")
		}
		if s.durability == segment.Async && s.size == 1024 && s.writers == 8 && !s.sustained {
			setHeadline(headlineRow{order: hlStorageAsync, claim: "storage, " + s.name() + ": MB/s",
				sluice: fmtSummary(stats.Summarize(sl), fmtRate), others: "plain file, same bytes: " + fmtSummary(stats.Summarize(bl), fmtRate),
				ratio: fmtSummary(ratio, fmtRatio), target: t, result: v})
		}
		if s.durability == segment.Fsync && s.size == 1024 && s.writers == 8 {
			p99 := stats.Summarize(col(func(r appendRun) float64 { return r.p99 }))
			lim := &target{"<= 10 ms", func(v float64) bool { return v <= 0.010 }}
			t, v := verdict(lim, p99.Median)
			tb.Add(s.name()+": p99 Append latency", fmtSummary(p99, fmtDur), "-", "-", t, v)
			setHeadline(headlineRow{order: hlStorageFsync, claim: "storage, " + s.name() + ": p99 acknowledgement (Append) latency",
				sluice: fmtSummary(p99, fmtDur), others: "-", ratio: "-", target: t, result: v})
		}
	}
	if len(readRuns) > 0 {
		col := func(f func(readRun) float64) []float64 {
			out := make([]float64, len(readRuns))
			for i, r := range readRuns {
				out[i] = f(r)
			}
			return out
		}
		healthy, plain, rebuilt := col(func(r readRun) float64 { return r.healthy }), col(func(r readRun) float64 { return r.plain }), col(func(r readRun) float64 { return r.rebuilt })
		tb.Add("read whole log, "+sizeName(readRecord)+" records: MB/s (baseline: plain file ReadAt)", fmtSummary(stats.Summarize(healthy), fmtRate),
			fmtSummary(stats.Summarize(plain), fmtRate), fmtSummary(stats.Summarize(stats.Ratios(healthy, plain)), fmtRatio), "-", "-")
		tb.Add("reconstruct: read with 2 of 6 fragments gone: MB/s (baseline: healthy read)", fmtSummary(stats.Summarize(rebuilt), fmtRate),
			fmtSummary(stats.Summarize(healthy), fmtRate), fmtSummary(stats.Summarize(stats.Ratios(rebuilt, healthy)), fmtRatio), "-", "-")
	}
	b.WriteString(tb.Markdown())

	if len(scenarios) > 0 {
		w("\nAppend details (medians). Latency is per Append call of %d records; flush = one group commit; the baseline\n", batchRecords)
		w("latency is per write (async) or write + fdatasync (fsync) of one flush-sized chunk.\n\n")
		dt := report.Table{Header: []string{"scenario", "runs", "MB/s", "records/s", "p50", "p99", "flush size", "flushes/s",
			"stripes/flush", "allocs/append", "baseline p50", "baseline p99"}, Align: []byte{'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'}}
		for si, s := range scenarios {
			runs := appendRuns[si]
			if len(runs) == 0 {
				continue
			}
			med := func(f func(appendRun) float64) float64 {
				xs := make([]float64, len(runs))
				for i, r := range runs {
					xs[i] = f(r)
				}
				return stats.Median(xs)
			}
			dt.Add(s.name(), fmt.Sprint(len(runs)), fmtRate(med(func(r appendRun) float64 { return r.mbps })),
				fmtRate(med(func(r appendRun) float64 { return r.recs })),
				fmtDur(med(func(r appendRun) float64 { return r.p50 })), fmtDur(med(func(r appendRun) float64 { return r.p99 })),
				fmtBytes(med(func(r appendRun) float64 { return r.flushBytes })), fmtRate(med(func(r appendRun) float64 { return r.flushesPerSec })),
				fmt.Sprintf("%.2f", med(func(r appendRun) float64 { return r.stripesPerFlush })),
				fmt.Sprintf("%.1f", med(func(r appendRun) float64 { return r.allocsPerAppend })),
				fmtDur(med(func(r appendRun) float64 { return r.baseP50 })), fmtDur(med(func(r appendRun) float64 { return r.baseP99 })))
		}
		b.WriteString(dt.Markdown())
	}

	w("\nMethod:\n\n")
	w("- sluice: `segment.Open` with geometry 4+2, 64 MiB fragment files, 1 MiB max stripe, no linger, in a fresh directory\n")
	w("  per run. Records have a 16-byte partition key (encoded: 8-byte header + key + data). Each writer appends batches of\n")
	w("  %d records until %d GiB of record data or the time bound; one warm-up append (creating the first segment) is\n", batchRecords, maxAppendData>>30)
	w("  not timed, nor is Close. The sustained scenario writes 8 GiB (90 s bound), about twice the kernel's dirty page\n")
	w("  limit, so that sluice and its baseline both end up running at the disk's speed: the 3 s runs mostly measure\n")
	w("  copying into the page cache, where sluice's 1.5x bytes, hashing and coding weigh most.\n")
	w("- sync: fsync mode uses syncfs(2) once per file system per group commit (segment.SyncFilesystem, the default).\n")
	w("- async baseline: a new plain file (not preallocated, no parity) gets the same number of bytes the log committed as\n")
	w("  records (Stats.PayloadBytes), in sequential os.File writes of the average flush size (PayloadBytes/Flushes).\n")
	w("  fsync baseline: the same, with unix.Fdatasync after every write. Baseline rates count the same records and record\n")
	w("  data as the sluice run, so the ratio is baseline time / sluice time. sluice writes 1.5x the bytes (4+2 parity).\n")
	w("- sustained, plain write of the 4+2 bytes: after the baseline, 1.5x the PayloadBytes written to 6 new\n")
	w("  plain files side by side, one write per file in turn of a quarter of the average flush size (each fragment's share\n")
	w("  of a group commit), no coding, no hashing: the rate any writer of the 4+2 format could reach on this machine,\n")
	w("  counted in record data like the others.\n")
	w("- read: a log of %d MiB of %s records, closed, reopened read-only (Open verifies every chunk, untimed), read from\n", o.readBytes>>20, sizeName(readRecord))
	w("  the first record to the end with Read's default limits (10000 records / 10 MiB per call), once untimed to warm up\n")
	w("  and once timed. Baseline: a plain file of the same encoded bytes, read the same way (warm-up pass, timed pass) with\n")
	w("  ReadAt in 1 MiB chunks into one reused buffer. Both read from the page cache.\n")
	w("- reconstruct: fragment files 0 and 1 (two data fragments) of every segment are deleted and the log reopened\n")
	w("  read-only, so every stripe is rebuilt with Reed-Solomon on every read; compared with the healthy read of the same run.\n")
	w("- The file system is synced (syncfs) before every timed phase so one run's write-back does not land in the next.\n")
	return b.String()
}

func fmtSummary(s stats.Summary, f func(float64) string) string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s-%s]", f(s.Median), f(s.Min), f(s.Max))
}

func fmtRate(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtDur formats seconds.
func fmtDur(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.0f us", s*1e6)
}

func fmtBytes(n float64) string {
	switch {
	case math.IsNaN(n):
		return "-"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
