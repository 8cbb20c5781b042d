package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The end-to-end client tests (TestCmdClients, TestCmdTelegraf) drive the
// built server binary with real clients. They need things `go test` does not
// install (npm packages, a Telegraf build), so they run only when SLUICE_E2E=1,
// which `make e2e-clients` sets after installing them. With SLUICE_E2E=1 a
// missing dependency is a failure, not a skip.
const e2eEnv = "SLUICE_E2E"

// requireE2E skips the test unless SLUICE_E2E=1.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv(e2eEnv) != "1" {
		t.Skipf("end-to-end client test: run `make e2e-clients` (it installs the clients and sets %s=1)", e2eEnv)
	}
}

// clientsDir holds the client scripts and the npm package files.
const clientsDir = "testdata/clients"

// flowSteps are the steps every client flow (flow.mjs, flow.py, the AWS CLI
// flow) reports, in order. Each one checks its results field by field.
var flowSteps = []string{
	"create-stream",                  // CreateStream, 2 shards
	"wait-active",                    // DescribeStreamSummary until ACTIVE
	"describe-stream",                // name, ARN, status, retention, the two shards' hash ranges
	"describe-stream-summary",        // OpenShardCount, RetentionPeriodHours, mode, consumers
	"list-streams",                   // StreamNames (sorted), StreamSummaries
	"list-shards",                    // both shards, MaxResults 1 + NextToken paging
	"put-record",                     // binary data to the shard that owns md5(key)
	"put-records",                    // a batch with one ExplicitHashKey; shards and sequence numbers
	"iterator-trim-horizon",          // every record of each shard, exactly, in order
	"iterator-latest",                // empty, then exactly the record put afterwards
	"iterator-at-sequence-number",    // from the second record on
	"iterator-after-sequence-number", // after the second record; after the last = nothing
	"iterator-at-timestamp",          // a mark between two puts; a mark before the stream
	"error-missing-stream",           // ResourceNotFoundException with the AWS message
	"split-shard",                    // closed parent, two children with lineage, ChildShards at its end
	"merge-shards",                   // both parents closed, the merged child points at both
	"update-shard-count",             // UNIFORM_SCALING to 4: even ranges, parents listed
	"put-after-reshard",              // a put lands in the new shard that owns its key
	"tags-stream",                    // AddTagsToStream, ListTagsForStream, RemoveTagsFromStream
	"tags-resource",                  // TagResource, ListTagsForResource, UntagResource
	"retention",                      // Increase to 48 h, Decrease to 24 h, below 24 h refused
	"delete-stream",                  // DeleteStream, then ResourceNotFoundException everywhere
}

// flowCredentials are the keys every client flow signs with.
const (
	flowAccessKey = "AKIDSLUICETEST"
	flowSecretKey = "sluice-test-secret"
)

// TestCmdClients drives the server binary over loopback with real AWS
// clients, each through the whole flow of flowSteps, one stream per client:
// @aws-sdk/client-kinesis with its default handler (h2c with prior
// knowledge, a connection per call) and with NodeHttpHandler (HTTP/1.1),
// boto3, and the AWS CLI. Every step is a subtest, so a failure names the
// client and the step.
func TestCmdClients(t *testing.T) {
	requireE2E(t)
	node := requireNode(t)
	python := findBoto3Python(t)
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is not installed (.ci/run installs it): %v", err)
	}

	bin := buildSluice(t)
	addr := freeAddr(t)
	// Every client signs with the flow's key and the server verifies it
	// (--auth): the JavaScript SDK's h2c requests sign :authority, boto3
	// and the CLI sign host (CLIENTS.md 2.2, 2.3).
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte(flowAccessKey+":"+flowSecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startSluice(t, bin, "--data-dir", t.TempDir(), "--api-addr", addr, "--durability", "async", "--auth", "--auth-keys", keys)
	endpoint := "http://" + addr
	waitReady(t, endpoint, p)

	env := append(cleanEnv(), "AWS_ACCESS_KEY_ID="+flowAccessKey, "AWS_SECRET_ACCESS_KEY="+flowSecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard", "AWS_EC2_METADATA_DISABLED=true")

	t.Run("node-h2c", func(t *testing.T) {
		runFlowScript(t, p, env, node, filepath.Join(clientsDir, "flow.mjs"), endpoint, "js-h2c")
	})
	t.Run("node-http1", func(t *testing.T) {
		runFlowScript(t, p, append(env, "SLUICE_NODE_HANDLER=http1"), node, filepath.Join(clientsDir, "flow.mjs"), endpoint, "js-http1")
	})
	t.Run("boto3", func(t *testing.T) {
		runFlowScript(t, p, env, python, filepath.Join(clientsDir, "flow.py"), endpoint, "boto3")
	})
	t.Run("awscli", func(t *testing.T) {
		runCLIFlow(t, p, env, aws, endpoint, "awscli")
	})

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.stderr)
	}
}

