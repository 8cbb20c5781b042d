package segment

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"
)

// Problem kinds reported by recovery and Scrub.
const (
	ProblemMissingFile   = "missing-file"      // a fragment file does not exist
	ProblemShortFile     = "short-file"        // a fragment file was truncated
	ProblemBadFileHeader = "bad-file-header"   // the file header fails its checksum or disagrees
	ProblemBadChunk      = "bad-chunk"         // a chunk header or body fails its checksum
	ProblemMissingChunk  = "missing-chunk"     // a chunk lies beyond the end of a short file
	ProblemGarbage       = "garbage-after-end" // non-zero bytes after the last stripe
	ProblemTornTail      = "torn-tail"         // an incomplete last stripe, cut off
	ProblemLost          = "lost-records"      // records that cannot be rebuilt
)

// Problem is one finding of recovery or Scrub.
type Problem struct {
	Segment  string `json:"segment"`  // base position of the segment, 20 digits
	Fragment int    `json:"fragment"` // fragment index, -1 for the whole segment
	File     string `json:"file,omitempty"`
	Offset   int64  `json:"offset"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
	Repaired bool   `json:"repaired"`
}

func (p Problem) String() string {
	s := fmt.Sprintf("segment %s", p.Segment)
	if p.Fragment >= 0 {
		s += fmt.Sprintf(" fragment %d (%s)", p.Fragment, p.File)
	}
	s += fmt.Sprintf(" offset %d: %s: %s", p.Offset, p.Kind, p.Detail)
	if p.Repaired {
		s += " [repaired]"
	}
	return s
}

// LostRange is a run of records that cannot be read: more than Parity
// chunks of their stripes are damaged, or their stripes are gone.
type LostRange struct {
	Segment  string `json:"segment"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"` // inclusive
	Reason   string `json:"reason"`
}

func (r LostRange) String() string {
	return fmt.Sprintf("segment %s: records %d..%d lost: %s", r.Segment, r.FirstSeq, r.LastSeq, r.Reason)
}

// Report is what recovery or Scrub found and did.
type Report struct {
	Segments int         `json:"segments"`
	Stripes  int         `json:"stripes"`
	Records  uint64      `json:"records"`
	Problems []Problem   `json:"problems"`
	Lost     []LostRange `json:"lost"`
}

// OK reports whether nothing is wrong (or everything found was repaired)
// and nothing is lost.
func (r *Report) OK() bool {
	if len(r.Lost) > 0 {
		return false
	}
	for _, p := range r.Problems {
		if !p.Repaired && p.Kind != ProblemTornTail {
			return false
		}
	}
	return true
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d segments, %d stripes, %d records", r.Segments, r.Stripes, r.Records)
	for _, p := range r.Problems {
		b.WriteString("\n  " + p.String())
	}
	for _, l := range r.Lost {
		b.WriteString("\n  " + l.String())
	}
	return b.String()
}

// chunk states found by a scan.
type chunkState uint8

const (
	chunkOK        chunkState = iota
	chunkZero                 // all-zero header: never written
	chunkMissing              // beyond the end of the file, or no file
	chunkBadHeader            // non-zero header failing its checks
	chunkBadBody              // valid header, body checksum mismatch
)

type scannedStripe struct {
	entry      stripeEntry
	header     stripeHeader // consensus header (index is meaningless)
	states     [maxFragments]chunkState
	good       int
	markedLost bool // a header carries stripeFlagLost
}

