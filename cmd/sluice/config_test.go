package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// envMap returns a getenv func reading from m, so tests never touch the
// process environment.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestCmdConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(nil, envMap(nil), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := Config{
		DataDir:    "./data",
		APIAddr:    "127.0.0.1:4567",
		TCPAddr:    "127.0.0.1:4568",
		Durability: "fsync",
		AccountID:  "000000000000",
		Region:     "us-east-1",
		LogLevel:   slog.LevelInfo,
	}
	if cfg != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestCmdConfigEnv(t *testing.T) {
	env := map[string]string{
		"SLUICE_DATA_DIR":   "/var/lib/sluice",
		"SLUICE_API_ADDR":   "0.0.0.0:9000",
		"SLUICE_TCP_ADDR":   ":9001",
		"SLUICE_DURABILITY": "async",
		"SLUICE_ACCOUNT_ID": "123456789012",
		"SLUICE_REGION":     "eu-west-2",
		"SLUICE_LOG_LEVEL":  "debug",
		"SLUICE_TLS_CERT":   "/etc/sluice/cert.pem",
		"SLUICE_TLS_KEY":    "/etc/sluice/key.pem",
	}
	cfg, err := loadConfig(nil, envMap(env), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := Config{
		DataDir:    "/var/lib/sluice",
		APIAddr:    "0.0.0.0:9000",
		TCPAddr:    ":9001",
		Durability: "async",
		AccountID:  "123456789012",
		Region:     "eu-west-2",
		LogLevel:   slog.LevelDebug,
		TLSCert:    "/etc/sluice/cert.pem",
		TLSKey:     "/etc/sluice/key.pem",
	}
	if cfg != want {
		t.Fatalf("from env:\n got %+v\nwant %+v", cfg, want)
	}

	// An empty variable counts as unset.
	cfg, err = loadConfig(nil, envMap(map[string]string{"SLUICE_REGION": ""}), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig with empty SLUICE_REGION: %v", err)
	}
	if cfg.Region != "us-east-1" {
		t.Fatalf("empty SLUICE_REGION: got region %q, want the default us-east-1", cfg.Region)
	}
}

func TestCmdConfigFlagOverEnv(t *testing.T) {
	env := map[string]string{
		"SLUICE_DATA_DIR":   "/from/env",
		"SLUICE_API_ADDR":   "127.0.0.1:1",
		"SLUICE_TCP_ADDR":   "127.0.0.1:2",
		"SLUICE_DURABILITY": "bogus", // overridden by the flag, so never checked
		"SLUICE_ACCOUNT_ID": "111111111111",
		"SLUICE_REGION":     "ap-south-1",
		"SLUICE_LOG_LEVEL":  "error",
		"SLUICE_TLS_CERT":   "/env/cert.pem",
		"SLUICE_TLS_KEY":    "/env/key.pem",
	}
	args := []string{
		"--data-dir", "/from/flag",
		"--api-addr=127.0.0.1:0",
		"-tcp-addr", "[::1]:4568",
		"--durability", "async",
		"--account-id", "222222222222",
		"--region", "us-gov-west-1",
		"--log-level", "WARN",
		"--tls-cert", "/flag/cert.pem",
	}
	cfg, err := loadConfig(args, envMap(env), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	want := Config{
		DataDir:    "/from/flag",
		APIAddr:    "127.0.0.1:0",
		TCPAddr:    "[::1]:4568",
		Durability: "async",
		AccountID:  "222222222222",
		Region:     "us-gov-west-1",
		LogLevel:   slog.LevelWarn,
		TLSCert:    "/flag/cert.pem",
		TLSKey:     "/env/key.pem",
	}
	if cfg != want {
		t.Fatalf("flags over env:\n got %+v\nwant %+v", cfg, want)
	}

	// A flag that is not given leaves the env value in place.
	cfg, err = loadConfig([]string{"--region", "eu-north-1"}, envMap(map[string]string{"SLUICE_DURABILITY": "async"}), io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Durability != "async" || cfg.Region != "eu-north-1" {
		t.Fatalf("mixed sources: got durability %q region %q, want async eu-north-1", cfg.Durability, cfg.Region)
	}
}

// checkConfigError asserts that loadConfig fails and that the message
// contains every one of wants.
func checkConfigError(t *testing.T, args []string, env map[string]string, wants ...string) {
	t.Helper()
	_, err := loadConfig(args, envMap(env), io.Discard)
	if err == nil {
		t.Fatalf("loadConfig(%q, %v) succeeded, want an error", args, env)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("loadConfig(%q, %v) error %q does not contain %q", args, env, err, w)
		}
	}
}

func TestCmdConfigBadDurability(t *testing.T) {
	checkConfigError(t, []string{"--durability", "sometimes"}, nil, `"sometimes"`, "--durability", "fsync or async")
	checkConfigError(t, nil, map[string]string{"SLUICE_DURABILITY": "FSYNC"}, `"FSYNC"`, "SLUICE_DURABILITY", "fsync or async")
}

func TestCmdConfigBadAccountID(t *testing.T) {
	f := func(id string) {
		t.Helper()
		checkConfigError(t, []string{"--account-id", id}, nil, "account id", "--account-id", "12 digits")
	}
	f("12345678901")   // 11 digits
	f("1234567890123") // 13 digits
	f("12345678901a")
	f("-12345678901")
	f("１２３４５６７８９０１２") // full-width digits
	checkConfigError(t, nil, map[string]string{"SLUICE_ACCOUNT_ID": "abc"}, `"abc"`, "SLUICE_ACCOUNT_ID")
}

func TestCmdConfigInvalid(t *testing.T) {
	f := func(args []string, env map[string]string, wants ...string) {
		t.Helper()
		checkConfigError(t, args, env, wants...)
	}
	f([]string{"--api-addr", "localhost"}, nil, "--api-addr", "host:port")
	f([]string{"--api-addr", "127.0.0.1:99999"}, nil, "--api-addr", "port")
	f(nil, map[string]string{"SLUICE_TCP_ADDR": "127.0.0.1:http"}, "SLUICE_TCP_ADDR", "port")
	f([]string{"--data-dir", ""}, nil, "--data-dir")
	f([]string{"--region", "US East"}, nil, "--region", "us-east-1")
	f([]string{"--region", "us-east-1-"}, nil, "--region")
	f([]string{"--log-level", "loud"}, nil, "--log-level", "debug, info, warn or error")
	f([]string{"--log-level", "info+2"}, nil, "--log-level")
	f([]string{"--no-such-flag"}, nil, "no-such-flag", "--help")
	f([]string{"extra"}, nil, `"extra"`)
	f([]string{"--tls-cert", "c.pem"}, nil, "--tls-cert", "--tls-key")
	f(nil, map[string]string{"SLUICE_TLS_KEY": "k.pem"}, "SLUICE_TLS_KEY", "--tls-cert")
}

func TestCmdConfigHelp(t *testing.T) {
	var out strings.Builder
	_, err := loadConfig([]string{"--help"}, envMap(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: got error %v, want flag.ErrHelp", err)
	}
	for _, o := range options {
		if !strings.Contains(out.String(), "-"+o.flag) || !strings.Contains(out.String(), o.env) {
			t.Fatalf("--help output does not mention -%s and %s:\n%s", o.flag, o.env, out.String())
		}
	}
}
