// Command sluice-agent ships the lines of log files into a stream, exactly
// once and in order per file, over the Kinesis API (PutRecords, so it
// works against AWS as well as sluice) or over sluice's binary TCP
// protocol (wire/PROTOCOL.md, client/sluicetcp).
//
//	sluice-agent --stream logs --files '/var/log/app/*.log' \
//	    --endpoint http://127.0.0.1:4567 --checkpoint /var/lib/sluice-agent/ckpt
//	sluice-agent --protocol tcp --endpoint 127.0.0.1:4568 --stream logs --files '/var/log/*.log'
//
// # Flags
//
//	--stream NAME             stream to put to (required)
//	--files GLOB              files to ship; repeatable (required)
//	--protocol kinesis|tcp    default kinesis
//	--endpoint URL|HOST:PORT  kinesis: the API's URL (default AWS's for --region);
//	                          tcp: the binary protocol's address (default 127.0.0.1:4568)
//	--checkpoint FILE         default ./sluice-agent.checkpoint
//	--partition-key file|line file (default): the file's path, so a file's lines
//	                          stay on one shard, in order; line: a hash of the line
//	--region, --access-key, --secret-key
//	                          kinesis: else the AWS default chain (a dummy key
//	                          when --endpoint is set and no AWS_* key is);
//	                          tcp: the key pair of a server run with --auth
//	--batch-lines N           most lines per batch (default: kinesis 500, the
//	                          PutRecords limit; tcp 5000, at most 10000)
//	--batch-bytes N           most bytes per batch (default 1 MiB)
//	--settle D                kinesis: see "Guarantees" (default 3s)
//	--clock-skew D            kinesis: see "Guarantees" (default 5m)
//	--rotate-wait D           keep reading a rotated file this long (default 1s)
//	--scan-interval D         how often the globs are matched again (default 250ms)
//	--progress D              progress line on stderr every D (default 10s; 0 none)
//	--metrics-addr HOST:PORT  Prometheus metrics on /metrics
//	--request-timeout D       one request's timeout (default 30s)
//
// Exit status: 0 after SIGINT/SIGTERM, 1 on a fatal error (unreadable or
// unwritable checkpoint), 2 on a usage error.
//
// # Files
//
// A line is the bytes before a newline; the record's data is the line
// without its newline. A line longer than 1 MiB - 1 KiB (a Kinesis record
// with its key) is split into records of that size. An unterminated last
// line is shipped only when its file has been rotated away and
// --rotate-wait has passed (a writer may still finish it).
//
// A file is known by its device and inode plus a fingerprint (xxhash64) of
// its first bytes (up to 1 KiB, extended as the file grows), so a file
// rotated by rename is followed under its new name, even one the globs do
// not match (found again by inode in its folder after a restart), and an
// inode reused for new content is recognised. The files found at one path
// (the "key") form a queue: a rotated file is read to its end before the
// file that replaced it, so the lines of a path stay in order across
// rotations.
//
// Truncation (copytruncate) is noticed when the file is shorter than the
// offset or its first bytes changed. The agent then looks in the file's
// folder for a copy with the same first bytes (the one copytruncate
// made), ships it from the offset reached, then reads the truncated file
// from its start. Lines written between copytruncate's copy and its
// truncate are lost, by copytruncate itself; a file created and
// copytruncated while the agent was not watching it (stopped, or within
// one --scan-interval) cannot be found again. A rotated file whose new
// name the globs match is kept (not shipped again) while it matches; a
// copy whose name they match is not shipped as a file of its own when it
// starts with the full fingerprint (1 KiB) of a tailed file, but a copy
// of a smaller file is: give the globs only the live names where you can.
//
// # Checkpoint and guarantees
//
// The checkpoint file (format in checkpoint.go, versioned, CRC-32C) holds
// each file's identity and offset, a random producer id, the next batch
// id, the last sequence number known per shard, and the batch being sent
// (the intent): its file and byte range, and its records. It is replaced
// atomically (temporary file, fsync, rename, fsync of the folder) before
// every batch is sent, with the intent; the batch's offsets are committed
// by the next write. So after a SIGKILL at any moment the restarted agent
// finds either no intent (everything before is delivered) or one intent
// whose records it must finish, and nothing else is in doubt. One batch
// is in flight at a time.
//
// Kinesis API: Kinesis does not deduplicate, so the agent does not resend
// blindly. The SDK's own retries are off; a record that PutRecords
// answers with an error is resent alone (it was not written). A batch in
// doubt (the agent died while sending it, or a request got no answer) is
// looked for: each record carries "#<producer>.<batch>.<index>" after the
// partition key (the routing uses ExplicitHashKey = MD5 of the partition
// key the user asked for, so shards are the same as with that key); the
// agent waits --settle after the last send (after its start, for a
// batch of a dead process), then reads every shard with GetRecords after
// the last sequence number it knows there (else from the batch's time
// minus --clock-skew) to the tip, and sends only the records it did not
// find. Guaranteed: every line is put exactly once, provided that (1) a
// PutRecords request the agent sent is applied or dropped by the service
// within --settle of being sent (a request still in the network or in the
// server after that can be duplicated), (2) the records are still
// retained when a restart looks for them, (3) the clocks differ by less
// than --clock-skew for a shard the agent has not yet written to, and (4)
// no one else writes records with the agent's producer id. Order: the
// lines of a file keep their order on their shard (with --partition-key
// file), except that a record resent after a per-record failure
// (throttling) lands after the records of its batch that did not fail;
// the index in the partition key shows the original order.
//
// Binary protocol: the producer id in the checkpoint is sent in Hello, and
// batch ids count up from the checkpoint. A batch in doubt is replayed with
// the same records from the same batch id: the client splits and numbers
// its Puts the same way, and the server answers the Puts it already wrote
// from its deduplication cache instead of writing them again. Guaranteed
// exactly once provided that the server was not restarted and did not
// evict the batch from its cache (32 MiB) between the first send and the
// replay; otherwise the batch's records that had landed are written
// twice. At each start the batch ids skip 65536 ids, past those a dead
// process may have used for retries after its last checkpoint.
//
// In both cases a line is never lost while its file (or, after
// copytruncate, its copy) exists when the agent gets to it.
//
// # Progress and metrics
//
// Every --progress interval one line on stderr: lines/s and bytes/s over
// the interval, totals, and per file key the bytes not yet shipped (lag).
// --metrics-addr serves sluice_agent_lines_total, sluice_agent_bytes_total,
// sluice_agent_batches_total, sluice_agent_records_retried_total,
// sluice_agent_in_doubt_batches_total,
// sluice_agent_checkpoint_writes_total, sluice_agent_file_lag_bytes{file}
// and the process metrics.
//
// Concurrency: one goroutine tails, checkpoints and sends (a batch in
// doubt is sent by a second one while the first keeps watching the files);
// the progress and metrics goroutines read counters and a lag snapshot
// under a lock.
package main
