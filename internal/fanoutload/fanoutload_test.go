package fanoutload

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

func TestFanoutLoadPutRecordsBody(t *testing.T) {
	filler := base64.StdEncoding.EncodeToString(make([]byte, 100-StampLen))
	b := appendPutRecords(nil, "s", 41, 3, filler)
	var req struct {
		StreamName string
		Records    []struct {
			Data         []byte
			PartitionKey string
		}
	}
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if req.StreamName != "s" || len(req.Records) != 3 {
		t.Fatalf("body %s", b)
	}
	keys := map[string]bool{}
	for i, r := range req.Records {
		id, ok := RecordID(r.Data)
		if !ok || id != 41+uint64(i) || len(r.Data) != 100 || len(r.PartitionKey) != 16 {
			t.Fatalf("record %d: id %d %v, %d bytes, key %q", i, id, ok, len(r.Data), r.PartitionKey)
		}
		keys[r.PartitionKey] = true
	}
	if len(keys) != 3 {
		t.Fatalf("partition keys repeat: %v", keys)
	}
	if _, ok := RecordID([]byte("hello, world")); ok {
		t.Fatal("unstamped data has an id")
	}
}

func TestFanoutLoadTracker(t *testing.T) {
	tr := NewTracker(4, 2)
	first, ok := tr.Alloc(3)
	if !ok || first != 0 {
		t.Fatalf("Alloc = %d, %v", first, ok)
	}
	if _, ok := tr.Alloc(2); ok {
		t.Fatal("Alloc beyond the capacity")
	}
	tr.Acked(0, 3, 100, 1000)
	data := func(id uint64) []byte { return AppendStamp(nil, id) }
	tr.Received(0, data(0), 1500) // 500 ns after the ack
	tr.Received(0, data(1), 900)  // before the ack
	tr.Received(0, data(1), 2000) // duplicate
	tr.Received(0, []byte("x"), 2000)
	tr.Received(1, data(2), 4000)
	l := tr.Latencies(0, 0, 1<<62)
	if len(l.AckToReceipt) != 2 || l.AckToReceipt[0] != 500 || l.AckToReceipt[1] != 0 || l.BeforeAck != 1 ||
		l.Missing != 1 || l.Duplicates != 1 || l.Alien != 1 || l.SendToReceipt[1] != 800 {
		t.Fatalf("consumer 0: %+v", l)
	}
	if l := tr.Latencies(1, 0, 1<<62); len(l.AckToReceipt) != 1 || l.AckToReceipt[0] != 3000*time.Nanosecond || l.Missing != 2 {
		t.Fatalf("consumer 1: %+v", l)
	}
	if l := tr.Latencies(1, 101, 1<<62); len(l.AckToReceipt) != 0 || l.Missing != 0 {
		t.Fatalf("window: %+v", l)
	}
	if p := tr.Pending(1, 0, 1<<62); p != 2 {
		t.Fatalf("Pending = %d", p)
	}
}

func TestFanoutLoadTrackerSampled(t *testing.T) {
	tr := NewSampledTracker(10, 1, 4) // ids 0..7 handed out, 0 and 4 recorded
	if _, ok := tr.Alloc(8); !ok {
		t.Fatal("Alloc(8)")
	}
	if _, ok := tr.Alloc(1); ok {
		t.Fatal("Alloc beyond the capacity (rounded down to a multiple of 4)")
	}
	tr.Acked(0, 8, 10, 100)
	for id := range uint64(8) {
		if id != 4 {
			tr.Received(0, AppendStamp(nil, id), 150)
		}
	}
	tr.Received(0, AppendStamp(nil, 9), 150) // beyond the ids handed out
	if s, a := tr.Times(4); s != 10 || a != 100 {
		t.Fatalf("Times(4) = %d, %d", s, a)
	}
	if s, a := tr.Times(5); s != 0 || a != 0 {
		t.Fatalf("Times(5) = %d, %d: not sampled", s, a)
	}
	l := tr.Latencies(0, 0, 1<<62)
	if len(l.AckToReceipt) != 1 || l.AckToReceipt[0] != 50 || l.Missing != 1 || l.Alien != 1 || tr.Pending(0, 0, 1<<62) != 1 {
		t.Fatalf("%+v", l)
	}
}

// TestFanoutLoadReadLog checks a reader's log against the placement the
// PutRecords responses gave: right shard, acknowledged sequence number,
// increasing order; and that a response without them is refused.
func TestFanoutLoadReadLog(t *testing.T) {
	p := NewPlacement(10, []string{"shardId-000000000000", "shardId-000000000001"})
	resp := `{"FailedRecordCount":0,"Records":[` +
		`{"SequenceNumber":"49500000000000000000000000000000000000000000000000000001","ShardId":"shardId-000000000000"},` +
		`{"SequenceNumber":"49500000000000000000000000000000000000000000000000000002","ShardId":"shardId-000000000001"},` +
		`{"SequenceNumber":"49500000000000000000000000000000000000000000000000000003","ShardId":"shardId-000000000000"},` +
		`{"SequenceNumber":"49500000000000000000000000000000000000000000000000000010","ShardId":"shardId-000000000000"}]}`
	if err := p.record(0, 4, []byte(resp)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"Records":[]}`, `{"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000009"}]}`,
		`{"Records":[{"ShardId":"shardId-000000000000"}]}`, `not json`} {
		if err := p.record(5, 1, []byte(bad)); err == nil {
			t.Fatalf("placement accepted %s", bad)
		}
	}
	if s, ok := p.Shard(1); !ok || s != 1 || !p.OnShard(0)(3) || p.OnShard(1)(0) || p.OnShard(0)(4) {
		t.Fatalf("Shard(1) = %d, %v", s, ok)
	}
	seq := func(n string) []byte { return []byte("495000000000000000000000000000000000000000000000000000" + n) }
	data := func(id uint64) []byte { return AppendStamp(nil, id) }

	good := p.NewReadLog(0)
	good.Add(data(0), seq("01"))
	good.Add(data(2), seq("03"))
	good.Add(data(3), seq("10")) // "10" > "03" by value
	if c := good.Check(); c.Bad() != 0 || c.Records != 3 {
		t.Fatalf("good log: %+v", c)
	}
	bad := p.NewReadLog(0)
	bad.Add(data(3), seq("10"))
	bad.Add(data(2), seq("03")) // out of order
	bad.Add(data(1), seq("02")) // another shard's record (and out of order)
	bad.Add(data(0), seq("11")) // another sequence number
	bad.Add(data(7), seq("12")) // never acknowledged
	bad.Add([]byte("unstamped"), seq("13"))
	c := bad.Check()
	want := ReadCheck{Records: 5, WrongShard: 1, WrongSeq: 1, Unacked: 1, OutOfOrder: 2, Unstamped: 1}
	if c != want {
		t.Fatalf("bad log: %+v, want %+v", c, want)
	}
	if sum := c.Add(c); sum.Bad() != 2*c.Bad() || sum.Records != 10 {
		t.Fatalf("Add: %+v", sum)
	}
}
