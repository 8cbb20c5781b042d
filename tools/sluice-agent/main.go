package main

import (
	"context"
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
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/sluicehq/sluice/client/sluicetcp"
	"github.com/sluicehq/sluice/internal/sdkhttp"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line.
type options struct {
	stream, endpoint, protocol, checkpoint, partitionKey string
	region, accessKey, secretKey, metricsAddr            string
	files                                                multiFlag
	batchLines, batchBytes                               int
	settle, skew, rotateWait, progress, scanInterval     time.Duration
	timeout                                              time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("sluice-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.stream, "stream", "", "stream to put the lines to (required)")
	fs.Var(&o.files, "files", "glob of files to ship (repeatable; required)")
	fs.StringVar(&o.endpoint, "endpoint", "", "kinesis: the API's URL (default: AWS's for --region); tcp: HOST:PORT of the binary protocol (default 127.0.0.1:4568)")
	fs.StringVar(&o.protocol, "protocol", "kinesis", "kinesis (PutRecords over HTTP) or tcp (sluice's binary protocol)")
	fs.StringVar(&o.checkpoint, "checkpoint", "sluice-agent.checkpoint", "checkpoint file (offsets, in-doubt batch)")
	fs.StringVar(&o.partitionKey, "partition-key", "file", "file (the file's path: its lines stay in order on one shard) or line (a hash of the line)")
	fs.StringVar(&o.region, "region", "us-east-1", "AWS region (kinesis)")
	fs.StringVar(&o.accessKey, "access-key", "", "access key id (kinesis: else the AWS default chain, or a dummy with --endpoint; tcp: for --auth servers)")
	fs.StringVar(&o.secretKey, "secret-key", "", "secret access key, with --access-key")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on HOST:PORT/metrics")
	fs.IntVar(&o.batchLines, "batch-lines", 0, "most lines per batch (default: kinesis 500, its most; tcp 5000)")
	fs.IntVar(&o.batchBytes, "batch-bytes", 1<<20, "most bytes of lines per batch")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "kinesis: wait this long after the last send of an in-doubt batch before checking what landed")
	fs.DurationVar(&o.skew, "clock-skew", 5*time.Minute, "kinesis: assumed bound on the clock difference to the server (recovery reads back from the batch's time minus this)")
	fs.DurationVar(&o.rotateWait, "rotate-wait", time.Second, "keep reading a rotated file this long after it was moved away")
	fs.DurationVar(&o.progress, "progress", 10*time.Second, "progress line on stderr every interval (0: none)")
	fs.DurationVar(&o.scanInterval, "scan-interval", 250*time.Millisecond, "how often the globs are matched again")
	fs.DurationVar(&o.timeout, "request-timeout", 30*time.Second, "timeout of one request")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.batchLines == 0 {
		o.batchLines = 500
		if o.protocol == "tcp" {
			o.batchLines = 5000
		}
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.stream == "":
		return nil, errors.New("--stream is required")
	case len(o.files) == 0:
		return nil, errors.New("--files is required")
	case o.protocol != "kinesis" && o.protocol != "tcp":
		return nil, fmt.Errorf("--protocol %q: want kinesis or tcp", o.protocol)
	case o.partitionKey != "file" && o.partitionKey != "line":
		return nil, fmt.Errorf("--partition-key %q: want file or line", o.partitionKey)
	case o.batchLines < 1 || (o.protocol == "kinesis" && o.batchLines > 500) || o.batchLines > 10000:
		return nil, fmt.Errorf("--batch-lines %d: want 1 to 500 for kinesis (PutRecords takes at most 500 records), 1 to 10000 for tcp", o.batchLines)
	case o.batchBytes < 1024 || o.batchBytes > 4<<20:
		return nil, fmt.Errorf("--batch-bytes %d: want 1024 to %d", o.batchBytes, 4<<20)
	}
	for _, g := range o.files {
		if _, err := filepath.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--files %q: %v", g, err)
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "sluice-agent: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	m := newAgentMetrics()
	cfg := agentConfig{
		Tail:         tailConfig{Globs: o.files, RotateWait: o.rotateWait},
		Checkpoint:   o.checkpoint,
		Protocol:     o.protocol,
		PartitionKey: o.partitionKey,
		BatchLines:   o.batchLines,
		BatchBytes:   o.batchBytes,
		ScanInterval: o.scanInterval,
	}
	mk := func(ck *checkpoint) (sender, error) {
		if o.protocol == "tcp" {
			addr := o.endpoint
			if addr == "" {
				addr = "127.0.0.1:4568"
			}
			return newTCPSender(sluicetcp.Config{
				Addr: addr, AccessKeyID: o.accessKey, SecretKey: o.secretKey,
				RequestTimeout: o.timeout, ProducerID: ck.ProducerID, FirstBatchID: ck.NextBatch,
				ClientName: "sluice-agent",
			}, o.stream, 50*time.Millisecond, log, m)
		}
		client, err := kinesisClient(ctx, o)
		if err != nil {
			return nil, err
		}
		k := &kinesisSender{client: client, stream: o.stream, producer: producerHex(ck.ProducerID),
			settle: o.settle, skew: o.skew, backoff: 50 * time.Millisecond, log: log, m: m,
			next: ck.NextBatch, tailMap: map[string]string{}, lastSend: time.Now(), scanLimit: 10000}
		for _, t := range ck.Tails {
			k.tailMap[t.Shard] = t.Seq
		}
		return k, nil
	}
	a, err := openAgent(cfg, log, m, mk)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFailed
	}
	var wg sync.WaitGroup
	stopAux := make(chan struct{})
	if o.metricsAddr != "" {
		ln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			log.Error("cannot listen on --metrics-addr", "addr", o.metricsAddr, "err", err)
			return exitFailed
		}
		srv := &http.Server{Handler: metricsHandler(m, a.tl), ReadHeaderTimeout: 5 * time.Second}
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(ln) }()
		defer srv.Close()
		log.Info("metrics", "addr", ln.Addr().String())
	}
	if o.progress > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); progressLoop(stderr, o.progress, m, a.tl, stopAux) }()
	}
	err = a.run(ctx)
	close(stopAux)
	if err != nil {
		log.Error("stopped", "err", err)
		return exitFailed
	}
	log.Info("stopped")
	return exitOK
}

