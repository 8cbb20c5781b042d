package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/client/sluicetcp"
)

// sender delivers the records of one intent, exactly once. Owned by the
// agent's goroutine.
type sender interface {
	// deliver returns once every record of in is in the stream exactly
	// once, or with ctx's error (in then stays in doubt). inDoubt says
	// that an earlier process may have sent some of them.
	deliver(ctx context.Context, in *intent, inDoubt bool) error
	// nextBatchID is the id the next intent gets.
	nextBatchID() uint64
	// tails are the shard tails to checkpoint (nil for none).
	tails() []shardTail
	close()
}

// maxPartitionKey is Kinesis's limit, in Unicode characters; we count
// bytes, which is stricter.
const maxPartitionKey = 256

// truncKey cuts s to at most n bytes on a rune boundary.
func truncKey(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hashKey is the explicit hash key Kinesis derives from a partition key:
// the MD5 of its UTF-8 bytes as an unsigned 128-bit decimal.
func hashKey(key string) string {
	sum := md5.Sum([]byte(key))
	return new(big.Int).SetBytes(sum[:]).String()
}

// marker is appended to the partition key of every record sent over the
// Kinesis API: "#" producer (16 hex digits) "." batch id (hex) "." index
// in the batch (hex). A recovery scan finds a batch's records by it.
func marker(producer string, batch uint64, idx int) string {
	return "#" + producer + "." + strconv.FormatUint(batch, 16) + "." + strconv.FormatUint(uint64(idx), 16)
}

// parseMarker returns the batch id and index of a partition key made by
// producer, ok false for anything else.
func parseMarker(pk, producer string) (batch uint64, idx int, ok bool) {
	i := strings.LastIndexByte(pk, '#')
	if i < 0 {
		return 0, 0, false
	}
	rest, found := strings.CutPrefix(pk[i+1:], producer+".")
	if !found {
		return 0, 0, false
	}
	b, x, found := strings.Cut(rest, ".")
	if !found {
		return 0, 0, false
	}
	batch, err1 := strconv.ParseUint(b, 16, 64)
	ix, err2 := strconv.ParseUint(x, 16, 31)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return batch, int(ix), true
}

// seqLess compares decimal sequence numbers.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// kinesisSender puts records with PutRecords. Kinesis does not
// deduplicate, so a batch whose outcome is unknown (the agent died while
// sending it, or the request failed without an answer) is looked for in
// the stream before anything of it is sent again: every record carries
// its batch id and index in its partition key (routing uses the explicit
// hash key of the user's key), and a scan reads every shard after the
// last sequence number the agent knows there (or from the intent's time
// minus --clock-skew) to the tip.
type kinesisSender struct {
	client    *kinesis.Client
	stream    string
	producer  string
	settle    time.Duration
	skew      time.Duration
	backoff   time.Duration
	log       *slog.Logger
	m         *agentMetrics
	next      uint64
	tailMap   map[string]string
	lastSend  time.Time
	scanLimit int32
}

func (k *kinesisSender) nextBatchID() uint64 { return k.next }

func (k *kinesisSender) tails() []shardTail {
	var out []shardTail
	for s, q := range k.tailMap {
		out = append(out, shardTail{Shard: s, Seq: q})
	}
	return out
}

func (k *kinesisSender) close() {}

func (k *kinesisSender) noteTail(shard, seq string) {
	if old, ok := k.tailMap[shard]; !ok || seqLess(old, seq) {
		k.tailMap[shard] = seq
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (k *kinesisSender) deliver(ctx context.Context, in *intent, inDoubt bool) error {
	if in.BatchID >= k.next {
		k.next = in.BatchID + 1
	}
	pending := make([]int, len(in.Records))
	for i := range pending {
		pending[i] = i
	}
	backoff := k.backoff
	pause := func() error {
		err := sleepCtx(ctx, backoff)
		backoff = min(2*backoff, 5*time.Second)
		return err
	}
	for len(pending) > 0 {
		if inDoubt {
			// A request the dead process (or a failed call) sent may
			// still be applied by the server: wait --settle after the last
			// send before reading what landed.
			if err := sleepCtx(ctx, time.Until(k.lastSend.Add(k.settle))); err != nil {
				return err
			}
			landed, err := k.scan(ctx, in)
			if err != nil {
				k.log.Warn("cannot check which records of an in-doubt batch landed; retrying", "batch", in.BatchID, "err", err)
				if err := pause(); err != nil {
					return err
				}
				continue
			}
			var rest []int
			for _, i := range pending {
				if !landed[i] {
					rest = append(rest, i)
				}
			}
			k.m.inDoubt.Inc()
			k.log.Info("in-doubt batch checked", "batch", in.BatchID, "records", len(in.Records), "landed", len(in.Records)-len(rest))
			pending, inDoubt = rest, false
			if len(pending) == 0 {
				break
			}
		}
		entries := make([]types.PutRecordsRequestEntry, len(pending))
		for j, i := range pending {
			r := &in.Records[i]
			entries[j] = types.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
			if r.ExplicitHashKey != "" {
				entries[j].ExplicitHashKey = aws.String(r.ExplicitHashKey)
			}
		}
		k.lastSend = time.Now()
		out, err := k.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(k.stream), Records: entries})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// No answer: the server may have written any part of it.
			k.log.Warn("PutRecords failed; checking what landed before resending", "batch", in.BatchID, "err", err)
			inDoubt = true
			if err := pause(); err != nil {
				return err
			}
			continue
		}
		if len(out.Records) != len(entries) {
			k.log.Warn("PutRecords answered a wrong number of records; checking what landed", "sent", len(entries), "answered", len(out.Records))
			inDoubt = true
			continue
		}
		var failed []int
		for j, r := range out.Records {
			if r.ErrorCode != nil {
				failed = append(failed, pending[j])
				continue
			}
			k.noteTail(aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber))
		}
		if len(failed) > 0 {
			// Only the failed entries go again (they were not written).
			k.m.retried.Add(len(failed))
			if err := pause(); err != nil {
				return err
			}
		}
		pending = failed
	}
	return nil
}

