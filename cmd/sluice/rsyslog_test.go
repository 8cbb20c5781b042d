package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// rsyslogLines is how many lines the generated log file has.
const rsyslogLines = 5000

// TestCmdRsyslog: Debian's rsyslogd (installed by .ci/run), unprivileged
// (as nobody when the test runs as root) in the foreground with its own configuration and work directory, tails a
// generated log file with imfile and forwards it with omfwd over TCP with
// octet counting (TCP_Framing="octet-counted") to two --syslog-addr
// listeners of the server binary, one in RFC 3164 (rsyslog's traditional
// forward format) and one in RFC 5424. Every line is read back from each
// stream through GetRecords (aws-sdk-go-v2) exactly once, with the
// partition key "host/sluicetest".
func TestCmdRsyslog(t *testing.T) {
	requireE2E(t)
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/rsyslogd"); serr != nil {
			t.Fatalf("rsyslogd is not installed (.ci/run installs Debian's rsyslog): %v", err)
		}
		rsyslogd = "/usr/sbin/rsyslogd"
	}
	bin := buildSluice(t)
	dir := t.TempDir()
	apiAddr, tcpAddr, addr3164, addr5424 := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	p := startSluice(t, bin, "--data-dir", filepath.Join(dir, "data"), "--api-addr", apiAddr, "--tcp-addr", tcpAddr,
		"--durability", "async", "--syslog-addr", addr3164+"=logs3164", "--syslog-addr", addr5424+"=logs5424")
	endpoint := "http://" + apiAddr
	waitReady(t, endpoint, p)
	for _, want := range []string{"syslog=" + addr3164 + " stream=logs3164", "syslog=" + addr5424 + " stream=logs5424"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Fatalf("log lacks the listening line %q:\n%s", want, p.stderr)
		}
	}
	kc := sdkClient(endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, name := range []string{"logs3164", "logs5424"} {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatalf("CreateStream %s: %v", name, err)
		}
	}

	// The log file: half written before rsyslogd starts, half appended
	// while it runs.
	logFile := filepath.Join(dir, "app.log")
	lines := make([]string, rsyslogLines)
	for i := range lines {
		lines[i] = fmt.Sprintf("sluice-line-%05d user=u%d action=%s bytes=%d", i, i%37, []string{"get", "put", "delete"}[i%3], i*13)
	}
	appendLines := func(ls []string) {
		f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(strings.Join(ls, "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendLines(lines[:rsyslogLines/2])

	work := filepath.Join(dir, "rsyslog")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	port := func(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }
	// No imuxsock or imklog: only the file input. Each action has its own
	// queue and retries forever, so a slow start of the server loses
	// nothing.
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" File=%q Tag="sluicetest:" ruleset="fwd" freshStartTail="off")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_TraditionalForwardFormat"
         queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
  action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format"
         queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
}
`, work, logFile, port(addr3164), port(addr5424))
	confFile := filepath.Join(work, "rsyslog.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(rsyslogd, "-N1", "-f", confFile)
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1 rejects the configuration: %v\n%s\n%s", err, out, conf)
	}
	rlog := &lockedBuffer{}
	rs := exec.Command(rsyslogd, "-n", "-f", confFile, "-i", filepath.Join(work, "rsyslogd.pid"))
	rs.Stdout, rs.Stderr = rlog, rlog
	if os.Getuid() == 0 {
		// As root (CI containers), rsyslogd still runs unprivileged: as
		// nobody, with read access to the test's directory and its own
		// work directory.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(work, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		rs.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	if err := rs.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	rsDone := make(chan struct{})
	go func() { _ = rs.Wait(); close(rsDone) }()
	defer func() {
		_ = rs.Process.Signal(syscall.SIGTERM)
		select {
		case <-rsDone:
		case <-time.After(10 * time.Second):
			_ = rs.Process.Kill()
			<-rsDone
		}
	}()
	time.Sleep(500 * time.Millisecond)
	appendLines(lines[rsyslogLines/2:])

	for _, name := range []string{"logs3164", "logs5424"} {
		got := readStream(ctx, t, kc, name, rsyslogLines, 90*time.Second, func() string {
			return fmt.Sprintf("rsyslogd output:\n%s\nsluice log:\n%s", tail(rlog.String(), 3000), logTail(p.stderr.String()))
		})
		seen := make(map[string]int, rsyslogLines)
		for _, r := range got {
			data := string(r.Data)
			i := strings.Index(data, "sluice-line-")
			if i < 0 {
				t.Fatalf("%s: a record without a line: %q", name, data)
			}
			seen[strings.TrimRight(data[i:], "\n")]++
			key := *r.PartitionKey
			if !strings.HasSuffix(key, "/sluicetest") || strings.HasPrefix(key, "-/") {
				t.Fatalf("%s: partition key %q for %q, want HOST/sluicetest", name, key, data)
			}
			// The record is the whole message: PRI, header, tag, line. The
			// 5424 one has VERSION 1 after the PRI.
			gt := strings.IndexByte(data, '>')
			if !strings.HasPrefix(data, "<") || gt < 0 || !strings.Contains(data[:i], "sluicetest") ||
				(name == "logs5424") != strings.HasPrefix(data[gt+1:], "1 ") {
				t.Fatalf("%s: record %q is not the whole syslog message", name, data)
			}
		}
		t.Logf("%s: first record %q, partition key %q", name, got[0].Data, *got[0].PartitionKey)
		for _, l := range lines {
			if seen[l] != 1 {
				t.Fatalf("%s: line %q read %d times, want once (%d records)", name, l, seen[l], len(got))
			}
		}
		if len(got) != rsyslogLines {
			t.Fatalf("%s: %d records, want %d", name, len(got), rsyslogLines)
		}
	}
}

// readStream reads every shard of name from TRIM_HORIZON with GetRecords
// until it holds want records or timeout passes; then it reads once more
// to catch extra records.
func readStream(ctx context.Context, t *testing.T, kc *kinesis.Client, name string, want int, timeout time.Duration, diag func() string) []types.Record {
	t.Helper()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("ListShards %s: %v", name, err)
	}
	iters := make([]*string, len(shards.Shards))
	for i, sh := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator %s %s: %v", name, *sh.ShardId, err)
		}
		iters[i] = it.ShardIterator
	}
	var got []types.Record
	deadline := time.Now().Add(timeout)
	extra := false
	for {
		n := 0
		for i := range iters {
			if iters[i] == nil {
				continue
			}
			out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iters[i]})
			if err != nil {
				t.Fatalf("GetRecords %s: %v", name, err)
			}
			got = append(got, out.Records...)
			n += len(out.Records)
			iters[i] = out.NextShardIterator
		}
		if len(got) >= want && n == 0 {
			if extra {
				return got
			}
			extra = true // one more pass after a pause: nothing may follow
			time.Sleep(2 * time.Second)
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d records within %s; %s", name, len(got), want, timeout, diag())
		}
		if n == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
}