// runFlowScript runs a flow script and turns each of its "PASS|FAIL|SKIP
// <step>[: why]" lines into a subtest named after the step.
func runFlowScript(t *testing.T, p *sluiceProcess, env []string, interpreter, script, endpoint, stream string) {
	t.Helper()
	runStepScript(t, p, env, interpreter, script, endpoint, stream, flowSteps)
}

// runStepScript runs a script that reports the given steps the way the
// flow scripts do.
func runStepScript(t *testing.T, p *sluiceProcess, env []string, interpreter, script, endpoint, stream string, steps []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter, script, endpoint, stream)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	type result struct{ status, why string }
	results := make(map[string]result)
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		status, rest, ok := strings.Cut(line, " ")
		if !ok || (status != "PASS" && status != "FAIL" && status != "SKIP") {
			t.Logf("%s: %s", filepath.Base(script), line)
			continue
		}
		step, why, _ := strings.Cut(rest, ": ")
		if _, dup := results[step]; dup {
			t.Errorf("%s reported step %s twice", script, step)
		}
		results[step] = result{status, why}
	}
	known := make(map[string]bool, len(steps))
	failed := false
	for _, step := range steps {
		known[step] = true
		r, ok := results[step]
		t.Run(step, func(t *testing.T) {
			switch {
			case !ok:
				failed = true
				t.Errorf("%s did not report this step (it stopped early: %v)\nstderr:\n%s", script, runErr, tail(stderr.String(), 4000))
			case r.status == "FAIL":
				failed = true
				t.Error(r.why)
			case r.status == "SKIP":
				t.Skip(r.why)
			}
		})
	}
	for step := range results {
		if !known[step] {
			t.Errorf("%s reported an unknown step %q", script, step)
		}
	}
	if runErr != nil && !failed {
		t.Errorf("%s failed without a failed step: %v\nstderr:\n%s", script, runErr, tail(stderr.String(), 4000))
	}
	if failed || runErr != nil {
		t.Logf("server log (tail):\n%s", logTail(p.stderr.String()))
	}
}

// linesWith returns the lines of log that contain sub.
func linesWith(log, sub string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// logTail is the end of a child's log for a failure message: the last 30
// lines, each cut at 400 bytes (a client speaking the wrong protocol makes
// the server log its raw bytes).
func logTail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "..."
		}
	}
	return strings.Join(lines, "\n")
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// requireNode returns the node binary and checks that the npm packages are
// installed (scripts/npm-deps.sh links them into testdata/clients).
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (Node 20 + npm are needed): %v", err)
	}
	for _, pkg := range []string{"@aws-sdk/client-kinesis", "@smithy/node-http-handler"} {
		if _, err := os.Stat(filepath.Join(clientsDir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("npm package %s is not installed: run scripts/npm-deps.sh (make e2e-clients does): %v", pkg, err)
		}
	}
	return node
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
		select {
		case <-p.done:
			t.Fatalf("sluice exited during startup (%v); log:\n%s", p.err, p.stderr)
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sluice not ready within 20 s; log:\n%s", p.stderr)
}
