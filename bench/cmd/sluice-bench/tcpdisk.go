package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Disk baseline of the tcp suite: a plain file written sequentially in
// large writes, with fdatasync every diskSyncBytes and at the end, for the
// run time or until diskMaxBytes. The time includes the last fdatasync, so
// the page cache can hide at most diskSyncBytes of a run.
const (
	diskChunkBytes = 4 << 20
	diskSyncBytes  = 256 << 20
	diskMaxBytes   = 32 << 30
)

// diskRun is one baseline write.
type diskRun struct {
	bytes int64
	secs  float64
	mbps  float64 // 10^6 bytes per second
}

// runDiskBaseline writes a new file in dir for about d and removes it. It
// writes at most a quarter of the file system's free space.
func runDiskBaseline(dir string, d time.Duration) (diskRun, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return diskRun{}, fmt.Errorf("disk baseline: statfs %s: %w", dir, err)
	}
	limit := min(int64(st.Bavail)*int64(st.Bsize)/4, diskMaxBytes)
	if limit < diskChunkBytes {
		return diskRun{}, fmt.Errorf("disk baseline: only %d bytes free in %s", limit*4, dir)
	}
	path := filepath.Join(dir, "disk-baseline.dat")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return diskRun{}, fmt.Errorf("disk baseline: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, diskChunkBytes)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	var r diskRun
	sync := func() error {
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return fmt.Errorf("disk baseline: fdatasync: %w", err)
		}
		return nil
	}
	start := time.Now()
	deadline := start.Add(d)
	var unsynced int64
	for r.bytes+diskChunkBytes <= limit && time.Now().Before(deadline) {
		if _, err := f.Write(buf); err != nil {
			return diskRun{}, fmt.Errorf("disk baseline: write at %d: %w", r.bytes, err)
		}
		r.bytes += diskChunkBytes
		unsynced += diskChunkBytes
		if unsynced >= diskSyncBytes {
			if err := sync(); err != nil {
				return diskRun{}, err
			}
			unsynced = 0
		}
	}
	if err := sync(); err != nil {
		return diskRun{}, err
	}
	r.secs = time.Since(start).Seconds()
	if r.bytes == 0 || r.secs <= 0 {
		return diskRun{}, errors.New("disk baseline: nothing written")
	}
	r.mbps = float64(r.bytes) / r.secs / 1e6
	return r, nil
}