// scan reads every shard of the stream after the known tail (or from
// the intent's time minus the clock skew) to its tip and returns the
// indexes of in's records found there.
func (k *kinesisSender) scan(ctx context.Context, in *intent) (map[int]bool, error) {
	landed := map[int]bool{}
	var shards []types.Shard
	var token *string
	for {
		inp := &kinesis.ListShardsInput{}
		if token != nil {
			inp.NextToken = token
		} else {
			inp.StreamName = aws.String(k.stream)
		}
		out, err := k.client.ListShards(ctx, inp)
		if err != nil {
			return nil, fmt.Errorf("ListShards: %w", err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	from := time.UnixMilli(in.TimeMS).Add(-k.skew)
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		gi := &kinesis.GetShardIteratorInput{StreamName: aws.String(k.stream), ShardId: aws.String(id)}
		if seq, ok := k.tailMap[id]; ok {
			gi.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
			gi.StartingSequenceNumber = aws.String(seq)
		} else {
			gi.ShardIteratorType = types.ShardIteratorTypeAtTimestamp
			gi.Timestamp = aws.Time(from)
		}
		it, err := k.client.GetShardIterator(ctx, gi)
		if err != nil {
			return nil, fmt.Errorf("GetShardIterator %s: %w", id, err)
		}
		iter := it.ShardIterator
		for aws.ToString(iter) != "" { // none at the end of a closed shard
			out, err := k.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(k.scanLimit)})
			if err != nil {
				// An expired iterator too: the caller scans again.
				return nil, fmt.Errorf("GetRecords %s: %w", id, err)
			}
			for _, r := range out.Records {
				if b, idx, ok := parseMarker(aws.ToString(r.PartitionKey), k.producer); ok && b == in.BatchID && idx < len(in.Records) {
					landed[idx] = true
				}
				k.noteTail(id, aws.ToString(r.SequenceNumber))
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return landed, nil
}

// tcpSender puts records over the binary protocol with sluicetcp. The
// server deduplicates a resent batch by (producer id, batch id): the agent
// keeps its producer id in the checkpoint and numbers batches from the
// checkpoint, so a batch in doubt is replayed with the ids it had, and the
// server answers the Puts it already wrote from its cache.
type tcpSender struct {
	cfg     sluicetcp.Config
	client  *sluicetcp.Client
	stream  string
	backoff time.Duration
	log     *slog.Logger
	m       *agentMetrics
	// high is past every batch id this process (or, by the skip at start,
	// a dead one) may have used: after a replay, numbering resumes here
	// so that no id is reused for other records (BATCH_MISMATCH).
	high uint64
}

func newTCPSender(cfg sluicetcp.Config, stream string, backoff time.Duration, log *slog.Logger, m *agentMetrics) (*tcpSender, error) {
	c, err := sluicetcp.New(cfg)
	if err != nil {
		return nil, err
	}
	return &tcpSender{cfg: cfg, client: c, stream: stream, backoff: backoff, log: log, m: m, high: c.NextBatchID()}, nil
}

func (s *tcpSender) nextBatchID() uint64 { return s.client.NextBatchID() }
func (s *tcpSender) tails() []shardTail  { return nil }
func (s *tcpSender) close()              { s.client.Close() }

// restart replaces the client by one whose next Put has batch id first.
func (s *tcpSender) restart(first uint64) error {
	s.high = max(s.high, s.client.NextBatchID())
	s.client.Close()
	cfg := s.cfg
	cfg.FirstBatchID = first
	c, err := sluicetcp.New(cfg)
	if err != nil {
		return err
	}
	s.client = c
	return nil
}

func (s *tcpSender) deliver(ctx context.Context, in *intent, inDoubt bool) error {
	recs := make([]sluicetcp.Record, len(in.Records))
	for i, r := range in.Records {
		recs[i] = sluicetcp.Record{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data}
	}
	backoff := s.backoff
	replay := inDoubt || s.client.NextBatchID() != in.BatchID
	for {
		if replay {
			// The same records from the same batch id: the Puts split
			// and number the same way, and the server answers those it
			// wrote from its cache.
			if err := s.restart(in.BatchID); err != nil {
				return err
			}
			if inDoubt {
				s.m.inDoubt.Inc()
			}
		}
		todo := recs
		var err error
		for len(todo) > 0 && err == nil {
			var res []sluicetcp.Result
			res, err = s.client.PutRecords(ctx, s.stream, todo)
			if err != nil {
				break
			}
			var failed []sluicetcp.Record
			for i, r := range res {
				if r.Err != nil {
					failed = append(failed, todo[i])
				}
			}
			if len(failed) > 0 {
				s.m.retried.Add(len(failed))
				if err = sleepCtx(ctx, backoff); err != nil {
					return err
				}
			}
			todo = failed
		}
		if err == nil {
			if replay {
				return s.restart(max(s.high, s.client.NextBatchID()))
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("binary protocol put failed; replaying the batch with its ids", "batch", in.BatchID, "err", err)
		replay = true
		if err := sleepCtx(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// producerHex is the first 8 bytes of the producer id in hex.
func producerHex(id [16]byte) string { return hex.EncodeToString(id[:8]) }
