package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/wire/sigv4"
)

// Durability modes accepted by --durability. They match the names that
// segment.ParseDurability accepts, so the value can be handed down as is.
const (
	durabilityFsync = "fsync"
	durabilityAsync = "async"
)

// Config is the server's configuration, built from flags and SLUICE_*
// environment variables by loadConfig. A flag wins over its environment
// variable, which wins over the default.
type Config struct {
	// DataDir is the directory that holds all server state and the LOCK
	// file. Created (0o755) when missing. Flag --data-dir, env
	// SLUICE_DATA_DIR, default "./data".
	DataDir string
	// APIAddr is the host:port of the HTTP API, /healthz, /readyz and
	// /metrics. Port 0 picks a free port. Flag --api-addr, env
	// SLUICE_API_ADDR, default "127.0.0.1:4567".
	APIAddr string
	// TCPAddr is the host:port of the TCP ingest listener (ingress/tcp,
	// wire/PROTOCOL.md). Flag --tcp-addr, env
	// SLUICE_TCP_ADDR, default "127.0.0.1:4568".
	TCPAddr string
	// Durability is when appends are acknowledged: "fsync" (after the
	// stripe is synced to disk) or "async" (after the copy into the page
	// cache). Flag --durability, env SLUICE_DURABILITY, default "fsync".
	Durability string
	// AccountID is the 12-digit AWS account id used in ARNs. Flag
	// --account-id, env SLUICE_ACCOUNT_ID, default "000000000000".
	AccountID string
	// Region is the AWS region named in ARNs, messages and accepted in
	// SigV4 credential scopes. Flag --region, env SLUICE_REGION, default
	// "us-east-1".
	Region string
	// LogLevel is the minimum level logged: debug, info, warn or error.
	// Flag --log-level, env SLUICE_LOG_LEVEL, default info.
	LogLevel slog.Level
	// TLSCert and TLSKey are PEM files of a certificate (chain) and its
	// private key. When both are set, the API port also accepts TLS (ALPN
	// h2 and http/1.1) next to plain HTTP/1.1 and h2c; one without the
	// other is an error. Flags --tls-cert and --tls-key, env
	// SLUICE_TLS_CERT and SLUICE_TLS_KEY, default none.
	TLSCert, TLSKey string
	// Auth turns on SigV4 verification of every API request against the
	// keys of AuthKeysFile and AuthKeysEnv; without it any signature, or
	// none, is accepted. Flag --auth, env SLUICE_AUTH (true/false),
	// default false.
	Auth bool
	// AuthKeysFile names a file of access keys: "AKID:SECRET" lines or an
	// AWS shared-credentials INI file (sigv4.ParseCredentialsFile). Flag
	// --auth-keys, env SLUICE_AUTH_KEYS_FILE, default none.
	AuthKeysFile string
	// AuthKeysEnv is the value of SLUICE_AUTH_KEYS,
	// "AKID:SECRET,AKID2:SECRET2" (sigv4.ParseCredentialsEnv); its keys
	// are added to the file's. No flag (a secret on the command line shows
	// in ps).
	AuthKeysEnv string
	// EmulateQuotas enforces AWS's per-shard throughput quotas (1 MiB/s
	// and 1,000 records/s of writes, 5 GetRecords calls/s and 2 MiB/s of
	// reads): over them PutRecords fails entries and PutRecord and
	// GetRecords answer ProvisionedThroughputExceededException. Flag
	// --emulate-quotas, env SLUICE_EMULATE_QUOTAS, default false.
	EmulateQuotas bool
	// ShardLimit is the most open shards of all streams together
	// (AWS's account shard quota): CreateStream, SplitShard and
	// UpdateShardCount beyond it fail with LimitExceededException, and
	// DescribeLimits reports it. Flag --shard-limit, env
	// SLUICE_SHARD_LIMIT, default 0: AWS's default for the region (500 in
	// us-east-1, us-west-2 and eu-west-1, 200 elsewhere).
	ShardLimit int
	// SubscribeHeartbeat is the longest a SubscribeToShard event stream
	// stays without an event: an idle subscription gets an empty event
	// this often. Flag --subscribe-heartbeat, env
	// SLUICE_SUBSCRIBE_HEARTBEAT, default 5s (AWS's pace).
	SubscribeHeartbeat time.Duration
	// SubscribeLifetime is how long a SubscribeToShard subscription lives
	// before the server ends its stream (the client re-subscribes from the
	// last ContinuationSequenceNumber). Flag --subscribe-lifetime, env
	// SLUICE_SUBSCRIBE_LIFETIME, default 5m (AWS's).
	SubscribeLifetime time.Duration
	// SyslogRoutes are the syslog-over-TCP listeners (RFC 6587 octet
	// counting or LF framing, RFC 5424 or 3164 messages), each writing
	// into one stream with partition key "host/app". Flag --syslog-addr
	// HOST:PORT=STREAM (repeatable), env SLUICE_SYSLOG_ADDR (comma-
	// separated), default none.
	SyslogRoutes []Route
	// NDJSONRoutes are the NDJSON listeners (one JSON object per line),
	// each writing into one stream. Flag --ndjson-addr HOST:PORT=STREAM
	// (repeatable), env SLUICE_NDJSON_ADDR (comma-separated), default
	// none.
	NDJSONRoutes []Route
	// NDJSONKeyField names the top-level field of an NDJSON line whose
	// value is the partition key; empty, or missing from a line, the hex
	// FNV-1a hash of the line. Flag --ndjson-key-field, env
	// SLUICE_NDJSON_KEY_FIELD, default none.
	NDJSONKeyField string
}

