package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"
)

// tailConfig configures a tailer.
type tailConfig struct {
	// Globs name the files to ship (filepath.Match patterns).
	Globs []string
	// FingerprintBytes is how many leading bytes identify a file's content
	// beside its device and inode. Default 1024.
	FingerprintBytes int
	// RotateWait is how long a rotated file (no longer at its path) is
	// still read at its end before it is dropped, for writers that reopen
	// late. Its unterminated last line is shipped after it. Default 1 s.
	RotateWait time.Duration
	// MaxLineBytes is the longest record; longer lines are split. Default
	// 1 MiB - 1 KiB (a Kinesis record is at most 1 MiB with its key).
	MaxLineBytes int
}

func (c *tailConfig) withDefaults() {
	if c.FingerprintBytes <= 0 {
		c.FingerprintBytes = 1024
	}
	if c.RotateWait <= 0 {
		c.RotateWait = time.Second
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = 1<<20 - 1024
	}
}

// tracked is one open file.
type tracked struct {
	fileState
	f         *os.File
	size      int64
	retiredAt time.Time
	// drained: retired and read to its end, but still matched by a glob
	// (a rotated name like app.log.1 under "app.log*"). It is kept, so
	// that it is not found again as a new file, until it no longer
	// matches; it no longer holds up its key's queue.
	drained bool
}

// tailer follows the files of its globs. Owned by one goroutine; lag()
// may be called from any.
type tailer struct {
	cfg       tailConfig
	log       *slog.Logger
	files     []*tracked
	nextOrder uint64
	rr        int
	buf       []byte
	// changed is set when a file is found, rotated, truncated or dropped;
	// the owner clears it.
	changed bool

	copies  map[[2]uint64]bool // copies already reported by scan
	matched map[[2]uint64]bool // the files the globs matched at the last scan

	lagMu   sync.Mutex
	lagSnap map[string]int64
}

func newTailer(cfg tailConfig, log *slog.Logger) *tailer {
	cfg.withDefaults()
	return &tailer{cfg: cfg, log: log, lagSnap: map[string]int64{}, copies: map[[2]uint64]bool{}}
}

// fileID returns the device and inode of fi.
func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

// fingerprint hashes the first n bytes of f; ok is false when f is
// shorter.
func fingerprint(f *os.File, n int) (uint64, bool, error) {
	b := make([]byte, n)
	got, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, false, err
	}
	if got < n {
		return 0, false, nil
	}
	return xxhash.Sum64(b), true, nil
}

// copyOf returns the tracked file whose fingerprinted first bytes f
// starts with, if any. Only full fingerprints count: two files that share
// a short start (a header line) are not copies of each other.
func (tl *tailer) copyOf(f *os.File, size int64) *tracked {
	for _, t := range tl.files {
		if int(t.FPLen) < tl.cfg.FingerprintBytes || size < int64(t.FPLen) {
			continue
		}
		if h, ok, err := fingerprint(f, int(t.FPLen)); err == nil && ok && h == t.FPHash {
			return t
		}
	}
	return nil
}

func (tl *tailer) byID(dev, ino uint64) *tracked {
	for _, t := range tl.files {
		if t.Dev == dev && t.Ino == ino {
			return t
		}
	}
	return nil
}

// states returns the checkpoint view of the tracked files.
func (tl *tailer) states() []fileState {
	out := make([]fileState, 0, len(tl.files))
	for _, t := range tl.files {
		out = append(out, t.fileState)
	}
	return out
}

// close closes every file.
func (tl *tailer) close() {
	for _, t := range tl.files {
		t.f.Close()
	}
	tl.files = nil
}

