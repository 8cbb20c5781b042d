package main

import (
	"context"
	"crypto/md5"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/bench/internal/charts"
	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/internal/stats"
	"github.com/sluicehq/sluice/bench/report"
	"github.com/valyala/fastjson"
)

const scaleSection = "scale"

// The scale suite's load: PutRecords of 500 records of 100 B, as the api
// suite's headline scenario.
const (
	scaleBatch  = 500
	scaleSize   = 100
	scaleBodies = 16 // distinct bodies of the one-stream cases (8000 partition keys)
)

// shardDiskBytes is what a sluice shard that received a record occupies
// on disk at first: 6 fragment files preallocated at 1 MiB (cmd/sluice's
// initialFragmentBytes; later segments double up to 16 MiB, which the
// records' own allowance below covers).
const shardDiskBytes = 6 * 1 << 20

var scaleTargets = []string{tgtAsync, tgtKinesalite, tgtKinesisMock}

type scaleOptions struct {
	quick         bool
	runs          int
	runTime       time.Duration
	conns         int
	shards        []int
	streams       int // the many-streams case: streams x streamShards (0: none)
	streamShards  int
	targets       []string
	createTimeout time.Duration
	sample        int // shards read back per case and target
	out, dir      string
	sluiceBin     string
}

// scaleCase is one stream layout: streams streams of shards shards each.
type scaleCase struct{ streams, shards int }

func (c scaleCase) name() string {
	if c.streams == 1 {
		if c.shards == 1 {
			return "1 shard"
		}
		return fmt.Sprintf("%d shards", c.shards)
	}
	return fmt.Sprintf("%d streams x %d shards", c.streams, c.shards)
}

func (c scaleCase) total() int { return c.streams * c.shards }

// streamName is the name of stream s of a case.
func (c scaleCase) streamName(s int) string {
	if c.streams == 1 {
		return "scale"
	}
	return fmt.Sprintf("scale-%03d", s)
}

func parseScaleFlags(args []string) (scaleOptions, error) {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "1 run of 300 ms per case and target; 1 and 10 shards and 4 streams x 2 shards")
	runs := fs.Int("runs", 0, "runs per case and target (default 3, 1 with --quick)")
	runTime := fs.Duration("run-time", 0, "time bound of one load run (default 3s, 300ms with --quick)")
	conns := fs.Int("conns", 0, "keep-alive connections of the load generator (default 8, 4 with --quick)")
	shards := fs.String("shards", "", "comma-separated shard counts of the one-stream cases (default 1,10,100,500,1000; 1,10 with --quick)")
	streams := fs.String("streams", "", "the many-streams case, STREAMSxSHARDS (default 100x10, 4x2 with --quick; none: no such case)")
	targets := fs.String("targets", strings.Join(scaleTargets, ","), "comma-separated targets (sluice-async, kinesalite, kinesis-mock)")
	createTimeout := fs.Duration("create-timeout", time.Minute, "longest wait for a case's streams to become ACTIVE")
	sample := fs.Int("sample", 4, "shards read back in full per case and target after its runs")
	out := fs.String("out", "bench/RESULTS.md", "results file whose scale section is replaced; - for stdout only")
	dir := fs.String("dir", "", "directory for the sluice data directories (default $TMPDIR)")
	sluiceBin := fs.String("sluice-bin", "", "prebuilt sluice binary (default: go build ./cmd/sluice)")
	if err := fs.Parse(args); err != nil {
		return scaleOptions{}, err
	}
	if fs.NArg() > 0 {
		return scaleOptions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := scaleOptions{quick: *quick, runs: *runs, runTime: *runTime, conns: *conns, createTimeout: *createTimeout,
		sample: *sample, out: *out, dir: *dir, sluiceBin: *sluiceBin}
	pick := func(v, normal, fast int64) int64 {
		switch {
		case v != 0:
			return v
		case o.quick:
			return fast
		}
		return normal
	}
	o.runs = int(pick(int64(o.runs), 3, 1))
	o.runTime = time.Duration(pick(int64(o.runTime), int64(3*time.Second), int64(300*time.Millisecond)))
	o.conns = int(pick(int64(o.conns), 8, 4))
	if o.runs < 1 || o.runTime <= 0 || o.conns < 1 || o.createTimeout <= 0 || o.sample < 1 {
		return o, errors.New("--runs, --run-time, --conns, --create-timeout and --sample must be positive")
	}
	shardList := *shards
	if shardList == "" {
		shardList = "1,10,100,500,1000"
		if o.quick {
			shardList = "1,10"
		}
	}
	for _, f := range strings.Split(shardList, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return o, fmt.Errorf("--shards: %q is not a positive shard count", f)
		}
		o.shards = append(o.shards, n)
	}
	many := *streams
	if many == "" {
		many = "100x10"
		if o.quick {
			many = "4x2"
		}
	}
	if many != "none" {
		a, b, ok := strings.Cut(many, "x")
		s, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || s < 2 || n < 1 {
			return o, fmt.Errorf("--streams: %q: want STREAMSxSHARDS with at least 2 streams, or none", many)
		}
		o.streams, o.streamShards = s, n
	}
	if len(o.shards) == 0 || o.shards[0] != 1 {
		return o, errors.New("--shards: the first case must be 1 shard (the ratios are to it)")
	}
	for _, t := range strings.Split(*targets, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		found := false
		for _, a := range scaleTargets {
			if a == t || strings.ReplaceAll(a, " ", "-") == t {
				o.targets, found = append(o.targets, a), true
			}
		}
		if !found {
			return o, fmt.Errorf("--targets: unknown target %q (known: sluice-async, kinesalite, kinesis-mock)", t)
		}
	}
	if len(o.targets) == 0 {
		return o, errors.New("--targets: no target")
	}
	return o, nil
}

