package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/client/sluicetcp"
)

// TestCmdTCPIngest serves with --auth, puts records over the binary
// protocol on --tcp-addr with the key of --auth, and reads them back with
// the AWS SDK's GetRecords; a wrong secret is refused; shutdown is clean.
func TestCmdTCPIngest(t *testing.T) {
	cfg, err := loadConfig([]string{
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--api-addr", freeAddr(t), "--tcp-addr", freeAddr(t),
		"--durability", "async", "--auth",
	}, envMap(map[string]string{"SLUICE_AUTH_KEYS": "AKIDTCP:tcpsecret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := startInProcess(t, cfg)
	logs, endpoint := srv.logs, srv.endpoint
	if !strings.Contains(logs.String(), "msg=listening tcp="+cfg.TCPAddr) {
		t.Fatalf("log lacks the tcp listening line:\n%s", logs)
	}
	kc := kinesis.New(kinesis.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTCP", "tcpsecret", ""),
	})
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("tcp"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}

	bad, _ := sluicetcp.New(sluicetcp.Config{Addr: cfg.TCPAddr, AccessKeyID: "AKIDTCP", SecretKey: "nope"})
	if _, err := bad.PutRecords(context.Background(), "tcp", []sluicetcp.Record{{PartitionKey: "k", Data: []byte("x")}}); err == nil || !strings.Contains(err.Error(), "AUTH_FAILED") {
		t.Fatalf("wrong secret: %v", err)
	}
	_ = bad.Close()

	c, err := sluicetcp.New(sluicetcp.Config{Addr: cfg.TCPAddr, AccessKeyID: "AKIDTCP", SecretKey: "tcpsecret"})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]sluicetcp.Record, 300)
	for i := range recs {
		recs[i] = sluicetcp.Record{PartitionKey: fmt.Sprint("k", i%7), Data: []byte(fmt.Sprintf("line %03d", i))}
	}
	res, err := c.PutRecords(context.Background(), "tcp", recs)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	it, err := kc.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{StreamName: aws.String("tcp"),
		ShardId: aws.String(res[0].ShardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := kc.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != len(recs) {
		t.Fatalf("GetRecords returned %d records, want %d", len(got.Records), len(recs))
	}
	for i, r := range got.Records {
		if !bytes.Equal(r.Data, recs[i].Data) || *r.PartitionKey != recs[i].PartitionKey || *r.SequenceNumber != res[i].SequenceNumber() {
			t.Fatalf("record %d: %q %q %s, want %q %q %s", i, r.Data, *r.PartitionKey, *r.SequenceNumber, recs[i].Data, recs[i].PartitionKey, res[i].SequenceNumber())
		}
	}

	srv.stop(t, 20*time.Second)
}
