package segment

import (
	"errors"
	"fmt"
	"sort"

	"github.com/cespare/xxhash/v2"
)

// Default read limits.
const (
	defaultReadRecords = 10000
	defaultReadBytes   = 10 << 20
)

// Read returns committed records from position pos on: at most maxRecords
// records and, past the first record, at most maxBytes of data (zero or less
// means 10,000 records and 10 MiB). A position before the oldest record kept
// reads from the oldest. It returns the position after the last record
// returned. Records own fresh memory; the caller may keep them.
//
// Records that cannot be rebuilt yield a *CorruptionError naming the
// segment and the records; records before them are returned first, with a
// nil error, so that a reader makes progress up to the damage.
func (l *Log) Read(pos uint64, maxRecords, maxBytes int) ([]Record, uint64, error) {
	if maxRecords <= 0 {
		maxRecords = defaultReadRecords
	}
	if maxBytes <= 0 {
		maxBytes = defaultReadBytes
	}
	end := l.committed.Load()
	out := make([]Record, 0, min(maxRecords, int(min(end-pos, 1024))))
	var scratch []Record // decoded records of one stripe, reused
	bytes := 0
	for pos < end && len(out) < maxRecords {
		l.state.RLock()
		if len(l.segs) == 0 {
			l.state.RUnlock()
			return out, pos, ErrClosed
		}
		if pos < l.first {
			pos = l.first
		}
		si := l.findSegmentLocked(pos)
		if si < 0 {
			l.state.RUnlock()
			return out, pos, fmt.Errorf("BUG: segment: no segment holds position %d (first %d)", pos, l.first)
		}
		s := l.segs[si]
		stripes := s.stripes
		var nextBase uint64 = end
		if si+1 < len(l.segs) {
			nextBase = l.segs[si+1].baseSeq
		}
		s.acquire()
		l.state.RUnlock()

		i := sort.Search(len(stripes), func(i int) bool {
			return stripes[i].firstSeq+uint64(stripes[i].count) > pos
		})
		if i == len(stripes) || stripes[i].firstSeq > pos {
			// pos lies in a hole: between segments or inside a segment
			// whose stripes are gone.
			holeEnd := nextBase
			if i < len(stripes) {
				holeEnd = stripes[i].firstSeq
			}
			s.release()
			if len(out) > 0 {
				return out, pos, nil
			}
			if holeEnd <= pos {
				return out, pos, fmt.Errorf("BUG: segment: empty hole at %d in segment %s", pos, s.name())
			}
			return out, pos, &CorruptionError{Segment: s.name(), FirstSeq: pos, LastSeq: holeEnd - 1, Err: fmt.Errorf("%w: stripes are missing", ErrCorrupt)}
		}
		stop := false
		for ; i < len(stripes) && !stop; i++ {
			e := &stripes[i]
			if e.firstSeq >= end {
				stop = true
				break
			}
			payload, err := l.readStripe(s, e)
			if err != nil {
				s.release()
				if len(out) > 0 {
					return out, pos, nil
				}
				return out, pos, err
			}
			recs, err := decodeRecords(scratch[:0], payload, e.count, e.firstSeq, e.ts)
			scratch = recs
			if err != nil {
				s.release()
				if len(out) > 0 {
					return out, pos, nil
				}
				// The chunks passed their checksums, so this is a bug or
				// damage the checksums missed; never serve it.
				return out, pos, &CorruptionError{Segment: s.name(), FirstSeq: e.firstSeq, LastSeq: e.firstSeq + uint64(e.count) - 1, Offset: e.off, Err: err}
			}
			for _, r := range recs[pos-e.firstSeq:] {
				if len(out) >= maxRecords || (len(out) > 0 && bytes+len(r.Data) > maxBytes) {
					stop = true
					break
				}
				out = append(out, r)
				bytes += len(r.Data)
				pos = r.Seq + 1
			}
		}
		s.release()
		if stop {
			break
		}
	}
	return out, pos, nil
}

