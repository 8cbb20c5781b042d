package fanoutload

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// authorization is a well-formed SigV4 header; a server without --auth
// does not check it.
const authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/kinesis/aws4_request, " +
	"SignedHeaders=content-type;host;x-amz-date;x-amz-target, " +
	"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

// ProducerConfig is a PutRecords load.
type ProducerConfig struct {
	Addr   string // host:port of the server
	Stream string
	// Producers is the number of producers, each with its own keep-alive
	// HTTP/1.1 connection sending one request at a time.
	Producers int
	// Batch is the number of records per PutRecords request.
	Batch int
	// Rate is the total target rate in records/s, spread evenly over the
	// producers, each sending a batch every Producers*Batch/Rate seconds
	// on a fixed schedule (a late request is sent at once, and the
	// schedule is not shifted). 0 sends back to back (full speed).
	Rate float64
	// Size is the data size of a record, at least StampLen.
	Size int
	// Duration bounds the load in time; MaxRecords (if not 0) and the
	// Tracker's capacity bound it in records.
	Duration   time.Duration
	MaxRecords int64
	Tracker    *Tracker
	// Placement, when set, records the shard and sequence number of
	// every record from the PutRecords responses; a response without them
	// fails the load.
	Placement *Placement
	// Acked, when set, is increased by the records of every acknowledged
	// request as it is acknowledged.
	Acked *atomic.Int64
}

// ProducerResult is the outcome of RunProducers.
type ProducerResult struct {
	Records, Requests int64
	Elapsed           time.Duration
	// Latencies are the PutRecords round trips, one per request.
	Latencies []time.Duration
	// Late counts requests sent more than one interval after their
	// scheduled time (the producers could not keep the rate).
	Late int64
	Err  error
}

// RunProducers runs the load until its duration is over, the tracker is
// full, ctx ends or a request fails.
func RunProducers(ctx context.Context, cfg ProducerConfig) ProducerResult {
	if cfg.Producers < 1 || cfg.Batch < 1 || cfg.Size < StampLen || cfg.Rate < 0 {
		return ProducerResult{Err: fmt.Errorf("fanoutload: bad producer config %+v", cfg)}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	filler := base64.StdEncoding.EncodeToString(make([]byte, cfg.Size-StampLen))
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(cfg.Producers*cfg.Batch) / cfg.Rate)
	}
	var (
		mu      sync.Mutex
		res     ProducerResult
		records atomic.Int64
		reqs    atomic.Int64
		late    atomic.Int64
	)
	start := time.Now()
	var wg sync.WaitGroup
	for p := range cfg.Producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A short idle time lets fasthttp's connection cleaner
			// goroutine end soon after the load (goleak in tests).
			c := &fasthttp.HostClient{Addr: cfg.Addr, MaxConns: 1, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
				NoDefaultUserAgentHeader: true, MaxIdleConnDuration: time.Second, Dial: dial}
			defer c.CloseIdleConnections()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var lats []time.Duration
			var body []byte
			// Spread the producers' schedules over one interval.
			next := time.Now().Add(interval * time.Duration(p) / time.Duration(cfg.Producers))
			for ctx.Err() == nil {
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						t := time.NewTimer(d)
						select {
						case <-t.C:
						case <-ctx.Done():
							t.Stop()
							continue
						}
					} else if -d > interval {
						late.Add(1)
					}
					next = next.Add(interval)
				}
				if cfg.MaxRecords > 0 && records.Load() >= cfg.MaxRecords {
					break
				}
				first, ok := cfg.Tracker.Alloc(cfg.Batch)
				if !ok {
					break
				}
				body = appendPutRecords(body[:0], cfg.Stream, first, cfg.Batch, filler)
				req.Reset()
				req.SetRequestURI("http://" + cfg.Addr + "/")
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
				req.Header.Set("X-Amz-Date", "20261206T000000Z")
				req.Header.Set("Authorization", authorization)
				req.SetBodyRaw(body)
				resp.Reset()
				sentAt := cfg.Tracker.Now()
				err := c.Do(req, resp)
				ackAt := cfg.Tracker.Now()
				if err == nil {
					err = checkPut(resp)
				}
				if err == nil && cfg.Placement != nil {
					err = cfg.Placement.record(first, cfg.Batch, resp.Body())
				}
				if err != nil {
					mu.Lock()
					if res.Err == nil && ctx.Err() == nil {
						res.Err = err
					}
					mu.Unlock()
					cancel()
					return
				}
				cfg.Tracker.Acked(first, cfg.Batch, sentAt, ackAt)
				lats = append(lats, time.Duration(ackAt-sentAt))
				records.Add(int64(cfg.Batch))
				reqs.Add(1)
				if cfg.Acked != nil {
					cfg.Acked.Add(int64(cfg.Batch))
				}
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, lats...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Records, res.Requests, res.Late = records.Load(), reqs.Load(), late.Load()
	return res
}

// dial connects without fasthttp's default dialer, whose DNS cache starts
// a goroutine that never ends (goleak in tests).
func dial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 10*time.Second) }

var failedZero = []byte(`"FailedRecordCount":0`)

func checkPut(resp *fasthttp.Response) error {
	b := resp.Body()
	if resp.StatusCode() != fasthttp.StatusOK {
		if len(b) > 300 {
			b = b[:300]
		}
		return fmt.Errorf("PutRecords: HTTP %d: %s", resp.StatusCode(), b)
	}
	if !bytes.Contains(b, failedZero) {
		if len(b) > 300 {
			b = b[:300]
		}
		return errors.New("PutRecords: records failed: " + string(b))
	}
	return nil
}

// appendPutRecords appends a PutRecords body of n records with ids
// first.., each stamped data followed by the zero bytes that filler
// encodes, and a partition key derived from the id (spread evenly over
// the hash key space).
func appendPutRecords(dst []byte, stream string, first uint64, n int, filler string) []byte {
	dst = append(dst, `{"StreamName":"`...)
	dst = append(dst, stream...)
	dst = append(dst, `","Records":[`...)
	var stamp [StampLen]byte
	for i := range n {
		id := first + uint64(i)
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"Data":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, AppendStamp(stamp[:0], id))
		dst = append(dst, filler...)
		dst = append(dst, `","PartitionKey":"`...)
		dst = appendPartitionKey(dst, id)
		dst = append(dst, `"}`...)
	}
	return append(dst, "]}"...)
}

// appendPartitionKey appends 16 hex digits of a hash of id.
func appendPartitionKey(dst []byte, id uint64) []byte {
	x := bits.RotateLeft64(id*0x9e3779b97f4a7c15, 17) * 0xbf58476d1ce4e5b9
	var b [8]byte
	for j := range b {
		b[j] = byte(x >> (8 * j))
	}
	return hex.AppendEncode(dst, b[:])
}
