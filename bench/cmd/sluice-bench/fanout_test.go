package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/internal/fanoutload"
)

// TestBenchFanoutQuick runs the fanout suite end to end against the sluice
// binary (built from this module) for one short async pass and checks the
// section it writes: both readers have latency figures, every record
// reached every reader, and the other sections are kept.
func TestBenchFanoutQuick(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(out, []byte("# r\n\n<!-- segment:begin -->\nkept\n<!-- segment:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := runFanout(ctx, []string{"--quick", "--modes", "async", "--peers", "none", "--run-time", "1s", "--warmup", "300ms", "--drain", "2s",
		"--rate", "1000", "--out", out, "--dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "]("+fanoutChartName+")") {
		t.Fatalf("the section does not show the chart:\n%s", doc)
	}
	if svg, err := os.ReadFile(filepath.Join(filepath.Dir(out), fanoutChartName)); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("chart beside the results: %v", err)
	}
	if !strings.Contains(doc, "<!-- segment:begin -->\nkept\n<!-- segment:end -->") {
		t.Fatalf("the segment section was not kept:\n%s", doc)
	}
	if !strings.Contains(doc, "<!-- fanout:begin -->\n## Enhanced fan-out latency") {
		t.Fatalf("no fanout section:\n%s", doc)
	}
	for _, reader := range []string{"SubscribeToShard (h2c), 2 per shard", "GetRecords every 200ms, 2 per shard"} {
		cells := tableRow(t, doc, "| sluice async | "+reader)
		// | server | reader | acked | samples | p50 | p99 | p99.9 | max | p50/pass | p99/pass | max/pass | before ack | target | result |
		if len(cells) < 14 || cells[3] == "0" || cells[4] == "-" || !strings.HasSuffix(cells[5], "s") || !strings.HasSuffix(cells[2], " of 1000") {
			t.Fatalf("row %q has no figures: %q", reader, cells)
		}
	}
	details := tableRow(t, doc, "| sluice async |    1 |")
	// missing, duplicates, misdelivered (SubscribeToShard / GetRecords)
	if got := details[13:16]; got[0] != "0 / 0" || got[1] != "0 / 0" || got[2] != "0 / 0" {
		t.Fatalf("missing, duplicate, misdelivered records: %q in %q", got, details)
	}
	if strings.Contains(doc, "\n| kinesalite") {
		t.Fatalf("--peers none ran a peer:\n%s", doc)
	}
}

// tableRow returns the trimmed cells of the first line of doc starting
// with prefix (without the empty cells outside the outer pipes).
func tableRow(t *testing.T, doc, prefix string) []string {
	t.Helper()
	i := strings.Index(doc, prefix)
	if i < 0 {
		t.Fatalf("no row %q in:\n%s", prefix, doc)
	}
	line := doc[i : i+strings.IndexByte(doc[i:], '\n')]
	cells := strings.Split(strings.Trim(line, "|"), "|")
	for k := range cells {
		cells[k] = strings.TrimSpace(cells[k])
	}
	return cells
}

// findRow returns the trimmed cells of the first table row of doc with n
// cells whose first cells are first.
func findRow(t *testing.T, doc string, n int, first ...string) []string {
	t.Helper()
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		if len(cells) == n && slices.Equal(cells[:len(first)], first) {
			return cells
		}
	}
	t.Fatalf("no row of %d cells %q in:\n%s", n, first, doc)
	return nil
}