// scanSegment walks the stripes of s, checking every header and body.
// expect is the position the segment should start with.
func (l *Log) scanSegment(s *segment) []scannedStripe {
	n := l.n
	hdrSize := stripeHeaderSize(n)
	var out []scannedStripe
	off := int64(fileHeaderSize)
	expect := s.baseSeq
	for off+int64(hdrSize) <= s.size {
		var headers [maxFragments]stripeHeader
		var states [maxFragments]chunkState
		valid := 0
		for j := 0; j < n; j++ {
			fr := &s.frags[j]
			var b []byte
			var err error
			if rerr := safeRead(func() {
				b = fr.readable(off, hdrSize)
				if b != nil {
					headers[j], err = decodeStripeHeader(b)
				}
			}); rerr != nil {
				b, err = nil, rerr
			}
			switch {
			case b == nil:
				states[j] = chunkMissing
			case errors.Is(err, errZeroHeader):
				states[j] = chunkZero
			case err != nil || headers[j].index != j || headers[j].k != l.k || headers[j].m != l.m:
				states[j] = chunkBadHeader
			default:
				states[j] = chunkOK
				valid++
			}
		}
		if valid == 0 {
			break
		}
		// Consensus: the header most fragments agree on.
		best, bestVotes := -1, 0
		for j := 0; j < n; j++ {
			if states[j] != chunkOK {
				continue
			}
			votes := 0
			for i := 0; i < n; i++ {
				if states[i] == chunkOK && headers[i].same(&headers[j]) {
					votes++
				}
			}
			if votes > bestVotes || (votes == bestVotes && headers[j].firstSeq == expect && headers[best].firstSeq != expect) {
				best, bestVotes = j, votes
			}
		}
		h := headers[best]
		end := off + int64(hdrSize) + int64(h.chunkLen)
		if end > s.size || h.firstSeq < expect {
			// A header that points outside the file or backwards is damage,
			// not a stripe: stop here; what follows is reported as garbage.
			break
		}
		st := scannedStripe{header: h, states: states}
		for j := 0; j < n; j++ {
			if states[j] != chunkOK {
				continue
			}
			if headers[j].flags&stripeFlagLost != 0 {
				st.markedLost = true
			}
			if !headers[j].same(&h) {
				st.states[j] = chunkBadHeader
				continue
			}
			fr := &s.frags[j]
			var ok, present bool
			if rerr := safeRead(func() {
				body := fr.readable(off+int64(hdrSize), int(h.chunkLen))
				present = body != nil
				ok = present && xxhash.Sum64(body) == h.sums[j]
			}); rerr != nil {
				present = false
			}
			switch {
			case !present:
				st.states[j] = chunkMissing
			case !ok:
				st.states[j] = chunkBadBody
			default:
				st.good++
			}
		}
		st.entry = stripeEntry{off: off, firstSeq: h.firstSeq, count: h.count,
			payloadLen: h.payloadLen, chunkLen: h.chunkLen, ts: h.timestamp, lost: st.good < l.k}
		out = append(out, st)
		expect = h.firstSeq + uint64(h.count)
		off = end
	}
	return out
}

// tornSuffix returns how many stripes at the end of stripes are an
// incomplete write: fewer than k intact chunks and no sign of damage other
// than unwritten or half-written chunks (no missing file, no short file).
// In Fsync mode such stripes were never acknowledged: an ack follows the
// sync of all k+m chunks.
//
// A write interrupted by a crash stops at a page boundary, so every chunk
// that is not intact must look like one: zeros from a page boundary to the
// end of the chunk. A chunk damaged anywhere else, or a log closed cleanly,
// means damage, which is reported, never cut.
func (l *Log) tornSuffix(s *segment, stripes []scannedStripe) int {
	if l.clean {
		return 0
	}
	size := int64(stripeHeaderSize(l.n))
	t := 0
	for i := len(stripes) - 1; i >= 0; i-- {
		st := &stripes[i]
		if st.good >= l.k || st.markedLost {
			break
		}
		for j := 0; j < l.n; j++ {
			switch st.states[j] {
			case chunkOK:
			case chunkMissing:
				return t
			default:
				if !tornShaped(&s.frags[j], st.entry.off, size+int64(st.entry.chunkLen)) {
					return t
				}
			}
		}
		t++
	}
	return t
}

// tornShaped reports whether [off, off+n) of fr ends in zeros that start at
// a page boundary (or is all zero): what an interrupted write leaves.
func tornShaped(fr *fragment, off, n int64) bool {
	const page = 4096
	shaped := false
	_ = safeRead(func() {
		b := fr.readable(off, int(n))
		if b == nil {
			return
		}
		z := len(b) // index after the last non-zero byte
		for z > 0 && b[z-1] == 0 {
			z--
		}
		firstZeroPage := (off + int64(z) + page - 1) / page * page
		shaped = z == 0 || firstZeroPage < off+n
	})
	return shaped
}

