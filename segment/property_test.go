package segment

import (
	"bytes"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for arrival times and retention.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

type modelRecord struct {
	ts            int64
	pk, ehk, data []byte
}

// TestSegmentProperty drives random appends, reads by position and by time,
// rollovers, reopenings and retention against an in-memory model.
func TestSegmentProperty(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	ops := 600
	if testing.Short() {
		seeds, ops = seeds[:2], 300
	}
	for _, seed := range seeds {
		t.Run("seed="+itoa(int(seed)), func(t *testing.T) {
			propertyRun(t, seed, ops)
		})
	}
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func propertyRun(t *testing.T, seed uint64, ops int) {
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	geoms := []Geometry{{4, 2}, {1, 0}, {2, 1}, {5, 3}}
	cfg := Config{
		Dirs:           []string{t.TempDir(), t.TempDir()},
		Geometry:       geoms[int(seed)%len(geoms)],
		FragmentBytes:  int64(24<<10 + rng.IntN(40<<10)),
		MaxStripeBytes: 1<<10 + rng.IntN(8<<10),
		MaxRecordBytes: 16 << 10,
		Durability:     Durability(rng.IntN(2)),
		Retention:      time.Hour,
		Now:            clock.Now,
		Logger:         quietLogger,
	}
	if seed%3 == 1 {
		// Growing segments: 4 KiB first, doubling; stripes larger than
		// that get a segment of their size.
		cfg.InitialFragmentBytes = 4 << 10
	}
	l := mustOpen(t, cfg)
	defer func() { l.Close() }()

	var model []modelRecord // index = position
	first := uint64(0)
	var lastTs int64
	deleted, reopens, maxSegs := 0, 0, 0

	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	// syncTrim checks that the log dropped only records past retention,
	// never the newest segment, and moves the model's first record along.
	// Retention runs on demand and at every segment roll.
	syncTrim := func(op int) {
		t.Helper()
		newFirst, end := l.Bounds()
		cutoff := clock.ms.Load() - time.Hour.Milliseconds()
		if newFirst < first || newFirst > end {
			t.Fatalf("op %d: retention moved first from %d to %d (end %d)", op, first, newFirst, end)
		}
		for q := first; q < newFirst; q++ {
			if model[q].ts >= cutoff {
				t.Fatalf("op %d: retention dropped record %d of ts %d, cutoff %d", op, q, model[q].ts, cutoff)
			}
		}
		if segs := l.Segments(); len(model) > 0 && (len(segs) == 0 || segs[len(segs)-1].EndSeq != uint64(len(model))) {
			t.Fatalf("op %d: the newest segment is gone", op)
		}
		if newFirst > first {
			deleted++
		}
		first = newFirst
	}
	checkRead := func(pos uint64, maxRecords, maxBytes int) {
		t.Helper()
		got, next, err := l.Read(pos, maxRecords, maxBytes)
		if err != nil {
			t.Fatalf("Read(%d, %d, %d): %v", pos, maxRecords, maxBytes, err)
		}
		// The model's answer.
		p := max(pos, first)
		var want []uint64
		size := 0
		for q := p; q < uint64(len(model)) && len(want) < maxRecords; q++ {
			if len(want) > 0 && size+len(model[q].data) > maxBytes {
				break
			}
			want = append(want, q)
			size += len(model[q].data)
		}
		if len(got) != len(want) {
			t.Fatalf("Read(%d, %d, %d): got %d records, model %d (first %d, end %d)", pos, maxRecords, maxBytes, len(got), len(want), first, len(model))
		}
		for i, q := range want {
			g, m := got[i], model[q]
			if g.Seq != q || g.Timestamp != m.ts || !bytes.Equal(g.Data, m.data) || !bytes.Equal(g.PartitionKey, m.pk) || !bytes.Equal(g.ExplicitHashKey, m.ehk) {
				t.Fatalf("Read(%d): record %d = {seq %d ts %d, %d bytes}, model {seq %d ts %d, %d bytes}", pos, i, g.Seq, g.Timestamp, len(g.Data), q, m.ts, len(m.data))
			}
		}
		wantNext := p
		if len(want) > 0 {
			wantNext = want[len(want)-1] + 1
		}
		if next != wantNext {
			t.Fatalf("Read(%d): next %d, model %d", pos, next, wantNext)
		}
	}

	for op := 0; op < ops; op++ {
		switch k := rng.IntN(100); {
		case k < 45: // append a batch
			n := 1 + rng.IntN(12)
			batch := make([]Record, n)
			for i := range batch {
				size := rng.IntN(600)
				switch rng.IntN(10) {
				case 0:
					size = rng.IntN(16<<10 - 600)
				case 1:
					size = 0
				}
				batch[i] = Record{PartitionKey: randBytes(1 + rng.IntN(256)), Data: randBytes(size)}
				if rng.IntN(4) == 0 {
					batch[i].ExplicitHashKey = []byte(itoa(rng.IntN(1 << 30)))
				}
			}
			maxSegs = max(maxSegs, len(l.Segments()))
			pos, err := l.Append(batch)
			if err != nil {
				t.Fatalf("op %d: Append: %v", op, err)
			}
			if pos != uint64(len(model)) {
				t.Fatalf("op %d: Append at %d, model %d", op, pos, len(model))
			}
			ts := max(clock.ms.Load(), lastTs)
			lastTs = ts
			for _, r := range batch {
				model = append(model, modelRecord{ts: ts, pk: r.PartitionKey, ehk: r.ExplicitHashKey, data: r.Data})
			}
			syncTrim(op)
		case k < 55:
			clock.advance(time.Duration(rng.IntN(20*60)) * time.Second)
		case k < 80: // read by position
			end := uint64(len(model))
			pos := uint64(rng.IntN(int(end) + 3))
			if rng.IntN(5) == 0 && first > 0 {
				pos = uint64(rng.IntN(int(first) + 1))
			}
			checkRead(pos, 1+rng.IntN(50), 1+rng.IntN(40<<10))
		case k < 90: // read by time
			if len(model) == 0 {
				continue
			}
			lo, hi := model[first].ts-1000, lastTs+1000
			if int(first) >= len(model) {
				lo = lastTs
			}
			at := lo + rng.Int64N(hi-lo+1)
			want := uint64(len(model))
			for q := first; q < uint64(len(model)); q++ {
				if model[q].ts >= at {
					want = q
					break
				}
			}
			if got := l.SeekTime(at); got != want {
				t.Fatalf("op %d: SeekTime(%d) = %d, model %d", op, at, got, want)
			}
		case k < 95: // reopen
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, cfg)
			reopens++
			if rep := l.Recovery(); len(rep.Problems) > 0 || len(rep.Lost) > 0 {
				t.Fatalf("op %d: recovery after clean close: %s", op, rep.String())
			}
			gotFirst, gotEnd := l.Bounds()
			if gotFirst != first || gotEnd != uint64(len(model)) {
				t.Fatalf("op %d: after reopen bounds [%d, %d), model [%d, %d)", op, gotFirst, gotEnd, first, len(model))
			}
		default: // retention
			n, err := l.EnforceRetention()
			if err != nil {
				t.Fatal(err)
			}
			deleted += n
			syncTrim(op)
		}
	}
	checkRead(0, 1<<30, 1<<30)
	// The run must have exercised what it claims to test.
	if deleted == 0 || reopens == 0 || maxSegs < 3 {
		t.Fatalf("weak run: %d segments deleted by retention, %d reopens, at most %d segments", deleted, reopens, maxSegs)
	}
	t.Logf("%d records, %d segments at most, %d deleted by retention, %d reopens", len(model), maxSegs, deleted, reopens)
}
