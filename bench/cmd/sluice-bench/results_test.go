package main

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/bench/report"
)

// TestBenchResultsMarkers: bench/RESULTS.md keeps one begin and one end
// marker, in that order, for every section a suite rewrites, so that hand
// edits of the notes between them cannot make the next run fail to write
// its figures (it refuses a file with broken markers).
func TestBenchResultsMarkers(t *testing.T) {
	b, err := os.ReadFile("../../RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, name := range []string{headlineSection, sectionName, apiSection, tcpSection, fanoutSection, scaleSection, recoverySection} {
		begin, end := report.Markers(name)
		nb, ne := strings.Count(doc, begin), strings.Count(doc, end)
		if nb != 1 || ne != 1 || strings.Index(doc, end) < strings.Index(doc, begin) {
			t.Errorf("section %q: %d begin and %d end markers (want one each, begin first)", name, nb, ne)
		}
	}
}
