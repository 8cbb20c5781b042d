package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sluicehq/sluice/segment"
	"golang.org/x/sys/unix"
)

// runSegment runs "sluicectl segment SUBCOMMAND [--json] DIR...".
func runSegment(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "segment: no subcommand given (inspect, verify or repair)")
	}
	sub := args[0]
	var cmd func(dirs []string, jsonOut bool, stdout, stderr io.Writer) int
	switch sub {
	case "inspect":
		cmd = segmentInspect
	case "verify":
		cmd = segmentVerify
	case "repair":
		cmd = segmentRepair
	default:
		return usageError(stderr, fmt.Sprintf("segment: unknown subcommand %q (want inspect, verify or repair)", sub))
	}
	fs := newFlagSet("segment " + sub)
	jsonOut := fs.Bool("json", false, "print one JSON object")
	dirs, err := parseArgs(fs, args[1:])
	if err != nil {
		return flagError(err, stdout, stderr)
	}
	if len(dirs) == 0 {
		return usageError(stderr, fmt.Sprintf("segment %s: no DIR given", sub))
	}
	return cmd(dirs, *jsonOut, stdout, stderr)
}

// fileLevelProblems damage a whole fragment file rather than one chunk: the
// records affected are those of the segment.
var fileLevelProblems = map[string]bool{
	segment.ProblemMissingFile:   true,
	segment.ProblemShortFile:     true,
	segment.ProblemBadFileHeader: true,
}

// checkDirs checks the DIR arguments before the log is opened: a fragment
// file in the wrong directory means the DIRs are not the ones (or not in
// the order) the log was written with, and opening it would report every
// misplaced fragment missing (and repair would re-create it). A missing
// directory is fatal with mustExist (repair must not create the mount
// point of a disk that is not mounted), else a warning.
func checkDirs(dirs []string, mustExist bool, stderr io.Writer) error {
	found := 0
	for i, dir := range dirs {
		st, err := os.Stat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if mustExist {
				return fmt.Errorf("directory %q does not exist; create it (or mount its disk) and run repair again", dir)
			}
			fmt.Fprintf(stderr, "%s: warning: directory %q does not exist; its fragment files count as missing\n", programName, dir)
			continue
		case err != nil:
			return fmt.Errorf("cannot stat %q: %w", dir, err)
		case !st.IsDir():
			return fmt.Errorf("%q is not a directory", dir)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("cannot list %q: %w", dir, err)
		}
		for _, e := range entries {
			j, ok := fragmentIndex(e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			found++
			if want := dirs[j%len(dirs)]; !sameDir(want, dir, st) {
				return fmt.Errorf("fragment file %q is in DIR %d (%s) but fragment %d belongs in DIR %d (%s) with %d DIRs: "+
					"give the directories of one shard log in the order the server uses",
					filepath.Join(dir, e.Name()), i+1, dir, j, j%len(dirs)+1, want, len(dirs))
			}
		}
	}
	if found == 0 {
		return fmt.Errorf("no fragment files (NNNNNNNNNNNNNNNNNNNN.JJ.frag) in %s: not the directories of a shard log", strings.Join(dirs, " "))
	}
	return nil
}

// fragmentIndex parses a fragment file name, "%020d.%02d.frag", and returns
// its fragment index.
func fragmentIndex(name string) (int, bool) {
	base, rest, ok := strings.Cut(name, ".")
	if !ok || len(base) != 20 {
		return 0, false
	}
	if _, err := strconv.ParseUint(base, 10, 64); err != nil {
		return 0, false
	}
	idx, ext, ok := strings.Cut(rest, ".")
	if !ok || ext != "frag" || len(idx) != 2 {
		return 0, false
	}
	j, err := strconv.Atoi(idx)
	return j, err == nil && j >= 0
}

// sameDir reports whether path names the directory whose FileInfo is st.
func sameDir(path, dir string, st os.FileInfo) bool {
	if filepath.Clean(path) == filepath.Clean(dir) {
		return true
	}
	other, err := os.Stat(path)
	return err == nil && os.SameFile(other, st)
}

