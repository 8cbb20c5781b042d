package segment

import (
	"testing"
	"time"
)

// TestAppendTimedMatchesRead checks that AppendTimed returns the arrival
// time Read reports for every record of the append, across stripes and a
// segment roll, and that LastTimestamp follows the newest record, also
// after reopening.
func TestAppendTimedMatchesRead(t *testing.T) {
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	cfg := testConfig(t)
	cfg.Now = clock.Now
	l := mustOpen(t, cfg)
	if got := l.LastTimestamp(); got != 0 {
		t.Fatalf("LastTimestamp of an empty log = %d, want 0", got)
	}
	type appended struct {
		first uint64
		n     int
		ts    int64
	}
	var all []appended
	for i := 0; i < 40; i++ {
		batch := make([]Record, 1+i%7)
		for j := range batch {
			batch[j] = rec(i*10+j, 900+i*37%3000) // several stripes per append sometimes
		}
		first, ts, err := l.AppendTimed(batch)
		if err != nil {
			t.Fatal(err)
		}
		if want := clock.Now().UnixMilli(); ts != want {
			t.Fatalf("append %d: ts %d, want the clock's %d", i, ts, want)
		}
		all = append(all, appended{first, len(batch), ts})
		if got := l.LastTimestamp(); got != ts {
			t.Fatalf("after append %d: LastTimestamp %d, want %d", i, got, ts)
		}
		clock.advance(time.Duration(1+i%3) * time.Second)
	}
	if len(l.Segments()) < 2 {
		t.Fatalf("the test wanted a segment roll; got %d segment(s)", len(l.Segments()))
	}
	for _, a := range all {
		got, _, err := l.Read(a.first, a.n, 1<<20)
		if err != nil || len(got) != a.n {
			t.Fatalf("Read(%d, %d): %d records, %v", a.first, a.n, len(got), err)
		}
		for _, r := range got {
			if r.Timestamp != a.ts {
				t.Fatalf("record %d: Read timestamp %d, AppendTimed said %d", r.Seq, r.Timestamp, a.ts)
			}
		}
	}
	last := all[len(all)-1].ts
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, cfg)
	defer l.Close()
	if got := l.LastTimestamp(); got != last {
		t.Fatalf("after reopening: LastTimestamp %d, want %d", got, last)
	}
}
