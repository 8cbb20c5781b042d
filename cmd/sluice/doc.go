// Command sluice is the sluice server: a streaming-data ingestion appliance
// that speaks the Kinesis Data Streams and Firehose protocols.
//
// It wires the Kinesis API (ingress/httpapi) and the TCP ingest listeners
// (ingress/tcp: the binary protocol of wire/PROTOCOL.md, syslog and
// NDJSON) to the streams
// (stream) over the segment store; fan-out and sinks are wired in here as
// they land.
//
// # Configuration
//
// Every setting is a flag with a SLUICE_* environment variable; a flag wins
// over its variable, a variable over the default (an empty variable counts
// as unset). These flags are stable, scripts rely on them:
//
//	--data-dir DIR         SLUICE_DATA_DIR        ./data
//	--api-addr HOST:PORT   SLUICE_API_ADDR        127.0.0.1:4567
//	--tcp-addr HOST:PORT   SLUICE_TCP_ADDR        127.0.0.1:4568 (TCP ingest, binary protocol)
//	--durability MODE      SLUICE_DURABILITY      fsync (or async)
//	--account-id ID        SLUICE_ACCOUNT_ID      000000000000 (12 digits)
//	--region REGION        SLUICE_REGION          us-east-1
//	--log-level LEVEL      SLUICE_LOG_LEVEL       info (debug, info, warn, error)
//	--tls-cert FILE        SLUICE_TLS_CERT        none (PEM certificate chain)
//	--tls-key FILE         SLUICE_TLS_KEY         none (PEM private key)
//	--auth                 SLUICE_AUTH            false (verify SigV4 signatures)
//	--auth-keys FILE       SLUICE_AUTH_KEYS_FILE  none (AKID:SECRET lines or an AWS credentials INI file)
//	--emulate-quotas       SLUICE_EMULATE_QUOTAS  false (AWS's per-shard throughput quotas)
//	--shard-limit N        SLUICE_SHARD_LIMIT     0 (AWS's account shard quota of the region)
//	--subscribe-heartbeat D  SLUICE_SUBSCRIBE_HEARTBEAT  5s (longest SubscribeToShard silence: an empty event)
//	--subscribe-lifetime D   SLUICE_SUBSCRIBE_LIFETIME   5m (a SubscribeToShard stream then ends cleanly)
//	--syslog-addr HOST:PORT=STREAM  SLUICE_SYSLOG_ADDR  none (syslog over TCP into STREAM; repeatable)
//	--ndjson-addr HOST:PORT=STREAM  SLUICE_NDJSON_ADDR  none (NDJSON into STREAM; repeatable)
//	--ndjson-key-field FIELD        SLUICE_NDJSON_KEY_FIELD  none (NDJSON partition key field; else a hash)
//
// --syslog-addr and --ndjson-addr may be given several times, each a
// listener of its own (ingress/tcp.LineServer) writing into one stream,
// which must exist; their variables hold comma-separated lists, and a flag
// replaces its variable's list. Every listener needs its own port, apart
// from --api-addr and --tcp-addr. Each logs msg=listening syslog=HOST:PORT
// stream=STREAM (or ndjson=...) at startup, and drains on shutdown: the
// messages already read are written, then the connections close.
//
// SLUICE_AUTH_KEYS="AKID:SECRET,AKID2:SECRET2" adds access keys to those of
// --auth-keys (it has no flag: a secret on the command line shows in ps).
// With --auth every API request must carry a valid SigV4 signature by one
// of the keys, for the signing name "kinesis" and --region, dated within 5
// minutes of the server's clock; failures get AWS's errors
// (MissingAuthenticationTokenException, InvalidSignatureException,
// UnrecognizedClientException, IncompleteSignatureException, all 400).
// --auth without any key is a startup error. Without --auth any signature,
// or none, is accepted (for shippers that cannot sign, such as syslog-ng).
// The same keys guard the TCP ingest port: with --auth a connection must
// answer the server's challenge, HMAC-SHA256 of a per-connection nonce
// with the secret of one key (wire/PROTOCOL.md section 4).
//
// --emulate-quotas enforces 1 MiB/s and 1,000 records/s of writes and 5
// GetRecords calls/s and 2 MiB/s of reads per shard: PutRecords fails the
// entries over the quota (ErrorCode ProvisionedThroughputExceededException,
// FailedRecordCount), PutRecord and GetRecords answer
// ProvisionedThroughputExceededException; the SDKs retry those. It also
// allows one SubscribeToShard call per second per consumer and shard
// (LimitExceededException otherwise). --shard-limit sets the account's
// open-shard quota (DescribeLimits ShardLimit); 0 keeps AWS's default.
//
// An invalid value exits with code 2 and a message naming the flag or
// variable it came from.
//
// # Lifecycle
//
// Startup creates the data directory (0o755) and takes an exclusive flock
// on DATA_DIR/LOCK, so a second server on the same directory fails at once
// with an error naming the directory (exit 1). It then listens on
// --api-addr and --tcp-addr and logs one line per address (msg=listening
// api=HOST:PORT protocols=..., msg=listening tcp=HOST:PORT ...); a listen
// error exits 1.
//
// The API port speaks HTTP/1.1, HTTP/2 cleartext (prior knowledge, as the
// JavaScript SDK v3 sends, and the h2c Upgrade) and, when --tls-cert and
// --tls-key are both given, TLS with ALPN h2 and http/1.1 (the KPL speaks
// only HTTPS), each connection told apart by its first bytes
// (ingress/httpapi). It serves:
//
//	GET /healthz   200 "ok" while the process is alive
//	GET /readyz    200 "ready" once started; 503 "not ready" before and while shutting down
//	GET /metrics   Prometheus text format (VictoriaMetrics/metrics, with process metrics)
//	anything else  404 with a JSON body
//
// The API includes enhanced fan-out: serve builds a fanout.Server over the
// Manager (with --subscribe-heartbeat and --subscribe-lifetime) and hands
// it to the API server, which streams SubscribeToShard through it on every
// transport.
//
// SIGINT or SIGTERM starts a shutdown: /readyz turns 503, live
// SubscribeToShard streams end at once (cleanly: clients re-subscribe),
// in-flight requests and TCP batches are drained for at most 10 s
// (http.Server.Shutdown; TCP clients get their acks, then SHUTTING_DOWN),
// the fanout.Server and then the Manager are closed, the lock is released,
// msg=stopped is logged and the process exits 0. A second signal during the
// shutdown kills the process (the default signal action is restored).
//
// Logs are log/slog text lines on stderr.
package main
