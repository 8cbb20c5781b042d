package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestCmdLineIngest serves with --syslog-addr (given twice: one through
// SLUICE_SYSLOG_ADDR is replaced by the flags) and --ndjson-addr with
// --ndjson-key-field, sends LF-framed RFC 3164 and 5424 messages and NDJSON
// lines over plain TCP, and reads them back with the AWS SDK's GetRecords:
// each once, with its partition key; an oversized message closes its
// connection; shutdown is clean.
func TestCmdLineIngest(t *testing.T) {
	syslogA, syslogB, ndjsonAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg, err := loadConfig([]string{
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--api-addr", freeAddr(t), "--tcp-addr", freeAddr(t),
		"--durability", "async", "--syslog-addr", syslogA + "=sys", "--syslog-addr", syslogB + "=sys",
		"--ndjson-addr", ndjsonAddr + "=events", "--ndjson-key-field", "user",
	}, envMap(map[string]string{"SLUICE_SYSLOG_ADDR": "127.0.0.1:1=unused"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := startInProcess(t, cfg)
	logs, endpoint := srv.logs, srv.endpoint
	ctx := context.Background()
	for _, want := range []string{"syslog=" + syslogA + " stream=sys", "syslog=" + syslogB + " stream=sys", "ndjson=" + ndjsonAddr + " stream=events"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, logs)
		}
	}
	kc := sdkClient(endpoint)
	for _, name := range []string{"sys", "events"} {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
	}
	send := func(addr, text string) net.Conn {
		t.Helper()
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nc.Close() })
		if _, err := nc.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		return nc
	}
	sys := []string{
		"<34>Oct 11 22:14:15 web1 nginx[12]: GET /index.html 200",
		"<165>1 2003-10-11T22:14:15.003Z db-2 postgres 4711 ID47 - checkpoint complete",
		"<13>Jan  1 00:00:00 web1 cron: job done",
	}
	wantKeys := map[string]string{sys[0]: "web1/nginx", sys[1]: "db-2/postgres", sys[2]: "web1/cron"}
	c1 := send(syslogA, sys[0]+"\n"+sys[1]+"\r\n")
	c2 := send(syslogB, sys[2]+"\n")
	// Above the 64 KiB default: the connection is closed.
	big := send(syslogA, "<13>Jan  1 00:00:00 h a: "+strings.Repeat("x", 70<<10)+"\n")
	_ = big.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := big.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("oversized message: read %d, %v; want the connection closed", n, err)
	}
	events := []string{`{"user":"alice","n":1}`, `{"user":"bob","n":2}`, `{"n":3}`}
	c3 := send(ndjsonAddr, events[0]+"\nnot json\n"+events[1]+"\n"+events[2]+"\n")

	diag := func() string { return "log:\n" + logs.String() }
	got := readStream(ctx, t, kc, "sys", len(sys), 20*time.Second, diag)
	var data []string
	for _, r := range got {
		data = append(data, string(r.Data))
		if wantKeys[string(r.Data)] != *r.PartitionKey {
			t.Fatalf("record %q: partition key %q, want %q", r.Data, *r.PartitionKey, wantKeys[string(r.Data)])
		}
	}
	sort.Strings(data)
	want := append([]string(nil), sys...)
	sort.Strings(want)
	if fmt.Sprint(data) != fmt.Sprint(want) {
		t.Fatalf("sys holds %q, want %q", data, want)
	}
	got = readStream(ctx, t, kc, "events", len(events), 20*time.Second, diag)
	keys := map[string]string{}
	for _, r := range got {
		keys[string(r.Data)] = *r.PartitionKey
	}
	if len(got) != len(events) || keys[events[0]] != "alice" || keys[events[1]] != "bob" || keys[events[2]] == "" || keys[events[2]] == "n" {
		t.Fatalf("events: %d records, keys %v", len(got), keys)
	}

	// Shutdown with open connections: they are closed, serve returns nil.
	srv.stop(t, 20*time.Second)
	for _, c := range []net.Conn{c1, c2, c3} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Fatalf("connection still open after shutdown: %v", err)
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
