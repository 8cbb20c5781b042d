package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/segment"
	"golang.org/x/sys/unix"
)

// fixture is a closed 4+2 shard log of several segments, written through
// the segment package.
type fixture struct {
	dirs []string
	want []segment.Record
	segs []segment.SegmentInfo
}

// testConfig is a small-segment configuration: a few hundred records make
// several segments.
func testConfig(dirs []string) segment.Config {
	return segment.Config{
		Dirs:           dirs,
		Geometry:       segment.Geometry{Data: 4, Parity: 2},
		FragmentBytes:  64 << 10,
		MaxStripeBytes: 8 << 10,
		MaxRecordBytes: 32 << 10,
		Durability:     segment.Async,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

func testRecord(i int) segment.Record {
	data := bytes.Repeat([]byte{byte(i * 7)}, 1+(i*97)%2500)
	copy(data, fmt.Sprintf("record-%d-", i))
	r := segment.Record{PartitionKey: fmt.Appendf(nil, "pk-%d", i), Data: data}
	if i%5 == 0 {
		r.ExplicitHashKey = fmt.Appendf(nil, "%d", i*1000003)
	}
	return r
}

// newFixture writes 400 records, one to five per append, into a log in
// ndirs directories under a fresh parent, and closes it.
func newFixture(t *testing.T, ndirs int) fixture {
	t.Helper()
	parent := t.TempDir()
	var fx fixture
	for i := 0; i < ndirs; i++ {
		fx.dirs = append(fx.dirs, filepath.Join(parent, fmt.Sprintf("disk%d", i)))
	}
	l, err := segment.Open(testConfig(fx.dirs))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; {
		var batch []segment.Record
		for n := 1 + i%5; n > 0 && i < 400; n-- {
			batch = append(batch, testRecord(i))
			i++
		}
		if _, err := l.Append(batch); err != nil {
			t.Fatal(err)
		}
		fx.want = append(fx.want, batch...)
	}
	fx.segs = l.Segments()
	if len(fx.segs) < 3 {
		t.Fatalf("fixture has %d segments, want several", len(fx.segs))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return fx
}

// clone copies the fixture's files into fresh directories.
func (fx fixture) clone(t *testing.T) fixture {
	t.Helper()
	parent := t.TempDir()
	out := fx
	out.dirs = nil
	for i, src := range fx.dirs {
		dst := filepath.Join(parent, fmt.Sprintf("disk%d", i))
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out.dirs = append(out.dirs, dst)
	}
	return out
}

// file returns the path of fragment j of the segment at index seg.
func (fx fixture) file(seg, j int) string {
	return filepath.Join(fx.dirs[j%len(fx.dirs)], fmt.Sprintf("%020d.%02d.frag", fx.segs[seg].FirstSeq, j))
}

func (fx fixture) args(cmd ...string) []string {
	return append(append([]string{"segment"}, cmd...), fx.dirs...)
}

// readBack opens the log and compares every record with what was written.
// Records in lost (inclusive ranges) must fail with a CorruptionError.
func (fx fixture) readBack(t *testing.T, lost ...segment.LostRange) {
	t.Helper()
	cfg := testConfig(fx.dirs)
	cfg.Geometry = segment.Geometry{} // detected from the files, as the CLI does
	cfg.ReadOnly = true
	l, err := segment.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first, next := l.Bounds()
	if first != 0 || next != uint64(len(fx.want)) {
		t.Fatalf("log holds [%d, %d), want [0, %d)", first, next, len(fx.want))
	}
	isLost := func(seq uint64) bool {
		for _, r := range lost {
			if seq >= r.FirstSeq && seq <= r.LastSeq {
				return true
			}
		}
		return false
	}
	for pos := uint64(0); pos < next; {
		recs, after, err := l.Read(pos, 37, 0)
		if err != nil {
			var corrupt *segment.CorruptionError
			if !errors.As(err, &corrupt) || !isLost(pos) {
				t.Fatalf("Read(%d): %v", pos, err)
			}
			pos = corrupt.LastSeq + 1
			continue
		}
		if len(recs) == 0 {
			t.Fatalf("Read(%d) returned nothing before %d", pos, next)
		}
		for _, r := range recs {
			w := fx.want[r.Seq]
			if isLost(r.Seq) {
				t.Fatalf("record %d of a lost range was served", r.Seq)
			}
			if !bytes.Equal(r.Data, w.Data) || !bytes.Equal(r.PartitionKey, w.PartitionKey) ||
				!bytes.Equal(r.ExplicitHashKey, w.ExplicitHashKey) {
				t.Fatalf("record %d differs from what was written", r.Seq)
			}
		}
		if recs[0].Seq != pos {
			t.Fatalf("Read(%d) started at record %d", pos, recs[0].Seq)
		}
		pos = after
	}
}

func mustRun(t *testing.T, wantCode int, args ...string) (stdout string) {
	t.Helper()
	code, stdout, stderr := sluicectl(t, args...)
	if code != wantCode {
		t.Fatalf("sluicectl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	return stdout
}

func TestSluicectlInspect(t *testing.T) {
	fx := newFixture(t, 2)

	out := mustRun(t, exitOK, fx.args("inspect")...)
	for _, want := range []string{"geometry:  4+2", "records:   0..399 (400 records; next position 400)",
		fmt.Sprintf("segments:  %d", len(fx.segs)), "health:    ok"} {
		if !strings.Contains(out, want) {
			t.Fatalf("inspect output lacks %q:\n%s", want, out)
		}
	}
	for i, s := range fx.segs {
		row := fmt.Sprintf("%s  %d  %d  %d  %d  %s  %s", s.Name, s.FirstSeq, s.EndSeq, s.EndSeq-s.FirstSeq, s.Stripes,
			formatMs(s.FirstTime), formatMs(s.LastTime))
		if !strings.Contains(strings.Join(strings.Fields(out), "  "), row) {
			t.Fatalf("inspect output lacks segment row %q:\n%s", row, out)
		}
		for j := 0; j < 6; j++ {
			if !strings.Contains(out, "  "+fx.file(i, j)+"\n") {
				t.Fatalf("inspect output lacks file %s:\n%s", fx.file(i, j), out)
			}
		}
	}

	var got inspectJSON
	out = mustRun(t, exitOK, fx.args("inspect", "--json")...)
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	if got.Geometry != (geometryJSON{4, 2}) || got.FirstSeq != 0 || got.NextSeq != uint64(len(fx.want)) ||
		got.Records != uint64(len(fx.want)) || !got.OK || len(got.Segments) != len(fx.segs) {
		t.Fatalf("inspect --json: %+v", got)
	}
	var sum uint64
	for i, s := range got.Segments {
		if s.SegmentInfo.Name != fx.segs[i].Name || s.FirstSeq != fx.segs[i].FirstSeq || s.EndSeq != fx.segs[i].EndSeq ||
			s.Stripes != fx.segs[i].Stripes || s.UsedBytes != fx.segs[i].UsedBytes || s.SizeBytes != 64<<10 ||
			len(s.Files) != 6 || len(s.MissingFiles) != 0 {
			t.Fatalf("segment %d: got %+v, want %+v", i, s, fx.segs[i])
		}
		if s.Records != s.EndSeq-s.FirstSeq || (i > 0 && s.FirstSeq != got.Segments[i-1].EndSeq) {
			t.Fatalf("segment %d: records %d, range [%d, %d)", i, s.Records, s.FirstSeq, s.EndSeq)
		}
		ts, err := time.Parse(time.RFC3339Nano, s.FirstTime)
		if err != nil || ts.UnixMilli() != s.SegmentInfo.FirstTime || s.SegmentInfo.FirstTime != fx.segs[i].FirstTime || !strings.HasSuffix(s.LastTime, "Z") {
			t.Fatalf("segment %d: first_time %q (%v), first_time_ms %d, last_time %q", i, s.FirstTime, err, s.SegmentInfo.FirstTime, s.LastTime)
		}
		sum += s.Records
	}
	if sum != uint64(len(fx.want)) {
		t.Fatalf("segments hold %d records, %d were written", sum, len(fx.want))
	}
}

// damages are the kinds of damage done to fragment files, by name.
var damages = map[string]func(t *testing.T, path string){
	"delete": func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	},
	"truncate": func(t *testing.T, path string) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, st.Size()/2); err != nil {
			t.Fatal(err)
		}
	},
	"corrupt": func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// Inside the first stripe: past the 64-byte file header and the
		// stripe header.
		if _, err := f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef}, 64+200); err != nil {
			t.Fatal(err)
		}
	},
}