// restore reopens the files of a checkpoint: at their last path, else by
// device and inode among the glob matches and in the folder of their last
// path (a file rotated by rename, perhaps to a name the globs do not
// match). A file found nowhere is reported and forgotten.
func (tl *tailer) restore(states []fileState) {
	now := time.Now()
	for _, s := range states {
		tl.nextOrder = max(tl.nextOrder, s.Order+1)
		f, fi := tl.locate(s)
		if f == nil {
			tl.log.Warn("file of the checkpoint not found; its unshipped lines, if any, are lost", "key", s.Key, "path", s.Path, "offset", s.Offset)
			continue
		}
		t := &tracked{fileState: s, f: f, size: fi.Size()}
		if t.Retired {
			t.retiredAt = now
		}
		tl.files = append(tl.files, t)
	}
	// Truncations and rotations while the agent was down.
	tl.check(now)
}

func (tl *tailer) locate(s fileState) (*os.File, os.FileInfo) {
	try := func(p string) (*os.File, os.FileInfo) {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, nil
		}
		if dev, ino := fileID(fi); dev != s.Dev || ino != s.Ino {
			return nil, nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, nil
		}
		fi, err = f.Stat()
		if dev, ino := fileID(fi); err != nil || dev != s.Dev || ino != s.Ino {
			f.Close()
			return nil, nil
		}
		return f, fi
	}
	if f, fi := try(s.Path); f != nil {
		return f, fi
	}
	var cands []string
	for _, g := range tl.cfg.Globs {
		m, _ := filepath.Glob(g)
		cands = append(cands, m...)
	}
	for _, dir := range []string{filepath.Dir(s.Path), filepath.Dir(s.Key)} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			cands = append(cands, filepath.Join(dir, e.Name()))
		}
	}
	for _, p := range cands {
		if f, fi := try(p); f != nil {
			return f, fi
		}
	}
	return nil, nil
}

