package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/report"
)

// quickAPIScenarios are the api scenarios of `all --quick`: one of each
// request kind (PutRecords, PutRecord, GetRecords), and PutRecords in CBOR.
const quickAPIScenarios = `^(PutRecords 500x100B|PutRecords 500x100B CBOR|PutRecord 100B|GetRecords .*)$`

// runAll is the all subcommand: every suite in turn. With --quick, each
// runs briefly (about 2 minutes in all) and writes to a results file in a
// temporary directory, removed at the end unless --out names one: a check
// that the suites still run, whose figures mean nothing.
func runAll(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "every suite briefly, results to a temporary file (for make test)")
	out := fs.String("out", "", "results file (default bench/RESULTS.md; with --quick a temporary file)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	path := *out
	if path == "" && !*quick {
		path = "bench/RESULTS.md"
	}
	if path == "" {
		dir, err := os.MkdirTemp("", "sluice-bench-quick-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "RESULTS.md")
	}
	type suite struct {
		name string
		run  func(context.Context, []string) error
		args []string
	}
	q := func(extra ...string) []string {
		if !*quick {
			return append([]string{"--out", path}, extra[:0]...)
		}
		return append([]string{"--quick", "--out", path}, extra...)
	}
	// full adds args to a suite's arguments of a full (not --quick) run.
	full := func(args []string, extra ...string) []string {
		if *quick {
			return args
		}
		return append(args, extra...)
	}
	suites := []suite{
		{"segment", runSegment, q()},
		// Three runs per scenario in a full run: the 17 scenarios with
		// the peers take about 30 minutes (five runs: about 50).
		{"api", runAPI, full(q("--run-time", "300ms", "--prefill", "2000", "--conns", "4", "--only", quickAPIScenarios), "--runs", "3")},
		// Two rounds, so that every tcp figure has a spread (about 9
		// minutes; one round is the suite's own default).
		{"tcp", runTCP, full(q(), "--runs", "2")},
		{"fanout", runFanout, q()},
		// kinesis-mock takes tens of seconds per request on one shard;
		// the api suite's quick pass keeps it covered.
		{"scale", runScale, q("--targets", "sluice-async,kinesalite")},
		{"recovery", runRecovery, q()},
	}
	resetHeadlines()
	began := time.Now()
	for i, s := range suites {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t0 := time.Now()
		logf("=== suite %d/%d: %s", i+1, len(suites), s.name)
		if err := s.run(ctx, s.args); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		logf("=== suite %s done in %v", s.name, time.Since(t0).Round(time.Second))
	}
	if err := writeHeadline(path, !*quick && *out == ""); err != nil {
		return err
	}
	logf("all %d suites done in %v; results in %s", len(suites), time.Since(began).Round(time.Second), path)
	return nil
}

// writeHeadline writes the headline section into the results file at
// path and, when readme is set (a full run into bench/RESULTS.md), into
// README.md too, with the api chart.
func writeHeadline(path string, readme bool) error {
	info := machine.Describe(filepath.Dir(path))
	line := fmt.Sprintf("%d CPUs (%s), %.1f GiB of memory, %s, %s.", info.CPUs, info.Model, float64(info.MemBytes)/(1<<30),
		info.GoVersion, info.Date.UTC().Format("2006-01-02"))
	var charts []string
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), apiChartName)); err == nil {
		charts = append(charts, "![Kinesis API records/s, sluice and peers]("+apiChartName+")")
	}
	if err := report.WriteSection(path, resultsTitle, headlineSection, headlineText("## Headline", line, charts)); err != nil {
		return err
	}
	if !readme {
		return nil
	}
	for i, c := range charts {
		charts[i] = strings.Replace(c, "("+apiChartName, "(bench/"+apiChartName, 1)
	}
	if err := report.WriteSection(readmePath, "sluice", headlineSection, headlineText("### Headline figures", line, charts)); err != nil {
		return err
	}
	logf("wrote section %q of %s and %s", headlineSection, path, readmePath)
	return nil
}
