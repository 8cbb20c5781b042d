package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// boto3Script drives the Kinesis API slice with boto3 and exits non-zero,
// with a message, on any difference.
const boto3Script = `
import sys, boto3
c = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="any", aws_secret_access_key="any")
c.create_stream(StreamName="py", ShardCount=3)
assert "py" in c.list_streams()["StreamNames"]
want = {b"boto-%d" % i for i in range(50)}
r = c.put_records(StreamName="py", Records=[{"Data": d, "PartitionKey": d.decode()} for d in sorted(want)])
assert r["FailedRecordCount"] == 0, r
shards = c.list_shards(StreamName="py")["Shards"]
assert len(shards) == 3, shards
got = []
for s in shards:
    it = c.get_shard_iterator(StreamName="py", ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = c.get_records(ShardIterator=it, Limit=1000)["Records"]
    seqs = [int(x["SequenceNumber"]) for x in recs]
    assert seqs == sorted(seqs), "sequence numbers out of order in %s" % s["ShardId"]
    got += [x["Data"] for x in recs]
assert sorted(got) == sorted(want), (len(got), len(want))
summary = c.describe_stream_summary(StreamName="py")["StreamDescriptionSummary"]
assert summary["OpenShardCount"] == 3, summary
try:
    c.describe_stream(StreamName="missing")
    raise SystemExit("describe_stream of a missing stream succeeded")
except c.exceptions.ResourceNotFoundException:
    pass
c.delete_stream(StreamName="py")
print("boto3 ok")
`

// TestCmdClients drives the server binary with the real AWS CLI and boto3
// over loopback: create, put (single and batch), TRIM_HORIZON iterators,
// get, describe, list, an error path and delete.
func TestCmdClients(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is not installed (.ci/run installs it): %v", err)
	}
	python := findBoto3Python(t)
	bin := buildSluice(t)
	addr := freeAddr(t)
	p := startSluice(t, bin, "--data-dir", t.TempDir(), "--api-addr", addr, "--durability", "async")
	endpoint := "http://" + addr
	waitReady(t, endpoint, p)

	env := append(cleanEnv(), "AWS_ACCESS_KEY_ID=any", "AWS_SECRET_ACCESS_KEY=any", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", filepath.Base(name), strings.Join(args, " "), err, out, p.stderr)
		}
		return strings.TrimSpace(string(out))
	}
	cli := func(args ...string) string {
		t.Helper()
		return run(aws, append([]string{"--endpoint-url", endpoint, "--output", "text", "kinesis"}, args...)...)
	}

	t.Run("awscli", func(t *testing.T) {
		cli("create-stream", "--stream-name", "cli", "--shard-count", "2")
		if out := cli("list-streams", "--query", "StreamNames"); !strings.Contains(out, "cli") {
			t.Fatalf("list-streams: %q", out)
		}
		if out := cli("describe-stream", "--stream-name", "cli", "--query", "length(StreamDescription.Shards)"); out != "2" {
			t.Fatalf("describe-stream shards: %q", out)
		}
		data := filepath.Join(t.TempDir(), "rec")
		if err := os.WriteFile(data, []byte("hello from the cli\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		shard := cli("put-record", "--stream-name", "cli", "--partition-key", "a", "--data", "fileb://"+data, "--query", "ShardId")
		it := cli("get-shard-iterator", "--stream-name", "cli", "--shard-id", shard,
			"--shard-iterator-type", "TRIM_HORIZON", "--query", "ShardIterator")
		got := cli("get-records", "--shard-iterator", it, "--query", "Records[0].Data")
		if want := base64.StdEncoding.EncodeToString([]byte("hello from the cli\n")); got != want {
			t.Fatalf("get-records data %q, want %q", got, want)
		}
		cli("delete-stream", "--stream-name", "cli")
	})
	t.Run("boto3", func(t *testing.T) {
		if out := run(python, "-c", boto3Script, endpoint); !strings.Contains(out, "boto3 ok") {
			t.Fatalf("boto3 script: %s", out)
		}
	})

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.stderr)
	}
}

// findBoto3Python returns a python3 that can import boto3.
func findBoto3Python(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import boto3").Run() == nil {
			return path
		}
	}
	t.Fatal("no python3 with boto3 (.ci/run installs python3-boto3)")
	return ""
}

// waitReady polls /readyz for at most 20 s.
func waitReady(t *testing.T, endpoint string, p *sluiceProcess) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(endpoint + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sluice not ready within 20 s; log:\n%s", p.stderr)
}
