package stream

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func putN(t *testing.T, m *Manager, name string, from, n int) []string {
	t.Helper()
	var seqs []string
	for i := from; i < from+n; i++ {
		res, err := m.PutRecords(name, []PutEntry{{PartitionKey: "k", Data: []byte("r" + strconv.Itoa(i))}})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		seqs = append(seqs, res[0].SequenceNumber)
	}
	return seqs
}

func TestStreamFollowShardResume(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	id := ShardID(0)
	f, err := m.FollowShard("s", id, FollowPosition{Type: IterTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	// Empty shard: a continuation that resumes at record 0.
	b, err := f.Next(10, 0)
	if err != nil || len(b.Records) != 0 || b.Continuation == "" || b.ShardEnd {
		t.Fatalf("empty shard: %+v, %v", b, err)
	}
	ch := f.Notify()
	seqs := putN(t, m, "s", 0, 5)
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no commit notification")
	}
	// Resuming from the empty-shard continuation gets record 0.
	g, err := m.FollowShard("s", id, FollowPosition{Type: IterAfterSequenceNumber, SequenceNumber: b.Continuation})
	if err != nil {
		t.Fatal(err)
	}
	if gb, _ := g.Next(1, 0); len(gb.Records) != 1 || gb.Records[0].SequenceNumber != seqs[0] {
		t.Fatalf("resume from the sentinel: %+v, want record 0 %s", gb.Records, seqs[0])
	}
	b, err = f.Next(2, 0)
	if err != nil || len(b.Records) != 2 || b.Records[0].SequenceNumber != seqs[0] || b.Continuation != seqs[1] {
		t.Fatalf("first two: %+v, %v", b, err)
	}
	// Resume after the continuation: records 2.. without gap or duplicate.
	g, err = m.FollowShard("s", id, FollowPosition{Type: IterAfterSequenceNumber, SequenceNumber: b.Continuation})
	if err != nil {
		t.Fatal(err)
	}
	gb, err := g.Next(100, 0)
	if err != nil || len(gb.Records) != 3 || gb.Records[0].SequenceNumber != seqs[2] || string(gb.Records[2].Data) != "r4" {
		t.Fatalf("resume: %+v, %v", gb, err)
	}
	// LATEST: nothing yet, continuation = the last record, so a resume
	// from it gets exactly what comes next.
	l, err := m.FollowShard("s", id, FollowPosition{Type: IterLatest})
	if err != nil {
		t.Fatal(err)
	}
	if l.Continuation() != seqs[4] {
		t.Fatalf("LATEST continuation %s, want %s", l.Continuation(), seqs[4])
	}
	at, err := m.FollowShard("s", id, FollowPosition{Type: IterAtSequenceNumber, SequenceNumber: seqs[3]})
	if err != nil {
		t.Fatal(err)
	}
	if ab, _ := at.Next(100, 0); len(ab.Records) != 2 || ab.Records[0].SequenceNumber != seqs[3] {
		t.Fatalf("AT_SEQUENCE_NUMBER: %+v", ab.Records)
	}
	// Errors come from GetShardIterator's validation.
	var ae *ArgumentError
	if _, err := m.FollowShard("s", id, FollowPosition{Type: "BOGUS"}); !errors.As(err, &ae) {
		t.Fatalf("bad type: %v", err)
	}
	if _, err := m.FollowShard("s", "shardId-000000000009", FollowPosition{Type: IterLatest}); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("bad shard: %v", err)
	}
	if err := m.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(10, 0); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