func TestBenchFanoutFlags(t *testing.T) {
	o, err := parseFanoutFlags([]string{"--quick"})
	if err != nil || o.runTime != time.Second || o.warmup != 500*time.Millisecond || o.rate != 2000 || len(o.modes) != 2 ||
		o.runs != 1 || o.probe != 0 || !slices.Equal(o.peers, []string{"kinesalite"}) {
		t.Fatalf("--quick: %+v, %v", o, err)
	}
	o, err = parseFanoutFlags(nil)
	if err != nil || o.runTime != 20*time.Second || o.rate != 10000 || o.shards != 4 || o.consumers != 2 || o.pollers != 2 ||
		o.pollInterval != 200*time.Millisecond || o.runs != 3 || o.probe != 4*time.Second ||
		!slices.Equal(o.peers, []string{"kinesalite", "kinesis-mock"}) {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	if o, err := parseFanoutFlags([]string{"--quick", "--peers", "none", "--probe", "2s"}); err != nil || len(o.peers) != 0 || o.probe != 2*time.Second {
		t.Fatalf("--peers none: %+v, %v", o, err)
	}
	if _, err := parseFanoutFlags([]string{"--peers", "localstack"}); err == nil {
		t.Fatal("unknown peer accepted")
	}
	if _, err := parseFanoutFlags([]string{"--modes", "", "--peers", "none"}); err == nil {
		t.Fatal("no target accepted")
	}
	if _, err := parseFanoutFlags([]string{"--modes", "sync"}); err == nil {
		t.Fatal("unknown mode accepted")
	}
	if _, err := parseFanoutFlags([]string{"--size", "8"}); err == nil {
		t.Fatal("a record smaller than the stamp accepted")
	}
}

func TestBenchFanoutVerdicts(t *testing.T) {
	o, _ := parseFanoutFlags([]string{"--modes", "async,fsync", "--peers", "none"})
	targets := []fanoutTarget{{name: "sluice async", mode: "async"}, {name: "sluice fsync", mode: "fsync"}}
	lat := func(ms ...float64) fanoutload.Latencies {
		var l fanoutload.Latencies
		for _, m := range ms {
			l.AckToReceipt = append(l.AckToReceipt, time.Duration(m*float64(time.Millisecond)))
		}
		return l
	}
	fast := make([]float64, 100)
	for i := range fast {
		fast[i] = 1 // p50 1 ms, p99 1 ms
	}
	passes := []fanoutPass{
		{target: "sluice async", efo: lat(fast...), poll: lat(100, 150, 200)},
		{target: "sluice fsync", efo: lat(5, 20), poll: lat(100)},
		{target: "sluice async", efo: lat(fast...), poll: lat(100, 150, 200)},
	}
	out := fanoutSectionText(o, machine.Info{CPUs: 2}, time.Minute, targets, nil, passes)
	if l := tableRow(t, out, "| sluice async | SubscribeToShard"); l[len(l)-1] != "PASS" || l[4] != "1.00 ms" {
		t.Fatalf("async row: %q", l)
	}
	// A peer: one GetRecords row, no verdict, its rate beside the offered
	// one; its probes in a table.
	o.peers = []string{"kinesalite"}
	peerTargets := append(targets, fanoutTarget{name: "kinesalite"})
	peerPasses := append(passes, fanoutPass{target: "kinesalite", peer: true, poll: lat(300, 400, 500), offered: 7300, achieved: 7100})
	probes := map[string][]fanoutPass{"kinesalite": {{target: "kinesalite", peer: true, offered: 10000, achieved: 8100}}}
	out = fanoutSectionText(o, machine.Info{CPUs: 2}, time.Minute, peerTargets, probes, peerPasses)
	if l := findRow(t, out, 14, "kinesalite", "GetRecords every 200ms, 2 per shard"); l[2] != "7100 of 7300" || l[4] != "400.00 ms" || l[len(l)-1] != "-" {
		t.Fatalf("kinesalite row: %q", l)
	}
	if l := findRow(t, out, 8, "kinesalite", "1"); l[2] != "10k" || l[3] != "8100" || l[7] != "7300" {
		t.Fatalf("kinesalite probe row: %q", l)
	}
	if l := findRow(t, out, 4, "kinesalite"); l[1] != "400x" || l[3] != "500x" {
		t.Fatalf("kinesalite / sluice async ratios: %q", l)
	}
	if strings.Contains(out, "| kinesalite   | SubscribeToShard") || !strings.Contains(out, "their GetRecords polling") {
		t.Fatalf("peer text:\n%s", out)
	}
	o.peers = nil
	if l := tableRow(t, out, "| sluice fsync | SubscribeToShard"); l[len(l)-1] != "-" {
		t.Fatalf("fsync row: %q", l)
	}
	// One pass of three with a p99 over 10 ms: the median over passes
	// passes; two of three: MISS.
	slow := append(fast[:0:0], fast...)
	slow[99] = 50
	slow[98] = 50
	passes = append(passes, fanoutPass{target: "sluice async", efo: lat(slow...), poll: lat(100)})
	out = fanoutSectionText(o, machine.Info{CPUs: 2}, time.Minute, targets, nil, passes)
	if l := tableRow(t, out, "| sluice async | SubscribeToShard"); l[len(l)-1] != "PASS" || l[9] != "1.00 ms [1.00 ms-50.00 ms]" {
		t.Fatalf("async row with one slow pass: %q", l)
	}
	passes[2].efo = lat(slow...)
	out = fanoutSectionText(o, machine.Info{CPUs: 2}, time.Minute, targets, nil, passes)
	if l := tableRow(t, out, "| sluice async | SubscribeToShard"); l[len(l)-1] != "MISS" {
		t.Fatalf("async row with two slow passes: %q", l)
	}
	passes[2].efo = lat(fast...)
	passes[0].efo.Missing = 1
	out = fanoutSectionText(o, machine.Info{CPUs: 2}, time.Minute, targets, nil, passes)
	if l := tableRow(t, out, "| sluice async | SubscribeToShard"); l[len(l)-1] != "MISS" {
		t.Fatalf("async row with a missing record: %q", l)
	}
}

func TestBenchParseProcStatBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 20 30 1000 50 5 5 10 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n"
	if got := parseProcStatBusy(stat); got != 1.7 {
		t.Fatalf("parseProcStatBusy = %v, want 1.7", got)
	}
	if got := parseProcStatBusy("garbage"); !math.IsNaN(got) {
		t.Fatalf("parseProcStatBusy(garbage) = %v", got)
	}
}

