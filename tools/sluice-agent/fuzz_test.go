package main

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeCheckpoint: any bytes either decode to a checkpoint that
// encodes back to the same bytes, or give errCheckpointCorrupt; never a
// panic or a huge allocation.
func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(appendCheckpoint(nil, &checkpoint{NextBatch: 1}))
	f.Add(appendCheckpoint(nil, &checkpoint{
		ProducerID: [16]byte{9},
		NextBatch:  7,
		Files:      []fileState{{Dev: 1, Ino: 2, FPLen: 3, FPHash: 4, Offset: 5, Order: 6, Retired: true, Key: "k", Path: "p"}},
		Tails:      []shardTail{{Shard: "shardId-000000000001", Seq: "123"}},
		Intent:     &intent{BatchID: 6, Dev: 1, Ino: 2, Start: 0, End: 5, TimeMS: 1, Records: []record{{PartitionKey: "k#00.6.0", ExplicitHashKey: "1", Data: []byte("line")}}},
	}))
	f.Add([]byte("SLAGCKPT"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCheckpoint(b)
		if err != nil {
			if !errors.Is(err, errCheckpointCorrupt) {
				t.Fatalf("error %v does not wrap errCheckpointCorrupt", err)
			}
			return
		}
		if again := appendCheckpoint(nil, c); !bytes.Equal(again, b) {
			t.Fatalf("decoded checkpoint encodes to other bytes:\n got %x\nwant %x", again, b)
		}
	})
}
