package segment

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Durability says when an append is acknowledged.
type Durability int

const (
	// Fsync acknowledges an append once its stripe is written to every
	// fragment file and each of them was fdatasync'ed. The default.
	Fsync Durability = iota
	// Async acknowledges an append once its stripe was copied into the page
	// cache. It survives a crash of the process, not of the machine.
	Async
)

func (d Durability) String() string {
	switch d {
	case Fsync:
		return "fsync"
	case Async:
		return "async"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// ParseDurability parses "fsync" or "async".
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "fsync":
		return Fsync, nil
	case "async":
		return Async, nil
	}
	return 0, fmt.Errorf("segment: unknown durability %q (want fsync or async)", s)
}

// SyncMethod is how Fsync mode makes a group commit durable.
type SyncMethod int

const (
	// SyncFilesystem calls syncfs(2) once per file system holding the
	// segment's fragments: one writeback pass, one journal commit and one
	// device cache flush for all k+m files (and for anything else dirty on
	// that file system). On this project's reference disk it gives 2x the
	// records/s of SyncFiles (bench/RESULTS.md). The default: an appliance
	// owns its data disks. Needs Linux 5.8 or later for errors to be
	// reported, which Open checks.
	SyncFilesystem SyncMethod = iota
	// SyncFiles calls fdatasync(2) on each of the k+m fragment files, in
	// parallel. Use it when the data directories share a file system with
	// other heavy writers whose dirty pages syncfs would wait for.
	SyncFiles
)

func (m SyncMethod) String() string {
	switch m {
	case SyncFilesystem:
		return "syncfs"
	case SyncFiles:
		return "fdatasync"
	}
	return fmt.Sprintf("SyncMethod(%d)", int(m))
}

// Geometry is the erasure coding of every stripe: Data data chunks and
// Parity parity chunks, each in its own fragment file. Any Parity of the
// Data+Parity fragment files of a segment may be lost without losing data.
type Geometry struct {
	Data   int
	Parity int
}

func (g Geometry) String() string { return fmt.Sprintf("%d+%d", g.Data, g.Parity) }

// DefaultGeometry is 4 data + 2 parity chunks.
var DefaultGeometry = Geometry{Data: 4, Parity: 2}

// Config configures a Log. The zero value of every field but Dirs selects
// its default.
type Config struct {
	// Dirs are the directories that hold the log's fragment files. Fragment
	// j of every segment lives in Dirs[j % len(Dirs)]; give one directory
	// per disk. Required. Directories are created if missing.
	Dirs []string

	// Geometry is the erasure coding. Zero means: the geometry of the
	// existing files, or DefaultGeometry for a new log. {1, 0} disables
	// coding. Opening existing files with a different geometry fails.
	Geometry Geometry

	// FragmentBytes is the preallocated size of every fragment file. A
	// segment holds about Data*FragmentBytes of records. Default 64 MiB.
	FragmentBytes int64

	// InitialFragmentBytes is the fragment file size of a log's first
	// segment; every later segment doubles it, up to FragmentBytes, and a
	// stripe that would not fit in an empty segment of that size gets one
	// large enough. It keeps what an idle or barely used log reserves on
	// disk small (many shards), while busy logs soon roll at FragmentBytes.
	// Default FragmentBytes (every segment full size).
	InitialFragmentBytes int64

	// MaxStripeBytes is the payload size at which the flusher cuts a stripe.
	// A record larger than this gets a stripe of its own. Default 1 MiB.
	MaxStripeBytes int

	// Linger is how long the flusher waits for more appends when less than
	// MaxStripeBytes is pending. Default 0: group commits form from the
	// appends that arrive while the previous stripe is written and synced.
	Linger time.Duration

	// Durability is when appends are acknowledged. Default Fsync.
	Durability Durability

	// SyncMethod is how Fsync mode syncs a group commit. Default
	// SyncFilesystem.
	SyncMethod SyncMethod

	// MaxRecordBytes bounds the encoded size of one record (data, keys and
	// an 8-byte header). Default 10 MiB + 64 KiB.
	MaxRecordBytes int

	// MaxPendingBytes bounds the bytes accepted but not yet handed to the
	// flusher; appenders wait beyond it. Default 64 MiB.
	MaxPendingBytes int

	// Retention is how long records are kept; whole segments older than it
	// are deleted by EnforceRetention. Zero keeps everything.
	Retention time.Duration

	// RetentionInterval is how often the log drops segments past Retention
	// on its own (it also does at every segment roll and on
	// EnforceRetention). Default 1 minute.
	RetentionInterval time.Duration

	// MaxDiskBytes caps the bytes of fragment files (preallocated size) of
	// this log. A new segment that would pass it is refused and appends fail
	// with ErrDiskFull. Zero means no cap.
	MaxDiskBytes int64

	// ReadOnly opens the log for reading and verification only: nothing is
	// written, repaired or truncated, and appends fail.
	ReadOnly bool

	// Now is the clock used for arrival times and retention. Default time.Now.
	Now func() time.Time

	// Logger receives recovery and repair reports. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.FragmentBytes == 0 {
		c.FragmentBytes = 64 << 20
	}
	if c.InitialFragmentBytes == 0 || c.InitialFragmentBytes > c.FragmentBytes {
		c.InitialFragmentBytes = c.FragmentBytes
	}
	if c.MaxStripeBytes == 0 {
		c.MaxStripeBytes = 1 << 20
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = 10<<20 + 64<<10
	}
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = 64 << 20
	}
	if c.RetentionInterval == 0 {
		c.RetentionInterval = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks a configuration whose defaults have been filled in.
func (c Config) Validate() error {
	if len(c.Dirs) == 0 {
		return errors.New("segment: Config.Dirs is empty")
	}
	g := c.Geometry
	if g.Data < 1 || g.Parity < 0 || g.Data+g.Parity > maxFragments {
		return fmt.Errorf("segment: invalid geometry %s (need data >= 1, parity >= 0, data+parity <= %d)", g, maxFragments)
	}
	if c.Durability != Fsync && c.Durability != Async {
		return fmt.Errorf("segment: invalid durability %d", c.Durability)
	}
	if c.SyncMethod != SyncFilesystem && c.SyncMethod != SyncFiles {
		return fmt.Errorf("segment: invalid sync method %d", c.SyncMethod)
	}
	if c.MaxStripeBytes < 1 || c.MaxRecordBytes < recordHeaderSize || c.MaxPendingBytes < 1 {
		return errors.New("segment: MaxStripeBytes, MaxRecordBytes and MaxPendingBytes must be positive")
	}
	// One stripe holding the largest record must fit in an empty fragment.
	maxChunk := int64(chunkLenFor(max(c.MaxStripeBytes, c.MaxRecordBytes), g.Data))
	if need := fileHeaderSize + int64(stripeHeaderSize(g.Data+g.Parity)) + maxChunk; c.FragmentBytes < need {
		return fmt.Errorf("segment: FragmentBytes %d is too small for the largest stripe; need at least %d", c.FragmentBytes, need)
	}
	if c.InitialFragmentBytes < 0 {
		return fmt.Errorf("segment: negative InitialFragmentBytes %d", c.InitialFragmentBytes)
	}
	if c.Linger < 0 || c.Retention < 0 || c.MaxDiskBytes < 0 || c.RetentionInterval < 0 {
		return errors.New("segment: Linger, Retention, RetentionInterval and MaxDiskBytes must not be negative")
	}
	return nil
}
