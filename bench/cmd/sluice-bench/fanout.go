package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/bench/internal/charts"
	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/internal/stats"
	"github.com/sluicehq/sluice/bench/report"
	"github.com/sluicehq/sluice/internal/fanoutload"
)

const (
	fanoutSection = "fanout"
	fanoutStream  = "fanout"
)

// Targets of the async SubscribeToShard latency (issue 4).
const (
	fanoutTargetP50 = 2 * time.Millisecond
	fanoutTargetP99 = 10 * time.Millisecond
)

type fanoutOptions struct {
	quick        bool
	runs         int
	runTime      time.Duration // measured part of a pass
	warmup       time.Duration // load before the measured part
	drain        time.Duration // wait for the last records after the load
	rate         float64       // records/s, all producers together
	shards       int
	consumers    int // registered consumers, each subscribed to every shard
	producers    int
	batch        int
	size         int
	pollInterval time.Duration
	modes        []string
	out, dir     string
	sluiceBin    string
}

func parseFanoutFlags(args []string) (fanoutOptions, error) {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "1 s measured, 500 ms warm-up, 2000 records/s: a smoke test of the harness")
	runs := fs.Int("runs", 1, "passes per durability mode (the modes alternate)")
	runTime := fs.Duration("run-time", 0, "measured time of one pass (default 20s, 1s with --quick)")
	warmup := fs.Duration("warmup", 0, "load before the measured time (default 3s, 500ms with --quick)")
	drain := fs.Duration("drain", 3*time.Second, "longest wait for the last records after the load")
	rate := fs.Float64("rate", 0, "PutRecords records/s over all producers (default 10000, 2000 with --quick)")
	shards := fs.Int("shards", 4, "shards of the stream")
	consumers := fs.Int("consumers", 2, "enhanced fan-out consumers, each subscribed to every shard (consumers per shard)")
	producers := fs.Int("producers", 16, "producers, each on its own HTTP/1.1 connection")
	batch := fs.Int("batch", 25, "records per PutRecords request")
	size := fs.Int("size", 1024, "data bytes per record")
	poll := fs.Duration("poll-interval", 200*time.Millisecond, "GetRecords polling interval")
	modes := fs.String("modes", "async,fsync", "comma-separated durability modes, one pass each per run")
	out := fs.String("out", "bench/RESULTS.md", "results file whose fanout section is replaced; - for stdout only")
	dir := fs.String("dir", "", "directory for the sluice data directories (default $TMPDIR)")
	sluiceBin := fs.String("sluice-bin", "", "prebuilt sluice binary (default: go build ./cmd/sluice)")
	if err := fs.Parse(args); err != nil {
		return fanoutOptions{}, err
	}
	if fs.NArg() > 0 {
		return fanoutOptions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := fanoutOptions{quick: *quick, runs: *runs, runTime: *runTime, warmup: *warmup, drain: *drain, rate: *rate,
		shards: *shards, consumers: *consumers, producers: *producers, batch: *batch, size: *size,
		pollInterval: *poll, out: *out, dir: *dir, sluiceBin: *sluiceBin}
	pickDur := func(v, normal, fast time.Duration) time.Duration {
		switch {
		case v != 0:
			return v
		case o.quick:
			return fast
		}
		return normal
	}
	o.runTime = pickDur(o.runTime, 20*time.Second, time.Second)
	o.warmup = pickDur(o.warmup, 3*time.Second, 500*time.Millisecond)
	if o.rate == 0 {
		o.rate = 10000
		if o.quick {
			o.rate = 2000
		}
	}
	if o.runs < 1 || o.runTime <= 0 || o.warmup < 0 || o.drain <= 0 || o.rate <= 0 || o.shards < 1 || o.consumers < 1 ||
		o.producers < 1 || o.batch < 1 || o.pollInterval <= 0 {
		return o, errors.New("--runs, --run-time, --drain, --rate, --shards, --consumers, --producers, --batch and --poll-interval must be positive")
	}
	if o.size < fanoutload.StampLen {
		return o, fmt.Errorf("--size must be at least %d (the record id stamp)", fanoutload.StampLen)
	}
	for _, m := range strings.Split(*modes, ",") {
		switch m = strings.TrimSpace(m); m {
		case "":
		case "async", "fsync":
			o.modes = append(o.modes, m)
		default:
			return o, fmt.Errorf("--modes: unknown durability mode %q (async, fsync)", m)
		}
	}
	if len(o.modes) == 0 {
		return o, errors.New("--modes: no mode")
	}
	return o, nil
}

