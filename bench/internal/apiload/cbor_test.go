package apiload

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluicehq/sluice/internal/cborclient"
	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// TestBenchCBORBodies checks that the CBOR bodies decode, with sluice's
// decoder, to the records the JSON bodies carry.
func TestBenchCBORBodies(t *testing.T) {
	var req kinesis.PutRecordsRequest
	if err := kinesis.DecodePutRecordsCBOR(PutRecordsBodyCBOR("s", 3, 5, 100), &req); err != nil {
		t.Fatal(err)
	}
	if req.StreamName != "s" || len(req.Records) != 5 {
		t.Fatalf("decoded %q with %d records", req.StreamName, len(req.Records))
	}
	for i, r := range req.Records {
		if !bytes.Equal(r.Data, RecordData(3, i, 100)) || r.PartitionKey != PartitionKey(3, i) {
			t.Fatalf("record %d: %x %q", i, r.Data[:StampLen], r.PartitionKey)
		}
	}
	// As the Java SDK writes it: an indefinite map, Records first.
	if b := PutRecordsBodyCBOR("s", 0, 1, 100); b[0] != 0xbf || !bytes.HasPrefix(b[1:], []byte("\x67Records\x9f\xbf\x64Data\x58\x64SLB1")) {
		t.Fatalf("PutRecords body starts % x", b[:24])
	}
	var one kinesis.PutRecordRequest
	if err := kinesis.DecodePutRecordCBOR(PutRecordBodyCBOR("s", 4, 100), &one); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Data, RecordData(4, 0, 100)) || one.PartitionKey != PartitionKey(4, 0) {
		t.Fatalf("PutRecord decoded to %q", one.PartitionKey)
	}
}

// TestBenchCBORPutAcked checks the CBOR response checks against sluice's
// encoder, the Java-style encoder with kinesis-mock's null members, and
// broken answers.
func TestBenchCBORPutAcked(t *testing.T) {
	entries := func(n int) []kinesis.PutRecordsResultEntry {
		e := make([]kinesis.PutRecordsResultEntry, n)
		for i := range e {
			e[i] = kinesis.PutRecordsResultEntry{SequenceNumber: fmt.Sprint(i + 1), ShardID: "shardId-000000000000"}
		}
		return e
	}
	sluice := kinesis.AppendPutRecordsResponseCBOR(nil, &kinesis.PutRecordsResponse{Records: entries(3), EncryptionType: "NONE"})
	if err := PutAckedCBOR(3)(sluice); err != nil {
		t.Fatalf("sluice's answer: %v", err)
	}
	// kinesis-mock: EncryptionType first, null ErrorCode and ErrorMessage.
	mockEntry := cborclient.Map(cborclient.KV("ErrorCode", nil), cborclient.KV("ErrorMessage", nil),
		cborclient.KV("SequenceNumber", "4968"), cborclient.KV("ShardId", "shardId-000000000001"))
	mock, err := cborclient.Encode(cborclient.Map(cborclient.KV("EncryptionType", "NONE"), cborclient.KV("FailedRecordCount", 0),
		cborclient.KV("Records", cborclient.List(mockEntry, mockEntry)), cborclient.KV("Extra", cborclient.List(1.5, []byte{1}, true))))
	if err != nil {
		t.Fatal(err)
	}
	if err := PutAckedCBOR(2)(mock); err != nil {
		t.Fatalf("kinesis-mock's answer: %v", err)
	}
	failed := entries(3)
	failed[1] = kinesis.PutRecordsResultEntry{ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure."}
	bad := map[string][]byte{
		"empty":            nil,
		"JSON":             kinesis.AppendPutRecordsResponse(nil, &kinesis.PutRecordsResponse{Records: entries(3)}),
		"short":            kinesis.AppendPutRecordsResponseCBOR(nil, &kinesis.PutRecordsResponse{Records: entries(2)}),
		"failed record":    kinesis.AppendPutRecordsResponseCBOR(nil, &kinesis.PutRecordsResponse{FailedRecordCount: 1, Records: failed}),
		"failed count":     kinesis.AppendPutRecordsResponseCBOR(nil, &kinesis.PutRecordsResponse{FailedRecordCount: 1, Records: entries(3)}),
		"truncated":        sluice[:len(sluice)-10],
		"trailing bytes":   append(bytes.Clone(sluice), 0x00),
		"no Records":       mustEncode(t, cborclient.Map(cborclient.KV("FailedRecordCount", 0))),
		"no failed count":  mustEncode(t, cborclient.Map(cborclient.KV("Records", cborclient.List(mockEntry, mockEntry, mockEntry)))),
		"negative count":   mustEncode(t, cborclient.Map(cborclient.KV("FailedRecordCount", -1), cborclient.KV("Records", cborclient.List(mockEntry, mockEntry, mockEntry)))),
		"empty seq number": mustEncode(t, cborclient.Map(cborclient.KV("FailedRecordCount", 0), cborclient.KV("Records", cborclient.List(mockEntry, mockEntry, cborclient.Map(cborclient.KV("SequenceNumber", ""), cborclient.KV("ShardId", "s")))))),
		"not a map":        mustEncode(t, cborclient.List(mockEntry)),
	}
	for name, b := range bad {
		err := PutAckedCBOR(3)(b)
		if !errors.Is(err, ErrVerify) {
			t.Errorf("%s: %v, want a verification error", name, err)
		}
	}
	// PutRecord.
	if err := PutRecordAckedCBOR(kinesis.AppendPutRecordResponseCBOR(nil, &kinesis.PutRecordResponse{SequenceNumber: "1", ShardID: "shardId-000000000000"})); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":              nil,
		"JSON":               kinesis.AppendPutRecordResponse(nil, &kinesis.PutRecordResponse{SequenceNumber: "1", ShardID: "shardId-000000000000"}),
		"no sequence number": kinesis.AppendPutRecordResponseCBOR(nil, &kinesis.PutRecordResponse{ShardID: "shardId-000000000000"}),
	} {
		if err := PutRecordAckedCBOR(b); !errors.Is(err, ErrVerify) {
			t.Errorf("PutRecord %s: %v, want a verification error", name, err)
		}
	}
}

