package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/cespare/xxhash/v2"
)

// agentConfig configures the shipping loop.
type agentConfig struct {
	Tail           tailConfig
	Checkpoint     string        // checkpoint file path
	Protocol       string        // "kinesis" or "tcp"
	PartitionKey   string        // "file" or "line"
	BatchLines     int           // most lines per batch; default 500
	BatchBytes     int           // most bytes per batch; default 1 MiB
	ScanInterval   time.Duration // how often the globs are matched again; default 250 ms
	PollInterval   time.Duration // pause when nothing is new; default 50 ms
	TCPBatchIDSkip uint64        // batch ids skipped at each start (tcp); default 1<<16
}

func (c *agentConfig) withDefaults() {
	if c.BatchLines <= 0 {
		c.BatchLines = 500
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 1 << 20
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = 250 * time.Millisecond
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 50 * time.Millisecond
	}
	if c.TCPBatchIDSkip == 0 {
		c.TCPBatchIDSkip = 1 << 16
	}
}

// agentMetrics are the agent's counters, in one metrics.Set.
type agentMetrics struct {
	set         *metrics.Set
	lines       *metrics.Counter
	bytes       *metrics.Counter
	batches     *metrics.Counter
	retried     *metrics.Counter
	inDoubt     *metrics.Counter
	checkpoints *metrics.Counter
}

func newAgentMetrics() *agentMetrics {
	s := metrics.NewSet()
	return &agentMetrics{
		set:         s,
		lines:       s.NewCounter("sluice_agent_lines_total"),
		bytes:       s.NewCounter("sluice_agent_bytes_total"),
		batches:     s.NewCounter("sluice_agent_batches_total"),
		retried:     s.NewCounter("sluice_agent_records_retried_total"),
		inDoubt:     s.NewCounter("sluice_agent_in_doubt_batches_total"),
		checkpoints: s.NewCounter("sluice_agent_checkpoint_writes_total"),
	}
}

// agent is the shipping loop: one batch in flight at a time, so the lines
// of a file go out in order.
type agent struct {
	cfg agentConfig
	log *slog.Logger
	m   *agentMetrics
	tl  *tailer
	snd sender
	ck  *checkpoint
	buf []byte
}

// newProducerID returns a random producer id.
func newProducerID() ([16]byte, error) {
	var id [16]byte
	_, err := rand.Read(id[:])
	return id, err
}

// openAgent loads the checkpoint (or starts a new one) and reopens its
// files; mkSender makes the sender for the checkpoint's producer id and
// batch numbering.
func openAgent(cfg agentConfig, log *slog.Logger, m *agentMetrics, mkSender func(ck *checkpoint) (sender, error)) (*agent, error) {
	cfg.withDefaults()
	ck, err := loadCheckpoint(cfg.Checkpoint)
	if err != nil {
		return nil, err
	}
	if ck == nil {
		id, err := newProducerID()
		if err != nil {
			return nil, fmt.Errorf("cannot make a producer id: %w", err)
		}
		ck = &checkpoint{ProducerID: id, NextBatch: 1}
		log.Info("new checkpoint", "path", cfg.Checkpoint, "producer", hex.EncodeToString(id[:]))
	} else {
		log.Info("checkpoint loaded", "path", cfg.Checkpoint, "files", len(ck.Files), "in_doubt", ck.Intent != nil)
	}
	if cfg.Protocol == "tcp" {
		// The dead process may have used ids after the last one saved
		// (retries of failed records): start well past them.
		ck.NextBatch += cfg.TCPBatchIDSkip
	}
	// The in-doubt batch is delivered before any other line is shipped,
	// so its file may already be taken to stand at the batch's end.
	if in := ck.Intent; in != nil {
		for i := range ck.Files {
			f := &ck.Files[i]
			if f.Dev == in.Dev && f.Ino == in.Ino && f.Offset == in.Start {
				f.Offset = in.End
			}
		}
		// Once only: resolve saves the files as moved on, with this
		// intent, and a start after that must not move them again. The
		// file may have been truncated meanwhile and stand at offset 0
		// of new content; with a batch that began at 0, the old rule
		// would skip the new lines up to the old batch's end, the first
		// record shipped then being the tail of a line. An empty range
		// matches no file's offset that needs moving.
		in.Start = in.End
	}
	snd, err := mkSender(ck)
	if err != nil {
		return nil, err
	}
	a := &agent{cfg: cfg, log: log, m: m, ck: ck, snd: snd}
	a.tl = newTailer(cfg.Tail, log)
	a.tl.restore(ck.Files)
	return a, nil
}

