// Package stats holds the small statistics the load generators report:
// medians, percentiles, spreads and pairwise ratios.
//
// Functions are pure and safe for concurrent use. They never keep or
// modify the caller's slices (they sort copies).
package stats

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 <= p <= 100) of xs by the
// nearest-rank method on a sorted copy: the smallest value such that at
// least p% of the values are less than or equal to it. It returns NaN for
// an empty slice.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return percentileSorted(s, p)
}

func percentileSorted(s []float64, p float64) float64 {
	p = min(max(p, 0), 100)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

// DurationPercentiles returns the given percentiles of ds, sorting ds in
// place (latency samples are large; copying them twice is wasteful).
// Every result is zero when ds is empty.
func DurationPercentiles(ds []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	for i, p := range ps {
		p = min(max(p, 0), 100)
		rank := max(int(math.Ceil(p/100*float64(len(ds)))), 1)
		out[i] = ds[rank-1]
	}
	return out
}

// Median returns the median of xs: the middle value, or the mean of the
// two middle values for an even count. NaN for an empty slice.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Summary is the median and the spread of repeated measurements.
type Summary struct {
	Median float64
	Min    float64
	Max    float64
	N      int
}

// Summarize returns the median, minimum and maximum of xs. NaN values are
// left out (a run that produced no figure). An empty input gives N == 0
// and NaN fields.
func Summarize(xs []float64) Summary {
	clean := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			clean = append(clean, x)
		}
	}
	if len(clean) == 0 {
		return Summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	return Summary{Median: Median(clean), Min: slices.Min(clean), Max: slices.Max(clean), N: len(clean)}
}

// Ratios returns a[i]/b[i] pair by pair, over the shorter of the two. A
// pair with a zero or NaN denominator gives NaN, which Summarize skips.
// Pairing run i of one side with run i of the other (rather than dividing
// medians) cancels drift of a noisy machine between pairs.
func Ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		if b[i] == 0 || math.IsNaN(b[i]) {
			out[i] = math.NaN()
			continue
		}
		out[i] = a[i] / b[i]
	}
	return out
}
