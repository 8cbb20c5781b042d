//go:build !race

package sigv4

import (
	"strings"
	"testing"
)

// TestWireSigV4VerifyAllocs: a successful Verify with a warm key cache
// allocates nothing (it runs on every request with --auth on).
func TestWireSigV4VerifyAllocs(t *testing.T) {
	tr := basePutRecord(t)
	lower := make(map[string][]string, len(tr.header))
	for k, vs := range tr.header {
		lower[strings.ToLower(k)] = vs
	}
	r := tr.request()
	r.Header = func(name string) []string { return lower[name] }
	v := newTestVerifier(t, Config{})
	if _, err := v.Verify(r, signTime); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(r, signTime); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Verify allocates %.1f objects per call, want 0", allocs)
	}
}
