// Package fanout serves enhanced fan-out: SubscribeToShard, the push
// read path of Kinesis (KINESIS_API.md section 4; the event stream as
// served is documented in PROTOCOL.md beside this file).
//
// # Entry points
//
// fanout does not import the HTTP front end (ingress): cmd/sluice builds a
// Server over the Manager and hands it to ingress/httpapi
// (httpapi.Config.Fanout), whose SubscribeToShard handler decodes the
// request with the model codec (JSON or CBOR), fills a Request and calls
// Open and Run. The operation is split in two so that it works with
// fasthttp, whose streaming body runs after the handler returned, as well
// as with net/http:
//
//	sub, err := srv.Open(req)                   // pre-stream checks; errors -> HTTP 400
//	// send 200, Content-Type application/vnd.amazon.eventstream, x-amzn-RequestId
//	err = sub.Run(ctx, w)                       // w: StreamWriter (Write + Flush)
//
// Every Open must be followed by Run or Close. Request.CBOR selects CBOR
// event payloads (:content-type application/x-amz-cbor-1.1) for a CBOR
// request, as the Java SDKs parse event payloads with their request's
// protocol [unsure: not verified with a Java client]; otherwise they are
// JSON 1.1. The HTTP front end (ingress/httpapi) decodes the request with
// the model codec, knows the Server only as a stream.Subscriber (ingress
// and fanout never import each other; cmd/sluice passes it in) and
// provides the StreamWriter: fasthttp's body stream writer, or a net/http
// writer that copies each message through a 32 KiB buffer.
//
// Config sets AWS's timings, shorter in tests: Heartbeat (an empty event
// after this long without one, 5 s), Lifetime (the stream ends cleanly,
// 5 min) and TakeoverAfter (5 s: a second subscription of the same
// consumer and shard is refused before, takes over after). CallInterval
// (off by default; 1 s in cmd/sluice with --emulate-quotas) refuses a
// second call of a consumer and shard sooner than it with
// LimitExceededException, as AWS allows one call per second.
//
// Pre-stream errors are the stream package's (*stream.ArgumentError,
// *stream.APIError with its Kind, errors wrapping stream.ErrStreamNotFound
// and stream.ErrShardNotFound); the HTTP layer maps them to Kinesis error codes in
// the one place it maps every stream error. Failures after the stream
// started are exception events (ResourceInUseException,
// ResourceNotFoundException, InternalFailureException) that end it. The
// event stream as served, message by message, is in PROTOCOL.md.
//
// # Push, not poll
//
// A subscription reads its shard with a stream.ShardFollower straight from
// the shard's segment files and, when it has caught up, waits on the shard
// log's commit notification: a committed stripe wakes every subscriber at
// once. There is no queue between producers and subscribers. A slow or
// stalled consumer blocks only its own Run in a Write (TCP or HTTP/2 flow
// control) and holds at most one event in memory (Config.MaxEventBytes of
// record data, about twice that encoded); producers and other
// subscriptions never wait for it, and it catches up from disk when it
// reads again.
//
// # Concurrency
//
// A Server is safe for concurrent use and starts no goroutines: each
// subscription runs on the goroutine that calls Run. A Subscription is
// driven by one goroutine; Server.Open (a takeover) and Server.Close may
// stop it from others. Lock order: Server.mu, then the stream.Manager's
// locks (Open calls into the manager before it takes Server.mu, so in
// practice they are never nested).
//
// # Buffers
//
// Run owns its encoding buffers and reuses them between events; it writes
// each encoded message with one Write call and does not touch the slice
// after Write returns. (golang.org/x/net/http2 keeps the slice of a write in
// flight on a connection that died reachable, which pinned one event buffer
// per stalled subscription that went away: the HTTP front end's net/http
// writer therefore copies through a small buffer of its own.)
package fanout