func (o scaleOptions) cases() []scaleCase {
	var cs []scaleCase
	for _, n := range o.shards {
		cs = append(cs, scaleCase{streams: 1, shards: n})
	}
	if o.streams > 0 {
		cs = append(cs, scaleCase{streams: o.streams, shards: o.streamShards})
	}
	return cs
}

// scaleRun is one load against one target.
type scaleRun struct {
	recs      float64 // records/s
	p50, p99  float64 // seconds per request
	serverCPU float64 // cores
	retries   int64
}

// scaleOutcome is what one target did in one case.
type scaleOutcome struct {
	skipped   string // why there is no figure ("" when measured)
	runs      []scaleRun
	create    time.Duration // CreateStream of every stream until all are ACTIVE
	first     time.Duration // the untimed first pass: every body twice
	rss, hwm  int64         // bytes after the runs: VmRSS, VmHWM
	checked   int           // shards read back
	records   int64         // records read back and checked
	readBack  time.Duration
	diskBytes int64 // sluice: bytes of its data directory after the runs
}

type scaleResults map[string]map[string]*scaleOutcome // case name -> target -> outcome

func (r scaleResults) get(c, t string) *scaleOutcome {
	if r[c] == nil {
		r[c] = map[string]*scaleOutcome{}
	}
	if r[c][t] == nil {
		r[c][t] = &scaleOutcome{}
	}
	return r[c][t]
}

func runScale(ctx context.Context, args []string) error {
	o, err := parseScaleFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	root, info, err := runDir(o.dir, "scale")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	var sluiceBin, kinesaliteMod, kinesisMockMod string
	for _, t := range o.targets {
		switch t {
		case tgtAsync:
			if sluiceBin = o.sluiceBin; sluiceBin == "" {
				logf("building ./cmd/sluice")
				if sluiceBin, err = buildSluice(root); err != nil {
					return err
				}
			}
		case tgtKinesalite:
			if kinesaliteMod, err = installKinesalite(); err != nil {
				return err
			}
		case tgtKinesisMock:
			if kinesisMockMod, err = installKinesisMock(); err != nil {
				return err
			}
		}
	}
	start := func(t string) (*server, error) {
		switch t {
		case tgtAsync:
			return startSluice(sluiceBin, root, "async", "--shard-limit", strconv.Itoa(scaleShardLimit))
		case tgtKinesalite:
			return startScaleKinesalite(kinesaliteMod, root)
		}
		return startScaleKinesisMock(kinesisMockMod, root)
	}
	cases := o.cases()
	logf("scale suite: %d run(s) of %v per case and target, %d connections, cases %s, targets %s",
		o.runs, o.runTime, o.conns, caseNames(cases), strings.Join(o.targets, ", "))
	began := time.Now()
	results := scaleResults{}
	for i, c := range cases {
		if ctx.Err() != nil {
			return errors.New("interrupted; results not written")
		}
		logf("case %d/%d: %s (%v so far)", i+1, len(cases), c.name(), time.Since(began).Round(time.Second))
		if err := runScaleCase(ctx, o, c, root, start, results); err != nil {
			return fmt.Errorf("%s: %w", c.name(), err)
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; results not written")
	}
	body := scaleSectionText(o, info, time.Since(began), results)
	return publish(o.out, scaleSection, body, func() (string, error) { return scaleChart(o, results) })
}

func caseNames(cs []scaleCase) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.name())
	}
	return strings.Join(n, ", ")
}

