package segment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// faultFixture writes a 4+2 log of several segments and closes it. It
// returns the directory, the records and the per-segment used size.
func faultFixture(t *testing.T) (string, []Record) {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	l := mustOpen(t, cfg)
	var want []Record
	for i := 0; i < 400; i++ {
		r := rec(i, 1+(i*97)%2500)
		if _, err := l.Append([]Record{r}); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	if n := len(l.Segments()); n < 3 {
		t.Fatalf("fixture has %d segments, want several", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// fixtureCopy copies the fixture log in src, as closed cleanly or not
// (without the clean marker), and returns the copy and its newest segment.
func fixtureCopy(t *testing.T, src string, clean bool) (string, SegmentInfo) {
	t.Helper()
	dir := copyDir(t, src)
	if !clean {
		if err := os.Remove(filepath.Join(dir, cleanMarker)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(t, dir)
	cfg.ReadOnly = true
	ro := mustOpen(t, cfg)
	segs := ro.Segments()
	ro.Close()
	return dir, segs[len(segs)-1]
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dst
}

// segmentFiles returns the fragment files of each segment, by base.
func segmentFiles(t *testing.T, dir string) [][]string {
	t.Helper()
	bases, err := listSegments([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, b := range bases {
		var files []string
		for j := 0; j < 6; j++ {
			files = append(files, fragmentPath([]string{dir}, b, j))
		}
		out = append(out, files)
	}
	return out
}

func checkRecords(t *testing.T, l *Log, want []Record) {
	t.Helper()
	got := readAll(t, l, 0)
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, want[i].Data) || !bytes.Equal(got[i].PartitionKey, want[i].PartitionKey) {
			t.Fatalf("record %d differs", i)
		}
	}
}

type damage func(t *testing.T, path string, rng *rand.Rand)

var damages = map[string]damage{
	"delete": func(t *testing.T, path string, _ *rand.Rand) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	},
	"truncate": func(t *testing.T, path string, rng *rand.Rand) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// Somewhere inside the written part, sometimes inside the header.
		size := []int64{0, 10, fileHeaderSize + 50, st.Size() / 4, st.Size() / 2}[rng.IntN(5)]
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
	},
	"corrupt": func(t *testing.T, path string, rng *rand.Rand) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// Overwrite bytes in the file header, a stripe header and bodies.
		for _, off := range []int64{int64(rng.IntN(fileHeaderSize)), fileHeaderSize + 3, fileHeaderSize + 200 + int64(rng.IntN(4000))} {
			if _, err := f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef}, off); err != nil {
				t.Fatal(err)
			}
		}
	},
}

// TestSegmentFaultTwoFragments damages any 2 fragment files of every
// segment, the one being written included: nothing is lost, read-only
// recovery reports it, repair fixes it.
func TestSegmentFaultTwoFragments(t *testing.T) {
	src, want := faultFixture(t)
	names := make([]string, 0, len(damages))
	for n := range damages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for a := 0; a < 6; a++ {
			for b := a + 1; b < 6; b++ {
				if testing.Short() && (a+b)%3 != 0 {
					continue
				}
				t.Run(fmt.Sprintf("%s/fragments=%d,%d", name, a, b), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(a), uint64(b)))
					dir := copyDir(t, src)
					for _, files := range segmentFiles(t, dir) {
						damages[name](t, files[a], rng)
						damages[name](t, files[b], rng)
					}
					// Read-only: every record still reads, the damage is reported.
					cfg := testConfig(t, dir)
					cfg.ReadOnly = true
					ro := mustOpen(t, cfg)
					rep := ro.Recovery()
					checkRecords(t, ro, want)
					ro.Close()
					if rep.OK() || len(rep.Lost) > 0 {
						t.Fatalf("read-only recovery: ok=%v lost=%v\n%s", rep.OK(), rep.Lost, rep.String())
					}
					for _, files := range segmentFiles(t, dir) {
						for _, j := range []int{a, b} {
							if !strings.Contains(rep.String(), files[j]) {
								t.Fatalf("report does not name %s:\n%s", files[j], rep.String())
							}
						}
					}
					// Open repairs; a scrub afterwards finds nothing.
					rw := mustOpen(t, testConfig(t, dir))
					if rep := rw.Recovery(); !rep.OK() {
						t.Fatalf("repairing recovery left problems:\n%s", rep.String())
					}
					scrub, err := rw.Scrub(false)
					if err != nil || !scrub.OK() || len(scrub.Problems) > 0 {
						t.Fatalf("scrub after repair: %v\n%s", err, scrub.String())
					}
					checkRecords(t, rw, want)
					// And the log still takes appends.
					if _, err := rw.Append([]Record{rec(9999, 100)}); err != nil {
						t.Fatal(err)
					}
					rw.Close()
				})
			}
		}
	}
}

