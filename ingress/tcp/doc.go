// Package tcp is sluice's TCP ingest front end on gnet: the binary
// protocol of wire/PROTOCOL.md (codec wire/frame) on --tcp-addr (:4568).
// Syslog over TCP (RFC 6587) and NDJSON ports are not implemented yet.
//
// # Event loop and workers
//
// gnet callbacks never block. OnTraffic peeks a frame header, checks its
// magic, checksum and length before waiting for the body, and decodes only
// complete frames: the handshake (Hello, optional Auth) and Ping are
// answered at once, a Put's body is copied out of gnet's buffer, decoded,
// and queued to the connection's worker goroutine. The worker takes what
// is queued, hands runs of Puts to one stream to Store.PutRecords in one
// call (the group commit of the segment store then batches them further),
// and writes the answers with one AsyncWrite, in request order. Every
// request frame gets exactly one answer, in order.
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
// Concurrency: Server is safe for concurrent use; Serve blocks until
// Shutdown.
package tcp
