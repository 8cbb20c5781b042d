package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/sys/unix"

	"github.com/sluicehq/sluice/fanout"
	"github.com/sluicehq/sluice/ingress/httpapi"
	"github.com/sluicehq/sluice/ingress/tcp"
	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/sigv4"
)

const (
	// shutdownTimeout bounds how long a shutdown waits for in-flight
	// requests to finish before it closes their connections.
	shutdownTimeout = 10 * time.Second
	// lockFileName is the file in the data directory that a running
	// server holds an exclusive flock on.
	lockFileName = "LOCK"
)

// run is the whole program after argument and environment access: it returns
// the process exit code (0 clean stop or --help, 1 runtime failure, 2 bad
// configuration).
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := loadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	// Install the handler before anything else so that a signal during
	// startup still gets a clean shutdown. After the first signal the
	// default action is restored (stop), so a second Ctrl-C kills a
	// shutdown that hangs.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)

	if err := serve(ctx, cfg, log); err != nil {
		log.Error("sluice failed", "err", err)
		return 1
	}
	return 0
}

// serve runs the server until ctx is done or the API server fails, then
// shuts it down. It returns nil after a clean shutdown.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	durability, err := segment.ParseDurability(cfg.Durability)
	if err != nil {
		return errors.Join(err, lock.release())
	}
	// Recovery of every shard log happens here; /readyz turns 200 after it.
	verifier, err := newVerifier(cfg)
	if err != nil {
		return errors.Join(err, lock.release())
	}
	manager, err := stream.Open(stream.Config{
		DataDir:       cfg.DataDir,
		Durability:    durability,
		Region:        cfg.Region,
		AccountID:     cfg.AccountID,
		EmulateQuotas: cfg.EmulateQuotas,
		Limits:        stream.Limits{ShardLimit: cfg.ShardLimit},
		Segment:       segment.Config{FragmentBytes: fragmentBytes, InitialFragmentBytes: initialFragmentBytes, Logger: log},
	})
	if err != nil {
		return errors.Join(fmt.Errorf("cannot open the streams in %s: %w", cfg.DataDir, err), lock.release())
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return errors.Join(fmt.Errorf("cannot load the TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err),
				manager.Close(), lock.release())
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	// Enhanced fan-out: SubscribeToShard's event streams, read straight
	// from the shard logs (by default AWS's 5-minute lifetime and 5 s
	// heartbeat).
	fcfg := fanout.Config{Lifetime: cfg.SubscribeLifetime, Heartbeat: cfg.SubscribeHeartbeat, Logger: log}
	if cfg.EmulateQuotas {
		fcfg.CallInterval = time.Second // AWS: one SubscribeToShard call per second per consumer and shard
	}
	fan, err := fanout.New(manager, fcfg)
	if err != nil {
		return errors.Join(err, manager.Close(), lock.release())
	}
	var ready atomic.Bool
	api, err := httpapi.New(httpapi.Config{
		Manager: manager, Region: cfg.Region, AccountID: cfg.AccountID, Logger: log,
		Ops: newHandler(&ready), TLSConfig: tlsConfig, Verifier: verifier, Fanout: fan,
	})
	if err != nil {
		return errors.Join(err, fan.Close(), manager.Close(), lock.release())
	}
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return errors.Join(
			fmt.Errorf("cannot listen on --api-addr %s: %w; stop the process using it or choose another address", cfg.APIAddr, err),
			fan.Close(), manager.Close(), lock.release())
	}

	// The TCP ingest front end takes the same access keys as --auth: with
	// it, every connection must answer the HMAC challenge of one of them.
	var tcpKeys map[string]string
	if verifier != nil {
		if tcpKeys, err = cfg.authKeys(func(name string) string { return "--" + name }); err != nil {
			return errors.Join(err, ln.Close(), fan.Close(), manager.Close(), lock.release())
		}
	}
	ingest, err := tcp.New(tcp.Config{Store: manager, AccountID: cfg.AccountID, Credentials: tcpKeys, Logger: log})
	if err != nil {
		return errors.Join(err, ln.Close(), fan.Close(), manager.Close(), lock.release())
	}
	tcpErr := make(chan error, 1)
	go func() { tcpErr <- ingest.Serve(cfg.TCPAddr) }()
	if ingest.Addr() == nil {
		err := <-tcpErr
		return errors.Join(fmt.Errorf("cannot listen on --tcp-addr %s: %w; stop the process using it or choose another address", cfg.TCPAddr, err),
			ln.Close(), fan.Close(), manager.Close(), lock.release())
	}

	// The syslog and NDJSON listeners, each into its stream.
	lines, linesErr, err := startLineServers(cfg, manager, log)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		return errors.Join(err, ingest.Shutdown(ctx), <-tcpErr, ln.Close(), fan.Close(), manager.Close(), lock.release())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- api.Serve(ln) }()
	protocols := "HTTP/1.1, h2c"
	if tlsConfig != nil {
		protocols = "HTTP/1.1, h2c, TLS (h2, http/1.1)"
	}
	log.Info("listening", "api", ln.Addr().String(), "protocols", protocols)
	log.Info("listening", "tcp", ingest.Addr().String(), "protocols", "sluice binary v1 (wire/PROTOCOL.md)")

	ready.Store(true)
	log.Info("ready", "data_dir", cfg.DataDir, "durability", cfg.Durability,
		"region", cfg.Region, "account_id", cfg.AccountID, "auth", cfg.Auth, "emulate_quotas", cfg.EmulateQuotas)
	if !cfg.Auth && (cfg.AuthKeysFile != "" || cfg.AuthKeysEnv != "") {
		log.Warn("access keys are configured but --auth is off: any signature is accepted")
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", shutdownTimeout)
	case err := <-serveErr:
		runErr = fmt.Errorf("API server on %s failed: %w", ln.Addr(), err)
		serveErr = nil
	case err := <-tcpErr:
		runErr = fmt.Errorf("TCP ingest on %s stopped: %w", cfg.TCPAddr, err)
		tcpErr = nil
	case err := <-linesErr:
		runErr = err
	}
	ready.Store(false)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Both front ends drain at once: the HTTP requests and the TCP batches
	// in flight finish and are answered, then their connections close.
	tcpDone := make(chan error, 1)
	go func() { tcpDone <- ingest.Shutdown(shutdownCtx) }()
	if err := api.ShutdownContext(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("cannot drain in-flight requests within %s: %w", shutdownTimeout, err))
	}
	if err := shutdownLineServers(shutdownCtx, lines); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if err := <-tcpDone; err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("cannot drain the TCP ingest connections within %s: %w", shutdownTimeout, err))
	}
	if serveErr != nil && runErr == nil {
		<-serveErr // nil after Shutdown: the Serve goroutine has ended.
	}
	if tcpErr != nil {
		if err := <-tcpErr; err != nil { // Serve returned after Shutdown
			runErr = errors.Join(runErr, err)
		}
	}
	// The API's shutdown has ended the subscriptions (it closes fan);
	// closing it again is harmless and keeps the order explicit: no
	// subscription reads a shard log once the Manager closes them.
	if err := fan.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	// The shard logs are closed (synced, marked clean) once no request uses
	// them any more.
	if err := manager.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("cannot close the streams: %w", err))
	}
	if err := lock.release(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return nil
}

