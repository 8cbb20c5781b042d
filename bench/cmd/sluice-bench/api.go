package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/bench/internal/charts"
	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/internal/stats"
	"github.com/sluicehq/sluice/bench/report"
)

var nan = math.NaN()

const (
	apiSection = "api"
	benchName  = "bench"
)

// Target names, in the order of the report's columns.
const (
	tgtAsync       = "sluice async"
	tgtFsync       = "sluice fsync"
	tgtKinesalite  = "kinesalite"
	tgtKinesisMock = "kinesis-mock"
	tgtDiscard     = "discard"
	// tgtPeer is not a server: run i of the faster of kinesalite and
	// kinesis-mock in round i, for the ratio columns.
	tgtPeer = "faster peer"
)

var allTargets = []string{tgtAsync, tgtFsync, tgtKinesalite, tgtKinesisMock, tgtDiscard}

// peers are the Kinesis emulators a user would otherwise run locally.
var peers = []string{tgtKinesalite, tgtKinesisMock}

func isPeer(t string) bool { return t == tgtKinesalite || t == tgtKinesisMock }

// peerFailures are the server errors of peers in this process's api runs,
// by "scenario / peer": those figures are left out, and the report says why.
var peerFailures = map[string]string{}

type apiOptions struct {
	quick     bool
	runs      int
	runTime   time.Duration
	out       string
	dir       string
	only      *regexp.Regexp
	targets   []string
	conns     int
	h2cConns  int // connections of the h2c scenarios
	streams   int // streams in flight per h2c connection
	shards    int
	prefill   int // records of the GetRecords scenario's stream
	budget    time.Duration
	sluiceBin string
}

