// Command sluice-bench runs sluice's benchmark suites and writes their
// results, beside baselines measured in the same run, into bench/RESULTS.md.
//
//	go run ./bench/cmd/sluice-bench segment [--quick] [--runs N] [--dir D] [--out bench/RESULTS.md]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: sluice-bench SUITE [flags]

suites:
  segment   storage engine: append, read and reconstruction throughput
            beside plain-file baselines (sluice-bench segment -h for flags)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// An interrupt stops the suite between runs; the run in flight is
	// bounded in time, and its directory is still removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "segment":
		err = runSegment(ctx, os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "sluice-bench: unknown suite %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice-bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}
