package apiload

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"

	"github.com/sluicehq/sluice/wire/kinesis"
)

// DiscardReadRecords is the number of records in the discard server's
// canned GetRecords response, and DiscardRecordBytes the size of each.
const (
	DiscardReadRecords = 10000
	DiscardRecordBytes = 1024
)

// DiscardHandler returns the discard server's handler: it reads the whole
// request body (fasthttp does before calling it), looks at nothing but the
// X-Amz-Target and Content-Type headers (and, for PutRecords, counts the
// body's PartitionKey members) and answers a canned response of the size a
// real server would send: PutRecords with one entry per record sent,
// GetRecords with DiscardReadRecords records of DiscardRecordBytes, and
// short answers for PutRecord, GetShardIterator, CreateStream,
// DescribeStreamSummary and ListShards (4 shards). CBOR requests
// (CodecCBOR) get CBOR answers for PutRecords and PutRecord, encoded by
// wire/kinesis as sluice encodes them; other CBOR operations get 400.
func DiscardHandler() fasthttp.RequestHandler { return newDiscard().handleFast }

func (d *discard) handleFast(ctx *fasthttp.RequestCtx) {
	status, ct, b := d.answer(string(ctx.Request.Header.Peek("X-Amz-Target")), string(ctx.Request.Header.ContentType()), ctx.PostBody())
	ctx.SetStatusCode(status)
	ctx.SetContentType(ct)
	ctx.Response.SetBodyRaw(b) // no copy: the canned bytes never change
}

// discard holds the canned answers.
type discard struct {
	answers, cbor map[string][]byte
	putRecords    sync.Map // putRecordsKey -> []byte
	// The GetRecords answer (13 MiB) is built on first use only.
	getRecords     []byte
	getRecordsOnce sync.Once
}

const discardSeq = "49671234567890123456789012345678901234567890123456789012"

func newDiscard() *discard {
	seq := discardSeq
	shards := `{"Shards":[` + strings.Join([]string{
		`{"ShardId":"shardId-000000000000"}`, `{"ShardId":"shardId-000000000001"}`,
		`{"ShardId":"shardId-000000000002"}`, `{"ShardId":"shardId-000000000003"}`}, ",") + `]}`
	answers := map[string][]byte{
		"Kinesis_20131202.PutRecord":             []byte(`{"EncryptionType":"NONE","SequenceNumber":"` + seq + `","ShardId":"shardId-000000000000"}`),
		"Kinesis_20131202.GetShardIterator":      []byte(`{"ShardIterator":"AAAAAAAAAAFdiscard"}`),
		"Kinesis_20131202.CreateStream":          []byte(`{}`),
		"Kinesis_20131202.DescribeStreamSummary": []byte(`{"StreamDescriptionSummary":{"StreamStatus":"ACTIVE"}}`),
		"Kinesis_20131202.ListShards":            []byte(shards),
	}
	cbor := map[string][]byte{
		"Kinesis_20131202.PutRecord": kinesis.AppendPutRecordResponseCBOR(nil,
			&kinesis.PutRecordResponse{EncryptionType: "NONE", SequenceNumber: seq, ShardID: "shardId-000000000000"}),
	}
	return &discard{answers: answers, cbor: cbor}
}

// putRecordsKey is how many records a PutRecords answer has, and in which
// codec.
type putRecordsKey struct {
	cbor bool
	n    int
}

// putRecordsAnswer returns the PutRecords answer of n entries, built on
// first use (wire/kinesis's encoders, as sluice answers).
func (d *discard) putRecordsAnswer(cbor bool, n int) []byte {
	key := putRecordsKey{cbor, n}
	if b, ok := d.putRecords.Load(key); ok {
		return b.([]byte)
	}
	resp := kinesis.PutRecordsResponse{EncryptionType: "NONE", Records: make([]kinesis.PutRecordsResultEntry, n)}
	for i := range resp.Records {
		resp.Records[i] = kinesis.PutRecordsResultEntry{SequenceNumber: discardSeq, ShardID: fmt.Sprintf("shardId-00000000000%d", i%4)}
	}
	var b []byte
	if cbor {
		b = kinesis.AppendPutRecordsResponseCBOR(nil, &resp)
	} else {
		b = kinesis.AppendPutRecordsResponse(nil, &resp)
	}
	v, _ := d.putRecords.LoadOrStore(key, b)
	return v.([]byte)
}

