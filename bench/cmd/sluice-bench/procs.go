package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/report"
)

// server is a server process under test (cmd nil: a server in this
// process, for tests; stop then only runs cleanup).
type server struct {
	name    string
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *tailBuffer
	cleanup func()
	// kill: stop with SIGKILL at once. For the in-memory peers, whose
	// state is thrown away anyway (kinesis-mock takes 15 s to exit on
	// SIGTERM).
	kill bool
}

// tailBuffer keeps the last 4 KiB written to it, for error messages.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startServer starts cmd (its stdout and stderr are kept in memory) and
// waits until ready reports true, the process exits or 30 s pass.
func startServer(name, addr string, cmd *exec.Cmd, ready func() bool, cleanup func()) (*server, error) {
	s := &server{name: name, addr: addr, cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{}, cleanup: cleanup}
	cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
	if err := cmd.Start(); err != nil {
		if cleanup != nil {
			cleanup()
		}
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		select {
		case <-s.exited:
			s.stop()
			return nil, fmt.Errorf("%s exited during start-up: %s", name, s.stderr.b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready after 30 s: %s", name, s.stderr.b)
		}
	}
	return s, nil
}

// stop ends the process (SIGTERM, SIGKILL after 15 s) and runs cleanup.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.kill {
		_ = s.cmd.Process.Kill()
		<-s.exited
	} else if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.cleanup != nil {
		s.cleanup()
	}
}

// cpuSeconds returns the user+system CPU time of the process so far.
func (s *server) cpuSeconds() float64 {
	if s.cmd == nil || s.cmd.Process == nil {
		return nan // in process (tests)
	}
	return procCPUSeconds(s.cmd.Process.Pid)
}

// procCPUSeconds reads utime+stime from /proc/PID/stat (all threads); NaN
// when unreadable.
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nan
	}
	return parseStatCPU(string(b))
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// parseStatCPU parses utime and stime (fields 14 and 15) of a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ')'.
func parseStatCPU(stat string) float64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nan
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14 = f[11].
	if len(f) < 13 {
		return nan
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return nan
	}
	return (u + st) / clockTicks
}

// selfCPUSeconds is the CPU time of this process (the load generator).
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return nan
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func tcpReady(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
}

func httpReady(url string) func() bool {
	cl := &http.Client{Timeout: time.Second}
	return func() bool {
		resp, err := cl.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

// buildSluice builds ./cmd/sluice into dir and returns the binary's path.
func buildSluice(dir string) (string, error) {
	bin := filepath.Join(dir, "sluice")
	// The import path works from any directory of the module (tests run
	// in their package's directory).
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/cmd/sluice")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("cannot build ./cmd/sluice (run sluice-bench inside the repository, or pass --sluice-bin): %v: %s", err, out)
	}
	return bin, nil
}

// startSluice starts the sluice binary on a fresh data directory under
// root, removed when the server stops.
func startSluice(bin, root, durability string, extra ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	tcpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp(root, "sluice-"+durability+"-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"--data-dir", dataDir, "--api-addr", addr, "--tcp-addr", tcpAddr,
		"--durability", durability, "--log-level", "warn"}, extra...)...)
	return startServer("sluice "+durability, addr, cmd, httpReady("http://"+addr+"/readyz"),
		func() { _ = os.RemoveAll(dataDir) })
}

const (
	kinesaliteVersion  = "3.3.3"
	kinesisMockVersion = "0.6.2" // npm package kinesis-local
)

// npmDir is where an npm package is installed once, keyed by its version.
func npmDir(pkg, version string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "sluice", "npm-"+pkg+"-"+version), nil
}

// installNPM installs pkg@version into npmDir unless it is there already,
// and returns the module's directory.
func installNPM(pkg, version string) (string, error) {
	dir, err := npmDir(pkg, version)
	if err != nil {
		return "", err
	}
	mod := filepath.Join(dir, "node_modules", pkg)
	if _, err := os.Stat(filepath.Join(mod, "package.json")); err == nil {
		return mod, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	logf("installing %s %s from npm into %s", pkg, version, dir)
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, pkg+"@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install %s@%s: %v: %s", pkg, version, err, out)
	}
	if _, err := os.Stat(filepath.Join(mod, "package.json")); err != nil {
		return "", fmt.Errorf("npm install finished but %s is missing: %v", pkg, err)
	}
	return mod, nil
}