// TestSluicectlRepairTwoFragments damages 2 fragment files of every
// segment, the newest included: verify names them and fails, repair
// rebuilds them, verify passes and every record reads back.
func TestSluicectlRepairTwoFragments(t *testing.T) {
	src := newFixture(t, 2)
	names := make([]string, 0, len(damages))
	for name := range damages {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, pair := range [][2]int{{0, 1}, {1, 4}, {4, 5}} {
			t.Run(fmt.Sprintf("%s/fragments=%d,%d", name, pair[0], pair[1]), func(t *testing.T) {
				fx := src.clone(t)
				var damaged []string
				for seg := range fx.segs {
					for _, j := range pair {
						damages[name](t, fx.file(seg, j))
						damaged = append(damaged, fx.file(seg, j))
					}
				}

				out := mustRun(t, exitFailed, fx.args("verify")...)
				for _, path := range damaged {
					if !strings.Contains(out, path) {
						t.Fatalf("verify does not name %s:\n%s", path, out)
					}
				}
				if !strings.Contains(out, "verify: DAMAGED:") || strings.Contains(out, "LOST") {
					t.Fatalf("verify output:\n%s", out)
				}
				var rep reportJSON
				out = mustRun(t, exitFailed, fx.args("verify", "--json")...)
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("verify --json: %v\n%s", err, out)
				}
				if rep.OK || len(rep.Problems) < len(damaged) || len(rep.Lost) != 0 || rep.Records != uint64(len(fx.want)) {
					t.Fatalf("verify --json: %s", out)
				}

				out = mustRun(t, exitOK, fx.args("repair")...)
				if !strings.Contains(out, "repair: ok:") || !strings.Contains(out, "[repaired]") {
					t.Fatalf("repair output:\n%s", out)
				}
				out = mustRun(t, exitOK, fx.args("verify")...)
				if !strings.Contains(out, "verify: ok: ") || !strings.Contains(out, "0 problems") {
					t.Fatalf("verify after repair:\n%s", out)
				}
				for _, path := range damaged {
					if st, err := os.Stat(path); err != nil || st.Size() != 64<<10 {
						t.Fatalf("repaired %s: %v", path, err)
					}
				}
				fx.readBack(t)
			})
		}
	}
}

