package main

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// inProcess is serve running on a goroutine of the test process.
type inProcess struct {
	logs     *lockedBuffer
	served   chan error
	cancel   context.CancelFunc
	endpoint string       // http://API address
	hc       *http.Client // closed (idle connections) when the test ends
}

// startInProcess runs serve(cfg) and waits until /readyz answers 200,
// at most 20 s; serve ending first fails the test with its log.
func startInProcess(t *testing.T, cfg Config) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p := &inProcess{logs: &lockedBuffer{}, served: make(chan error, 1), cancel: cancel, endpoint: "http://" + cfg.APIAddr,
		hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}}
	t.Cleanup(p.hc.CloseIdleConnections)
	go func() { p.served <- serve(ctx, cfg, slog.New(slog.NewTextHandler(p.logs, nil))) }()
	for i := 0; ; i++ {
		resp, err := p.hc.Get(p.endpoint + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.served:
			t.Fatalf("serve ended during startup: %v; log:\n%s", err, p.logs)
		default:
		}
		if i == 400 {
			t.Fatalf("/readyz not 200 within 20 s; log:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop cancels serve and requires it to return nil within limit.
func (p *inProcess) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.served:
		if err != nil {
			t.Fatalf("serve: %v; log:\n%s", err, p.logs)
		}
	case <-time.After(limit):
		t.Fatalf("serve did not stop within %s; log:\n%s", limit, p.logs)
	}
}
