package segment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A spare is the next segment's fragment files, created before the roll
// that needs them by a goroutine of its own (Log.maybePrepareSpare). Creating a
// segment is k+m creates, fallocates and mappings; under a heavy write-back
// load fallocate waits for block bitmaps read behind the queued writes
// (tens of milliseconds per segment), and the roll that waited for it
// stalled the whole write pipeline. Until a roll adopts them, the files are
// named next.JJ.tmp (sparePath) and have no header; adoptSpare writes the
// header and renames each into place. A roll with no spare ready makes one
// on the spot (newSegment), so every segment is created the one way. Open
// removes leftovers of a crash (removeSpares); a spare never holds data.
type spare struct {
	size  int64 // fragment size the files were preallocated to
	frags []fragment
	err   error
	done  chan struct{} // closed when frags and err are set
}

// sparePath names fragment j of the spare. The name never parses as a
// fragment file name, so listSegments and sluicectl pass over it.
func sparePath(dirs []string, j int) string {
	return filepath.Join(dirs[j%len(dirs)], fmt.Sprintf("next.%02d.tmp", j))
}

// isSpareName tells whether name is one of sparePath's names.
func isSpareName(name string) bool {
	j, ok := strings.CutPrefix(name, "next.")
	if !ok {
		return false
	}
	j, ok = strings.CutSuffix(j, ".tmp")
	return ok && len(j) == 2 && j[0] >= '0' && j[0] <= '9' && j[1] >= '0' && j[1] <= '9'
}

// removeSpares deletes the spare files a crash left in dirs.
func removeSpares(dirs []string) error {
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("cannot list %q: %w", d, err)
		}
		for _, e := range entries {
			if isSpareName(e.Name()) && e.Type().IsRegular() {
				if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
					return fmt.Errorf("cannot remove spare fragment file: %w", err)
				}
			}
		}
	}
	return nil
}

// maybePrepareSpare starts preparing the next segment's files once seg, the
// newest segment, is half full: late enough that a log that stops growing
// often holds no spare, early enough that the spare is ready long before
// the roll. Only for segments of the full
// FragmentBytes: a log still in its small first segments
// (InitialFragmentBytes) is not busy, and a server of many shards would
// otherwise keep a spare per shard (files, mappings, reserved blocks) for
// rolls that rarely come. Under flushMu (the coder's).
func (l *Log) maybePrepareSpare(seg *segment) {
	if l.spare != nil || l.cfg.ReadOnly || seg.size < l.cfg.FragmentBytes || 2*seg.writeOff < seg.size {
		return
	}
	// The spare is the next segment: it takes the room the cap keeps for
	// it (roomForSegment), counted in diskBytes once adopted.
	if !l.roomForSegment() {
		return
	}
	size := l.cfg.FragmentBytes
	sp := &spare{size: size, done: make(chan struct{})}
	l.spare = sp
	async := l.cfg.Durability == Async
	dirs := l.cfg.Dirs
	n := l.n
	go func() {
		defer close(sp.done)
		sp.frags, sp.err = createSpare(dirs, n, size, async)
	}()
}

// createSpare creates the n preallocated, mapped fragment files of a spare
// (writable mappings in Async mode), without headers.
func createSpare(dirs []string, n int, size int64, async bool) ([]fragment, error) {
	frags := make([]fragment, n)
	for j := range frags {
		var err error
		frags[j], err = createFile(sparePath(dirs, j), size)
		if err == nil && async {
			err = frags[j].makeWritable()
		}
		if err != nil {
			discardFrags(frags[:j+1]) // the failed one too: it may exist, part allocated
			return nil, err
		}
	}
	return frags, nil
}

// discardFrags closes fragment files and removes them.
func discardFrags(frags []fragment) {
	for i := range frags {
		frags[i].close()
		if frags[i].path != "" {
			os.Remove(frags[i].path)
		}
	}
}

// takeSpare returns the spare, waiting until it is ready, and forgets it;
// nil when there is none. Under flushMu.
func (l *Log) takeSpare() *spare {
	sp := l.spare
	if sp == nil {
		return nil
	}
	l.spare = nil
	<-sp.done
	return sp
}

// dropSpare removes the spare's files, if there is one. Under flushMu, or
// after the pipeline stopped (Close).
func (l *Log) dropSpare() {
	if sp := l.takeSpare(); sp != nil && sp.err == nil {
		discardFrags(sp.frags)
	}
}

// adoptSpare makes the spare's files the fragment files of s (base,
// header h without the index): it writes each file's header, then renames
// it into place. On failure it removes what it took and s keeps no
// fragment; the caller then creates the files afresh.
func adoptSpare(sp *spare, dirs []string, s *segment, h fileHeader) error {
	for j := range sp.frags {
		fr := &sp.frags[j]
		h.index = j
		path := fragmentPath(dirs, s.baseSeq, j)
		if _, err := fr.file.WriteAt(appendFileHeader(nil, h), 0); err != nil {
			discardFrags(sp.frags)
			return fmt.Errorf("cannot write header of fragment %q: %w", fr.path, err)
		}
		if err := os.Rename(fr.path, path); err != nil {
			discardFrags(sp.frags)
			return fmt.Errorf("cannot rename spare fragment to %q: %w", path, err)
		}
		fr.path = path
	}
	copy(s.frags, sp.frags)
	return nil
}
