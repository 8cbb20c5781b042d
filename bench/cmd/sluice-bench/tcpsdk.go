package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/bench/internal/apiload"
)

// sdkJSONLoad puts records through the Kinesis JSON API the way a shipper
// does: the AWS SDK for Go v2 encodes every request (JSON, base64 data,
// SigV4 signature over the body's SHA-256) and decodes every answer, in
// this process, beside the server. conns goroutines put batch records per
// PutRecords call until deadline over as many keep-alive connections. Every
// answer must report one result per record and no failed record. It
// returns the records put and the latency of every call.
func sdkJSONLoad(apiAddr, streamName string, conns, batch int, data []byte, deadline time.Time) (int64, []time.Duration, error) {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + apiAddr),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", ""),
		Retryer:      aws.NopRetryer{}, // a throttle or error fails the run
		HTTPClient:   &http.Client{Transport: tr},
	})
	var (
		mu    sync.Mutex
		total int64
		lats  []time.Duration
		first error
		wg    sync.WaitGroup
	)
	for p := range conns {
		wg.Go(func() {
			entries := make([]types.PutRecordsRequestEntry, batch)
			for i := range entries {
				entries[i] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(apiload.PartitionKey(p, i))}
			}
			in := &kinesis.PutRecordsInput{StreamName: aws.String(streamName), Records: entries}
			var n int64
			l := make([]time.Duration, 0, 1024)
			var err error
			for time.Now().Before(deadline) {
				t0 := time.Now()
				var out *kinesis.PutRecordsOutput
				out, err = client.PutRecords(context.Background(), in)
				if err != nil {
					break
				}
				if failed := aws.ToInt32(out.FailedRecordCount); failed != 0 || len(out.Records) != batch {
					err = fmt.Errorf("PutRecords: %d results for %d records, %d failed", len(out.Records), batch, failed)
					break
				}
				l = append(l, time.Since(t0))
				n += int64(batch)
			}
			mu.Lock()
			total += n
			lats = append(lats, l...)
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return total, lats, first
}
