package stream

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// drainShard reads a shard from TRIM_HORIZON. For a closed shard it reads to
// the end (no NextShardIterator) and returns the ChildShards; for an open
// one it stops at the first empty batch.
func drainShard(t *testing.T, m *Manager, name, shardID string) ([]RecordOut, []ChildShard) {
	t.Helper()
	it, err := m.GetShardIterator(name, shardID, IterTrimHorizon, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []RecordOut
	for range 10000 {
		res, err := m.GetRecords(it, 5)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
		if res.NextShardIterator == "" {
			return out, res.ChildShards
		}
		if len(res.ChildShards) != 0 {
			t.Fatalf("%s: ChildShards with a NextShardIterator", shardID)
		}
		if len(res.Records) == 0 {
			return out, nil
		}
		it = res.NextShardIterator
	}
	t.Fatalf("%s: does not end", shardID)
	return nil, nil
}

// readLineage reads every shard of a stream the way KCL does: the roots
// first, a child only after all its parents. It checks that a closed shard
// ends with exactly its children, that each shard's sequence numbers
// increase and sort above those of its parents (and their
// EndingSequenceNumber), and returns the data of every record read.
func readLineage(t *testing.T, m *Manager, name string) []string {
	t.Helper()
	info, err := m.DescribeStream(name)
	if err != nil {
		t.Fatal(err)
	}
	byID := make(map[string]ShardInfo)
	children := make(map[string][]string)
	for _, sh := range info.Shards {
		byID[sh.ShardID] = sh
		for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
			if p != "" {
				children[p] = append(children[p], sh.ShardID)
			}
		}
	}
	done := make(map[string]string) // shard -> highest sequence number seen (or its ending one)
	var data []string
	var queue []string
	for _, sh := range info.Shards {
		if sh.ParentShardID == "" {
			queue = append(queue, sh.ShardID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if _, ok := done[id]; ok {
			continue
		}
		sh := byID[id]
		floor := ""
		ready := true
		for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
			if p == "" {
				continue
			}
			hi, ok := done[p]
			if !ok {
				ready = false
			}
			floor = max(floor, hi)
		}
		if !ready {
			queue = append(queue, id) // the other parent comes later
			continue
		}
		if sh.StartingSequenceNumber <= floor {
			t.Fatalf("%s: StartingSequenceNumber %s not above its parents' %s", id, sh.StartingSequenceNumber, floor)
		}
		recs, kids := drainShard(t, m, name, id)
		last := sh.StartingSequenceNumber
		for i, r := range recs {
			// The first record may have the StartingSequenceNumber itself
			// (position 0 in the shard's creation second).
			if r.SequenceNumber < last || i > 0 && r.SequenceNumber == last {
				t.Fatalf("%s: sequence number %s not above %s", id, r.SequenceNumber, last)
			}
			last = r.SequenceNumber
			data = append(data, string(r.Data))
		}
		if sh.EndingSequenceNumber != "" {
			if sh.EndingSequenceNumber <= last {
				t.Fatalf("%s: EndingSequenceNumber %s not above %s", id, sh.EndingSequenceNumber, last)
			}
			last = sh.EndingSequenceNumber
			var got []string
			for _, c := range kids {
				got = append(got, c.ShardID)
				want := []string{byID[c.ShardID].ParentShardID}
				if a := byID[c.ShardID].AdjacentParentShardID; a != "" {
					want = append(want, a)
				}
				if !slices.Equal(c.ParentShards, want) || c.HashKeyRange != byID[c.ShardID].HashKeyRange {
					t.Fatalf("%s: child %+v, want parents %v range %v", id, c, want, byID[c.ShardID].HashKeyRange)
				}
			}
			if !slices.Equal(got, children[id]) || len(got) == 0 {
				t.Fatalf("%s: ChildShards %v, want %v", id, got, children[id])
			}
		} else if len(children[id]) != 0 {
			t.Fatalf("open shard %s has children %v", id, children[id])
		}
		done[id] = last
		queue = append(queue, children[id]...)
	}
	if len(done) != len(info.Shards) {
		t.Fatalf("read %d of %d shards", len(done), len(info.Shards))
	}
	return data
}

// openRanges checks that the open shards of a stream tile the hash-key
// space and returns their ranges.
func openRanges(t *testing.T, m *Manager, name string) []HashKeyRange {
	t.Helper()
	info, err := m.DescribeStream(name)
	if err != nil {
		t.Fatal(err)
	}
	var rs []HashKeyRange
	for _, sh := range info.Shards {
		if sh.EndingSequenceNumber == "" {
			rs = append(rs, sh.HashKeyRange)
		}
	}
	slices.SortFunc(rs, func(a, b HashKeyRange) int { return a.Start.Compare(b.Start) })
	if err := CheckTiling(rs); err != nil {
		t.Fatalf("open shards: %v", err)
	}
	return rs
}

func put(t *testing.T, m *Manager, name string, from, n int) {
	t.Helper()
	var recs []PutEntry
	for i := from; i < from+n; i++ {
		recs = append(recs, PutEntry{PartitionKey: "pk-" + strconv.Itoa(i*7919), Data: []byte("rec-" + strconv.Itoa(i))})
	}
	res, err := m.PutRecords(name, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

func checkAll(t *testing.T, m *Manager, name string, n int) {
	t.Helper()
	data := readLineage(t, m, name)
	seen := make(map[string]int)
	for _, d := range data {
		seen[d]++
	}
	for i := range n {
		if c := seen["rec-"+strconv.Itoa(i)]; c != 1 {
			t.Fatalf("record %d read %d times", i, c)
		}
	}
	if len(data) != n {
		t.Fatalf("read %d records, want %d", len(data), n)
	}
}

func hk(s string) HashKey {
	k, err := ParseHashKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

func TestReshardSplit(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	put(t, m, "s", 0, 40)
	// Split within the creation second: children still sort above.
	if err := m.SplitShard("s", "shardId-000000000000", "2"); err != nil {
		t.Fatal(err)
	}
	info, _ := m.DescribeStream("s")
	if info.Status != StatusActive || len(info.Shards) != 3 {
		t.Fatalf("%+v", info)
	}
	p, lo, hi := info.Shards[0], info.Shards[1], info.Shards[2]
	if p.EndingSequenceNumber == "" || p.ClosedMillis == 0 {
		t.Fatalf("parent not closed: %+v", p)
	}
	if lo.ParentShardID != p.ShardID || hi.ParentShardID != p.ShardID || lo.AdjacentParentShardID != "" {
		t.Fatalf("lineage: %+v %+v", lo, hi)
	}
	if lo.HashKeyRange != (HashKeyRange{Start: HashKey{}, End: hk("1")}) || hi.HashKeyRange != (HashKeyRange{Start: hk("2"), End: MaxHashKey()}) {
		t.Fatalf("ranges %v %v", lo.HashKeyRange, hi.HashKeyRange)
	}
	sn, _ := ParseSeqNum(p.EndingSequenceNumber)
	if sn.Position != EndPosition || sn.ShardIndex != 0 {
		t.Fatalf("ending %+v", sn)
	}
	// Writes go to the children only.
	res, err := m.PutRecords("s", []PutEntry{{PartitionKey: "a", ExplicitHashKey: "1", Data: []byte("rec-40")}, {PartitionKey: "b", ExplicitHashKey: "2", Data: []byte("rec-41")}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ShardID != lo.ShardID || res[1].ShardID != hi.ShardID {
		t.Fatalf("routed to %s, %s", res[0].ShardID, res[1].ShardID)
	}
	put(t, m, "s", 42, 20)
	checkAll(t, m, "s", 62)
	// LATEST on a closed shard is its end at once.
	it, err := m.GetShardIterator("s", p.ShardID, IterLatest, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.GetRecords(it, 0)
	if err != nil || r.NextShardIterator != "" || len(r.ChildShards) != 2 || len(r.Records) != 0 {
		t.Fatalf("LATEST on closed shard: %+v %v", r, err)
	}
}

func TestReshardMerge(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	if err := m.CreateStream("s", 3); err != nil {
		t.Fatal(err)
	}
	put(t, m, "s", 0, 30)
	if err := m.MergeShards("s", "shardId-000000000001", "shardId-000000000002"); err != nil {
		t.Fatal(err)
	}
	info, _ := m.DescribeStream("s")
	c := info.Shards[3]
	rs := EvenSplit(3)
	if c.ParentShardID != "shardId-000000000001" || c.AdjacentParentShardID != "shardId-000000000002" ||
		c.HashKeyRange != (HashKeyRange{Start: rs[1].Start, End: rs[2].End}) {
		t.Fatalf("child %+v", c)
	}
	put(t, m, "s", 30, 30)
	checkAll(t, m, "s", 60)
	openRanges(t, m, "s")
}

func TestReshardUpdateShardCount(t *testing.T) {
	for _, tc := range []struct{ from, to, total int }{
		{1, 2, 3}, {2, 4, 6}, {4, 2, 6}, {4, 5, 15}, {5, 3, 13}, {3, 3, 3}, {10, 13, 0}, {10, 5, 15}, {7, 14, 21}, {3, 5, 0}, {6, 3, 9},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.from, tc.to), func(t *testing.T) {
			m := openTest(t, testConfig(t.TempDir(), nil))
			if err := m.CreateStream("s", tc.from); err != nil {
				t.Fatal(err)
			}
			put(t, m, "s", 0, 50)
			cur, tgt, err := m.UpdateShardCount("s", tc.to, ScalingUniform)
			if err != nil || cur != tc.from || tgt != tc.to {
				t.Fatalf("UpdateShardCount = %d, %d, %v", cur, tgt, err)
			}
			checkEven(t, openRanges(t, m, "s"), tc.to)
			info, _ := m.DescribeStream("s")
			if tc.total != 0 && len(info.Shards) != tc.total {
				t.Errorf("%d shards in all, want %d", len(info.Shards), tc.total)
			}
			// Each new shard's parents overlap it and are at most 2 (by
			// construction: a split has one, a merge two).
			for _, sh := range info.Shards[tc.from:] {
				for _, pid := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
					if pid == "" {
						continue
					}
					pi, _ := ParseShardID(pid)
					if !info.Shards[pi].HashKeyRange.Overlaps(sh.HashKeyRange) {
						t.Fatalf("%s: parent %s does not overlap", sh.ShardID, pid)
					}
				}
				if sh.ParentShardID == "" {
					t.Fatalf("%s has no parent", sh.ShardID)
				}
			}
			put(t, m, "s", 50, 50)
			checkAll(t, m, "s", 100)
		})
	}
}

func TestReshardErrors(t *testing.T) {
	cfg := testConfig(t.TempDir(), nil)
	cfg.Limits.ShardLimit = 6
	m := openTest(t, cfg)
	if err := m.CreateStream("s", 3); err != nil {
		t.Fatal(err)
	}
	if err := m.MergeShards("s", "shardId-000000000001", "shardId-000000000002"); err != nil {
		t.Fatal(err)
	}
	rs := EvenSplit(3)
	const acct = " under account 000000000000"
	var (
		ae  *ArgumentError
		nfe *ResourceNotFoundError
		lee *LimitExceededError
	)
	for _, tc := range []struct {
		name string
		call func() error
		as   any
		msg  string
	}{
		{"split no stream", func() error { return m.SplitShard("nope", "shardId-000000000000", "5") }, nil, "stream not found"},
		{"split no shard", func() error { return m.SplitShard("s", "shardId-000000000099", "5") }, &nfe,
			"Could not find shard shardId-000000000099 in stream s" + acct + "."},
		{"split lenient id", func() error { return m.SplitShard("s", "99", "5") }, &nfe,
			"Could not find shard shardId-000000000099 in stream s" + acct + "."},
		{"split bad id", func() error { return m.SplitShard("s", "ABKLFD8", "5") }, &nfe,
			"Could not find shard ABKLFD8 in stream s" + acct + "."},
		{"split closed", func() error { return m.SplitShard("s", "shardId-000000000001", "5") }, &ae,
			"Shard shardId-000000000001 in stream s" + acct + " has already been merged or split, and thus is not eligible for merging or splitting."},
		{"split at start+1", func() error { return m.SplitShard("s", "shardId-000000000000", "1") }, &ae,
			"NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream s" + acct +
				" is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey " + rs[0].End.String() + "."},
		{"split at end", func() error { return m.SplitShard("s", "shardId-000000000000", rs[0].End.String()) }, &ae,
			"NewStartingHashKey " + rs[0].End.String() + " used in SplitShard() on shard shardId-000000000000 in stream s" + acct +
				" is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey " + rs[0].End.String() + "."},
		{"split above 2^128", func() error {
			return m.SplitShard("s", "shardId-000000000003", "999999999999999999999999999999999999999")
		}, &ae, "NewStartingHashKey 999999999999999999999999999999999999999 used in SplitShard() on shard shardId-000000000003 in stream s" + acct +
			" is not both greater than one plus the shard's StartingHashKey " + rs[1].Start.String() + " and less than the shard's EndingHashKey " +
			MaxHashKey().String() + "."},
		{"merge not adjacent", func() error { return m.MergeShards("s", "shardId-000000000000", "shardId-000000000000") }, &ae,
			"Shards shardId-000000000000 and shardId-000000000000 in stream s" + acct + " are not an adjacent pair of shards eligible for merging"},
		{"merge inverted", func() error { return m.MergeShards("s", "shardId-000000000003", "shardId-000000000000") }, &ae,
			"Shards shardId-000000000003 and shardId-000000000000 in stream s" + acct + " are not an adjacent pair of shards eligible for merging"},
		{"merge closed", func() error { return m.MergeShards("s", "shardId-000000000000", "shardId-000000000001") }, &ae,
			"Shard shardId-000000000001 in stream s" + acct + " has already been merged or split, and thus is not eligible for merging or splitting."},
		{"merge no shard", func() error { return m.MergeShards("s", "shardId-000000000000", "shardId-000000000007") }, &nfe,
			"Could not find shard shardId-000000000007 in stream s" + acct + "."},
		{"update up", func() error { _, _, err := m.UpdateShardCount("s", 5, ScalingUniform); return err }, &lee,
			"UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, Target shard count: 5"},
		{"update down", func() error {
			return m.CreateStream("big", 4) // 6 open shards: the account limit
		}, nil, ""},
		{"update limit", func() error { _, _, err := m.UpdateShardCount("s", 3, ScalingUniform); return err }, &lee,
			"This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 6. Limit: 6. " +
				"Number of additional shards that would have resulted from this request: 1. Refer to the AWS Service Limits page " +
				"(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."},
		{"split limit", func() error { return m.SplitShard("s", "shardId-000000000000", "5") }, &lee,
			"This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 6. Limit: 6. " +
				"Number of additional shards that would have resulted from this request: 1. Refer to the AWS Service Limits page " +
				"(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."},
		{"update half", func() error { _, _, err := m.UpdateShardCount("big", 1, ScalingUniform); return err }, &lee,
			"UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4, Target shard count: 1"},
		{"update max", func() error { _, _, err := m.UpdateShardCount("big", 10001, ScalingUniform); return err }, &lee,
			"Target shard count or number of open shards cannot be greater than 10000. Current open shard count: 4, Target shard count: 10001"},
		{"update scaling type", func() error { _, _, err := m.UpdateShardCount("big", 2, "FOO"); return err }, &ae,
			"1 validation error detected: Value 'FOO' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]"},
		{"update ok", func() error { _, _, err := m.UpdateShardCount("big", 2, ScalingUniform); return err }, nil, ""},
	} {
		err := tc.call()
		switch {
		case tc.msg == "":
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		case tc.as == nil:
			if !errors.Is(err, ErrStreamNotFound) {
				t.Errorf("%s: %v", tc.name, err)
			}
		case !errors.As(err, tc.as) || err.Error() != tc.msg:
			t.Errorf("%s: got %T %v\n want %q", tc.name, err, err, tc.msg)
		}
	}
	if err := m.SplitShard("s", "nope", "1"); !errors.Is(err, ErrShardNotFound) {
		t.Errorf("ResourceNotFoundError does not wrap ErrShardNotFound: %v", err)
	}
	// A split at StartingHashKey+2 and at EndingHashKey-1 is fine.
	if err := m.DeleteStream("big"); err != nil {
		t.Fatal(err)
	}
	if err := m.SplitShard("s", "shardId-000000000000", "2"); err != nil {
		t.Fatal(err)
	}
	if err := m.SplitShard("s", "shardId-000000000005", rs[0].End.dec().String()); err != nil {
		t.Fatal(err)
	}
	openRanges(t, m, "s")
}

func TestReshardUpdatingDelay(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, nil)
	cfg.UpdateDelay = 300 * time.Millisecond
	m := openTest(t, cfg)
	if err := m.CreateStream("s", 2); err != nil {
		t.Fatal(err)
	}
	if err := m.SplitShard("s", "shardId-000000000000", "100"); err != nil {
		t.Fatal(err)
	}
	info, _ := m.DescribeStream("s")
	if info.Status != StatusUpdating || len(info.Shards) != 2 {
		t.Fatalf("during UPDATING: %+v", info)
	}
	var ie *ResourceInUseError
	err := m.MergeShards("s", "shardId-000000000000", "shardId-000000000001")
	if !errors.As(err, &ie) || err.Error() != "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING" {
		t.Fatalf("merge while UPDATING: %v", err)
	}
	if _, _, err := m.UpdateShardCount("s", 3, ScalingUniform); !errors.As(err, &ie) {
		t.Fatalf("update while UPDATING: %v", err)
	}
	// Writes still work, to the old shards.
	put(t, m, "s", 0, 20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ = m.DescribeStream("s")
		if info.Status == StatusActive || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.Status != StatusActive || len(info.Shards) != 4 {
		t.Fatalf("after the delay: %+v", info)
	}
	put(t, m, "s", 20, 20)
	checkAll(t, m, "s", 40)

	// A pending reshard interrupted by Close is carried out by Open.
	if _, _, err := m.UpdateShardCount("s", 4, ScalingUniform); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.UpdateDelay = 0
	m2 := openTest(t, cfg)
	info, _ = m2.DescribeStream("s")
	if info.Status != StatusActive {
		t.Fatalf("after reopen: %+v", info)
	}
	checkEven(t, openRanges(t, m2, "s"), 4)
	checkAll(t, m2, "s", 40)
}

func TestReshardDeleteWhileUpdating(t *testing.T) {
	cfg := testConfig(t.TempDir(), nil)
	cfg.UpdateDelay = 50 * time.Millisecond
	m := openTest(t, cfg)
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	if err := m.SplitShard("s", "shardId-000000000000", "100"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	info, _ := m.DescribeStream("s")
	if len(info.Shards) != 1 || info.Status != StatusActive {
		t.Fatalf("the old incarnation's reshard hit the new one: %+v", info)
	}
}

// TestReshardProperty runs random splits, merges and UpdateShardCounts with
// puts in between (some concurrent with the reshards); every acknowledged
// record must be read exactly once by following the lineage, the open
// shards must tile the key space after every step, and all of it must come
// back after a restart.
func TestReshardProperty(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			dir := t.TempDir()
			cfg := testConfig(dir, nil)
			m, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.CreateStream("p", 1+rng.IntN(4)); err != nil {
				t.Fatal(err)
			}
			n := 0
			closedTips := make(map[int]uint64)
			for range 12 {
				k := 1 + rng.IntN(15)
				// Puts concurrent with the reshard.
				done := make(chan error, 1)
				from := n
				go func() {
					for i := from; i < from+k; i++ {
						res, err := m.PutRecords("p", []PutEntry{{PartitionKey: strconv.Itoa(rng2(i)), Data: []byte("rec-" + strconv.Itoa(i))}})
						if err == nil && res[0].Err != nil {
							err = res[0].Err
						}
						if err != nil {
							done <- err
							return
						}
					}
					done <- nil
				}()
				// Readers concurrent with the reshard (for the race detector).
				readDone := make(chan struct{})
				go func() {
					defer close(readDone)
					for j := range 3 {
						_, _ = m.ListShards("p", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtLatest}})
						if it, err := m.GetShardIterator("p", ShardID(j), IterTrimHorizon, "", 0); err == nil {
							_, _ = m.GetRecords(it, 0)
						}
					}
				}()
				info, _ := m.DescribeStream("p")
				var open []ShardInfo
				for _, sh := range info.Shards {
					if sh.EndingSequenceNumber == "" {
						open = append(open, sh)
					}
				}
				slices.SortFunc(open, func(a, b ShardInfo) int { return a.HashKeyRange.Start.Compare(b.HashKeyRange.Start) })
				switch op := rng.IntN(3); {
				case op == 0 && len(open) < 12:
					sh := open[rng.IntN(len(open))]
					r := sh.HashKeyRange
					if r.Start.add(HashKey{0, 3}).Compare(r.End) >= 0 {
						break
					}
					k := r.Start.add(HashKey{Hi: r.End.Hi/2 - r.Start.Hi/2, Lo: 2})
					if err := m.SplitShard("p", sh.ShardID, k.String()); err != nil {
						t.Fatalf("split %s at %s: %v", sh.ShardID, k, err)
					}
				case op == 1 && len(open) > 1:
					i := rng.IntN(len(open) - 1)
					if err := m.MergeShards("p", open[i].ShardID, open[i+1].ShardID); err != nil {
						t.Fatal(err)
					}
				default:
					target := max(1, len(open)/2+rng.IntN(len(open)+len(open)/2+1))
					target = min(target, 2*len(open), 12)
					if 2*target < len(open) {
						target = (len(open) + 1) / 2
					}
					if _, _, err := m.UpdateShardCount("p", target, ScalingUniform); err != nil {
						t.Fatal(err)
					}
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				<-readDone
				n += k
				openRanges(t, m, "p")
				// A closed shard never grows: its tip when first seen
				// closed is its tip forever.
				m.mu.RLock()
				for _, sh := range m.streams["p"].shards {
					if sh.closed == 0 {
						continue
					}
					_, tip := sh.log.Bounds()
					if was, ok := closedTips[sh.index]; ok && was != tip {
						t.Fatalf("closed %s grew from %d to %d records", ShardID(sh.index), was, tip)
					} else if !ok {
						closedTips[sh.index] = tip
					}
				}
				m.mu.RUnlock()
			}
			checkAll(t, m, "p", n)
			before, _ := m.DescribeStream("p")
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			m2 := openTest(t, cfg)
			after, _ := m2.DescribeStream("p")
			if !slices.Equal(before.Shards, after.Shards) {
				t.Fatalf("shards changed across restart:\n%+v\n%+v", before.Shards, after.Shards)
			}
			checkAll(t, m2, "p", n)
		})
	}
}

func rng2(i int) int { return i*2654435761 + 17 }

// checkEven checks that ranges are EvenSplit(n) up to the rounding of
// other even splits (a few hash keys per boundary).
func checkEven(t *testing.T, got []HashKeyRange, n int) {
	t.Helper()
	want := EvenSplit(n)
	if len(got) != n {
		t.Fatalf("%d open shards, want %d", len(got), n)
	}
	for i := range want {
		if !near(got[i].Start, want[i].Start, 64) {
			t.Fatalf("open shard %d starts at %s, want %s", i, got[i].Start, want[i].Start)
		}
	}
}

// TestReshardRestart reopens a manager after a split: the closed shard, its
// EndingSequenceNumber, the lineage and the records come back, and an
// iterator minted before the restart reads the parent to its end and its
// ChildShards.
func TestReshardRestart(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(t.TempDir(), clk.Now)
	m, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CreateStream("s", 2); err != nil {
		t.Fatal(err)
	}
	put(t, m, "s", 0, 30)
	clk.Add(3 * time.Second)
	if err := m.SplitShard("s", ShardID(1), EvenSplit(4)[3].Start.String()); err != nil {
		t.Fatal(err)
	}
	put(t, m, "s", 30, 30)
	it, err := m.GetShardIterator("s", ShardID(1), IterTrimHorizon, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := m.DescribeStream("s")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := openTest(t, cfg)
	after, _ := m2.DescribeStream("s")
	if !slices.Equal(before.Shards, after.Shards) || after.Shards[1].EndingSequenceNumber == "" ||
		after.Shards[3].ParentShardID != ShardID(1) {
		t.Fatalf("shards changed across restart:\n%+v\n%+v", before.Shards, after.Shards)
	}
	var kids []ChildShard
	for range 100 {
		res, err := m2.GetRecords(it, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.NextShardIterator == "" {
			kids = res.ChildShards
			break
		}
		it = res.NextShardIterator
	}
	if len(kids) != 2 || kids[0].ShardID != ShardID(2) || kids[1].ShardID != ShardID(3) ||
		!slices.Equal(kids[1].ParentShards, []string{ShardID(1)}) || kids[1].HashKeyRange.Start != EvenSplit(4)[3].Start {
		t.Fatalf("ChildShards after restart: %+v", kids)
	}
	// Writes after the restart go to the open shards only.
	put(t, m2, "s", 60, 30)
	checkAll(t, m2, "s", 90)
}