// SeekTime returns the position of the first record that arrived at or
// after ms (milliseconds since the epoch), or the next position if none did.
func (l *Log) SeekTime(ms int64) uint64 {
	end := l.committed.Load()
	l.state.RLock()
	defer l.state.RUnlock()
	for _, s := range l.segs {
		if len(s.stripes) == 0 || s.lastTs < ms {
			continue
		}
		i := sort.Search(len(s.stripes), func(i int) bool { return s.stripes[i].ts >= ms })
		return max(min(s.stripes[i].firstSeq, end), l.first)
	}
	return end
}

// readStripe returns the payload of a stripe, rebuilding missing or corrupt
// data chunks from parity.
func (l *Log) readStripe(s *segment, e *stripeEntry) ([]byte, error) {
	corrupt := func(err error) error {
		return &CorruptionError{Segment: s.name(), FirstSeq: e.firstSeq, LastSeq: e.firstSeq + uint64(e.count) - 1,
			File: s.frags[0].path, Offset: e.off, Err: err}
	}
	if e.lost {
		return nil, corrupt(fmt.Errorf("%w: more than %d of %d chunks were damaged at recovery", ErrCorrupt, l.m, l.n))
	}
	c := int(e.chunkLen)
	payload := make([]byte, l.k*c)
	var sums [maxFragments]uint64
	haveSums := false
	var bad [maxFragments]bool
	nbad := 0
	for i := 0; i < l.k; i++ {
		if l.readChunk(s, e, i, payload[i*c:(i+1)*c], &sums, &haveSums) {
			continue
		}
		bad[i] = true
		nbad++
	}
	if nbad == 0 {
		return payload[:e.payloadLen], nil
	}
	if nbad > l.m {
		return nil, corrupt(fmt.Errorf("%w: %d of %d data chunks damaged, %d parity chunks", ErrCorrupt, nbad, l.k, l.m))
	}
	shards := make([][]byte, l.n)
	for i := 0; i < l.k; i++ {
		if bad[i] {
			shards[i] = payload[i*c : i*c : (i+1)*c]
		} else {
			shards[i] = payload[i*c : (i+1)*c]
		}
	}
	parity := make([]byte, l.m*c)
	good := l.k - nbad
	for j := l.k; j < l.n; j++ {
		p := parity[(j-l.k)*c : (j-l.k+1)*c]
		if l.readChunk(s, e, j, p, &sums, &haveSums) {
			shards[j] = p
			good++
		}
	}
	if good < l.k || !haveSums {
		return nil, corrupt(fmt.Errorf("%w: only %d of %d chunks intact, %d needed", ErrCorrupt, good, l.n, l.k))
	}
	if err := l.enc.ReconstructData(shards); err != nil {
		return nil, corrupt(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	for i := 0; i < l.k; i++ {
		if bad[i] && xxhash.Sum64(shards[i]) != sums[i] {
			return nil, corrupt(fmt.Errorf("%w: rebuilt chunk %d fails its checksum", ErrCorrupt, i))
		}
	}
	return payload[:e.payloadLen], nil
}

// readChunk copies chunk j of stripe e into dst and checks it. It records
// the stripe's checksums from the first intact header.
func (l *Log) readChunk(s *segment, e *stripeEntry, j int, dst []byte, sums *[maxFragments]uint64, haveSums *bool) bool {
	fr := &s.frags[j]
	hdrSize := stripeHeaderSize(l.n)
	ok := false
	err := safeRead(func() {
		hb := fr.readable(e.off, hdrSize)
		body := fr.readable(e.off+int64(hdrSize), len(dst))
		if hb == nil || body == nil {
			return
		}
		h, err := decodeStripeHeader(hb)
		if err != nil || h.index != j || h.firstSeq != e.firstSeq || h.count != e.count ||
			h.payloadLen != e.payloadLen || h.chunkLen != e.chunkLen || h.timestamp != e.ts {
			return
		}
		copy(dst, body)
		if xxhash.Sum64(dst) != h.sums[j] {
			return
		}
		if !*haveSums {
			*sums, *haveSums = h.sums, true
		}
		ok = true
	})
	return err == nil && ok
}

// IsCorruption reports whether err says that records are unreadable.
func IsCorruption(err error) bool { return errors.Is(err, ErrCorrupt) }
