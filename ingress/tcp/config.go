package tcp

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/frame"
)

// Store is what the line servers (LineConfig) write to: *stream.Manager,
// or a wrapper of it (tests throttle it).
type Store interface {
	PutRecords(name string, recs []stream.PutEntry) ([]stream.PutResult, error)
}

// GroupStore is what the binary protocol server writes to:
// *stream.Manager, or a wrapper of it. PutRecordsGroups answers per shard
// group, the shape of the protocol's Ack.
type GroupStore interface {
	PutRecordsGroups(name string, recs []stream.PutEntry, out *stream.PutGroups) error
}

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// Store receives the records. Required.
	Store GroupStore
	// AccountID names the account in "stream not found" messages.
	// Default "000000000000".
	AccountID string
	// Credentials maps access key ids to secret keys. Non-empty: every
	// connection must authenticate (PROTOCOL.md section 4). Nil: none.
	Credentials map[string]string
	// Logger receives connection and engine errors. Default slog.Default().
	Logger *slog.Logger

	// MaxFrameBytes is the largest frame body accepted (bytes). Default
	// 2 MiB: a Put of one 1 MiB record fits. At most frame.MaxBodySize.
	MaxFrameBytes int
	// MaxRecords is the most records one Put may carry. Default 10000.
	MaxRecords int
	// WindowBytes is the flow-control window of a connection: the bytes of
	// Put frames a client may send before their acks (bytes). Default
	// 4 MiB; at least MaxFrameBytes+frame.HeaderSize.
	WindowBytes int
	// MaxInflightBytes caps the Put frames of all connections that are
	// decoded and not yet acknowledged (bytes). When reached, connections
	// stop being read. Default 64 MiB; at least WindowBytes.
	MaxInflightBytes int
	// MaxConnections caps concurrent connections. Default 256.
	MaxConnections int
	// FrameTimeout is how long the handshake, and each frame from its
	// first byte to its last, may take. Default 10 s.
	FrameTimeout time.Duration
	// DedupBytes caps the memory of the cache of answered batches kept for
	// deduplicating resends (bytes). Default 32 MiB.
	DedupBytes int
	// EventLoops is the number of gnet event loops. Default GOMAXPROCS.
	EventLoops int
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.AccountID == "" {
		d.AccountID = "000000000000"
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.MaxFrameBytes == 0 {
		d.MaxFrameBytes = 2 << 20
	}
	if d.MaxRecords == 0 {
		d.MaxRecords = 10000
	}
	if d.WindowBytes == 0 {
		d.WindowBytes = max(4<<20, d.MaxFrameBytes+frame.HeaderSize)
	}
	if d.MaxInflightBytes == 0 {
		d.MaxInflightBytes = max(64<<20, d.WindowBytes)
	}
	if d.MaxConnections == 0 {
		d.MaxConnections = 256
	}
	if d.FrameTimeout == 0 {
		d.FrameTimeout = 10 * time.Second
	}
	if d.DedupBytes == 0 {
		d.DedupBytes = 32 << 20
	}
	if d.EventLoops == 0 {
		d.EventLoops = runtime.GOMAXPROCS(0)
	}
	return d
}

// Validate checks a configuration after defaults.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("tcp: Config.Store is required")
	case c.MaxFrameBytes < 64 || c.MaxFrameBytes > frame.MaxBodySize:
		return fmt.Errorf("tcp: MaxFrameBytes %d outside [64, %d]", c.MaxFrameBytes, frame.MaxBodySize)
	case c.WindowBytes < c.MaxFrameBytes+frame.HeaderSize:
		return fmt.Errorf("tcp: WindowBytes %d below MaxFrameBytes+%d (%d): increase the window", c.WindowBytes, frame.HeaderSize, c.MaxFrameBytes+frame.HeaderSize)
	case c.MaxInflightBytes < c.WindowBytes:
		return fmt.Errorf("tcp: MaxInflightBytes %d below WindowBytes %d", c.MaxInflightBytes, c.WindowBytes)
	case c.MaxRecords < 1, c.MaxConnections < 1, c.FrameTimeout <= 0, c.DedupBytes < 0, c.EventLoops < 1:
		// Not %+v of c: it holds the secret keys.
		return fmt.Errorf("tcp: MaxRecords %d, MaxConnections %d, EventLoops %d must be positive, FrameTimeout %s positive, DedupBytes %d not negative",
			c.MaxRecords, c.MaxConnections, c.EventLoops, c.FrameTimeout, c.DedupBytes)
	}
	return nil
}
