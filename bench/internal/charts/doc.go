// Package charts draws the benchmark suites' SVG charts with gonum's plot
// package: throughput bars per scenario and target on a log scale, and
// latency percentile curves.
package charts
