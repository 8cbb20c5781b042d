package stream

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestStreamPutRecordsGroups: the groups hold every record once, in
// request order per shard, and First+j is the sequence number GetRecords
// shows for the group's j-th record; PutRecords, built on it, agrees.
func TestStreamPutRecordsGroups(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	mustOK(t, m.CreateStream("g", 3))
	var g PutGroups
	bySeq := map[string]string{} // sequence number -> data
	for round := range 3 {
		recs := make([]PutEntry, 200)
		for i := range recs {
			recs[i] = PutEntry{PartitionKey: "pk-" + strconv.Itoa(i*7+round), Data: []byte(strconv.Itoa(round) + "/" + strconv.Itoa(i))}
		}
		mustOK(t, m.PutRecordsGroups("g", recs, &g))
		seen := make([]bool, len(recs))
		shards := map[string]bool{}
		for _, gr := range g.Groups {
			if gr.Err != nil || len(gr.Indexes) == 0 || shards[gr.ShardID] {
				t.Fatalf("group %+v (one group per shard, no errors)", gr)
			}
			shards[gr.ShardID] = true
			if gr.ShardID != ShardID(gr.First.ShardIndex) {
				t.Fatalf("group of %s with first sequence number of shard %d", gr.ShardID, gr.First.ShardIndex)
			}
			for j, i := range gr.Indexes {
				if seen[i] || (j > 0 && i <= gr.Indexes[j-1]) {
					t.Fatalf("index %d twice or out of order in %v", i, gr.Indexes)
				}
				seen[i] = true
				sn := gr.First
				sn.Position += uint64(j)
				bySeq[FormatSeqNum(sn)] = string(recs[i].Data)
			}
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("record %d in no group", i)
			}
		}
		// PutRecords is the same call, formatted per record.
		res, err := m.PutRecords("g", recs[:50])
		mustOK(t, err)
		for i, r := range res {
			if r.Err != nil || r.SequenceNumber == "" {
				t.Fatalf("PutRecords record %d: %+v", i, r)
			}
			bySeq[r.SequenceNumber] = string(recs[i].Data)
		}
	}
	n := 0
	for sh := range 3 {
		it, err := m.GetShardIterator("g", ShardID(sh), IterTrimHorizon, "", 0)
		mustOK(t, err)
		for _, r := range readAll(t, m, it) {
			if bySeq[r.SequenceNumber] != string(r.Data) {
				t.Fatalf("shard %d: record %q has sequence number %s, acknowledged for %q", sh, r.Data, r.SequenceNumber, bySeq[r.SequenceNumber])
			}
			n++
		}
	}
	if n != len(bySeq) || n != 3*250 {
		t.Fatalf("read %d records, acknowledged %d, want 750", n, len(bySeq))
	}
	// A whole-call error leaves no groups.
	if err := m.PutRecordsGroups("g", []PutEntry{{PartitionKey: ""}}, &g); err == nil || len(g.Groups) != 0 {
		t.Fatalf("empty partition key: %v, %d groups", err, len(g.Groups))
	}
	if err := m.PutRecordsGroups("nope", []PutEntry{{PartitionKey: "a"}}, &g); !errors.Is(err, ErrStreamNotFound) || len(g.Groups) != 0 {
		t.Fatalf("missing stream: %v", err)
	}
}

// TestStreamPutRecordsGroupsThrottled: with quotas, the throttled records
// of a shard form their own group, after the written ones, in request
// order.
func TestStreamPutRecordsGroupsThrottled(t *testing.T) {
	m, _ := quotaManager(t)
	recs := make([]PutEntry, 1003)
	for i := range recs {
		recs[i] = PutEntry{PartitionKey: "k", ExplicitHashKey: shard0Key, Data: []byte("x")}
	}
	recs[500].ExplicitHashKey = MaxHashKey().String() // shard 1
	var g PutGroups
	mustOK(t, m.PutRecordsGroups("s", recs, &g))
	var ok0, thr, ok1 *PutGroup
	for k := range g.Groups {
		gr := &g.Groups[k]
		switch {
		case gr.Err != nil:
			thr = gr
		case gr.ShardID == "shardId-000000000000":
			ok0 = gr
		default:
			ok1 = gr
		}
	}
	if len(g.Groups) != 3 || ok0 == nil || thr == nil || ok1 == nil {
		t.Fatalf("groups %+v", g.Groups)
	}
	// Shard 0 takes 1000 records a second: 1002 went there, 2 throttled.
	if len(ok0.Indexes) != 1000 || ok0.Indexes[999] != 1000 || len(ok1.Indexes) != 1 || ok1.Indexes[0] != 500 {
		t.Fatalf("written: %d to shard 0 (last %d), shard 1 %v", len(ok0.Indexes), ok0.Indexes[len(ok0.Indexes)-1], ok1.Indexes)
	}
	if thr.ShardID != "shardId-000000000000" || len(thr.Indexes) != 2 || thr.Indexes[0] != 1001 || thr.Indexes[1] != 1002 ||
		!errors.Is(thr.Err, ErrThroughputExceeded) {
		t.Fatalf("throttled group %+v", thr)
	}
}
