package apiload

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/ingress/httpapi"
	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
)

// processCPU is the user+system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// TestBenchAPILoadDiscard drives the discard server for a moment and checks
// that records, data and latencies were counted and responses checked.
func TestBenchAPILoadDiscard(t *testing.T) {
	ln := listen(t)
	go func() { _ = ServeDiscard(ln) }()
	addr := ln.Addr().String()
	if err := CreateStream(addr, "s", 4, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{PutRecordsBody("s", 0, 500, 100), PutRecordsBody("s", 1, 500, 100)}
	res := Run(Config{Addr: addr, Op: OpPutRecords, Conns: 2, Body: bodies, RecordsPerRequest: 500,
		DataBytesPerRequest: 500 * 100, Check: PutFailedZero, MaxRequests: 50, MaxDuration: 2 * time.Second})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Requests != 50 || res.Records != 50*500 || res.DataBytes != 50*500*100 || len(res.Latencies) != 50 {
		t.Fatalf("count bound of 50 requests: got %+v", res)
	}
	// Round robin: 2 connections over 3 bodies, 30 requests (2 warm-up +
	// 28): every body sent, the per-body counts add up to the requests.
	three := [][]byte{bodies[0], bodies[1], PutRecordsBody("s", 2, 500, 100)}
	res = Run(Config{Addr: addr, Op: OpPutRecords, Conns: 2, Body: three, RoundRobin: true, RecordsPerRequest: 500,
		Check: PutFailedZero, MaxRequests: 28, MaxDuration: 2 * time.Second})
	if res.Err != nil || len(res.BodyAcked) != 3 || res.BodyAcked[0]+res.BodyAcked[1]+res.BodyAcked[2] != 30 ||
		res.BodyAcked[0] == 0 || res.BodyAcked[1] == 0 || res.BodyAcked[2] == 0 {
		t.Fatalf("round robin over 3 bodies: %v, %v", res.BodyAcked, res.Err)
	}
	// The time bound ends a load with a high request bound.
	res = Run(Config{Addr: addr, Op: OpPutRecord, Conns: 2, Body: [][]byte{PutRecordBody("s", 0, 100)},
		RecordsPerRequest: 1, MaxRequests: 1 << 40, MaxDuration: 200 * time.Millisecond})
	if res.Err != nil || res.Requests == 0 || res.Elapsed > 5*time.Second {
		t.Fatalf("time-bound load: %d requests in %v, err %v", res.Requests, res.Elapsed, res.Err)
	}
	ids, err := ShardIDs(addr, "s")
	if err != nil || len(ids) != 4 {
		t.Fatalf("ShardIDs: %v, %v", ids, err)
	}
	rr := RunRead(ReadConfig{Addr: addr, Stream: "s", Shards: ids, Conns: 2, Limit: 10000, MaxRequests: 4, MaxDuration: 5 * time.Second})
	if rr.Err != nil || rr.Requests != 4 || rr.Records != 4*DiscardReadRecords || rr.DataBytes != 4*DiscardReadRecords*DiscardRecordBytes {
		t.Fatalf("read load: %+v", rr)
	}
	// A failed check stops the load with an error.
	res = Run(Config{Addr: addr, Op: OpPutRecord, Conns: 1, Body: [][]byte{PutRecordBody("s", 0, 100)},
		RecordsPerRequest: 1, Check: PutFailedZero, MaxRequests: 10, MaxDuration: time.Second})
	if res.Err == nil {
		t.Fatal("a PutRecord answer passed the PutRecords check")
	}
}

func TestBenchAPIPartitionKeysDistinct(t *testing.T) {
	seen := map[string]bool{}
	for k := range 8 {
		for i := range 500 {
			pk := PartitionKey(k, i)
			if len(pk) != 16 || seen[pk] {
				t.Fatalf("key %d/%d: %q (seen before: %v)", k, i, pk, seen[pk])
			}
			seen[pk] = true
		}
	}
}

// startInProcess serves a fresh stream.Manager through httpapi on
// loopback, with a stream "bench" of shards shards.
func startInProcess(b testing.TB, durability segment.Durability, shards int) string {
	b.Helper()
	dir := b.TempDir()
	if d := os.Getenv("SLUICE_BENCH_DIR"); d != "" {
		// E.g. /dev/shm, to tell the disk's share from the code's.
		var err error
		if dir, err = os.MkdirTemp(d, "apiload-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	m, err := stream.Open(stream.Config{DataDir: dir, Durability: durability,
		Segment: segment.Config{FragmentBytes: 64 << 20, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Config{Manager: m, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln := listen(b)
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() {
		_ = srv.Shutdown()
		_ = m.Close()
	})
	addr := ln.Addr().String()
	if err := CreateStream(addr, "bench", shards, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	return addr
}

// BenchmarkAPIInProcess runs the api suite's loads against sluice (stream
// Manager + httpapi Server) in this process, client included, for CPU
// profiles:
//
//	go test ./bench/internal/apiload -run '^$' -bench 'APIInProcess/PutRecords100B' -benchtime 5s -cpuprofile /tmp/api.prof
//
// One op is one request; records/s is reported. SLUICE_BENCH_DIR puts the
// data directory elsewhere than $TMPDIR (e.g. /dev/shm).
func BenchmarkAPIInProcess(b *testing.B) {
	cases := []struct {
		name       string
		op         string
		records    int
		size       int
		durability segment.Durability
		discard    bool
	}{
		{"PutRecords100B", OpPutRecords, 500, 100, segment.Async, false},
		{"PutRecords1KiB", OpPutRecords, 500, 1024, segment.Async, false},
		{"PutRecord100B", OpPutRecord, 1, 100, segment.Async, false},
		{"PutRecords100B/discard", OpPutRecords, 500, 100, segment.Async, true},
		{"PutRecord100B/discard", OpPutRecord, 1, 100, segment.Async, true},
	}
	for _, c := range cases {
		// Built once, outside the profiled runs.
		bodies := make([][]byte, 8)
		for k := range bodies {
			if c.op == OpPutRecords {
				bodies[k] = PutRecordsBody("bench", k, c.records, c.size)
			} else {
				bodies[k] = PutRecordBody("bench", k, c.size)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			var addr string
			if c.discard {
				ln := listen(b)
				go func() { _ = ServeDiscard(ln) }()
				addr = ln.Addr().String()
			} else {
				addr = startInProcess(b, c.durability, 4)
			}
			cfg := Config{Addr: addr, Op: c.op, Conns: 8, Body: bodies, RecordsPerRequest: c.records,
				DataBytesPerRequest: c.records * c.size, MaxRequests: int64(b.N), MaxDuration: time.Hour}
			if c.op == OpPutRecords {
				cfg.Check = PutFailedZero
			}
			b.ResetTimer()
			cpu0 := processCPU()
			res := Run(cfg)
			cpu := processCPU() - cpu0
			b.StopTimer()
			if res.Err != nil {
				b.Fatal(res.Err)
			}
			b.ReportMetric(float64(res.Records)/res.Elapsed.Seconds(), "records/s")
			// CPU per record (server and client together) varies less than
			// the rate on a machine shared with other work.
			b.ReportMetric(cpu.Seconds()*1e9/float64(res.Records), "cpu-ns/record")
		})
	}
}

// BenchmarkAPIInProcessGetRecords reads a stream of 4 shards filled with
// 20000 records of 1 KiB (sluice in this process, or the discard server),
// 8 connections, Limit 10000. One op is one GetRecords call.
func BenchmarkAPIInProcessGetRecords(b *testing.B) {
	for _, discard := range []bool{false, true} {
		name := "sluice"
		if discard {
			name = "discard"
		}
		b.Run(name, func(b *testing.B) {
			var addr string
			if discard {
				ln := listen(b)
				go func() { _ = ServeDiscard(ln) }()
				addr = ln.Addr().String()
			} else {
				addr = startInProcess(b, segment.Async, 4)
				bodies := [][]byte{PutRecordsBody("bench", 0, 500, 1024), PutRecordsBody("bench", 1, 500, 1024)}
				if res := Run(Config{Addr: addr, Op: OpPutRecords, Conns: 2, Body: bodies, RecordsPerRequest: 500,
					Check: PutFailedZero, MaxRequests: 38, MaxDuration: time.Minute}); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
			ids, err := ShardIDs(addr, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := processCPU()
			res := RunRead(ReadConfig{Addr: addr, Stream: "bench", Shards: ids, Conns: 8, Limit: 10000,
				MaxRequests: int64(b.N), MaxDuration: time.Hour})
			cpu := processCPU() - cpu0
			b.StopTimer()
			if res.Err != nil {
				b.Fatal(res.Err)
			}
			b.ReportMetric(float64(res.Records)/res.Elapsed.Seconds(), "records/s")
			b.ReportMetric(cpu.Seconds()*1e9/float64(res.Records), "cpu-ns/record")
		})
	}
}

func TestBenchAPIScanGetRecords(t *testing.T) {
	b := []byte(`{"MillisBehindLatest":0,"NextShardIterator":"AAAA/x+1=","Records":[` +
		`{"ApproximateArrivalTimestamp":1.7e9,"Data":"YQ==","PartitionKey":"a","SequenceNumber":"1"},` +
		`{"Data":"YWI=","PartitionKey":"b"},{"Data":"YWJj","PartitionKey":"c"},{"Data":"","PartitionKey":"d"}]}`)
	n, data, next, err := scanGetRecords(b, nil)
	if err != nil || n != 4 || data != 1+2+3 || next != "AAAA/x+1=" {
		t.Fatalf("scanGetRecords = %d records, %d bytes, next %q, %v", n, data, next, err)
	}
	if n, _, next, err := scanGetRecords([]byte(`{"Records":[]}`), nil); err != nil || n != 0 || next != "" {
		t.Fatalf("shard end: %d, %q, %v", n, next, err)
	}
	if _, _, _, err := scanGetRecords([]byte(`{"__type":"ExpiredIteratorException"}`), nil); err == nil {
		t.Fatal("an answer without Records passed")
	}
	canned := cannedGetRecords("1")
	if n, data, _, err := scanGetRecords(canned, nil); err != nil || n != DiscardReadRecords || data != DiscardReadRecords*DiscardRecordBytes {
		t.Fatalf("canned answer: %d records, %d bytes, %v", n, data, err)
	}
}

func TestBenchStampedRecords(t *testing.T) {
	for _, size := range []int{StampLen, 100, 1024} {
		d := RecordData(7, 42, size)
		if len(d) != size {
			t.Fatalf("RecordData size %d: %d bytes", size, len(d))
		}
		b64 := []byte(base64.StdEncoding.EncodeToString(d))
		id, err := CheckData(b64)
		if err != nil || id != (RecordID{K: 7, I: 42}) {
			t.Fatalf("size %d: CheckData = %v, %v", size, id, err)
		}
		if size == StampLen {
			continue
		}
		bad := bytes.Clone(d)
		bad[len(bad)-1] ^= 1
		if _, err := CheckData([]byte(base64.StdEncoding.EncodeToString(bad))); err == nil {
			t.Fatalf("size %d: a flipped bit in the tail passed", size)
		}
		if _, err := CheckData(b64[:len(b64)-4]); err == nil {
			t.Fatalf("size %d: truncated data passed", size)
		}
	}
	if _, err := CheckData([]byte(base64.StdEncoding.EncodeToString(RandomData(100)))); err == nil {
		t.Fatal("random data passed")
	}
	want := map[RecordID]int{{1, 1}: 2, {1, 2}: 1}
	if err := Compare(want, map[RecordID]int{{1, 1}: 2, {1, 2}: 1}); err != nil {
		t.Fatal(err)
	}
	for _, got := range []map[RecordID]int{{{1, 1}: 1, {1, 2}: 1}, {{1, 1}: 2, {1, 2}: 1, {9, 9}: 1}, {{1, 1}: 2, {1, 2}: 2}} {
		if err := Compare(want, got); err == nil {
			t.Fatalf("Compare(%v, %v) passed", want, got)
		}
	}
	resent := map[RecordID]int{{1, 1}: 1}
	if err := CompareResent(want, resent, map[RecordID]int{{1, 1}: 3, {1, 2}: 1}); err != nil {
		t.Fatalf("a resent record read once more: %v", err)
	}
	if err := CompareResent(want, resent, map[RecordID]int{{1, 1}: 4, {1, 2}: 1}); err == nil {
		t.Fatal("a resent record read twice more passed")
	}
	if err := CompareResent(want, resent, map[RecordID]int{{1, 1}: 1, {1, 2}: 1}); err == nil {
		t.Fatal("a resent record read too few times passed")
	}
	if err := PutAcked(2)([]byte(`{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1"}]}`)); !errors.Is(err, ErrVerify) {
		t.Fatalf("a short acknowledgement: %v", err)
	}
}
