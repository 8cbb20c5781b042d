package segment

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// TestSegmentGroupCommit: concurrent appends in Fsync mode share stripes
// and syncs, and a linger gathers appends that arrive within it.
func TestSegmentGroupCommit(t *testing.T) {
	t.Run("fsync", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Durability = Fsync
		cfg.MaxStripeBytes = 64 << 10
		l := mustOpen(t, cfg)
		defer l.Close()
		const writers, per = 8, 40
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Go(func() {
				for i := 0; i < per; i++ {
					if _, err := l.Append([]Record{rec(i, 200)}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		st := l.Stats()
		if st.Records != writers*per {
			t.Fatalf("%d records committed, want %d", st.Records, writers*per)
		}
		if st.Flushes >= writers*per {
			t.Fatalf("%d flushes for %d concurrent appends: no group commit", st.Flushes, writers*per)
		}
	})
	t.Run("linger", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Linger = 200 * time.Millisecond
		l := mustOpen(t, cfg)
		defer l.Close()
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < 10; w++ {
			wg.Go(func() {
				if _, err := l.Append([]Record{rec(w, 100)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if st := l.Stats(); st.Flushes > 2 {
			t.Fatalf("%d flushes for 10 appends within one linger", st.Flushes)
		}
		if time.Since(start) < 150*time.Millisecond {
			t.Fatal("appends were acknowledged before the linger elapsed")
		}
	})
	t.Run("size", func(t *testing.T) {
		// A full stripe does not wait for the linger.
		cfg := testConfig(t)
		cfg.Linger = 10 * time.Second
		l := mustOpen(t, cfg)
		defer l.Close()
		done := make(chan error, 1)
		go func() {
			_, err := l.Append([]Record{rec(1, cfg.MaxStripeBytes)})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a full stripe waited for the linger")
		}
	})
}

// TestSegmentAppendAsync: the callback gets the position and is called
// once the records are readable.
func TestSegmentAppendAsync(t *testing.T) {
	l := mustOpen(t, testConfig(t))
	defer l.Close()
	type result struct {
		first uint64
		err   error
	}
	results := make(chan result, 20)
	for i := 0; i < 20; i++ {
		l.AppendAsync([]Record{rec(i, 50), rec(i, 60)}, func(first uint64, err error) {
			if err == nil {
				if _, end := l.Bounds(); end < first+2 {
					err = errAsyncNotVisible
				}
			}
			results <- result{first, err}
		})
	}
	seen := map[uint64]bool{}
	for i := 0; i < 20; i++ {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.first%2 != 0 || seen[r.first] {
			t.Fatalf("bad first position %d", r.first)
		}
		seen[r.first] = true
	}
	l.AppendAsync(nil, func(_ uint64, err error) { results <- result{err: err} })
	if r := <-results; r.err == nil {
		t.Fatal("empty async append accepted")
	}
}

var errAsyncNotVisible = errorString("records not visible when their callback ran")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestSegmentAppendStart: appends queued with AppendStart and waited for
// later, from many goroutines at once beside AppendAsync (so that some
// commits run inline in an appender and some on the writer goroutines, and
// segments roll), each get their own consecutive positions and the arrival
// time Read reports, and every record reads back at its position.
func TestSegmentAppendStart(t *testing.T) {
	for _, d := range []Durability{Async, Fsync} {
		t.Run(d.String(), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Durability = d
			l := mustOpen(t, cfg)
			defer l.Close()
			const writers, per = 6, 60
			type got struct {
				first uint64
				ts    int64
				id    int
			}
			results := make(chan got, 2*writers*per)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range per {
						id := w*per + i
						recs := []Record{rec(id, 100+id%300), rec(id, 50)}
						if w == 0 {
							done := make(chan struct{})
							l.AppendAsync(recs, func(first uint64, err error) {
								if err != nil {
									t.Error(err)
								}
								results <- got{first: first, ts: -1, id: id}
								close(done)
							})
							<-done
							continue
						}
						p := l.AppendStart(recs)
						if i%3 == 0 {
							// Queue a second one before waiting for the first.
							id2 := id + 100000
							p2 := l.AppendStart([]Record{rec(id2, 70), rec(id2, 50)})
							first, ts, err := p2.Wait()
							if err != nil {
								t.Error(err)
								return
							}
							results <- got{first, ts, id2}
						}
						first, ts, err := p.Wait()
						if err != nil {
							t.Error(err)
							return
						}
						results <- got{first, ts, id}
					}
				})
			}
			wg.Wait()
			close(results)
			all := readAll(t, l, 0)
			seen := map[uint64]bool{}
			n := 0
			for r := range results {
				n++
				if seen[r.first] || r.first+1 >= uint64(len(all)) {
					t.Fatalf("append %d: position %d reused or beyond the %d records read", r.id, r.first, len(all))
				}
				seen[r.first] = true
				a, b := all[r.first], all[r.first+1]
				want := rec(r.id, 50)
				if string(b.Data) != string(want.Data) || string(a.PartitionKey) != string(want.PartitionKey) {
					t.Fatalf("append %d: records at %d are %q/%q", r.id, r.first, a.PartitionKey, b.PartitionKey)
				}
				if r.ts >= 0 && (a.Timestamp != r.ts || b.Timestamp != r.ts) {
					t.Fatalf("append %d: Wait said arrival %d, Read says %d and %d", r.id, r.ts, a.Timestamp, b.Timestamp)
				}
			}
			if 2*n != len(all) {
				t.Fatalf("%d appends of 2 records, %d records read", n, len(all))
			}
		})
	}
}

// TestSegmentParallelWrite: group commits large enough to be coded, hashed
// and written by several goroutines (fragTasks: the flusher, a helper and
// waiting appenders), in both modes, one stripe or many per commit, keep
// every record, and every chunk and header verifies on reopen.
func TestSegmentParallelWrite(t *testing.T) {
	for _, d := range []Durability{Async, Fsync} {
		for _, stripe := range []int{64 << 10, 1 << 20} {
			t.Run(fmt.Sprintf("%s/stripe=%d", d, stripe), func(t *testing.T) {
				dir := t.TempDir()
				cfg := testConfig(t, dir)
				cfg.Durability = d
				cfg.FragmentBytes = 4 << 20
				cfg.MaxStripeBytes = stripe
				l := mustOpen(t, cfg)
				const writers, per, batch = 8, 12, 100
				var mu sync.Mutex
				appended := map[uint64][]Record{}
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						for i := range per {
							recs := make([]Record, batch)
							for j := range recs {
								recs[j] = rec(w*1000000+i*batch+j, 1000+(w+j)%48)
							}
							first, err := l.Append(recs)
							if err != nil {
								t.Error(err)
								return
							}
							got, _, err := l.Read(first, batch, 0)
							if err != nil || len(got) != batch {
								t.Errorf("read back at %d: %d records, %v", first, len(got), err)
								return
							}
							for j := range got {
								if !bytes.Equal(got[j].Data, recs[j].Data) {
									t.Errorf("record %d of the append at %d differs", j, first)
									return
								}
							}
							mu.Lock()
							appended[first] = recs
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				if l.parallelWrites.Load() == 0 {
					t.Fatal("no group commit went through the parallel write")
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = mustOpen(t, cfg)
				if rep := l.Recovery(); !rep.OK() || rep.Records != writers*per*batch {
					t.Fatalf("reopen: %d records, report:\n%s", rep.Records, rep.String())
				}
				// The parity is right too: with two data fragments of
				// every segment gone, every record is rebuilt.
				segs := l.Segments()
				l.Close()
				for _, sg := range segs {
					for _, path := range sg.Files[:2] {
						if err := os.Remove(path); err != nil {
							t.Fatal(err)
						}
					}
				}
				rcfg := cfg
				rcfg.ReadOnly = true
				l = mustOpen(t, rcfg)
				defer l.Close()
				for first, recs := range appended {
					got, _, err := l.Read(first, batch, 0)
					if err != nil || len(got) != batch {
						t.Fatalf("rebuilt read at %d: %d records, %v", first, len(got), err)
					}
					for j := range got {
						if !bytes.Equal(got[j].Data, recs[j].Data) {
							t.Fatalf("rebuilt record %d of the append at %d differs", j, first)
						}
					}
				}
			})
		}
	}
}
