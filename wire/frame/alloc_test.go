//go:build !race

package frame

import "testing"

// The per-record paths allocate at most their result (STYLE.md 3.10).
func TestWireFrameAllocs(t *testing.T) {
	buf := make([]byte, 0, 128)
	body := AppendAck(nil, sampleAck())
	var a Ack
	_ = DecodeAck(body, &a, 10)
	var str string // results must escape, or the compiler keeps them on the stack
	f := func(name string, want float64, fn func()) {
		t.Helper()
		if got := testing.AllocsPerRun(100, fn); got != want {
			t.Errorf("%s: %v allocations, want %v", name, got, want)
		}
	}
	f("AppendSeqNumOffset", 0, func() { buf = AppendSeqNumOffset(buf[:0], ackVectorSeq, 12345) })
	f("SeqNumOffset", 1, func() { str = SeqNumOffset(ackVectorSeq, 12345) })
	f("AppendAckIndexes", 0, func() { buf = AppendAckIndexes(buf[:0], a.Groups[0].Indexes, 0) })
	// A reused Ack: the strings of the groups only (shard id, first
	// sequence number, message).
	f("DecodeAck", 3, func() { _ = DecodeAck(body, &a, 10) })
	_ = str
}
