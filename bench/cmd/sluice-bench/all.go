package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
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
	suites := []suite{
		{"segment", runSegment, q()},
		{"api", runAPI, q("--run-time", "300ms", "--prefill", "2000", "--conns", "4", "--only", quickAPIScenarios)},
		{"tcp", runTCP, q()},
		{"fanout", runFanout, q()},
	}
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
	logf("all %d suites done in %v; results in %s", len(suites), time.Since(began).Round(time.Second), path)
	return nil
}
