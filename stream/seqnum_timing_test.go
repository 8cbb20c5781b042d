package stream

import (
	"strconv"
	"testing"
)

// FormatSeqNum runs once per record on the PutRecords path; AppendSeqNum
// lets a response encoder skip even the string allocation.
func BenchmarkSeqNumFormat(b *testing.B) {
	s := SeqNum{ShardCreated: 1701746677, ShardIndex: 427, Position: 1 << 40, Arrival: 1701760152}
	sink := FormatSeqNum(s) // warm up
	b.SetBytes(SeqNumDigits)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Position++
		sink = FormatSeqNum(s)
	}
	_ = sink
}

func BenchmarkSeqNumAppend(b *testing.B) {
	s := SeqNum{ShardCreated: 1701746677, ShardIndex: 427, Position: 1 << 40, Arrival: 1701760152}
	buf := AppendSeqNum(make([]byte, 0, SeqNumDigits), s) // warm up
	b.SetBytes(SeqNumDigits)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Position++
		buf = AppendSeqNum(buf[:0], s)
	}
}

func BenchmarkSeqNumParse(b *testing.B) {
	str := FormatSeqNum(SeqNum{ShardCreated: 1701746677, ShardIndex: 427, Position: 1 << 40, Arrival: 1701760152})
	if _, err := ParseSeqNum(str); err != nil { // warm up
		b.Fatal(err)
	}
	b.SetBytes(SeqNumDigits)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseSeqNum(str); err != nil {
			b.Fatal(err)
		}
	}
}

// The routing half of PutRecords: partition key to shard.
func BenchmarkHashKeyRoute(b *testing.B) {
	for _, shards := range []int{1, 4, 64, 1024} {
		b.Run("shards="+strconv.Itoa(shards), func(b *testing.B) {
			ranges := EvenSplit(shards)
			const partitionKey = "user-1234567890"
			_ = SearchRanges(ranges, HashKeyFromPartitionKey(partitionKey)) // warm up
			b.SetBytes(int64(len(partitionKey)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if SearchRanges(ranges, HashKeyFromPartitionKey(partitionKey)) < 0 {
					b.Fatal("no shard")
				}
			}
		})
	}
}

func BenchmarkHashKeyParse(b *testing.B) {
	const s = "159499196025307651934328298402289840726"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseHashKey(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIterator(b *testing.B) {
	c := newTestCodec(b, 1)
	it := testIterator()
	s := c.Encode(it) // warm up
	b.Run("op=encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s = c.Encode(it)
		}
	})
	b.Run("op=decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(s, it.Created); err != nil {
				b.Fatal(err)
			}
		}
	})
}
