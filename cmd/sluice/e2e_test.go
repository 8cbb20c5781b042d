package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a child's stderr; the exec package writes to it from
// its own goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildSluice compiles this package into a temporary directory.
func buildSluice(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("cannot find the go command in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "sluice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return addr
}

// cleanEnv is the test's environment without SLUICE_* variables, so the
// child sees only the flags the test passes.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_") {
			env = append(env, kv)
		}
	}
	return env
}

type sluiceProcess struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{} // closed when cmd.Wait returned
	err    error         // cmd.Wait's result, valid after done
}

func startSluice(t *testing.T, bin string, args ...string) *sluiceProcess {
	t.Helper()
	p := &sluiceProcess{cmd: exec.Command(bin, args...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Env = cleanEnv()
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits at most timeout for the process to exit and returns its exit
// code.
func (p *sluiceProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("sluice did not exit within %s; log:\n%s", timeout, p.stderr)
	}
	var exitErr *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exitErr) {
		t.Fatalf("wait: %v", p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func TestCmdEndToEnd(t *testing.T) {
	bin := buildSluice(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	apiAddr, tcpAddr := freeAddr(t), freeAddr(t)
	srv := startSluice(t, bin, "--data-dir", dataDir, "--api-addr", apiAddr, "--tcp-addr", tcpAddr)

	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := client.Get("http://" + apiAddr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: reading body: %v", path, err)
		}
		return resp.StatusCode, string(body), resp.Header
	}

	// Poll /readyz until the server is up, at most 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + apiAddr + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if string(body) != "ready" {
					t.Fatalf("/readyz body %q, want ready", body)
				}
				break
			}
		}
		select {
		case <-srv.done:
			t.Fatalf("sluice exited during startup (%v); log:\n%s", srv.err, srv.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 10 s (last error %v); log:\n%s", err, srv.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code, body, _ := get("/healthz"); code != 200 || body != "ok" {
		t.Fatalf("/healthz: %d %q, want 200 ok", code, body)
	}
	code, body, hdr := get("/metrics")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d Content-Type %q", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, body)
		}
	}
	code, body, hdr = get("/no/such/path")
	var notFound struct{ Error, Path string }
	if code != 404 || hdr.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &notFound) != nil || notFound.Path != "/no/such/path" {
		t.Fatalf("unknown path: %d %q %q, want 404 with a JSON body naming the path", code, hdr.Get("Content-Type"), body)
	}

	log := srv.stderr.String()
	for _, want := range []string{
		"msg=listening api=" + apiAddr,
		"msg=listening tcp=" + tcpAddr,
	} {
		if !strings.Contains(log, want) {
			t.Fatalf("log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "LOCK")); err != nil {
		t.Fatalf("no lock file in the data dir: %v", err)
	}

	// A second server on the same data dir fails on the lock, naming the dir.
	second := startSluice(t, bin, "--data-dir", dataDir, "--api-addr", freeAddr(t), "--tcp-addr", freeAddr(t))
	if code := second.wait(t, 10*time.Second); code != 1 {
		t.Fatalf("second server on the same data dir: exit code %d, want 1; log:\n%s", code, second.stderr)
	}
	if log := second.stderr.String(); !strings.Contains(log, "locked") || !strings.Contains(log, dataDir) {
		t.Fatalf("second server's error does not name the locked data dir %s:\n%s", dataDir, log)
	}

	// A server whose API port is taken fails with a clear message.
	third := startSluice(t, bin, "--data-dir", filepath.Join(t.TempDir(), "other"), "--api-addr", apiAddr, "--tcp-addr", freeAddr(t))
	if code := third.wait(t, 10*time.Second); code != 1 {
		t.Fatalf("server on a busy port: exit code %d, want 1; log:\n%s", code, third.stderr)
	}
	if log := third.stderr.String(); !strings.Contains(log, "cannot listen on --api-addr "+apiAddr) {
		t.Fatalf("busy port error does not name the address %s:\n%s", apiAddr, log)
	}

	// A bad flag exits 2 before touching anything.
	bad := startSluice(t, bin, "--durability", "never", "--data-dir", filepath.Join(t.TempDir(), "unused"))
	if code := bad.wait(t, 10*time.Second); code != 2 {
		t.Fatalf("bad --durability: exit code %d, want 2; log:\n%s", code, bad.stderr)
	}
	if log := bad.stderr.String(); !strings.Contains(log, `invalid durability "never"`) {
		t.Fatalf("bad --durability message:\n%s", log)
	}

	// SIGTERM: clean stop, exit 0, lock released.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if code := srv.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("after SIGTERM: exit code %d, want 0; log:\n%s", code, srv.stderr)
	}
	if log := srv.stderr.String(); !strings.Contains(log, "msg=stopped") {
		t.Fatalf("log lacks msg=stopped:\n%s", log)
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		t.Fatalf("lock still held after the server stopped: %v", err)
	}
	if err := lock.release(); err != nil {
		t.Fatalf("release: %v", err)
	}
}
