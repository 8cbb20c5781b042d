// Package bench holds sluice's load generators and benchmark suites. It
// has no code of its own; see its subdirectories:
//
//   - cmd/sluice-bench: the command that runs a suite and writes its
//     section of RESULTS.md ("go run ./bench/cmd/sluice-bench segment";
//     suites segment, api, tcp, fanout, scale and recovery; "all --quick"
//     runs each briefly for make test).
//   - internal/apiload: the Kinesis API load generator (JSON or CBOR, over
//     HTTP/1.1 or h2c), the discard server, stamped record data and the
//     read-back checks (verify.go, cbor.go), and the deliberately broken
//     in-memory server that tests them (fake.go).
//   - internal/charts: the SVG charts beside RESULTS.md (gonum plot).
//   - internal/segload: bounded loads on the segment package's public API
//     (append, read, read with lost fragments) and the plain-file
//     baselines they are compared with.
//   - internal/stats: medians, percentiles, spreads and pairwise ratios.
//   - internal/machine: the machine description printed with the results.
//   - report: the Markdown section writer and tables.
//
// The fanout suite's client (h2c SubscribeToShard, paced producers,
// GetRecords poller, latency tracker, per-shard read-back checks) is
// internal/fanoutload at the module root, since cmd/sluice's
// stalled-consumer test uses it too. The fanout suite polls kinesalite and
// kinesis-mock beside sluice (procs.go starts them, as for the api suite).
//
// Every load is bounded by a count and by a deadline, and every figure is
// reported beside a baseline measured in the same run on the same file
// system, as a ratio taken pair by pair, because the machines we run on are
// shared and noisy: absolute numbers from different runs do not compare.
// What a load reads is checked as well as timed: a server that loses,
// corrupts or invents records fails the suite instead of scoring.
//
// Nothing imports bench (STYLE.md section 1). The Go benchmarks of a
// package live beside it, in *_timing_test.go files; those of the storage
// engine are in segment/append_timing_test.go.
package bench
