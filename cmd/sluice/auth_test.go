package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/sdkhttp"
)

// TestCmdServeAuthAndQuotas serves with --auth (keys from
// SLUICE_AUTH_KEYS) and --emulate-quotas and checks both with the real
// SDK: a good signature works, a wrong secret, an unknown key, no
// signature and another region are refused with AWS's codes, and a
// PutRecords over a shard's 1 MiB/s fails its entries per record.
func TestCmdServeAuthAndQuotas(t *testing.T) {
	cfg, err := loadConfig([]string{
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--api-addr", freeAddr(t), "--tcp-addr", freeAddr(t),
		"--durability", "async", "--auth", "--emulate-quotas", "--shard-limit", "3",
	}, envMap(map[string]string{"SLUICE_AUTH_KEYS": "AKIDCMD:cmdsecret,AKIDOTHER:other"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := startInProcess(t, cfg)
	logs, endpoint, hc := srv.logs, srv.endpoint, srv.hc
	if !strings.Contains(logs.String(), "auth=true emulate_quotas=true") {
		t.Fatalf("the ready line does not report auth and quotas:\n%s", logs)
	}

	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	defer rcancel()
	client := func(region, key, secret string) *kinesis.Client {
		o := kinesis.Options{Region: region, BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(hc)}
		if key != "" {
			o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
		}
		return kinesis.New(o)
	}
	good := client("us-east-1", "AKIDCMD", "cmdsecret")
	if _, err := good.CreateStream(rctx, &kinesis.CreateStreamInput{StreamName: aws.String("q"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("CreateStream signed with a configured key: %v", err)
	}
	if _, err := client("us-east-1", "AKIDOTHER", "other").DescribeStreamSummary(rctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("q")}); err != nil {
		t.Fatalf("DescribeStreamSummary signed with the second key: %v", err)
	}
	for _, c := range []struct {
		what             string
		client           *kinesis.Client
		code, msgContain string
	}{
		{"wrong secret", client("us-east-1", "AKIDCMD", "nope"), "InvalidSignatureException", "The request signature we calculated does not match"},
		{"unknown key", client("us-east-1", "AKIDNONE", "cmdsecret"), "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"unsigned", client("us-east-1", "", ""), "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"other region", client("eu-west-1", "AKIDCMD", "cmdsecret"), "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'."},
	} {
		_, err := c.client.DescribeStreamSummary(rctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("q")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code || !strings.Contains(ae.ErrorMessage(), c.msgContain) {
			t.Fatalf("%s: %v, want %s %q", c.what, err, c.code, c.msgContain)
		}
	}

	// One request, one clock reading: the first record of nearly 1 MiB
	// takes the shard's second, the other four are throttled.
	entries := make([]types.PutRecordsRequestEntry, 5)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: make([]byte, 1<<20-10)}
	}
	out, err := good.PutRecords(rctx, &kinesis.PutRecordsInput{StreamName: aws.String("q"), Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 4 || out.Records[0].ErrorCode != nil ||
		aws.ToString(out.Records[4].ErrorCode) != "ProvisionedThroughputExceededException" ||
		aws.ToString(out.Records[4].ErrorMessage) != "Rate exceeded for shard shardId-000000000000 in stream q under account 000000000000." {
		t.Fatalf("PutRecords over 1 MiB/s: %+v %v", out, err)
	}

	// --shard-limit: DescribeLimits reports it and CreateStream beyond it
	// fails.
	lim, err := good.DescribeLimits(rctx, &kinesis.DescribeLimitsInput{})
	if err != nil || aws.ToInt32(lim.ShardLimit) != 3 || aws.ToInt32(lim.OpenShardCount) != 1 {
		t.Fatalf("DescribeLimits with --shard-limit 3: %+v %v", lim, err)
	}
	var le *types.LimitExceededException
	if _, err := good.CreateStream(rctx, &kinesis.CreateStreamInput{StreamName: aws.String("big"), ShardCount: aws.Int32(3)}); !errors.As(err, &le) {
		t.Fatalf("CreateStream of 3 more shards with --shard-limit 3: %v", err)
	}

	// --emulate-quotas: one SubscribeToShard call per second per consumer
	// and shard.
	desc, err := good.DescribeStreamSummary(rctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := good.RegisterStreamConsumer(rctx, &kinesis.RegisterStreamConsumerInput{StreamARN: desc.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	sub := func() (*kinesis.SubscribeToShardOutput, error) {
		return good.SubscribeToShard(rctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	}
	first, err := sub()
	if err != nil {
		t.Fatalf("first SubscribeToShard: %v", err)
	}
	_, err = sub()
	if !errors.As(err, &le) || !strings.Contains(le.ErrorMessage(), "Rate exceeded for consumer") {
		t.Fatalf("second SubscribeToShard within a second: %v", err)
	}
	_ = first.GetStream().Close()

	srv.stop(t, 30*time.Second)
}

// TestCmdRunAuthWithoutKeys: --auth without a key is a configuration
// error (exit 2) whose message names the fix.
func TestCmdRunAuthWithoutKeys(t *testing.T) {
	var stderr strings.Builder
	code := run([]string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--auth"}, envMap(nil), &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--auth is on but no access key is configured") ||
		!strings.Contains(stderr.String(), "--auth-keys FILE") || !strings.Contains(stderr.String(), "SLUICE_AUTH_KEYS=AKID:SECRET") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