func mustEncode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := cborclient.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBenchCBORAndH2CSluice drives sluice (httpapi in this process) with
// CBOR PutRecords over HTTP/1.1 and JSON PutRecords over h2c, and reads
// the stream back: every acknowledged record must be there once.
func TestBenchCBORAndH2CSluice(t *testing.T) {
	addr := startInProcess(t, segment.Async, 4)
	want := map[RecordID]int{}
	add := func(res Result, n int) {
		t.Helper()
		for w, a := range res.Acked {
			for i := range n {
				want[RecordID{K: w, I: i}] += int(a)
			}
		}
	}
	const n = 50
	cb := make([][]byte, 2)
	for k := range cb {
		cb[k] = PutRecordsBodyCBOR("bench", k, n, 100)
	}
	res := Run(Config{Addr: addr, Op: OpPutRecords, Codec: CodecCBOR, Conns: 2, Body: cb, RecordsPerRequest: n,
		Check: PutAckedCBOR(n), MaxRequests: 20, MaxDuration: 5 * time.Second})
	if res.Err != nil || res.Requests != 20 {
		t.Fatalf("CBOR load: %d requests, %v", res.Requests, res.Err)
	}
	add(res, n)
	// h2c: 2 connections x 3 streams, bodies 10..15 (worker w sends body w).
	hb := make([][]byte, 6)
	for w := range hb {
		hb[w] = PutRecordsBody("bench", 10+w, n, 100)
	}
	res = Run(Config{Addr: addr, Op: OpPutRecords, H2C: true, Conns: 2, Streams: 3, Body: hb, RecordsPerRequest: n,
		Check: PutAcked(n), MaxRequests: 30, MaxDuration: 5 * time.Second})
	if res.Err != nil || res.Requests != 30 || len(res.Acked) != 6 {
		t.Fatalf("h2c load: %d requests, %d workers, %v", res.Requests, len(res.Acked), res.Err)
	}
	for w, a := range res.Acked {
		for i := range n {
			want[RecordID{K: 10 + w, I: i}] += int(a)
		}
	}
	got, err := CountStream(addr, "bench", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(want, got); err != nil {
		t.Fatal(err)
	}
	// A single CBOR PutRecord over h2c (NewConn).
	c := NewConn(addr, CodecCBOR, true)
	defer c.Close()
	b, err := c.Do(OpPutRecord, PutRecordBodyCBOR("bench", 99, 100))
	if err == nil {
		err = PutRecordAckedCBOR(b)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestBenchH2CBounded checks that an h2c load opens one connection per
// H2CConn however many streams it runs, and that an answer over HTTP/1.1
// or a server that does not speak h2c fails.
func TestBenchH2CBounded(t *testing.T) {
	ln := listen(t)
	go func() { _ = ServeDiscard(ln) }()
	addr := ln.Addr().String()
	h := NewH2CConn(addr)
	defer h.Close()
	body := PutRecordsBody("s", 0, 500, 100)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			s := h.NewStream(CodecJSON)
			var err error
			for range 20 {
				var b []byte
				if b, err = s.Do(OpPutRecords, body); err == nil {
					err = PutAcked(500)(b)
				}
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if d := h.Dials.Load(); d != 1 {
		t.Fatalf("8 streams dialled %d connections, want 1", d)
	}
	// A server without h2c (fasthttp alone) fails the request.
	ln2 := listen(t)
	go func() { _ = fasthttpServe(ln2) }()
	s := NewConn(ln2.Addr().String(), CodecJSON, true)
	defer s.Close()
	if _, err := s.Do(OpPutRecords, body); err == nil {
		t.Fatal("an HTTP/1.1-only server answered h2c")
	}
}

func fasthttpServe(ln net.Listener) error {
	return (&fasthttp.Server{Handler: DiscardHandler()}).Serve(ln)
}

// TestBenchDiscardCodecs checks the discard server's answers: one entry per
// record sent, JSON or CBOR as asked, over HTTP/1.1 and h2c.
func TestBenchDiscardCodecs(t *testing.T) {
	ln := listen(t)
	go func() { _ = ServeDiscard(ln) }()
	addr := ln.Addr().String()
	for _, h2c := range []bool{false, true} {
		for _, n := range []int{1, 64, 500} {
			c := NewConn(addr, CodecCBOR, h2c)
			b, err := c.Do(OpPutRecords, PutRecordsBodyCBOR("s", 0, n, 100))
			if err == nil {
				err = PutAckedCBOR(n)(b)
			}
			if err != nil {
				t.Fatalf("h2c %v, CBOR, %d records: %v", h2c, n, err)
			}
			if b, err = c.Do(OpPutRecord, PutRecordBodyCBOR("s", 0, 100)); err == nil {
				err = PutRecordAckedCBOR(b)
			}
			if err != nil {
				t.Fatalf("h2c %v, CBOR PutRecord: %v", h2c, err)
			}
			c.Close()
			c = NewConn(addr, CodecJSON, h2c)
			if b, err = c.Do(OpPutRecords, PutRecordsBody("s", 0, n, 100)); err == nil {
				err = PutAcked(n)(b)
			}
			if err != nil {
				t.Fatalf("h2c %v, JSON, %d records: %v", h2c, n, err)
			}
			c.Close()
		}
	}
	res := Run(Config{Addr: addr, Op: OpPutRecords, H2C: true, Conns: 2, Streams: 4, Body: [][]byte{PutRecordsBody("s", 0, 500, 100)},
		RecordsPerRequest: 500, Check: PutAcked(500), MaxRequests: 40, MaxDuration: 5 * time.Second})
	if res.Err != nil || res.Requests != 40 || len(res.Latencies) != 40 || len(res.Acked) != 8 {
		t.Fatalf("h2c load: %+v", res)
	}
}

// BenchmarkPutAckedCBOR is the client's cost of checking one CBOR
// PutRecords answer of 500 entries (compare BenchmarkPutAckedJSON).
func BenchmarkPutAckedCBOR(b *testing.B) {
	d := newDiscard()
	answer := d.putRecordsAnswer(true, 500)
	check := PutAckedCBOR(500)
	b.ReportAllocs()
	for b.Loop() {
		if err := check(answer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutAckedJSON(b *testing.B) {
	d := newDiscard()
	answer := d.putRecordsAnswer(false, 500)
	check := PutAcked(500)
	b.ReportAllocs()
	for b.Loop() {
		if err := check(answer); err != nil {
			b.Fatal(err)
		}
	}
}
