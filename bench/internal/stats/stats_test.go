package stats

import (
	"math"
	"testing"
	"time"
)

func TestBenchStatsMedian(t *testing.T) {
	f := func(in []float64, want float64) {
		t.Helper()
		orig := append([]float64(nil), in...)
		got := Median(in)
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("Median(%v) = %v, want %v", in, got, want)
		}
		for i := range in {
			if in[i] != orig[i] {
				t.Fatalf("Median modified its input: %v", in)
			}
		}
	}
	f(nil, math.NaN())
	f([]float64{3}, 3)
	f([]float64{5, 1, 3}, 3)
	f([]float64{4, 1, 3, 2}, 2.5)
}

func TestBenchStatsPercentile(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[99-i] = float64(i + 1) // 100 .. 1, unsorted on purpose
	}
	f := func(p, want float64) {
		t.Helper()
		if got := Percentile(xs, p); got != want {
			t.Fatalf("Percentile(1..100, %v) = %v, want %v", p, got, want)
		}
	}
	f(0, 1)
	f(50, 50)
	f(99, 99)
	f(99.5, 100)
	f(100, 100)
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Fatal("Percentile of nothing is not NaN")
	}
	if xs[0] != 100 {
		t.Fatal("Percentile sorted its input")
	}
}

func TestBenchStatsDurationPercentiles(t *testing.T) {
	ds := []time.Duration{9, 1, 8, 2, 7, 3, 6, 4, 5, 10}
	got := DurationPercentiles(ds, 50, 90, 100)
	want := []time.Duration{5, 9, 10}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("DurationPercentiles = %v, want %v", got, want)
		}
	}
	if z := DurationPercentiles(nil, 50); z[0] != 0 {
		t.Fatalf("empty: %v", z)
	}
}

func TestBenchStatsSummarizeRatios(t *testing.T) {
	s := Summarize([]float64{2, math.NaN(), 6, 4})
	if s.Median != 4 || s.Min != 2 || s.Max != 6 || s.N != 3 {
		t.Fatalf("Summarize = %+v", s)
	}
	if e := Summarize(nil); e.N != 0 || !math.IsNaN(e.Median) {
		t.Fatalf("Summarize(nil) = %+v", e)
	}
	r := Ratios([]float64{1, 4, 9}, []float64{2, 0, 3, 7})
	if len(r) != 3 || r[0] != 0.5 || !math.IsNaN(r[1]) || r[2] != 3 {
		t.Fatalf("Ratios = %v", r)
	}
}
