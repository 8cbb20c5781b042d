package apiload

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/valyala/fastjson"

	"github.com/sluicehq/sluice/wire/kinesis"
)

// Fault is a way a FakeServer breaks its promises.
type Fault int

const (
	// FaultNone: an honest in-memory server.
	FaultNone Fault = iota
	// FaultLose acknowledges every record (FailedRecordCount 0) but
	// stores only some of them.
	FaultLose
	// FaultCorrupt returns some records with data other than was written.
	FaultCorrupt
	// FaultWrongRecord returns, in place of some records, another record
	// that was written.
	FaultWrongRecord
	// FaultShortAck answers PutRecords with FailedRecordCount 0 but fewer
	// result entries than records sent (and stores only those).
	FaultShortAck
	// FaultLoseUnderLoad stores only some records of PutRecords requests
	// after the 10th, acknowledging all: the data written before the load
	// reads back intact.
	FaultLoseUnderLoad
	// FaultDuplicate returns some records twice.
	FaultDuplicate
	// FaultCBORAsJSON answers CBOR PutRecords and PutRecord requests (and
	// stores their records) with the JSON answer and Content-Type.
	FaultCBORAsJSON
	// FaultCBORFailed answers CBOR PutRecords with a CBOR answer that
	// reports one failed record (ErrorCode set, FailedRecordCount 1) and
	// does not store that record.
	FaultCBORFailed
	// FaultCBOREmpty answers CBOR PutRecords and PutRecord requests (and
	// stores their records) with 200, the CBOR Content-Type and no body.
	FaultCBOREmpty
	// FaultResetPuts aborts every PutRecords and PutRecord request after
	// the 10th: the connection is closed (HTTP/1.1) or the stream reset
	// with INTERNAL_ERROR (HTTP/2), as kinesis-mock once did under an h2c
	// load.
	FaultResetPuts
)

func (f Fault) String() string {
	return [...]string{"none", "lose", "corrupt", "wrong-record", "short-ack", "lose-under-load", "duplicate",
		"cbor-as-json", "cbor-failed", "cbor-empty", "reset-puts"}[f]
}

// FakeServer is a small in-memory Kinesis JSON server with an optional
// Fault: the test of the suites' verification (a scenario run against a
// broken server must fail). It serves CreateStream, DescribeStreamSummary,
// ListShards, PutRecords, PutRecord, GetShardIterator and GetRecords, and
// PutRecords and PutRecord in CBOR too (decoded and answered by
// wire/kinesis), over HTTP/1.1 and h2c; records go to shard md5(partition
// key) mod shards.
type FakeServer struct {
	Fault Fault

	mu      sync.Mutex
	streams map[string][][]fakeRecord
	puts    int
	resets  atomic.Int64 // put requests seen, for FaultResetPuts
}

type fakeRecord struct {
	data []byte
	pk   string
}

