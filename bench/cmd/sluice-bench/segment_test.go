package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/segment"
)

func TestBenchSegmentSectionVerdicts(t *testing.T) {
	scenarios := []appendScenario{
		{durability: segment.Async, size: 1024, writers: 8},
		{durability: segment.Fsync, size: 1024, writers: 8},
		{durability: segment.Fsync, size: 100, writers: 1},
	}
	runs := [][]appendRun{
		// Ratios 0.7, 0.5, 0.9: median 0.7 passes ">= 0.60".
		{{mbps: 70, baseMBps: 100}, {mbps: 50, baseMBps: 100}, {mbps: 90, baseMBps: 100}},
		// Ratio 0.5 misses ">= 0.70"; p99 of 8 ms passes "<= 10 ms".
		{{recs: 50, baseRecs: 100, p99: 0.008}},
		// No target.
		{{recs: 1, baseRecs: 2}},
	}
	reads := []readRun{{healthy: 100, plain: 400, rebuilt: 50}}
	o := segmentOptions{runs: 3, runTime: time.Second, readBytes: 1 << 20}
	out := segmentSection(o, machine.Info{CPUs: 2}, time.Minute, "", scenarios, runs, reads)
	f := func(prefix, want string) {
		t.Helper()
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "| "+prefix) {
				if !strings.Contains(line, want) {
					t.Fatalf("row %q lacks %q:\n%s", prefix, want, line)
				}
				return
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, out)
	}
	f("append async 1KiB, 8 writers: MB/s", "0.70 [0.50-0.90]")
	f("append async 1KiB, 8 writers: MB/s", "PASS")
	f("append fsync 1KiB, 8 writers: records/s", "MISS")
	f("append fsync 1KiB, 8 writers: p99", "PASS")
	f("append fsync 100B, 1 writer: records/s", "| -        | -")
	f("read whole log", "0.25")
	f("reconstruct", "0.50")
}

func TestBenchSegmentFlags(t *testing.T) {
	o, err := parseSegmentFlags([]string{"--quick"})
	if err != nil || o.runs != 1 || o.runTime != 500*time.Millisecond || o.readBytes != 32<<20 {
		t.Fatalf("--quick: %+v, %v", o, err)
	}
	o, err = parseSegmentFlags([]string{"--runs", "3", "--only", "fsync"})
	if err != nil || o.runs != 3 || o.runTime != 3*time.Second || !o.only.MatchString("append fsync 1KiB, 8 writers") {
		t.Fatalf("--runs 3: %+v, %v", o, err)
	}
	if _, err := parseSegmentFlags([]string{"extra"}); err == nil {
		t.Fatal("extra argument accepted")
	}
}