// Route is a line listener's address and the stream it writes into.
type Route struct {
	Addr, Stream string
}

// routeList is a repeatable HOST:PORT=STREAM flag.
type routeList struct {
	routes []Route
	set    bool // given on the command line: replaces the environment's
}

func (r *routeList) String() string {
	var parts []string
	for _, x := range r.routes {
		parts = append(parts, x.Addr+"="+x.Stream)
	}
	return strings.Join(parts, ",")
}

func (r *routeList) Set(v string) error {
	if !r.set {
		r.routes, r.set = nil, true
	}
	for _, one := range strings.Split(v, ",") {
		route, err := parseRoute(one)
		if err != nil {
			return err
		}
		r.routes = append(r.routes, route)
	}
	return nil
}

// parseRoute parses HOST:PORT=STREAM.
func parseRoute(s string) (Route, error) {
	addr, name, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || name == "" {
		return Route{}, fmt.Errorf("%q: want HOST:PORT=STREAM", s)
	}
	if err := validateAddr(addr); err != nil {
		return Route{}, fmt.Errorf("%q: %w", s, err)
	}
	if !isStreamName(name) {
		return Route{}, fmt.Errorf("%q: the stream name must be 1 to 128 characters of a-z, A-Z, 0-9, _ . -", s)
	}
	return Route{Addr: addr, Stream: name}, nil
}

// isStreamName matches Kinesis stream names: [a-zA-Z0-9_.-]{1,128}.
func isStreamName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// authKeysEnv is the environment variable of Config.AuthKeysEnv.
const authKeysEnv = "SLUICE_AUTH_KEYS"

// option describes one configuration setting: its flag, its environment
// variable and its default. The table keeps the three in one place so that
// --help, the README and the code cannot drift apart.
type option struct {
	flag    string
	env     string
	def     string
	usage   string
	boolean bool // a switch: --flag alone means true
}

