package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// subscribeSteps are the steps testdata/clients/subscribe.mjs reports, in
// order.
var subscribeSteps = []string{
	"create-stream",            // one shard, ACTIVE
	"register-consumer",        // RegisterStreamConsumer, DescribeStreamConsumer until ACTIVE
	"error-unknown-shard",      // ResourceNotFoundException as an HTTP 400, before any event
	"latest",                   // an empty first event, then exactly the records put, pushed
	"after-empty-continuation", // AFTER_SEQUENCE_NUMBER with an empty event's continuation
	"trim-horizon-heartbeats",  // every record, then empty events at the heartbeat pace
	"at-sequence-number",       // from the second record on
	"after-sequence-number",    // after the second record
	"at-timestamp",             // a mark between two puts
	"continuation-chain",       // re-subscribing AFTER the last continuation: no gap, no duplicate
	"resource-in-use-takeover", // a second subscription at once is refused; after 5 s it takes over
	"split-child-shards",       // the last event after SplitShard: no continuation, ChildShards
	"lifetime",                 // the stream ends cleanly after --subscribe-lifetime
	"delete-stream",            // DeleteStream with EnforceConsumerDeletion
}

// TestCmdSubscribeNode runs enhanced fan-out end to end with
// @aws-sdk/client-kinesis and its default handler (HTTP/2, h2c with prior
// knowledge, SigV4 over :authority) against the server binary, started
// with a short heartbeat and lifetime so the script runs in seconds.
func TestCmdSubscribeNode(t *testing.T) {
	requireE2E(t)
	node := requireNode(t)
	bin := buildSluice(t)
	addr := freeAddr(t)
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte(flowAccessKey+":"+flowSecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const heartbeat, lifetime = 200 * time.Millisecond, 8 * time.Second
	p := startSluice(t, bin, "--data-dir", t.TempDir(), "--api-addr", addr, "--durability", "async", "--auth", "--auth-keys", keys,
		"--subscribe-heartbeat", heartbeat.String(), "--subscribe-lifetime", lifetime.String())
	endpoint := "http://" + addr
	waitReady(t, endpoint, p)
	env := append(cleanEnv(), "AWS_ACCESS_KEY_ID="+flowAccessKey, "AWS_SECRET_ACCESS_KEY="+flowSecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"HEARTBEAT_MS="+strconv.FormatInt(heartbeat.Milliseconds(), 10), "LIFETIME_MS="+strconv.FormatInt(lifetime.Milliseconds(), 10))
	runStepScript(t, p, env, node, filepath.Join(clientsDir, "subscribe.mjs"), endpoint, "js-efo", subscribeSteps)

	// The SDK's default handler spoke h2c: every subscription and call
	// came over HTTP/2 connections, none over HTTP/1.1 but /readyz's.
	resp, err := http.Get(endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^sluice_api_connections_total\{protocol="h2c"\} (\d+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no h2c connection counted in /metrics:\n%s", body)
	}
	if n, _ := strconv.Atoi(string(m[1])); n < 10 {
		t.Fatalf("%d h2c connections, want one per call of the script", n)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.stderr)
	}
}
