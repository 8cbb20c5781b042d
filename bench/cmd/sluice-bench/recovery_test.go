package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
)

// TestBenchRecoveryQuick runs the recovery suite end to end against the
// sluice binary (built from this module) with two small sizes and checks
// the section it writes: restart times and read rates for both sizes,
// every record verified twice, two fragment files deleted per segment and
// re-created, the chart, and the other sections kept.
func TestBenchRecoveryQuick(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(out, []byte("# r\n\n<!-- segment:begin -->\nkept\n<!-- segment:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := runRecovery(ctx, []string{"--quick", "--sizes", "2MiB,4MiB", "--out", out, "--dir", t.TempDir()})
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
	if !strings.Contains(doc, "<!-- recovery:begin -->\n## Recovery after kill -9 (recovery)") {
		t.Fatalf("no recovery section:\n%s", doc)
	}
	if svg, err := os.ReadFile(filepath.Join(filepath.Dir(out), recoveryChartName)); err != nil || !strings.Contains(string(svg), "<svg") ||
		!strings.Contains(doc, "]("+recoveryChartName+")") {
		t.Fatalf("chart: %v", err)
	}
	for _, size := range []struct{ name, records string }{{"2.0 MiB", "2048"}, {"4.0 MiB", "4096"}} {
		// | data | records | fill | ready | first | read | ready cold | first cold | ready lost | first lost | read lost | lost/healthy |
		cells := tableRow(t, doc, "| "+size.name+" | "+strings.Repeat(" ", 7-len(size.records))+size.records+" |")
		if len(cells) != 12 || !strings.HasSuffix(cells[3], "s") || !strings.HasSuffix(cells[4], "s") ||
			!strings.HasSuffix(cells[5], "rec/s") || !strings.HasSuffix(cells[6], "s") || !strings.HasSuffix(cells[7], "s") ||
			!strings.HasSuffix(cells[8], "s") || !strings.HasSuffix(cells[10], "rec/s") || cells[11] == "-" {
			t.Fatalf("row %s: %q", size.name, cells)
		}
		// | data | run | disk | segments | deleted | after | records verified |
		d := tableRow(t, doc, "| "+size.name+" |   1 |")
		if d[3] != "4" || d[4] != "8" || d[5] != "24" {
			t.Fatalf("details %s: %q", size.name, d)
		}
		if want := map[string]string{"2.0 MiB": "4096", "4.0 MiB": "8192"}[size.name]; d[6] != want {
			t.Fatalf("details %s: %s records verified, want %s", size.name, d[6], want)
		}
	}
	fit := tableRow(t, doc[strings.Index(doc, "Seconds per GiB"):], "| ready after kill -9 ")
	if len(fit) != 4 || fit[1] == "-" || fit[3] == "-" {
		t.Fatalf("fit row: %q", fit)
	}
}

// TestBenchRecoveryWrongReadBack fills a real sluice server and checks that
// the recovery suite's read-back fails loudly when what it expects differs
// from what was put: another seed (other bytes), one record more per shard
// than was put, and a first-records check with another seed.
func TestBenchRecoveryWrongReadBack(t *testing.T) {
	dir := t.TempDir()
	bin, err := buildSluice(dir)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	srv, err := launchSluice(bin, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	if _, err := waitReady(srv, time.Now(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := createActive(srv.addr, recoveryStream, 2, time.Now().Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	c := apiload.NewClient(srv.addr)
	ranges, err := listShardRanges(c, recoveryStream)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	const perShard, size = 700, 256
	if err := recoveryFill(context.Background(), srv.addr, ranges, perShard, size, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := recoveryReadAll(srv.addr, ranges, perShard, size, 7); err != nil {
		t.Fatalf("the records put: %v", err)
	}
	if err := recoveryFirstRecords(srv.addr, ranges, perShard, size, 7); err != nil {
		t.Fatalf("the first records put: %v", err)
	}
	for name, check := range map[string]func() error{
		"other seed": func() error { _, err := recoveryReadAll(srv.addr, ranges, perShard, size, 8); return err },
		"one record more": func() error {
			_, err := recoveryReadAll(srv.addr, ranges, perShard+1, size, 7)
			return err
		},
		"one record fewer": func() error {
			_, err := recoveryReadAll(srv.addr, ranges, perShard-1, size, 7)
			return err
		},
		"other record size":         func() error { _, err := recoveryReadAll(srv.addr, ranges, perShard, size+1, 7); return err },
		"record size one less":      func() error { _, err := recoveryReadAll(srv.addr, ranges, perShard, size-1, 7); return err },
		"first records, other seed": func() error { return recoveryFirstRecords(srv.addr, ranges, perShard, size, 8) },
	} {
		err := check()
		if !errors.Is(err, apiload.ErrVerify) {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestBenchRecoveryHelpers(t *testing.T) {
	o, err := parseRecoveryFlags([]string{"--quick"})
	if err != nil || o.runs != 1 || len(o.sizes) != 2 || o.sizes[0] != 16<<20 || o.sizes[1] != 32<<20 {
		t.Fatalf("--quick: %+v, %v", o, err)
	}
	o, err = parseRecoveryFlags(nil)
	if err != nil || o.runs != 3 || len(o.sizes) != 3 || o.sizes[2] != 1<<30 || o.shards != 4 || o.recordSize != 1024 {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"--sizes", "1TB"}, {"--sizes", "1KiB"}, {"--record-size", "8"}, {"--shards", "0"}} {
		if _, err := parseRecoveryFlags(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	slope, icept := lineFit([]float64{0.25, 0.5, 1}, []float64{0.6, 1.1, 2.1})
	if math.Abs(slope-2) > 1e-9 || math.Abs(icept-0.1) > 1e-9 {
		t.Fatalf("lineFit: %v, %v", slope, icept)
	}
	if s, _ := lineFit([]float64{1}, []float64{2}); !math.IsNaN(s) {
		t.Fatal("lineFit of one point")
	}
	a := recoveryData(make([]byte, 1000), 1, 2, 3)
	if !bytes.Equal(a, recoveryData(make([]byte, 1000), 1, 2, 3)) || bytes.Equal(a, recoveryData(make([]byte, 1000), 1, 2, 4)) ||
		bytes.Equal(a, recoveryData(make([]byte, 1000), 2, 2, 3)) {
		t.Fatal("recoveryData is not a function of (seed, shard, index)")
	}
	// deleteFragments: two of six files of each segment.
	dir := t.TempDir()
	shard := filepath.Join(dir, "streams", "s-1", "shards", "shardId-000000000000")
	if err := os.MkdirAll(shard, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, seg := range []string{"00000000000000000000", "00000000000000065536"} {
		for j := range 6 {
			if err := os.WriteFile(filepath.Join(shard, seg+".0"+string(rune('0'+j))+".frag"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	segs, deleted, err := deleteFragments(dir, 2)
	left, _ := filepath.Glob(filepath.Join(shard, "*.frag"))
	if err != nil || segs != 2 || deleted != 4 || len(left) != 8 {
		t.Fatalf("deleteFragments: %d segments, %d deleted, %d left, %v", segs, deleted, len(left), err)
	}
	if _, err := os.Stat(filepath.Join(shard, "00000000000000065536.01.frag")); !os.IsNotExist(err) {
		t.Fatalf("fragment 01 not deleted: %v", err)
	}
}
