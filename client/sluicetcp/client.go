package sluicetcp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/wire/frame"
)

// Config configures a Client. Zero values take the defaults.
type Config struct {
	// Addr is the server's host:port (the --tcp-addr, default port 4568).
	Addr string
	// AccessKeyID and SecretKey answer the server's Auth challenge when it
	// requires one (an --auth key pair).
	AccessKeyID, SecretKey string
	// Conns is the size of the connection pool. Default 2.
	Conns int
	// DialTimeout bounds connecting and the handshake. Default 5 s.
	DialTimeout time.Duration
	// RequestTimeout bounds the wait for one batch's answer; when it
	// passes, the connection is dropped and the batch resent. Default 30 s.
	RequestTimeout time.Duration
	// MaxAttempts is how often a batch (or the records of it that failed
	// with a retriable code) is sent at most. Default 5.
	MaxAttempts int
	// RetryBackoff is the first pause between attempts, doubled each time.
	// Default 20 ms.
	RetryBackoff time.Duration
	// ProducerID identifies this client for the server's deduplication of
	// resent batches. Default: random per Client. All zero disables it.
	ProducerID [frame.ProducerIDSize]byte
	// DisableDedup sends a zero producer id (no deduplication).
	DisableDedup bool
	// ClientName is sent in Hello (informational). Default "sluicetcp".
	ClientName string
	// FirstBatchID is the batch id of the first Put; later Puts count up
	// from it. Default 1. A producer that keeps its ProducerID across
	// restarts (tools/sluice-agent) starts past the ids it used before, or
	// at the id of a batch whose answer it never saw, to resend it.
	FirstBatchID uint64
}

// Record is one record to put.
type Record struct {
	PartitionKey    string
	ExplicitHashKey string // "" routes by the MD5 of PartitionKey
	Data            []byte
}

// Result is the outcome of one Record: its shard and sequence number, or
// Err (a *frame.Error with the record's code) after the retries.
type Result struct {
	ShardID string
	Err     error
	// The sequence number is computed when asked for: the Ack carries the
	// first sequence number of the record's group and the record's offset
	// j in it (PROTOCOL.md section 5).
	first  string
	offset uint64
}

// SequenceNumber returns the record's sequence number, as GetRecords shows
// it, or "" with Err. It is computed from the record's Ack group on every
// call (one allocation, except for a group's first record).
func (r Result) SequenceNumber() string {
	if r.Err != nil || r.first == "" {
		return ""
	}
	return frame.SeqNumOffset(r.first, r.offset)
}

// Client puts records over a pool of connections. Safe for concurrent
// use; concurrent PutRecords calls share the connections, pipelined.
type Client struct {
	cfg     Config
	batchID atomic.Uint64
	next    atomic.Uint64

	mu     sync.Mutex
	conns  []*conn
	closed bool
}

// New returns a Client; connections are made on first use.
func New(cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("sluicetcp: Config.Addr is required")
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 2
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 20 * time.Millisecond
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "sluicetcp"
	}
	if cfg.DisableDedup {
		cfg.ProducerID = [frame.ProducerIDSize]byte{}
	} else if cfg.ProducerID == ([frame.ProducerIDSize]byte{}) {
		if _, err := rand.Read(cfg.ProducerID[:]); err != nil {
			return nil, fmt.Errorf("sluicetcp: cannot make a producer id: %w", err)
		}
	}
	c := &Client{cfg: cfg, conns: make([]*conn, cfg.Conns)}
	if cfg.FirstBatchID > 0 {
		c.batchID.Store(cfg.FirstBatchID - 1)
	}
	return c, nil
}

// NextBatchID is the batch id the next Put will carry. With one caller at
// a time, the next PutRecords numbers its Puts from it, consecutively, in
// the order of its records.
func (c *Client) NextBatchID() uint64 {
	return c.batchID.Load() + 1
}

// Close closes the connections; calls in progress fail.
func (c *Client) Close() error {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.closed = true
	c.mu.Unlock()
	for _, cn := range conns {
		if cn != nil {
			_ = cn.close()
		}
	}
	return nil
}

// get returns a live connection of the pool (round robin), dialing it if
// needed.
func (c *Client) get(ctx context.Context) (*conn, error) {
	i := int(c.next.Add(1) % uint64(c.cfg.Conns))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("sluicetcp: client is closed")
	}
	if cn := c.conns[i]; cn != nil && cn.err() == nil {
		return cn, nil
	}
	// Dialing under the lock keeps one connection per slot; the pool is
	// small and dials are rare.
	cn, err := dial(ctx, &c.cfg)
	if err != nil {
		return nil, err
	}
	c.conns[i] = cn
	return cn, nil
}