// fanoutPass is the outcome of one pass (one server, one durability mode).
type fanoutPass struct {
	mode string
	// Per reader kind, pooled over its consumers.
	efo, poll fanoutload.Latencies
	put       []time.Duration // PutRecords round trips
	records   int64           // acknowledged in the measured window
	offered   float64         // records/s asked for
	achieved  float64         // records/s acknowledged over the whole load
	late      int64           // requests sent more than one interval late
	serverCPU float64         // cores, over the whole load
	clientCPU float64
	busy      float64 // cores busy on the whole machine (/proc/stat)
	load1     [2]float64
	pending   int // records still not received when the drain ended
}

func runFanout(ctx context.Context, args []string) error {
	o, err := parseFanoutFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	dir := o.dir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info := machine.Describe(dir)
	root, err := os.MkdirTemp(dir, "sluice-bench-fanout-")
	if err != nil {
		return fmt.Errorf("cannot create run directory: %w", err)
	}
	defer os.RemoveAll(root)
	bin := o.sluiceBin
	if bin == "" {
		logf("building ./cmd/sluice")
		if bin, err = buildSluice(root); err != nil {
			return err
		}
	}
	logf("fanout suite: %d pass(es) per mode (%s), %v measured after %v warm-up, %.0f records/s of %s over %d shards, %d consumers per shard, GetRecords every %v",
		o.runs, strings.Join(o.modes, ", "), o.runTime, o.warmup, o.rate, sizeName(o.size), o.shards, o.consumers, o.pollInterval)
	began := time.Now()
	var passes []fanoutPass
	for i := range o.runs {
		for _, mode := range o.modes {
			if ctx.Err() != nil {
				return errors.New("interrupted; results not written")
			}
			p, err := runFanoutPass(ctx, o, bin, root, mode)
			if err != nil {
				return fmt.Errorf("%s pass %d: %w", mode, i+1, err)
			}
			passes = append(passes, p)
			e := stats.DurationPercentiles(p.efo.AckToReceipt, 50, 99)
			g := stats.DurationPercentiles(p.poll.AckToReceipt, 50, 99)
			logf("[pass %d/%d] %s: %d records (%.0f/s), SubscribeToShard p50 %v p99 %v, GetRecords p50 %v p99 %v | CPU server %.2f client %.2f machine %.2f",
				i+1, o.runs, mode, p.records, p.achieved, e[0], e[1], g[0], g[1], p.serverCPU, p.clientCPU, p.busy)
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; results not written")
	}
	body := fanoutSectionText(o, info, time.Since(began), passes)
	if o.out != "-" && o.out != "" {
		if link, err := fanoutChart(o.out, passes); err != nil {
			logf("no fan-out chart: %v", err)
		} else {
			body += link
		}
	}
	fmt.Print(body)
	if o.out != "-" && o.out != "" {
		if err := report.WriteSection(o.out, resultsTitle, fanoutSection, body); err != nil {
			return err
		}
		logf("wrote section %q of %s", fanoutSection, o.out)
	}
	return nil
}

// runFanoutPass starts a fresh server in mode, subscribes the consumers
// and starts the pollers, runs the producers and collects the latencies.
func runFanoutPass(ctx context.Context, o fanoutOptions, bin, root, mode string) (fanoutPass, error) {
	p := fanoutPass{mode: mode, offered: o.rate}
	srv, err := startSluice(bin, root, mode)
	if err != nil {
		return p, err
	}
	defer srv.stop()
	setup := fanoutload.NewClient(srv.addr)
	defer setup.Close()
	sctx, cancelSetup := context.WithTimeout(ctx, time.Minute)
	defer cancelSetup()
	st, err := fanoutload.CreateStream(sctx, setup, fanoutStream, o.shards, 30*time.Second)
	if err != nil {
		return p, err
	}
	arns := make([]string, o.consumers)
	for k := range arns {
		if arns[k], err = fanoutload.RegisterConsumer(sctx, setup, st.ARN, "bench-"+strconv.Itoa(k), 30*time.Second); err != nil {
			return p, err
		}
	}

	total := o.warmup + o.runTime
	capacity := int(o.rate*total.Seconds()*1.1) + o.producers*o.batch*4
	tr := fanoutload.NewTracker(capacity, o.consumers+1)
	pollIndex := o.consumers

	// Readers: every consumer on its own HTTP/2 connection with a stream
	// per shard; one GetRecords poller per shard.
	rctx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	var (
		wg      sync.WaitGroup
		ready   sync.WaitGroup
		errMu   sync.Mutex
		readErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if readErr == nil {
			readErr = err
		}
		errMu.Unlock()
		stopReaders()
	}
	clients := make([]*fanoutload.Client, o.consumers)
	for k := range clients {
		clients[k] = fanoutload.NewClient(srv.addr)
		clients[k].StampOnly = true
		defer clients[k].Close()
		for _, shard := range st.Shards {
			wg.Add(1)
			ready.Add(1)
			go func() {
				defer wg.Done()
				once := sync.OnceFunc(ready.Done)
				defer once()
				err := fanoutload.Consume(rctx, clients[k], arns[k], shard, fanoutload.Position{Type: "LATEST"}, once,
					func(ev *fanoutload.Event) {
						at := tr.Now()
						for i := range ev.Records {
							tr.Received(k, ev.Records[i].Data, at)
						}
					})
				if err != nil {
					fail(fmt.Errorf("consumer %d, %s: %w", k, shard, err))
				}
			}()
		}
	}
	for _, shard := range st.Shards {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			once := sync.OnceFunc(ready.Done)
			defer once()
			err := fanoutload.Poll(rctx, srv.addr, fanoutStream, shard, o.pollInterval, 10000, tr.Now, once,
				func(data []byte, at int64) { tr.Received(pollIndex, data, at) })
			if err != nil {
				fail(fmt.Errorf("poller %s: %w", shard, err))
			}
		}()
	}
	ready.Wait()
	finish := func() error {
		stopReaders()
		wg.Wait()
		errMu.Lock()
		defer errMu.Unlock()
		return readErr
	}
	if err := rctx.Err(); err != nil {
		if rerr := finish(); rerr != nil {
			return p, rerr
		}
		return p, err
	}

	load0 := readLoadAvg()
	busy0 := readMachineBusy()
	cpu0, self0 := srv.cpuSeconds(), selfCPUSeconds()
	start := tr.Now()
	res := fanoutload.RunProducers(rctx, fanoutload.ProducerConfig{Addr: srv.addr, Stream: fanoutStream,
		Producers: o.producers, Batch: o.batch, Rate: o.rate, Size: o.size, Duration: total, Tracker: tr})
	end := tr.Now()
	wall := float64(end-start) / 1e9
	cpu1, self1 := srv.cpuSeconds(), selfCPUSeconds()
	busy1 := readMachineBusy()
	p.load1 = [2]float64{load0, readLoadAvg()}
	p.serverCPU, p.clientCPU, p.busy = (cpu1-cpu0)/wall, (self1-self0)/wall, (busy1-busy0)/wall
	if res.Err != nil {
		_ = finish()
		return p, res.Err
	}
	p.achieved, p.late = float64(res.Records)/res.Elapsed.Seconds(), res.Late
	p.put = res.Latencies

	// The measured window: records sent after the warm-up. Wait until
	// every reader has them (or the drain time is over).
	from, to := start+int64(o.warmup), end+1
	deadline := time.Now().Add(o.drain + o.pollInterval)
	for time.Now().Before(deadline) && rctx.Err() == nil {
		pending := 0
		for k := range o.consumers + 1 {
			pending += tr.Pending(k, from, to)
		}
		if p.pending = pending; pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := finish(); err != nil {
		return p, err
	}
	for k := range o.consumers {
		l := tr.Latencies(k, from, to)
		p.efo = mergeLatencies(p.efo, l)
		if k == 0 {
			p.records = int64(len(l.AckToReceipt) + l.Missing)
		}
	}
	p.poll = tr.Latencies(pollIndex, from, to)
	if p.records == 0 {
		return p, errors.New("no record was acknowledged in the measured window")
	}
	return p, checkDelivery(p)
}

// checkDelivery fails a pass whose readers lost acknowledged records of
// the measured window (after the drain), received a record twice, or
// received records this run never wrote: the figures of such a pass time
// something other than delivery.
func checkDelivery(p fanoutPass) error {
	var errs []error
	for _, r := range []struct {
		name string
		l    fanoutload.Latencies
	}{{"SubscribeToShard", p.efo}, {"GetRecords polling", p.poll}} {
		if r.l.Missing > 0 || r.l.Duplicates > 0 || r.l.Alien > 0 {
			errs = append(errs, fmt.Errorf("%s readers: %d acknowledged records never received, %d received twice, %d never written",
				r.name, r.l.Missing, r.l.Duplicates, r.l.Alien))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", apiload.ErrVerify, errors.Join(errs...))
}

func mergeLatencies(a, b fanoutload.Latencies) fanoutload.Latencies {
	a.AckToReceipt = append(a.AckToReceipt, b.AckToReceipt...)
	a.SendToReceipt = append(a.SendToReceipt, b.SendToReceipt...)
	a.BeforeAck += b.BeforeAck
	a.Missing += b.Missing
	a.Duplicates += b.Duplicates
	a.Alien += b.Alien
	return a
}

// readLoadAvg returns the 1-minute load average (NaN when unreadable).
func readLoadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nan
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return nan
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return nan
	}
	return v
}

// readMachineBusy returns the CPU seconds all CPUs spent neither idle nor
// waiting for I/O since boot (the "cpu" line of /proc/stat; NaN when
// unreadable).
func readMachineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nan
	}
	return parseProcStatBusy(string(b))
}

