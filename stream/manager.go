package stream

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/segment"
)

// Stream statuses (KINESIS_API.md 3.4).
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusUpdating = "UPDATING"
	StatusDeleting = "DELETING"
)

const (
	// DefaultRetentionHours is the retention of a new stream.
	DefaultRetentionHours = 24
	// MaxShardCount bounds the ShardCount of CreateStream in this server
	// (every shard is a segment.Log with its own files and goroutines).
	MaxShardCount = 10000
)

// Config configures a Manager. Zero values select defaults.
type Config struct {
	// DataDir holds streams.json and streams/<name>-<created ms>/shards/
	// <shardId>/ with each shard's log. Required; created if missing.
	DataDir string
	// Durability of every shard log; it overrides Segment.Durability.
	Durability segment.Durability
	// Region and AccountID appear in stream ARNs. Defaults "us-east-1" and
	// "000000000000".
	Region, AccountID string
	// Now is the clock for creation times, arrival times (it is passed to
	// every shard log) and iterator expiry. Default time.Now.
	Now func() time.Time
	// UpdateDelay is how long SplitShard, MergeShards and UpdateShardCount
	// keep the stream UPDATING before the new shards exist and it is ACTIVE
	// again (AWS takes seconds to minutes; emulators default to 500 ms).
	// Default 0: the change is made before the call returns and the stream
	// stays ACTIVE.
	UpdateDelay time.Duration
	// Segment is the template of every shard log's configuration
	// (FragmentBytes, Geometry, Logger, ...). Dirs must be empty: the
	// manager fills it per shard. Durability, Now and Retention are set by
	// the manager.
	Segment segment.Config
	// Limits are the account limits (DescribeLimits); zero fields select
	// AWS's defaults (settings.go).
	Limits Limits
	// EmulateQuotas enforces AWS's per-shard throughput quotas with token
	// buckets (quotas.go). Default off.
	EmulateQuotas bool
	// ConsumerActivationDelay is how long a registered consumer stays
	// CREATING before it is ACTIVE. Default 0.
	ConsumerActivationDelay time.Duration
}

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AccountID == "" {
		c.AccountID = "000000000000"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Segment.Logger == nil {
		c.Segment.Logger = slog.Default()
	}
	c.Limits = c.Limits.withDefaults(c.Region)
	return c
}

// Validate checks a configuration whose defaults have been filled in.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("stream: Config.DataDir is empty")
	}
	if c.Durability != segment.Fsync && c.Durability != segment.Async {
		return fmt.Errorf("stream: invalid durability %d", c.Durability)
	}
	if len(c.Segment.Dirs) != 0 {
		return errors.New("stream: Config.Segment.Dirs must be empty (the manager sets them per shard)")
	}
	if c.UpdateDelay < 0 {
		return errors.New("stream: Config.UpdateDelay must not be negative")
	}
	if c.Region == "" || c.AccountID == "" {
		return errors.New("stream: Config.Region and Config.AccountID must not be empty")
	}
	if c.ConsumerActivationDelay < 0 {
		return errors.New("stream: Config.ConsumerActivationDelay must not be negative")
	}
	return c.Limits.validate()
}

// Manager owns the streams of one data directory: their metadata and one
// segment.Log per shard. It is safe for concurrent use.
//
// Lock order: a stream's put lock (streamState.put), then Manager.mu, then
// the segment logs' own locks. PutRecords holds put shared; resharding
// (and its delayed completion) holds put exclusively, then mu. Control-plane
// calls take mu exclusively (and hold it while they open, close and remove
// shard logs and rewrite streams.json); data-plane calls take it shared only
// to find the stream, then work on the shard logs without it.
type Manager struct {
	cfg    Config
	codec  *IteratorCodec
	secret []byte
	log    *slog.Logger

	mu      sync.RWMutex
	closed  bool
	streams map[string]*streamState
	// lastCreated is the newest creation time handed out per name, so that a
	// stream re-created within the same millisecond still gets a new
	// incarnation (iterators of the old one must not match).
	lastCreated map[string]int64
	// account holds the account settings (account.go).
	account accountMeta
	// lastConsumerSecs is the newest ARN second handed out per stream ARN
	// and consumer name (consumers.go).
	lastConsumerSecs map[string]int64
	// pending are the timers of delayed reshards (UpdateDelay), stopped by
	// Close; reshards run the timer callbacks.
	pending map[*time.Timer]struct{}
	timers  sync.WaitGroup

	listCodecOnce sync.Once
	listCodec     *listTokenCodec
}