// checkSegment scans s, fills its index and reports problems. When repair
// is true (and the log is writable), damaged chunks that can be rebuilt are
// rewritten, missing or short files re-created, torn tails and garbage after
// the end zeroed. last says whether s is the newest segment.
// segIndex is the index of a segment built by a scan.
type segIndex struct {
	stripes  []stripeEntry
	end      uint64
	writeOff int64
	lastTs   int64
}

func (l *Log) checkSegment(s *segment, last, repair bool, rep *Report) (segIndex, error) {
	name := s.name()
	prob := func(j int, off int64, kind, detail string) *Problem {
		p := Problem{Segment: name, Fragment: j, Offset: off, Kind: kind, Detail: detail}
		if j >= 0 {
			p.File = s.frags[j].path
		}
		rep.Problems = append(rep.Problems, p)
		problemsTotal.Inc()
		return &rep.Problems[len(rep.Problems)-1]
	}
	// File-level problems first: re-create what is missing so chunks can be
	// rewritten into it.
	for j := range s.frags {
		fr := &s.frags[j]
		var p *Problem
		switch {
		case fr.file == nil:
			p = prob(j, 0, ProblemMissingFile, "fragment file does not exist")
		case fr.fileSize < s.size:
			p = prob(j, fr.fileSize, ProblemShortFile, fmt.Sprintf("file is %d bytes, want %d", fr.fileSize, s.size))
		case fr.header != nil:
			p = prob(j, 0, ProblemBadFileHeader, fr.header.Error())
		}
		if p != nil && repair {
			if err := l.repairFile(s, j); err != nil {
				return segIndex{}, err
			}
			p.Repaired = true
		}
	}

	stripes := l.scanSegment(s)
	torn := 0
	if last {
		torn = l.tornSuffix(s, stripes)
	}
	kept := stripes[:len(stripes)-torn]
	hdrSize := int64(stripeHeaderSize(l.n))
	var lostFrom, lostTo uint64
	lostOpen := false
	flushLost := func() {
		if lostOpen {
			rep.Lost = append(rep.Lost, LostRange{Segment: name, FirstSeq: lostFrom, LastSeq: lostTo,
				Reason: fmt.Sprintf("more than %d of %d chunks damaged", l.m, l.n)})
			lostOpen = false
		}
	}
	expect := s.baseSeq
	entries := make([]stripeEntry, 0, len(kept))
	for i := range kept {
		st := &kept[i]
		e := st.entry
		if e.firstSeq > expect {
			flushLost()
			rep.Lost = append(rep.Lost, LostRange{Segment: name, FirstSeq: expect, LastSeq: e.firstSeq - 1,
				Reason: "stripes missing inside the segment"})
		}
		for j := 0; j < l.n; j++ {
			switch st.states[j] {
			case chunkOK:
				continue
			case chunkMissing:
				if s.frags[j].file != nil && s.frags[j].fileSize >= s.size {
					prob(j, e.off, ProblemMissingChunk, fmt.Sprintf("chunk of records %d..%d unreadable", e.firstSeq, e.firstSeq+uint64(e.count)-1))
				}
				// Otherwise the missing or short file was reported above.
			default:
				prob(j, e.off, ProblemBadChunk, fmt.Sprintf("chunk of records %d..%d fails its checksum", e.firstSeq, e.firstSeq+uint64(e.count)-1))
			}
		}
		if e.lost {
			if repair && !st.markedLost {
				if err := l.markLost(s, st); err != nil {
					return segIndex{}, err
				}
			}
			lastSeq := e.firstSeq + uint64(e.count) - 1
			if lostOpen && lostTo+1 == e.firstSeq {
				lostTo = lastSeq
			} else {
				flushLost()
				lostFrom, lostTo, lostOpen = e.firstSeq, lastSeq, true
			}
		} else {
			flushLost()
			if st.good < l.n && repair {
				if err := l.repairStripe(s, st); err != nil {
					return segIndex{}, err
				}
				// Mark the chunk problems of this stripe repaired.
				for p := len(rep.Problems) - 1; p >= 0 && rep.Problems[p].Segment == name && rep.Problems[p].Offset == e.off; p-- {
					rep.Problems[p].Repaired = true
				}
			}
		}
		entries = append(entries, e)
		expect = e.firstSeq + uint64(e.count)
		rep.Records += uint64(e.count)
	}
	flushLost()
	rep.Stripes += len(entries)
	endOff := int64(fileHeaderSize)
	if len(kept) > 0 {
		k := kept[len(kept)-1].entry
		endOff = k.off + hdrSize + int64(k.chunkLen)
	}
	if torn > 0 {
		first := stripes[len(kept)].entry
		lastSt := stripes[len(stripes)-1].entry
		p := prob(-1, first.off, ProblemTornTail, fmt.Sprintf("incomplete write of records %d..%d cut off (never acknowledged)",
			first.firstSeq, lastSt.firstSeq+uint64(lastSt.count)-1))
		p.Repaired = repair
	}
	// Anything non-zero after the end is garbage: a torn write whose headers
	// did not survive, or damage. Reads never look there, but the next
	// append would be mixed up with it.
	type nonZero struct{ first, last int64 }
	after := make([]nonZero, len(s.frags))
	headerless := last && !l.clean && torn == 0
	found := false
	for j := range s.frags {
		first, lastNZ := l.findNonZero(&s.frags[j], endOff, s.size)
		after[j] = nonZero{first, lastNZ}
		if first >= 0 {
			found = true
			headerless = headerless && first >= endOff+hdrSize
		}
	}
	if found && headerless {
		// Chunks behind zero headers in every fragment: an Async group
		// commit interrupted before its headers were written (writeJob
		// writes them last), never acknowledged.
		p := prob(-1, endOff, ProblemTornTail, "an interrupted group commit, chunks written without their headers, cut off (never acknowledged)")
		p.Repaired = repair
	}
	for j := range s.frags {
		first, lastNZ := after[j].first, after[j].last
		if first < 0 {
			continue
		}
		var p *Problem
		if torn == 0 && !headerless {
			p = prob(j, first, ProblemGarbage, fmt.Sprintf("non-zero bytes in [%d, %d] after the last stripe", first, lastNZ))
		}
		if repair {
			if err := l.zeroRange(&s.frags[j], first, lastNZ+1); err != nil {
				return segIndex{}, err
			}
			if p != nil {
				p.Repaired = true
			}
		}
	}
	if repair {
		// Every chunk that could be rebuilt was rewritten.
		for j := range s.frags {
			s.frags[j].lostFrom = math.MaxInt64
		}
	}
	idx := segIndex{stripes: entries, end: expect, writeOff: endOff}
	if len(entries) > 0 {
		idx.lastTs = entries[len(entries)-1].ts
	}
	return idx, nil
}

