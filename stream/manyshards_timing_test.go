package stream

import (
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/sluicehq/sluice/segment"
)

// BenchmarkStreamPutRecordsShards measures PutRecords of 500 records of
// 100 B spread over the hash key space of a stream of 1 to 1000 shards
// (async, cmd/sluice's segment sizes), from one caller or 8 concurrent
// ones: the per-shard cost of a call that touches many shards.
func BenchmarkStreamPutRecordsShards(b *testing.B) {
	for _, c := range []struct{ shards, callers int }{{1, 1}, {100, 1}, {1000, 1}, {1, 8}, {1000, 8}} {
		shards := c.shards
		b.Run("shards="+strconv.Itoa(shards)+"/callers="+strconv.Itoa(c.callers), func(b *testing.B) {
			m, err := Open(Config{DataDir: b.TempDir(), Durability: segment.Async,
				Limits: Limits{ShardLimit: 5000},
				Segment: segment.Config{FragmentBytes: 16 << 20, InitialFragmentBytes: 1 << 20,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if err := m.CreateStream("s", shards); err != nil {
				b.Fatal(err)
			}
			recs := make([]PutEntry, 500)
			for i := range recs {
				recs[i] = PutEntry{PartitionKey: "key-" + strconv.Itoa(i), Data: make([]byte, 100)}
			}
			// Every shard written once before the clock starts (its first
			// segment created).
			for range 20 {
				if _, err := m.PutRecords("s", recs); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(recs) * 100))
			b.ReportAllocs()
			b.ResetTimer()
			if c.callers == 1 {
				for b.Loop() {
					if _, err := m.PutRecords("s", recs); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			// Concurrent calls, as from several connections.
			b.SetParallelism((c.callers + 1) / 2)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.PutRecords("s", recs); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