// installKinesalite installs kinesalite once and returns its module directory.
func installKinesalite() (string, error) { return installNPM("kinesalite", kinesaliteVersion) }

// installKinesisMock installs kinesis-mock (npm kinesis-local) once and
// returns its module directory.
func installKinesisMock() (string, error) { return installNPM("kinesis-local", kinesisMockVersion) }

// kinesisMockScript runs kinesis-local with every listening socket forced
// onto 127.0.0.1: it binds 0.0.0.0 and has no setting for the host.
const kinesisMockScript = `const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args.length > 0 && typeof args[0] === 'object' && args[0] !== null) {
    args[0] = Object.assign({}, args[0], {host: '127.0.0.1'});
  } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
require(require('path').join(process.argv[2], 'main.js'));
`

// startKinesisMock starts kinesis-mock in memory on 127.0.0.1 (plain HTTP
// port; its TLS port is another free loopback port), streams ACTIVE at once.
// env adds NAME=VALUE settings (e.g. SHARD_LIMIT).
func startKinesisMock(mod, root string, env ...string) (*server, error) {
	script := filepath.Join(root, "kinesis-mock.js")
	if err := os.WriteFile(script, []byte(kinesisMockScript), 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	tlsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	cmd := exec.Command("node", script, mod)
	cmd.Env = append(os.Environ(),
		"KINESIS_MOCK_CERT_PATH="+filepath.Join(mod, "server.json"),
		"KINESIS_MOCK_PLAIN_PORT="+port, "KINESIS_MOCK_TLS_PORT="+tlsPort,
		"CREATE_STREAM_DURATION=0ms", "DELETE_STREAM_DURATION=0ms", "REGISTER_STREAM_CONSUMER_DURATION=0ms",
		"LOG_LEVEL=WARN", "SHOULD_PERSIST_DATA=false")
	cmd.Env = append(cmd.Env, env...)
	srv, err := startServer("kinesis-mock", addr, cmd, tcpReady(addr), nil)
	if srv != nil {
		srv.kill = true
	}
	return srv, err
}

// kinesaliteScript starts kinesalite in memory on 127.0.0.1 (its CLI binds
// every interface), with streams ACTIVE at once.
const kinesaliteScript = `const k = require(process.argv[2]);
k({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100})
  .listen(Number(process.argv[3]), '127.0.0.1', () => console.log('listening'));
`

func startKinesalite(mod, root string) (*server, error) {
	script := filepath.Join(root, "kinesalite.js")
	if err := os.WriteFile(script, []byte(kinesaliteScript), 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	srv, err := startServer("kinesalite", addr, exec.Command("node", script, mod, port), tcpReady(addr), nil)
	if srv != nil {
		srv.kill = true
	}
	return srv, err
}

// startDiscard starts this program's discard-server subcommand.
func startDiscard() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// SIGKILL: this program's signal handler would swallow SIGTERM.
	srv, err := startServer("discard", addr, exec.Command(self, "discard-server", "--addr", addr), tcpReady(addr), nil)
	if srv != nil {
		srv.kill = true
	}
	return srv, err
}

// runDir creates the run directory of suite under dir (default $TMPDIR),
// which the caller removes, and describes the machine and dir's file
// system.
func runDir(dir, suite string) (string, machine.Info, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", machine.Info{}, err
	}
	info := machine.Describe(dir)
	root, err := os.MkdirTemp(dir, "sluice-bench-"+suite+"-")
	if err != nil {
		return "", machine.Info{}, fmt.Errorf("cannot create run directory: %w", err)
	}
	return root, info, nil
}

// publish prints a suite's section body and, unless out is "-" or empty,
// draws its chart (chart may be nil; a chart that fails is logged and left
// out) and writes the section into the results file out.
func publish(out, section, body string, chart func() (string, error)) error {
	if out != "-" && out != "" && chart != nil {
		if link, err := chart(); err != nil {
			logf("no %s chart: %v", section, err)
		} else {
			body += link
		}
	}
	fmt.Print(body)
	if out == "-" || out == "" {
		return nil
	}
	if err := report.WriteSection(out, resultsTitle, section, body); err != nil {
		return err
	}
	logf("wrote section %q of %s", section, out)
	return nil
}