// kinesisClient makes the SDK client. The SDK's own retries are off: a
// retried PutRecords whose first attempt was applied would write twice;
// the agent retries itself, failed entries only, and checks in-doubt
// requests first.
func kinesisClient(ctx context.Context, o *options) (*kinesis.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.region)}
	switch {
	case o.accessKey != "":
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.accessKey, o.secretKey, "")))
	case o.endpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "":
		// A local sluice without --auth accepts any signature.
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("sluice-agent", "sluice-agent", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot load the AWS configuration: %w", err)
	}
	hc := awshttp.NewBuildableClient().WithTimeout(o.timeout)
	return kinesis.NewFromConfig(cfg, func(ko *kinesis.Options) {
		ko.Retryer = aws.NopRetryer{}
		// internal/sdkhttp: smithy-go's request body can make net/http close
		// the connection under a large GetRecords answer (the in-doubt scan).
		ko.HTTPClient = sdkhttp.New(hc)
		if o.endpoint != "" {
			ko.BaseEndpoint = aws.String(o.endpoint)
		}
	}), nil
}

func metricsHandler(m *agentMetrics, tl *tailer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		m.set.WritePrometheus(w)
		lag := tl.lag()
		keys := make([]string, 0, len(lag))
		for k := range lag {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			metrics.WriteGaugeUint64(w, fmt.Sprintf("sluice_agent_file_lag_bytes{file=%q}", k), uint64(lag[k]))
		}
		metrics.WriteProcessMetrics(w)
	})
}

// progressLoop prints one line per interval: lines/s, bytes/s, totals and
// the unshipped bytes (lag) per file.
func progressLoop(w io.Writer, every time.Duration, m *agentMetrics, tl *tailer, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	prevLines, prevBytes, prev := m.lines.Get(), m.bytes.Get(), time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			lines, bytes := m.lines.Get(), m.bytes.Get()
			secs := now.Sub(prev).Seconds()
			var lag []string
			l := tl.lag()
			for k, v := range l {
				lag = append(lag, fmt.Sprintf("%s=%d", k, v))
			}
			slices.Sort(lag)
			fmt.Fprintf(w, "sluice-agent: %.0f lines/s %.0f B/s, total %d lines %d B, lag bytes: %s\n",
				float64(lines-prevLines)/secs, float64(bytes-prevBytes)/secs, lines, bytes, strings.Join(lag, " "))
			prevLines, prevBytes, prev = lines, bytes, now
		}
	}
}