func parseProcStatBusy(s string) float64 {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return nan
	}
	busy := 0.0
	// user nice system idle iowait irq softirq steal (guest time is
	// already counted in user).
	for i, v := range f[1:] {
		if i >= 8 {
			break
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nan
		}
		if i != 3 && i != 4 {
			busy += x
		}
	}
	return busy / clockTicks
}

func fanoutSectionText(o fanoutOptions, info machine.Info, took time.Duration, passes []fanoutPass) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Enhanced fan-out latency (fanout)\n\n")
	cmd := "go run ./bench/cmd/sluice-bench fanout"
	if o.quick {
		cmd += " --quick"
	}
	if o.runs != 1 {
		cmd += fmt.Sprintf(" --runs %d", o.runs)
	}
	w("Generated by `%s`: %d pass(es) per durability mode, each %v measured after %v of warm-up; took %v.\n\n",
		cmd, o.runs, o.runTime, o.warmup, took.Round(time.Second))
	for _, l := range info.Lines() {
		w("%s\n", l)
	}
	w("\nLatency is from the PutRecords acknowledgement (the response arriving at the producer) to the receipt of the\n")
	w("record by a reader, for every record acknowledged in the measured time and every reader: percentiles over all\n")
	w("those samples (pooled over passes and consumers), and per pass as the median over passes [min-max]; the target\n")
	w("is checked on the medians over passes (one pass spoilt by other processes on the shared machine does not decide\n")
	w("it alone). %.0f records/s of %s over %d shards.\n\n", o.rate, sizeName(o.size), o.shards)

	byMode := map[string][]fanoutPass{}
	for _, p := range passes {
		byMode[p.mode] = append(byMode[p.mode], p)
	}
	tb := report.Table{Header: []string{"mode", "reader", "samples", "p50", "p99", "p99.9", "max", "p50 per pass", "p99 per pass",
		"received before ack", "target", "result"},
		Align: []byte{'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'}}
	for _, mode := range o.modes {
		ps := byMode[mode]
		if len(ps) == 0 {
			continue
		}
		var efo, poll fanoutload.Latencies
		for _, p := range ps {
			efo, poll = mergeLatencies(efo, p.efo), mergeLatencies(poll, p.poll)
		}
		row := func(reader string, l fanoutload.Latencies, perPass []fanoutload.Latencies, target string, verdict func(p50, p99 time.Duration) bool) {
			var p50s, p99s []float64
			for _, pl := range perPass {
				q := stats.DurationPercentiles(pl.AckToReceipt, 50, 99)
				p50s, p99s = append(p50s, q[0].Seconds()), append(p99s, q[1].Seconds())
			}
			q := stats.DurationPercentiles(l.AckToReceipt, 50, 99, 99.9, 100)
			med50, med99 := stats.Median(p50s), stats.Median(p99s)
			res := "-"
			if verdict != nil {
				res = "MISS"
				if len(l.AckToReceipt) > 0 && l.Missing == 0 &&
					verdict(time.Duration(med50*float64(time.Second)), time.Duration(med99*float64(time.Second))) {
					res = "PASS"
				}
			}
			before := "-"
			if len(l.AckToReceipt) > 0 {
				before = fmt.Sprintf("%.1f%%", 100*float64(l.BeforeAck)/float64(len(l.AckToReceipt)))
			}
			tb.Add(mode, reader, strconv.Itoa(len(l.AckToReceipt)), fmtDur(q[0].Seconds()), fmtDur(q[1].Seconds()),
				fmtDur(q[2].Seconds()), fmtDur(q[3].Seconds()), fmtSummary(stats.Summarize(p50s), fmtDur),
				fmtSummary(stats.Summarize(p99s), fmtDur), before, target, res)
		}
		var verdict func(p50, p99 time.Duration) bool
		target := "-"
		if mode == "async" {
			target = fmt.Sprintf("p50 <= %v, p99 <= %v", fanoutTargetP50, fanoutTargetP99)
			verdict = func(p50, p99 time.Duration) bool { return p50 <= fanoutTargetP50 && p99 <= fanoutTargetP99 }
		}
		var efoPass, pollPass []fanoutload.Latencies
		for _, p := range ps {
			efoPass, pollPass = append(efoPass, p.efo), append(pollPass, p.poll)
		}
		row(fmt.Sprintf("SubscribeToShard (h2c), %d per shard", o.consumers), efo, efoPass, target, verdict)
		row(fmt.Sprintf("GetRecords every %v, 1 per shard", o.pollInterval), poll, pollPass, "-", nil)
	}
	b.WriteString(tb.Markdown())

	w("\nDetails per pass. Rates in records/s; CPU in cores busy over the load (server: /proc/PID/stat; client: this\n")
	w("process, getrusage; machine: every process, /proc/stat), so machine minus server and client is the load of other\n")
	w("processes on the machine during the pass.\n\n")
	dt := report.Table{Header: []string{"mode", "pass", "offered", "acked", "late requests", "PutRecords p50", "PutRecords p99",
		"SubscribeToShard p50", "p99", "send-to-receipt p50", "p99", "missing", "duplicates", "server CPU", "client CPU",
		"machine CPU", "load avg 1m (start-end)"},
		Align: []byte{'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'}}
	n := map[string]int{}
	for _, p := range passes {
		n[p.mode]++
		put := stats.DurationPercentiles(p.put, 50, 99)
		s2r := stats.DurationPercentiles(p.efo.SendToReceipt, 50, 99)
		a2r := stats.DurationPercentiles(p.efo.AckToReceipt, 50, 99)
		dt.Add(p.mode, strconv.Itoa(n[p.mode]), fmtRate(p.offered), fmtRate(p.achieved), strconv.FormatInt(p.late, 10),
			fmtDur(put[0].Seconds()), fmtDur(put[1].Seconds()), fmtDur(a2r[0].Seconds()), fmtDur(a2r[1].Seconds()), fmtDur(s2r[0].Seconds()), fmtDur(s2r[1].Seconds()),
			fmt.Sprintf("%d / %d", p.efo.Missing, p.poll.Missing), fmt.Sprintf("%d / %d", p.efo.Duplicates, p.poll.Duplicates),
			fmt.Sprintf("%.2f", p.serverCPU), fmt.Sprintf("%.2f", p.clientCPU), fmt.Sprintf("%.2f", p.busy),
			fmt.Sprintf("%.2f-%.2f", p.load1[0], p.load1[1]))
	}
	b.WriteString(dt.Markdown())

	w("\nMethod:\n\n")
	w("- sluice: `./cmd/sluice` built once, a separate process on 127.0.0.1 with a fresh `--data-dir` under %s (%s)\n", info.Mount, info.FSType)
	w("  per pass and `--durability async` or `fsync`; the passes of the modes alternate. A stream of %d shards, %d\n", o.shards, o.consumers)
	w("  registered consumers (RegisterStreamConsumer, ACTIVE).\n")
	w("- Producers: %d, each on its own keep-alive HTTP/1.1 connection (fasthttp), sending a PutRecords request of %d\n", o.producers, o.batch)
	w("  records on a fixed schedule (%.0f records/s together, the producers' schedules staggered); a late request is\n", o.rate)
	w("  sent at once (column late: more than one interval late; PutRecords latencies include the warm-up). Every\n")
	w("  record's data starts with its id; partition keys are hashes of the ids, so records spread evenly over the\n")
	w("  shards. Every response must report FailedRecordCount 0.\n")
	w("- SubscribeToShard: each consumer has one HTTP/2 connection (h2c with prior knowledge, golang.org/x/net/http2\n")
	w("  client) with one SubscribeToShard stream per shard from LATEST, opened before the producers start; events are\n")
	w("  decoded with the AWS SDK's event-stream codec and the records' ids read from the JSON payload. A subscription\n")
	w("  the server ends (its lifetime) is renewed AFTER_SEQUENCE_NUMBER its last continuation.\n")
	w("- GetRecords: one poller per shard on its own HTTP/1.1 connection, from a LATEST iterator, calling GetRecords\n")
	w("  every %v on a fixed schedule (at once again after a full batch), as a polling consumer at AWS's 5 calls/s.\n", o.pollInterval)
	w("- Clock: one monotonic clock in this process; the acknowledgement time is taken when the PutRecords response\n")
	w("  has been read, the receipt time when an event (or a GetRecords response) has been read and decoded. A record\n")
	w("  pushed before its producer read the acknowledgement counts as 0 (column received before ack). The first %v\n", o.warmup)
	w("  of load are not measured; after the load, the readers get up to %v to receive the last records (missing:\n", o.drain+o.pollInterval)
	w("  SubscribeToShard / GetRecords records acknowledged but never received). A pass with a missing, duplicate or\n")
	w("  unknown record fails the suite (`verification failed`): its latencies would not be those of delivery.\n")
	w("- Everything (server, producers, consumers, pollers) shares the machine's %d CPUs with whatever else runs there;\n", info.CPUs)
	w("  see the machine CPU and load average columns.\n")
	return b.String()
}