var options = []option{
	{"data-dir", "SLUICE_DATA_DIR", "./data", "directory for all server state (created if missing)", false},
	{"api-addr", "SLUICE_API_ADDR", "127.0.0.1:4567", "host:port of the HTTP API, /healthz, /readyz and /metrics", false},
	{"tcp-addr", "SLUICE_TCP_ADDR", "127.0.0.1:4568", "host:port of the TCP ingest listener", false},
	{"durability", "SLUICE_DURABILITY", durabilityFsync, "when appends are acknowledged: fsync or async", false},
	{"account-id", "SLUICE_ACCOUNT_ID", "000000000000", "12-digit AWS account id used in ARNs", false},
	{"region", "SLUICE_REGION", "us-east-1", "AWS region used in ARNs and SigV4 credential scopes", false},
	{"log-level", "SLUICE_LOG_LEVEL", "info", "minimum log level: debug, info, warn or error", false},
	{"tls-cert", "SLUICE_TLS_CERT", "", "PEM certificate file; with --tls-key the API port also accepts TLS", false},
	{"tls-key", "SLUICE_TLS_KEY", "", "PEM private key file of --tls-cert", false},
	{"auth", "SLUICE_AUTH", "false", "verify the SigV4 signature of every API request (keys from --auth-keys and " + authKeysEnv + ")", true},
	{"auth-keys", "SLUICE_AUTH_KEYS_FILE", "", "file of access keys for --auth: AKID:SECRET lines or an AWS credentials (INI) file", false},
	{"emulate-quotas", "SLUICE_EMULATE_QUOTAS", "false", "enforce AWS's per-shard throughput quotas (ProvisionedThroughputExceededException)", true},
	{"shard-limit", "SLUICE_SHARD_LIMIT", "0", "most open shards of all streams together (AWS's account quota); 0: AWS's default for the region", false},
	{"subscribe-heartbeat", "SLUICE_SUBSCRIBE_HEARTBEAT", "5s", "longest time a SubscribeToShard stream goes without an event (a Go duration)", false},
	{"subscribe-lifetime", "SLUICE_SUBSCRIBE_LIFETIME", "5m", "how long a SubscribeToShard subscription lives (a Go duration)", false},
	{"ndjson-key-field", "SLUICE_NDJSON_KEY_FIELD", "", "top-level field of an NDJSON line used as partition key (default: a hash of the line)", false},
}

// routeOptions are the repeatable HOST:PORT=STREAM listener flags; their
// variables hold comma-separated lists.
var routeOptions = []option{
	{"syslog-addr", "SLUICE_SYSLOG_ADDR", "", "HOST:PORT=STREAM: a syslog-over-TCP listener (RFC 6587, RFC 5424/3164) writing into STREAM; repeatable", false},
	{"ndjson-addr", "SLUICE_NDJSON_ADDR", "", "HOST:PORT=STREAM: an NDJSON listener (one JSON object per line) writing into STREAM; repeatable", false},
}