// TestBenchFanoutCheckDelivery checks that a fan-out pass whose readers
// lost, duplicated or invented records fails with a verification error.
func TestBenchFanoutCheckDelivery(t *testing.T) {
	ok := fanoutPass{efo: fanoutload.Latencies{AckToReceipt: []time.Duration{time.Millisecond}}}
	if err := checkDelivery(ok); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []fanoutPass{
		{efo: fanoutload.Latencies{Missing: 3}},
		{poll: fanoutload.Latencies{Duplicates: 1}},
		{efo: fanoutload.Latencies{Alien: 2}},
		{pollCheck: fanoutload.ReadCheck{Records: 5, WrongShard: 1}},
		{pollCheck: fanoutload.ReadCheck{Records: 5, OutOfOrder: 1}},
		{efoCheck: fanoutload.ReadCheck{Records: 5, WrongSeq: 1}},
		{efoCheck: fanoutload.ReadCheck{Records: 5, Unacked: 1}},
	} {
		err := checkDelivery(bad)
		if !errors.Is(err, apiload.ErrVerify) {
			t.Fatalf("%+v: %v", bad, err)
		}
		t.Log(err)
	}
}

// TestBenchFanoutPeers runs the fanout suite briefly against both peers
// (npm packages, installed once under $HOME/.cache/sluice), probes
// included, and checks their rows: GetRecords polling figures at the rate
// each sustained, the probes, and no record missing or misdelivered.
func TestBenchFanoutPeers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := runFanout(ctx, []string{"--quick", "--modes", "", "--peers", "kinesalite,kinesis-mock", "--probe", "1s",
		"--run-time", "1s", "--warmup", "500ms", "--rate", "400", "--out", out, "--dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, peer := range []string{"kinesalite", "kinesis-mock"} {
		cells := findRow(t, doc, 14, peer, "GetRecords every 200ms, 2 per shard")
		// | server | reader | acked | samples | p50 | p99 | p99.9 | max | p50/pass | p99/pass | max/pass | before ack | target | result |
		if cells[3] == "0" || !strings.HasSuffix(cells[4], "s") || !strings.Contains(cells[2], " of ") {
			t.Fatalf("%s row has no figures: %q", peer, cells)
		}
		probe := findRow(t, doc, 8, peer, "1")
		if probe[2] != "400" {
			t.Fatalf("%s probe: %q", peer, probe)
		}
		details := findRow(t, doc, 20, peer, "1")
		if got := details[13:16]; got[0] != "- / 0" || got[1] != "- / 0" || got[2] != "- / 0" || details[7] != "-" {
			t.Fatalf("%s details: %q", peer, details)
		}
	}
	if strings.Contains(doc, "| sluice") {
		t.Fatalf("--modes '' ran sluice:\n%s", doc)
	}
}