// scan finds new files, rotated files and truncated files.
func (tl *tailer) scan() {
	now := time.Now()
	var paths []string
	for _, g := range tl.cfg.Globs {
		m, err := filepath.Glob(g)
		if err != nil {
			tl.log.Error("bad glob", "glob", g, "err", err)
			continue
		}
		paths = append(paths, m...)
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	tl.matched = make(map[[2]uint64]bool, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		dev, ino := fileID(fi)
		tl.matched[[2]uint64{dev, ino}] = true
		if t := tl.byID(dev, ino); t != nil {
			t.Path = p
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			tl.log.Warn("cannot open file", "path", p, "err", err)
			continue
		}
		fi, err = f.Stat()
		if err != nil {
			f.Close()
			continue
		}
		dev, ino = fileID(fi)
		if tl.byID(dev, ino) != nil { // replaced between Stat and Open
			f.Close()
			continue
		}
		if orig := tl.copyOf(f, fi.Size()); orig != nil {
			// A copy of a file being tailed (copytruncate's, when the
			// globs match its name): its lines are shipped from the
			// original, or from this copy by truncated() once the
			// original is cut.
			if !tl.copies[[2]uint64{dev, ino}] {
				tl.copies[[2]uint64{dev, ino}] = true
				tl.log.Info("not shipping a copy of a tailed file", "path", p, "original", orig.Path)
			}
			f.Close()
			continue
		}
		t := &tracked{fileState: fileState{Dev: dev, Ino: ino, Key: p, Path: p, Order: tl.nextOrder}, f: f, size: fi.Size()}
		tl.nextOrder++
		tl.files = append(tl.files, t)
		tl.changed = true
		tl.log.Info("new file", "path", p)
	}
	for _, t := range slices.Clone(tl.files) {
		if t.drained && !tl.matched[[2]uint64{t.Dev, t.Ino}] {
			tl.drop(t)
		}
	}
	tl.check(now)
}

// check marks files no longer at their key's path as retired, handles
// truncation and extends fingerprints.
func (tl *tailer) check(now time.Time) {
	for _, t := range slices.Clone(tl.files) {
		if !t.Retired {
			fi, err := os.Stat(t.Key)
			if dev, ino := uint64(0), uint64(0); err == nil {
				dev, ino = fileID(fi)
				if dev != t.Dev || ino != t.Ino {
					err = errors.New("replaced")
				}
			}
			if err != nil {
				t.Retired, t.retiredAt = true, now
				tl.changed = true
				tl.log.Info("file rotated", "key", t.Key, "offset", t.Offset)
			}
		}
		fi, err := t.f.Stat()
		if err != nil {
			continue
		}
		t.size = fi.Size()
		truncated := uint64(t.size) < t.Offset
		if !truncated && t.FPLen > 0 {
			h, ok, err := fingerprint(t.f, int(t.FPLen))
			truncated = err == nil && (!ok || h != t.FPHash)
		}
		if truncated {
			tl.truncated(t, now)
		}
		if int(t.FPLen) < tl.cfg.FingerprintBytes && t.size > int64(t.FPLen) {
			n := min(int(t.size), tl.cfg.FingerprintBytes)
			if h, ok, err := fingerprint(t.f, n); err == nil && ok {
				t.FPLen, t.FPHash = uint32(n), h
			}
		}
	}
	tl.updateLag()
}

// truncated handles a file whose content was cut (copytruncate): the
// lines after its offset are looked for in a copy beside it (same leading
// bytes, another inode), which is shipped from that offset first; then
// the file is read again from its start.
func (tl *tailer) truncated(t *tracked, now time.Time) {
	tl.log.Info("file truncated", "path", t.Path, "offset", t.Offset, "size", t.size)
	tl.changed = true
	if t.FPLen > 0 {
		if c := tl.findCopy(t); c != nil {
			tl.files = append(tl.files, c)
			tl.log.Info("shipping the rest of the truncated file from its copy", "copy", c.Path, "offset", c.Offset, "size", c.size)
		} else if t.Offset > 0 || t.size > 0 {
			tl.log.Warn("file truncated and no copy of it found: the lines written after the last shipped one and before the truncation are lost", "path", t.Path, "offset", t.Offset)
		}
	}
	t.Offset, t.FPLen, t.FPHash = 0, 0, 0
	t.Order = tl.nextOrder
	tl.nextOrder++
}

func (tl *tailer) findCopy(t *tracked) *tracked {
	dir := filepath.Dir(t.Path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			continue
		}
		dev, ino := fileID(fi)
		if tl.byID(dev, ino) != nil || fi.Size() < int64(t.Offset) {
			f.Close()
			continue
		}
		if h, ok, err := fingerprint(f, int(t.FPLen)); err != nil || !ok || h != t.FPHash {
			f.Close()
			continue
		}
		return &tracked{
			fileState: fileState{Dev: dev, Ino: ino, FPLen: t.FPLen, FPHash: t.FPHash, Offset: t.Offset,
				Order: t.Order, Retired: true, Key: t.Key, Path: p},
			f: f, size: fi.Size(), retiredAt: time.Now(),
		}
	}
	return nil
}

// head returns the file of key to read now: the lowest Order.
func (tl *tailer) head(key string) *tracked {
	var h *tracked
	for _, t := range tl.files {
		if t.Key == key && !t.drained && (h == nil || t.Order < h.Order) {
			h = t
		}
	}
	return h
}

func (tl *tailer) drop(t *tracked) {
	t.f.Close()
	tl.changed = true
	tl.files = slices.DeleteFunc(tl.files, func(x *tracked) bool { return x == t })
}

