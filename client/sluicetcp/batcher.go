package sluicetcp

import (
	"context"
	"errors"
	"sync"
	"time"
)

// BatcherConfig configures a Batcher. Zero values take the defaults.
type BatcherConfig struct {
	// Stream receives the records. Required.
	Stream string
	// MaxRecords sends a batch when it holds this many records. Default 1000.
	MaxRecords int
	// MaxBytes sends a batch when its data reaches this many bytes.
	// Default 512 KiB.
	MaxBytes int
	// Linger sends a batch this long after its first record at the latest.
	// Default 5 ms.
	Linger time.Duration
	// MaxInflight is how many batches may be in flight at once; Add
	// blocks beyond (backpressure). Default 8.
	MaxInflight int
	// OnResult, if set, gets every batch's records and results (or the
	// error of the whole call) from the goroutine that sent it.
	OnResult func(recs []Record, res []Result, err error)
}

// Batcher collects records added one at a time into PutRecords calls
// (by count, bytes or linger), sends up to MaxInflight of them at once over
// the Client, and blocks Add when that many are in flight. Safe for
// concurrent use; records of one Add caller keep their order within a
// batch, and batches may complete out of order.
type Batcher struct {
	c   *Client
	cfg BatcherConfig

	mu    sync.Mutex
	cur   []Record
	bytes int
	timer *time.Timer
	gen   uint64 // batch generation the timer belongs to
	sem   chan struct{}
	// inflight counts the batches taken and not yet completed; a batch
	// counts from the moment it is taken (under mu), so a Flush that
	// follows sees every batch taken before it. idle is closed when
	// inflight drops to zero (nil while nothing is in flight).
	inflight int
	idle     chan struct{}
	errMu    sync.Mutex
	err      error // first failure of a whole call or record
	closed   bool

	// testAfterLingerTake, set by tests, runs between a linger's taking
	// of a batch and its send.
	testAfterLingerTake func()
}

// NewBatcher returns a Batcher that sends through c.
func (c *Client) NewBatcher(cfg BatcherConfig) (*Batcher, error) {
	if cfg.Stream == "" {
		return nil, errors.New("sluicetcp: BatcherConfig.Stream is required")
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 1000
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 512 << 10
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 8
	}
	return &Batcher{c: c, cfg: cfg, sem: make(chan struct{}, cfg.MaxInflight)}, nil
}

// Add queues rec. It blocks while MaxInflight batches are in flight and
// ctx allows. rec.Data is not copied: keep it unchanged until the batch
// completes (OnResult, Flush).
func (b *Batcher) Add(ctx context.Context, rec Record) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("sluicetcp: batcher is closed")
	}
	b.cur = append(b.cur, rec)
	b.bytes += len(rec.Data) + len(rec.PartitionKey)
	if len(b.cur) == 1 {
		gen := b.gen
		b.timer = time.AfterFunc(b.cfg.Linger, func() { b.lingerDone(gen) })
	}
	if len(b.cur) < b.cfg.MaxRecords && b.bytes < b.cfg.MaxBytes {
		b.mu.Unlock()
		return nil
	}
	batch := b.takeLocked()
	b.mu.Unlock()
	return b.send(ctx, batch)
}

// takeLocked takes the current batch and, when it holds records, counts
// it in flight until done. Lock must be held.
func (b *Batcher) takeLocked() []Record {
	batch := b.cur
	b.cur, b.bytes = nil, 0
	b.gen++
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(batch) > 0 {
		if b.inflight == 0 {
			b.idle = make(chan struct{})
		}
		b.inflight++
	}
	return batch
}

// done ends a taken batch.
func (b *Batcher) done() {
	b.mu.Lock()
	b.inflight--
	if b.inflight == 0 {
		close(b.idle)
		b.idle = nil
	}
	b.mu.Unlock()
}

func (b *Batcher) lingerDone(gen uint64) {
	b.mu.Lock()
	if gen != b.gen || len(b.cur) == 0 {
		b.mu.Unlock()
		return
	}
	batch := b.takeLocked()
	b.mu.Unlock()
	if b.testAfterLingerTake != nil {
		b.testAfterLingerTake()
	}
	_ = b.send(context.Background(), batch)
}

// send waits for a slot and sends batch, taken by takeLocked, in the
// background.
func (b *Batcher) send(ctx context.Context, batch []Record) error {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		b.fail(ctx.Err())
		if b.cfg.OnResult != nil {
			b.cfg.OnResult(batch, nil, ctx.Err())
		}
		b.done()
		return ctx.Err()
	}
	go func() {
		defer b.done()
		defer func() { <-b.sem }()
		res, err := b.c.PutRecords(context.Background(), b.cfg.Stream, batch)
		if err != nil {
			b.fail(err)
		} else {
			for _, r := range res {
				if r.Err != nil {
					b.fail(r.Err)
					break
				}
			}
		}
		if b.cfg.OnResult != nil {
			b.cfg.OnResult(batch, res, err)
		}
	}()
	return nil
}

func (b *Batcher) fail(err error) {
	b.errMu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.errMu.Unlock()
}

// Flush sends what is collected and waits until no batch is in flight
// (every batch taken before it included, linger-sent ones too); it
// returns the first failure since the Batcher was made (a call's error or
// a record's, after the Client's retries).
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	batch := b.takeLocked()
	idle := b.idle
	b.mu.Unlock()
	if len(batch) > 0 {
		if err := b.send(ctx, batch); err != nil {
			return err
		}
	}
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.err
}

// Close flushes and refuses further Adds.
func (b *Batcher) Close(ctx context.Context) error {
	err := b.Flush(ctx)
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return err
}
