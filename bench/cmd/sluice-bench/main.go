// Command sluice-bench runs sluice's benchmark suites and writes their
// results, beside baselines measured in the same run, into bench/RESULTS.md.
//
//	go run ./bench/cmd/sluice-bench segment [--quick] [--runs N] [--dir D] [--out bench/RESULTS.md]
//	go run ./bench/cmd/sluice-bench api [--quick] [--runs N] [--only RE] [--targets T,...] [--out bench/RESULTS.md]
//	go run ./bench/cmd/sluice-bench tcp [--quick] [--runs N] [--run-time D] [--aux-time D] [--out bench/RESULTS.md]
//	go run ./bench/cmd/sluice-bench fanout [--quick] [--runs N] [--modes async,fsync] [--out bench/RESULTS.md]
//	go run ./bench/cmd/sluice-bench scale [--quick] [--runs N] [--shards 1,10,...] [--streams SxN] [--targets T,...] [--out bench/RESULTS.md]
//	go run ./bench/cmd/sluice-bench recovery [--quick] [--runs N] [--sizes 256MiB,...] [--out bench/RESULTS.md]
//	go run ./bench/cmd/sluice-bench all [--quick] [--out FILE]
//	sluice-bench discard-server --addr 127.0.0.1:PORT
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
  api       Kinesis API: PutRecords, PutRecord and GetRecords against the
            sluice server beside kinesalite, kinesis-mock and a
            discard server
            (sluice-bench api -h for flags)
  tcp       TCP ingest: the binary protocol and syslog beside the Kinesis
            JSON PutRecords path, a gnet discard server and the disk's
            sequential write bandwidth, in one process
            (sluice-bench tcp -h for flags)
  fanout    enhanced fan-out: latency from PutRecords acknowledgement to
            receipt by SubscribeToShard consumers (HTTP/2) beside GetRecords
            polling (sluice-bench fanout -h for flags)
  scale     many shards and streams: PutRecords throughput, server memory
            and CreateStream time for streams of 1 to 1000 shards and for
            many streams, beside kinesalite and kinesis-mock
            (sluice-bench scale -h for flags)
  recovery  restart after kill -9: time until /readyz and until the first
            records are served, as the stored data grows, and with 2 of 6
            fragment files of every segment deleted
            (sluice-bench recovery -h for flags)
  all       every suite in turn; --quick: briefly (about 2 minutes), results
            to a temporary file, as make test runs it to keep the suites working
  discard-server
            the api suite's discard server: reads and drops every body,
            answers canned responses (--addr host:port)
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
	case "api":
		err = runAPI(ctx, os.Args[2:])
	case "tcp":
		err = runTCP(ctx, os.Args[2:])
	case "fanout":
		err = runFanout(ctx, os.Args[2:])
	case "scale":
		err = runScale(ctx, os.Args[2:])
	case "recovery":
		err = runRecovery(ctx, os.Args[2:])
	case "all":
		err = runAll(ctx, os.Args[2:])
	case "discard-server":
		err = runDiscardServer(os.Args[2:])
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