// serverLocks returns the lock files of sluice data directories above dirs:
// a running server holds an exclusive flock on DATA_DIR/LOCK.
func serverLocks(dirs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		for d := abs; ; d = filepath.Dir(d) {
			p := filepath.Join(d, "LOCK")
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return out
}

// lockServers takes the lock of every data directory above dirs so that no
// server starts while repair rewrites its files. It fails if a server holds
// one. The locks are released by the returned function (or at exit).
func lockServers(dirs []string) (release func(), err error) {
	var files []*os.File
	release = func() {
		for _, f := range files {
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		}
	}
	for _, p := range serverLocks(dirs) {
		f, err := os.Open(p)
		if err != nil {
			release()
			return nil, fmt.Errorf("cannot open lock file %q: %w", p, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			release()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("%q is locked: a sluice server is using this data directory; stop it before repairing", p)
			}
			return nil, fmt.Errorf("cannot lock %q: %w", p, err)
		}
		files = append(files, f)
	}
	return release, nil
}

// warnIfServing warns that a read-only check of a log that a server is
// writing may see the tail mid-write.
func warnIfServing(dirs []string, stderr io.Writer) {
	for _, p := range serverLocks(dirs) {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); errors.Is(err, unix.EWOULDBLOCK) {
			fmt.Fprintf(stderr, "%s: warning: %q is locked by a running sluice server; the newest stripes may be mid-write\n", programName, p)
		}
		f.Close()
	}
}

// openLog opens the shard log in dirs, taking its geometry from the files.
// Recovery findings are not logged: the commands print the Report.
func openLog(dirs []string, readOnly bool) (*segment.Log, error) {
	return segment.Open(segment.Config{
		Dirs:     dirs,
		ReadOnly: readOnly,
		Logger:   slog.New(slog.DiscardHandler),
	})
}

// fail prints err to stderr (and, for --json, {"ok":false,"error":...} to
// stdout) and returns exitFailed.
func fail(err error, jsonOut bool, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "%s: %v\n", programName, err)
	if jsonOut {
		writeJSON(stdout, struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}{false, err.Error()})
	}
	return exitFailed
}

// writeJSON writes v as indented JSON. Like the text output, a failed
// write to stdout is not reported.
func writeJSON(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		// Only unsupported values fail to encode; ours are plain structs.
		panic(fmt.Sprintf("BUG: cannot encode JSON output: %v", err))
	}
	_, _ = w.Write(append(b, '\n'))
}