// dirLock is an exclusive flock on DATA_DIR/LOCK. It keeps a second server
// from opening the same files; the kernel drops it when the process dies,
// so a crash never leaves a stale lock behind.
type dirLock struct {
	file *os.File
	dir  string
}

// lockDataDir creates dir (0o755) if needed and takes the lock. The lock
// file is never removed: removing it would let a second server lock a new
// file while the first still holds the old one.
func lockDataDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory %q: %w", dir, err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open lock file %q: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := ""
		if b, rerr := io.ReadAll(io.LimitReader(f, 32)); rerr == nil {
			if pid := string(bytes.TrimSpace(b)); pid != "" {
				holder = " by pid " + pid
			}
		}
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %q is locked%s (%s): another sluice server is using it; stop it or choose another --data-dir", dir, holder, path)
		}
		return nil, fmt.Errorf("cannot lock %q: %w", path, err)
	}
	// The pid is only for the operator reading the error above; the flock,
	// not the content, is what excludes other servers.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{file: f, dir: dir}, nil
}

// release drops the lock. Closing the descriptor would drop it too; the
// explicit unlock makes the order visible.
func (l *dirLock) release() error {
	err := unix.Flock(int(l.file.Fd()), unix.LOCK_UN)
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot release lock on data directory %q: %w", l.dir, err)
	}
	return nil
}

// fragmentBytes is the preallocated size of each of a shard's 6 fragment
// files once its log is busy: 16 MiB holds records up to the 10 MiB
// maximum. initialFragmentBytes is the size of a shard's first segment
// (each later one doubles): a new or idle shard reserves 6 MiB of disk, not
// 96 MiB, so that a thousand shards fit on a small disk.
const (
	fragmentBytes        = 16 << 20
	initialFragmentBytes = 1 << 20
)