func parseAPIFlags(args []string) (apiOptions, error) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "1 run of 500 ms per scenario and target, small GetRecords stream")
	runs := fs.Int("runs", 0, "runs per scenario and target (default 5, 1 with --quick)")
	runTime := fs.Duration("run-time", 0, "time bound of one load run (default 3s, 500ms with --quick)")
	out := fs.String("out", "bench/RESULTS.md", "results file whose api section is replaced; - for stdout only")
	dir := fs.String("dir", "", "directory for the sluice data directories (default $TMPDIR)")
	only := fs.String("only", "", "run only the scenarios whose name matches this regexp")
	targets := fs.String("targets", strings.Join(allTargets, ","), "comma-separated targets to measure")
	conns := fs.Int("conns", 8, "keep-alive HTTP/1.1 connections of the load generator")
	h2cConns := fs.Int("h2c-conns", 2, "HTTP/2 connections of the h2c scenarios")
	streams := fs.Int("h2c-streams", 4, "streams in flight per HTTP/2 connection in the h2c scenarios")
	shards := fs.Int("shards", 4, "shards of the benchmark stream (the same for every server)")
	prefill := fs.Int("prefill", 0, "records of 1 KiB in the GetRecords scenario's stream (default 40000, 8000 with --quick)")
	budget := fs.Duration("budget", 0, "start no new scenario after this long (default 100m: the 17 scenarios take about an hour with the peers)")
	sluiceBin := fs.String("sluice-bin", "", "prebuilt sluice binary (default: go build ./cmd/sluice)")
	if err := fs.Parse(args); err != nil {
		return apiOptions{}, err
	}
	if fs.NArg() > 0 {
		return apiOptions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := apiOptions{quick: *quick, runs: *runs, runTime: *runTime, out: *out, dir: *dir, conns: *conns,
		h2cConns: *h2cConns, streams: *streams, shards: *shards, prefill: *prefill, budget: *budget, sluiceBin: *sluiceBin}
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
	o.prefill = int(pick(int64(o.prefill), 40000, 8000))
	o.budget = time.Duration(pick(int64(o.budget), int64(100*time.Minute), int64(20*time.Minute)))
	if o.runs < 1 || o.runTime <= 0 || o.conns < 1 || o.h2cConns < 1 || o.streams < 1 || o.shards < 1 || o.prefill < 1 || o.budget <= 0 {
		return o, errors.New("--runs, --run-time, --conns, --h2c-conns, --h2c-streams, --shards, --prefill and --budget must be positive")
	}
	for _, t := range strings.Split(*targets, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		found := false
		for _, a := range allTargets {
			if a == t || strings.ReplaceAll(a, " ", "-") == t {
				o.targets, found = append(o.targets, a), true
			}
		}
		if !found {
			return o, fmt.Errorf("--targets: unknown target %q (known: sluice-async, sluice-fsync, kinesalite, kinesis-mock, discard)", t)
		}
	}
	if len(o.targets) == 0 {
		return o, errors.New("--targets: no target")
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

// apiScenario is one request kind.
type apiScenario struct {
	op      string // apiload.OpPutRecords, OpPutRecord or OpGetRecords
	records int    // per PutRecords request
	size    int    // record data bytes
	cbor    bool   // request bodies in CBOR (application/x-amz-cbor-1.1), else JSON
	h2c     bool   // over h2c (--h2c-conns x --h2c-streams), else HTTP/1.1 (--conns)
}

func (s apiScenario) name() string {
	var n string
	switch s.op {
	case apiload.OpPutRecords:
		n = fmt.Sprintf("PutRecords %dx%s", s.records, sizeName(s.size))
	case apiload.OpPutRecord:
		n = "PutRecord " + sizeName(s.size)
	default:
		n = fmt.Sprintf("GetRecords %s, limit %d", sizeName(s.size), readLimit)
	}
	if s.cbor {
		n += " CBOR"
	}
	if s.h2c {
		n += " h2c"
	}
	return n
}

func (s apiScenario) codec() string {
	if s.cbor {
		return apiload.CodecCBOR
	}
	return apiload.CodecJSON
}

// unsupported returns why target t cannot run s ("" if it can). The
// answers were found by trying: kinesis-mock answers CBOR PutRecords in
// CBOR and stores the records intact, kinesalite truncates CBOR answers and
// stores CBOR record data as a Node Buffer object
// (TestBenchKinesaliteCBORData);
// only kinesis-mock speaks h2c; kinesis-mock takes seconds per 4 MiB
// request.
func (s apiScenario) unsupported(t string) string {
	switch {
	case s.h2c && t == tgtKinesalite:
		return kinesaliteNoH2C
	case s.cbor && t == tgtKinesalite:
		return kinesaliteNoCBOR
	case s.size >= 64<<10 && t == tgtKinesisMock:
		return kinesisMockNoLarge
	}
	return ""
}

const (
	kinesaliteNoH2C  = "kinesalite serves HTTP/1.1 only (Node's http module): it closes a connection that opens with the HTTP/2 preface"
	kinesaliteNoCBOR = "kinesalite keeps the Data of a record put in CBOR as a serialized Node Buffer: GetRecords in JSON returns it as " +
		"{\"type\":\"Buffer\",\"data\":[...]} instead of base64, so what it stored cannot be read back and verified; it also cuts every " +
		"CBOR answer off at 16 KiB (node-cbor's encodeOne stops at its stream buffer), so its answer to a CBOR PutRecords of more than " +
		"about 150 records is truncated"
	kinesisMockNoLarge = "kinesis-mock took 6-8 s to answer a single PutRecords of 64 records of 64 KiB (5.6 MB of JSON, " +
		"under 1 MB/s), so the load's requests in flight exceed the client's 30 s timeout"
)

// putCheck is the check of s's put responses.
func (s apiScenario) putCheck() func([]byte) error {
	switch {
	case s.op == apiload.OpPutRecords && s.cbor:
		return apiload.PutAckedCBOR(s.records)
	case s.op == apiload.OpPutRecords:
		return apiload.PutAcked(s.records)
	case s.cbor:
		return apiload.PutRecordAckedCBOR
	}
	return apiload.PutRecordAcked
}

// putBody is request body k of s for stream.
func (s apiScenario) putBody(stream string, k int) []byte {
	switch {
	case s.op == apiload.OpPutRecords && s.cbor:
		return apiload.PutRecordsBodyCBOR(stream, k, s.records, s.size)
	case s.op == apiload.OpPutRecords:
		return apiload.PutRecordsBody(stream, k, s.records, s.size)
	case s.cbor:
		return apiload.PutRecordBodyCBOR(stream, k, s.size)
	}
	return apiload.PutRecordBody(stream, k, s.size)
}

// workers is the number of request goroutines of s: one per HTTP/1.1
// connection, or per h2c stream.
func (s apiScenario) workers(o apiOptions) int {
	if s.h2c {
		return o.h2cConns * o.streams
	}
	return o.conns
}

const readLimit = 10000

// maxRunData bounds the record data of one put load run (with 64 KiB
// records, 3 s of a fast server would otherwise write several GiB, all
// read back afterwards).
const maxRunData = 2 << 30

// apiScenarios are the put grid (every put request kind in JSON and CBOR,
// over HTTP/1.1 and h2c), then GetRecords.
var apiScenarios = append(putGrid(), apiScenario{op: apiload.OpGetRecords, records: readLimit, size: 1024})

// putKinds are the put request kinds of the grid. 64 records of 64 KiB are
// 4 MiB of record data, 5.6 MB of JSON: under the 10 MiB request limit
// (and AWS's former 5 MiB per request).
var putKinds = []apiScenario{
	{op: apiload.OpPutRecords, records: 500, size: 100},
	{op: apiload.OpPutRecords, records: 500, size: 1024},
	{op: apiload.OpPutRecords, records: 64, size: 64 << 10},
	{op: apiload.OpPutRecord, records: 1, size: 100},
}

// putGrid is every put kind in JSON and CBOR over HTTP/1.1 and h2c, kind by
// kind (JSON over HTTP/1.1 first).
func putGrid() []apiScenario {
	var out []apiScenario
	for _, k := range putKinds {
		for _, v := range []struct{ cbor, h2c bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			k.cbor, k.h2c = v.cbor, v.h2c
			out = append(out, k)
		}
	}
	return out
}

// apiRun is one load against one target.
type apiRun struct {
	recs, mbps, reqs float64 // per second
	p50, p99         float64 // seconds per request
	serverCPU        float64 // cores (CPU seconds / wall seconds)
	clientCPU        float64
	retries          float64 // requests resent after a dropped connection
}

// apiResults holds the runs by scenario and target.
type apiResults map[string]map[string][]apiRun

// metric is metric of target t's runs of scenario sc; for tgtPeer, run i
// is the larger of the peers' runs i.
func (r apiResults) metric(sc, t string, metric func(apiRun) float64) []float64 {
	col := func(runs []apiRun) []float64 {
		out := make([]float64, len(runs))
		for i, x := range runs {
			out[i] = metric(x)
		}
		return out
	}
	if t != tgtPeer {
		return col(r[sc][t])
	}
	var out []float64
	for _, p := range peers {
		v := col(r[sc][p])
		if len(v) == 0 {
			continue
		}
		if out == nil {
			out = v
			continue
		}
		out = out[:min(len(out), len(v))]
		for i := range out {
			out[i] = max(out[i], v[i])
		}
	}
	return out
}

func (r apiResults) add(scenario, target string, run apiRun) {
	if r[scenario] == nil {
		r[scenario] = map[string][]apiRun{}
	}
	r[scenario][target] = append(r[scenario][target], run)
}

func runAPI(ctx context.Context, args []string) error {
	o, err := parseAPIFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	root, info, err := runDir(o.dir, "api")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	var sluiceBin, kinesaliteMod, kinesisMockMod string
	for _, t := range o.targets {
		switch {
		case strings.HasPrefix(t, "sluice") && sluiceBin == "":
			sluiceBin = o.sluiceBin
			if sluiceBin == "" {
				logf("building ./cmd/sluice")
				if sluiceBin, err = buildSluice(root); err != nil {
					return err
				}
			}
		case t == tgtKinesalite:
			if kinesaliteMod, err = installKinesalite(); err != nil {
				return err
			}
		case t == tgtKinesisMock:
			if kinesisMockMod, err = installKinesisMock(); err != nil {
				return err
			}
		}
	}
	start := func(t string) (*server, error) {
		switch t {
		case tgtAsync:
			return startSluice(sluiceBin, root, "async")
		case tgtFsync:
			return startSluice(sluiceBin, root, "fsync")
		case tgtKinesalite:
			return startKinesalite(kinesaliteMod, root)
		case tgtKinesisMock:
			return startKinesisMock(kinesisMockMod, root)
		}
		return startDiscard()
	}

	logf("api suite: %d run(s) per scenario and target, %v per load run, %d connections, %d shards, targets %s",
		o.runs, o.runTime, o.conns, o.shards, strings.Join(o.targets, ", "))
	results := apiResults{}
	var scenarios []apiScenario
	for _, s := range apiScenarios {
		if o.only == nil || o.only.MatchString(s.name()) {
			scenarios = append(scenarios, s)
		}
	}
	began := time.Now()
	stopped := ""
	for _, s := range scenarios {
		if why := shouldStop(ctx, began, o.budget); why != "" {
			stopped = why
			break
		}
		logf("scenario %d/%d: %s (%v so far)", len(results)+1, len(scenarios), s.name(), time.Since(began).Round(time.Second))
		if err := runAPIScenario(ctx, o, s, start, results); err != nil {
			return fmt.Errorf("%s: %w", s.name(), err)
		}
	}
	if stopped != "" {
		logf("stopped early: %s", stopped)
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; results not written")
	}
	body := apiSectionText(o, info, time.Since(began), stopped, scenarios, results)
	apiHeadlines(results)
	return publish(o.out, apiSection, body, func() (string, error) { return apiChart(o, scenarios, results) })
}

// runAPIScenario starts every target fresh, creates the stream (and fills
// it for GetRecords), runs the loads round by round (run i of every target,
// then run i+1) and stops the targets.
func runAPIScenario(ctx context.Context, o apiOptions, s apiScenario, start func(string) (*server, error), results apiResults) error {
	servers := map[string]*server{}
	defer func() {
		var wg sync.WaitGroup
		for _, srv := range servers {
			wg.Go(srv.stop)
		}
		wg.Wait()
	}()
	shardIDs := map[string][]string{}
	shardRecords := map[string][]int64{}
	var targets []string // those that can run s
	for _, t := range o.targets {
		if why := s.unsupported(t); why != "" {
			logf("%s: %s skipped: %s", s.name(), t, why)
			continue
		}
		targets = append(targets, t)
	}
	for _, t := range targets {
		srv, err := start(t)
		if err != nil {
			return err
		}
		servers[t] = srv
		if err := apiload.CreateStream(srv.addr, benchName, o.shards, 30*time.Second); err != nil {
			return fmt.Errorf("%s: create stream: %w", t, err)
		}
		// The discard server stores nothing: only its answers' shape is checked.
		verify := t != tgtDiscard
		switch {
		case s.op == apiload.OpGetRecords && verify:
			want, resent, err := prefill(srv.addr, o)
			if err != nil {
				return fmt.Errorf("%s: fill the stream: %w", t, err)
			}
			ids, perShard, got, err := apiload.ReadStream(srv.addr, benchName)
			if err == nil {
				err = apiload.CompareResent(want, resent, got)
			}
			if err != nil {
				return fmt.Errorf("%s: %w: the stream read back after filling it: %w", t, apiload.ErrVerify, err)
			}
			shardIDs[t], shardRecords[t] = ids, perShard
		case s.op == apiload.OpGetRecords:
			ids, err := apiload.ShardIDs(srv.addr, benchName)
			if err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			shardIDs[t] = ids
		case verify:
			if err := verifyPut(srv.addr, o, s); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
	}
	var bodies [][]byte
	if s.op != apiload.OpGetRecords {
		bodies = make([][]byte, s.workers(o))
		for k := range bodies {
			bodies[k] = s.putBody(benchName, k)
		}
	}
	// acked[t] counts how often each record was acknowledged by target t's
	// put loads (worker w sends bodies[w%len(bodies)], body k's record i is
	// RecordID{k, i}).
	acked := map[string]map[apiload.RecordID]int{}
	resent := map[string]map[apiload.RecordID]int{} // the same for requests sent twice
	failed := map[string]bool{}                     // peers left out after a server error
	for i := range o.runs {
		for _, t := range targets {
			if ctx.Err() != nil {
				return nil
			}
			if failed[t] {
				continue
			}
			srv := servers[t]
			runtime.GC()
			cpu0, self0 := srv.cpuSeconds(), selfCPUSeconds()
			sample := func() { cpu0, self0 = srv.cpuSeconds(), selfCPUSeconds() }
			var res apiload.Result
			if s.op == apiload.OpGetRecords {
				res = apiload.RunRead(apiload.ReadConfig{Addr: srv.addr, Stream: benchName, Shards: shardIDs[t],
					Conns: o.conns, Limit: readLimit, MaxRequests: 1 << 20, MaxDuration: o.runTime,
					Verify: t != tgtDiscard, ShardRecords: shardRecords[t]})
			} else {
				cfg := apiload.Config{Addr: srv.addr, Op: s.op, Conns: o.conns, Codec: s.codec(), Body: bodies,
					RecordsPerRequest: s.records, DataBytesPerRequest: s.records * s.size, Check: s.putCheck(),
					MaxRequests: min(50_000_000/int64(s.records), maxRunData/int64(s.records*s.size)),
					MaxDuration: o.runTime, OnStart: sample}
				if s.h2c {
					cfg.H2C, cfg.Conns, cfg.Streams = true, o.h2cConns, o.streams
				}
				res = apiload.Run(cfg)
			}
			cpu1, self1 := srv.cpuSeconds(), selfCPUSeconds()
			if res.Err != nil && isPeer(t) && !errors.Is(res.Err, apiload.ErrVerify) {
				// A peer's server error (not a wrong answer) is a fact
				// about the peer, not a reason to throw the run away: its
				// figures for this scenario are left out, with the error.
				peerFailures[s.name()+" / "+t] = fmt.Sprintf("run %d: %v", i+1, res.Err)
				logf("%s: %s failed in run %d and is left out of this scenario: %v", s.name(), t, i+1, res.Err)
				delete(results[s.name()], t)
				failed[t] = true
				continue
			}
			if res.Err != nil {
				return fmt.Errorf("%s, run %d: %w", t, i+1, res.Err)
			}
			if res.Requests == 0 {
				return fmt.Errorf("%s, run %d: no request finished", t, i+1)
			}
			if acked[t] == nil {
				acked[t], resent[t] = map[apiload.RecordID]int{}, map[apiload.RecordID]int{}
			}
			for w, n := range res.Acked {
				for j := range s.records {
					id := apiload.RecordID{K: w % len(bodies), I: j}
					acked[t][id] += int(n)
					resent[t][id] += int(res.Resent[w])
				}
			}
			secs := res.Elapsed.Seconds()
			lat := stats.DurationPercentiles(res.Latencies, 50, 99)
			r := apiRun{recs: float64(res.Records) / secs, mbps: float64(res.DataBytes) / secs / 1e6,
				reqs: float64(res.Requests) / secs, p50: lat[0].Seconds(), p99: lat[1].Seconds(),
				serverCPU: (cpu1 - cpu0) / secs, clientCPU: (self1 - self0) / secs, retries: float64(res.Retries)}
			results.add(s.name(), t, r)
			logf("[run %d/%d] %-28s %-13s %10s rec/s %7.1f MB/s %9s req/s p50 %s p99 %s | CPU server %.2f client %.2f | retries %d",
				i+1, o.runs, s.name(), t, fmtRate(r.recs), r.mbps, fmtRate(r.reqs), fmtDur(r.p50), fmtDur(r.p99), r.serverCPU, r.clientCPU, res.Retries)
		}
	}
	if s.op == apiload.OpGetRecords {
		return nil
	}
	// Every record acknowledged under load must be in the stream, intact.
	for _, t := range targets {
		if t == tgtDiscard || failed[t] {
			continue
		}
		t0 := time.Now()
		got, err := apiload.CountStream(servers[t].addr, benchName, 3*time.Minute)
		if err == nil {
			err = apiload.CompareResent(acked[t], resent[t], got)
		}
		if err != nil {
			return fmt.Errorf("%s: %w: the stream read back after the loads: %w", t, apiload.ErrVerify, err)
		}
		n := 0
		for _, c := range got {
			n += c
		}
		logf("verified %s: %d records acknowledged, all read back intact in %v", t, n, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// prefill writes o.prefill records of 1 KiB with random partition keys
// and returns how often each record was acknowledged, and how often it was
// resent after a connection failure.
func prefill(addr string, o apiOptions) (want, resent map[apiload.RecordID]int, err error) {
	const per = 500
	bodies := make([][]byte, o.conns)
	for k := range bodies {
		bodies[k] = apiload.PutRecordsBody(benchName, 1000+k, per, 1024)
	}
	// Two connections: eight requests of 500 KiB in flight took kinesis-mock
	// past the client's timeout; sluice fills the stream in milliseconds
	// either way.
	res := apiload.Run(apiload.Config{Addr: addr, Op: apiload.OpPutRecords, Conns: min(o.conns, 2), Body: bodies,
		RecordsPerRequest: per, Check: apiload.PutAcked(per),
		MaxRequests: int64((o.prefill + per - 1) / per), MaxDuration: 5 * time.Minute})
	if res.Err != nil {
		return nil, nil, res.Err
	}
	want, resent = map[apiload.RecordID]int{}, map[apiload.RecordID]int{}
	total := 0
	for w, n := range res.Acked {
		for i := range per {
			id := apiload.RecordID{K: 1000 + w%len(bodies), I: i}
			want[id] += int(n)
			resent[id] += int(res.Resent[w])
		}
		total += int(n) * per
	}
	logf("filled the stream with %d records of 1KiB in %v", total, res.Elapsed.Round(time.Millisecond))
	return want, resent, nil
}

// verifyPut checks, before a put scenario's timed runs, that the server
// stores what it acknowledges: a stream of its own gets a few requests of
// the scenario's kind, one at a time, and is read back in full; every
// record must come back once, with the data and partition key it was
// written with.
func verifyPut(addr string, o apiOptions, s apiScenario) error {
	const stream = "benchverify"
	if err := apiload.CreateStream(addr, stream, o.shards, 30*time.Second); err != nil {
		return fmt.Errorf("create stream %s: %w", stream, err)
	}
	want := map[apiload.RecordID]int{}
	c := apiload.NewConn(addr, s.codec(), s.h2c)
	defer c.Close()
	calls, n := 4, s.records
	if s.op == apiload.OpPutRecord {
		calls = 40
	}
	check := s.putCheck()
	for k := 2000; k < 2000+calls; k++ {
		b, err := c.Do(s.op, s.putBody(stream, k))
		if err == nil {
			err = check(b)
		}
		if err != nil {
			return fmt.Errorf("%w: %s to %s: %w", apiload.ErrVerify, s.op, stream, err)
		}
		for i := range n {
			want[apiload.RecordID{K: k, I: i}]++
		}
	}
	_, _, got, err := apiload.ReadStream(addr, stream)
	if err == nil {
		err = apiload.Compare(want, got)
	}
	if err != nil {
		return fmt.Errorf("%w: stream %s read back: %w", apiload.ErrVerify, stream, err)
	}
	return nil
}

// apiTarget is the pass/miss rule of a scenario on sluice async. The
// targets of the Kinesis API issue are for JSON over HTTP/1.1.
func apiTarget(s apiScenario) (text string, ok func(recs, reqs, vsPeer float64) bool) {
	switch {
	case s.op == apiload.OpPutRecords && s.size == 100 && !s.cbor && !s.h2c:
		return ">= 1.00M records/s and >= 50x the faster peer", func(recs, _, vp float64) bool { return recs >= 1e6 && vp >= 50 }
	case s.op == apiload.OpPutRecord && !s.cbor && !s.h2c:
		return ">= 50k requests/s", func(_, reqs, _ float64) bool { return reqs >= 50000 }
	}
	return "", nil
}

func apiSectionText(o apiOptions, info machine.Info, took time.Duration, stopped string, scenarios []apiScenario, results apiResults) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Kinesis API (api)\n\n")
	cmd := "go run ./bench/cmd/sluice-bench api"
	if o.quick {
		cmd += " --quick"
	}
	w("Generated by `%s`: %d run(s) per scenario and target, %v time bound per load run, %d keep-alive connections,\n",
		cmd, o.runs, o.runTime, o.conns)
	w("a stream of %d shards; took %v.", o.shards, took.Round(time.Second))
	if stopped != "" {
		w(" Stopped early (%s): some scenarios are missing.", stopped)
	}
	w("\n\n")
	for _, l := range info.Lines() {
		w("%s\n", l)
	}
	w("\nFigures are medians over runs with [min-max]; a ratio is taken run by run (run i of sluice / run i of the\n")
	w("baseline, measured one after the other in the same round), then the median. The client (this process) shares\n")
	w("the 2 cores with the server. MB/s counts record data, 1 MB = 10^6 bytes.\n\n")

	get := func(sc, t string) []apiRun { return results[sc][t] }
	col := func(runs []apiRun, f func(apiRun) float64) []float64 {
		out := make([]float64, len(runs))
		for i, r := range runs {
			out[i] = f(r)
		}
		return out
	}
	has := func(t string) bool {
		for _, x := range o.targets {
			if x == t {
				return true
			}
		}
		return false
	}
	npeers := 0
	for _, p := range peers {
		if has(p) {
			npeers++
		}
	}
	metricCol := func(sc, t string, metric func(apiRun) float64) []float64 {
		return results.metric(sc, t, metric)
	}
	header := []string{"scenario"}
	align := []byte{'l'}
	for _, t := range allTargets {
		if has(t) {
			header, align = append(header, t), append(align, 'r')
		}
	}
	type pair struct{ a, b string }
	var pairs []pair
	for _, p := range []pair{{tgtAsync, tgtKinesalite}, {tgtAsync, tgtKinesisMock}, {tgtAsync, tgtPeer},
		{tgtAsync, tgtDiscard}, {tgtFsync, tgtPeer}, {tgtFsync, tgtAsync}} {
		hasB := has(p.b)
		if p.b == tgtPeer {
			// With one peer, its own column is the faster peer's.
			hasB = npeers == 2 || (npeers == 1 && p.a == tgtFsync)
		}
		if has(p.a) && hasB {
			pairs = append(pairs, p)
			header, align = append(header, short(p.a)+" / "+short(p.b)), append(align, 'r')
		}
	}
	header, align = append(header, "target (async)", "result"), append(align, 'l', 'l')
	tb := report.Table{Header: header, Align: align}
	for _, s := range scenarios {
		if results[s.name()] == nil {
			continue
		}
		metric, unit := func(r apiRun) float64 { return r.recs }, "records/s"
		if s.op == apiload.OpPutRecord {
			metric, unit = func(r apiRun) float64 { return r.reqs }, "requests/s"
		}
		row := []string{s.name() + ": " + unit}
		for _, t := range allTargets {
			if has(t) {
				row = append(row, fmtSummary(stats.Summarize(col(get(s.name(), t), metric)), fmtRate))
			}
		}
		vsPeer := nan
		if ra, rb := metricCol(s.name(), tgtAsync, metric), metricCol(s.name(), tgtPeer, metric); len(ra) > 0 && len(rb) > 0 {
			n := min(len(ra), len(rb))
			vsPeer = stats.Summarize(stats.Ratios(ra[:n], rb[:n])).Median
		}
		for _, p := range pairs {
			ra, rb := metricCol(s.name(), p.a, metric), metricCol(s.name(), p.b, metric)
			n := min(len(ra), len(rb))
			sum := stats.Summarize(stats.Ratios(ra[:n], rb[:n]))
			row = append(row, fmtSummary(sum, fmtRatioWide))
		}
		text, ok := apiTarget(s)
		res := "-"
		if ok != nil {
			async := get(s.name(), tgtAsync)
			switch {
			case len(async) == 0:
				res = "MISS (no data)"
			case ok(stats.Median(col(async, func(r apiRun) float64 { return r.recs })),
				stats.Median(col(async, func(r apiRun) float64 { return r.reqs })), vsPeer):
				res = "PASS"
			default:
				res = "MISS"
			}
		} else {
			text = "-"
		}
		tb.Add(append(row, text, res)...)
	}
	b.WriteString(tb.Markdown())

	w("\nDetails (medians). Latency is per HTTP request (for PutRecords: of the scenario's records); CPU is cores busy over the\n")
	w("load (CPU seconds / wall seconds, from /proc/PID/stat for the server and getrusage for the client).\n\n")
	dt := report.Table{Header: []string{"scenario", "target", "runs", "records/s", "MB/s", "requests/s", "p50", "p99", "server CPU", "client CPU", "retries"},
		Align: []byte{'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'}}
	for _, s := range scenarios {
		for _, t := range allTargets {
			runs := get(s.name(), t)
			if len(runs) == 0 {
				continue
			}
			med := func(f func(apiRun) float64) float64 { return stats.Median(col(runs, f)) }
			dt.Add(s.name(), t, fmt.Sprint(len(runs)), fmtRate(med(func(r apiRun) float64 { return r.recs })),
				fmtRate(med(func(r apiRun) float64 { return r.mbps })), fmtRate(med(func(r apiRun) float64 { return r.reqs })),
				fmtDur(med(func(r apiRun) float64 { return r.p50 })), fmtDur(med(func(r apiRun) float64 { return r.p99 })),
				fmt.Sprintf("%.2f", med(func(r apiRun) float64 { return r.serverCPU })),
				fmt.Sprintf("%.2f", med(func(r apiRun) float64 { return r.clientCPU })),
				fmt.Sprint(sumRuns(runs, func(r apiRun) float64 { return r.retries })))
		}
	}
	b.WriteString(dt.Markdown())

	w("\nMethod:\n\n")
	w("- Client: this process, a Go load generator on the fasthttp client, one goroutine per keep-alive HTTP/1.1\n")
	w("  connection sending back to back (%d in flight; h2c scenarios below). Request bodies are JSON 1.1 (CBOR\n", o.conns)
	w("  scenarios: CBOR 1.1) encoded once before the clock starts (JSON: standard base64 data; random bytes; 16-hex-digit\n")
	w("  partition keys spread over the hash key space; one distinct body per connection or stream, %d over HTTP/1.1),\n", o.conns)
	w("  with a SigV4-shaped Authorization header that no server checks. A load ends after its time bound or\n")
	w("  its request count (or %d GiB of record data), whichever comes first; every response must be 200, and every\n", maxRunData>>30)
	w("  PutRecords response must report `\"FailedRecordCount\":0`. One warm-up request per connection (h2c: per stream) is\n")
	w("  not timed (nor its CPU). A request whose connection dropped is sent once more on a new connection (column\n")
	w("  retries, total over runs).\n")
	var hasCBOR, hasH2C, hasLarge bool
	for _, s := range scenarios {
		hasCBOR, hasH2C, hasLarge = hasCBOR || s.cbor, hasH2C || s.h2c, hasLarge || s.size >= 64<<10
	}
	if hasCBOR {
		w("- CBOR scenarios: bodies in `application/x-amz-cbor-1.1` as the AWS SDK for Java sends them (internal/cborclient:\n")
		w("  indefinite-length maps and arrays, members in model order, Data a byte string, PartitionKey a text string).\n")
		w("  The answer must carry the CBOR Content-Type and be a CBOR map with FailedRecordCount 0 and a Records array\n")
		w("  with one entry per record sent, each with a SequenceNumber and ShardId and no ErrorCode (walked in place,\n")
		w("  not decoded into values). kinesis-mock answers CBOR in CBOR and stores the records intact. kinesalite: \"-\",\n")
		w("  %s.\n", kinesaliteNoCBOR)
	}
	if hasH2C {
		w("- h2c scenarios: HTTP/2 cleartext with prior knowledge (the connection preface, no Upgrade; JSON bodies),\n")
		w("  golang.org/x/net/http2's Transport with AllowHTTP and a plain-TCP DialTLSContext, %d connections with %d\n", o.h2cConns, o.streams)
		w("  streams in flight each (%d in flight; StrictMaxConcurrentStreams, so no connection beyond those), one goroutine\n", o.h2cConns*o.streams)
		w("  per stream; every answer must come over HTTP/2. sluice serves h2c on its API port. kinesalite: \"-\", %s.\n", kinesaliteNoH2C)
		w("  kinesis-mock answers h2c.\n")
	}
	if hasLarge {
		w("- PutRecords of 64 KiB records: 4 MiB of data per request (5.6 MB of JSON), under the 10 MiB request limit.\n")
		w("  kinesis-mock: \"-\", %s.\n", kinesisMockNoLarge)
	}
	if len(peerFailures) > 0 {
		w("- Peers left out of a scenario after a server error (not a wrong answer: those fail the suite), \"-\" in its row:\n")
		for _, k := range slices.Sorted(maps.Keys(peerFailures)) {
			w("  %s: %s.\n", k, peerFailures[k])
		}
	}
	w("- sluice: `./cmd/sluice` built once, a separate process on 127.0.0.1 with a fresh `--data-dir` under %s per\n", info.Mount)
	w("  scenario (%s), `--durability async` and `fsync` as two targets.\n", info.FSType)
	w("- kinesalite %s from npm (installed once into $HOME/.cache/sluice/npm-kinesalite-%s), in memory, started by a\n", kinesaliteVersion, kinesaliteVersion)
	w("  Node script that listens on 127.0.0.1 (createStreamMs 0).\n")
	w("- kinesis-mock %s (npm `kinesis-local`, the Scala.js build; installed once into\n", kinesisMockVersion)
	w("  $HOME/.cache/sluice/npm-kinesis-local-%s), in memory, started by a Node script that forces its listeners onto\n", kinesisMockVersion)
	w("  127.0.0.1 (it binds 0.0.0.0), with KINESIS_MOCK_CERT_PATH at the package's server.json, its plain and TLS\n")
	w("  ports in KINESIS_MOCK_PLAIN_PORT / KINESIS_MOCK_TLS_PORT (requests go to the plain port), CREATE_STREAM_DURATION 0ms.\n")
	w("- faster peer: in each round, the higher figure of kinesalite and kinesis-mock (where one is \"-\", the other);\n")
	w("  the ratio to it is the headline.\n")
	w("- discard: `sluice-bench discard-server`, a fasthttp server in its own process that reads each body, drops it and\n")
	w("  answers a canned response of realistic size (PutRecords: one entry per record sent, counted, not parsed, in\n")
	w("  JSON, or in CBOR as wire/kinesis encodes it for CBOR requests; GetRecords: %d records of 1 KiB): the ceiling\n", apiload.DiscardReadRecords)
	w("  of this client and the HTTP path.\n")
	w("  Connections that open with the HTTP/2 preface go to golang.org/x/net/http2's server instead (as in sluice),\n")
	w("  with the same answers.\n")
	w("- Every server starts fresh per scenario with a stream `bench` of %d shards; the runs of all targets then\n", o.shards)
	w("  alternate (run 1 of each target, run 2 of each, ...). GetRecords: the stream is first filled with %d records\n", o.prefill)
	w("  of 1 KiB (PutRecords, untimed); each connection reads shard i%%%d from TRIM_HORIZON with Limit %d, following\n", o.shards, readLimit)
	w("  NextShardIterator, and takes a new iterator at the end of the shard. The client parses every GetRecords\n")
	w("  response to count records and data.\n")
	w("- What is read is verified, not only timed (the discard server excepted): every record's data carries a stamp\n")
	w("  (body, record number, size) and a tail shared by its size. Every PutRecords answer must list a sequence\n")
	w("  number for each record sent. Before a put scenario's runs, a stream of its own gets a few requests one at a\n")
	w("  time and is read back in full (data and partition key of each record, each exactly once); after the runs,\n")
	w("  the bench stream is read back and each record must appear as often as it was acknowledged (read back in JSON\n")
	w("  over HTTP/1.1 for the CBOR and h2c scenarios too, so CBOR byte strings must come back as the same data). GetRecords: the\n")
	w("  filled stream is read back the same way before the runs, each record read under load is checked, and each\n")
	w("  pass over a shard must read the shard's record count. A mismatch fails the suite (`verification failed`).\n")
	return b.String()
}

func sumRuns(runs []apiRun, f func(apiRun) float64) float64 {
	t := 0.0
	for _, r := range runs {
		t += f(r)
	}
	return t
}

// short abbreviates a target name for a ratio column header.
func short(t string) string {
	switch t {
	case tgtAsync:
		return "async"
	case tgtFsync:
		return "fsync"
	}
	return t
}

// fmtRatioWide formats ratios that may be far above 1.
func fmtRatioWide(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 10:
		return fmt.Sprintf("%.0fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}

// runDiscardServer is the discard-server subcommand.
func runDiscardServer(args []string) error {
	fs := flag.NewFlagSet("discard-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4599", "host:port to listen on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "discard server on %s\n", ln.Addr())
	return apiload.ServeDiscard(ln)
}

// apiChartName is the api suite's chart, beside the results file.
const apiChartName = "api-throughput.svg"

// apiChart draws the median records/s of every scenario and target (log
// scale) beside o.out and returns the Markdown that shows it.
func apiChart(o apiOptions, scenarios []apiScenario, results apiResults) (string, error) {
	var groups []string
	var scs []apiScenario
	for _, s := range scenarios {
		if results[s.name()] != nil {
			groups, scs = append(groups, s.name()), append(scs, s)
		}
	}
	var series []string
	var values [][]float64
	for _, t := range allTargets {
		row := make([]float64, len(scs))
		any := false
		for g, s := range scs {
			row[g] = nan
			if runs := results[s.name()][t]; len(runs) > 0 {
				v := make([]float64, len(runs))
				for i, r := range runs {
					v[i] = r.recs
				}
				row[g], any = stats.Median(v), true
			}
		}
		if any {
			series, values = append(series, t), append(values, row)
		}
	}
	path := filepath.Join(filepath.Dir(o.out), apiChartName)
	if err := charts.Bars(path, "Kinesis API: records/s (median, log scale)", "records/s", groups, series, values, fmtRate); err != nil {
		return "", err
	}
	logf("wrote %s", path)
	return "\n![Kinesis API throughput per scenario and target](" + apiChartName + ")\n", nil
}
