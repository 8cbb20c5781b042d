package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files and returns their paths and a pool that trusts it.
func writeTestCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sluice test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool
}

// TestCmdServeTransports runs serve with --tls-cert/--tls-key and reaches
// the ops endpoints and the Kinesis API on the one port over HTTP/1.1, h2c
// prior knowledge, TLS with ALPN h2 and TLS with HTTP/1.1.
func TestCmdServeTransports(t *testing.T) {
	certFile, keyFile, pool := writeTestCert(t)
	cfg := Config{
		DataDir: filepath.Join(t.TempDir(), "data"), APIAddr: freeAddr(t), TCPAddr: freeAddr(t),
		Durability: durabilityAsync, AccountID: "000000000000", Region: "us-east-1",
		TLSCert: certFile, TLSKey: keyFile,
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil))) }()

	client := func(scheme string, p func(*http.Protocols)) *http.Client {
		var protos http.Protocols
		p(&protos)
		tr := &http.Transport{Protocols: &protos}
		if scheme == "https" {
			tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		}
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	clients := []struct {
		name, scheme, proto string
		c                   *http.Client
	}{
		{"http1.1", "http", "HTTP/1.1", client("http", func(p *http.Protocols) { p.SetHTTP1(true) })},
		{"h2c", "http", "HTTP/2.0", client("http", func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) })},
		{"tls h2", "https", "HTTP/2.0", client("https", func(p *http.Protocols) { p.SetHTTP2(true) })},
		{"tls http1.1", "https", "HTTP/1.1", client("https", func(p *http.Protocols) { p.SetHTTP1(true) })},
	}
	defer func() {
		for _, c := range clients {
			c.c.CloseIdleConnections()
		}
	}()

	// Wait for /readyz over TLS h2, at most 20 s.
	for i := 0; ; i++ {
		resp, err := clients[2].c.Get("https://" + cfg.APIAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-served:
			t.Fatalf("serve ended during startup: %v; log:\n%s", err, logs)
		default:
		}
		if i == 400 {
			t.Fatalf("/readyz not 200 within 20 s (%v); log:\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range clients {
		resp, err := c.c.Get(c.scheme + "://" + cfg.APIAddr + "/healthz")
		if err != nil {
			t.Fatalf("%s /healthz: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" || resp.Proto != c.proto {
			t.Fatalf("%s /healthz: %s %d %q", c.name, resp.Proto, resp.StatusCode, body)
		}
		req, _ := http.NewRequest(http.MethodPost, c.scheme+"://"+cfg.APIAddr+"/", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		resp, err = c.c.Do(req)
		if err != nil {
			t.Fatalf("%s ListStreams: %v", c.name, err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"StreamNames":[]`) || resp.Proto != c.proto {
			t.Fatalf("%s ListStreams: %s %d %q", c.name, resp.Proto, resp.StatusCode, body)
		}
	}
	if log := logs.String(); !strings.Contains(log, "msg=listening api="+cfg.APIAddr) || !strings.Contains(log, "TLS (h2, http/1.1)") {
		t.Fatalf("listening line does not name TLS:\n%s", log)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v; log:\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30 s; log:\n%s", logs)
	}
}

func TestCmdServeBadTLSFiles(t *testing.T) {
	certFile, _, _ := writeTestCert(t)
	cfg := Config{
		DataDir: filepath.Join(t.TempDir(), "data"), APIAddr: freeAddr(t), TCPAddr: freeAddr(t),
		Durability: durabilityAsync, AccountID: "000000000000", Region: "us-east-1",
		TLSCert: certFile, TLSKey: filepath.Join(t.TempDir(), "missing.pem"),
	}
	err := serve(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "cannot load the TLS certificate") || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("serve with a missing key: %v", err)
	}
	// The data dir lock was released.
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.release(); err != nil {
		t.Fatal(err)
	}
}
