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
// (async, cmd/sluice's segment sizes): the per-shard cost of a call that
// touches many shards.
func BenchmarkStreamPutRecordsShards(b *testing.B) {
	for _, shards := range []int{1, 100, 1000} {
		b.Run("shards="+strconv.Itoa(shards), func(b *testing.B) {
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
			for b.Loop() {
				if _, err := m.PutRecords("s", recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
