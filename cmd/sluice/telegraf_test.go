package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/sdkhttp"
)

// telegrafVersion is the Telegraf release scripts/telegraf.sh builds.
const telegrafVersion = "1.37.2"

// telegrafLines is how many log lines the shipper carries.
const telegrafLines = 2000

// telegrafBinary is the Telegraf build of scripts/telegraf.sh: $SLUICE_TELEGRAF
// when set, else its cache path.
func telegrafBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SLUICE_TELEGRAF")
	if bin == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no home directory for the Telegraf cache: %v", err)
		}
		bin = filepath.Join(home, ".cache", "sluice", "telegraf-"+telegrafVersion, "telegraf")
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("Telegraf %s is not built at %s: run scripts/telegraf.sh (make e2e-clients does): %v", telegrafVersion, bin, err)
	}
	return bin
}

// TestCmdTelegraf ships a log file into the server with an unmodified
// Telegraf (inputs.tail -> outputs.kinesis, CLIENTS.md section 4.2) signing
// with SigV4 against a server that runs with --auth, and reads every line
// back through GetRecords exactly once.
//
// SLUICE_TELEGRAF_NOAUTH=1 runs the same without --auth (for a server
// built without SigV4 verification).
func TestCmdTelegraf(t *testing.T) {
	requireE2E(t)
	telegraf := telegrafBinary(t)
	auth := os.Getenv("SLUICE_TELEGRAF_NOAUTH") != "1"

	dir := t.TempDir()
	accessKey := "AKIDTELEGRAF" + strings.ToUpper(randomHex(t, 4))
	secretKey := randomHex(t, 20)

	// The log file: unique lines, all there before Telegraf starts.
	logFile := filepath.Join(dir, "app.log")
	want := make(map[string]bool, telegrafLines)
	var sb strings.Builder
	run := randomHex(t, 4)
	for i := range telegrafLines {
		line := fmt.Sprintf("sluice telegraf line %05d run %s level=info msg=\"shipped by telegraf\"", i, run)
		want[line] = true
		sb.WriteString(line + "\n")
	}
	if err := os.WriteFile(logFile, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	bin := buildSluice(t)
	addr := freeAddr(t)
	// Debug level logs every request with the SDK's invocation id and
	// attempt header: if a line arrives twice, the PutRecords lines show
	// whether telegraf's SDK sent a batch again (see the check below).
	args := []string{"--data-dir", filepath.Join(dir, "data"), "--api-addr", addr, "--durability", "async", "--log-level", "debug"}
	if auth {
		// SigV4 verification: --auth turns it on, --auth-keys names a file
		// of ACCESS_KEY_ID:SECRET lines (env SLUICE_AUTH_KEYS).
		keys := filepath.Join(dir, "keys")
		if err := os.WriteFile(keys, []byte("# sluice test keys\n"+accessKey+":"+secretKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--auth", "--auth-keys", keys)
	}
	p := startSluice(t, bin, args...)
	endpoint := "http://" + addr
	waitReady(t, endpoint, p)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := signedClient(endpoint, accessKey, secretKey)
	const stream = "telegraf"
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatalf("CreateStream: %v; server log:\n%s", err, logTail(p.stderr.String()))
	}
	waitStreamActive(ctx, t, client, stream)

	if auth {
		// The server really checks: a wrong secret and an unknown key are
		// refused with AWS's error codes.
		for _, c := range []struct{ key, secret, code string }{
			{accessKey, secretKey + "x", "InvalidSignatureException"},
			{"AKIDUNKNOWN", secretKey, "UnrecognizedClientException"},
		} {
			_, err := signedClient(endpoint, c.key, c.secret).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
				t.Fatalf("DescribeStreamSummary signed with key %s and a wrong secret or key: got %v, want %s", c.key, err, c.code)
			}
		}
	}

	// Telegraf, configured as CLIENTS.md 4.2 shows.
	conf := filepath.Join(dir, "telegraf.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`[agent]
  interval = "1s"
  flush_interval = "1s"
  metric_batch_size = 500
  omit_hostname = true
[[inputs.tail]]
  files = [%q]
  from_beginning = true
  watch_method = "poll"
  data_format = "value"
  data_type = "string"
[[outputs.kinesis]]
  region = "us-east-1"
  access_key = %q
  secret_key = %q
  endpoint_url = %q
  streamname = %q
  data_format = "json"
  [outputs.kinesis.partition]
    method = "random"
`, logFile, accessKey, secretKey, endpoint, stream)), 0o644); err != nil {
		t.Fatal(err)
	}
	tlog := &lockedBuffer{}
	tg := exec.Command(telegraf, "--config", conf)
	tg.Env = append(cleanEnv(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	tg.Dir = dir
	tg.Stdout, tg.Stderr = tlog, tlog
	if err := tg.Start(); err != nil {
		t.Fatalf("start telegraf: %v", err)
	}
	tgDone := make(chan error, 1)
	go func() { tgDone <- tg.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = tg.Process.Signal(syscall.SIGTERM)
		select {
		case <-tgDone:
		case <-time.After(20 * time.Second):
			_ = tg.Process.Kill()
			<-tgDone
			t.Errorf("telegraf did not stop within 20 s of SIGTERM; log:\n%s", logTail(tlog.String()))
		}
	}
	defer stop()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("%s\ntelegraf log:\n%s\nserver log:\n%s", fmt.Sprintf(format, a...), logTail(tlog.String()), logTail(p.stderr.String()))
	}

	// Read every shard from TRIM_HORIZON until all lines are in, at most 90 s.
	got := make(map[string]int, telegrafLines)
	var unexpected []string
	iters := map[string]*string{}
	records := 0
	readRound := func() {
		shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
		if err != nil {
			fail("ListShards: %v", err)
		}
		for _, s := range shards.Shards {
			id := aws.ToString(s.ShardId)
			if _, ok := iters[id]; !ok {
				it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: s.ShardId,
					ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
				if err != nil {
					fail("GetShardIterator %s: %v", id, err)
				}
				iters[id] = it.ShardIterator
			}
			for iters[id] != nil {
				out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iters[id]})
				if err != nil {
					fail("GetRecords %s: %v", id, err)
				}
				iters[id] = out.NextShardIterator
				for _, r := range out.Records {
					records++
					var m struct {
						Name   string
						Fields struct{ Value *string }
					}
					if err := json.Unmarshal(r.Data, &m); err != nil || m.Fields.Value == nil {
						unexpected = append(unexpected, string(r.Data))
						continue
					}
					got[*m.Fields.Value]++
					if !want[*m.Fields.Value] || m.Name != "tail" {
						unexpected = append(unexpected, string(r.Data))
					}
				}
				if len(out.Records) == 0 || aws.ToInt64(out.MillisBehindLatest) == 0 {
					break
				}
			}
		}
	}
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	for len(got) < telegrafLines {
		select {
		case err := <-tgDone:
			stopped = true
			fail("telegraf exited early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			fail("only %d of %d lines read back within 90 s (%d records)", len(got), telegrafLines, records)
		}
		readRound()
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("all %d lines read back %.1f s after telegraf started", telegrafLines, time.Since(start).Seconds())
	// Two more flush intervals: a duplicate sent late would show up here.
	time.Sleep(2500 * time.Millisecond)
	readRound()
	stop()

	if len(unexpected) > 0 {
		fail("%d records that are not lines of the log, e.g. %q", len(unexpected), unexpected[0])
	}
	dups := 0
	for line, n := range got {
		if n != 1 {
			dups++
			if dups <= 5 {
				t.Errorf("line read back %d times: %q", n, line)
			}
		}
	}
	if dups > 0 || len(got) != telegrafLines || records != telegrafLines {
		fail("%d distinct lines, %d records, %d lines not exactly once; want each of %d lines exactly once\nthe server's PutRecords requests:\n%s",
			len(got), records, dups, telegrafLines, linesWith(p.stderr.String(), "operation=PutRecords"))
	}
	if !strings.Contains(tlog.String(), "Loaded outputs: kinesis") {
		t.Errorf("telegraf log does not show the kinesis output loaded:\n%s", logTail(tlog.String()))
	}
}

// signedClient is an aws-sdk-go-v2 Kinesis client for endpoint, signing
// with the given keys, without retries.
func signedClient(endpoint, accessKey, secretKey string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(nil), // see internal/sdkhttp
	})
}

// waitStreamActive polls DescribeStreamSummary until the stream is ACTIVE,
// at most 30 s.
func waitStreamActive(ctx context.Context, t *testing.T, c *kinesis.Client, stream string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary: %v", err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not ACTIVE within 30 s", stream)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
