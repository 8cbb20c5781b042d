package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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

		SubscribeHeartbeat: 5 * time.Second,
		SubscribeLifetime:  5 * time.Minute,
	}
	if !reflect.DeepEqual(cfg, want) {
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

		"SLUICE_SUBSCRIBE_HEARTBEAT": "250ms",
		"SLUICE_SUBSCRIBE_LIFETIME":  "1m30s",
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

		SubscribeHeartbeat: 250 * time.Millisecond,
		SubscribeLifetime:  90 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
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

		"SLUICE_SUBSCRIBE_HEARTBEAT": "1s",
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
		"--subscribe-heartbeat", "2s",
		"--subscribe-lifetime=10s",
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

		SubscribeHeartbeat: 2 * time.Second,
		SubscribeLifetime:  10 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
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
	f([]string{"--subscribe-heartbeat", "5"}, nil, `"5"`, "--subscribe-heartbeat", "Go duration")
	f(nil, map[string]string{"SLUICE_SUBSCRIBE_LIFETIME": "0s"}, "SLUICE_SUBSCRIBE_LIFETIME", "positive")
	f([]string{"--subscribe-heartbeat=-1s"}, nil, "--subscribe-heartbeat", "positive")
	f([]string{"--shard-limit", "-1"}, nil, `"-1"`, "--shard-limit", "whole number")
	f(nil, map[string]string{"SLUICE_SHARD_LIMIT": "many"}, "SLUICE_SHARD_LIMIT", "whole number")
	f([]string{"--shard-limit", "100001"}, nil, "--shard-limit", "100000")
}

// TestCmdConfigShardLimit: --shard-limit and SLUICE_SHARD_LIMIT set the
// account shard limit, 0 (the default) leaves AWS's for the region.
func TestCmdConfigShardLimit(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
	}{
		{nil, nil, 0},
		{[]string{"--shard-limit", "2000"}, nil, 2000},
		{nil, map[string]string{"SLUICE_SHARD_LIMIT": "700"}, 700},
		{[]string{"--shard-limit=10"}, map[string]string{"SLUICE_SHARD_LIMIT": "700"}, 10},
	} {
		cfg, err := loadConfig(tc.args, envMap(tc.env), io.Discard)
		if err != nil || cfg.ShardLimit != tc.want {
			t.Fatalf("loadConfig(%q, %v): ShardLimit %d, %v; want %d", tc.args, tc.env, cfg.ShardLimit, err, tc.want)
		}
	}
}