// streamState is a snapshot of a stream in memory, immutable once it is in
// Manager.streams: resharding builds a new streamState (sharing the shard
// logs, put and deleted) and swaps it in under Manager.mu, so data-plane
// calls work on a consistent view without locks.
type streamState struct {
	meta    streamMeta
	dir     string
	shards  []*shardState // by index
	open    []int         // indexes of the open shards, sorted by range start
	ranges  []HashKeyRange
	deleted *atomic.Bool // shared by all snapshots of one incarnation
	// put is shared by all snapshots of one incarnation. PutRecords holds
	// it shared while it routes and appends; resharding holds it
	// exclusively while it closes shards and swaps the snapshot, so that no
	// record lands in a shard after it closed. Lock order: put, then
	// Manager.mu.
	put *sync.RWMutex
	// settings is the mutable control-plane state (settings.go), replaced
	// whole under Manager.mu, read without it; shared by all snapshots of
	// one incarnation.
	settings *atomic.Pointer[settingsMeta]
	quotas   *shardQuotas // used only with Config.EmulateQuotas; shared like settings
}

type shardState struct {
	index   int
	rng     HashKeyRange
	created int64 // Unix ms
	closed  int64 // Unix ms, 0 while open
	log     *segment.Log
}

// Open opens or creates the manager of cfg.DataDir, reopening the log of
// every shard listed in streams.json.
func Open(cfg Config) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, streamsDir), 0o755); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	m := &Manager{
		cfg:         cfg,
		log:         cfg.Segment.Logger,
		streams:     make(map[string]*streamState),
		lastCreated: make(map[string]int64),
		pending:     make(map[*time.Timer]struct{}),

		lastConsumerSecs: make(map[string]int64),
	}
	mf, err := readMeta(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if mf == nil {
		// A data directory without metadata must hold no stream data: a
		// lost streams.json is not silently replaced by an empty one.
		ents, err := os.ReadDir(filepath.Join(cfg.DataDir, streamsDir))
		if err != nil {
			return nil, fmt.Errorf("stream: %w", err)
		}
		if len(ents) > 0 {
			return nil, fmt.Errorf("stream: %s is missing but %s holds %d entries; refusing to start with empty metadata",
				filepath.Join(cfg.DataDir, metaFileName), filepath.Join(cfg.DataDir, streamsDir), len(ents))
		}
		mf = &metaFile{Version: metaVersion, IteratorSecret: make([]byte, iteratorSecretLen)}
		if _, err := rand.Read(mf.IteratorSecret); err != nil {
			return nil, fmt.Errorf("stream: generating iterator secret: %w", err)
		}
		if err := writeMeta(cfg.DataDir, mf); err != nil {
			return nil, err
		}
	}
	m.secret = mf.IteratorSecret
	if mf.Account != nil {
		m.account = *mf.Account
	}
	if m.codec, err = NewIteratorCodec(mf.IteratorSecret); err != nil {
		return nil, err
	}
	for _, sm := range mf.Streams {
		s, err := m.openStream(sm)
		if err == nil && m.streams[sm.Name] != nil {
			err = fmt.Errorf("stream: %s lists stream %q twice", metaFileName, sm.Name)
			s.closeLogs()
		}
		if err != nil {
			m.closeAll()
			return nil, err
		}
		m.streams[sm.Name] = s
	}
	m.removeOrphans()
	if err := m.finishPendingReshards(); err != nil {
		m.closeAll()
		return nil, err
	}
	return m, nil
}

