package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	pollers      int // GetRecords pollers per shard
	producers    int
	batch        int
	size         int
	pollInterval time.Duration
	modes        []string
	peers        []string // kinesalite, kinesis-mock
	probe        time.Duration
	out, dir     string
	sluiceBin    string
}

// Peers of the fanout suite: neither serves SubscribeToShard usably, so
// their fan-out figure is their GetRecords polling.
const (
	peerKinesalite  = "kinesalite"
	peerKinesisMock = "kinesis-mock"
)

func parseFanoutFlags(args []string) (fanoutOptions, error) {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "1 s measured, 500 ms warm-up, 2000 records/s, kinesalite the only peer: a smoke test of the harness")
	runs := fs.Int("runs", 0, "passes per target (the targets alternate; default 3, 1 with --quick)")
	runTime := fs.Duration("run-time", 0, "measured time of one pass (default 20s, 1s with --quick)")
	warmup := fs.Duration("warmup", 0, "load before the measured time (default 3s, 500ms with --quick)")
	drain := fs.Duration("drain", 10*time.Second, "longest wait for the last records after the load (a saturated peer's pollers lag by seconds)")
	rate := fs.Float64("rate", 0, "PutRecords records/s over all producers (default 10000, 2000 with --quick)")
	shards := fs.Int("shards", 4, "shards of the stream")
	consumers := fs.Int("consumers", 2, "enhanced fan-out consumers (sluice), each subscribed to every shard (consumers per shard)")
	pollers := fs.Int("pollers", 2, "GetRecords pollers per shard")
	producers := fs.Int("producers", 16, "producers, each on its own HTTP/1.1 connection")
	batch := fs.Int("batch", 25, "records per PutRecords request")
	size := fs.Int("size", 1024, "data bytes per record")
	poll := fs.Duration("poll-interval", 200*time.Millisecond, "GetRecords polling interval")
	modes := fs.String("modes", "async,fsync", "comma-separated sluice durability modes, one pass each per run")
	peers := fs.String("peers", "", "comma-separated peers polled with GetRecords: kinesalite, kinesis-mock, or none (default both; kinesalite with --quick)")
	probe := fs.Duration("probe", 0, "load of the probe that finds the rate a peer sustains, before its passes (default 4s; 0s with --quick: no probe)")
	out := fs.String("out", "bench/RESULTS.md", "results file whose fanout section is replaced; - for stdout only")
	dir := fs.String("dir", "", "directory for the sluice data directories (default $TMPDIR)")
	sluiceBin := fs.String("sluice-bin", "", "prebuilt sluice binary (default: go build ./cmd/sluice)")
	if err := fs.Parse(args); err != nil {
		return fanoutOptions{}, err
	}
	if fs.NArg() > 0 {
		return fanoutOptions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o := fanoutOptions{quick: *quick, runs: *runs, runTime: *runTime, warmup: *warmup, drain: *drain, rate: *rate,
		shards: *shards, consumers: *consumers, pollers: *pollers, producers: *producers, batch: *batch, size: *size,
		pollInterval: *poll, probe: *probe, out: *out, dir: *dir, sluiceBin: *sluiceBin}
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
	if !set["probe"] {
		o.probe = pickDur(0, 4*time.Second, 0)
	}
	if o.runs == 0 {
		o.runs = 3
		if o.quick {
			o.runs = 1
		}
	}
	if o.rate == 0 {
		o.rate = 10000
		if o.quick {
			o.rate = 2000
		}
	}
	if o.runs < 1 || o.runTime <= 0 || o.warmup < 0 || o.drain <= 0 || o.rate <= 0 || o.shards < 1 || o.consumers < 1 ||
		o.pollers < 1 || o.producers < 1 || o.batch < 1 || o.pollInterval <= 0 || o.probe < 0 {
		return o, errors.New("--runs, --run-time, --drain, --rate, --shards, --consumers, --pollers, --producers, --batch and --poll-interval must be positive")
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
	peerList := *peers
	if !set["peers"] {
		peerList = peerKinesalite + "," + peerKinesisMock
		if o.quick {
			peerList = peerKinesalite
		}
	}
	for _, p := range strings.Split(peerList, ",") {
		switch p = strings.TrimSpace(p); p {
		case "", "none":
		case peerKinesalite, peerKinesisMock:
			o.peers = append(o.peers, p)
		default:
			return o, fmt.Errorf("--peers: unknown peer %q (kinesalite, kinesis-mock, none)", p)
		}
	}
	if len(o.modes)+len(o.peers) == 0 {
		return o, errors.New("--modes and --peers: no target")
	}
	return o, nil
}

// fanoutTarget is a server of the suite: sluice in a durability mode, or a
// peer.
type fanoutTarget struct {
	name string // "sluice async", "kinesalite"
	mode string // sluice's durability mode; "" for a peer
	// start starts a fresh server.
	start func() (*server, error)
}

func (t fanoutTarget) peer() bool { return t.mode == "" }

// fanoutPass is the outcome of one pass (one server).
type fanoutPass struct {
	target string // fanoutTarget.name
	peer   bool
	// Per reader kind, pooled over its readers (SubscribeToShard: none for
	// a peer).
	efo, poll           fanoutload.Latencies
	efoCheck, pollCheck fanoutload.ReadCheck
	put                 []time.Duration // PutRecords round trips
	records             int64           // acknowledged in the measured window
	offered             float64         // records/s asked for
	achieved            float64         // records/s acknowledged over the whole load
	late                int64           // requests sent more than one interval late
	serverCPU           float64         // cores, over the whole load
	clientCPU           float64
	busy                float64 // cores busy on the whole machine (/proc/stat)
	load1               [2]float64
	pending             int // records still not received when the drain ended
}

// sustainShare is the share of the offered rate a peer's probe must
// acknowledge for the peer to be measured at that rate; below it, the
// next probe (at most probeSteps) or the passes offer probeBackoff of the
// rate the probe achieved.
const (
	sustainShare = 0.95
	probeBackoff = 0.9
	probeSteps   = 2
)

// probePeers finds, for every peer, the rate its passes offer: o.rate if
// a probe (a short pass) at it acknowledges sustainShare of it, else
// probeBackoff of what it acknowledged, confirmed by one more probe. It
// returns the rate per target and the probes per peer.
func probePeers(ctx context.Context, o fanoutOptions, targets []fanoutTarget) (map[string]float64, map[string][]fanoutPass, error) {
	rates := map[string]float64{}
	probes := map[string][]fanoutPass{}
	for _, t := range targets {
		rates[t.name] = o.rate
		if !t.peer() || o.probe == 0 {
			continue
		}
		po := o
		po.warmup, po.runTime = o.probe/4, o.probe-o.probe/4
		for range probeSteps {
			rate := rates[t.name]
			p, err := runFanoutPass(ctx, po, t, rate)
			if err != nil {
				return nil, nil, fmt.Errorf("%s probe at %.0f records/s: %w", t.name, rate, err)
			}
			probes[t.name] = append(probes[t.name], p)
			sustained := p.achieved >= sustainShare*rate
			if !sustained {
				rates[t.name] = math.Max(100, math.Floor(probeBackoff*p.achieved/100)*100)
			}
			logf("[probe] %s: %.0f of %.0f records/s acknowledged (%d late requests) -> %.0f records/s",
				t.name, p.achieved, rate, p.late, rates[t.name])
			if sustained {
				break
			}
		}
	}
	return rates, probes, nil
}

func runFanout(ctx context.Context, args []string) error {
	o, err := parseFanoutFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	root, info, err := runDir(o.dir, "fanout")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	targets, err := fanoutTargets(o, root)
	if err != nil {
		return err
	}
	logf("fanout suite: %d pass(es) per target (%s), %v measured after %v warm-up, %.0f records/s of %s over %d shards, %d SubscribeToShard consumers and %d GetRecords pollers (every %v) per shard",
		o.runs, targetNames(targets), o.runTime, o.warmup, o.rate, sizeName(o.size), o.shards, o.consumers, o.pollers, o.pollInterval)
	if o.quick {
		logf("quick: peers %s (the full run has kinesalite and kinesis-mock, each probed first)", peerNames(o.peers))
	}
	began := time.Now()
	rates, probes, err := probePeers(ctx, o, targets)
	if err != nil {
		return err
	}
	var passes []fanoutPass
	for i := range o.runs {
		for _, t := range targets {
			if ctx.Err() != nil {
				return errors.New("interrupted; results not written")
			}
			p, err := runFanoutPass(ctx, o, t, rates[t.name])
			if err != nil {
				return fmt.Errorf("%s pass %d: %w", t.name, i+1, err)
			}
			passes = append(passes, p)
			efo := ""
			if !p.peer {
				e := stats.DurationPercentiles(p.efo.AckToReceipt, 50, 99)
				efo = fmt.Sprintf("SubscribeToShard p50 %v p99 %v, ", e[0], e[1])
			}
			g := stats.DurationPercentiles(p.poll.AckToReceipt, 50, 99)
			logf("[pass %d/%d] %s: %d records (%.0f/s of %.0f), %sGetRecords p50 %v p99 %v | CPU server %.2f client %.2f machine %.2f",
				i+1, o.runs, t.name, p.records, p.achieved, p.offered, efo, g[0], g[1], p.serverCPU, p.clientCPU, p.busy)
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; results not written")
	}
	body := fanoutSectionText(o, info, time.Since(began), targets, probes, passes)
	fanoutHeadlines(passes)
	return publish(o.out, fanoutSection, body, func() (string, error) { return fanoutChart(o.out, targets, passes) })
}

// fanoutTargets builds sluice (once) and installs the peers (once), and
// returns the targets in the order of a round.
func fanoutTargets(o fanoutOptions, root string) ([]fanoutTarget, error) {
	var targets []fanoutTarget
	if len(o.modes) > 0 {
		bin := o.sluiceBin
		if bin == "" {
			logf("building ./cmd/sluice")
			var err error
			if bin, err = buildSluice(root); err != nil {
				return nil, err
			}
		}
		for _, mode := range o.modes {
			targets = append(targets, fanoutTarget{name: "sluice " + mode, mode: mode,
				start: func() (*server, error) { return startSluice(bin, root, mode) }})
		}
	}
	for _, peer := range o.peers {
		switch peer {
		case peerKinesalite:
			mod, err := installKinesalite()
			if err != nil {
				return nil, err
			}
			targets = append(targets, fanoutTarget{name: peer, start: func() (*server, error) { return startKinesalite(mod, root) }})
		case peerKinesisMock:
			mod, err := installKinesisMock()
			if err != nil {
				return nil, err
			}
			targets = append(targets, fanoutTarget{name: peer, start: func() (*server, error) { return startKinesisMock(mod, root) }})
		}
	}
	return targets, nil
}

func peerNames(peers []string) string {
	if len(peers) == 0 {
		return "none"
	}
	return strings.Join(peers, ", ")
}

func targetNames(ts []fanoutTarget) string {
	var names []string
	for _, t := range ts {
		names = append(names, t.name)
	}
	return strings.Join(names, ", ")
}

// fanoutReader is one reader of one shard: a consumer's subscription or a
// poller. Its index in the Tracker is its own.
type fanoutReader struct {
	efo   bool
	index int // in the Tracker
	num   int // consumer or poller number
	shard int // index in StreamInfo.Shards
	log   *fanoutload.ReadLog
}

// runFanoutPass starts a fresh server, subscribes the consumers (sluice
// only) and starts the pollers, runs the producers at rate and collects
// the latencies, and checks every reader's records against the
// acknowledgements.
func runFanoutPass(ctx context.Context, o fanoutOptions, t fanoutTarget, rate float64) (fanoutPass, error) {
	p := fanoutPass{target: t.name, peer: t.peer(), offered: rate}
	srv, err := t.start()
	if err != nil {
		return p, err
	}
	defer srv.stop()
	setup := fanoutload.NewClient(srv.addr)
	if t.peer() {
		setup = fanoutload.NewHTTP1Client(srv.addr)
	}
	defer setup.Close()
	sctx, cancelSetup := context.WithTimeout(ctx, time.Minute)
	defer cancelSetup()
	st, err := fanoutload.CreateStream(sctx, setup, fanoutStream, o.shards, 30*time.Second)
	if err != nil {
		return p, err
	}
	consumers := o.consumers
	if t.peer() {
		consumers = 0
	}
	arns := make([]string, consumers)
	for k := range arns {
		if arns[k], err = fanoutload.RegisterConsumer(sctx, setup, st.ARN, "bench-"+strconv.Itoa(k), 30*time.Second); err != nil {
			return p, err
		}
	}

	total := o.warmup + o.runTime
	capacity := int(rate*total.Seconds()*1.1) + o.producers*o.batch*4
	place := fanoutload.NewPlacement(capacity, st.Shards)
	var readers []*fanoutReader
	for k := range consumers {
		for s := range st.Shards {
			readers = append(readers, &fanoutReader{efo: true, index: len(readers), num: k, shard: s, log: place.NewReadLog(s)})
		}
	}
	for j := range o.pollers {
		for s := range st.Shards {
			readers = append(readers, &fanoutReader{index: len(readers), num: j, shard: s, log: place.NewReadLog(s)})
		}
	}
	tr := fanoutload.NewTracker(capacity, len(readers))

	// Readers: every consumer on its own HTTP/2 connection with a stream
	// per shard; every poller of every shard on its own HTTP/1.1
	// connection.
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
	clients := make([]*fanoutload.Client, consumers)
	for k := range clients {
		clients[k] = fanoutload.NewClient(srv.addr)
		clients[k].StampOnly = true
		defer clients[k].Close()
	}
	for _, r := range readers {
		wg.Add(1)
		ready.Add(1)
		shard := st.Shards[r.shard]
		go func() {
			defer wg.Done()
			once := sync.OnceFunc(ready.Done)
			defer once()
			if r.efo {
				err := fanoutload.Consume(rctx, clients[r.num], arns[r.num], shard, fanoutload.Position{Type: "LATEST"}, once,
					func(ev *fanoutload.Event) {
						at := tr.Now()
						for i := range ev.Records {
							tr.Received(r.index, ev.Records[i].Data, at)
							r.log.Add(ev.Records[i].Data, []byte(ev.Records[i].SequenceNumber))
						}
					})
				if err != nil {
					fail(fmt.Errorf("consumer %d, %s: %w", r.num, shard, err))
				}
				return
			}
			err := fanoutload.Poll(rctx, srv.addr, fanoutStream, shard, o.pollInterval, 10000, tr.Now, once,
				func(data, seq []byte, at int64) {
					tr.Received(r.index, data, at)
					r.log.Add(data, seq)
				})
			if err != nil {
				fail(fmt.Errorf("poller %d, %s: %w", r.num, shard, err))
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
		Producers: o.producers, Batch: o.batch, Rate: rate, Size: o.size, Duration: total, Tracker: tr, Placement: place})
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
	// every reader has the records of its shard (or the drain time is
	// over).
	from, to := start+int64(o.warmup), end+1
	// A reader with nothing pending is done: records only arrive.
	deadline := time.Now().Add(o.drain + o.pollInterval)
	waiting := slices.Clone(readers)
	for time.Now().Before(deadline) && rctx.Err() == nil {
		pending := 0
		waiting = slices.DeleteFunc(waiting, func(r *fanoutReader) bool {
			n := tr.PendingIf(r.index, from, to, place.OnShard(r.shard))
			pending += n
			return n == 0
		})
		if p.pending = pending; pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := finish(); err != nil {
		return p, err
	}
	for _, r := range readers {
		l := tr.LatenciesIf(r.index, from, to, place.OnShard(r.shard))
		c := r.log.Check()
		if r.efo {
			p.efo, p.efoCheck = mergeLatencies(p.efo, l), p.efoCheck.Add(c)
			continue
		}
		p.poll, p.pollCheck = mergeLatencies(p.poll, l), p.pollCheck.Add(c)
		if r.num == 0 {
			p.records += int64(len(l.AckToReceipt) + l.Missing)
		}
	}
	if p.records == 0 {
		return p, errors.New("no record was acknowledged in the measured window")
	}
	return p, checkDelivery(p)
}

// checkDelivery fails a pass whose readers did not receive exactly the
// records acknowledged on their shard, in order, once: lost acknowledged
// records of the measured window (after the drain), received a record
// twice, received records this run never wrote or that were acknowledged
// on another shard or with another sequence number, or out of order. The
// figures of such a pass time something other than delivery.
func checkDelivery(p fanoutPass) error {
	var errs []error
	for _, r := range []struct {
		name string
		l    fanoutload.Latencies
		c    fanoutload.ReadCheck
	}{{"SubscribeToShard", p.efo, p.efoCheck}, {"GetRecords polling", p.poll, p.pollCheck}} {
		if r.l.Missing > 0 || r.l.Duplicates > 0 || r.l.Alien > 0 {
			errs = append(errs, fmt.Errorf("%s readers: %d acknowledged records never received, %d received twice, %d never written",
				r.name, r.l.Missing, r.l.Duplicates, r.l.Alien))
		}
		if c := r.c; c.Bad() > 0 {
			errs = append(errs, fmt.Errorf("%s readers: of %d records received, %d acknowledged on another shard, %d with another sequence number, %d never acknowledged, %d out of order, %d without a stamp",
				r.name, c.Records, c.WrongShard, c.WrongSeq, c.Unacked, c.OutOfOrder, c.Unstamped))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w: %w", p.target, apiload.ErrVerify, errors.Join(errs...))
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

func fanoutSectionText(o fanoutOptions, info machine.Info, took time.Duration, targets []fanoutTarget, probes map[string][]fanoutPass, passes []fanoutPass) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Enhanced fan-out latency (fanout)\n\n")
	cmd := "go run ./bench/cmd/sluice-bench fanout"
	if o.quick {
		cmd += " --quick"
	}
	w("Generated by `%s`: %d pass(es) per target (%s), each %v measured after %v of warm-up; took %v.\n\n",
		cmd, o.runs, targetNames(targets), o.runTime, o.warmup, took.Round(time.Second))
	if o.quick {
		w("Quick run: a smoke test of the harness, its figures mean nothing. Peers: %s (the full run has kinesalite and\n", peerNames(o.peers))
		w("kinesis-mock).\n\n")
	}
	for _, l := range info.Lines() {
		w("%s\n", l)
	}
	w("\nLatency is from the PutRecords acknowledgement (the response arriving at the producer) to the receipt of the\n")
	w("record by a reader, for every record acknowledged in the measured time and every reader: percentiles over all\n")
	w("those samples (pooled over passes and readers), and per pass as the median over passes [min-max]; the target\n")
	w("is checked on the medians over passes (one pass spoilt by other processes on the shared machine does not decide\n")
	w("it alone). %.0f records/s of %s offered over %d shards (a peer that does not sustain it is measured at the rate\n", o.rate, sizeName(o.size), o.shards)
	w("it does: column acked).")
	if len(o.peers) > 0 {
		w(" kinesalite and kinesis-mock do not serve SubscribeToShard usably, so their fan-out figure is\n")
		w("their GetRecords polling, read the same way as sluice's.")
	}
	w("\n\n")

	byTarget := map[string][]fanoutPass{}
	for _, p := range passes {
		byTarget[p.target] = append(byTarget[p.target], p)
	}
	tb := report.Table{Header: []string{"server", "reader", "records/s acked", "samples", "p50", "p99", "p99.9", "max",
		"p50 per pass", "p99 per pass", "max per pass", "received before ack", "target", "result"},
		Align: []byte{'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'}}
	for _, t := range targets {
		ps := byTarget[t.name]
		if len(ps) == 0 {
			continue
		}
		var acked []float64
		offered := ps[0].offered
		for _, p := range ps {
			acked = append(acked, p.achieved)
		}
		rate := fmtSummary(stats.Summarize(acked), fmtRate) + " of " + fmtRate(offered)
		row := func(reader string, pick func(p fanoutPass) fanoutload.Latencies, target string, verdict func(p50, p99 time.Duration) bool) {
			var l fanoutload.Latencies
			var p50s, p99s, maxs []float64
			for _, p := range ps {
				pl := pick(p)
				l = mergeLatencies(l, pl)
				q := stats.DurationPercentiles(pl.AckToReceipt, 50, 99, 100)
				p50s, p99s, maxs = append(p50s, q[0].Seconds()), append(p99s, q[1].Seconds()), append(maxs, q[2].Seconds())
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
			tb.Add(t.name, reader, rate, strconv.Itoa(len(l.AckToReceipt)), fmtDur(q[0].Seconds()), fmtDur(q[1].Seconds()),
				fmtDur(q[2].Seconds()), fmtDur(q[3].Seconds()), fmtSummary(stats.Summarize(p50s), fmtDur),
				fmtSummary(stats.Summarize(p99s), fmtDur), fmtSummary(stats.Summarize(maxs), fmtDur), before, target, res)
		}
		if !t.peer() {
			var verdict func(p50, p99 time.Duration) bool
			target := "-"
			if t.mode == "async" {
				target = fmt.Sprintf("p50 <= %v, p99 <= %v", fanoutTargetP50, fanoutTargetP99)
				verdict = func(p50, p99 time.Duration) bool { return p50 <= fanoutTargetP50 && p99 <= fanoutTargetP99 }
			}
			row(fmt.Sprintf("SubscribeToShard (h2c), %d per shard", o.consumers), func(p fanoutPass) fanoutload.Latencies { return p.efo }, target, verdict)
		}
		row(fmt.Sprintf("GetRecords every %v, %d per shard", o.pollInterval, o.pollers), func(p fanoutPass) fanoutload.Latencies { return p.poll }, "-", nil)
	}
	b.WriteString(tb.Markdown())
	fanoutPeerRatios(&b, targets, byTarget)

	if len(probes) > 0 {
		w("\nPeers' probes (short passes of %v, %v of it warm-up, on a fresh server with the pollers, before the passes): a\n", o.probe, o.probe/4)
		w("peer whose probe acknowledges less than %.0f%% of the rate it offered is probed again (at most %d probes) or measured\n", 100*sustainShare, probeSteps)
		w("at %.0f%% of the rate it acknowledged.\n\n", 100*probeBackoff)
		pt := report.Table{Header: []string{"server", "probe", "offered", "acked", "late requests", "PutRecords p50", "PutRecords p99", "passes offer"},
			Align: []byte{'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'}}
		for _, t := range targets {
			at := "-"
			if ps := byTarget[t.name]; len(ps) > 0 {
				at = fmtRate(ps[0].offered)
			}
			for i, p := range probes[t.name] {
				put := stats.DurationPercentiles(p.put, 50, 99)
				pt.Add(t.name, strconv.Itoa(i+1), fmtRate(p.offered), fmtRate(p.achieved), strconv.FormatInt(p.late, 10),
					fmtDur(put[0].Seconds()), fmtDur(put[1].Seconds()), at)
			}
		}
		b.WriteString(pt.Markdown())
	}

	w("\nDetails per pass. Rates in records/s; CPU in cores busy over the load (server: /proc/PID/stat; client: this\n")
	w("process, getrusage; machine: every process, /proc/stat), so machine minus server and client is the load of other\n")
	w("processes on the machine during the pass. Send-to-receipt: from sending the PutRecords request, for\n")
	w("SubscribeToShard (sluice) or GetRecords (peers). Missing, duplicates, misdelivered: SubscribeToShard /\n")
	w("GetRecords, over all readers.\n\n")
	dt := report.Table{Header: []string{"server", "pass", "offered", "acked", "late requests", "PutRecords p50", "PutRecords p99",
		"SubscribeToShard p50", "p99", "GetRecords p50", "p99", "send-to-receipt p50", "p99", "missing", "duplicates", "misdelivered",
		"server CPU", "client CPU", "machine CPU", "load avg 1m (start-end)"},
		Align: []byte{'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'}}
	n := map[string]int{}
	for _, p := range passes {
		n[p.target]++
		put := stats.DurationPercentiles(p.put, 50, 99)
		first := p.efo
		if p.peer {
			first = p.poll
		}
		s2r := secondsPercentiles(first.SendToReceipt, 50, 99)
		e := secondsPercentiles(p.efo.AckToReceipt, 50, 99)
		g := secondsPercentiles(p.poll.AckToReceipt, 50, 99)
		efoCount := func(v int64) string {
			if p.peer {
				return "-"
			}
			return strconv.FormatInt(v, 10)
		}
		dt.Add(p.target, strconv.Itoa(n[p.target]), fmtRate(p.offered), fmtRate(p.achieved), strconv.FormatInt(p.late, 10),
			fmtDur(put[0].Seconds()), fmtDur(put[1].Seconds()), fmtDur(e[0]), fmtDur(e[1]),
			fmtDur(g[0]), fmtDur(g[1]), fmtDur(s2r[0]), fmtDur(s2r[1]),
			fmt.Sprintf("%s / %d", efoCount(int64(p.efo.Missing)), p.poll.Missing),
			fmt.Sprintf("%s / %d", efoCount(p.efo.Duplicates), p.poll.Duplicates),
			fmt.Sprintf("%s / %d", efoCount(int64(p.efoCheck.Bad())), p.pollCheck.Bad()),
			fmt.Sprintf("%.2f", p.serverCPU), fmt.Sprintf("%.2f", p.clientCPU), fmt.Sprintf("%.2f", p.busy),
			fmt.Sprintf("%.2f-%.2f", p.load1[0], p.load1[1]))
	}
	b.WriteString(dt.Markdown())

	w("\nMethod:\n\n")
	w("- sluice: `./cmd/sluice` built once, a separate process on 127.0.0.1 with a fresh `--data-dir` under %s (%s)\n", info.Mount, info.FSType)
	w("  per pass and `--durability async` or `fsync`. A stream of %d shards, %d registered consumers\n", o.shards, o.consumers)
	w("  (RegisterStreamConsumer, ACTIVE).\n")
	if len(o.peers) > 0 {
		w("- Peers: kinesalite %s and kinesis-mock %s (npm `kinesis-local`), in memory, started fresh per pass by the\n", kinesaliteVersion, kinesisMockVersion)
		w("  same Node scripts as in the api suite (127.0.0.1, streams ACTIVE at once), with the same stream and load;\n")
		w("  no consumers (neither serves SubscribeToShard usably).")
		if o.probe > 0 {
			w(" Before its passes, each peer gets a probe (table above) that finds\n")
			w("  whether it sustains the offered rate.")
		}
		w("\n")
	}
	w("- The passes of the targets alternate (pass 1 of each, pass 2 of each, ...).\n")
	w("- Producers: %d, each on its own keep-alive HTTP/1.1 connection (fasthttp), sending a PutRecords request of %d\n", o.producers, o.batch)
	w("  records on a fixed schedule (%.0f records/s together unless a probe lowered it, the producers' schedules\n", o.rate)
	w("  staggered; open loop: a late request is sent at once, column late: more than one interval late; PutRecords\n")
	w("  latencies include the warm-up). Every record's data starts with its id; partition keys are hashes of the ids, so\n")
	w("  records spread evenly over the shards. Every response must report FailedRecordCount 0 and, per record, a shard\n")
	w("  of the stream and a sequence number, which are kept.\n")
	w("- SubscribeToShard (sluice): each consumer has one HTTP/2 connection (h2c with prior knowledge,\n")
	w("  golang.org/x/net/http2 client) with one SubscribeToShard stream per shard from LATEST, opened before the\n")
	w("  producers start; events are decoded with the AWS SDK's event-stream codec and the records' ids read from the\n")
	w("  JSON payload. A subscription the server ends (its lifetime) is renewed AFTER_SEQUENCE_NUMBER its last\n")
	w("  continuation.\n")
	w("- GetRecords (every server): %d pollers per shard, each on its own HTTP/1.1 connection, from a LATEST iterator,\n", o.pollers)
	w("  calling GetRecords every %v on a fixed schedule (at once again after a full batch), as a polling consumer at\n", o.pollInterval)
	w("  AWS's 5 calls/s.\n")
	w("- Verification: every reader (a subscription or a poller of one shard) must receive exactly the records\n")
	w("  acknowledged on its shard, once, in order: each with the sequence number its PutRecords response gave, sequence\n")
	w("  numbers increasing (column misdelivered counts the others: another shard, another sequence number, never\n")
	w("  acknowledged, out of order). After the load, the readers get up to %v to receive the last records of the\n", o.drain+o.pollInterval)
	w("  measured window (missing: acknowledged but never received). A pass with a missing, duplicate, unknown or\n")
	w("  misdelivered record fails the suite (`verification failed`): its latencies would not be those of delivery.\n")
	w("- Clock: one monotonic clock in this process; the acknowledgement time is taken when the PutRecords response\n")
	w("  has been read, the receipt time when an event (or a GetRecords response) has been read and decoded. A record\n")
	w("  pushed before its producer read the acknowledgement counts as 0 (column received before ack; a server whose\n")
	w("  PutRecords is slower than its GetRecords, as kinesis-mock's, has many: see send-to-receipt in the details).\n")
	w("  The first %v of load are not measured.\n", o.warmup)
	w("- Everything (server, producers, consumers, pollers) shares the machine's %d CPUs with whatever else runs there;\n", info.CPUs)
	w("  see the machine CPU and load average columns.\n")
	return b.String()
}

// fanoutPeerRatios writes the table of the peers' fan-out latency (their
// GetRecords polling) over sluice's SubscribeToShard (async if it ran),
// pass by pass, if both ran.
func fanoutPeerRatios(b *strings.Builder, targets []fanoutTarget, byTarget map[string][]fanoutPass) {
	var ref *fanoutTarget
	for i, t := range targets {
		if !t.peer() && (ref == nil || t.mode == "async") {
			ref = &targets[i]
		}
	}
	if ref == nil || len(byTarget[ref.name]) == 0 {
		return
	}
	qs := []float64{50, 99, 100}
	perPass := func(ps []fanoutPass, pick func(p fanoutPass) fanoutload.Latencies) [][]float64 {
		out := make([][]float64, len(qs))
		for _, p := range ps {
			for i, v := range secondsPercentiles(pick(p).AckToReceipt, qs...) {
				out[i] = append(out[i], v)
			}
		}
		return out
	}
	sluice := perPass(byTarget[ref.name], func(p fanoutPass) fanoutload.Latencies { return p.efo })
	tb := report.Table{Header: []string{"peer (GetRecords polling) / " + ref.name + " (SubscribeToShard)", "p50", "p99", "max"},
		Align: []byte{'l', 'r', 'r', 'r'}}
	for _, t := range targets {
		if !t.peer() || len(byTarget[t.name]) == 0 {
			continue
		}
		peer := perPass(byTarget[t.name], func(p fanoutPass) fanoutload.Latencies { return p.poll })
		row := []string{t.name}
		for i := range qs {
			row = append(row, fmtSummary(stats.Summarize(stats.Ratios(peer[i], sluice[i])), fmtRatioWide))
		}
		tb.Add(row...)
	}
	if len(tb.Rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\nThe peers' fan-out latency over sluice's: pass i of the peer / pass i of %s (the same round), median\n", ref.name)
	fmt.Fprintf(b, "[min-max] over passes, each at the rate in column acked above (a p50 of 0, records pushed before their\n")
	fmt.Fprintf(b, "acknowledgement, gives no ratio: -).\n\n")
	b.WriteString(tb.Markdown())
}

// secondsPercentiles returns percentiles qs of ds in seconds, NaN (shown
// as "-") when ds is empty.
func secondsPercentiles(ds []time.Duration, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(ds) == 0 {
		for i := range out {
			out[i] = nan
		}
		return out
	}
	for i, d := range stats.DurationPercentiles(ds, qs...) {
		out[i] = d.Seconds()
	}
	return out
}

// fanoutChartName is the fan-out suite's chart, beside the results file.
const fanoutChartName = "fanout-latency.svg"

// fanoutChart draws the acknowledgement-to-receipt percentile curves of
// every target's reader kinds, pooled over passes, beside out, and returns
// the Markdown that shows it.
func fanoutChart(out string, targets []fanoutTarget, passes []fanoutPass) (string, error) {
	var curves []charts.Curve
	for _, t := range targets {
		var efo, poll []time.Duration
		for _, p := range passes {
			if p.target == t.name {
				efo = append(efo, p.efo.AckToReceipt...)
				poll = append(poll, p.poll.AckToReceipt...)
			}
		}
		if !t.peer() {
			curves = append(curves, charts.Curve{Name: t.name + ", SubscribeToShard", Latencies: efo})
		}
		curves = append(curves, charts.Curve{Name: t.name + ", GetRecords polling", Latencies: poll})
	}
	path := filepath.Join(filepath.Dir(out), fanoutChartName)
	if err := charts.Percentiles(path, "Fan-out: acknowledgement to receipt", curves); err != nil {
		return "", err
	}
	logf("wrote %s", path)
	return "\n![Fan-out latency percentiles: sluice's SubscribeToShard and GetRecords polling, the peers' GetRecords polling](" + fanoutChartName + ")\n", nil
}
