package tcp

import (
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/frame"
)

// TestTCPAckGroupsThrottled: Puts pipelined in one write (the server
// writes them in one store call) to a 2-shard stream with emulated quotas
// (1000 records per shard and second). Each Ack answers every record of
// its Put once; the records over a shard's quota are in THROTTLED groups,
// the others in one group per shard whose sequence numbers are those
// GetRecords shows; nothing throttled is stored.
func TestTCPAckGroupsThrottled(t *testing.T) {
	m, err := stream.Open(stream.Config{
		DataDir: t.TempDir(), Durability: segment.Async, EmulateQuotas: true,
		Segment: segment.Config{FragmentBytes: 8 << 20, MaxStripeBytes: 256 << 10, Logger: discardLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.CreateStream("q", 2); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m})
	r := dialRaw(t, s)
	r.hello([16]byte{4})
	const puts, per = 4, 600 // 1200 records per shard: the last Put's go over
	var all []byte
	for p := range puts {
		put := frame.Put{BatchID: uint64(10 + p), Stream: "q"}
		for i := range per {
			ehk := "0" // shard 0
			if i%2 == 1 {
				ehk = stream.MaxHashKey().String() // shard 1
			}
			put.Records = append(put.Records, frame.Record{PartitionKey: []byte("k"), ExplicitHashKey: []byte(ehk),
				Data: []byte(fmt.Sprintf("%d/%d", p, i))})
		}
		all = frame.AppendFrame(all, frame.TypePut, 0, frame.AppendPut(nil, &put))
	}
	r.write(all)
	acked := map[string]string{} // data -> sequence number
	throttled := map[string]bool{}
	for p := range puts {
		typ, body := r.read()
		var a frame.Ack
		if err := frame.DecodeAck(body, &a, per); typ != frame.TypeAck || err != nil || a.BatchID != uint64(10+p) || a.Count != per {
			t.Fatalf("put %d: type 0x%02x, %+v, %v", p, typ, a, err)
		}
		if len(a.Groups) > 4 {
			t.Fatalf("put %d: %d groups, want at most one written and one throttled per shard", p, len(a.Groups))
		}
		// Per shard: the written records come first, the throttled ones
		// after them.
		firstThrottled := [2]int{per, per}
		for i, res := range ackRecords(&a) {
			d := fmt.Sprintf("%d/%d", p, i)
			switch res.code {
			case frame.CodeOK:
				if want := stream.ShardID(i % 2); res.shard != want {
					t.Fatalf("record %s in %s, want %s", d, res.shard, want)
				}
				if firstThrottled[i%2] < i {
					t.Fatalf("record %s written after record %d of its shard was throttled", d, firstThrottled[i%2])
				}
				acked[d] = res.seq
			case frame.CodeThrottled:
				firstThrottled[i%2] = min(firstThrottled[i%2], i)
				throttled[d] = true
			default:
				t.Fatalf("record %s: %+v", d, res)
			}
		}
		if p < puts-1 && len(throttled) > 0 {
			t.Fatalf("put %d: %d records throttled within the quota", p, len(throttled))
		}
	}
	// About 200 a shard are over the quota (a little refills meanwhile).
	if len(throttled) < 300 || len(acked)+len(throttled) != puts*per {
		t.Fatalf("%d records written, %d throttled, of %d", len(acked), len(throttled), puts*per)
	}
	stored := readAll(t, m, "q")
	if len(stored) != len(acked) {
		t.Fatalf("%d records stored, %d acknowledged", len(stored), len(acked))
	}
	for _, rec := range stored {
		if seq, ok := acked[string(rec.Data)]; !ok || seq != rec.SequenceNumber {
			t.Fatalf("stored record %q has sequence number %s, acknowledged %q", rec.Data, rec.SequenceNumber, seq)
		}
	}
}