// limits returns the server's limits (dialing if needed).
func (c *Client) limits(ctx context.Context) (frame.HelloOK, error) {
	cn, err := c.get(ctx)
	if err != nil {
		return frame.HelloOK{}, err
	}
	return cn.hello, nil
}

// batch is one Put: its records (indexes into the caller's slice) and its
// whole frame, resent unchanged.
type batch struct {
	idx   []int
	frame []byte // header and body
}

func (b *batch) body() []byte { return b.frame[frame.HeaderSize:] }

// PutRecords puts recs to the stream and returns one Result per record,
// in order. Records are split into Puts that fit the server's limits and
// sent pipelined. A Put whose answer is lost (connection failure, timeout,
// a retriable batch error) is resent unchanged with its batch id, so the
// server answers a resend of a batch it wrote from its cache instead of
// writing it again; records that failed alone with a retriable code
// (THROTTLED, INTERNAL) are resent in a new batch. The error is non-nil
// when the call as a whole failed (stream not found, invalid records,
// attempts exhausted on connection failures, ctx).
func (c *Client) PutRecords(ctx context.Context, streamName string, recs []Record) ([]Result, error) {
	if len(streamName) == 0 || len(streamName) > frame.MaxStreamName {
		return nil, fmt.Errorf("sluicetcp: stream name of %d bytes, want 1 to %d", len(streamName), frame.MaxStreamName)
	}
	var lim frame.HelloOK
	var err error
	for attempt, backoff := 1, c.cfg.RetryBackoff; ; attempt, backoff = attempt+1, backoff*2 {
		if lim, err = c.limits(ctx); err == nil {
			break
		}
		var fe *frame.Error
		if attempt >= c.cfg.MaxAttempts || (errors.As(err, &fe) && !fe.Code.Retriable()) || !errors.Is(err, errConnBroken) && fe == nil {
			return nil, err
		}
		if err := sleep(ctx, backoff); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(recs))
	todo := make([]int, len(recs))
	for i := range todo {
		todo[i] = i
	}
	backoff := c.cfg.RetryBackoff
	for attempt := 1; len(todo) > 0; attempt++ {
		batches, err := c.split(streamName, recs, todo, lim)
		if err != nil {
			return nil, err
		}
		var retry []int
		if err := c.sendAll(ctx, batches, results, &retry); err != nil {
			return nil, err
		}
		todo = retry
		if len(todo) == 0 || attempt >= c.cfg.MaxAttempts {
			break
		}
		if err := sleep(ctx, backoff); err != nil {
			return nil, err
		}
		backoff *= 2
	}
	return results, nil
}

// split encodes the records of todo into Put frames within the limits,
// each with a new batch id. Records are copied once, into the frame.
func (c *Client) split(name string, recs []Record, todo []int, lim frame.HelloOK) ([]*batch, error) {
	var out []*batch
	maxBody := int(lim.MaxFrame)
	head := 8 + 1 + len(name) + 4
	// Group first, so that each frame is allocated at its size.
	start, size := 0, head
	groups := [][2]int{}
	for k, i := range todo {
		r := &recs[i]
		if len(r.PartitionKey) > frame.MaxPartitionKey || len(r.ExplicitHashKey) > frame.MaxHashKey {
			return nil, fmt.Errorf("sluicetcp: record %d: %w", i, frame.ValidateRecord([]byte(r.PartitionKey), []byte(r.ExplicitHashKey)))
		}
		n := frame.RecordSize(len(r.PartitionKey), len(r.ExplicitHashKey), len(r.Data))
		if head+n > maxBody {
			return nil, fmt.Errorf("sluicetcp: record %d of %d bytes does not fit in the server's frame limit of %d bytes", i, len(r.Data), maxBody)
		}
		if k > start && (size+n > maxBody || k-start >= int(lim.MaxRecords)) {
			groups = append(groups, [2]int{start, size})
			start, size = k, head
		}
		size += n
	}
	groups = append(groups, [2]int{start, size})
	for g, gr := range groups {
		end := len(todo)
		if g+1 < len(groups) {
			end = groups[g+1][0]
		}
		idx := todo[gr[0]:end]
		f := make([]byte, frame.HeaderSize, frame.HeaderSize+gr[1])
		f = frame.AppendPutHeader(f, c.batchID.Add(1), name, len(idx))
		for _, i := range idx {
			r := &recs[i]
			f = appendRecordStrings(f, r.PartitionKey, r.ExplicitHashKey, r.Data)
		}
		frame.AppendHeader(f[:0], frame.TypePut, 0, f[frame.HeaderSize:])
		out = append(out, &batch{idx: idx, frame: f})
	}
	return out, nil
}

