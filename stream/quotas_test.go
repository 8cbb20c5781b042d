package stream

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func quotaManager(t *testing.T) (*Manager, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(t.TempDir(), clk.Now)
	cfg.EmulateQuotas = true
	m := openTest(t, cfg)
	mustOK(t, m.CreateStream("s", 2))
	return m, clk
}

// shard0Key is an explicit hash key in shard 0 of a 2-shard stream.
const shard0Key = "1"

func TestStreamStateQuotaWriteRecords(t *testing.T) {
	m, clk := quotaManager(t)
	put := func(n int) []PutResult {
		t.Helper()
		recs := make([]PutEntry, n)
		for i := range recs {
			recs[i] = PutEntry{PartitionKey: "k", ExplicitHashKey: shard0Key, Data: []byte("x")}
		}
		res, err := m.PutRecords("s", recs)
		mustOK(t, err)
		return res
	}
	res := put(999)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("record %d of the first 999: %v", i, r.Err)
		}
	}
	res = put(3) // 1 fits, 2 are throttled
	if res[0].Err != nil || res[1].Err == nil || res[2].Err == nil {
		t.Fatalf("records 1000..1002: %+v", res)
	}
	wantErr(t, res[1].Err, ErrThroughputExceeded,
		"Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.")
	if res[1].ShardID != "shardId-000000000000" || res[1].SequenceNumber != "" {
		t.Fatalf("throttled result %+v", res[1])
	}
	// The other shard has its own quota.
	other, err := m.PutRecords("s", []PutEntry{{PartitionKey: "k", ExplicitHashKey: MaxHashKey().String(), Data: []byte("y")}})
	if err != nil || other[0].Err != nil {
		t.Fatalf("shard 1: %+v %v", other, err)
	}
	clk.Add(100 * time.Millisecond) // refills 100 records
	res = put(101)
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("after 100 ms: %d of 101 throttled, want 1", failed)
	}
	// Only the records that were not throttled were written.
	it, err := m.GetShardIterator("s", "shardId-000000000000", IterTrimHorizon, "", 0)
	mustOK(t, err)
	n := 0
	for range 100 {
		r, err := m.GetRecords(it, 0)
		if errors.Is(err, ErrThroughputExceeded) {
			clk.Add(time.Second)
			continue
		}
		mustOK(t, err)
		n += len(r.Records)
		it = r.NextShardIterator
		if len(r.Records) == 0 {
			break
		}
	}
	if n != 999+1+100 {
		t.Fatalf("shard 0 holds %d records, want 1100", n)
	}
}

func TestStreamStateQuotaWriteBytes(t *testing.T) {
	m, clk := quotaManager(t)
	data := bytes.Repeat([]byte("d"), 60<<10-1) // 60 KiB with the key
	recs := make([]PutEntry, 20)
	for i := range recs {
		recs[i] = PutEntry{PartitionKey: "k", ExplicitHashKey: shard0Key, Data: data}
	}
	res, err := m.PutRecords("s", recs)
	mustOK(t, err)
	ok := 0
	for _, r := range res {
		if r.Err == nil {
			ok++
		} else if !errors.Is(r.Err, ErrThroughputExceeded) {
			t.Fatal(r.Err)
		}
	}
	if ok != (1<<20)/(60<<10) { // 17 records of 60 KiB fit in 1 MiB
		t.Fatalf("%d records of 60 KiB admitted, want 17", ok)
	}
	clk.Add(time.Second)
	res, err = m.PutRecords("s", recs[:17])
	mustOK(t, err)
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("after a second: %v", r.Err)
		}
	}
}

func TestStreamStateQuotaReads(t *testing.T) {
	m, clk := quotaManager(t)
	it, err := m.GetShardIterator("s", "shardId-000000000000", IterTrimHorizon, "", 0)
	mustOK(t, err)
	for i := range 5 {
		_, err := m.GetRecords(it, 0)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err = m.GetRecords(it, 0)
	wantErr(t, err, ErrThroughputExceeded, "Rate exceeded for Shard - 000000000000/s/shardId-000000000000")
	clk.Add(200 * time.Millisecond)
	_, err = m.GetRecords(it, 0)
	mustOK(t, err)
	_, err = m.GetRecords(it, 0)
	wantErr(t, err, ErrThroughputExceeded, "")

	// Bytes: a read of 2.4 MiB leaves the shard in debt until refilled.
	data := bytes.Repeat([]byte("d"), 60<<10)
	for range 40 {
		clk.Add(100 * time.Millisecond) // stay under the write quota
		res, err := m.PutRecords("s", []PutEntry{{PartitionKey: "k", ExplicitHashKey: shard0Key, Data: data}})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res[0].Err)
		}
	}
	clk.Add(time.Second)
	r, err := m.GetRecords(it, 0)
	mustOK(t, err)
	if len(r.Records) != 40 {
		t.Fatalf("read %d records", len(r.Records))
	}
	clk.Add(100 * time.Millisecond) // calls refilled, bytes still negative
	_, err = m.GetRecords(r.NextShardIterator, 0)
	wantErr(t, err, ErrThroughputExceeded, "")
	clk.Add(time.Second)
	_, err = m.GetRecords(r.NextShardIterator, 0)
	mustOK(t, err)
}

func TestStreamStateQuotaOff(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	mustOK(t, m.CreateStream("s", 1))
	recs := make([]PutEntry, 500)
	for i := range recs {
		recs[i] = PutEntry{PartitionKey: "k", Data: []byte("x")}
	}
	for range 4 {
		res, err := m.PutRecords("s", recs)
		mustOK(t, err)
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	it, err := m.GetShardIterator("s", "shardId-000000000000", IterLatest, "", 0)
	mustOK(t, err)
	for range 20 {
		_, err := m.GetRecords(it, 0)
		mustOK(t, err)
	}
}

// TestStreamStateConcurrent changes settings while data-plane calls and
// Describe run (go test -race checks the copy-on-write settings).
func TestStreamStateConcurrent(t *testing.T) {
	cfg := testConfig(t.TempDir(), nil)
	cfg.EmulateQuotas = true
	m := openTest(t, cfg)
	mustOK(t, m.CreateStream("s", 2))
	arn := describe(t, m, "s").ARN
	done := make(chan struct{})
	var errs = make(chan error, 4)
	go func() {
		defer close(done)
		for i := range 50 {
			kib := 1024 + i
			if err := m.UpdateMaxRecordSize("s", kib); err != nil {
				errs <- err
				return
			}
			if err := m.AddTagsToStream("s", map[string]string{"i": string(rune('a' + i%26))}); err != nil {
				errs <- err
				return
			}
			if _, err := m.EnableEnhancedMonitoring("s", []string{shardLevelMetricNames[i%7]}); err != nil {
				errs <- err
				return
			}
		}
	}()
	it, err := m.GetShardIterator("s", "shardId-000000000000", IterTrimHorizon, "", 0)
	mustOK(t, err)
	for {
		select {
		case <-done:
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
			return
		default:
		}
		if _, err := m.PutRecords("s", []PutEntry{{PartitionKey: "k", Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.GetRecords(it, 10); err != nil && !errors.Is(err, ErrThroughputExceeded) {
			t.Fatal(err)
		}
		if _, err := m.ListTagsForResource(arn); err != nil {
			t.Fatal(err)
		}
		_ = describe(t, m, "s")
	}
}