// removeOrphans deletes stream directories that streams.json does not
// list: what a crash during CreateStream (before the metadata was written)
// or DeleteStream (after it was) leaves behind.
func (m *Manager) removeOrphans() {
	root := filepath.Join(m.cfg.DataDir, streamsDir)
	ents, err := os.ReadDir(root)
	if err != nil {
		m.log.Warn("stream: cannot list stream directories", "err", err)
		return
	}
	known := make(map[string]bool, len(m.streams))
	for _, s := range m.streams {
		known[filepath.Base(s.dir)] = true
	}
	for _, e := range ents {
		if known[e.Name()] {
			continue
		}
		m.log.Warn("stream: removing stream directory not in metadata", "dir", filepath.Join(root, e.Name()))
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			m.log.Warn("stream: cannot remove orphan stream directory", "err", err)
		}
	}
}

func streamDirName(name string, created int64) string {
	return name + "-" + strconv.FormatInt(created, 10)
}

// openStream builds the in-memory stream of sm and opens its shard logs.
func (m *Manager) openStream(sm streamMeta) (*streamState, error) {
	if err := checkStreamName(sm.Name); err != nil {
		return nil, fmt.Errorf("stream: %s: %w", metaFileName, err)
	}
	s := &streamState{meta: sm, dir: filepath.Join(m.cfg.DataDir, streamsDir, streamDirName(sm.Name, sm.CreatedMillis)),
		deleted: new(atomic.Bool), put: new(sync.RWMutex),
		settings: new(atomic.Pointer[settingsMeta]), quotas: new(shardQuotas)}
	st, err := loadSettings(sm)
	if err != nil {
		return nil, fmt.Errorf("stream: %s: stream %q: %w", metaFileName, sm.Name, err)
	}
	s.settings.Store(st)
	s.meta.Settings = nil // s.settings is the truth
	for i, sh := range sm.Shards {
		if sh.Index != i {
			return nil, fmt.Errorf("stream: %s: stream %q: shard %d has index %d", metaFileName, sm.Name, i, sh.Index)
		}
		start, err1 := ParseHashKey(sh.StartingHashKey)
		end, err2 := ParseHashKey(sh.EndingHashKey)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("stream: %s: stream %q shard %d: %w", metaFileName, sm.Name, i, err)
		}
		s.shards = append(s.shards, &shardState{index: i, rng: HashKeyRange{start, end}, created: sh.CreatedMillis, closed: sh.ClosedMillis})
	}
	s.indexOpen()
	if err := CheckTiling(s.ranges); err != nil {
		return nil, fmt.Errorf("stream: %s: stream %q: open shards: %w", metaFileName, sm.Name, err)
	}
	for _, sh := range s.shards {
		l, err := segment.Open(m.shardConfig(s, sh.index))
		if err != nil {
			s.closeLogs()
			return nil, fmt.Errorf("stream: opening stream %q shard %s: %w", sm.Name, ShardID(sh.index), err)
		}
		sh.log = l
	}
	return s, nil
}

// indexOpen fills open and ranges from shards.
func (s *streamState) indexOpen() {
	s.open, s.ranges = nil, nil
	for _, sh := range s.shards {
		if sh.closed == 0 {
			s.open = append(s.open, sh.index)
		}
	}
	slices.SortFunc(s.open, func(a, b int) int { return s.shards[a].rng.Start.Compare(s.shards[b].rng.Start) })
	for _, i := range s.open {
		s.ranges = append(s.ranges, s.shards[i].rng)
	}
}

