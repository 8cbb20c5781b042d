package main

import (
	"strings"
	"testing"
)

// TestBenchHeadline checks the headline rows the suites set: the
// PutRecords ratio is taken against the faster peer run by run and judged
// against 50x, the TCP row against 1.5M records/s, and the table lists the
// rows in their order whatever order they were set in.
func TestBenchHeadline(t *testing.T) {
	resetHeadlines()
	t.Cleanup(resetHeadlines)
	runs := func(v ...float64) []apiRun {
		out := make([]apiRun, len(v))
		for i, x := range v {
			out[i] = apiRun{recs: x, p99: x / 1e9}
		}
		return out
	}
	tcpHeadlines(map[string]map[string][]tcpRun{tcpScenarios[0].name(): {tcpBinary: {{recs: 1.6e6}, {recs: 1.4e6}, {recs: 1.7e6}}}}, []float64{2000, 2400, 2200})
	apiHeadlines(apiResults{"PutRecords 500x100B": {
		tgtAsync:       runs(2e6, 1.8e6),
		tgtFsync:       runs(7e6, 9e6),
		tgtKinesalite:  runs(20e3, 40e3),
		tgtKinesisMock: runs(30e3, 10e3),
	}})
	text := headlineText("## Headline", "2 CPUs.", []string{"![chart](api-throughput.svg)"})
	lines := strings.Split(text, "\n")
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| claim") && !strings.HasPrefix(l, "| ---") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("want 3 rows, got %d:\n%s", len(rows), text)
	}
	// Faster peer: run 1 30k (kinesis-mock), run 2 40k (kinesalite):
	// ratios 66.7x and 45x, median 56x: PASS.
	if !strings.Contains(rows[0], "PutRecords, 500 x 100 B records") || !strings.Contains(rows[0], "56x [45x-67x] of the faster peer") ||
		!strings.Contains(rows[0], "| PASS") || !strings.Contains(rows[0], "kinesalite 30k [20k-40k]; kinesis-mock 20k [10k-30k]") {
		t.Fatalf("PutRecords row: %s", rows[0])
	}
	if !strings.Contains(rows[1], "fsync: p99") || !strings.Contains(rows[1], "8.00 ms [7.00 ms-9.00 ms]") {
		t.Fatalf("fsync row: %s", rows[1])
	}
	if !strings.Contains(rows[2], "binary TCP protocol") || !strings.Contains(rows[2], "1.60M [1.40M-1.70M]") || !strings.Contains(rows[2], "| PASS") {
		t.Fatalf("TCP row: %s", rows[2])
	}
	if !strings.Contains(text, "![chart](api-throughput.svg)") {
		t.Fatalf("no chart:\n%s", text)
	}
	// Peers 40x slower at best: MISS.
	apiHeadlines(apiResults{"PutRecords 500x100B": {tgtAsync: runs(2e6), tgtKinesalite: runs(50e3)}})
	if text := headlineText("## Headline", "", nil); !strings.Contains(text, "40x of the faster peer") || !strings.Contains(text, "| MISS") {
		t.Fatalf("slow sluice row:\n%s", text)
	}
}
