package stream

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkStreamPutRecordsQuotas measures PutRecords of 100 small records
// on 4 shards with the quota emulation off (the default) and on. A fake
// clock advances one second per call in both cases, so that with quotas on
// every record is admitted and both cases do the same appends: the
// difference is the cost of the buckets.
func BenchmarkStreamPutRecordsQuotas(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run("quotas="+strconv.FormatBool(on), func(b *testing.B) {
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			cfg := testConfig(b.TempDir(), clk.Now)
			cfg.EmulateQuotas = on
			m, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if err := m.CreateStream("s", 4); err != nil {
				b.Fatal(err)
			}
			recs := make([]PutEntry, 100)
			for i := range recs {
				recs[i] = PutEntry{PartitionKey: "k" + strconv.Itoa(i), Data: make([]byte, 100)}
			}
			if _, err := m.PutRecords("s", recs); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(recs) * 100))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clk.Add(time.Second)
				res, err := m.PutRecords("s", recs)
				if err != nil {
					b.Fatal(err)
				}
				if res[0].Err != nil {
					b.Fatal(res[0].Err)
				}
			}
		})
	}
}