func (s *streamState) closeLogs() error {
	var errs []error
	for _, sh := range s.shards {
		if sh.log != nil {
			// sh.log stays set: data-plane calls read it without a lock
			// and get segment.ErrClosed. Each stream is closed once.
			errs = append(errs, sh.log.Close())
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) shardConfig(s *streamState, index int) segment.Config {
	c := m.cfg.Segment
	c.Dirs = []string{filepath.Join(s.dir, "shards", ShardID(index))}
	c.Durability = m.cfg.Durability
	c.Now = m.cfg.Now
	c.Retention = s.retention()
	return c
}

// Close closes every shard log. Calls after Close return ErrClosed.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for t := range m.pending {
		if t.Stop() {
			m.timers.Done()
		}
	}
	m.pending = nil
	m.mu.Unlock()
	// A timer callback that already runs finds m.closed and returns.
	m.timers.Wait()
	m.mu.Lock()
	return m.closeAll()
}

func (m *Manager) closeAll() error {
	var errs []error
	for _, s := range m.streams {
		errs = append(errs, s.closeLogs())
	}
	return errors.Join(errs...)
}

// metaLocked returns the metadata document of the current streams.
func (m *Manager) metaLocked() *metaFile {
	mf := &metaFile{Version: metaVersion, IteratorSecret: m.secret}
	if m.account != (accountMeta{}) {
		mf.Account = &m.account
	}
	for _, name := range m.namesLocked() {
		s := m.streams[name]
		sm := s.meta
		sm.Settings = s.settings.Load()
		sm.RetentionHours = sm.Settings.RetentionHours
		mf.Streams = append(mf.Streams, sm)
	}
	return mf
}

