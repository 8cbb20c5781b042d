package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluicehq/sluice/internal/fanoutload"
)

// Parameters of TestCmdFanoutStalledConsumer.
const (
	// stallWindow is the measured time of one window.
	stallWindow = 200 * time.Millisecond
	// stallGuard is the unmeasured time after each switch: a new stalled
	// consumer first gets what fits into its socket buffers (several MiB
	// read and encoded from TRIM_HORIZON, a catching-up consumer's cost,
	// not a stalled one's), a closed one is torn down.
	stallGuard = 120 * time.Millisecond
	// stallPairs is the number of A-B window pairs of one attempt.
	stallPairs = 25
	// stallMaxPrefill bounds the prefill in time; the test fails if the
	// backlog has not reached stallBacklogFactor times the memory bound by
	// then.
	stallMaxPrefill = 30 * time.Second
	// stallPrefillRecordSize is the data size of a prefill record.
	stallPrefillRecordSize = 4 << 10
	// stallTrim is the share of ratios trimmed off each end before the
	// ratios are averaged (a trimmed geometric mean: less noisy than the
	// median, indifferent to the odd window that another process on the
	// machine spoilt).
	stallTrim = 0.2
	// stallRecordSize is the data size of a record of the measured load:
	// small, so that the producers are bound by CPU, not by the disk.
	stallRecordSize = 256
	// stallMemoryBound is the bound on the server's anonymous resident
	// memory (heap, stacks; the mapped segment files are page cache and
	// not counted), sampled every 10 ms for the whole test. Measured peaks
	// were 78-96 MiB in most runs and 151 MiB once (the garbage of the
	// stalled subscriptions' catch-up and the GC's pacing vary): the bound
	// holds that with room, and a server that kept a stalled consumer's
	// backlog in memory would need several times it. A leak of about one
	// event buffer per stalled subscription (x/net/http2 pinning the slice
	// of a dead write, fixed in fanout/writer.go) reached 142-210 MiB here
	// and 287 MiB in a 70-pair run: this short test is not sure to catch a
	// leak that small.
	stallMemoryBound = 192 << 20
	// stallBacklogFactor: the stalled consumers' backlog must grow to at
	// least this many times stallMemoryBound.
	stallBacklogFactor = 4
	// stallTolerance is how much worse the windows with the stalled
	// consumer may be than those without: 10%.
	stallTolerance = 0.10
)