// fanoutChartName is the fan-out suite's chart, beside the results file.
const fanoutChartName = "fanout-latency.svg"

// fanoutChart draws the acknowledgement-to-receipt percentile curves of
// both reader kinds per mode, pooled over passes, beside out, and returns
// the Markdown that shows it.
func fanoutChart(out string, passes []fanoutPass) (string, error) {
	var curves []charts.Curve
	for _, mode := range []string{"async", "fsync"} {
		var efo, poll []time.Duration
		for _, p := range passes {
			if p.mode == mode {
				efo = append(efo, p.efo.AckToReceipt...)
				poll = append(poll, p.poll.AckToReceipt...)
			}
		}
		if len(efo)+len(poll) > 0 {
			curves = append(curves, charts.Curve{Name: "SubscribeToShard, " + mode, Latencies: efo},
				charts.Curve{Name: "GetRecords polling, " + mode, Latencies: poll})
		}
	}
	path := filepath.Join(filepath.Dir(out), fanoutChartName)
	if err := charts.Percentiles(path, "Fan-out: acknowledgement to receipt", curves); err != nil {
		return "", err
	}
	logf("wrote %s", path)
	return "\n![Fan-out latency percentiles: SubscribeToShard vs GetRecords polling](" + fanoutChartName + ")\n", nil
}