// findNonZero returns the first and last non-zero byte offsets of fr in
// [from, to), or -1. It skips holes and unwritten extents with SEEK_DATA so
// that a preallocated, mostly empty file costs nothing to check.
func (l *Log) findNonZero(fr *fragment, from, to int64) (first, last int64) {
	first, last = -1, -1
	if fr.file == nil {
		return
	}
	to = min(to, fr.fileSize, int64(len(fr.mem)))
	fd := int(fr.file.Fd())
	pos := from
	for pos < to {
		d, err := unix.Seek(fd, pos, unix.SEEK_DATA)
		if err != nil || d >= to {
			break
		}
		h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil || h > to {
			h = to
		}
		_ = safeRead(func() {
			region := fr.mem[max(d, pos):h]
			for i := 0; i < len(region); {
				n := min(len(region)-i, len(zeroPage))
				if !isZero(region[i : i+n]) {
					for b := i; b < i+n; b++ {
						if region[b] != 0 {
							at := max(d, pos) + int64(b)
							if first < 0 {
								first = at
							}
							last = at
						}
					}
				}
				i += n
			}
		})
		pos = h
	}
	return first, last
}

// zeroRange writes zeros over [from, to) of fr.
func (l *Log) zeroRange(fr *fragment, from, to int64) error {
	for from < to {
		n := min(to-from, int64(len(zeroPage)))
		if _, err := fr.file.WriteAt(zeroPage[:n], from); err != nil {
			return fmt.Errorf("cannot zero %q at %d: %w", fr.path, from, err)
		}
		from += n
	}
	return nil
}

