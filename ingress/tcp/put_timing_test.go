package tcp

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/client/sluicetcp"
	"github.com/sluicehq/sluice/stream"
)

// nullStore acknowledges every record at once, in one group: the
// protocol's own cost.
type nullStore struct{}

var nullIndexes = func() []int32 {
	idx := make([]int32, 1<<16)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}()

func (nullStore) PutRecordsGroups(_ string, recs []stream.PutEntry, out *stream.PutGroups) error {
	out.Reset()
	if len(recs) > 0 {
		out.Groups = append(out.Groups, stream.PutGroup{ShardID: "shardId-000000000000",
			First: stream.SeqNum{ShardCreated: 1701746677, Position: 1 << 20, Arrival: 1701760152}, Indexes: nullIndexes[:len(recs)]})
	}
	return nil
}

// BenchmarkTCPPutRecords: one op is one PutRecords call of 1000 records
// through the client (pipelined by RunParallel) to a server on loopback,
// on a null store or a Manager in async mode:
//
//	go test ./ingress/tcp -run '^$' -bench TCPPutRecords -cpuprofile /tmp/tcp.prof
func BenchmarkTCPPutRecords(b *testing.B) {
	for _, store := range []string{"null", "manager"} {
		for _, size := range []int{100, 1024} {
			b.Run(fmt.Sprintf("store=%s/size=%dB", store, size), func(b *testing.B) {
				cfg := Config{Store: nullStore{}}
				if store == "manager" {
					m := openManager(b)
					if err := m.CreateStream("bench", 4); err != nil {
						b.Fatal(err)
					}
					cfg.Store = m
				}
				s := startServer(b, cfg)
				c, err := sluicetcp.New(sluicetcp.Config{Addr: s.Addr().String(), Conns: 4})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				data := bytes.Repeat([]byte{'x'}, size)
				recs := make([]sluicetcp.Record, 1000)
				for i := range recs {
					recs[i] = sluicetcp.Record{PartitionKey: fmt.Sprint("pk-", i), Data: data}
				}
				if _, err := c.PutRecords(context.Background(), "bench", recs); err != nil { // warm up
					b.Fatal(err)
				}
				b.SetBytes(int64(len(recs) * size))
				b.ReportAllocs()
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.PutRecords(context.Background(), "bench", recs); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