// TestSluicectlRepairLost deletes 3 fragment files of one segment, more than
// parity covers: verify and repair fail naming the segment and the lost
// records, and the records outside them still read back.
func TestSluicectlRepairLost(t *testing.T) {
	fx := newFixture(t, 3)
	victim := 1
	seg := fx.segs[victim]
	for _, j := range []int{0, 2, 5} {
		if err := os.Remove(fx.file(victim, j)); err != nil {
			t.Fatal(err)
		}
	}
	lostText := func(r segment.LostRange) string {
		return fmt.Sprintf("segment %s: records %d..%d LOST", r.Segment, r.FirstSeq, r.LastSeq)
	}
	within := func(r segment.LostRange, ranges []segment.LostRange) bool {
		for _, o := range ranges {
			if r.Segment == o.Segment && r.FirstSeq >= o.FirstSeq && r.LastSeq <= o.LastSeq {
				return true
			}
		}
		return false
	}

	var rep reportJSON
	out := mustRun(t, exitFailed, fx.args("verify", "--json")...)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	if rep.OK || len(rep.Lost) == 0 {
		t.Fatalf("verify --json reports no loss:\n%s", out)
	}
	for _, r := range rep.Lost {
		if r.Segment != seg.Name || r.FirstSeq < seg.FirstSeq || r.LastSeq >= seg.EndSeq || r.FirstSeq > r.LastSeq {
			t.Fatalf("lost range %+v is not inside segment %+v", r, seg)
		}
	}

	out = mustRun(t, exitFailed, fx.args("verify")...)
	if !strings.Contains(out, "verify: RECORDS LOST:") {
		t.Fatalf("verify output:\n%s", out)
	}
	for _, r := range rep.Lost {
		if !strings.Contains(out, lostText(r)) {
			t.Fatalf("verify output lacks %q:\n%s", lostText(r), out)
		}
	}
	for _, j := range []int{0, 2, 5} {
		if !strings.Contains(out, fx.file(victim, j)) {
			t.Fatalf("verify output does not name %s:\n%s", fx.file(victim, j), out)
		}
	}

	repairOut := mustRun(t, exitFailed, fx.args("repair")...)
	// The loss stays: a second repair reports the same, as JSON.
	var rj repairJSON
	out = mustRun(t, exitFailed, fx.args("repair", "--json")...)
	if err := json.Unmarshal([]byte(out), &rj); err != nil {
		t.Fatalf("repair --json: %v\n%s", err, out)
	}
	if rj.OK || rj.Final.OK || len(rj.Lost) == 0 {
		t.Fatalf("repair --json reports no loss: %s", out)
	}
	if !strings.Contains(repairOut, "repair: FAILED:") {
		t.Fatalf("repair output:\n%s", repairOut)
	}
	// Repair may rebuild a stripe that verify counted lost: a missing
	// chunk that was all zeros matches its checksum once the file is
	// re-created. It never loses more than verify reported.
	for _, r := range rj.Lost {
		if !within(r, rep.Lost) {
			t.Fatalf("repair lost %+v, which verify did not report lost (%+v)", r, rep.Lost)
		}
		if !strings.Contains(repairOut, lostText(r)) {
			t.Fatalf("repair output lacks %q:\n%s", lostText(r), repairOut)
		}
	}
	out = mustRun(t, exitFailed, fx.args("verify")...)
	for _, r := range rj.Lost {
		if !strings.Contains(out, lostText(r)) {
			t.Fatalf("verify after repair lacks %q:\n%s", lostText(r), out)
		}
	}
	fx.readBack(t, rj.Lost...)
}

