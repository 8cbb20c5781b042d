package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// waitSpare waits until the spare being prepared, if any, is ready, and
// tells whether there is one.
func waitSpare(l *Log) bool {
	l.flushMu.Lock()
	sp := l.spare
	l.flushMu.Unlock()
	if sp != nil {
		<-sp.done
	}
	return sp != nil
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

// spareFiles lists the next.JJ.tmp files in dirs.
func spareFiles(t *testing.T, dirs []string) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		m, err := filepath.Glob(filepath.Join(d, "next.*.tmp"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	return out
}

// TestSegmentSpare: once the newest segment is half full, the next
// segment's fragment files are prepared as next.JJ.tmp, each in the
// directory its fragment belongs in, and the roll adopts those very files
// (same inodes) as the new segment's. Close removes a spare that no roll
// took; Open removes the leftovers of a crash, a read-only open leaves
// them; every record reads back before and after the reopen.
func TestSegmentSpare(t *testing.T) {
	for _, d := range []Durability{Async, Fsync} {
		t.Run(d.String(), func(t *testing.T) {
			dirs := []string{t.TempDir(), t.TempDir()}
			cfg := testConfig(t, dirs...)
			cfg.Durability = d
			l := mustOpen(t, cfg)
			var want []Record
			var spareInodes []uint64 // of the spare ready before the last append
			adopted := 0
			segs := func() []*segment {
				l.state.RLock()
				defer l.state.RUnlock()
				return append([]*segment(nil), l.segs...)
			}
			for b := 0; b < 2000 && adopted < 4; b++ {
				before := len(segs())
				batch := []Record{rec(len(want), 900), rec(len(want)+1, 1100), rec(len(want)+2, 700)}
				if _, err := l.Append(batch); err != nil {
					t.Fatal(err)
				}
				want = append(want, batch...)
				now := segs()
				if len(now) > before && spareInodes != nil {
					s := now[len(now)-1]
					for j := range s.frags {
						if got := inode(t, fragmentPath(dirs, s.baseSeq, j)); got != spareInodes[j] {
							t.Fatalf("segment %s fragment %d: inode %d, want the spare's %d", s.name(), j, got, spareInodes[j])
						}
					}
					adopted++
					spareInodes = nil
				}
				if len(now) > before {
					if files := spareFiles(t, dirs); len(files) != 0 {
						t.Fatalf("after the roll to segment %s the spare is still there: %v", now[len(now)-1].name(), files)
					}
				}
				if waitSpare(l) && spareInodes == nil {
					cur := now[len(now)-1]
					if 2*cur.writeOff < cur.size {
						t.Fatalf("spare prepared at %d of %d bytes, before the segment is half full", cur.writeOff, cur.size)
					}
					spareInodes = make([]uint64, l.n)
					for j := range spareInodes {
						p := filepath.Join(dirs[j%len(dirs)], fmt.Sprintf("next.%02d.tmp", j))
						spareInodes[j] = inode(t, p)
					}
				}
			}
			if adopted < 3 {
				t.Fatalf("%d rolls adopted a spare, want at least 3", adopted)
			}
			// Close with a spare that no roll took.
			for !waitSpare(l) {
				r := rec(len(want), 1000)
				if _, err := l.Append([]Record{r}); err != nil {
					t.Fatal(err)
				}
				want = append(want, r)
			}
			checkRecords(t, l, want)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if files := spareFiles(t, dirs); len(files) != 0 {
				t.Fatalf("spare files after Close: %v", files)
			}
			// A crash's leftovers: a spare with no header, one half written.
			left := []string{filepath.Join(dirs[0], "next.00.tmp"), filepath.Join(dirs[1], "next.05.tmp")}
			for _, p := range left {
				if err := os.WriteFile(p, []byte("not a fragment"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ro := cfg
			ro.ReadOnly = true
			rl := mustOpen(t, ro)
			checkRecords(t, rl, want)
			rl.Close()
			if files := spareFiles(t, dirs); len(files) != len(left) {
				t.Fatalf("a read-only open changed the spare files: %v", files)
			}
			l = mustOpen(t, cfg)
			defer l.Close()
			if files := spareFiles(t, dirs); len(files) != 0 {
				t.Fatalf("spare files left by a crash survive Open: %v", files)
			}
			if rep := l.Recovery(); !rep.OK() {
				t.Fatalf("recovery after a clean close:\n%s", rep.String())
			}
			checkRecords(t, l, want)
		})
	}
}

// dirBytes is the size of the files in dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

// TestSegmentSpareFullSizeOnly: a log still in its small first segments
// (InitialFragmentBytes, doubling) gets no spare; one whose segments have
// reached FragmentBytes does, once the newest is half full.
func TestSegmentSpareFullSizeOnly(t *testing.T) {
	cfg := testConfig(t)
	cfg.FragmentBytes = 256 << 10
	cfg.InitialFragmentBytes = 32 << 10
	l := mustOpen(t, cfg)
	defer l.Close()
	var want []Record
	for i := 0; i < 5000; i++ {
		r := rec(i, 1000)
		if _, err := l.Append([]Record{r}); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
		had := waitSpare(l)
		l.state.RLock()
		cur := l.segs[len(l.segs)-1]
		l.state.RUnlock()
		if cur.size < cfg.FragmentBytes && had {
			t.Fatalf("a spare while the newest segment has %d-byte fragments, under the full %d", cur.size, cfg.FragmentBytes)
		}
		if had {
			if len(spareFiles(t, cfg.Dirs)) != l.n {
				t.Fatalf("spare files: %v", spareFiles(t, cfg.Dirs))
			}
			checkRecords(t, l, want)
			return
		}
	}
	t.Fatal("no spare once the segments reached full size")
}
