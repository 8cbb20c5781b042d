package apiload

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// DiscardRecords is the number of records in the discard server's canned
// PutRecords and GetRecords responses, and DiscardRecordBytes the size of
// each GetRecords record.
const (
	DiscardRecords     = 500
	DiscardReadRecords = 10000
	DiscardRecordBytes = 1024
)

// DiscardHandler returns the discard server's handler: it reads the whole
// request body (fasthttp does before calling it), looks at nothing but the
// X-Amz-Target header and answers a canned response of the size a real
// server would send: PutRecords with DiscardRecords entries, GetRecords with
// DiscardReadRecords records of DiscardRecordBytes, and short answers for
// PutRecord, GetShardIterator, CreateStream, DescribeStreamSummary and
// ListShards (4 shards).
func DiscardHandler() fasthttp.RequestHandler {
	seq := "49671234567890123456789012345678901234567890123456789012"
	var pr bytes.Buffer
	pr.WriteString(`{"EncryptionType":"NONE","FailedRecordCount":0,"Records":[`)
	for i := range DiscardRecords {
		if i > 0 {
			pr.WriteByte(',')
		}
		fmt.Fprintf(&pr, `{"SequenceNumber":"%s","ShardId":"shardId-00000000000%d"}`, seq, i%4)
	}
	pr.WriteString(`]}`)
	shards := `{"Shards":[` + strings.Join([]string{
		`{"ShardId":"shardId-000000000000"}`, `{"ShardId":"shardId-000000000001"}`,
		`{"ShardId":"shardId-000000000002"}`, `{"ShardId":"shardId-000000000003"}`}, ",") + `]}`
	answers := map[string][]byte{
		"Kinesis_20131202.PutRecords":            pr.Bytes(),
		"Kinesis_20131202.PutRecord":             []byte(`{"EncryptionType":"NONE","SequenceNumber":"` + seq + `","ShardId":"shardId-000000000000"}`),
		"Kinesis_20131202.GetShardIterator":      []byte(`{"ShardIterator":"AAAAAAAAAAFdiscard"}`),
		"Kinesis_20131202.CreateStream":          []byte(`{}`),
		"Kinesis_20131202.DescribeStreamSummary": []byte(`{"StreamDescriptionSummary":{"StreamStatus":"ACTIVE"}}`),
		"Kinesis_20131202.ListShards":            []byte(shards),
	}
	// The GetRecords answer (13 MiB) is built on first use only.
	var getRecords []byte
	var getRecordsOnce sync.Once
	return func(ctx *fasthttp.RequestCtx) {
		_ = ctx.PostBody() // read and dropped
		target := ctx.Request.Header.Peek("X-Amz-Target")
		b, ok := answers[string(target)]
		if string(target) == "Kinesis_20131202.GetRecords" {
			getRecordsOnce.Do(func() { getRecords = cannedGetRecords(seq) })
			b, ok = getRecords, true
		}
		if !ok {
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
			ctx.SetBodyString(`{"__type":"UnknownOperationException"}`)
			return
		}
		ctx.SetContentType("application/x-amz-json-1.1")
		ctx.Response.SetBodyRaw(b) // no copy: the canned bytes never change
	}
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

// ServeDiscard serves DiscardHandler on ln until ln is closed.
func ServeDiscard(ln net.Listener) error {
	srv := &fasthttp.Server{Handler: DiscardHandler(), MaxRequestBodySize: 16 << 20,
		NoDefaultServerHeader: true, NoDefaultContentType: true, NoDefaultDate: true}
	return srv.Serve(ln)
}