// scaleTarget is a target started for one case.
type scaleTarget struct {
	name   string
	srv    *server
	bodies [][]byte
	keys   []int // record ids of body b are RecordID{keys[b], i}
	// acked and resent count each record's acknowledgements and resends
	// over the runs.
	acked, resent map[apiload.RecordID]int
}

// runScaleCase starts every target fresh, creates the case's streams,
// runs the loads round by round, reads a sample of shards back and stops
// the targets. A target that cannot hold the case (shard limit, disk
// space, CreateStream too slow) is recorded as skipped with the reason.
func runScaleCase(ctx context.Context, o scaleOptions, c scaleCase, root string, start func(string) (*server, error), results scaleResults) error {
	var live []*scaleTarget
	defer func() {
		for _, t := range live {
			t.srv.stop()
		}
	}()
	for _, name := range o.targets {
		out := results.get(c.name(), name)
		srv, err := start(name)
		if err != nil {
			return err
		}
		t := &scaleTarget{name: name, srv: srv, acked: map[apiload.RecordID]int{}, resent: map[apiload.RecordID]int{}}
		live = append(live, t)
		t0 := time.Now()
		for s := range c.streams {
			if err = createActive(srv.addr, c.streamName(s), c.shards, t0.Add(o.createTimeout)); err != nil {
				break
			}
		}
		out.create = time.Since(t0)
		if err != nil {
			out.skipped = fmt.Sprintf("CreateStream: %s", shortReason(err))
			logf("%s, %s: skipped: %v", c.name(), name, err)
			continue
		}
		logf("%s, %s: %d stream(s) ACTIVE in %v", c.name(), name, c.streams, out.create.Round(time.Millisecond))
		// sluice allocates a shard's files on its first record, not at
		// CreateStream: the disk is checked once the streams exist.
		if name == tgtAsync {
			if why := scaleDiskCheck(root, c, o); why != "" {
				out.skipped = why
				logf("%s, %s: skipped: %s", c.name(), name, why)
				continue
			}
		}
		if c.streams == 1 {
			for b := range scaleBodies {
				t.bodies = append(t.bodies, apiload.PutRecordsBody(c.streamName(0), b, scaleBatch, scaleSize))
				t.keys = append(t.keys, b)
			}
		} else {
			for s := range c.streams {
				t.bodies = append(t.bodies, apiload.PutRecordsBody(c.streamName(s), s, scaleBatch, scaleSize))
				t.keys = append(t.keys, s)
			}
		}
	}
	// account adds a load's acknowledged and resent records per body.
	account := func(t *scaleTarget, res apiload.Result) {
		for b, n := range res.BodyAcked {
			for j := range scaleBatch {
				id := apiload.RecordID{K: t.keys[b], I: j}
				t.acked[id] += int(n)
				t.resent[id] += int(res.BodyResent[b])
			}
		}
	}
	// The first pass, not timed with the runs: every body twice, so that
	// every shard has had its first record (sluice creates a shard's
	// fragment files then) before the clock starts. Its time is reported
	// as "first write".
	for _, t := range live {
		out := results.get(c.name(), t.name)
		if out.skipped != "" || ctx.Err() != nil {
			continue
		}
		t0 := time.Now()
		res := apiload.Run(apiload.Config{Addr: t.srv.addr, Op: apiload.OpPutRecords, Conns: o.conns, Body: t.bodies,
			RoundRobin: true, RecordsPerRequest: scaleBatch, DataBytesPerRequest: scaleBatch * scaleSize,
			Check: apiload.PutAcked(scaleBatch), MaxRequests: int64(2 * len(t.bodies)), MaxDuration: o.createTimeout})
		if res.Err != nil && t.name != tgtAsync && !errors.Is(res.Err, apiload.ErrVerify) {
			out.skipped = "first PutRecords pass: " + shortReason(res.Err)
			logf("%s, %s: dropped: %v", c.name(), t.name, res.Err)
			continue
		}
		if res.Err != nil {
			return fmt.Errorf("%s, first pass: %w", t.name, res.Err)
		}
		account(t, res)
		out.first = time.Since(t0)
		logf("%s, %s: first pass (%d requests) in %v", c.name(), t.name, res.Requests, out.first.Round(time.Millisecond))
	}
	for i := range o.runs {
		for _, t := range live {
			out := results.get(c.name(), t.name)
			if out.skipped != "" {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			runtime.GC()
			cpu0 := t.srv.cpuSeconds()
			res := apiload.Run(apiload.Config{Addr: t.srv.addr, Op: apiload.OpPutRecords, Conns: o.conns, Body: t.bodies,
				RoundRobin: true, RecordsPerRequest: scaleBatch, DataBytesPerRequest: scaleBatch * scaleSize,
				Check: apiload.PutAcked(scaleBatch), MaxRequests: 50_000_000 / scaleBatch, MaxDuration: o.runTime,
				OnStart: func() { cpu0 = t.srv.cpuSeconds() }})
			cpu1 := t.srv.cpuSeconds()
			if res.Err != nil && t.name != tgtAsync && !errors.Is(res.Err, apiload.ErrVerify) {
				// A peer that times out or fails records under this
				// load gets no figure, and the reason.
				out.skipped, out.runs = fmt.Sprintf("PutRecords, run %d: %s", i+1, shortReason(res.Err)), nil
				logf("%s, %s: dropped: %v", c.name(), t.name, res.Err)
				continue
			}
			if res.Err != nil {
				return fmt.Errorf("%s, run %d: %w", t.name, i+1, res.Err)
			}
			if res.Requests == 0 {
				return fmt.Errorf("%s, run %d: no request finished", t.name, i+1)
			}
			account(t, res)
			secs := res.Elapsed.Seconds()
			lat := stats.DurationPercentiles(res.Latencies, 50, 99)
			r := scaleRun{recs: float64(res.Records) / secs, p50: lat[0].Seconds(), p99: lat[1].Seconds(),
				serverCPU: (cpu1 - cpu0) / secs, retries: res.Retries}
			out.runs = append(out.runs, r)
			logf("[run %d/%d] %-24s %-13s %10s rec/s p50 %s p99 %s | server CPU %.2f | retries %d",
				i+1, o.runs, c.name(), t.name, fmtRate(r.recs), fmtDur(r.p50), fmtDur(r.p99), r.serverCPU, r.retries)
		}
	}
	for _, t := range live {
		out := results.get(c.name(), t.name)
		if out.skipped != "" {
			continue
		}
		if t.srv.cmd != nil && t.srv.cmd.Process != nil {
			out.rss, out.hwm = procRSS(t.srv.cmd.Process.Pid)
		}
		if t.name == tgtAsync {
			dirs, _ := filepath.Glob(filepath.Join(root, "sluice-async-*"))
			for _, d := range dirs {
				out.diskBytes += dirBytes(d)
			}
		}
		t0 := time.Now()
		n, records, err := verifyScaleSample(t.srv.addr, c, o.sample, t.acked, t.resent, 3*time.Minute)
		if err != nil && t.name != tgtAsync && !errors.Is(err, apiload.ErrVerify) {
			// A peer too slow to be read back: its figures are not
			// verified, so they are not shown.
			out.skipped, out.runs = "read back: "+shortReason(err), nil
			logf("%s, %s: dropped: %v", c.name(), t.name, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: the sampled shards read back after the loads: %w", t.name, err)
		}
		out.checked, out.records, out.readBack = n, records, time.Since(t0)
		logf("verified %s: %d shard(s) read back, %d records, each as often as acknowledged, in %v",
			t.name, n, records, out.readBack.Round(time.Millisecond))
	}
	return nil
}

// scaleDiskCheck returns why the sluice target cannot run case c on the
// file system of root ("" when it can): every shard preallocates its
// fragment files on its first record, and the runs write their records.
func scaleDiskCheck(root string, c scaleCase, o scaleOptions) string {
	free, err := freeBytes(root)
	if err != nil {
		return ""
	}
	// Records: at most 1.5M records/s of 100 B, 1.5x for parity and
	// framing, per second of load.
	need := int64(c.total())*shardDiskBytes + int64(float64(o.runs)*o.runTime.Seconds()*1.5e6*scaleSize*1.5) + 1<<30
	if free < need {
		return fmt.Sprintf("needs about %.1f GiB of disk (%d shards x 6 MiB of preallocated fragment files, plus the records), %.1f GiB free",
			float64(need)/(1<<30), c.total(), float64(free)/(1<<30))
	}
	return ""
}

// freeBytes returns the bytes available to this user on dir's file system.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// dirBytes returns the disk blocks used under dir (du), in bytes.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

var reasonLimit = regexp.MustCompile(`Limit: [0-9]+`)

// shortReason turns a failed setup call into a short reason for the table.
func shortReason(err error) string {
	s := err.Error()
	var parts []string
	if m := regexp.MustCompile(`"__type":"([A-Za-z.#]+)"`).FindStringSubmatch(s); m != nil {
		parts = append(parts, m[1])
	}
	if m := reasonLimit.FindString(s); m != "" {
		parts = append(parts, "shard limit "+strings.TrimPrefix(m, "Limit: "))
	}
	if len(parts) > 0 {
		return strings.Join(parts, ", ")
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// createActive creates stream with shards shards and waits until it is
// ACTIVE, at most until deadline.
func createActive(addr, stream string, shards int, deadline time.Time) error {
	c := apiload.NewClient(addr)
	defer c.Close()
	if _, err := c.Do(apiload.OpCreateStream, []byte(`{"StreamName":"`+stream+`","ShardCount":`+strconv.Itoa(shards)+`}`)); err != nil {
		return err
	}
	for {
		b, err := c.Do(apiload.OpDescribeSummary, []byte(`{"StreamName":"`+stream+`"}`))
		if err != nil {
			return err
		}
		if strings.Contains(string(b), `"StreamStatus":"ACTIVE"`) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %s of %d shards not ACTIVE in time: %.200s", stream, shards, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// procRSS returns VmRSS and VmHWM of process pid in bytes (0 when unreadable).
func procRSS(pid int) (rss, hwm int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	return parseProcStatusKB(string(b), "VmRSS:"), parseProcStatusKB(string(b), "VmHWM:")
}

// parseProcStatusKB returns the value of a "Field:   123 kB" line of
// /proc/PID/status in bytes (0 when missing).
func parseProcStatusKB(status, field string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return n << 10
				}
			}
		}
	}
	return 0
}

// shardRange is a shard and its hash key range.
type shardRange struct {
	id         string
	start, end *big.Int
}

func (s shardRange) holds(pk string) bool {
	h := md5.Sum([]byte(pk))
	x := new(big.Int).SetBytes(h[:])
	return x.Cmp(s.start) >= 0 && x.Cmp(s.end) <= 0
}

// listShardRanges lists every shard of stream with its hash key range,
// following NextToken.
func listShardRanges(c *apiload.Client, stream string) ([]shardRange, error) {
	var out []shardRange
	body := `{"StreamName":"` + stream + `","MaxResults":1000}`
	var p fastjson.Parser
	for calls := 0; ; calls++ {
		if calls > 100 {
			return nil, errors.New("ListShards: no end after 100 pages")
		}
		b, err := c.Do(apiload.OpListShards, []byte(body))
		if err != nil {
			return nil, err
		}
		v, err := p.ParseBytes(b)
		if err != nil {
			return nil, fmt.Errorf("ListShards: %w", err)
		}
		for _, s := range v.GetArray("Shards") {
			st, ok1 := new(big.Int).SetString(string(s.GetStringBytes("HashKeyRange", "StartingHashKey")), 10)
			en, ok2 := new(big.Int).SetString(string(s.GetStringBytes("HashKeyRange", "EndingHashKey")), 10)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("ListShards: shard without a hash key range: %s", s)
			}
			out = append(out, shardRange{id: string(s.GetStringBytes("ShardId")), start: st, end: en})
		}
		next := string(v.GetStringBytes("NextToken"))
		if next == "" {
			break
		}
		body = `{"NextToken":"` + next + `","MaxResults":1000}`
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ListShards of %s: no shard", stream)
	}
	return out, nil
}

// sampleIndexes picks up to n of count indexes, spread evenly, first and
// last included.
func sampleIndexes(count, n int) []int {
	if n >= count {
		out := make([]int, count)
		for i := range out {
			out[i] = i
		}
		return out
	}
	var out []int
	for k := range n {
		i := 0
		if n > 1 {
			i = k * (count - 1) / (n - 1)
		}
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	return out
}

// verifyScaleSample reads a sample of the case's shards back in full (n
// shards spread over the streams and their hash key ranges) and checks
// that each holds exactly the acknowledged records whose partition key
// hashes into its range, each as often as it was acknowledged (up to its
// resends more), with the data and partition key it was written with. It
// returns the shards and records checked.
func verifyScaleSample(addr string, c scaleCase, n int, acked, resent map[apiload.RecordID]int, timeout time.Duration) (int, int64, error) {
	cl := apiload.NewClient(addr)
	defer cl.Close()
	deadline := time.Now().Add(timeout)
	type pick struct{ stream, shard int }
	var picks []pick
	if c.streams == 1 {
		for _, i := range sampleIndexes(c.shards, n) {
			picks = append(picks, pick{0, i})
		}
	} else {
		ss := sampleIndexes(c.streams, max(1, n/2))
		per := max(1, n/len(ss))
		for _, s := range ss {
			for _, i := range sampleIndexes(c.shards, per) {
				picks = append(picks, pick{s, i})
			}
		}
	}
	var records int64
	ranges := map[int][]shardRange{}
	for _, pk := range picks {
		rs, ok := ranges[pk.stream]
		if !ok {
			var err error
			if rs, err = listShardRanges(cl, c.streamName(pk.stream)); err != nil {
				return 0, 0, err
			}
			if len(rs) != c.shards {
				return 0, 0, fmt.Errorf("%w: stream %s lists %d shards, created with %d", apiload.ErrVerify, c.streamName(pk.stream), len(rs), c.shards)
			}
			ranges[pk.stream] = rs
		}
		sh := rs[pk.shard]
		// The records of this stream (body key) that hash into the shard.
		want, res := map[apiload.RecordID]int{}, map[apiload.RecordID]int{}
		for id, k := range acked {
			if (c.streams == 1 || id.K == pk.stream) && sh.holds(apiload.PartitionKey(id.K, id.I)) {
				want[id], res[id] = k, resent[id]
			}
		}
		got, err := readShardIDs(cl, c.streamName(pk.stream), sh, deadline)
		if err == nil {
			if err = apiload.CompareResent(want, res, got); err != nil {
				err = fmt.Errorf("%w: %w", apiload.ErrVerify, err)
			}
		}
		if err != nil {
			return 0, 0, fmt.Errorf("stream %s, %s: %w", c.streamName(pk.stream), sh.id, err)
		}
		for _, k := range got {
			records += int64(k)
		}
	}
	return len(picks), records, nil
}

// readShardIDs reads shard sh of stream from TRIM_HORIZON to its end and
// returns how often each record was read; every record's data must carry
// a valid stamp, its partition key must be the one written with it and
// hash into the shard's range.
func readShardIDs(c *apiload.Client, stream string, sh shardRange, deadline time.Time) (map[apiload.RecordID]int, error) {
	b, err := c.Do(apiload.OpGetShardIterator, []byte(`{"StreamName":"`+stream+`","ShardId":"`+sh.id+`","ShardIteratorType":"TRIM_HORIZON"}`))
	if err != nil {
		return nil, err
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return nil, fmt.Errorf("GetShardIterator: %w", err)
	}
	iter := string(v.GetStringBytes("ShardIterator"))
	got := map[apiload.RecordID]int{}
	for iter != "" {
		if time.Now().After(deadline) {
			return nil, errors.New("not read to its end in time")
		}
		b, err := c.Do(apiload.OpGetRecords, []byte(`{"ShardIterator":"`+iter+`","Limit":10000}`))
		if err != nil {
			return nil, err
		}
		v, err := p.ParseBytes(b)
		if err != nil {
			return nil, fmt.Errorf("GetRecords: %w", err)
		}
		if v.Get("Records") == nil {
			return nil, fmt.Errorf("GetRecords answer without Records: %.200s", b)
		}
		recs := v.GetArray("Records")
		for _, r := range recs {
			id, err := apiload.CheckData(r.GetStringBytes("Data"))
			if err != nil {
				return nil, fmt.Errorf("%w: %w", apiload.ErrVerify, err)
			}
			pk := string(r.GetStringBytes("PartitionKey"))
			if want := apiload.PartitionKey(id.K, id.I); pk != want {
				return nil, fmt.Errorf("%w: %v has partition key %q, written with %q", apiload.ErrVerify, id, pk, want)
			}
			if !sh.holds(pk) {
				return nil, fmt.Errorf("%w: %v: partition key %q does not hash into the shard's range", apiload.ErrVerify, id, pk)
			}
			got[id]++
		}
		if len(recs) == 0 {
			break
		}
		iter = string(v.GetStringBytes("NextShardIterator"))
	}
	return got, nil
}

// scaleShardLimit is the account shard limit the peers are started with,
// above every case (their defaults: kinesalite 10, kinesis-mock 50).
const scaleShardLimit = 5000

// startScaleKinesalite starts kinesalite as startKinesalite does, with a
// shard limit above every case.
func startScaleKinesalite(mod, root string) (*server, error) {
	script := filepath.Join(root, "kinesalite-scale.js")
	if !strings.Contains(kinesaliteScript, "shardLimit: 100") {
		return nil, errors.New("kinesaliteScript no longer sets shardLimit: 100")
	}
	src := strings.Replace(kinesaliteScript, "shardLimit: 100", "shardLimit: "+strconv.Itoa(scaleShardLimit), 1)
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	srv, err := startServer("kinesalite", addr, exec.Command("node", script, mod, port), tcpReady(addr), nil)
	if srv != nil {
		srv.kill = true
	}
	return srv, err
}

// startScaleKinesisMock starts kinesis-mock as startKinesisMock does,
// with SHARD_LIMIT above every case.
func startScaleKinesisMock(mod, root string) (*server, error) {
	return startKinesisMock(mod, root, "SHARD_LIMIT="+strconv.Itoa(scaleShardLimit))
}

func scaleSectionText(o scaleOptions, info machine.Info, took time.Duration, results scaleResults) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Many shards and streams (scale)\n\n")
	cmd := "go run ./bench/cmd/sluice-bench scale"
	if o.quick {
		cmd += " --quick"
	}
	w("Generated by `%s`: %d run(s) of %v per case and target, %d keep-alive connections sending PutRecords of\n",
		cmd, o.runs, o.runTime, o.conns)
	w("%d records of %dB; took %v.\n\n", scaleBatch, scaleSize, took.Round(time.Second))
	for _, l := range info.Lines() {
		w("%s\n", l)
	}
	w("\nrecords/s: median over runs [min-max]. vs 1 shard: run i of the case / run i of the 1-shard case of the same\n")
	w("target (the cases run one after the other), median [min-max]. `-`: not measured, the reason is in the details.\n\n")
	cases := o.cases()
	header := []string{"case", "shards"}
	align := []byte{'l', 'r'}
	for _, t := range o.targets {
		header, align = append(header, t+" records/s", "vs 1 shard"), append(align, 'r', 'r')
	}
	tb := report.Table{Header: header, Align: align}
	base := cases[0].name()
	for _, c := range cases {
		row := []string{c.name(), strconv.Itoa(c.total())}
		for _, t := range o.targets {
			out := results[c.name()][t]
			if out == nil || len(out.runs) == 0 {
				row = append(row, "-", "-")
				continue
			}
			recs := scaleRecs(out.runs)
			row = append(row, fmtSummary(stats.Summarize(recs), fmtRate))
			ratio := "-"
			if bo := results[base][t]; bo != nil && len(bo.runs) > 0 {
				ratio = fmtSummary(stats.Summarize(stats.Ratios(recs, scaleRecs(bo.runs))), fmtRatio)
			}
			row = append(row, ratio)
		}
		tb.Add(row...)
	}
	b.WriteString(tb.Markdown())

	w("\nDetails per case and target. create: CreateStream of every stream of the case until DescribeStreamSummary\n")
	w("reports all ACTIVE (one after the other); first write: the untimed pass before the runs that sends every\n")
	w("request body twice (%d connections), so that every shard holds a record and sluice has created its files;\n", o.conns)
	w("RSS: VmRSS and VmHWM (peak) of the server process from /proc/PID/status after the runs (file pages of mapped\n")
	w("segments count); latency per PutRecords request (medians over runs); read back: shards read from TRIM_HORIZON to their end after the runs, and the records they held.\n\n")
	dt := report.Table{Header: []string{"case", "target", "create", "first write", "RSS", "peak RSS", "disk", "p50", "p99", "server CPU",
		"retries", "read back", "note"},
		Align: []byte{'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'}}
	for _, c := range cases {
		for _, t := range o.targets {
			out := results[c.name()][t]
			if out == nil {
				continue
			}
			create := "-"
			if out.create > 0 && out.skipped == "" {
				create = fmtDur(out.create.Seconds())
			}
			if out.skipped != "" {
				dt.Add(c.name(), t, create, "-", "-", "-", "-", "-", "-", "-", "-", "-", out.skipped)
				continue
			}
			med := func(f func(scaleRun) float64) float64 {
				v := make([]float64, len(out.runs))
				for i, r := range out.runs {
					v[i] = f(r)
				}
				return stats.Median(v)
			}
			var retries int64
			for _, r := range out.runs {
				retries += r.retries
			}
			disk := "-"
			if out.diskBytes > 0 {
				disk = fmtSize(float64(out.diskBytes))
			}
			dt.Add(c.name(), t, create, fmtDur(out.first.Seconds()), fmtBytes(float64(out.rss)), fmtBytes(float64(out.hwm)), disk,
				fmtDur(med(func(r scaleRun) float64 { return r.p50 })), fmtDur(med(func(r scaleRun) float64 { return r.p99 })),
				fmt.Sprintf("%.2f", med(func(r scaleRun) float64 { return r.serverCPU })), strconv.FormatInt(retries, 10),
				fmt.Sprintf("%d shard(s), %d records in %s", out.checked, out.records, fmtDur(out.readBack.Seconds())), "")
		}
	}
	b.WriteString(dt.Markdown())

	w("\nMethod:\n\n")
	w("- Client: this process, the api suite's load generator (bench/internal/apiload: fasthttp, one goroutine per\n")
	w("  keep-alive HTTP/1.1 connection sending back to back, bodies JSON-encoded once before the clock starts, stamped\n")
	w("  records). One-stream cases: %d distinct bodies (%d distinct 16-hex-digit partition keys spread over the\n", scaleBodies, scaleBodies*scaleBatch)
	w("  whole hash key space), so every request touches up to %d shards. Many streams: one body per stream; every\n", scaleBatch)
	w("  connection cycles over all bodies (request j of connection w goes to stream (w + j x connections) mod streams).\n")
	w("  Every PutRecords response must report `\"FailedRecordCount\":0` and a sequence number per record.\n")
	w("- sluice: `./cmd/sluice` built once, `--durability async`, a fresh process and `--data-dir` under %s (%s) per\n", info.Mount, info.FSType)
	w("  case, started with `--shard-limit %d` (AWS's default account limit, 500 open shards in us-east-1, would stop\n", scaleShardLimit)
	w("  the larger cases at CreateStream). A shard preallocates its first segment's 6 fragment files (1 MiB each) on its\n")
	w("  first record, later segments doubling up to 16 MiB: the free space is checked first and a case that does not\n")
	w("  fit is skipped with the reason.\n")
	w("- kinesalite %s (in memory, started with shardLimit %d) and kinesis-mock %s (in memory, SHARD_LIMIT %d,\n", kinesaliteVersion, scaleShardLimit, kinesisMockVersion, scaleShardLimit)
	w("  CREATE_STREAM_DURATION 0ms), as in the api suite, a fresh process per case. A peer whose streams are not ACTIVE\n")
	w("  within %v of the first CreateStream (or whose CreateStream fails) is recorded as `-` with the reason.\n", o.createTimeout)
	w("- The runs of the targets alternate within a case (run 1 of each, run 2 of each, ...); the cases run in the\n")
	w("  order of the table, each on fresh servers.\n")
	var skipped []string
	for _, c := range cases {
		for _, t := range o.targets {
			if out := results[c.name()][t]; out != nil && out.skipped != "" {
				skipped = append(skipped, fmt.Sprintf("%s, %s: %s", c.name(), t, out.skipped))
			}
		}
	}
	if len(skipped) > 0 {
		w("- Not measured in this run:\n")
		for _, r := range skipped {
			w("  - %s\n", r)
		}
	}
	w("- Verification: after the runs, %d shard(s) of each case (spread over the streams and the hash key space; all\n", o.sample)
	w("  when fewer) are read from TRIM_HORIZON to the end with GetRecords. Each record's data must carry its stamp and\n")
	w("  the shared tail, its partition key must be the one written with it and hash (MD5) into the shard's range, and\n")
	w("  the shard must hold every acknowledged record of its range exactly as often as it was acknowledged (up to the\n")
	w("  number of resends more). A mismatch fails the suite (`verification failed`).\n")
	return b.String()
}

// fmtSize is fmtBytes with GiB above 1 GiB.
func fmtSize(n float64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	}
	return fmtBytes(n)
}

func scaleRecs(runs []scaleRun) []float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = r.recs
	}
	return v
}

// scaleChartName is the scale suite's chart, beside the results file.
const scaleChartName = "scale-throughput.svg"

// scaleChart draws the median records/s per case and target beside o.out
// and returns the Markdown that shows it.
func scaleChart(o scaleOptions, results scaleResults) (string, error) {
	var groups []string
	for _, c := range o.cases() {
		groups = append(groups, c.name())
	}
	var series []string
	var values [][]float64
	for _, t := range o.targets {
		row := make([]float64, len(groups))
		any := false
		for g, name := range groups {
			row[g] = nan
			if out := results[name][t]; out != nil && len(out.runs) > 0 {
				row[g], any = stats.Median(scaleRecs(out.runs)), true
			}
		}
		if any {
			series, values = append(series, t), append(values, row)
		}
	}
	path := filepath.Join(filepath.Dir(o.out), scaleChartName)
	if err := charts.Bars(path, "PutRecords 500x100B by shard count: records/s (median, log scale)", "records/s",
		groups, series, values, fmtRate); err != nil {
		return "", err
	}
	logf("wrote %s", path)
	return "\n![PutRecords throughput per shard count and target](" + scaleChartName + ")\n", nil
}