// TestSegmentFaultThreeFragments loses 3 of 6 fragment files of one
// segment: reads and verification fail naming the segment and the records,
// never wrong bytes; other segments still read.
func TestSegmentFaultThreeFragments(t *testing.T) {
	src, want := faultFixture(t)
	for _, which := range []string{"middle", "last"} {
		t.Run(which, func(t *testing.T) {
			dir := copyDir(t, src)
			segs := segmentFiles(t, dir)
			victim := 1
			if which == "last" {
				victim = len(segs) - 1
			}
			for _, j := range []int{0, 2, 5} {
				if err := os.Remove(segs[victim][j]); err != nil {
					t.Fatal(err)
				}
			}
			segName := filepath.Base(segs[victim][0])[:20]
			// Read-only, then repairing, then again: a repaired log must
			// still report the loss and never cut it as a torn write.
			for _, readOnly := range []bool{true, false, false} {
				cfg := testConfig(t, dir)
				cfg.ReadOnly = readOnly
				l := mustOpen(t, cfg)
				rep := l.Recovery()
				if rep.OK() || len(rep.Lost) == 0 {
					t.Fatalf("recovery did not report lost records:\n%s", rep.String())
				}
				if _, end := l.Bounds(); end != uint64(len(want)) {
					t.Fatalf("log ends at %d after recovery, want %d", end, len(want))
				}
				lost := rep.Lost[0]
				if lost.Segment != segName || lost.FirstSeq > lost.LastSeq {
					t.Fatalf("lost range %v does not name segment %s", lost, segName)
				}
				// Read everything: records outside the lost range are right,
				// the lost range is an error naming it.
				var got []Record
				var corrupt *CorruptionError
				for pos, end := uint64(0), uint64(len(want)); pos < end; {
					recs, next, err := l.Read(pos, 50, 0)
					if err != nil {
						if !errors.As(err, &corrupt) || !IsCorruption(err) {
							t.Fatalf("Read(%d): %v, want a CorruptionError", pos, err)
						}
						if corrupt.Segment != segName || corrupt.FirstSeq != pos || corrupt.LastSeq < pos {
							t.Fatalf("Read(%d): error %v does not name segment %s and the records", pos, err, segName)
						}
						if !strings.Contains(err.Error(), segName) {
							t.Fatalf("error text %q does not name the segment", err)
						}
						pos = corrupt.LastSeq + 1
						continue
					}
					got = append(got, recs...)
					pos = next
				}
				if corrupt == nil {
					t.Fatal("no read failed although 3 fragments are gone")
				}
				for _, r := range got {
					if r.Seq >= lost.FirstSeq && r.Seq <= lost.LastSeq {
						t.Fatalf("record %d of the lost range was served", r.Seq)
					}
					if !bytes.Equal(r.Data, want[r.Seq].Data) {
						t.Fatalf("record %d has wrong bytes", r.Seq)
					}
				}
				if len(got) == 0 {
					t.Fatal("no record outside the lost segment was readable")
				}
				scrub, err := l.Scrub(false)
				if err != nil || scrub.OK() || len(scrub.Lost) == 0 {
					t.Fatalf("scrub did not report the loss: %v\n%s", err, scrub.String())
				}
				l.Close()
			}
		})
	}
}