// loadConfig builds a Config from the command-line arguments (without the
// program name) and the environment, read through getenv so that tests do
// not touch the process environment. An empty environment variable counts
// as unset. It returns flag.ErrHelp after writing the usage to usage when
// -h or --help is given; every other error names the flag, the variable it
// came from and the accepted values.
func loadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("sluice", flag.ContinueOnError)
	// The flag package prints errors and the usage itself; we return the
	// error instead and print the usage only on --help.
	fs.SetOutput(io.Discard)
	values := make(map[string]*string, len(options))
	switches := make(map[string]*bool)
	for _, o := range options {
		def := o.def
		if v := getenv(o.env); v != "" {
			def = v
		}
		if o.boolean {
			b, err := strconv.ParseBool(def)
			if err != nil {
				return Config{}, fmt.Errorf("invalid %s %q: use true or false", o.env, def)
			}
			switches[o.flag] = fs.Bool(o.flag, b, fmt.Sprintf("%s (env %s)", o.usage, o.env))
			continue
		}
		values[o.flag] = fs.String(o.flag, def, fmt.Sprintf("%s (env %s)", o.usage, o.env))
	}
	routes := make(map[string]*routeList, len(routeOptions))
	for _, o := range routeOptions {
		r := &routeList{}
		if v := getenv(o.env); v != "" {
			if err := r.Set(v); err != nil {
				return Config{}, fmt.Errorf("invalid %s: %w", o.env, err)
			}
			r.set = false
		}
		routes[o.flag] = r
		fs.Var(r, o.flag, fmt.Sprintf("%s (env %s, comma-separated)", o.usage, o.env))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(usage, "Usage: sluice [flags]\n\nEach flag can also be set by its SLUICE_* environment variable; the flag wins.\n"+
				"%s=AKID:SECRET[,AKID2:SECRET2...] adds access keys for --auth.\n\n", authKeysEnv)
			fs.SetOutput(usage)
			fs.PrintDefaults()
			return Config{}, err
		}
		return Config{}, fmt.Errorf("%w; run sluice --help for usage", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: sluice takes only flags; run sluice --help for usage", fs.Arg(0))
	}

	// source names where a value came from, so an error points at the
	// place to fix it.
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	source := func(name string) string {
		for _, o := range append(options[:len(options):len(options)], routeOptions...) {
			if o.flag != name {
				continue
			}
			switch {
			case set[name]:
				return "--" + name
			case getenv(o.env) != "":
				return o.env
			}
		}
		return "default of --" + name
	}

	cfg := Config{
		DataDir:    *values["data-dir"],
		APIAddr:    *values["api-addr"],
		TCPAddr:    *values["tcp-addr"],
		Durability: *values["durability"],
		AccountID:  *values["account-id"],
		Region:     *values["region"],
		TLSCert:    *values["tls-cert"],
		TLSKey:     *values["tls-key"],

		Auth:          *switches["auth"],
		AuthKeysFile:  *values["auth-keys"],
		AuthKeysEnv:   getenv(authKeysEnv),
		EmulateQuotas: *switches["emulate-quotas"],

		SyslogRoutes:   routes["syslog-addr"].routes,
		NDJSONRoutes:   routes["ndjson-addr"].routes,
		NDJSONKeyField: *values["ndjson-key-field"],
	}
	for _, d := range []struct {
		flag string
		dst  *time.Duration
	}{{"subscribe-heartbeat", &cfg.SubscribeHeartbeat}, {"subscribe-lifetime", &cfg.SubscribeLifetime}} {
		v, err := time.ParseDuration(*values[d.flag])
		if err != nil {
			return Config{}, fmt.Errorf("invalid duration %q from %s: use a Go duration such as 5s or 5m", *values[d.flag], source(d.flag))
		}
		*d.dst = v
	}
	n, err := strconv.Atoi(*values["shard-limit"])
	if err != nil || n < 0 || n > maxShardLimit {
		return Config{}, fmt.Errorf("invalid shard limit %q from %s: use a whole number from 0 (AWS's default) to %d", *values["shard-limit"], source("shard-limit"), maxShardLimit)
	}
	cfg.ShardLimit = n
	level := *values["log-level"]
	switch strings.ToLower(level) {
	case "debug", "info", "warn", "error":
		if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
			return Config{}, fmt.Errorf("invalid log level %q from %s: %w", level, source("log-level"), err)
		}
	default:
		return Config{}, fmt.Errorf("invalid log level %q from %s: use debug, info, warn or error", level, source("log-level"))
	}
	if err := cfg.validate(source); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// maxShardLimit bounds --shard-limit: every open shard reserves about
// 6 MiB of preallocated fragment files once written to, growing to 96 MiB
// when busy.
const maxShardLimit = 100000

// Validate checks every field and returns the first problem found.
func (c *Config) Validate() error {
	return c.validate(func(name string) string { return "--" + name })
}