// next returns the next lines to ship, of one file, round robin over the
// keys: at most maxLines lines and maxBytes bytes, complete lines only
// except a rotated file's unterminated last line. The lines alias an
// internal buffer valid until the next call. end is the offset after them.
func (tl *tailer) next(maxLines, maxBytes int) (t *tracked, lines [][]byte, end uint64) {
	if cap(tl.buf) < maxBytes {
		tl.buf = make([]byte, maxBytes)
	}
	var keys []string
	for _, f := range tl.files {
		keys = append(keys, f.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	now := time.Now()
	for i := range keys {
		key := keys[(tl.rr+i)%len(keys)]
		for {
			h := tl.head(key)
			if h == nil {
				break
			}
			lines, end, eof, err := tl.read(h, maxLines, maxBytes, now)
			if err != nil {
				tl.log.Warn("cannot read file", "path", h.Path, "err", err)
				break
			}
			if len(lines) > 0 {
				tl.rr = (tl.rr + i + 1) % len(keys)
				return h, lines, end
			}
			if eof && h.Retired && now.Sub(h.retiredAt) >= tl.cfg.RotateWait {
				tl.log.Info("rotated file done", "path", h.Path, "offset", h.Offset)
				if tl.matched[[2]uint64{h.Dev, h.Ino}] {
					h.drained = true
				} else {
					tl.drop(h)
				}
				continue
			}
			break
		}
	}
	return nil, nil, 0
}

func (tl *tailer) read(t *tracked, maxLines, maxBytes int, now time.Time) (lines [][]byte, end uint64, eof bool, err error) {
	buf := tl.buf[:maxBytes]
	n, err := t.f.ReadAt(buf, int64(t.Offset))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, false, err
	}
	eof = n < len(buf)
	buf = buf[:n]
	data := buf
	end = t.Offset
	for len(buf) > 0 && len(lines) < maxLines {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			// A line longer than the buffer or the record limit is split;
			// a rotated file's unterminated last line ends at EOF.
			if len(buf) >= tl.cfg.MaxLineBytes || (!eof && len(lines) == 0) {
				i = min(len(buf), tl.cfg.MaxLineBytes)
				lines = append(lines, buf[:i])
				end += uint64(i)
			} else if eof && t.Retired && now.Sub(t.retiredAt) >= tl.cfg.RotateWait {
				lines = append(lines, buf)
				end += uint64(len(buf))
			}
			break
		}
		if i > tl.cfg.MaxLineBytes {
			lines = append(lines, buf[:tl.cfg.MaxLineBytes])
			end += uint64(tl.cfg.MaxLineBytes)
			buf = buf[tl.cfg.MaxLineBytes:]
			continue
		}
		lines = append(lines, buf[:i])
		end += uint64(i + 1)
		buf = buf[i+1:]
	}
	if len(lines) > 0 {
		// The file may have been truncated and rewritten while it was
		// read: check its leading bytes again before trusting the data.
		if t.FPLen > 0 {
			if h, ok, err := fingerprint(t.f, int(t.FPLen)); err == nil && (!ok || h != t.FPHash) {
				tl.truncated(t, now)
				return nil, 0, false, nil
			}
		}
		// Lines read from the start: let the fingerprint cover them
		// now, not at the next scan, so that a truncation that rewrites
		// the file past the offset before then is still noticed (by
		// the check above, on the next read).
		if fpn := min(len(data), tl.cfg.FingerprintBytes); t.Offset == 0 && fpn > int(t.FPLen) {
			t.FPLen, t.FPHash = uint32(fpn), xxhash.Sum64(data[:fpn])
		}
		return lines, end, false, nil
	}
	return nil, end, eof && end == t.Offset, nil
}

// updateLag records the unshipped bytes per key for lag().
func (tl *tailer) updateLag() {
	snap := make(map[string]int64, len(tl.files))
	for _, t := range tl.files {
		snap[t.Key] += max(0, t.size-int64(t.Offset))
	}
	tl.lagMu.Lock()
	tl.lagSnap = snap
	tl.lagMu.Unlock()
}

// lag returns the unshipped bytes per key as of the last scan. Safe for
// concurrent use.
func (tl *tailer) lag() map[string]int64 {
	tl.lagMu.Lock()
	defer tl.lagMu.Unlock()
	return tl.lagSnap
}

func (t *tracked) String() string { return fmt.Sprintf("%s@%d", t.Path, t.Offset) }
