// Package apiload is the load generator of the API benchmark: Kinesis JSON
// 1.1 or CBOR 1.1 requests over keep-alive HTTP/1.1 connections (fasthttp
// client) or over h2c (HTTP/2 with prior knowledge, several streams per
// connection, golang.org/x/net/http2), with bodies encoded once up front,
// plus the "discard" server that reads and drops every body and answers
// canned responses (the ceiling of the client and HTTP path).
//
// A load is bounded in requests and in time. Functions keep no state
// between calls; a Load's workers share nothing but atomic counters.
package apiload

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// Target header values.
const (
	OpPutRecords       = "PutRecords"
	OpPutRecord        = "PutRecord"
	OpGetRecords       = "GetRecords"
	OpGetShardIterator = "GetShardIterator"
	OpCreateStream     = "CreateStream"
	OpDescribeSummary  = "DescribeStreamSummary"
	OpListShards       = "ListShards"
)

// authorization is a well-formed SigV4 header. No server under test checks
// signatures, but kinesalite and moto want one to route the request.
const authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/kinesis/aws4_request, " +
	"SignedHeaders=content-type;host;x-amz-date;x-amz-target, " +
	"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

// Client sends requests to one server over one keep-alive connection. It is
// not safe for concurrent use; make one per connection.
type Client struct {
	hc    *fasthttp.HostClient
	uri   string
	req   *fasthttp.Request
	resp  *fasthttp.Response
	codec string // Content-Type of requests; CBOR responses must be CBOR too
}

// NewClient returns a client of the server at addr (host:port) that keeps
// one connection open and sends JSON.
func NewClient(addr string) *Client { return NewCodecClient(addr, CodecJSON) }

// NewCodecClient is NewClient for requests of Content-Type codec (CodecJSON
// or CodecCBOR).
func NewCodecClient(addr, codec string) *Client {
	return &Client{
		codec: codec,
		hc: &fasthttp.HostClient{Addr: addr, MaxConns: 1, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
			MaxResponseBodySize: 64 << 20, NoDefaultUserAgentHeader: true},
		uri:  "http://" + addr + "/",
		req:  fasthttp.AcquireRequest(),
		resp: fasthttp.AcquireResponse(),
	}
}

// Close closes the client's connection.
func (c *Client) Close() {
	c.hc.CloseIdleConnections()
	fasthttp.ReleaseRequest(c.req)
	fasthttp.ReleaseResponse(c.resp)
}

// Do sends body as operation op and returns the response body, valid until
// the next call. A status other than 200 is an error carrying the body.
// body must not change until Do returns.
func (c *Client) Do(op string, body []byte) ([]byte, error) {
	req := c.req
	req.Reset()
	req.SetRequestURI(c.uri)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType(c.codec)
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("X-Amz-Date", "20261129T000000Z")
	req.Header.Set("Authorization", authorization)
	req.SetBodyRaw(body)
	c.resp.Reset()
	if err := c.hc.Do(req, c.resp); err != nil {
		return nil, err
	}
	if c.resp.StatusCode() != fasthttp.StatusOK {
		b := c.resp.Body()
		if len(b) > 300 {
			b = b[:300]
		}
		return nil, &httpError{msg: fmt.Sprintf("%s: HTTP %d: %s", op, c.resp.StatusCode(), quoteBody(c.codec, b))}
	}
	if err := checkContentType(c.codec, op, c.resp.Header.ContentType()); err != nil {
		return nil, err
	}
	return c.resp.Body(), nil
}

// redial drops the connection: the next Do opens a new one.
func (c *Client) redial() { c.hc.CloseIdleConnections() }

// checkContentType checks that the answer to a CBOR request is CBOR (a
// JSON answer would otherwise fail later with a less clear message). JSON
// answers are not checked: the JSON checks read the body.
func checkContentType(codec, op string, got []byte) error {
	if codec == CodecCBOR && string(got) != CodecCBOR {
		return &httpError{msg: fmt.Sprintf("%s: %v: CBOR request answered with Content-Type %q", op, ErrVerify, got), verify: true}
	}
	return nil
}