// validate is Validate with the error naming the source of each value, as
// given by source(flagName).
func (c *Config) validate(source func(flagName string) string) error {
	if c.DataDir == "" {
		return fmt.Errorf("empty data directory from %s: name a directory", source("data-dir"))
	}
	if err := validateAddr(c.APIAddr); err != nil {
		return fmt.Errorf("invalid API address %q from %s: %w", c.APIAddr, source("api-addr"), err)
	}
	if err := validateAddr(c.TCPAddr); err != nil {
		return fmt.Errorf("invalid TCP ingest address %q from %s: %w", c.TCPAddr, source("tcp-addr"), err)
	}
	if c.Durability != durabilityFsync && c.Durability != durabilityAsync {
		return fmt.Errorf("invalid durability %q from %s: use fsync or async", c.Durability, source("durability"))
	}
	if !isAccountID(c.AccountID) {
		return fmt.Errorf("invalid account id %q from %s: it must be exactly 12 digits, e.g. 000000000000", c.AccountID, source("account-id"))
	}
	if !isRegion(c.Region) {
		return fmt.Errorf("invalid region %q from %s: use an AWS region name such as us-east-1", c.Region, source("region"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		if c.TLSCert == "" {
			return fmt.Errorf("a TLS key %q from %s without a certificate: set --tls-cert (SLUICE_TLS_CERT) too", c.TLSKey, source("tls-key"))
		}
		return fmt.Errorf("a TLS certificate %q from %s without a key: set --tls-key (SLUICE_TLS_KEY) too", c.TLSCert, source("tls-cert"))
	}
	if c.ShardLimit < 0 || c.ShardLimit > maxShardLimit {
		return fmt.Errorf("invalid shard limit %d from %s: use a whole number from 0 (AWS's default) to %d", c.ShardLimit, source("shard-limit"), maxShardLimit)
	}
	if c.SubscribeHeartbeat <= 0 {
		return fmt.Errorf("invalid subscribe heartbeat %v from %s: it must be positive, e.g. 5s", c.SubscribeHeartbeat, source("subscribe-heartbeat"))
	}
	if c.SubscribeLifetime <= 0 {
		return fmt.Errorf("invalid subscribe lifetime %v from %s: it must be positive, e.g. 5m", c.SubscribeLifetime, source("subscribe-lifetime"))
	}
	seen := map[string]string{c.APIAddr: "api-addr", c.TCPAddr: "tcp-addr"}
	for _, rs := range []struct {
		flag   string
		routes []Route
	}{{"syslog-addr", c.SyslogRoutes}, {"ndjson-addr", c.NDJSONRoutes}} {
		for _, r := range rs.routes {
			if err := validateAddr(r.Addr); err != nil {
				return fmt.Errorf("invalid address %q from %s: %w", r.Addr, source(rs.flag), err)
			}
			if !isStreamName(r.Stream) {
				return fmt.Errorf("invalid stream name %q from %s: use 1 to 128 characters of a-z, A-Z, 0-9, _ . -", r.Stream, source(rs.flag))
			}
			if _, port, _ := net.SplitHostPort(r.Addr); port != "0" {
				if other, dup := seen[r.Addr]; dup {
					return fmt.Errorf("address %s from %s is also the address of --%s: give each listener its own port", r.Addr, source(rs.flag), other)
				}
				seen[r.Addr] = rs.flag
			}
		}
	}
	keys, err := c.authKeys(source)
	if err != nil {
		return err
	}
	if c.Auth && len(keys) == 0 {
		return fmt.Errorf("%s is on but no access key is configured: give --auth-keys FILE (lines AKID:SECRET) or set %s=AKID:SECRET", source("auth"), authKeysEnv)
	}
	return nil
}

// authKeys reads the access keys of AuthKeysFile and AuthKeysEnv (access
// key id -> secret). A key id in both must have the same secret.
func (c *Config) authKeys(source func(flagName string) string) (map[string]string, error) {
	keys := make(map[string]string)
	if c.AuthKeysFile != "" {
		data, err := os.ReadFile(c.AuthKeysFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read the access keys file from %s: %w", source("auth-keys"), err)
		}
		keys, err = sigv4.ParseCredentialsFile(data)
		if err != nil {
			return nil, fmt.Errorf("invalid access keys file %s from %s: %w", c.AuthKeysFile, source("auth-keys"), err)
		}
	}
	if c.AuthKeysEnv != "" {
		env, err := sigv4.ParseCredentialsEnv(c.AuthKeysEnv)
		if err != nil {
			return nil, fmt.Errorf("invalid %s: %w (want AKID:SECRET,AKID2:SECRET2)", authKeysEnv, err)
		}
		for id, secret := range env {
			if old, ok := keys[id]; ok && old != secret {
				return nil, fmt.Errorf("access key id %s has different secrets in %s and %s", id, source("auth-keys"), authKeysEnv)
			}
			keys[id] = secret
		}
	}
	return keys, nil
}

// validateAddr accepts host:port with a numeric port in [0, 65535]; the host
// may be empty (all interfaces).
func validateAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number in [0, 65535]", port)
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isRegion accepts what AWS region names are made of (us-east-1,
// us-gov-west-1, cn-north-1): lowercase letters, digits and inner hyphens.
// It does not check the name against a list, so new regions work.
func isRegion(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
