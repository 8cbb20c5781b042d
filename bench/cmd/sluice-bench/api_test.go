package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
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
)

// TestMain lets the test binary stand in for sluice-bench when the api
// suite starts its discard server as a child process (os.Executable).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "discard-server" {
		if err := runDiscardServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchAPIQuickDiscard runs the api suite's harness end to end against
// the discard server only (a child process), for a fraction of a second per
// scenario, and checks the section it writes.
func TestBenchAPIQuickDiscard(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(out, []byte("# r\n\n<!-- segment:begin -->\nkept\n<!-- segment:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Every put scenario of the grid, each answer's shape checked.
	err := runAPI(ctx, []string{"--quick", "--targets", "discard", "--run-time", "300ms", "--out", out, "--dir", t.TempDir(),
		"--only", `^Put`})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "]("+apiChartName+")") {
		t.Fatalf("the section does not show the chart:\n%s", doc)
	}
	if svg, err := os.ReadFile(filepath.Join(filepath.Dir(out), apiChartName)); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("chart beside the results: %v", err)
	}
	if !strings.Contains(doc, "<!-- segment:begin -->\nkept\n<!-- segment:end -->") {
		t.Fatalf("the segment section was not kept:\n%s", doc)
	}
	for _, name := range putGridNames {
		row := "| " + name + ": records/s"
		if strings.HasPrefix(name, "PutRecord ") {
			row = "| " + name + ": requests/s"
		}
		i := strings.Index(doc, row)
		if i < 0 {
			t.Fatalf("no row %q in:\n%s", row, doc)
		}
		line := doc[i : i+strings.IndexByte(doc[i:], '\n')]
		cells := strings.Split(line, "|")
		// | scenario | discard | target | result |
		if len(cells) < 3 || strings.TrimSpace(cells[2]) == "-" || strings.TrimSpace(cells[2]) == "" {
			t.Fatalf("row %q has no discard figure: %s", row, line)
		}
	}
	if strings.Contains(doc, "| GetRecords") {
		t.Fatal("--only did not filter the GetRecords scenario out")
	}
}

// putGridNames is the put-throughput grid of the benchmark issue: PutRecord
// and PutRecords at 100 B / 1 KiB / 64 KiB, JSON and CBOR, over HTTP/1.1 and
// h2c.
var putGridNames = []string{
	"PutRecords 500x100B", "PutRecords 500x100B CBOR", "PutRecords 500x100B h2c", "PutRecords 500x100B CBOR h2c",
	"PutRecords 500x1KiB", "PutRecords 500x1KiB CBOR", "PutRecords 500x1KiB h2c", "PutRecords 500x1KiB CBOR h2c",
	"PutRecords 64x64KiB", "PutRecords 64x64KiB CBOR", "PutRecords 64x64KiB h2c", "PutRecords 64x64KiB CBOR h2c",
	"PutRecord 100B", "PutRecord 100B CBOR", "PutRecord 100B h2c", "PutRecord 100B CBOR h2c",
}

func TestBenchAPIPutGrid(t *testing.T) {
	var got []string
	for _, s := range apiScenarios {
		if s.op != apiload.OpGetRecords {
			got = append(got, s.name())
		}
	}
	if !slices.Equal(got, putGridNames) {
		t.Fatalf("put scenarios\n%q\nwant\n%q", got, putGridNames)
	}
	// The targets are for JSON over HTTP/1.1 only.
	var judged []string
	for _, s := range apiScenarios {
		if text, _ := apiTarget(s); text != "" {
			judged = append(judged, s.name())
		}
	}
	if want := []string{"PutRecords 500x100B", "PutRecord 100B"}; !slices.Equal(judged, want) {
		t.Fatalf("scenarios with a target: %q, want %q", judged, want)
	}
}

func TestBenchAPIFlags(t *testing.T) {
	o, err := parseAPIFlags([]string{"--quick"})
	if err != nil || o.runs != 1 || o.runTime != 500*time.Millisecond || len(o.targets) != 5 || o.conns != 8 {
		t.Fatalf("--quick: %+v, %v", o, err)
	}
	o, err = parseAPIFlags([]string{"--targets", "sluice-async,discard", "--runs", "3"})
	if err != nil || o.runs != 3 || len(o.targets) != 2 || o.targets[0] != tgtAsync || o.targets[1] != tgtDiscard {
		t.Fatalf("--targets: %+v, %v", o, err)
	}
	if _, err := parseAPIFlags([]string{"--targets", "moto"}); err == nil {
		t.Fatal("unknown target accepted")
	}
	if _, err := parseAPIFlags([]string{"--conns", "0"}); err == nil {
		t.Fatal("--conns 0 accepted")
	}
}

