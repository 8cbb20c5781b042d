package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBenchTCPQuick runs the tcp suite end to end for a fraction of a
// second per target and checks the section it writes: a row per size and
// target with non-zero records/s, and the other sections kept.
func TestBenchTCPQuick(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(out, []byte("# r\n\n<!-- api:begin -->\nkept\n<!-- api:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := runTCP(ctx, []string{"--quick", "--run-time", "300ms", "--out", out, "--dir", t.TempDir(), "--profile=false",
		"--producers", "2", "--conns", "1"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "<!-- api:begin -->\nkept\n<!-- api:end -->") || !strings.Contains(doc, "<!-- tcp:begin -->\n## TCP ingest (tcp)") {
		t.Fatalf("sections:\n%s", doc)
	}
	for _, size := range []string{"100B", "1KiB"} {
		for _, target := range tcpTargets {
			if target == tcpSyslog && size != "100B" {
				continue
			}
			found := false
			for _, line := range strings.Split(doc, "\n") {
				cells := strings.Split(line, "|")
				if len(cells) > 4 && strings.TrimSpace(cells[1]) == size && strings.TrimSpace(cells[2]) == target {
					found = true
					if rate := strings.TrimSpace(cells[3]); rate == "" || strings.HasPrefix(rate, "0 ") || rate == "0" {
						t.Fatalf("%s %s: records/s %q", size, target, rate)
					}
					// Put-frame targets get their fraction of the loopback limit.
					frac := strings.TrimSpace(cells[len(cells)-2])
					if wantFrac := target == tcpBinary || target == tcpRaw || target == tcpNull || target == tcpDiscard; wantFrac != regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`).MatchString(frac) {
						t.Fatalf("%s %s: of loopback %q", size, target, frac)
					}
				}
			}
			if !found {
				t.Fatalf("no row for %s %s:\n%s", size, target, doc)
			}
		}
	}
	// The disk baseline and a PASS or MISS for each of issue 5's targets.
	if !regexp.MustCompile(`Loopback baseline \(plain TCP sockets\): \*\*[0-9]+ MB/s\*\*`).MatchString(doc) {
		t.Fatalf("no loopback baseline:\n%s", doc)
	}
	if !regexp.MustCompile(`Disk baseline \(sequential write, fdatasync\): \*\*[0-9.]+ MB/s\*\*`).MatchString(doc) {
		t.Fatalf("no disk baseline:\n%s", doc)
	}
	var targets []string
	for _, l := range []string{"binary protocol (sluicetcp client)", "binary protocol (pre-encoded frames)"} {
		targets = append(targets, "100 B records/s, "+l, "1 KiB payload MB/s x 1.50 ((k+m)/k, 4+2) / disk MB/s, "+l)
	}
	for _, size := range []string{"100B", "1KiB"} {
		targets = append(targets, size+" records/s, binary protocol (sluicetcp client) / JSON PutRecords (AWS SDK for Go v2 client)")
	}
	for _, target := range targets {
		re := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(target) + ` +\| +[0-9.]+[kM]?( \(medians: [0-9. x/]+\))? +\| +>= [0-9.]+M? +\| (PASS|MISS) +\|$`)
		if !re.MatchString(doc) {
			t.Fatalf("no verdict row for %q:\n%s", target, doc)
		}
	}
	// The ratios against the pre-encoded JSON load: for reference, no goal.
	for _, size := range []string{"100B", "1KiB"} {
		for _, l := range []string{"binary protocol (pre-encoded frames) / JSON PutRecords (pre-encoded bodies), no client on either side",
			"binary protocol (sluicetcp client) / JSON PutRecords (pre-encoded bodies)"} {
			re := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(size+" records/s, "+l) + ` +\| +[0-9.]+ +\| +- +\| - +\|$`)
			if !re.MatchString(doc) {
				t.Fatalf("no reference row for %s %q:\n%s", size, l, doc)
			}
		}
	}
}