// TestSegmentFaultBitFlip flips one bit anywhere in any fragment file,
// written part or not: verification catches it and repair fixes it.
func TestSegmentFaultBitFlip(t *testing.T) {
	src, want := faultFixture(t)
	rng := rand.New(rand.NewPCG(7, 11))
	files := segmentFiles(t, src)
	cases := 60
	if testing.Short() {
		cases = 15
	}
	for c := 0; c < cases; c++ {
		seg := rng.IntN(len(files))
		j := rng.IntN(6)
		st, err := os.Stat(files[seg][j])
		if err != nil {
			t.Fatal(err)
		}
		// Mostly inside the written part, sometimes in the preallocated rest.
		limit := st.Size()
		if rng.IntN(4) != 0 {
			limit = min(limit, 20<<10)
		}
		off := rng.Int64N(limit)
		bit := byte(1) << rng.IntN(8)
		t.Run(fmt.Sprintf("seg=%d/frag=%d/off=%d", seg, j, off), func(t *testing.T) {
			dir := copyDir(t, src)
			path := segmentFiles(t, dir)[seg][j]
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			b := []byte{0}
			if _, err := f.ReadAt(b, off); err != nil {
				t.Fatal(err)
			}
			b[0] ^= bit
			if _, err := f.WriteAt(b, off); err != nil {
				t.Fatal(err)
			}
			f.Close()
			cfg := testConfig(t, dir)
			cfg.ReadOnly = true
			ro := mustOpen(t, cfg)
			rep := ro.Recovery()
			checkRecords(t, ro, want)
			ro.Close()
			if rep.OK() {
				t.Fatalf("flipped bit at %s:%d not caught", path, off)
			}
			rw := mustOpen(t, testConfig(t, dir))
			defer rw.Close()
			scrub, err := rw.Scrub(false)
			if err != nil || len(scrub.Problems) > 0 || !scrub.OK() {
				t.Fatalf("after repair: %v\n%s", err, scrub.String())
			}
			checkRecords(t, rw, want)
		})
	}
}

// TestSegmentFaultNotTorn: damage to more than Parity chunks of the newest
// stripes is reported as lost, never cut as a torn write, whether the log
// was closed cleanly or not (then the damage does not look like an
// interrupted write).
func TestSegmentFaultNotTorn(t *testing.T) {
	src, want := faultFixture(t)
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprintf("clean=%v", clean), func(t *testing.T) {
			dir, last := fixtureCopy(t, src, clean)
			for _, j := range []int{0, 1, 2} {
				f, err := os.OpenFile(last.Files[j], os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteAt([]byte{1, 2, 3, 4}, last.UsedBytes-8); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			for _, readOnly := range []bool{true, false} {
				cfg := testConfig(t, dir)
				cfg.ReadOnly = readOnly
				l := mustOpen(t, cfg)
				rep := l.Recovery()
				_, end := l.Bounds()
				l.Close()
				if rep.OK() || len(rep.Lost) == 0 || end != uint64(len(want)) {
					t.Fatalf("read-only=%v: damaged newest stripe not reported as lost (end %d, want %d):\n%s", readOnly, end, len(want), rep.String())
				}
				for _, p := range rep.Problems {
					if p.Kind == ProblemTornTail {
						t.Fatalf("damage taken for a torn write: %s", p)
					}
				}
			}
		})
	}
}