// scenarioNamed returns the api scenario called name.
func scenarioNamed(t *testing.T, name string) apiScenario {
	t.Helper()
	for _, s := range apiScenarios {
		if s.name() == name {
			return s
		}
	}
	t.Fatalf("no api scenario %q", name)
	return apiScenario{}
}

func TestBenchAPISectionVerdicts(t *testing.T) {
	o := apiOptions{runs: 2, runTime: time.Second, conns: 8, h2cConns: 2, streams: 4, shards: 4, prefill: 10, targets: allTargets}
	put100 := "PutRecords 500x100B"
	put1 := "PutRecord 100B"
	scs := []apiScenario{scenarioNamed(t, put100), scenarioNamed(t, "PutRecords 500x1KiB"), scenarioNamed(t, put1)}
	res := apiResults{}
	// Ratios to kinesalite 60 and 40: median 50 passes ">= 50x" with 1.2M records/s.
	res.add(put100, tgtAsync, apiRun{recs: 1.2e6})
	res.add(put100, tgtAsync, apiRun{recs: 1.2e6})
	res.add(put100, tgtKinesalite, apiRun{recs: 20000})
	res.add(put100, tgtKinesalite, apiRun{recs: 30000})
	res.add(put100, tgtDiscard, apiRun{recs: 12e6})
	res.add(put100, tgtDiscard, apiRun{recs: 12e6})
	res.add(put1, tgtAsync, apiRun{reqs: 40000, recs: 40000})
	out := apiSectionText(o, machine.Info{CPUs: 2}, time.Minute, "", scs, res)
	row := func(prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "| "+prefix) {
				return l
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, out)
		return ""
	}
	if l := row(put100 + ": records/s"); !strings.Contains(l, "50x [40x-60x]") || !strings.Contains(l, "0.10x") || !strings.Contains(l, "PASS") {
		t.Fatalf("PutRecords row: %s", l)
	}
	if l := row(put1 + ": requests/s"); !strings.Contains(l, "40k") || !strings.Contains(l, "MISS") {
		t.Fatalf("PutRecord row: %s", l)
	}
	if strings.Contains(out, "PutRecords 500x1KiB: records/s") {
		t.Fatal("a scenario without runs got a row")
	}
}

// TestBenchAPIFasterPeer checks the ratio to the faster peer: taken round
// by round against the higher of kinesalite and kinesis-mock.
func TestBenchAPIFasterPeer(t *testing.T) {
	o := apiOptions{runs: 2, runTime: time.Second, conns: 8, h2cConns: 2, streams: 4, shards: 4, prefill: 10, targets: allTargets}
	put100 := apiScenarios[0].name()
	res := apiResults{}
	// Round 1: kinesis-mock is faster (40k: ratio 30); round 2: kinesalite
	// (20k: ratio 60). Median 45: a MISS, although async is 60x kinesalite
	// in round 2 and 120x kinesis-mock in round 2.
	res.add(put100, tgtAsync, apiRun{recs: 1.2e6})
	res.add(put100, tgtAsync, apiRun{recs: 1.2e6})
	res.add(put100, tgtKinesalite, apiRun{recs: 10000})
	res.add(put100, tgtKinesalite, apiRun{recs: 20000})
	res.add(put100, tgtKinesisMock, apiRun{recs: 40000})
	res.add(put100, tgtKinesisMock, apiRun{recs: 10000})
	out := apiSectionText(o, machine.Info{CPUs: 2}, time.Minute, "", apiScenarios[:1], res)
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| "+put100+": records/s") {
			line = l
		}
	}
	if !strings.Contains(out, "async / faster peer") || !strings.Contains(out, "async / kinesis-mock") {
		t.Fatalf("no faster-peer or kinesis-mock ratio column:\n%s", out)
	}
	if !strings.Contains(line, "45x [30x-60x]") || !strings.Contains(line, "MISS") {
		t.Fatalf("PutRecords row: %s", line)
	}
}