// resolve delivers the batch a previous process left in doubt. Meanwhile
// (the sender may wait --settle and scan the stream) the files are still
// watched, and every change (a new, rotated or truncated file) is saved
// with the intent: a file created and copytruncated while the agent was
// not watching could not be found again.
func (a *agent) resolve(ctx context.Context, in *intent) error {
	a.log.Info("finishing the batch in doubt", "batch", in.BatchID, "records", len(in.Records))
	done := make(chan error, 1)
	go func() { done <- a.snd.deliver(ctx, in, true) }()
	tick := time.NewTicker(a.cfg.ScanInterval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err == nil {
				a.m.batches.Inc()
			}
			return err
		case <-tick.C:
			a.tl.scan()
			if a.tl.changed {
				a.tl.changed = false
				// The sender is busy: keep its tails and numbering.
				if err := a.write(in); err != nil {
					<-done
					return err
				}
			}
		}
	}
}

// save writes the checkpoint with in as the intent (nil: none).
func (a *agent) save(in *intent) error {
	a.ck.Tails = a.snd.tails()
	a.ck.NextBatch = a.snd.nextBatchID()
	return a.write(in)
}

// write writes the checkpoint: the files' states, in as the intent, and
// the tails and next batch id as last set in a.ck.
func (a *agent) write(in *intent) error {
	a.ck.Files = a.tl.states()
	a.ck.Intent = in
	a.buf = appendCheckpoint(a.buf[:0], a.ck)
	if err := saveCheckpoint(a.cfg.Checkpoint, a.buf); err != nil {
		return err
	}
	a.m.checkpoints.Inc()
	return nil
}

// userKey is the partition key the user asked for.
func (a *agent) userKey(t *tracked, line []byte) string {
	if a.cfg.PartitionKey == "line" {
		return fmt.Sprintf("%016x", xxhash.Sum64(line))
	}
	return t.Key
}

// makeIntent builds the records of a batch.
func (a *agent) makeIntent(t *tracked, lines [][]byte, end uint64) *intent {
	in := &intent{BatchID: a.snd.nextBatchID(), Dev: t.Dev, Ino: t.Ino, Start: t.Offset, End: end, TimeMS: time.Now().UnixMilli()}
	producer := producerHex(a.ck.ProducerID)
	in.Records = make([]record, len(lines))
	for i, l := range lines {
		key := a.userKey(t, l)
		r := record{Data: append([]byte(nil), l...)}
		if a.cfg.Protocol == "kinesis" {
			m := marker(producer, in.BatchID, i)
			r.PartitionKey = truncKey(key, maxPartitionKey-len(m)) + m
			r.ExplicitHashKey = hashKey(key)
		} else {
			r.PartitionKey = truncKey(key, maxPartitionKey)
		}
		if r.PartitionKey == "" {
			r.PartitionKey = "-"
		}
		in.Records[i] = r
	}
	return in
}

// run ships until ctx is done. A batch being sent when ctx ends stays in
// the checkpoint as the intent and is finished by the next start.
func (a *agent) run(ctx context.Context) error {
	defer a.tl.close()
	defer a.snd.close()
	if in := a.ck.Intent; in != nil {
		if err := a.resolve(ctx, in); err != nil {
			return ignoreCanceled(err)
		}
	}
	if err := a.save(nil); err != nil {
		return err
	}
	lastScan := time.Time{}
	dirty := false
	for {
		if ctx.Err() != nil {
			if dirty {
				return a.save(nil)
			}
			return nil
		}
		if time.Since(lastScan) >= a.cfg.ScanInterval {
			a.tl.scan()
			lastScan = time.Now()
		}
		t, lines, end := a.tl.next(a.cfg.BatchLines, a.cfg.BatchBytes)
		if t == nil {
			if dirty {
				if err := a.save(nil); err != nil {
					return err
				}
				dirty = false
			}
			if err := sleepCtx(ctx, a.cfg.PollInterval); err != nil {
				continue
			}
			continue
		}
		in := a.makeIntent(t, lines, end)
		if err := a.save(in); err != nil {
			return err
		}
		if err := a.snd.deliver(ctx, in, false); err != nil {
			return ignoreCanceled(err)
		}
		t.Offset = end
		dirty = true
		var n int
		for _, l := range lines {
			n += len(l)
		}
		a.m.lines.Add(len(lines))
		a.m.bytes.Add(n)
		a.m.batches.Inc()
	}
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