// formatMs formats an arrival time as RFC 3339 UTC with milliseconds.
func formatMs(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// recordRange formats the inclusive range [first, end) of positions.
func recordRange(first, end uint64) string {
	if end <= first {
		return "none"
	}
	return fmt.Sprintf("%d..%d", first, end-1)
}

type geometryJSON struct {
	Data   int `json:"data"`
	Parity int `json:"parity"`
}

type segmentJSON struct {
	segment.SegmentInfo
	Records      uint64   `json:"records"`
	FirstTime    string   `json:"first_time,omitempty"`
	LastTime     string   `json:"last_time,omitempty"`
	MissingFiles []string `json:"missing_files,omitempty"`
}

type inspectJSON struct {
	Dirs       []string      `json:"dirs"`
	Geometry   geometryJSON  `json:"geometry"`
	FirstSeq   uint64        `json:"first_seq"`
	NextSeq    uint64        `json:"next_seq"`
	Records    uint64        `json:"records"`
	OK         bool          `json:"ok"`
	Problems   int           `json:"problems"`
	LostRanges int           `json:"lost_ranges"`
	Segments   []segmentJSON `json:"segments"`
}

func segmentInspect(dirs []string, jsonOut bool, stdout, stderr io.Writer) int {
	if err := checkDirs(dirs, false, stderr); err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	warnIfServing(dirs, stderr)
	l, err := openLog(dirs, true)
	if err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	g := l.Geometry()
	first, next := l.Bounds()
	rep := l.Recovery()
	out := inspectJSON{
		Dirs:       dirs,
		Geometry:   geometryJSON{g.Data, g.Parity},
		FirstSeq:   first,
		NextSeq:    next,
		Records:    next - first,
		OK:         rep.OK(),
		Problems:   len(rep.Problems),
		LostRanges: len(rep.Lost),
		Segments:   []segmentJSON{},
	}
	for _, info := range l.Segments() {
		s := segmentJSON{SegmentInfo: info, Records: info.EndSeq - info.FirstSeq}
		if info.Stripes > 0 {
			s.FirstTime, s.LastTime = formatMs(info.FirstTime), formatMs(info.LastTime)
		}
		for _, f := range info.Files {
			if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) {
				s.MissingFiles = append(s.MissingFiles, f)
			}
		}
		out.Segments = append(out.Segments, s)
	}
	if err := l.Close(); err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	if jsonOut {
		writeJSON(stdout, out)
		return exitOK
	}

	fmt.Fprintf(stdout, "dirs:      %s\n", strings.Join(dirs, " "))
	fmt.Fprintf(stdout, "geometry:  %s (%d data + %d parity fragment files per segment)\n", g, g.Data, g.Parity)
	fmt.Fprintf(stdout, "records:   %s (%d records; next position %d)\n", recordRange(first, next), next-first, next)
	fmt.Fprintf(stdout, "segments:  %d\n", len(out.Segments))
	if out.OK {
		fmt.Fprintf(stdout, "health:    ok\n")
	} else {
		fmt.Fprintf(stdout, "health:    DAMAGED: %d problems, %d lost ranges; run 'sluicectl segment verify' for details\n",
			out.Problems, out.LostRanges)
	}
	if len(out.Segments) == 0 {
		return exitOK
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SEGMENT\tFIRST\tEND\tRECORDS\tSTRIPES\tFIRST ARRIVAL\tLAST ARRIVAL\tUSED\tSIZE\t")
	for _, s := range out.Segments {
		firstTime, lastTime := s.FirstTime, s.LastTime
		if s.Stripes == 0 {
			firstTime, lastTime = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t\n", s.Name, s.FirstSeq, s.EndSeq, s.Records, s.Stripes,
			firstTime, lastTime, s.UsedBytes, s.SizeBytes)
	}
	tw.Flush()
	for _, s := range out.Segments {
		fmt.Fprintf(stdout, "\nfiles of segment %s:\n", s.Name)
		for _, f := range s.Files {
			mark := ""
			if slices.Contains(s.MissingFiles, f) {
				mark = " (missing)"
			}
			fmt.Fprintf(stdout, "  %s%s\n", f, mark)
		}
	}
	return exitOK
}

// reportJSON is a Report with its verdict.
type reportJSON struct {
	OK bool `json:"ok"`
	segment.Report
}

func newReportJSON(rep segment.Report) reportJSON {
	if rep.Problems == nil {
		rep.Problems = []segment.Problem{}
	}
	if rep.Lost == nil {
		rep.Lost = []segment.LostRange{}
	}
	return reportJSON{OK: rep.OK(), Report: rep}
}

// segmentRanges maps segment names to their records, for the messages.
func segmentRanges(infos []segment.SegmentInfo) map[string]segment.SegmentInfo {
	m := make(map[string]segment.SegmentInfo, len(infos))
	for _, info := range infos {
		m[info.Name] = info
	}
	return m
}

// problemLine describes a run of n problems of one fragment file (n is 1
// for most): the segment, the fragment file, the offset, what is wrong and,
// where the detail does not say it, the records the file holds a part of.
func problemLine(r problemRun, segs map[string]segment.SegmentInfo) string {
	p := r.first
	var b strings.Builder
	fmt.Fprintf(&b, "segment %s", p.Segment)
	if p.Fragment >= 0 {
		fmt.Fprintf(&b, " fragment %d (%s)", p.Fragment, p.File)
	}
	if r.n > 1 {
		fmt.Fprintf(&b, " offsets %d..%d: %s: %d chunks of records %d..%d, each %s", p.Offset, r.lastOffset, p.Kind, r.n, r.firstSeq, r.lastSeq, r.rest)
	} else {
		fmt.Fprintf(&b, " offset %d: %s: %s", p.Offset, p.Kind, p.Detail)
	}
	if info, ok := segs[p.Segment]; ok && fileLevelProblems[p.Kind] {
		fmt.Fprintf(&b, "; the segment holds records %s", recordRange(info.FirstSeq, info.EndSeq))
	}
	switch {
	case p.Repaired:
		b.WriteString(" [repaired]")
	case p.Kind == segment.ProblemTornTail:
		// Report.OK ignores it: in Fsync mode an incomplete last stripe
		// was never acknowledged. Damage to more than Parity chunks of the
		// newest stripes looks the same, so say what is assumed.
		b.WriteString(" [assumed an interrupted write; a writable open cuts it]")
	}
	return b.String()
}

// problemRun is a run of chunk problems of one kind in one fragment file
// over consecutive records: a lost or re-created file yields one problem per
// stripe, which would bury the rest of the report.
type problemRun struct {
	first             segment.Problem
	n                 int
	lastOffset        int64
	firstSeq, lastSeq uint64 // records of the chunks (chunk problems only)
	rest              string // the detail after the record range (chunk problems only)
}

// chunkDetail parses the detail of a chunk problem, "chunk of records
// A..B REST".
func chunkDetail(p segment.Problem) (first, last uint64, rest string, ok bool) {
	if p.Kind != segment.ProblemBadChunk && p.Kind != segment.ProblemMissingChunk {
		return 0, 0, "", false
	}
	r, found := strings.CutPrefix(p.Detail, "chunk of records ")
	if !found {
		return 0, 0, "", false
	}
	rng, rest, found := strings.Cut(r, " ")
	a, b, found2 := strings.Cut(rng, "..")
	if !found || !found2 {
		return 0, 0, "", false
	}
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	return first, last, rest, err1 == nil && err2 == nil
}

// problemRuns groups the chunk problems of one kind, file and repair state
// over consecutive records. The problems of a stripe come together, so the
// runs of different files interleave; a run is listed where it starts.
func problemRuns(problems []segment.Problem) []problemRun {
	type key struct {
		segment  string
		fragment int
		kind     string
		rest     string
		repaired bool
	}
	open := map[key]int{} // index in out of the run that may grow
	var out []problemRun
	for _, p := range problems {
		first, last, rest, ok := chunkDetail(p)
		if !ok {
			out = append(out, problemRun{first: p, n: 1, lastOffset: p.Offset})
			continue
		}
		k := key{p.Segment, p.Fragment, p.Kind, rest, p.Repaired}
		if i, found := open[k]; found && out[i].lastSeq+1 == first {
			out[i].n++
			out[i].lastOffset, out[i].lastSeq = p.Offset, last
			continue
		}
		open[k] = len(out)
		out = append(out, problemRun{first: p, n: 1, lastOffset: p.Offset, firstSeq: first, lastSeq: last, rest: rest})
	}
	return out
}

// lostLine describes one lost range and the damaged files of its segment.
func lostLine(r segment.LostRange, rep *segment.Report) string {
	var files []string
	for _, p := range rep.Problems {
		if p.Segment == r.Segment && p.File != "" && !slices.Contains(files, p.File) {
			files = append(files, p.File)
		}
	}
	slices.Sort(files)
	s := fmt.Sprintf("segment %s: records %d..%d LOST (%d records): %s", r.Segment, r.FirstSeq, r.LastSeq, r.LastSeq-r.FirstSeq+1, r.Reason)
	if len(files) > 0 {
		s += "; damaged files of the segment: " + strings.Join(files, ", ")
	}
	return s
}

// writeReport prints every problem (runs of chunk problems in one file
// collapsed into one line) and lost range of rep, one a line.
func writeReport(w io.Writer, indent string, rep *segment.Report, segs map[string]segment.SegmentInfo) {
	for _, r := range problemRuns(rep.Problems) {
		fmt.Fprintf(w, "%s%s\n", indent, problemLine(r, segs))
	}
	for _, r := range rep.Lost {
		fmt.Fprintf(w, "%s%s\n", indent, lostLine(r, rep))
	}
}

// repairSummary counts what a writable open or a repairing scrub found and
// repaired.
func repairSummary(rep *segment.Report) string {
	found, repaired := 0, 0
	files := map[string]bool{}
	for _, p := range rep.Problems {
		found++
		if p.Repaired {
			repaired++
		}
		if p.File != "" {
			files[p.File] = true
		}
	}
	var lost uint64
	for _, r := range rep.Lost {
		lost += r.LastSeq - r.FirstSeq + 1
	}
	return fmt.Sprintf("%d segments, %d stripes, %d records; found %d problems in %d fragment files, repaired %d; %d records lost in %d ranges",
		rep.Segments, rep.Stripes, rep.Records, found, len(files), repaired, lost, len(rep.Lost))
}

// summary counts the unrepaired problems, the fragment files they are in
// and the lost records of rep.
func summary(rep *segment.Report) string {
	open := 0
	files := map[string]bool{}
	for _, p := range rep.Problems {
		if p.Repaired || p.Kind == segment.ProblemTornTail {
			continue
		}
		open++
		if p.File != "" {
			files[p.File] = true
		}
	}
	var lost uint64
	for _, r := range rep.Lost {
		lost += r.LastSeq - r.FirstSeq + 1
	}
	return fmt.Sprintf("%d segments, %d stripes, %d records; %d problems in %d fragment files; %d records lost in %d ranges",
		rep.Segments, rep.Stripes, rep.Records, open, len(files), lost, len(rep.Lost))
}

func segmentVerify(dirs []string, jsonOut bool, stdout, stderr io.Writer) int {
	if err := checkDirs(dirs, false, stderr); err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	warnIfServing(dirs, stderr)
	// Read-only recovery checks every checksum and changes nothing.
	l, err := openLog(dirs, true)
	if err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	rep := l.Recovery()
	segs := segmentRanges(l.Segments())
	if err := l.Close(); err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	code := exitOK
	if !rep.OK() {
		code = exitFailed
	}
	if jsonOut {
		writeJSON(stdout, newReportJSON(rep))
		return code
	}
	writeReport(stdout, "", &rep, segs)
	switch {
	case rep.OK():
		fmt.Fprintf(stdout, "verify: ok: %s\n", summary(&rep))
	case len(rep.Lost) == 0:
		fmt.Fprintf(stdout, "verify: DAMAGED: %s\n", summary(&rep))
		fmt.Fprintf(stdout, "every record can be rebuilt from parity: stop the server and run 'sluicectl segment repair %s'\n",
			strings.Join(dirs, " "))
	default:
		fmt.Fprintf(stdout, "verify: RECORDS LOST: %s\n", summary(&rep))
		fmt.Fprintf(stdout, "the lost records cannot be rebuilt from the remaining fragment files: restore the missing or damaged "+
			"files from a copy if there is one; otherwise 'sluicectl segment repair %s' rebuilds the rest and marks the lost records\n",
			strings.Join(dirs, " "))
	}
	return code
}

type repairJSON struct {
	OK       bool                `json:"ok"`
	Recovery reportJSON          `json:"recovery"` // what Open found and repaired
	Scrub    reportJSON          `json:"scrub"`    // what the repairing scrub found
	Final    reportJSON          `json:"final"`    // the check after repair
	Lost     []segment.LostRange `json:"lost"`     // records that could not be rebuilt
}

func segmentRepair(dirs []string, jsonOut bool, stdout, stderr io.Writer) int {
	if err := checkDirs(dirs, true, stderr); err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	release, err := lockServers(dirs)
	if err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	defer release()
	// A writable Open rebuilds damaged chunks and re-creates missing or
	// truncated fragment files; the scrub then checks the repaired files.
	l, err := openLog(dirs, false)
	if err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	recovery := l.Recovery()
	scrub, err := l.Scrub(true)
	if err != nil {
		l.Close()
		return fail(fmt.Errorf("repairing scrub: %w", err), jsonOut, stdout, stderr)
	}
	final, err := l.Scrub(false)
	if err != nil {
		l.Close()
		return fail(fmt.Errorf("checking scrub: %w", err), jsonOut, stdout, stderr)
	}
	segs := segmentRanges(l.Segments())
	if err := l.Close(); err != nil {
		return fail(err, jsonOut, stdout, stderr)
	}
	code := exitOK
	if !final.OK() {
		code = exitFailed
	}
	if jsonOut {
		out := repairJSON{OK: final.OK(), Recovery: newReportJSON(recovery), Scrub: newReportJSON(scrub), Final: newReportJSON(final)}
		out.Lost = out.Final.Lost
		writeJSON(stdout, out)
		return code
	}
	fmt.Fprintf(stdout, "open: %s\n", repairSummary(&recovery))
	writeReport(stdout, "  ", &recovery, segs)
	fmt.Fprintf(stdout, "scrub: %s\n", repairSummary(&scrub))
	writeReport(stdout, "  ", &scrub, segs)
	if final.OK() {
		fmt.Fprintf(stdout, "repair: ok: every chunk checks out: %s\n", summary(&final))
		return code
	}
	fmt.Fprintf(stdout, "repair: FAILED: after repair: %s\n", summary(&final))
	writeReport(stdout, "  ", &final, segs)
	if len(final.Lost) > 0 {
		fmt.Fprintf(stdout, "the lost records cannot be rebuilt from the files left; reads of them fail naming the segment and the records\n")
	}
	return code
}
