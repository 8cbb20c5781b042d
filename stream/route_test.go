package stream

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStreamPutRoutesByMD5: one PutRecords call of records with partition
// keys of every length from 1 to 256 characters (one MD5 block and
// several; the partition keys are hashed sixteen at a time, md5x), some
// with an explicit hash key in between, lands every record on the shard
// whose range holds the MD5 of its partition key or its explicit hash key.
func TestStreamPutRoutesByMD5(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	const shards = 16
	mustOK(t, m.CreateStream("s", shards))
	ranges := EvenSplit(shards)
	var entries []PutEntry
	for n := 1; n <= 256; n++ {
		e := PutEntry{PartitionKey: strings.Repeat(fmt.Sprint(n%10), n-1) + "k", Data: []byte{byte(n)}}
		if n%7 == 0 {
			// An explicit hash key overrides the partition key.
			e.ExplicitHashKey = ranges[n%shards].Start.String()
		}
		entries = append(entries, e)
	}
	res, err := m.PutRecords("s", entries)
	if err != nil {
		t.Fatal(err)
	}
	hit := map[string]bool{}
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		k := HashKeyFromPartitionKey(entries[i].PartitionKey)
		if entries[i].ExplicitHashKey != "" {
			k = ranges[(i+1)%shards].Start
		}
		if want := ShardID(SearchRanges(ranges, k)); r.ShardID != want {
			t.Fatalf("record %d (partition key of %d characters, explicit hash key %q) went to %s, want %s",
				i, len(entries[i].PartitionKey), entries[i].ExplicitHashKey, r.ShardID, want)
		}
		hit[r.ShardID] = true
	}
	if len(hit) != shards {
		t.Fatalf("records hit %d shards, want %d", len(hit), shards)
	}
}
