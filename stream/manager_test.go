package stream

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/segment"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig(dir string, now func() time.Time) Config {
	return Config{
		DataDir:    dir,
		Durability: segment.Async,
		Now:        now,
		Segment: segment.Config{
			FragmentBytes:  256 << 10,
			MaxStripeBytes: 64 << 10,
			MaxRecordBytes: 64 << 10,
			Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
	}
}

func openTest(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestStreamManagerLifecycle(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	if err := m.CreateStream("b", 2); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateStream("a", 1); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateStream("a", 1); !errors.Is(err, ErrStreamExists) {
		t.Fatalf("second create: %v", err)
	}
	var ae *ArgumentError
	if err := m.CreateStream("bad/name", 1); !errors.As(err, &ae) {
		t.Fatalf("bad name: %v", err)
	}
	if err := m.CreateStream("c", 0); !errors.As(err, &ae) {
		t.Fatalf("0 shards: %v", err)
	}
	if got := m.ListStreams(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("ListStreams = %v", got)
	}
	info, err := m.DescribeStream("b")
	if err != nil {
		t.Fatal(err)
	}
	if info.ARN != "arn:aws:kinesis:us-east-1:000000000000:stream/b" || info.Status != StatusActive ||
		info.RetentionHours != 24 || len(info.Shards) != 2 {
		t.Fatalf("DescribeStream = %+v", info)
	}
	want := EvenSplit(2)
	for i, sh := range info.Shards {
		if sh.ShardID != ShardID(i) || sh.HashKeyRange != want[i] || sh.EndingSequenceNumber != "" {
			t.Errorf("shard %d = %+v", i, sh)
		}
		if sh.StartingSequenceNumber != FormatSeqNum(StartingSeqNum(info.CreatedMillis/1000, i)) {
			t.Errorf("shard %d starting seq %s", i, sh.StartingSequenceNumber)
		}
	}
	if err := m.DeleteStream("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DescribeStream("b"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("describe deleted: %v", err)
	}
	if err := m.DeleteStream("b"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("delete deleted: %v", err)
	}
	if got := m.ListStreams(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("ListStreams = %v", got)
	}
}

// readAll drains a shard from iterator it.
func readAll(t *testing.T, m *Manager, it string) []RecordOut {
	t.Helper()
	var out []RecordOut
	for range 1000 {
		res, err := m.GetRecords(it, 7)
		if err != nil {
			t.Fatal(err)
		}
		if res.NextShardIterator == "" {
			t.Fatal("no NextShardIterator on an open shard")
		}
		out = append(out, res.Records...)
		it = res.NextShardIterator
		if len(res.Records) == 0 {
			return out
		}
	}
	t.Fatal("shard does not end")
	return nil
}

func TestStreamManagerPutGet(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(dir, clk.Now)
	m := openTest(t, cfg)
	if err := m.CreateStream("s", 4); err != nil {
		t.Fatal(err)
	}
	ranges := EvenSplit(4)
	var entries []PutEntry
	for i := range 100 {
		entries = append(entries, PutEntry{PartitionKey: fmt.Sprintf("pk-%d", i), Data: fmt.Appendf(nil, "data-%d", i)})
	}
	// Two batches with a clock step between them, for AT_TIMESTAMP.
	res1, err := m.PutRecords("s", entries[:50])
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Second)
	t2 := clk.Now().UnixMilli()
	res2, err := m.PutRecords("s", entries[50:])
	if err != nil {
		t.Fatal(err)
	}
	results := append(res1, res2...)
	perShard := make(map[string][]int) // shard -> entry indexes in put order
	for i, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		want := ShardID(SearchRanges(ranges, HashKeyFromPartitionKey(entries[i].PartitionKey)))
		if r.ShardID != want {
			t.Fatalf("entry %d went to %s, want %s", i, r.ShardID, want)
		}
		perShard[r.ShardID] = append(perShard[r.ShardID], i)
	}
	if len(perShard) != 4 {
		t.Fatalf("records hit %d shards, want 4", len(perShard))
	}
	check := func(m *Manager) {
		t.Helper()
		for sid, idx := range perShard {
			it, err := m.GetShardIterator("s", sid, IterTrimHorizon, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, m, it)
			if len(got) != len(idx) {
				t.Fatalf("%s: %d records, want %d", sid, len(got), len(idx))
			}
			for j, r := range got {
				e := entries[idx[j]]
				if r.PartitionKey != e.PartitionKey || string(r.Data) != string(e.Data) || r.SequenceNumber != results[idx[j]].SequenceNumber {
					t.Fatalf("%s record %d = %+v, want %+v seq %s", sid, j, r, e, results[idx[j]].SequenceNumber)
				}
				if j > 0 && r.SequenceNumber <= got[j-1].SequenceNumber {
					t.Fatalf("%s: sequence numbers do not increase at %d", sid, j)
				}
			}
			// AT / AFTER_SEQUENCE_NUMBER.
			mid := len(got) / 2
			at, err := m.GetShardIterator("s", sid, IterAtSequenceNumber, got[mid].SequenceNumber, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rest := readAll(t, m, at); len(rest) != len(got)-mid || rest[0].SequenceNumber != got[mid].SequenceNumber {
				t.Fatalf("%s AT_SEQUENCE_NUMBER: %d records", sid, len(rest))
			}
			after, err := m.GetShardIterator("s", sid, IterAfterSequenceNumber, got[mid].SequenceNumber, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rest := readAll(t, m, after); len(rest) != len(got)-mid-1 {
				t.Fatalf("%s AFTER_SEQUENCE_NUMBER: %d records", sid, len(rest))
			}
			// The shard's StartingSequenceNumber is accepted.
			info, _ := m.DescribeStream("s")
			i, _ := ParseShardID(sid)
			start, err := m.GetShardIterator("s", sid, IterAtSequenceNumber, info.Shards[i].StartingSequenceNumber, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(readAll(t, m, start)); n != len(got) {
				t.Fatalf("%s from StartingSequenceNumber: %d records", sid, n)
			}
			// AT_TIMESTAMP: the records of the second batch.
			ts, err := m.GetShardIterator("s", sid, IterAtTimestamp, "", t2)
			if err != nil {
				t.Fatal(err)
			}
			n2 := 0
			for _, k := range idx {
				if k >= 50 {
					n2++
				}
			}
			if rest := readAll(t, m, ts); len(rest) != n2 {
				t.Fatalf("%s AT_TIMESTAMP: %d records, want %d", sid, len(rest), n2)
			}
			// LATEST sees only what comes later.
			latest, err := m.GetShardIterator("s", sid, IterLatest, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := m.GetRecords(latest, 0); err != nil || len(res.Records) != 0 || res.MillisBehindLatest != 0 {
				t.Fatalf("%s LATEST: %+v, %v", sid, res, err)
			}
		}
	}
	check(m)

	// Sequence numbers of another shard are refused; argument errors.
	var ae *ArgumentError
	other := results[perShard[ShardID(1)][0]].SequenceNumber
	if _, err := m.GetShardIterator("s", ShardID(0), IterAtSequenceNumber, other, 0); !errors.As(err, &ae) {
		t.Fatalf("foreign seq: %v", err)
	}
	if _, err := m.GetShardIterator("s", ShardID(0), IterTrimHorizon, other, 0); !errors.As(err, &ae) {
		t.Fatalf("TRIM_HORIZON with seq: %v", err)
	}
	if _, err := m.GetShardIterator("s", ShardID(0), IterAtTimestamp, "", clk.Now().UnixMilli()+1); !errors.As(err, &ae) {
		t.Fatalf("future timestamp: %v", err)
	}
	if _, err := m.GetShardIterator("s", ShardID(9), IterTrimHorizon, "", 0); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("unknown shard: %v", err)
	}
	if _, err := m.GetShardIterator("nope", ShardID(0), IterTrimHorizon, "", 0); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("unknown stream: %v", err)
	}

	// MillisBehindLatest counts from the shard tip.
	it0, _ := m.GetShardIterator("s", ShardID(0), IterTrimHorizon, "", 0)
	res, err := m.GetRecords(it0, 1)
	if err != nil || res.MillisBehindLatest != 10_000 {
		t.Fatalf("MillisBehindLatest = %d, %v", res.MillisBehindLatest, err)
	}

	// Reopen: streams, shards, records and old iterators come back.
	oldIt := it0
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DescribeStream("s"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	m2 := openTest(t, cfg)
	if got := m2.ListStreams(); !slices.Equal(got, []string{"s"}) {
		t.Fatalf("after reopen ListStreams = %v", got)
	}
	info, err := m2.DescribeStream("s")
	if err != nil || len(info.Shards) != 4 {
		t.Fatalf("after reopen: %+v, %v", info, err)
	}
	check(m2)
	if res, err := m2.GetRecords(oldIt, 1); err != nil || len(res.Records) != 1 ||
		res.Records[0].SequenceNumber != results[perShard[ShardID(0)][0]].SequenceNumber {
		t.Fatalf("old iterator after reopen: %+v, %v", res, err)
	}

	// Expiry.
	clk.Add(IteratorLifetime + time.Second)
	var ee *ExpiredIteratorError
	if _, err := m2.GetRecords(oldIt, 1); !errors.As(err, &ee) {
		t.Fatalf("expired iterator: %v", err)
	}
	if _, err := m2.GetRecords("garbage", 1); !errors.Is(err, ErrInvalidIterator) {
		t.Fatalf("garbage iterator: %v", err)
	}
}

func TestStreamManagerExplicitHashKey(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	if err := m.CreateStream("s", 4); err != nil {
		t.Fatal(err)
	}
	ranges := EvenSplit(4)
	var entries []PutEntry
	var want []string
	for i, r := range ranges {
		for _, k := range []HashKey{r.Start, r.End} {
			entries = append(entries, PutEntry{PartitionKey: "same", ExplicitHashKey: k.String(), Data: []byte{byte(i)}})
			want = append(want, ShardID(i))
		}
	}
	res, err := m.PutRecords("s", entries)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.ShardID != want[i] {
			t.Fatalf("entry %d: %+v, want %s", i, r, want[i])
		}
	}
	var ae *ArgumentError
	_, err = m.PutRecords("s", []PutEntry{{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211456"}})
	if !errors.As(err, &ae) || !errors.Is(err, ErrHashKeyOutOfRange) {
		t.Fatalf("out of range key: %v", err)
	}
	if _, err := m.PutRecords("nope", entries); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("unknown stream: %v", err)
	}
}

func TestStreamManagerRecreate(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	it, err := m.GetShardIterator("s", ShardID(0), IterTrimHorizon, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetRecords(it, 1); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("iterator of deleted stream: %v", err)
	}
	if err := m.CreateStream("s", 1); err != nil { // same millisecond
		t.Fatal(err)
	}
	if _, err := m.GetRecords(it, 1); !errors.Is(err, ErrInvalidIterator) {
		t.Fatalf("iterator of old incarnation: %v", err)
	}
}

func TestStreamManagerConcurrent(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	if err := m.CreateStream("s", 3); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				res, err := m.PutRecords("s", []PutEntry{{PartitionKey: fmt.Sprint(g, i), Data: []byte("x")}, {PartitionKey: fmt.Sprint(i, g), Data: []byte("y")}})
				if err != nil || res[0].Err != nil || res[1].Err != nil {
					t.Error(err, res)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			m.ListStreams()
			m.DescribeStream("s")
		}
	})
	wg.Wait()
	total := 0
	for i := range 3 {
		it, err := m.GetShardIterator("s", ShardID(i), IterTrimHorizon, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		total += len(readAll(t, m, it))
	}
	if total != 160 {
		t.Fatalf("read %d records, want 160", total)
	}
}
