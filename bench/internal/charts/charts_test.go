package charts

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBenchChartsSVG(t *testing.T) {
	dir := t.TempDir()
	bars := filepath.Join(dir, "bars.svg")
	err := Bars(bars, "PutRecords", "records/s", []string{"PutRecords 500x100B", "PutRecord 100B"},
		[]string{"sluice", "kinesalite", "kinesis-mock"},
		[][]float64{{1.9e6, 52000}, {15000, 1700}, {930, math.NaN()}},
		func(v float64) string { return strings.TrimSuffix(time.Duration(v).String(), "ns") })
	if err != nil {
		t.Fatal(err)
	}
	curves := filepath.Join(dir, "curves.svg")
	lat := func(scale time.Duration) []time.Duration {
		var l []time.Duration
		for i := range 2000 {
			l = append(l, scale*time.Duration(1+i%100))
		}
		return l
	}
	if err := Percentiles(curves, "fan-out", []Curve{{"SubscribeToShard", lat(time.Microsecond * 30)}, {"GetRecords", lat(time.Millisecond)}, {"few", lat(1)[:3]}}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{bars: {"kinesis-mock", "PutRecord 100B", "<svg"}, curves: {"SubscribeToShard (2000 samples)", "p99.9", "<svg"}} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Fatalf("%s lacks %q", path, w)
			}
		}
		if strings.Contains(string(b), "few (") {
			t.Fatalf("%s draws a curve of 3 samples", path)
		}
	}
	if err := Bars(bars, "x", "y", []string{"a"}, []string{"s"}, [][]float64{{0}}, nil); err == nil {
		t.Fatal("a chart without values was drawn")
	}
}

// TestBenchChartsLegendHeadroom checks that a chart of six curves leaves
// room for its legend above them without tick labels up there.
func TestBenchChartsLegendHeadroom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "six.svg")
	var curves []Curve
	for i := range 6 {
		var l []time.Duration
		for k := range 100 {
			l = append(l, time.Duration(k+1)*time.Millisecond) // up to 100 ms
		}
		curves = append(curves, Curve{Name: "curve " + string(rune('a'+i)), Latencies: l})
	}
	if err := Percentiles(path, "six", curves); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(b)
	if !strings.Contains(svg, ">100<") || strings.Contains(svg, ">1000<") || strings.Contains(svg, ">10000<") {
		t.Fatalf("tick labels: want 100 as the highest")
	}
	if !strings.Contains(svg, "curve f (100 samples)") {
		t.Fatal("legend lacks the sixth curve")
	}
}