// repairFile re-creates a missing, short or headerless fragment file. Its
// chunks are rewritten by repairStripe afterwards.
func (l *Log) repairFile(s *segment, j int) error {
	fr := &s.frags[j]
	h := fileHeader{index: j, k: l.k, m: l.m, baseSeq: s.baseSeq, createdMs: l.cfg.Now().UnixMilli(), size: s.size}
	if fr.file == nil {
		_ = fr.close()
		nf, err := createFragment(fragmentPath(l.cfg.Dirs, s.baseSeq, j), h)
		if err != nil {
			return err
		}
		nf.lostFrom = fileHeaderSize
		*fr = nf
		return syncDir(l.cfg.Dirs[j%len(l.cfg.Dirs)])
	}
	if fr.fileSize < s.size {
		if err := preallocate(fr.file, s.size); err != nil {
			return fmt.Errorf("cannot extend fragment %q to %d bytes: %w", fr.path, s.size, err)
		}
		fr.lostFrom = min(fr.lostFrom, fr.fileSize)
		fr.fileSize = s.size
		if err := fr.mapFile(s.size); err != nil {
			return err
		}
	}
	if _, err := fr.file.WriteAt(appendFileHeader(nil, h), 0); err != nil {
		return fmt.Errorf("cannot rewrite header of fragment %q: %w", fr.path, err)
	}
	fr.header = nil
	return nil
}

// markLost writes the stripe's header, flagged lost, over every chunk header
// that is not intact, so that the stripe keeps its place in the log.
func (l *Log) markLost(s *segment, st *scannedStripe) error {
	h := st.header
	h.flags |= stripeFlagLost
	for j := 0; j < l.n; j++ {
		if st.states[j] == chunkOK || st.states[j] == chunkBadBody {
			continue
		}
		h.index = j
		if _, err := s.frags[j].file.WriteAt(appendStripeHeader(nil, &h), st.entry.off); err != nil {
			return fmt.Errorf("cannot mark lost stripe in %q at %d: %w", s.frags[j].path, st.entry.off, err)
		}
	}
	st.markedLost = true
	return nil
}

// repairStripe rebuilds the damaged chunks of a stripe that has at least k
// intact ones and rewrites them in place.
func (l *Log) repairStripe(s *segment, st *scannedStripe) error {
	e := st.entry
	c := int(e.chunkLen)
	hdrSize := stripeHeaderSize(l.n)
	shards := make([][]byte, l.n)
	err := safeRead(func() {
		for j := 0; j < l.n; j++ {
			if st.states[j] == chunkOK {
				shards[j] = append([]byte(nil), s.frags[j].readable(e.off+int64(hdrSize), c)...)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("segment %s: cannot read stripe at %d for repair: %w", s.name(), e.off, err)
	}
	if err := l.enc.Reconstruct(shards); err != nil {
		return fmt.Errorf("segment %s: cannot rebuild stripe at %d: %w", s.name(), e.off, err)
	}
	h := st.header
	for j := 0; j < l.n; j++ {
		if st.states[j] == chunkOK {
			continue
		}
		if xxhash.Sum64(shards[j]) != h.sums[j] {
			return fmt.Errorf("segment %s: rebuilt chunk %d at %d fails its checksum", s.name(), j, e.off)
		}
		h.index = j
		buf := appendStripeHeader(make([]byte, 0, hdrSize+c), &h)
		buf = append(buf, shards[j]...)
		if _, err := s.frags[j].file.WriteAt(buf, e.off); err != nil {
			return fmt.Errorf("cannot rewrite chunk in %q at %d: %w", s.frags[j].path, e.off, err)
		}
		st.states[j] = chunkOK
	}
	st.good = l.n
	return nil
}

// problemsTotal counts problems found by recovery and scrubs.
var problemsTotal = metrics.NewCounter(`sluice_segment_problems_found_total`)
