// Package tcp is sluice's TCP ingest front end on gnet: the binary
// protocol of wire/PROTOCOL.md (codec wire/frame) on --tcp-addr (:4568)
// (Server), and syslog over TCP and NDJSON on ports routed to one stream
// each (LineServer; --syslog-addr and --ndjson-addr).
//
// # Event loop and workers
//
// gnet callbacks never block. OnTraffic peeks a frame header, checks its
// magic, checksum and length before waiting for the body, and decodes only
// complete frames: the handshake (Hello, optional Auth) and Ping are
// answered at once, a Put's body is copied out of gnet's buffer, decoded,
// and queued to the connection's worker goroutine. The worker takes what
// is queued, hands runs of Puts to one stream to Store.PutRecordsGroups in
// one call (the group commit of the segment store then batches them
// further), and writes the answers with one AsyncWrite, in request order.
// Every request frame gets exactly one answer, in order. The store answers
// per shard (the records appended consecutively and the first one's
// stream.SeqNum), and each Put's Ack takes its stretch of every shard
// group: one sequence number formatted per Put and shard, one varint per
// record (PROTOCOL.md section 5).
//
// # Backpressure and memory bound
//
// gnet has no way to stop reading a socket (gnet issue #712): it reads
// whatever the kernel has into the connection's inbound buffer. So flow
// control is in the protocol, as in HTTP/2: HelloOK advertises a window
// (Config.WindowBytes) of Put bytes a client may have unacknowledged.
// When a connection's decoded-and-unanswered Puts reach its window, or all
// connections' reach Config.MaxInflightBytes, the event loop stops
// decoding that connection and leaves its bytes in the buffer; a client
// keeping to the window then stops sending, and TCP's own window stops
// the rest. The worker frees window bytes before it writes the answer and
// wakes the connection (gnet Conn.Wake). A client that sends beyond its
// window while paused gets FLOW_CONTROL and is closed. Memory is bounded
// by MaxInflightBytes + MaxConnections * (WindowBytes + 64 KiB + gnet's
// read buffer).
//
// # Errors and timeouts
//
// Header-level faults (bad magic, header checksum, a length above
// MaxFrameBytes), an unsupported version, failed authentication and
// timeouts are fatal: an Error frame goes out after the answers already
// queued, then the connection closes. A body checksum mismatch, a Put
// body that does not parse, an unknown stream and invalid records fail
// only that frame (an Error with the batch id), and the connection goes
// on with the next frame. The handshake, and each frame from its first
// byte to its last, must complete within FrameTimeout (slowloris);
// a ticker wakes expired connections so that their loop closes them.
//
// Deduplication of resent batches: see client/sluicetcp's doc and
// PROTOCOL.md section 7.
//
// Shutdown: decoding stops, queued batches finish and are answered, every
// connection gets SHUTTING_DOWN, then the event loops stop.
//
// Metrics (process-wide, VictoriaMetrics/metrics): sluice_tcp_connections_total,
// sluice_tcp_puts_total, sluice_tcp_records_total, sluice_tcp_record_bytes_total,
// sluice_tcp_dedup_replays_total, sluice_tcp_backpressure_pauses_total{limit=
// "window"|"global"} and sluice_tcp_errors_total{code="..."}.
//
// # Syslog and NDJSON (LineServer)
//
// A LineServer listens on one address and writes every message into one
// stream (LineConfig.Stream). Syslog (FormatSyslog) follows RFC 6587: a
// connection whose first byte is a digit uses octet counting ("MSG-LEN SP
// MSG"), any other first byte (normally '<') LF framing (a CR before the
// LF is dropped, empty lines are skipped); the framing holds for the
// connection's life. Each message becomes one record, its bytes unchanged
// (without the framing), with partition key "HOST/APP": HOSTNAME and
// APP-NAME of RFC 5424 ("<PRI>1 TIMESTAMP HOSTNAME APP-NAME ..."), or the
// HOSTNAME and TAG (up to '[', ':' or a space) of RFC 3164 after a
// "Mmm dd hh:mm:ss" or RFC 3339 timestamp; a missing or NILVALUE part is
// "-", and the key is cut to 256 characters. Anything unparsable still
// becomes a record ("-/-" at worst). NDJSON (FormatNDJSON) is LF-framed;
// a line that is not one JSON object is dropped (counted, logged at debug
// level) and the connection goes on; the partition key is the value of
// LineConfig.KeyField (a string as is, another value as its JSON text) or,
// when the field is unset, missing, null or "", the hex FNV-1a hash of
// the line.
//
// MaxMessageBytes (64 KiB by default) is checked before a message is
// buffered whole: an octet count above it, or more bytes than that without
// an LF, closes the connection (the messages before it are kept). So does
// a malformed octet count. There are no acknowledgements: a message counts
// once PutRecords returned for it. Throttled records (--emulate-quotas)
// are retried for up to a minute; records PutRecords refuses (an unknown
// stream) are dropped and logged.
//
// The event loop only frames: it copies the complete messages of a read
// into one batch and queues it to the connection's worker goroutine, which
// parses them and calls PutRecords (at most 10,000 records a call), in
// order. Backpressure: once a connection's queued, unwritten messages
// reach MaxPendingBytes, its loop stops framing and leaves the bytes in
// gnet's buffer; the worker wakes the connection when it has written them.
// gnet cannot stop reading one connection (see above), and syslog has no
// window to ask a sender to wait, so a paused connection whose buffer
// passes MaxBufferedBytes is closed: the sender (rsyslog) reconnects and
// goes on, and the messages in that buffer are lost to it. Memory is
// bounded by MaxConnections * (MaxPendingBytes + MaxMessageBytes +
// MaxBufferedBytes + gnet's read buffer). Idle connections are not timed
// out (syslog senders keep connections open).
//
// When a connection closes, the messages still in its buffer are queued
// too, paused or not (with LF framing, after the sender's EOF, a last line
// without its LF as well), so a sender that writes and closes loses
// nothing. Shutdown frames the complete messages each connection has
// buffered, closes it (a partial message is dropped), writes what was
// queued and stops the engine.
//
// Metrics: sluice_tcp_line_connections_total{format}, sluice_tcp_line_records_total{format},
// sluice_tcp_line_record_bytes_total{format}, sluice_tcp_line_dropped_total{format,reason}
// and sluice_tcp_line_closed_total{format,reason="too_long"|"malformed"|"backpressure"|"too_many_connections"}.
//
// Concurrency: Server and LineServer are safe for concurrent use; Serve
// blocks until Shutdown.
package tcp
