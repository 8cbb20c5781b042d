package segment

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	goleak.VerifyTestMain(m)
}

// testConfig is a small-segment configuration for tests.
func testConfig(t testing.TB, dirs ...string) Config {
	t.Helper()
	if len(dirs) == 0 {
		dirs = []string{t.TempDir()}
	}
	return Config{
		Dirs:           dirs,
		FragmentBytes:  64 << 10,
		MaxStripeBytes: 8 << 10,
		MaxRecordBytes: 32 << 10,
		Durability:     Async,
		Logger:         quietLogger,
	}
}

func mustOpen(t testing.TB, cfg Config) *Log {
	t.Helper()
	l, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func rec(i int, size int) Record {
	data := bytes.Repeat([]byte{byte(i)}, size)
	copy(data, fmt.Sprintf("rec-%d-", i))
	return Record{PartitionKey: []byte(fmt.Sprintf("pk-%d", i)), Data: data}
}

// checkCloseReopen checks that l holds want, closes it, reopens cfg with a
// recovery that finds nothing wrong, checks want again and closes it.
func checkCloseReopen(t *testing.T, l *Log, cfg Config, want []Record) {
	t.Helper()
	checkRecords(t, l, want)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, cfg)
	defer l.Close()
	if rep := l.Recovery(); !rep.OK() {
		t.Fatalf("recovery after a clean close:\n%s", rep.String())
	}
	checkRecords(t, l, want)
}

// appendRecs appends one batch of n records of size bytes, numbered on from
// want, and returns want with them.
func appendRecs(t testing.TB, l *Log, want []Record, n, size int) []Record {
	t.Helper()
	batch := make([]Record, n)
	for i := range batch {
		batch[i] = rec(len(want)+i, size)
	}
	if _, err := l.Append(batch); err != nil {
		t.Fatal(err)
	}
	return append(want, batch...)
}

func readAll(t testing.TB, l *Log, from uint64) []Record {
	t.Helper()
	var out []Record
	_, end := l.Bounds()
	for from < end {
		recs, next, err := l.Read(from, 100, 0)
		if err != nil {
			t.Fatalf("Read(%d): %v", from, err)
		}
		if len(recs) == 0 {
			t.Fatalf("Read(%d) returned nothing before end %d", from, end)
		}
		out = append(out, recs...)
		from = next
	}
	return out
}

func TestSegmentAppendReadReopen(t *testing.T) {
	for _, g := range []Geometry{{4, 2}, {1, 0}, {3, 1}} {
		t.Run(g.String(), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Geometry = g
			l := mustOpen(t, cfg)
			var want []Record
			for i := 0; i < 300; i++ {
				r := rec(i, 1+i*37%3000)
				if i%7 == 0 {
					r.ExplicitHashKey = []byte("12345678901234567890")
				}
				first, err := l.Append([]Record{r})
				if err != nil {
					t.Fatal(err)
				}
				if first != uint64(i) {
					t.Fatalf("first = %d, want %d", first, i)
				}
				want = append(want, r)
			}
			check := func(l *Log) {
				t.Helper()
				got := readAll(t, l, 0)
				if len(got) != len(want) {
					t.Fatalf("read %d records, want %d", len(got), len(want))
				}
				for i := range got {
					if got[i].Seq != uint64(i) || !bytes.Equal(got[i].Data, want[i].Data) ||
						!bytes.Equal(got[i].PartitionKey, want[i].PartitionKey) || !bytes.Equal(got[i].ExplicitHashKey, want[i].ExplicitHashKey) {
						t.Fatalf("record %d differs", i)
					}
				}
			}
			check(l)
			if st := l.Stats(); st.Segments < 2 {
				t.Fatalf("expected rollover, have %d segments", st.Segments)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, Config{Dirs: cfg.Dirs, FragmentBytes: cfg.FragmentBytes, MaxStripeBytes: cfg.MaxStripeBytes, MaxRecordBytes: cfg.MaxRecordBytes})
			defer l.Close()
			if rep := l.Recovery(); !rep.OK() || len(rep.Problems) > 0 {
				t.Fatalf("recovery of a clean log reported: %v", rep.String())
			}
			if l.Geometry() != g {
				t.Fatalf("geometry %v, want %v", l.Geometry(), g)
			}
			check(l)
		})
	}
}

func TestSegmentConcurrentAppends(t *testing.T) {
	type mode struct {
		d Durability
		m SyncMethod
	}
	for _, md := range []mode{{Fsync, SyncFilesystem}, {Fsync, SyncFiles}, {Async, SyncFilesystem}} {
		t.Run(md.d.String()+"/"+md.m.String(), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Durability, cfg.SyncMethod = md.d, md.m
			l := mustOpen(t, cfg)
			defer l.Close()
			const writers, per = 8, 50
			var wg sync.WaitGroup
			firsts := make([][]uint64, writers)
			for w := 0; w < writers; w++ {
				wg.Go(func() {
					for i := 0; i < per; i++ {
						batch := []Record{rec(w*1000+i, 100), rec(w*1000+i, 200)}
						first, err := l.Append(batch)
						if err != nil {
							t.Error(err)
							return
						}
						firsts[w] = append(firsts[w], first)
					}
				})
			}
			wg.Wait()
			got := readAll(t, l, 0)
			if len(got) != writers*per*2 {
				t.Fatalf("read %d, want %d", len(got), writers*per*2)
			}
			for w := range firsts {
				for i, f := range firsts[w] {
					want := rec(w*1000+i, 100)
					if !bytes.Equal(got[f].Data, want.Data) || !bytes.Equal(got[f+1].Data, rec(w*1000+i, 200).Data) {
						t.Fatalf("writer %d append %d at %d: wrong records", w, i, f)
					}
				}
			}
		})
	}
}

func TestSegmentWaitNotify(t *testing.T) {
	l := mustOpen(t, testConfig(t))
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		done <- l.Wait(ctx, 0)
	}()
	time.Sleep(10 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Wait returned before any append: %v", err)
	default:
	}
	if _, err := l.Append([]Record{rec(1, 10)}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func TestSegmentErrors(t *testing.T) {
	cfg := testConfig(t)
	l := mustOpen(t, cfg)
	if _, err := l.Append([]Record{{Data: make([]byte, 40<<10)}}); err == nil {
		t.Fatal("oversized record accepted")
	}
	if _, err := l.Append(nil); err == nil {
		t.Fatal("empty append accepted")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]Record{rec(1, 1)}); err != ErrClosed {
		t.Fatalf("append after close: %v", err)
	}
	_ = filepath.Join
}