func TestBenchParseStatCPU(t *testing.T) {
	// Fields 14 and 15 (utime, stime) are 250 and 50 ticks; the command
	// name holds a space and a parenthesis.
	line := "1234 (node) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 100 1000 200"
	if got := parseStatCPU(line); got != 3.0 {
		t.Fatalf("parseStatCPU = %v, want 3", got)
	}
	if got := parseStatCPU("garbage"); !math.IsNaN(got) {
		t.Fatalf("parseStatCPU(garbage) = %v, want NaN", got)
	}
	if got := procCPUSeconds(os.Getpid()); math.IsNaN(got) || got < 0 {
		t.Fatalf("own CPU time: %v", got)
	}
}

// startPeerStream installs and starts a peer as the api suite does, stopped
// at the end of the test, with a stream of one shard called benchName.
func startPeerStream(t *testing.T, install func() (string, error), start func(mod, root string) (*server, error)) *server {
	t.Helper()
	mod, err := install()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := start(mod, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	if err := apiload.CreateStream(srv.addr, benchName, 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestBenchKinesaliteCBORData checks why kinesalite runs no CBOR scenario
// (kinesaliteNoCBOR): a record put in CBOR comes back from a JSON
// GetRecords as a serialized Node Buffer object, not as base64. Should a
// later kinesalite fix that, this fails, and the CBOR scenarios can take
// kinesalite in again.
func TestBenchKinesaliteCBORData(t *testing.T) {
	srv := startPeerStream(t, installKinesalite, startKinesalite)
	post := func(op, contentType string, body []byte) []byte {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Amz-Date", "20261206T000000Z")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/kinesis/aws4_request, "+
			"SignedHeaders=host;x-amz-date, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %q %v", op, resp.StatusCode, b, err)
		}
		return b
	}
	const size = 1000
	post(apiload.OpPutRecord, "application/x-amz-cbor-1.1", apiload.PutRecordBodyCBOR(benchName, 0, size))
	var it struct{ ShardIterator string }
	if err := json.Unmarshal(post("GetShardIterator", "application/x-amz-json-1.1",
		[]byte(`{"StreamName":"`+benchName+`","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)), &it); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Records []struct{ Data json.RawMessage }
	}
	if err := json.Unmarshal(post(apiload.OpGetRecords, "application/x-amz-json-1.1",
		[]byte(`{"ShardIterator":"`+it.ShardIterator+`"}`)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 1 {
		t.Fatalf("%d records read back, want 1", len(got.Records))
	}
	var buf struct {
		Type string
		Data []int
	}
	if err := json.Unmarshal(got.Records[0].Data, &buf); err != nil || buf.Type != "Buffer" || len(buf.Data) != size {
		t.Fatalf("kinesalite returned the CBOR-put record's Data as %.80s (%v): no longer a Node Buffer object; "+
			"revisit kinesaliteNoCBOR", got.Records[0].Data, err)
	}
}

// TestBenchKinesisMockLoopback starts kinesis-mock (npm kinesis-local,
// installed into the cache once) as the api suite does, checks that a
// PutRecords round trip works and that its ports listen on 127.0.0.1 only.
func TestBenchKinesisMockLoopback(t *testing.T) {
	srv := startPeerStream(t, installKinesisMock, func(mod, root string) (*server, error) { return startKinesisMock(mod, root) })
	b, err := apiload.Call(srv.addr, apiload.OpPutRecords, apiload.PutRecordsBody(benchName, 0, 3, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := apiload.PutFailedZero(b); err != nil {
		t.Fatal(err)
	}
	tcp, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	// Listening sockets (state 0A) of the server's ports: the local
	// address must be 0100007F (127.0.0.1).
	_, port, _ := net.SplitHostPort(srv.addr)
	p, _ := strconv.Atoi(port)
	hexPort := fmt.Sprintf(":%04X", p)
	found := false
	for _, l := range strings.Split(string(tcp), "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && f[3] == "0A" && strings.HasSuffix(f[1], hexPort) {
			found = true
			if f[1] != "0100007F"+hexPort {
				t.Fatalf("kinesis-mock listens on %s, not 127.0.0.1", f[1])
			}
		}
	}
	if !found {
		t.Fatalf("no listening socket on port %d in /proc/net/tcp", p)
	}
}

// TestBenchAPIBrokenServer runs the api suite's scenarios against an
// in-memory server that breaks its promises in one way each (loses
// acknowledged records, returns wrong, corrupt or duplicate records,
// acknowledges fewer records than were sent) and checks that the suite
// fails with a verification error; against the honest server it passes.
func TestBenchAPIBrokenServer(t *testing.T) {
	// sluice async: a target that runs every scenario (kinesalite would
	// skip h2c and CBOR), verified as sluice is.
	o, err := parseAPIFlags([]string{"--quick", "--run-time", "200ms", "--targets", "sluice-async", "--prefill", "30000"})
	if err != nil {
		t.Fatal(err)
	}
	put, one, get := scenarioNamed(t, "PutRecords 500x100B"), scenarioNamed(t, "PutRecord 100B"), scenarioNamed(t, "GetRecords 1KiB, limit 10000")
	cbor, h2c := scenarioNamed(t, "PutRecords 500x100B CBOR"), scenarioNamed(t, "PutRecords 500x100B h2c")
	cases := []struct {
		fault apiload.Fault
		fails []apiScenario // the scenarios that must fail; the others pass
	}{
		{apiload.FaultNone, nil},
		{apiload.FaultLose, []apiScenario{put, get, cbor, h2c}},
		{apiload.FaultCorrupt, []apiScenario{put, one, get, cbor, h2c}},
		{apiload.FaultWrongRecord, []apiScenario{put, one, get, cbor, h2c}},
		{apiload.FaultShortAck, []apiScenario{put, get, cbor, h2c}},
		{apiload.FaultLoseUnderLoad, []apiScenario{put, get, cbor, h2c}},
		{apiload.FaultDuplicate, []apiScenario{put, one, get, cbor, h2c}},
		{apiload.FaultCBORAsJSON, []apiScenario{cbor}},
		{apiload.FaultCBORFailed, []apiScenario{cbor}},
		{apiload.FaultCBOREmpty, []apiScenario{cbor}},
	}
	for _, c := range cases {
		for _, s := range []apiScenario{put, one, get, cbor, h2c} {
			t.Run(c.fault.String()+"/"+s.name(), func(t *testing.T) {
				start := func(string) (*server, error) {
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						return nil, err
					}
					go apiload.ServeFake(ln, &apiload.FakeServer{Fault: c.fault})
					return &server{name: "fake", addr: ln.Addr().String(), cleanup: func() { ln.Close() }}, nil
				}
				err := runAPIScenario(context.Background(), o, s, start, apiResults{})
				mustFail := false
				for _, f := range c.fails {
					mustFail = mustFail || f == s
				}
				switch {
				case mustFail && err == nil:
					t.Fatalf("the suite passed against a server with fault %v", c.fault)
				case mustFail && !errors.Is(err, apiload.ErrVerify):
					t.Fatalf("failed, but not by verification: %v", err)
				case !mustFail && err != nil:
					t.Fatalf("fault %v should not affect %s: %v", c.fault, s.name(), err)
				}
				if err != nil {
					t.Logf("fails as it must: %v", err)
				}
			})
		}
	}
}

// TestBenchAPIPeerServerError: a peer whose server fails (connections
// dropped, streams reset) is left out of the scenario with the error in
// the report, and the other targets' figures stand; the same failure of
// sluice fails the suite.
func TestBenchAPIPeerServerError(t *testing.T) {
	for _, h2c := range []bool{false, true} {
		name := "PutRecords 500x100B"
		if h2c {
			name += " h2c"
		}
		s := scenarioNamed(t, name)
		for _, broken := range []string{tgtKinesisMock, tgtAsync} {
			t.Run(name+"/"+broken, func(t *testing.T) {
				o, err := parseAPIFlags([]string{"--quick", "--run-time", "200ms", "--runs", "2", "--targets", "sluice-async,kinesis-mock"})
				if err != nil {
					t.Fatal(err)
				}
				clear(peerFailures)
				start := func(target string) (*server, error) {
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						return nil, err
					}
					f := &apiload.FakeServer{}
					if target == broken {
						f.Fault = apiload.FaultResetPuts
					}
					go apiload.ServeFake(ln, f)
					return &server{name: target, addr: ln.Addr().String(), cleanup: func() { ln.Close() }}, nil
				}
				res := apiResults{}
				err = runAPIScenario(context.Background(), o, s, start, res)
				if broken == tgtAsync {
					if err == nil {
						t.Fatal("the suite passed with a sluice whose puts all fail")
					}
					return
				}
				if err != nil {
					t.Fatalf("a failing peer failed the suite: %v", err)
				}
				if len(res[name][tgtKinesisMock]) != 0 || len(res[name][tgtAsync]) != 2 {
					t.Fatalf("runs kept: kinesis-mock %d (want 0), sluice %d (want 2)", len(res[name][tgtKinesisMock]), len(res[name][tgtAsync]))
				}
				why := peerFailures[name+" / "+tgtKinesisMock]
				if !strings.HasPrefix(why, "run 1: ") {
					t.Fatalf("failure note %q", why)
				}
				out := apiSectionText(o, machine.Info{CPUs: 2}, time.Minute, "", []apiScenario{s}, res)
				if !strings.Contains(out, name+" / "+tgtKinesisMock+": run 1: ") {
					t.Fatalf("the report does not say why kinesis-mock is left out:\n%s", out)
				}
			})
		}
	}
}

// TestBenchAPIUnsupportedPeers checks that a peer that cannot run a
// scenario is not started for it, gets "-" in the table, and that the
// Method says why; the other peer runs and is the faster peer.
func TestBenchAPIUnsupportedPeers(t *testing.T) {
	o, err := parseAPIFlags([]string{"--quick", "--run-time", "200ms", "--targets", "sluice-async,kinesalite,kinesis-mock"})
	if err != nil {
		t.Fatal(err)
	}
	cbor, h2c, big := scenarioNamed(t, "PutRecords 500x100B CBOR"), scenarioNamed(t, "PutRecords 500x100B h2c"), scenarioNamed(t, "PutRecords 64x64KiB")
	if big.unsupported(tgtKinesisMock) == "" || big.unsupported(tgtKinesalite) != "" || big.unsupported(tgtAsync) != "" {
		t.Fatal("64 KiB: only kinesis-mock should be left out")
	}
	res := apiResults{}
	for _, s := range []apiScenario{cbor, h2c} {
		var started []string
		start := func(name string) (*server, error) {
			started = append(started, name)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			go apiload.ServeFake(ln, &apiload.FakeServer{})
			return &server{name: name, addr: ln.Addr().String(), cleanup: func() { ln.Close() }}, nil
		}
		if err := runAPIScenario(context.Background(), o, s, start, res); err != nil {
			t.Fatalf("%s: %v", s.name(), err)
		}
		if strings.Join(started, ",") != tgtAsync+","+tgtKinesisMock {
			t.Fatalf("%s started %q, want sluice async and kinesis-mock", s.name(), started)
		}
		if len(res[s.name()][tgtKinesisMock]) != 1 || len(res[s.name()][tgtKinesalite]) != 0 {
			t.Fatalf("%s: runs %v", s.name(), res[s.name()])
		}
	}
	out := apiSectionText(o, machine.Info{CPUs: 2}, time.Minute, "", []apiScenario{cbor, h2c, big}, res)
	for _, s := range []apiScenario{cbor, h2c} {
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "| "+s.name()+": records/s") {
				line = l
			}
		}
		// | scenario | async | kinesalite | kinesis-mock | async / kinesalite | async / kinesis-mock | async / faster peer | ...
		cells := strings.Split(line, "|")
		if len(cells) < 9 || strings.TrimSpace(cells[3]) != "-" || strings.TrimSpace(cells[4]) == "-" ||
			strings.TrimSpace(cells[5]) != "-" || strings.TrimSpace(cells[7]) == "-" || strings.TrimSpace(cells[6]) != strings.TrimSpace(cells[7]) {
			t.Fatalf("%s row: %s", s.name(), line)
		}
	}
	for _, why := range []string{kinesaliteNoH2C, kinesaliteNoCBOR, kinesisMockNoLarge} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), why) {
			t.Fatalf("the Method does not say %q:\n%s", why, out)
		}
	}
	// Without those scenarios, their notes are left out.
	out = apiSectionText(o, machine.Info{CPUs: 2}, time.Minute, "", apiScenarios[:1], res)
	if strings.Contains(out, "h2c scenarios:") || strings.Contains(out, "CBOR scenarios:") || strings.Contains(out, "64 KiB records:") {
		t.Fatalf("notes of scenarios that did not run:\n%s", out)
	}
}

func TestBenchAllFlags(t *testing.T) {
	if err := runAll(context.Background(), []string{"--bogus"}); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
	if err := runAll(context.Background(), []string{"--quick", "extra"}); err == nil {
		t.Fatal("an extra argument was accepted")
	}
	if _, err := regexp.Compile(quickAPIScenarios); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range apiScenarios {
		if regexp.MustCompile(quickAPIScenarios).MatchString(s.name()) {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("all --quick runs %d api scenarios, want 4 (one per request kind, and CBOR)", n)
	}
}
