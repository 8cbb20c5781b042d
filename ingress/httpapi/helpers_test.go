package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/sluicehq/sluice/internal/sdkhttp"
	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openManager opens a Manager on a temporary directory with small segment
// files that still take 1 MiB records (default MaxRecordBytes).
func openManager(t testing.TB) *stream.Manager {
	t.Helper()
	m, err := stream.Open(stream.Config{
		DataDir:    t.TempDir(),
		Durability: segment.Async,
		Segment: segment.Config{
			FragmentBytes:  4 << 20,
			MaxStripeBytes: 64 << 10,
			Logger:         discardLogger(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// startServer serves a new Server on ln until the test ends.
func startServer(t *testing.T, ln net.Listener, cfg Config) *Server {
	t.Helper()
	if cfg.Manager == nil {
		cfg.Manager = openManager(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// sdkTestClient returns an aws-sdk-go-v2 Kinesis client for endpoint with
// fixed credentials, no retries and no shared config files, through
// internal/sdkhttp (smithy-go can lose the connection under a large
// GetRecords response otherwise).
func sdkTestClient(ctx context.Context, t testing.TB, endpoint string) *kinesis.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
		config.WithRetryMaxAttempts(1),
		config.WithSharedConfigProfile(""),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New(nil)
	})
}