func TestCmdConfigHelp(t *testing.T) {
	var out strings.Builder
	_, err := loadConfig([]string{"--help"}, envMap(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: got error %v, want flag.ErrHelp", err)
	}
	for _, o := range append(options[:len(options):len(options)], routeOptions...) {
		if !strings.Contains(out.String(), "-"+o.flag) || !strings.Contains(out.String(), o.env) {
			t.Fatalf("--help output does not mention -%s and %s:\n%s", o.flag, o.env, out.String())
		}
	}
}

func TestCmdConfigAuth(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte("# test keys\nAKIDONE:secret1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "credentials")
	if err := os.WriteFile(ini, []byte("[default]\naws_access_key_id = AKIDINI\naws_secret_access_key = secretini\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(args []string, env map[string]string) (Config, map[string]string) {
		t.Helper()
		cfg, err := loadConfig(args, envMap(env), io.Discard)
		if err != nil {
			t.Fatalf("loadConfig(%q, %v): %v", args, env, err)
		}
		got, err := cfg.authKeys(func(n string) string { return "--" + n })
		if err != nil {
			t.Fatal(err)
		}
		return cfg, got
	}
	cfg, got := load([]string{"--auth", "--auth-keys", keys}, nil)
	if !cfg.Auth || cfg.AuthKeysFile != keys || len(got) != 1 || got["AKIDONE"] != "secret1" {
		t.Fatalf("--auth --auth-keys: %+v %v", cfg, got)
	}
	cfg, got = load([]string{"--auth-keys", ini}, map[string]string{"SLUICE_AUTH": "true", "SLUICE_AUTH_KEYS": "AKIDENV:secretenv, AKID2:s2"})
	if !cfg.Auth || len(got) != 3 || got["AKIDINI"] != "secretini" || got["AKIDENV"] != "secretenv" || got["AKID2"] != "s2" {
		t.Fatalf("INI file plus env keys: %+v %v", cfg, got)
	}
	cfg, got = load(nil, map[string]string{"SLUICE_AUTH": "1", "SLUICE_AUTH_KEYS_FILE": keys})
	if !cfg.Auth || got["AKIDONE"] != "secret1" {
		t.Fatalf("env only: %+v %v", cfg, got)
	}
	// The flag wins over the variable, for a switch too.
	cfg, _ = load([]string{"--auth=false"}, map[string]string{"SLUICE_AUTH": "true"})
	if cfg.Auth {
		t.Fatal("--auth=false did not override SLUICE_AUTH=true")
	}
	cfg, _ = load(nil, nil)
	if cfg.Auth || cfg.EmulateQuotas {
		t.Fatalf("defaults: %+v", cfg)
	}

	// --auth without any key names the fix.
	checkConfigError(t, []string{"--auth"}, nil, "--auth", "no access key", "--auth-keys", "SLUICE_AUTH_KEYS")
	checkConfigError(t, nil, map[string]string{"SLUICE_AUTH": "true"}, "SLUICE_AUTH ", "no access key")
	checkConfigError(t, nil, map[string]string{"SLUICE_AUTH": "maybe"}, "SLUICE_AUTH", `"maybe"`, "true or false")
	checkConfigError(t, []string{"--auth", "--auth-keys", filepath.Join(dir, "missing")}, nil, "--auth-keys", "missing")
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("no separator here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkConfigError(t, []string{"--auth", "--auth-keys", bad}, nil, "--auth-keys", "line 1")
	checkConfigError(t, []string{"--auth"}, map[string]string{"SLUICE_AUTH_KEYS": "AKID"}, "SLUICE_AUTH_KEYS", "AKID:SECRET")
	checkConfigError(t, []string{"--auth", "--auth-keys", keys}, map[string]string{"SLUICE_AUTH_KEYS": "AKIDONE:other"}, "AKIDONE", "different secrets")
}

func TestCmdConfigEmulateQuotas(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"--emulate-quotas"}, nil, true},
		{nil, map[string]string{"SLUICE_EMULATE_QUOTAS": "true"}, true},
		{[]string{"--emulate-quotas=false"}, map[string]string{"SLUICE_EMULATE_QUOTAS": "true"}, false},
		{nil, nil, false},
	} {
		cfg, err := loadConfig(tc.args, envMap(tc.env), io.Discard)
		if err != nil || cfg.EmulateQuotas != tc.want {
			t.Fatalf("loadConfig(%q, %v): EmulateQuotas %v, %v; want %v", tc.args, tc.env, cfg.EmulateQuotas, err, tc.want)
		}
	}
	checkConfigError(t, nil, map[string]string{"SLUICE_EMULATE_QUOTAS": "yes"}, "SLUICE_EMULATE_QUOTAS", "true or false")
}

// TestCmdConfigRoutes: --syslog-addr and --ndjson-addr repeat, their
// variables hold comma-separated lists, a flag replaces the variable, and
// malformed routes name their source.
func TestCmdConfigRoutes(t *testing.T) {
	cfg, err := loadConfig([]string{"--syslog-addr", "127.0.0.1:5514=logs", "--syslog-addr=:5515=other.logs",
		"--ndjson-key-field", "user"},
		envMap(map[string]string{"SLUICE_SYSLOG_ADDR": "127.0.0.1:9999=ignored", "SLUICE_NDJSON_ADDR": "127.0.0.1:5170=events,127.0.0.1:5171=more"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantSyslog := []Route{{"127.0.0.1:5514", "logs"}, {":5515", "other.logs"}}
	wantNDJSON := []Route{{"127.0.0.1:5170", "events"}, {"127.0.0.1:5171", "more"}}
	if !reflect.DeepEqual(cfg.SyslogRoutes, wantSyslog) || !reflect.DeepEqual(cfg.NDJSONRoutes, wantNDJSON) || cfg.NDJSONKeyField != "user" {
		t.Fatalf("routes: syslog %v ndjson %v key %q", cfg.SyslogRoutes, cfg.NDJSONRoutes, cfg.NDJSONKeyField)
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--syslog-addr", "127.0.0.1:5514"}, nil, []string{"syslog-addr", "HOST:PORT=STREAM"}},
		{[]string{"--ndjson-addr", "127.0.0.1:5514=bad/name"}, nil, []string{"ndjson-addr", "stream name"}},
		{nil, map[string]string{"SLUICE_SYSLOG_ADDR": "nohost=logs"}, []string{"SLUICE_SYSLOG_ADDR", "host:port"}},
		{[]string{"--syslog-addr", "127.0.0.1:4568=logs"}, nil, []string{"--syslog-addr", "tcp-addr"}},
		{[]string{"--syslog-addr", "127.0.0.1:5514=a", "--ndjson-addr", "127.0.0.1:5514=b"}, nil, []string{"--ndjson-addr", "syslog-addr"}},
	} {
		_, err := loadConfig(c.args, envMap(c.env), io.Discard)
		if err == nil {
			t.Fatalf("%v %v: no error", c.args, c.env)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%v %v: error %q lacks %q", c.args, c.env, err, w)
			}
		}
	}
}