// TestSluicectlRepairMissingSegment deletes every fragment file of a middle
// segment. Only recovery sees the hole (Scrub checks segments one by one),
// so repair must not call the log OK.
func TestSluicectlRepairMissingSegment(t *testing.T) {
	fx := newFixture(t, 2)
	seg := fx.segs[1]
	for j := 0; j < 6; j++ {
		if err := os.Remove(fx.file(1, j)); err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprintf("records %d..%d LOST (%d records): records missing between segments", seg.FirstSeq, seg.EndSeq-1, seg.EndSeq-seg.FirstSeq)
	for _, cmd := range []string{"verify", "repair", "verify"} {
		if out := mustRun(t, exitFailed, fx.args(cmd)...); !strings.Contains(out, want) {
			t.Fatalf("%s output lacks %q:\n%s", cmd, want, out)
		}
	}
	var rj repairJSON
	out := mustRun(t, exitFailed, fx.args("repair", "--json")...)
	if err := json.Unmarshal([]byte(out), &rj); err != nil {
		t.Fatalf("repair --json: %v\n%s", err, out)
	}
	if rj.OK || len(rj.Lost) != 1 || rj.Lost[0].FirstSeq != seg.FirstSeq || rj.Lost[0].LastSeq != seg.EndSeq-1 {
		t.Fatalf("repair --json: %s", out)
	}
	fx.readBack(t, rj.Lost...)
}

// TestSluicectlRepairReplacedDisk loses one of three directories (2 of 6
// fragments of every segment): verify warns and fails, repair refuses until
// the directory exists again (a disk that is not mounted), then rebuilds it.
func TestSluicectlRepairReplacedDisk(t *testing.T) {
	fx := newFixture(t, 3)
	if err := os.RemoveAll(fx.dirs[1]); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := sluicectl(t, fx.args("verify")...)
	if code != exitFailed || !strings.Contains(stderr, "does not exist") || !strings.Contains(out, fx.file(0, 4)) {
		t.Fatalf("verify: exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = sluicectl(t, fx.args("repair")...)
	if code != exitFailed || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("repair of a missing directory: exit %d\n%s", code, stderr)
	}
	if err := os.Mkdir(fx.dirs[1], 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, exitOK, fx.args("repair")...)
	mustRun(t, exitOK, fx.args("verify")...)
	fx.readBack(t)
}

func TestSluicectlProblemRuns(t *testing.T) {
	chunk := func(frag int, off int64, first, last uint64, kind string, repaired bool) segment.Problem {
		detail := fmt.Sprintf("chunk of records %d..%d fails its checksum", first, last)
		if kind == segment.ProblemMissingChunk {
			detail = fmt.Sprintf("chunk of records %d..%d unreadable", first, last)
		}
		return segment.Problem{Segment: "00000000000000000007", Fragment: frag, File: fmt.Sprintf("f%d", frag),
			Offset: off, Kind: kind, Detail: detail, Repaired: repaired}
	}
	bad, missing := segment.ProblemBadChunk, segment.ProblemMissingChunk
	problems := []segment.Problem{
		{Segment: "00000000000000000007", Fragment: 0, File: "f0", Kind: segment.ProblemMissingFile, Detail: "fragment file does not exist"},
		chunk(0, 64, 7, 9, missing, false),
		chunk(3, 64, 7, 9, bad, false),
		chunk(0, 200, 10, 10, missing, false),
		chunk(3, 200, 10, 10, bad, false),
		chunk(0, 300, 11, 12, missing, false),
		chunk(3, 300, 11, 12, bad, true),      // repaired: a run of its own
		chunk(0, 500, 14, 15, missing, false), // records 13 are fine: a new run
	}
	var got []string
	for _, r := range problemRuns(problems) {
		got = append(got, problemLine(r, map[string]segment.SegmentInfo{"00000000000000000007": {FirstSeq: 7, EndSeq: 16}}))
	}
	want := []string{
		"segment 00000000000000000007 fragment 0 (f0) offset 0: missing-file: fragment file does not exist; the segment holds records 7..15",
		"segment 00000000000000000007 fragment 0 (f0) offsets 64..300: missing-chunk: 3 chunks of records 7..12, each unreadable",
		"segment 00000000000000000007 fragment 3 (f3) offsets 64..200: bad-chunk: 2 chunks of records 7..10, each fails its checksum",
		"segment 00000000000000000007 fragment 3 (f3) offset 300: bad-chunk: chunk of records 11..12 fails its checksum [repaired]",
		"segment 00000000000000000007 fragment 0 (f0) offset 500: missing-chunk: chunk of records 14..15 unreadable",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSluicectlOpenErrors covers DIRs that are not one shard log.
func TestSluicectlOpenErrors(t *testing.T) {
	fx := newFixture(t, 2)
	f := func(wantStderr string, args ...string) {
		t.Helper()
		code, stdout, stderr := sluicectl(t, args...)
		if code != exitFailed || !strings.Contains(stderr, wantStderr) {
			t.Fatalf("sluicectl %q: exit %d, want 1, stderr lacks %q\nstdout:\n%s\nstderr:\n%s", args, code, wantStderr, stdout, stderr)
		}
	}
	missing := filepath.Join(t.TempDir(), "nope")
	for _, cmd := range []string{"inspect", "verify", "repair"} {
		f("no fragment files", "segment", cmd, t.TempDir())
		f("belongs in DIR 2", "segment", cmd, fx.dirs[1], fx.dirs[0])
		f("belongs in DIR 3", "segment", cmd, fx.dirs[0], fx.dirs[1], t.TempDir())
	}
	f("no fragment files", "segment", "verify", missing)
	f("does not exist", "segment", "repair", fx.dirs[0], missing)
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("repair created %s: %v", missing, err)
	}

	// JSON output stays one object.
	code, stdout, _ := sluicectl(t, "segment", "inspect", "--json", t.TempDir())
	var obj struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(stdout), &obj); code != exitFailed || err != nil || obj.OK || obj.Error == "" {
		t.Fatalf("inspect --json of an empty dir: exit %d, %v\n%s", code, err, stdout)
	}

	// A running server holds DATA_DIR/LOCK: repair refuses, verify warns.
	lockPath := filepath.Join(filepath.Dir(fx.dirs[0]), "LOCK")
	lock, err := os.Create(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f("stop it before repairing", fx.args("repair")...)
	code, _, stderr := sluicectl(t, fx.args("verify")...)
	if code != exitOK || !strings.Contains(stderr, "locked by a running sluice server") {
		t.Fatalf("verify with a locked data dir: exit %d\n%s", code, stderr)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	mustRun(t, exitOK, fx.args("repair")...)
}