// TestCmdFanoutStalledConsumer runs the server binary under producers at
// full speed and two enhanced fan-out consumers that read every shard, and
// alternates windows without (A) and with (B) a third consumer that
// subscribes to every shard from TRIM_HORIZON over its own HTTP/2
// connection and then never reads its socket again (issue 4: "a slow or
// stalled consumer never slows producers or other consumers"). The load
// runs without a break; only the consumer switches, with an unmeasured
// guard time after each switch.
//
// Each B window is compared with the mean of the A windows on either side
// (which cancels a drift of the machine's load, from other processes or
// disk write-back, to first order), and the median of those ratios is
// checked: producer throughput (records acknowledged in the window) at
// least 90% of A's, the live consumers' median latency (PutRecords
// acknowledgement to receipt, records sent in the window) at most 110% of
// A's. The live consumers must receive every record exactly once, and the
// server's anonymous memory (RssAnon) must stay below stallMemoryBound at
// every sample while the stalled consumers' backlog (the whole stream)
// grows past stallBacklogFactor times that bound.
func TestCmdFanoutStalledConsumer(t *testing.T) {
	bin := buildSluice(t)
	apiAddr := freeAddr(t)
	p := startSluice(t, bin, "--data-dir", filepath.Join(t.TempDir(), "data"), "--api-addr", apiAddr,
		"--tcp-addr", freeAddr(t), "--durability", "async", "--log-level", "warn")
	waitReady(t, "http://"+apiAddr, p)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c := fanoutload.NewClient(apiAddr)
	defer c.Close()
	st, err := fanoutload.CreateStream(ctx, c, "stall", 2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	register := func(name string) string {
		t.Helper()
		arn, err := fanoutload.RegisterConsumer(ctx, c, st.ARN, name, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
	const live = 2
	liveARNs := []string{register("live-0"), register("live-1")}
	// The B windows take turns among stalled consumers: a consumer's
	// subscription to a shard is exclusive, and the server may still be
	// releasing a closed one when the next B window starts. A consumer
	// comes back after more than the 5 s takeover age.
	var stalledARNs []string
	for i := range 12 {
		stalledARNs = append(stalledARNs, register("stalled-"+strconv.Itoa(i)))
	}

	// Memory: the child's RssAnon, sampled until the end of the test.
	var peakRSS atomic.Int64
	sampleDone, stopSampling := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampleDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := rssAnon(p.cmd.Process.Pid); err == nil && v > peakRSS.Load() {
				peakRSS.Store(v)
			}
			select {
			case <-tick.C:
			case <-stopSampling:
				return
			}
		}
	}()
	defer func() {
		close(stopSampling)
		<-sampleDone
	}()

	// The backlog first: the stream is filled with large records at full
	// speed (not measured), and the page cache written back, so that the
	// measured windows are not paced by the kernel's write-back of this
	// burst. Every stalled consumer starts at TRIM_HORIZON: its backlog
	// is the whole stream.
	prefill := fanoutload.RunProducers(ctx, fanoutload.ProducerConfig{Addr: apiAddr, Stream: "stall", Producers: 2,
		Batch: 100, Size: stallPrefillRecordSize, Duration: stallMaxPrefill,
		MaxRecords: stallBacklogFactor * stallMemoryBound / stallPrefillRecordSize,
		Tracker:    fanoutload.NewTracker(stallBacklogFactor*stallMemoryBound/stallPrefillRecordSize+1000, 0)})
	if prefill.Err != nil {
		t.Fatalf("prefill: %v", prefill.Err)
	}
	prefillBytes := prefill.Records * stallPrefillRecordSize
	if prefillBytes < stallBacklogFactor*stallMemoryBound {
		t.Fatalf("prefill: %d MiB in %v, short of %d times the memory bound (%d MiB): the machine is too slow for this test",
			prefillBytes>>20, prefill.Elapsed.Round(time.Millisecond), stallBacklogFactor, stallMemoryBound>>20)
	}
	syncStart := time.Now()
	unix.Sync()
	t.Logf("prefill: %d MiB in %v, written back in %v; server RssAnon peak so far %.1f MiB", prefillBytes>>20,
		prefill.Elapsed.Round(time.Millisecond), time.Since(syncStart).Round(time.Millisecond), float64(peakRSS.Load())/(1<<20))

	// The live consumers read every shard for the rest of the test.
	// Every 8th record is tracked: at about 100k records/s the test
	// sends a few million.
	tr := fanoutload.NewSampledTracker(16<<20, live, 8)
	rctx, stopReaders := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		ready   sync.WaitGroup
		errMu   sync.Mutex
		readErr error
	)
	for k := range live {
		lc := fanoutload.NewClient(apiAddr)
		lc.StampOnly = true
		defer lc.Close()
		for _, shard := range st.Shards {
			wg.Add(1)
			ready.Add(1)
			go func() {
				defer wg.Done()
				once := sync.OnceFunc(ready.Done)
				defer once()
				err := fanoutload.Consume(rctx, lc, liveARNs[k], shard, fanoutload.Position{Type: "LATEST"}, once,
					func(ev *fanoutload.Event) {
						at := tr.Now()
						for i := range ev.Records {
							tr.Received(k, ev.Records[i].Data, at)
						}
					})
				if err != nil {
					errMu.Lock()
					readErr = fmt.Errorf("live consumer %d, %s: %w", k, shard, err)
					errMu.Unlock()
				}
			}()
		}
	}
	defer func() {
		stopReaders()
		wg.Wait()
	}()
	ready.Wait()
	checkReaders := func() {
		t.Helper()
		errMu.Lock()
		defer errMu.Unlock()
		if readErr != nil {
			t.Fatal(readErr)
		}
	}
	checkReaders()

	// The producers run without a break until the windows are done.
	pctx, stopProducers := context.WithCancel(ctx)
	defer stopProducers()
	var acked atomic.Int64
	prodDone := make(chan fanoutload.ProducerResult, 1)
	go func() {
		prodDone <- fanoutload.RunProducers(pctx, fanoutload.ProducerConfig{Addr: apiAddr, Stream: "stall", Producers: 2,
			Batch: 100, Size: stallRecordSize, Duration: 2 * time.Minute, Tracker: tr, Acked: &acked})
	}()
	producerFailed := func() {
		t.Helper()
		select {
		case res := <-prodDone:
			t.Fatalf("the producers stopped early: %v", res.Err)
		default:
		}
	}
	time.Sleep(stallGuard) // the producers' connections and first requests

	var backlog int64 // bytes: the whole stream when the last stalled consumer went away
	stalledIndex := 0
	// runWindows runs A-B window pairs, then a last A window.
	runWindows := func(pairs int) []stallWindowSpan {
		t.Helper()
		var windows []stallWindowSpan
		window := func(kind byte) {
			var stalled *fanoutload.Stalled
			if kind == 'B' {
				var err error
				stalled, err = fanoutload.Stall(ctx, apiAddr, stalledARNs[stalledIndex%len(stalledARNs)], st.Shards,
					fanoutload.Position{Type: "TRIM_HORIZON"})
				if err != nil {
					t.Fatalf("window %d: %v", len(windows)+1, err)
				}
				stalledIndex++
			}
			time.Sleep(stallGuard)
			w := stallWindowSpan{kind: kind, w0: tr.Now()}
			time.Sleep(stallWindow)
			w.w1 = tr.Now()
			windows = append(windows, w)
			if stalled != nil {
				backlog = prefillBytes + acked.Load()*stallRecordSize
				if err := stalled.Close(); err != nil {
					t.Fatal(err)
				}
			}
			producerFailed()
			checkReaders()
		}
		for range pairs {
			window('A')
			window('B')
		}
		window('A')
		// The records sent in the windows reach both live consumers,
		// once.
		from, to := windows[0].w0, windows[len(windows)-1].w1
		deadline := time.Now().Add(10 * time.Second)
		for tr.Pending(0, from, to)+tr.Pending(1, from, to) > 0 {
			checkReaders()
			if time.Now().After(deadline) {
				t.Fatalf("the live consumers still miss %d and %d records 10 s after the windows",
					tr.Pending(0, from, to), tr.Pending(1, from, to))
			}
			time.Sleep(10 * time.Millisecond)
		}
		return windows
	}

	// A first attempt; a second one if the first misses the tolerance.
	loadStart := time.Now()
	var verdict stallVerdict
	for attempt := 1; attempt <= 2; attempt++ {
		windows := runWindows(stallPairs)
		verdict = stallCompare(t, tr, live, windows)
		t.Logf("attempt %d: %d window pairs; medians A/B: producers %.0f/%.0f records/s, live consumers' latency p50 %v/%v",
			attempt, len(verdict.tput), verdict.tputA, verdict.tputB, time.Duration(verdict.latA), time.Duration(verdict.latB))
		t.Logf("attempt %d: B / neighbouring A (trimmed geometric mean): producer throughput %.3f, live consumers' latency p50 %.3f",
			attempt, verdict.tputRatio, verdict.latRatio)
		t.Logf("throughput ratios %.2f", verdict.tput)
		t.Logf("latency ratios %.2f", verdict.lat)
		if verdict.tputRatio >= 1-stallTolerance && verdict.latRatio <= 1+stallTolerance {
			break
		}
	}
	stopProducers()
	if res := <-prodDone; res.Err != nil {
		t.Fatalf("producers: %v", res.Err)
	}
	for k := range live {
		if l := tr.Latencies(k, 0, math.MaxInt64); l.Duplicates != 0 || l.Alien != 0 {
			t.Fatalf("live consumer %d: %d duplicates, %d unknown records", k, l.Duplicates, l.Alien)
		}
	}
	peak := peakRSS.Load()
	t.Logf("server RssAnon peak %.1f MiB (bound %d MiB); the stalled consumers' backlog reached %.0f MiB; load %v, test %v",
		float64(peak)/(1<<20), stallMemoryBound>>20, float64(backlog)/(1<<20), time.Since(loadStart).Round(time.Millisecond),
		time.Since(began).Round(time.Millisecond))
	if verdict.tputRatio < 1-stallTolerance {
		t.Errorf("producer throughput with a stalled consumer is %.1f%% of that without it, below %.0f%%", 100*verdict.tputRatio, 100*(1-stallTolerance))
	}
	if verdict.latRatio > 1+stallTolerance {
		t.Errorf("the live consumers' median latency with a stalled consumer is %.1f%% of that without it, above %.0f%%", 100*verdict.latRatio, 100*(1+stallTolerance))
	}
	if peak == 0 || peak >= stallMemoryBound {
		t.Errorf("server RssAnon peaked at %.1f MiB; the bound is %d MiB", float64(peak)/(1<<20), stallMemoryBound>>20)
	}
}