// newHandler serves the operational endpoints. ready reports whether the
// server has finished starting and is not shutting down.
func newHandler(ready *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/healthz", getOnly(func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	}))
	mux.Handle("/readyz", getOnly(func(w http.ResponseWriter, _ *http.Request) {
		if ready.Load() {
			writeText(w, http.StatusOK, "ready")
			return
		}
		writeText(w, http.StatusServiceUnavailable, "not ready")
	}))
	mux.Handle("/metrics", getOnly(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		metrics.WritePrometheus(w, true /* exposeProcessMetrics */)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not found", r.URL.Path)
	})
	return mux
}

// getOnly answers methods other than GET and HEAD with 405.
func getOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSONError(w, http.StatusMethodNotAllowed, "method not allowed", r.URL.Path)
			return
		}
		h(w, r)
	})
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeJSONError(w http.ResponseWriter, status int, msg, path string) {
	body, err := json.Marshal(struct {
		Error string `json:"error"`
		Path  string `json:"path"`
	}{msg, path})
	if err != nil {
		panic("BUG: cannot marshal error body: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// newVerifier returns the SigV4 verifier of --auth (nil without it): the
// configured access keys, the signing name "kinesis" and only --region in
// credential scopes, as a regional AWS endpoint checks them.
func newVerifier(cfg Config) (*sigv4.Verifier, error) {
	if !cfg.Auth {
		return nil, nil
	}
	keys, err := cfg.authKeys(func(name string) string { return "--" + name })
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("--auth is on but no access key is configured: give --auth-keys FILE (lines AKID:SECRET) or set %s=AKID:SECRET", authKeysEnv)
	}
	region := cfg.Region
	return sigv4.NewVerifier(sigv4.Config{
		Credentials: sigv4.StaticCredentials(keys),
		Service:     "kinesis",
		// [unsure] whether Kinesis accepts UNSIGNED-PAYLOAD; some SDK
		// signers send it on HTTPS, and the headers stay signed.
		AllowUnsignedPayload: true,
		ValidRegion:          func(r string) bool { return r == region },
	})
}

// lineListener is one running syslog or NDJSON listener.
type lineListener struct {
	srv   *tcp.LineServer
	route Route
	done  chan error // Serve's result
}

// startLineServers starts the listeners of --syslog-addr and --ndjson-addr
// and logs their addresses. A listener that stops early is reported on the
// returned channel. On error, the ones already started are shut down.
func startLineServers(cfg Config, store tcp.Store, log *slog.Logger) ([]*lineListener, <-chan error, error) {
	failed := make(chan error, len(cfg.SyslogRoutes)+len(cfg.NDJSONRoutes))
	var started []*lineListener
	for _, g := range []struct {
		flag   string
		format tcp.Format
		routes []Route
	}{{"syslog-addr", tcp.FormatSyslog, cfg.SyslogRoutes}, {"ndjson-addr", tcp.FormatNDJSON, cfg.NDJSONRoutes}} {
		for _, r := range g.routes {
			srv, err := tcp.NewLine(tcp.LineConfig{Store: store, Stream: r.Stream, Format: g.format, KeyField: cfg.NDJSONKeyField, Logger: log})
			if err != nil {
				return nil, nil, errors.Join(err, shutdownLineServers(context.Background(), started))
			}
			l := &lineListener{srv: srv, route: r, done: make(chan error, 1)}
			go func() {
				err := srv.Serve(r.Addr)
				l.done <- err
				if err != nil {
					failed <- fmt.Errorf("%s listener on %s stopped: %w", g.format, r.Addr, err)
				}
			}()
			if srv.Addr() == nil {
				err := <-l.done
				return nil, nil, errors.Join(fmt.Errorf("cannot listen on --%s %s: %w; stop the process using it or choose another address", g.flag, r.Addr, err),
					shutdownLineServers(context.Background(), started))
			}
			started = append(started, l)
			log.Info("listening", g.format.String(), srv.Addr().String(), "stream", r.Stream)
		}
	}
	return started, failed, nil
}

// shutdownLineServers stops the listeners; messages already read are
// written first.
func shutdownLineServers(ctx context.Context, ls []*lineListener) error {
	var err error
	for _, l := range ls {
		if e := l.srv.Shutdown(ctx); e != nil {
			err = errors.Join(err, fmt.Errorf("cannot drain the %s listener on %s within %s: %w", "line", l.route.Addr, shutdownTimeout, e))
		}
		select {
		case <-l.done:
		default:
		}
	}
	return err
}
