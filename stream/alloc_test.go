//go:build !race

package stream

import (
	"strings"
	"testing"
)

// The hot-path helpers allocate at most their result (STYLE.md 3.10).
func TestStreamAllocs(t *testing.T) {
	s := SeqNum{ShardCreated: 1701746677, ShardIndex: 427, Position: 1 << 40, Arrival: 1701760152}
	seq := FormatSeqNum(s)
	buf := make([]byte, 0, 64)
	longKey := strings.Repeat("k", 256)
	ranges := EvenSplit(64)
	var str string // results must escape, or the compiler keeps them on the stack
	f := func(name string, want float64, fn func()) {
		t.Helper()
		if got := testing.AllocsPerRun(100, fn); got != want {
			t.Errorf("%s: %v allocations, want %v", name, got, want)
		}
	}
	f("FormatSeqNum", 1, func() { str = FormatSeqNum(s) })
	f("AppendSeqNum", 0, func() { buf = AppendSeqNum(buf[:0], s) })
	f("ParseSeqNum", 0, func() { _, _ = ParseSeqNum(seq) })
	f("HashKeyFromPartitionKey", 0, func() { _ = HashKeyFromPartitionKey(longKey) })
	f("SearchRanges", 0, func() { _ = SearchRanges(ranges, HashKeyFromPartitionKey("a")) })
	f("ParseHashKey", 0, func() { _, _ = ParseHashKey("340282366920938463463374607431768211455") })
	f("AppendHashKey", 0, func() { buf = AppendHashKey(buf[:0], MaxHashKey()) })
	f("AppendShardID", 0, func() { buf = AppendShardID(buf[:0], 427) })
	f("ShardID", 1, func() { str = ShardID(427) })
	_ = str
}