// stallWindowSpan is one window of TestCmdFanoutStalledConsumer: A
// without the stalled consumer, B with it, from w0 to w1 (Tracker.Now).
type stallWindowSpan struct {
	kind   byte
	w0, w1 int64
}

// stallVerdict compares the B windows with their neighbouring A windows.
type stallVerdict struct {
	tput, lat           []float64 // per B window: B / mean of the A windows on either side
	tputRatio, latRatio float64   // trimmed geometric means of tput and lat
	tputA, tputB        float64   // medians, records/s
	latA, latB          float64   // medians of the windows' p50, ns
}

// stallCompare measures every window, whose first and last are A and
// which alternate: the records acknowledged in it (throughput) and the
// live consumers' median latency of the records sent in it.
func stallCompare(t *testing.T, tr *fanoutload.Tracker, live int, windows []stallWindowSpan) stallVerdict {
	t.Helper()
	acks := make([]int, len(windows))
	lats := make([][]time.Duration, len(windows))
	find := func(ns int64) int {
		i, found := slices.BinarySearchFunc(windows, ns, func(w stallWindowSpan, ns int64) int {
			switch {
			case ns < w.w0:
				return 1
			case ns >= w.w1:
				return -1
			}
			return 0
		})
		if !found {
			return -1
		}
		return i
	}
	for id := range tr.Allocated() {
		sent, ack := tr.Times(id)
		if ack == 0 {
			continue
		}
		if i := find(ack); i >= 0 {
			acks[i] += int(tr.Every())
		}
		if i := find(sent); i >= 0 {
			for k := range live {
				lats[i] = append(lats[i], time.Duration(max(0, tr.Receipt(k, id)-ack)))
			}
		}
	}
	var v stallVerdict
	tput := make([]float64, len(windows))
	p50 := make([]float64, len(windows))
	var tA, tB, lA, lB []float64
	for i, w := range windows {
		if len(lats[i]) == 0 || acks[i] == 0 {
			t.Fatalf("window %d (%c): %d records acknowledged, %d latencies", i+1, w.kind, acks[i], len(lats[i]))
		}
		tput[i] = float64(acks[i]) / (float64(w.w1-w.w0) / 1e9)
		slices.Sort(lats[i])
		p50[i] = float64(max(lats[i][len(lats[i])/2], time.Microsecond))
	}
	for i, w := range windows {
		if w.kind == 'A' {
			tA, lA = append(tA, tput[i]), append(lA, p50[i])
		} else {
			tB, lB = append(tB, tput[i]), append(lB, p50[i])
			v.tput = append(v.tput, tput[i]/((tput[i-1]+tput[i+1])/2))
			v.lat = append(v.lat, p50[i]/((p50[i-1]+p50[i+1])/2))
		}
	}
	v.tputRatio, v.latRatio = trimmedGeoMean(v.tput, stallTrim), trimmedGeoMean(v.lat, stallTrim)
	v.tputA, v.tputB, v.latA, v.latB = median(tA), median(tB), median(lA), median(lB)
	return v
}

// trimmedGeoMean returns the geometric mean of xs (all positive) without
// the trim share of the smallest and of the largest values.
func trimmedGeoMean(xs []float64, trim float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	cut := int(trim * float64(len(xs)))
	xs = xs[cut : len(xs)-cut]
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}

// median returns the median of xs (NaN when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// rssAnon returns the RssAnon of process pid in bytes (/proc/PID/status).
func rssAnon(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("RssAnon %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no RssAnon in /proc/%d/status", pid)
}