// ServeFake serves f on ln until ln is closed, HTTP/1.1 and h2c with prior
// knowledge.
func ServeFake(ln net.Listener, f *FakeServer) error {
	srv := &http.Server{Handler: f, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv.Serve(ln)
}

func (f *FakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	if f.Fault == FaultResetPuts && (op == OpPutRecords || op == OpPutRecord) && f.resets.Add(1) > 10 {
		panic(http.ErrAbortHandler)
	}
	if r.Header.Get("Content-Type") == CodecCBOR {
		f.serveCBOR(w, op, body)
		return
	}
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		fakeError(w, "SerializationException", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streams == nil {
		f.streams = map[string][][]fakeRecord{}
	}
	name := string(v.GetStringBytes("StreamName"))
	switch op {
	case OpCreateStream:
		f.streams[name] = make([][]fakeRecord, max(1, v.GetInt("ShardCount")))
		fmt.Fprint(w, `{}`)
	case OpDescribeSummary:
		fmt.Fprintf(w, `{"StreamDescriptionSummary":{"StreamName":%q,"StreamStatus":"ACTIVE","OpenShardCount":%d}}`, name, len(f.streams[name]))
	case OpListShards:
		var b strings.Builder
		for i := range f.streams[name] {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"ShardId":"shardId-%012d"}`, i)
		}
		fmt.Fprintf(w, `{"Shards":[%s]}`, b.String())
	case OpPutRecords, OpPutRecord:
		shards, ok := f.streams[name]
		if !ok {
			fakeError(w, "ResourceNotFoundException", "Stream "+name+" not found.")
			return
		}
		recs := v.GetArray("Records")
		if op == OpPutRecord {
			recs = []*fastjson.Value{v}
		}
		in := make([]fakeRecord, len(recs))
		for i, rv := range recs {
			data, _ := base64.StdEncoding.DecodeString(string(rv.GetStringBytes("Data")))
			in[i] = fakeRecord{data: data, pk: string(rv.GetStringBytes("PartitionKey"))}
		}
		entries := f.putLocked(shards, in, false)
		w.Write(putAnswerJSON(op, entries))
	case OpGetShardIterator:
		id := string(v.GetStringBytes("ShardId"))
		s, _ := strconv.Atoi(strings.TrimPrefix(id, "shardId-"))
		fmt.Fprintf(w, `{"ShardIterator":"%s-%d-0"}`, name, s)
	case OpGetRecords:
		it := strings.Split(string(v.GetStringBytes("ShardIterator")), "-")
		if len(it) != 3 {
			fakeError(w, "InvalidArgumentException", "bad iterator")
			return
		}
		s, _ := strconv.Atoi(it[1])
		pos, _ := strconv.Atoi(it[2])
		shard := f.streams[it[0]][s]
		end := min(len(shard), pos+max(1, v.GetInt("Limit")))
		var b bytes.Buffer
		b.WriteString(`{"MillisBehindLatest":0,"NextShardIterator":"` + fmt.Sprintf("%s-%d-%d", it[0], s, end) + `","Records":[`)
		for j := pos; j < end; j++ {
			rec := shard[j]
			if j > pos {
				b.WriteByte(',')
			}
			data := rec.data
			switch {
			case f.Fault == FaultCorrupt && j%5 == 2:
				data = bytes.Clone(data)
				data[len(data)-1] ^= 1
			case f.Fault == FaultWrongRecord && j%5 == 2 && len(shard) > 1:
				rec = shard[(j+1)%len(shard)]
				data = rec.data
			}
			one := `{"Data":"` + base64.StdEncoding.EncodeToString(data) + `","PartitionKey":"` + rec.pk + `","SequenceNumber":"` + strconv.Itoa(j) + `"}`
			b.WriteString(one)
			if f.Fault == FaultDuplicate && j%5 == 2 {
				b.WriteString("," + one)
			}
		}
		b.WriteString(`]}`)
		w.Write(b.Bytes())
	default:
		fakeError(w, "UnknownOperationException", op)
	}
}

// putLocked stores recs in shards as f's fault allows and returns the
// result entries (with FaultShortAck, one fewer). cbor: the request was
// CBOR (FaultCBORFailed fails its first record).
func (f *FakeServer) putLocked(shards [][]fakeRecord, recs []fakeRecord, cbor bool) []kinesis.PutRecordsResultEntry {
	f.puts++
	var entries []kinesis.PutRecordsResultEntry
	for i, rec := range recs {
		h := md5.Sum([]byte(rec.pk))
		s := int(binary.BigEndian.Uint64(h[:8]) % uint64(len(shards)))
		if f.Fault == FaultShortAck && i == len(recs)-1 && len(recs) > 1 {
			break
		}
		if cbor && f.Fault == FaultCBORFailed && i == 0 && len(recs) > 1 {
			entries = append(entries, kinesis.PutRecordsResultEntry{ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure."})
			continue
		}
		entries = append(entries, kinesis.PutRecordsResultEntry{SequenceNumber: strconv.Itoa(len(shards[s])), ShardID: fmt.Sprintf("shardId-%012d", s)})
		lose := (f.Fault == FaultLose && i%7 == 3) || (f.Fault == FaultLoseUnderLoad && f.puts > 10 && i%7 == 3)
		if !lose {
			shards[s] = append(shards[s], rec)
		}
	}
	return entries
}

func putAnswerJSON(op string, entries []kinesis.PutRecordsResultEntry) []byte {
	if op == OpPutRecord {
		e := entries[0]
		return kinesis.AppendPutRecordResponse(nil, &kinesis.PutRecordResponse{SequenceNumber: e.SequenceNumber, ShardID: e.ShardID})
	}
	resp := kinesis.PutRecordsResponse{Records: entries}
	for _, e := range entries {
		if e.ErrorCode != "" {
			resp.FailedRecordCount++
		}
	}
	return kinesis.AppendPutRecordsResponse(nil, &resp)
}

// serveCBOR serves the CBOR PutRecords and PutRecord requests.
func (f *FakeServer) serveCBOR(w http.ResponseWriter, op string, body []byte) {
	var recs []fakeRecord
	var name string
	switch op {
	case OpPutRecords:
		var req kinesis.PutRecordsRequest
		if err := kinesis.DecodePutRecordsCBOR(body, &req); err != nil {
			fakeError(w, "SerializationException", err.Error())
			return
		}
		name = req.StreamName
		for _, e := range req.Records {
			recs = append(recs, fakeRecord{data: bytes.Clone(e.Data), pk: e.PartitionKey})
		}
	case OpPutRecord:
		var req kinesis.PutRecordRequest
		if err := kinesis.DecodePutRecordCBOR(body, &req); err != nil {
			fakeError(w, "SerializationException", err.Error())
			return
		}
		name = req.StreamName
		recs = []fakeRecord{{data: bytes.Clone(req.Data), pk: req.PartitionKey}}
	default:
		fakeError(w, "UnknownOperationException", "CBOR "+op)
		return
	}
	f.mu.Lock()
	shards, ok := f.streams[name]
	var entries []kinesis.PutRecordsResultEntry
	if ok {
		entries = f.putLocked(shards, recs, true)
	}
	f.mu.Unlock()
	if !ok {
		fakeError(w, "ResourceNotFoundException", "Stream "+name+" not found.")
		return
	}
	switch f.Fault {
	case FaultCBORAsJSON:
		w.Header().Set("Content-Type", CodecJSON)
		w.Write(putAnswerJSON(op, entries))
		return
	case FaultCBOREmpty:
		w.Header().Set("Content-Type", CodecCBOR)
		return
	}
	w.Header().Set("Content-Type", CodecCBOR)
	if op == OpPutRecord {
		e := entries[0]
		w.Write(kinesis.AppendPutRecordResponseCBOR(nil, &kinesis.PutRecordResponse{SequenceNumber: e.SequenceNumber, ShardID: e.ShardID}))
		return
	}
	resp := kinesis.PutRecordsResponse{Records: entries}
	for _, e := range entries {
		if e.ErrorCode != "" {
			resp.FailedRecordCount++
		}
	}
	w.Write(kinesis.AppendPutRecordsResponseCBOR(nil, &resp))
}

func fakeError(w http.ResponseWriter, typ, msg string) {
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}