// TestBenchFanoutBrokenReadBack puts a proxy between the suite and
// kinesalite that breaks its GetRecords responses in one way each (drops,
// duplicates, reorders records, changes a sequence number): every such
// pass must fail verification, and the proxy left intact must pass.
func TestBenchFanoutBrokenReadBack(t *testing.T) {
	mod, err := installKinesalite()
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseFanoutFlags([]string{"--quick", "--modes", "", "--peers", "kinesalite", "--run-time", "1s", "--warmup", "300ms",
		"--drain", "500ms", "--pollers", "1"})
	if err != nil {
		t.Fatal(err)
	}
	type recs = []json.RawMessage
	for _, tc := range []struct {
		name   string
		mangle func(recs) recs
		check  func(p fanoutPass) bool
	}{
		{"intact", nil, nil},
		{"drop", func(r recs) recs { return r[1:] }, func(p fanoutPass) bool { return p.poll.Missing > 0 }},
		{"duplicate", func(r recs) recs { return append(r[:1:1], r...) }, func(p fanoutPass) bool { return p.poll.Duplicates > 0 }},
		{"reorder", func(r recs) recs { r[0], r[1] = r[1], r[0]; return r }, func(p fanoutPass) bool { return p.pollCheck.OutOfOrder > 0 }},
		{"sequence number", func(r recs) recs {
			// The last digit of the first record's sequence number, +1.
			r[0] = regexp.MustCompile(`"SequenceNumber":"\d+"`).ReplaceAllFunc(r[0], func(m []byte) []byte {
				m = bytes.Clone(m)
				m[len(m)-2] = '0' + (m[len(m)-2]-'0'+1)%10
				return m
			})
			return r
		}, func(p fanoutPass) bool { return p.pollCheck.WrongSeq > 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			target := fanoutTarget{name: "kinesalite", start: func() (*server, error) {
				srv, err := startKinesalite(mod, root)
				if err != nil {
					return nil, err
				}
				proxy := mangleGetRecords(t, srv.addr, tc.mangle)
				return &server{name: "proxied kinesalite", addr: proxy.Listener.Addr().String(),
					cleanup: func() { proxy.Close(); srv.stop() }}, nil
			}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p, err := runFanoutPass(ctx, o, target, 500)
			if tc.mangle == nil {
				if err != nil {
					t.Fatalf("intact proxy: %v", err)
				}
				return
			}
			if !errors.Is(err, apiload.ErrVerify) || !tc.check(p) {
				t.Fatalf("broken read-back not caught: err %v, poll %+v, check %+v", err, p.poll.Missing, p.pollCheck)
			}
			t.Log(err)
		})
	}
}

// mangleGetRecords returns a reverse proxy of backend that passes every
// GetRecords response with at least two records through mangle (nil:
// unchanged).
func mangleGetRecords(t *testing.T, backend string, mangle func([]json.RawMessage) []json.RawMessage) *httptest.Server {
	u, err := url.Parse("http://" + backend)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if mangle == nil || resp.Request.Header.Get("X-Amz-Target") != "Kinesis_20131202.GetRecords" || resp.StatusCode != http.StatusOK {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(b, &body); err != nil {
			return err
		}
		var recs []json.RawMessage
		if err := json.Unmarshal(body["Records"], &recs); err != nil {
			return err
		}
		if len(recs) >= 2 {
			if body["Records"], err = json.Marshal(mangle(recs)); err != nil {
				return err
			}
			if b, err = json.Marshal(body); err != nil {
				return err
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	return httptest.NewServer(rp)
}