func (m *Manager) namesLocked() []string {
	names := make([]string, 0, len(m.streams))
	for n := range m.streams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkStreamName checks the model's StreamName: 1-128 of [a-zA-Z0-9_.-].
func checkStreamName(name string) error {
	if len(name) < 1 || len(name) > MaxStreamNameLen {
		return argError("StreamName must be 1 to " + strconv.Itoa(MaxStreamNameLen) + " characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return argError("StreamName " + quoteInput(name) + " must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
		}
	}
	return nil
}

func notFound(name string) error {
	return fmt.Errorf("%w: %s", ErrStreamNotFound, quoteInput(name))
}

// createStream creates a stream of shardCount shards that split the
// hash-key space evenly (EvenSplit), with settings st (CreateStreamWith has
// checked both). In this slice the stream is ACTIVE as soon as it returns:
// there is no CREATING phase yet.
func (m *Manager) createStream(name string, shardCount int, st *settingsMeta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.streams[name] != nil {
		return fmt.Errorf("%w: %s", ErrStreamExists, quoteInput(name))
	}
	if err := m.checkCreateLocked(shardCount, st); err != nil {
		return err
	}
	created := max(m.cfg.Now().UnixMilli(), m.lastCreated[name]+1)
	for {
		_, err := os.Stat(filepath.Join(m.cfg.DataDir, streamsDir, streamDirName(name, created)))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		created++
	}
	sm := streamMeta{
		Name:           name,
		ARN:            "arn:aws:kinesis:" + m.cfg.Region + ":" + m.cfg.AccountID + ":stream/" + name,
		CreatedMillis:  created,
		RetentionHours: st.RetentionHours,
		Status:         StatusActive,
		Settings:       st,
	}
	for i, r := range EvenSplit(shardCount) {
		sm.Shards = append(sm.Shards, shardMeta{
			Index:           i,
			StartingHashKey: r.Start.String(),
			EndingHashKey:   r.End.String(),
			CreatedMillis:   created,
		})
	}
	s, err := m.openStream(sm)
	if err != nil {
		_ = os.RemoveAll(filepath.Join(m.cfg.DataDir, streamsDir, streamDirName(name, created)))
		return err
	}
	m.streams[name] = s
	if err := writeMeta(m.cfg.DataDir, m.metaLocked()); err != nil {
		delete(m.streams, name)
		_ = s.closeLogs()
		_ = os.RemoveAll(s.dir)
		return err
	}
	m.lastCreated[name] = created
	return nil
}

// DeleteStream deletes a stream that has no registered consumers; see
// DeleteStreamEnforce.
func (m *Manager) DeleteStream(name string) error {
	return m.DeleteStreamEnforce(name, false)
}

// DeleteStreamEnforce deletes a stream: it is removed from streams.json,
// its shard logs are closed and its files removed. Calls in flight on the
// stream fail with ErrStreamNotFound. Deletion is immediate (no DELETING
// phase yet). A stream with registered consumers is deleted (with them)
// only if enforceConsumerDeletion is set (EnforceConsumerDeletion), else
// the error wraps ErrResourceInUse.
func (m *Manager) DeleteStreamEnforce(name string, enforceConsumerDeletion bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	s := m.streams[name]
	if s == nil {
		return notFound(name)
	}
	if err := m.checkConsumersLocked(s, enforceConsumerDeletion); err != nil {
		return err
	}
	delete(m.streams, name)
	if err := writeMeta(m.cfg.DataDir, m.metaLocked()); err != nil {
		m.streams[name] = s
		return err
	}
	s.deleted.Store(true)
	if err := s.closeLogs(); err != nil {
		m.log.Warn("stream: closing logs of deleted stream", "stream", name, "err", err)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		// Open removes it later (removeOrphans).
		m.log.Warn("stream: removing files of deleted stream", "stream", name, "err", err)
	}
	return nil
}

// StreamInfo describes a stream (DescribeStream).
type StreamInfo struct {
	Name           string
	ARN            string
	Status         string
	CreatedMillis  int64 // StreamCreationTimestamp, Unix ms
	RetentionHours int
	Shards         []ShardInfo // by index
	StreamSettings             // mode, encryption, record size, monitoring, consumers
}

// ShardInfo describes a shard.
type ShardInfo struct {
	ShardID                string
	ParentShardID          string // "" if none
	AdjacentParentShardID  string // "" if none
	HashKeyRange           HashKeyRange
	StartingSequenceNumber string
	EndingSequenceNumber   string // "" while the shard is open
	CreatedMillis          int64
	ClosedMillis           int64 // 0 while open
}

// DescribeStream returns the stream and all its shards.
func (m *Manager) DescribeStream(name string) (StreamInfo, error) {
	s, err := m.stream(name)
	if err != nil {
		return StreamInfo{}, err
	}
	return m.describe(s), nil
}

// describe returns the StreamInfo of snapshot s.
func (m *Manager) describe(s *streamState) StreamInfo {
	st := s.settings.Load()
	info := StreamInfo{
		Name:           s.meta.Name,
		ARN:            s.meta.ARN,
		Status:         s.meta.Status,
		CreatedMillis:  s.meta.CreatedMillis,
		RetentionHours: st.RetentionHours,
		StreamSettings: st.snapshot(),
	}
	for i, sh := range s.shards {
		meta := s.meta.Shards[i]
		si := ShardInfo{
			ShardID:                ShardID(sh.index),
			ParentShardID:          meta.ParentShardID,
			AdjacentParentShardID:  meta.AdjacentParentShardID,
			HashKeyRange:           sh.rng,
			StartingSequenceNumber: FormatSeqNum(StartingSeqNum(sh.created/1000, sh.index)),
			CreatedMillis:          sh.created,
			ClosedMillis:           sh.closed,
		}
		if sh.closed != 0 {
			si.EndingSequenceNumber = FormatSeqNum(EndingSeqNum(sh.created/1000, sh.index, sh.closed/1000))
		}
		info.Shards = append(info.Shards, si)
	}
	return info
}

// ListStreams returns the names of all streams, sorted.
func (m *Manager) ListStreams() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.namesLocked()
}

// stream returns the stream named name.
func (m *Manager) stream(name string) (*streamState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	s := m.streams[name]
	if s == nil {
		return nil, notFound(name)
	}
	return s, nil
}