// TestSegmentScrubReportsMissingSegment: a segment whose files are all gone
// is reported by recovery and by Scrub, named after the missing segment.
func TestSegmentScrubReportsMissingSegment(t *testing.T) {
	src, _ := faultFixture(t)
	dir := copyDir(t, src)
	files := segmentFiles(t, dir)
	for _, f := range files[1] {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	name := filepath.Base(files[1][0])[:20]
	l := mustOpen(t, testConfig(t, dir))
	defer l.Close()
	for _, rep := range []Report{l.Recovery(), mustScrub(t, l)} {
		if rep.OK() || len(rep.Lost) != 1 || rep.Lost[0].Segment != name {
			t.Fatalf("missing segment %s not reported:\n%s", name, rep.String())
		}
	}
}

func mustScrub(t *testing.T, l *Log) Report {
	t.Helper()
	rep, err := l.Scrub(false)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSegmentFaultWhileOpen damages 2 fragment files of every segment while
// the log is open and being written: reads keep returning every record
// (rebuilt from parity, a truncation under the mapping included), and the
// next Open repairs the files.
func TestSegmentFaultWhileOpen(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	l := mustOpen(t, cfg)
	var want []Record
	appendSome := func(n int) {
		for i := 0; i < n; i++ {
			r := rec(len(want), 1+(len(want)*97)%2500)
			if _, err := l.Append([]Record{r}); err != nil {
				t.Fatal(err)
			}
			want = append(want, r)
		}
	}
	appendSome(300)
	for _, files := range segmentFiles(t, dir) {
		if err := os.Remove(files[1]); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(files[4], fileHeaderSize+100); err != nil {
			t.Fatal(err)
		}
	}
	checkRecords(t, l, want)
	// The segment being written takes more appends and still reads back.
	appendSome(50)
	checkRecords(t, l, want)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, testConfig(t, dir))
	defer l.Close()
	if rep := l.Recovery(); !rep.OK() || len(rep.Problems) == 0 {
		t.Fatalf("recovery did not find and repair the damage:\n%s", rep.String())
	}
	if rep := mustScrub(t, l); len(rep.Problems) > 0 {
		t.Fatalf("problems left after repair:\n%s", rep.String())
	}
	checkRecords(t, l, want)
}

// TestSegmentHeaderlessTail: in Async mode a large group commit's chunks
// are written behind zero headers and the headers last (writeJob). After
// an unclean stop in between, recovery cuts the chunks off as a torn tail,
// not as damage, and the log goes on; after a clean close the same bytes
// are damage.
func TestSegmentHeaderlessTail(t *testing.T) {
	src, want := faultFixture(t)
	for _, clean := range []bool{false, true} {
		t.Run(fmt.Sprintf("clean=%v", clean), func(t *testing.T) {
			dir, last := fixtureCopy(t, src, clean)
			body := bytes.Repeat([]byte{0xa5}, 3000)
			for _, path := range last.Files {
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteAt(body, last.UsedBytes+int64(stripeHeaderSize(6))); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			l := mustOpen(t, testConfig(t, dir))
			rep := l.Recovery()
			kinds := map[string]int{}
			for _, p := range rep.Problems {
				kinds[p.Kind]++
			}
			if _, end := l.Bounds(); end != uint64(len(want)) || len(rep.Lost) > 0 {
				t.Fatalf("end %d, want %d; lost %v", end, len(want), rep.Lost)
			}
			if clean {
				if kinds[ProblemGarbage] != 6 || kinds[ProblemTornTail] != 0 {
					t.Fatalf("after a clean close, bytes past the end are damage, got:\n%s", rep.String())
				}
			} else if kinds[ProblemGarbage] != 0 || kinds[ProblemTornTail] != 1 {
				t.Fatalf("headerless chunks not cut as a torn tail:\n%s", rep.String())
			}
			r := rec(len(want), 500)
			if _, err := l.Append([]Record{r}); err != nil {
				t.Fatal(err)
			}
			checkRecords(t, l, append(slices.Clone(want), r))
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, testConfig(t, dir))
			if rep := l.Recovery(); !rep.OK() {
				t.Fatalf("not clean after the repair:\n%s", rep.String())
			}
			checkRecords(t, l, append(slices.Clone(want), r))
			l.Close()
		})
	}
}