// appendRecordStrings is frame.AppendRecord without converting the
// strings to byte slices.
func appendRecordStrings(dst []byte, pk, ehk string, data []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(pk)))
	dst = append(dst, pk...)
	dst = append(dst, byte(len(ehk)))
	dst = append(dst, ehk...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

// sendAll sends batches pipelined and fills results; records to retry in a
// new batch go to retry. Batches whose answer is lost are resent as they
// are here.
func (c *Client) sendAll(ctx context.Context, batches []*batch, results []Result, retry *[]int) error {
	type inflight struct {
		b *batch
		p *pending
	}
	backoff := c.cfg.RetryBackoff
	for attempt := 1; len(batches) > 0; attempt++ {
		sent := make([]inflight, 0, len(batches))
		var resend []*batch
		var lastErr error
		for _, b := range batches {
			cn, err := c.get(ctx)
			var p *pending
			if err == nil {
				p, err = cn.send(ctx, b.frame, int64(len(b.frame)))
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var fe *frame.Error
				if errors.As(err, &fe) && !fe.Code.Retriable() {
					return err
				}
				lastErr = err
				resend = append(resend, b)
				continue
			}
			sent = append(sent, inflight{b, p})
		}
		for _, f := range sent {
			rep, err := c.wait(ctx, f.p)
			if err == nil {
				err = c.apply(f.b, rep, results, retry)
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var fe *frame.Error
				if errors.As(err, &fe) && !fe.Code.Retriable() {
					return err
				}
				lastErr = err
				resend = append(resend, f.b)
			}
		}
		if len(resend) == 0 {
			return nil
		}
		if attempt >= c.cfg.MaxAttempts {
			return fmt.Errorf("sluicetcp: %d batches unanswered after %d attempts: %w", len(resend), attempt, lastErr)
		}
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
		backoff *= 2
		batches = resend
	}
	return nil
}

// wait waits for p's answer, dropping the connection after RequestTimeout.
func (c *Client) wait(ctx context.Context, p *pending) (reply, error) {
	t := time.NewTimer(c.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case rep := <-p.done:
		return rep, rep.err
	case <-t.C:
		c.dropAll(fmt.Errorf("%w: no answer within %s", errConnBroken, c.cfg.RequestTimeout))
		rep := <-p.done
		if rep.err == nil {
			return rep, nil
		}
		return reply{}, rep.err
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}

// dropAll breaks every pooled connection (after a timeout the server's
// state is unknown; the batches are resent).
func (c *Client) dropAll(err error) {
	c.mu.Lock()
	conns := append([]*conn(nil), c.conns...)
	c.mu.Unlock()
	for _, cn := range conns {
		if cn != nil {
			cn.fail(err)
		}
	}
}

// apply records the answer of b.
func (c *Client) apply(b *batch, rep reply, results []Result, retry *[]int) error {
	switch rep.typ {
	case frame.TypeAck:
		a := ackPool.Get().(*frame.Ack)
		defer ackPool.Put(a)
		if err := frame.DecodeAck(rep.body, a, len(b.idx)); err != nil {
			return fmt.Errorf("%w: %w", errConnBroken, err)
		}
		if a.Count != len(b.idx) || a.BatchID != frame.PeekBatchID(b.body()) {
			return fmt.Errorf("%w: ack of batch %d with %d records for batch %d of %d records", errConnBroken,
				a.BatchID, a.Count, frame.PeekBatchID(b.body()), len(b.idx))
		}
		n0 := len(*retry)
		for k := range a.Groups {
			g := &a.Groups[k]
			if g.Code == frame.CodeOK {
				for j, x := range g.Indexes {
					results[b.idx[x]] = Result{ShardID: g.ShardID, first: g.FirstSequenceNumber, offset: uint64(j)}
				}
				continue
			}
			e := &frame.Error{BatchID: a.BatchID, Code: g.Code, Message: g.Message}
			for _, x := range g.Indexes {
				i := b.idx[x]
				results[i] = Result{Err: e}
				if g.Code.Retriable() {
					*retry = append(*retry, i)
				}
			}
		}
		// Records to resend keep the order of the Put (the groups of a
		// shard's throttled and failed records may interleave).
		slices.Sort((*retry)[n0:])
		return nil
	case frame.TypeError:
		var e frame.Error
		if err := frame.DecodeError(rep.body, &e); err != nil {
			return fmt.Errorf("%w: %w", errConnBroken, err)
		}
		return &e
	default:
		return fmt.Errorf("%w: answer of type 0x%02x to a Put", errConnBroken, rep.typ)
	}
}

// ackPool holds decoded Acks (their groups and indexes); apply copies what
// it keeps.
var ackPool = sync.Pool{New: func() any { return new(frame.Ack) }}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
