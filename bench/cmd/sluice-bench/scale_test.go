package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
)

// TestBenchScaleQuick runs the scale suite end to end against the sluice
// binary (built from this module) in quick mode and checks the section it
// writes: a figure and a ratio for every case, the sampled shards read
// back, the chart, and the other sections kept.
func TestBenchScaleQuick(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(out, []byte("# r\n\n<!-- segment:begin -->\nkept\n<!-- segment:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := runScale(ctx, []string{"--quick", "--targets", "sluice-async", "--run-time", "200ms", "--out", out, "--dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "<!-- segment:begin -->\nkept\n<!-- segment:end -->") {
		t.Fatalf("the segment section was not kept:\n%s", doc)
	}
	if !strings.Contains(doc, "<!-- scale:begin -->\n## Many shards and streams (scale)") {
		t.Fatalf("no scale section:\n%s", doc)
	}
	if !strings.Contains(doc, "]("+scaleChartName+")") {
		t.Fatalf("the section does not show the chart:\n%s", doc)
	}
	if svg, err := os.ReadFile(filepath.Join(filepath.Dir(out), scaleChartName)); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("chart beside the results: %v", err)
	}
	for _, c := range []struct{ name, shards string }{{"1 shard", "1"}, {"10 shards", "10"}, {"4 streams x 2 shards", "8"}} {
		// | case | shards | sluice async records/s | vs 1 shard |
		cells := tableRow(t, doc, "| "+c.name+" ")
		if len(cells) != 4 || cells[1] != c.shards || cells[2] == "-" || cells[3] == "-" {
			t.Fatalf("row %q: %q", c.name, cells)
		}
	}
	if got := tableRow(t, doc, "| 1 shard ")[3]; got != "1.00" {
		t.Fatalf("ratio of the 1-shard case to itself: %q", got)
	}
	// | case | target | create | first write | RSS | peak RSS | disk | p50 | p99 | CPU | retries | read back | note |
	i := strings.Index(doc, "Details per case")
	for _, c := range []string{"1 shard", "10 shards", "4 streams x 2 shards"} {
		cells := tableRow(t, doc[i:], "| "+c+" ")
		if len(cells) != 13 || cells[1] != "sluice async" || cells[2] == "-" || cells[3] == "-" || !strings.HasSuffix(cells[4], "MiB") ||
			!strings.Contains(cells[11], "shard(s)") || cells[12] != "" {
			t.Fatalf("details of %q: %q", c, cells)
		}
	}
}

func TestBenchScaleFlags(t *testing.T) {
	o, err := parseScaleFlags([]string{"--quick"})
	if err != nil || o.runs != 1 || o.runTime != 300*time.Millisecond || len(o.shards) != 2 || o.streams != 4 || o.streamShards != 2 {
		t.Fatalf("--quick: %+v, %v", o, err)
	}
	o, err = parseScaleFlags(nil)
	if err != nil || o.runs != 3 || o.runTime != 3*time.Second || len(o.shards) != 5 || o.shards[4] != 1000 || o.streams != 100 ||
		len(o.targets) != 3 || len(o.cases()) != 6 {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = parseScaleFlags([]string{"--streams", "none"})
	if err != nil || len(o.cases()) != 5 {
		t.Fatalf("--streams none: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"--shards", "10,100"}, {"--shards", "1,x"}, {"--streams", "1x5"}, {"--targets", "sluice-fsync"}} {
		if _, err := parseScaleFlags(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	if got := sampleIndexes(1000, 4); len(got) != 4 || got[0] != 0 || got[3] != 999 {
		t.Fatalf("sampleIndexes(1000, 4) = %v", got)
	}
	if got := sampleIndexes(2, 4); len(got) != 2 {
		t.Fatalf("sampleIndexes(2, 4) = %v", got)
	}
	status := "Name:\tsluice\nVmHWM:\t   30000 kB\nVmRSS:\t   25000 kB\n"
	if parseProcStatusKB(status, "VmRSS:") != 25000<<10 || parseProcStatusKB(status, "VmHWM:") != 30000<<10 || parseProcStatusKB(status, "VmSwap:") != 0 {
		t.Fatal("parseProcStatusKB")
	}
	limit := errors.New(`CreateStream: HTTP 400: {"__type":"LimitExceededException","message":"This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 0. Limit: 500."}`)
	if got := shortReason(limit); got != "LimitExceededException, shard limit 500" {
		t.Fatalf("shortReason = %q", got)
	}
}

// TestBenchScaleVerifyFails checks the scale suite's read-back against a
// real sluice server: the records acknowledged pass, and a record count
// off by one, a record never written or a record missing from what was
// acknowledged fails with a verification error.
func TestBenchScaleVerifyFails(t *testing.T) {
	dir := t.TempDir()
	bin, err := buildSluice(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startSluice(bin, dir, "async")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	c := scaleCase{streams: 2, shards: 3}
	var bodies [][]byte
	for s := range c.streams {
		if err := createActive(srv.addr, c.streamName(s), c.shards, time.Now().Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, apiload.PutRecordsBody(c.streamName(s), s, 50, scaleSize))
	}
	res := apiload.Run(apiload.Config{Addr: srv.addr, Op: apiload.OpPutRecords, Conns: 3, Body: bodies, RoundRobin: true,
		RecordsPerRequest: 50, Check: apiload.PutAcked(50), MaxRequests: 7, MaxDuration: 10 * time.Second})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	acked, resent := map[apiload.RecordID]int{}, map[apiload.RecordID]int{}
	for b, n := range res.BodyAcked {
		for i := range 50 {
			acked[apiload.RecordID{K: b, I: i}] += int(n)
		}
	}
	n, records, err := verifyScaleSample(srv.addr, c, 6, acked, resent, time.Minute)
	if err != nil || n != 6 || records != 10*50 {
		t.Fatalf("the records acknowledged: %d shards, %d records, %v", n, records, err)
	}
	for name, tamper := range map[string]func(m map[apiload.RecordID]int){
		"count off by one": func(m map[apiload.RecordID]int) { m[apiload.RecordID{K: 0, I: 7}]++ },
		"never written":    func(m map[apiload.RecordID]int) { m[apiload.RecordID{K: 1, I: 60}] = 1 },
		"not acknowledged": func(m map[apiload.RecordID]int) { delete(m, apiload.RecordID{K: 1, I: 3}) },
	} {
		want := map[apiload.RecordID]int{}
		for id, k := range acked {
			want[id] = k
		}
		tamper(want)
		_, _, err := verifyScaleSample(srv.addr, c, 6, want, resent, time.Minute)
		if !errors.Is(err, apiload.ErrVerify) {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}
