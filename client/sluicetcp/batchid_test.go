package sluicetcp

import "testing"

// TestTCPClientFirstBatchID: a producer that persists its batch ids
// (tools/sluice-agent) starts numbering where it says.
func TestTCPClientFirstBatchID(t *testing.T) {
	f := func(first, want uint64) {
		t.Helper()
		c, err := New(Config{Addr: "127.0.0.1:1", FirstBatchID: first})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := c.NextBatchID(); got != want {
			t.Fatalf("FirstBatchID %d: NextBatchID %d, want %d", first, got, want)
		}
	}
	f(0, 1)
	f(1, 1)
	f(1<<40, 1<<40)
}