// quoteBody prints an error body: JSON as it is, CBOR quoted.
func quoteBody(codec string, b []byte) string {
	if codec == CodecCBOR {
		return fmt.Sprintf("%q", b)
	}
	return string(b)
}

// Call is Do on a fresh client: for setup requests.
func Call(addr, op string, body []byte) ([]byte, error) {
	c := NewClient(addr)
	defer c.Close()
	b, err := c.Do(op, body)
	return bytes.Clone(b), err
}

// RandomData returns n random bytes.
func RandomData(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// PartitionKey returns a partition key of 16 hex digits for record i of
// body k: distinct keys spread evenly over the hash key space.
func PartitionKey(k, i int) string {
	x := uint64(k)<<32 | uint64(i)
	x = bits.RotateLeft64(x*0x9e3779b97f4a7c15, 17) * 0xbf58476d1ce4e5b9
	var b [8]byte
	for j := range b {
		b[j] = byte(x >> (8 * j))
	}
	return hex.EncodeToString(b[:])
}

// PutRecordsBody returns a PutRecords request of n records of size bytes
// each (RecordData(k, i, size): stamped, random tail) with distinct
// partition keys for stream; k varies the records between bodies.
func PutRecordsBody(stream string, k, n, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"StreamName":"` + stream + `","Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		data := base64.StdEncoding.EncodeToString(RecordData(k, i, size))
		b.WriteString(`{"Data":"` + data + `","PartitionKey":"` + PartitionKey(k, i) + `"}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// PutRecordBody returns a PutRecord request of RecordData(k, 0, size).
func PutRecordBody(stream string, k, size int) []byte {
	data := base64.StdEncoding.EncodeToString(RecordData(k, 0, size))
	return []byte(`{"StreamName":"` + stream + `","Data":"` + data + `","PartitionKey":"` + PartitionKey(k, 0) + `"}`)
}

// Config is one load.
type Config struct {
	Addr  string
	Op    string // OpPutRecords or OpPutRecord
	Conns int    // connections
	// Codec is the requests' Content-Type: CodecJSON (default) or
	// CodecCBOR. Body must be encoded in it, and Check must read it.
	Codec string
	// H2C sends the requests over HTTP/2 cleartext with prior knowledge:
	// Conns connections with Streams streams each in flight (default 1),
	// one goroutine per stream. Without H2C, one goroutine per HTTP/1.1
	// connection.
	H2C     bool
	Streams int
	// Body holds the request bodies; worker i (connection i, or stream i
	// of Conns*Streams, connection i%Conns) sends Body[i%len(Body)].
	Body [][]byte
	// RecordsPerRequest and DataBytesPerRequest count what one successful
	// request carries.
	RecordsPerRequest   int
	DataBytesPerRequest int
	// RoundRobin: connection w sends Body[(w+j*Conns)%len(Body)] as its
	// j-th request (the warm-up is request 0), so that every connection
	// cycles over all bodies (e.g. one per stream); otherwise connection w
	// always sends Body[w%len(Body)].
	RoundRobin bool
	// Check validates a response body (nil: status 200 suffices).
	Check func([]byte) error
	// OnStart, if set, is called after the warm-up requests, just before
	// the clock starts (e.g. to sample CPU counters).
	OnStart func()
	// Bounds: the load stops after MaxRequests requests or MaxDuration,
	// whichever comes first.
	MaxRequests int64
	MaxDuration time.Duration
}

// Result is what a load measured.
type Result struct {
	Requests, Records, DataBytes int64
	Elapsed                      time.Duration
	Latencies                    []time.Duration // one per request
	// Retries counts requests sent again after a connection failure
	// (kinesalite sometimes drops a keep-alive connection under load).
	Retries int64
	// Acked counts the successful requests of each worker (see
	// Config.Body), warm-up included (Run only): worker i sent
	// Body[i%len(Body)] that often.
	Acked []int64
	// Resent counts, per worker, warm-up included, the requests sent a
	// second time after a connection failure (Run only): the server may
	// have stored the first attempt too, so those records may be there
	// twice.
	Resent []int64
	// BodyAcked and BodyResent are Acked and Resent per body (Run only):
	// Body[b] was acknowledged BodyAcked[b] times, warm-up included.
	BodyAcked, BodyResent []int64
	Err                   error // the first failure; the load stops at it
}

// httpError is a response that is not a success: a status other than 200,
// or (verify) a body of the wrong Content-Type.
type httpError struct {
	msg    string
	verify bool
}

func (e *httpError) Error() string { return e.msg }

// Unwrap makes a wrong answer an ErrVerify.
func (e *httpError) Unwrap() error {
	if e.verify {
		return ErrVerify
	}
	return nil
}

// Conn is one connection's worth of requests: a *Client (HTTP/1.1) or a
// stream of an h2c connection. Do's answer is valid until the next Do.
type Conn interface {
	Do(op string, body []byte) ([]byte, error)
	// redial drops the connection after a failure below HTTP, so that the
	// next Do opens a new one.
	redial()
	Close()
}

// doRetry is c.Do, sent once more on a new connection when the first
// attempt failed below HTTP (a dropped connection). retries counts those.
func doRetry(c Conn, op string, body []byte, retries *atomic.Int64) ([]byte, error) {
	b, err := c.Do(op, body)
	var he *httpError
	if err != nil && !errors.As(err, &he) {
		retries.Add(1)
		c.redial()
		b, err = c.Do(op, body)
	}
	return b, err
}

// PutFailedZero checks that a PutRecords response reports no failed record.
func PutFailedZero(b []byte) error {
	if !bytes.Contains(b, []byte(`"FailedRecordCount":0`)) {
		if len(b) > 200 {
			b = b[:200]
		}
		return fmt.Errorf("PutRecords response reports failed records: %s", b)
	}
	return nil
}

// Workers is the number of goroutines of cfg's load: Conns, or
// Conns*Streams over h2c.
func (cfg Config) Workers() int {
	if cfg.H2C {
		return cfg.Conns * max(1, cfg.Streams)
	}
	return cfg.Conns
}

// Run runs the load of cfg: one goroutine per HTTP/1.1 connection, or per
// h2c stream, sending requests back to back.
func Run(cfg Config) Result {
	if cfg.Conns < 1 || len(cfg.Body) == 0 || cfg.MaxRequests < 1 || cfg.MaxDuration <= 0 {
		return Result{Err: errors.New("apiload: Conns, Body, MaxRequests and MaxDuration must be set")}
	}
	if cfg.Codec == "" {
		cfg.Codec = CodecJSON
	}
	workers := cfg.Workers()
	clients := make([]Conn, workers)
	var h2 []*H2CConn
	if cfg.H2C {
		h2 = make([]*H2CConn, cfg.Conns)
		for i := range h2 {
			h2[i] = NewH2CConn(cfg.Addr)
		}
		defer func() {
			for _, h := range h2 {
				h.Close()
			}
		}()
	}
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	acked := make([]int64, workers)
	var retries atomic.Int64
	resent := make([]atomic.Int64, workers)
	bodyAcked := make([]atomic.Int64, len(cfg.Body))
	bodyResent := make([]atomic.Int64, len(cfg.Body))
	bodyOf := func(w int, j int64) int {
		if cfg.RoundRobin {
			return int((int64(w) + j*int64(workers)) % int64(len(cfg.Body)))
		}
		return w % len(cfg.Body)
	}
	for i := range clients {
		if cfg.H2C {
			clients[i] = h2[i%len(h2)].NewStream(cfg.Codec)
		} else {
			clients[i] = NewCodecClient(cfg.Addr, cfg.Codec)
		}
		// Open the connection before the clock starts.
		b := bodyOf(i, 0)
		r0 := resent[i].Load()
		resp, err := doRetry(clients[i], cfg.Op, cfg.Body[b], &resent[i])
		bodyResent[b].Add(resent[i].Load() - r0)
		if err == nil && cfg.Check != nil {
			err = cfg.Check(resp)
		}
		if err != nil {
			return Result{Err: fmt.Errorf("warm-up request: %w", err)}
		}
		acked[i] = 1
		bodyAcked[b].Add(1)
	}
	if cfg.OnStart != nil {
		cfg.OnStart()
	}
	retries.Store(0)
	var issued atomic.Int64
	var stop atomic.Bool
	var firstErr error
	var errOnce sync.Once
	lats := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.MaxDuration)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[w]
			l := make([]time.Duration, 0, 1024)
			for j := int64(1); !stop.Load() && issued.Add(1) <= cfg.MaxRequests; j++ {
				b := bodyOf(w, j)
				t0 := time.Now()
				r0 := resent[w].Load()
				resp, err := doRetry(c, cfg.Op, cfg.Body[b], &resent[w])
				retries.Add(resent[w].Load() - r0)
				bodyResent[b].Add(resent[w].Load() - r0)
				if err == nil && cfg.Check != nil {
					err = cfg.Check(resp)
				}
				t1 := time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					break
				}
				l = append(l, t1.Sub(t0))
				bodyAcked[b].Add(1)
				if t1.After(deadline) {
					stop.Store(true)
				}
			}
			lats[w] = l
			acked[w] += int64(len(l))
		}()
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Err: firstErr, Retries: retries.Load(), Acked: acked, Resent: make([]int64, workers)}
	for w := range resent {
		res.Resent[w] = resent[w].Load()
	}
	res.BodyAcked, res.BodyResent = make([]int64, len(cfg.Body)), make([]int64, len(cfg.Body))
	for b := range bodyAcked {
		res.BodyAcked[b], res.BodyResent[b] = bodyAcked[b].Load(), bodyResent[b].Load()
	}
	for _, l := range lats {
		res.Latencies = append(res.Latencies, l...)
	}
	res.Requests = int64(len(res.Latencies))
	res.Records = res.Requests * int64(cfg.RecordsPerRequest)
	res.DataBytes = res.Requests * int64(cfg.DataBytesPerRequest)
	return res
}

// CreateStream creates stream with shards shards and waits (up to timeout)
// until it is ACTIVE.
func CreateStream(addr, stream string, shards int, timeout time.Duration) error {
	body := []byte(`{"StreamName":"` + stream + `","ShardCount":` + strconv.Itoa(shards) + `}`)
	if _, err := Call(addr, OpCreateStream, body); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		b, err := Call(addr, OpDescribeSummary, []byte(`{"StreamName":"`+stream+`"}`))
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(`"StreamStatus":"ACTIVE"`)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %s not ACTIVE after %v: %s", stream, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ShardIDs lists the shard ids of stream.
func ShardIDs(addr, stream string) ([]string, error) {
	b, err := Call(addr, OpListShards, []byte(`{"StreamName":"`+stream+`"}`))
	if err != nil {
		return nil, err
	}
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return nil, fmt.Errorf("ListShards: %w", err)
	}
	var ids []string
	for _, s := range v.GetArray("Shards") {
		ids = append(ids, string(s.GetStringBytes("ShardId")))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("ListShards returned no shard: %s", b)
	}
	return ids, nil
}

// ReadConfig is a GetRecords load: each connection reads one shard from
// TRIM_HORIZON to its end with GetRecords of Limit records, then starts
// over with a new iterator.
type ReadConfig struct {
	Addr, Stream string
	Shards       []string // connection i reads Shards[i%len(Shards)]
	Conns        int
	Limit        int
	MaxRequests  int64 // GetRecords calls
	MaxDuration  time.Duration
	// Verify checks every record's data (CheckData) and, when ShardRecords
	// is set, that each pass over shard Shards[i] from TRIM_HORIZON to its
	// end reads ShardRecords[i] records.
	Verify       bool
	ShardRecords []int64
}

// scanGetRecords counts the records of a compact GetRecords response and
// the bytes their Data decodes to, and returns NextShardIterator. It scans
// for member names instead of parsing: a full JSON parse of 13 MB answers
// cost the client more CPU than some servers spend producing them. Every
// server under test writes compact JSON whose Data and iterator strings
// hold no escapes (base64 and the iterators' alphabets have none).
//
// With onRecord set, each record's data is checked (CheckData) and its id
// passed to onRecord.
func scanGetRecords(b []byte, onRecord func(RecordID)) (records int, data int64, next string, err error) {
	if !bytes.Contains(b, []byte(`"Records":[`)) {
		if len(b) > 200 {
			b = b[:200]
		}
		return 0, 0, "", fmt.Errorf("GetRecords response without a Records list: %s", b)
	}
	key := []byte(`"Data":"`)
	for rest := b; ; {
		i := bytes.Index(rest, key)
		if i < 0 {
			break
		}
		rest = rest[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return 0, 0, "", errors.New("GetRecords response: unterminated Data")
		}
		d := rest[:j]
		if onRecord != nil {
			id, err := CheckData(d)
			if err != nil {
				return 0, 0, "", fmt.Errorf("GetRecords: %w: %w", ErrVerify, err)
			}
			onRecord(id)
		}
		pad := 0
		if j >= 1 && d[j-1] == '=' {
			pad++
			if j >= 2 && d[j-2] == '=' {
				pad++
			}
		}
		data += int64(j/4*3 - pad)
		records++
		rest = rest[j:]
	}
	nk := []byte(`"NextShardIterator":"`)
	if i := bytes.Index(b, nk); i >= 0 {
		rest := b[i+len(nk):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			next = string(rest[:j])
		}
	}
	return records, data, next, nil
}

// RunRead runs a GetRecords load. Records and DataBytes count what the
// responses held (DataBytes: decoded record data).
func RunRead(cfg ReadConfig) Result {
	if cfg.Conns < 1 || len(cfg.Shards) == 0 || cfg.MaxRequests < 1 || cfg.MaxDuration <= 0 {
		return Result{Err: errors.New("apiload: Conns, Shards, MaxRequests and MaxDuration must be set")}
	}
	var issued, records, data, retries atomic.Int64
	var stop atomic.Bool
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		stop.Store(true)
	}
	lats := make([][]time.Duration, cfg.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.MaxDuration)
	for w := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(cfg.Addr)
			defer c.Close()
			var p fastjson.Parser
			si := w % len(cfg.Shards)
			itReq := []byte(`{"StreamName":"` + cfg.Stream + `","ShardId":"` + cfg.Shards[si] + `","ShardIteratorType":"TRIM_HORIZON"}`)
			var iter string
			var pass int64 // records read since TRIM_HORIZON
			l := make([]time.Duration, 0, 256)
			for !stop.Load() {
				if iter == "" {
					b, err := doRetry(c, OpGetShardIterator, itReq, &retries)
					if err != nil {
						fail(err)
						break
					}
					v, err := p.ParseBytes(b)
					if err != nil {
						fail(fmt.Errorf("GetShardIterator response: %w", err))
						break
					}
					iter = string(v.GetStringBytes("ShardIterator"))
				}
				if issued.Add(1) > cfg.MaxRequests {
					break
				}
				body := []byte(`{"ShardIterator":"` + iter + `","Limit":` + strconv.Itoa(cfg.Limit) + `}`)
				t0 := time.Now()
				b, err := doRetry(c, OpGetRecords, body, &retries)
				if err != nil {
					fail(err)
					break
				}
				var check func(RecordID)
				if cfg.Verify {
					check = func(RecordID) {}
				}
				nrec, n, next, err := scanGetRecords(b, check)
				if err != nil {
					fail(err)
					break
				}
				t1 := time.Now()
				l = append(l, t1.Sub(t0))
				records.Add(int64(nrec))
				data.Add(n)
				iter = next
				pass += int64(nrec)
				if nrec == 0 {
					if cfg.Verify && si < len(cfg.ShardRecords) && pass != cfg.ShardRecords[si] {
						fail(fmt.Errorf("%w: a pass over shard %s from TRIM_HORIZON read %d records, it holds %d",
							ErrVerify, cfg.Shards[si], pass, cfg.ShardRecords[si]))
						break
					}
					iter, pass = "", 0 // at the end: start over
				}
				if t1.After(deadline) {
					stop.Store(true)
				}
			}
			lats[w] = l
		}()
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Err: firstErr, Records: records.Load(), DataBytes: data.Load(), Retries: retries.Load()}
	for _, l := range lats {
		res.Latencies = append(res.Latencies, l...)
	}
	res.Requests = int64(len(res.Latencies))
	return res
}