// Member names as they appear once per PutRecords entry.
var (
	pkJSON = []byte(`"PartitionKey"`)
	pkCBOR = append([]byte{0x60 | byte(len("PartitionKey"))}, "PartitionKey"...)
)

// answer returns the canned answer to operation target (X-Amz-Target) of
// Content-Type ct. A PutRecords answer has one entry per record of body
// (its PartitionKey members counted, not parsed).
func (d *discard) answer(target, ct string, body []byte) (status int, contentType string, b []byte) {
	cbor := ct == CodecCBOR
	if target == "Kinesis_20131202.PutRecords" {
		pk, ct := pkJSON, CodecJSON
		if cbor {
			pk, ct = pkCBOR, CodecCBOR
		}
		return 200, ct, d.putRecordsAnswer(cbor, bytes.Count(body, pk))
	}
	if cbor {
		if b, ok := d.cbor[target]; ok {
			return 200, CodecCBOR, b
		}
		return 400, CodecJSON, []byte(`{"__type":"UnknownOperationException","message":"the discard server answers CBOR PutRecords and PutRecord only"}`)
	}
	if target == "Kinesis_20131202.GetRecords" {
		d.getRecordsOnce.Do(func() { d.getRecords = cannedGetRecords(discardSeq) })
		return 200, CodecJSON, d.getRecords
	}
	if b, ok := d.answers[target]; ok {
		return 200, CodecJSON, b
	}
	return 400, CodecJSON, []byte(`{"__type":"UnknownOperationException"}`)
}

// cannedGetRecords is the discard server's GetRecords answer.
func cannedGetRecords(seq string) []byte {
	var gr bytes.Buffer
	data := base64.StdEncoding.EncodeToString(RandomData(DiscardRecordBytes))
	gr.WriteString(`{"MillisBehindLatest":0,"NextShardIterator":"AAAAAAAAAAFdiscard","Records":[`)
	for i := range DiscardReadRecords {
		if i > 0 {
			gr.WriteByte(',')
		}
		fmt.Fprintf(&gr, `{"ApproximateArrivalTimestamp":1.795e9,"Data":"%s","EncryptionType":"NONE","PartitionKey":"%s","SequenceNumber":"%s"}`,
			data, PartitionKey(0, i), seq)
	}
	gr.WriteString(`]}`)
	return gr.Bytes()
}

// ServeDiscard serves the discard answers on ln until ln is closed: over
// HTTP/1.1 with fasthttp (DiscardHandler) and, on connections that start
// with the HTTP/2 preface (h2c with prior knowledge), with
// golang.org/x/net/http2's server, as sluice tells them apart on one port.
func ServeDiscard(ln net.Listener) error {
	d := newDiscard()
	h1 := &chanListener{Listener: ln, ch: make(chan net.Conn), done: make(chan struct{})}
	h2 := &http2.Server{}
	h2opts := &http2.ServeConnOpts{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := bufPool.Get().(*bytes.Buffer)
		defer bufPool.Put(buf)
		buf.Reset()
		_, _ = buf.ReadFrom(io.LimitReader(r.Body, 16<<20))
		status, ct, b := d.answer(r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), buf.Bytes())
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(b)
	})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				h1.err = err
				close(h1.done)
				return
			}
			go func() {
				pc, isH2 := sniffH2(c)
				if isH2 {
					h2.ServeConn(pc, h2opts)
					_ = pc.Close()
					return
				}
				select {
				case h1.ch <- pc:
				case <-h1.done:
					_ = pc.Close()
				}
			}()
		}
	}()
	srv := &fasthttp.Server{Handler: d.handleFast, MaxRequestBodySize: 16 << 20,
		NoDefaultServerHeader: true, NoDefaultContentType: true, NoDefaultDate: true}
	return srv.Serve(h1)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// chanListener hands fasthttp the connections that are not HTTP/2.
type chanListener struct {
	net.Listener
	ch   chan net.Conn
	done chan struct{} // closed when the real listener fails
	err  error         // its error, set before done is closed
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

// sniffH2 reads up to the length of the HTTP/2 preface (stopping at the
// first byte that differs, with a 10 s deadline) and returns c with those
// bytes put back in front, and whether they were the preface.
func sniffH2(c net.Conn) (net.Conn, bool) {
	const preface = http2.ClientPreface
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 0, len(preface))
	for len(buf) < len(preface) && string(buf) == preface[:len(buf)] {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	return &replayConn{Conn: c, head: buf}, string(buf) == preface
}

// replayConn reads head before the rest of Conn.
type replayConn struct {
	net.Conn
	head []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
