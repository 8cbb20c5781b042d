// Package httpapi is the HTTP front end of the Kinesis Data Streams API:
// it reads requests, dispatches them on X-Amz-Target
// (Kinesis_20131202.<Operation>), decodes them with wire/kinesis, runs them
// on a stream.Manager and writes AWS-shaped responses and errors
// (KINESIS_API.md sections 1.1-1.5 and 2).
//
// # Use
//
//	fan, err := fanout.New(m, fanout.Config{})   // enhanced fan-out (SubscribeToShard)
//	srv, err := httpapi.New(httpapi.Config{Manager: m, Fanout: fan, Ops: opsMux, TLSConfig: tlsCfg})
//	go srv.Serve(ln)              // HTTP/1.1, h2c, and TLS when TLSConfig has a certificate
//	...
//	srv.ShutdownContext(ctx)      // ends live subscriptions (closes fan); then close the Manager
//
// # Transports (KINESIS_API.md 1.8)
//
// Serve sniffs each accepted connection (listen.go): the HTTP/2 preface
// goes to golang.org/x/net/http2 (h2c with prior knowledge, what the
// JavaScript SDK v3 sends on every call), a TLS ClientHello (with a
// certificate configured) is handshaken with ALPN h2 and http/1.1 and then
// routed by ALPN or, without ALPN, sniffed again; everything else goes to
// fasthttp (HTTP/1.1, where an Upgrade: h2c request is switched to HTTP/2).
// A connection that does not tell its protocol within Config.SniffTimeout
// is closed. GET and HEAD go to Config.Ops (the operational endpoints) on
// every transport. Shutdown first closes Config.Fanout, which ends every
// live SubscribeToShard stream cleanly, then sends GOAWAY on HTTP/2
// connections and drains HTTP/1.1 ones; when its context ends it cancels
// the subscriptions still running and closes their connections (a client
// that stopped reading blocks its subscription in a write).
//
// Both transports fill the same transport-neutral Request and Response
// (exchange.go, pooled) and run the same dispatch and operation handlers.
// Request.Host is the Host header on HTTP/1.1 and :authority on HTTP/2;
// Request.VisitHeaders yields every header (repeats included) for SigV4.
//
// # Adding an operation
//
// An operation is one method registered in the implemented map
// (server.go), from the map literal or from an init function of the
// operation's file:
//
//	func init() { implemented["SplitShard"] = (*Server).splitShard }
//
//	func (s *Server) splitShard(in *Request, out *Response) error {
//		var req kinesis.SplitShardInput
//		if err := decodeModel(in, "SplitShard", &req); err != nil {
//			return err
//		}
//		// call the Manager; return callErr(err, name, shard) on failure
//		return writeModel(in, out, nil) // or the generated output shape
//	}
//
// The dispatcher has already checked method, content type, body and
// operation name; a returned error goes through toAWS and is written in the
// request's encoding (writeError). Content types are decided in one place,
// encodingOf; responses take theirs from Request.Encoding.
//
// # Dispatch (KINESIS_API.md 1.1)
//
// In this order:
//
//  1. A method other than POST: 403 AccessDeniedException "Unable to
//     determine service/operation name to be authorized" (real AWS's status
//     and text, in a JSON body). CORS preflight (OPTIONS) is not handled.
//  2. Content-Type: application/x-amz-json-1.1 (and plain application/json,
//     treated alike) and application/x-amz-cbor-1.1 (the Java SDKs'
//     default for Kinesis) are accepted; parameters such as charset are
//     ignored. The request's encoding is the response's, errors included.
//     Anything else is 404 UnknownOperationException (a JSON body), as
//     real AWS answers a content type it does not accept.
//  3. An empty body: 400 SerializationException for a known operation,
//     400 UnknownOperationException otherwise. A body over
//     Config.MaxBodyBytes: 413 InvalidArgumentException (fasthttp refuses
//     it before reading it when the server runs through Serve).
//  4. An unknown operation: 400 UnknownOperationException (no message).
//  5. With Config.Verifier set, the SigV4 signature (auth.go, wire/sigv4;
//     kinesalite, after real AWS, checks it here, once the operation is
//     known and before the body's members): no Authorization header or
//     query signature is 400 MissingAuthenticationTokenException "Missing
//     Authentication Token"; an incomplete one 400
//     IncompleteSignatureException; a wrong signature, a date more than 5
//     minutes off ("Signature expired: ..." / "Signature not yet current:
//     ...") or a bad credential scope 400 InvalidSignatureException; an
//     unknown access key 400 UnrecognizedClientException "The security
//     token included in the request is invalid.". The canonical host is
//     Request.Host (:authority on HTTP/2, which the JavaScript SDK v3
//     signs under that name). Verification allocates nothing with a warm
//     key cache (TestHTTPAPIAuthAllocs). Without a Verifier any signature,
//     or none, is accepted.
//  6. An operation of the model that is not implemented: 501 with
//     __type NotImplemented and message "not implemented: <Op>", never a
//     fake success.
//  7. The operation: decode (SerializationException), model constraints
//     (ValidationException), then the call on the Manager.
//
// Every response carries x-amzn-RequestId, a random version 4 UUID from
// crypto/rand; errors also carry X-Amzn-ErrorType equal to the body's
// __type, with bodies from kinesis.AppendError in the request's encoding
// (CBOR: a map {__type, message}). (fasthttp sends header
// names in canonical form, e.g. X-Amzn-Requestid, HTTP/2 in lower case;
// HTTP header names are case-insensitive and the SDKs read them so.) Manager errors become AWS
// errors in one function, Server.toAWS (errors.go); errors it does not know
// are logged with the request id and answered 500 InternalFailureException.
//
// # Operations
//
// Data plane, through the wire/kinesis hot codecs (JSON, or CBOR with
// blobs as byte strings and timestamps as tag 1 + integer milliseconds)
// with pooled requests: PutRecord, PutRecords, GetShardIterator,
// GetRecords. GetRecords at the end of a closed shard returns no
// NextShardIterator and the ChildShards (KINESIS_API.md 3.7). Data is
// bounded by the stream's MaxRecordSizeInKiB (Manager.MaxRecordBytes) with
// the model's ValidationException text ('data' for PutRecord,
// 'records.N.member.data' for PutRecords); a PutRecords request by 5 MiB
// of data and partition keys (10 MiB on a stream for records over 1 MiB),
// InvalidArgumentException [unsure: AWS's text]. With the Manager's
// Config.EmulateQuotas, PutRecords fails the entries of a shard over its
// write quota with ErrorCode ProvisionedThroughputExceededException and
// AWS's ErrorMessage ("Rate exceeded for shard ... in stream ... under
// account ...") and counts them in FailedRecordCount, in an HTTP 200;
// PutRecord and GetRecords answer ProvisionedThroughputExceededException.
//
// Control plane (controlplane.go, ops_streams.go, ops_shards.go,
// ops_settings.go), through the model-driven codec (decodeModel and
// writeModel over the generated types of wire/kinesis, in the request's
// encoding, with the model's Serialization and Validation checks in AWS's
// order): CreateStream (ShardCount, PROVISIONED or ON_DEMAND, Tags,
// WarmThroughputMiBps, MaxRecordSizeInKiB), DeleteStream
// (EnforceConsumerDeletion), DescribeStream (Limit capped at 100, shards
// within the retention period), DescribeStreamSummary (mode, encryption
// type and key, enhanced monitoring, consumer count, MaxRecordSizeInKiB,
// warm throughput, open shard count), ListStreams (Limit capped at 100;
// NextToken is the base64 of the last name), ListShards (the Manager's
// filters, paging and authenticated, expiring NextTokens), SplitShard,
// MergeShards, UpdateShardCount, Increase/DecreaseStreamRetentionPeriod,
// Start/StopStreamEncryption (state only), UpdateStreamMode,
// UpdateStreamWarmThroughput, UpdateMaxRecordSize, Enable/
// DisableEnhancedMonitoring. Every stream-scoped call takes StreamName
// and/or StreamARN (both must agree; Manager.ResolveStream); an ARN of
// another region or account is ResourceNotFoundException. The rules beyond
// the model (limits, stream status, resharding, retention bounds) are the
// stream package's; its typed errors carry AWS's texts and go through
// toAWS like all errors. StreamId is ignored.
//
// Tags, consumers, resource policies and the account, through the
// model-driven codec (decodeModel/writeModel over the generated types of
// wire/kinesis, so JSON or CBOR as the request came, with the model's
// SerializationException and ValidationException checks in AWS's order),
// one file each: ops_tags.go (AddTagsToStream, RemoveTagsFromStream,
// ListTagsForStream, TagResource, UntagResource, ListTagsForResource),
// ops_consumers.go (RegisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers, DeregisterStreamConsumer), ops_policy.go
// (PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy) and
// ops_account.go (DescribeLimits, DescribeAccountSettings,
// UpdateAccountSettings). Each registers itself in implemented from an
// init function. The rules are the Manager's (stream/tags.go,
// consumers.go, policy.go, account.go); a ResourceARN or StreamARN of a
// missing stream answers "Stream X under account A not found." with the
// name in the ARN (arnErr).
//
// # SubscribeToShard (KINESIS_API.md section 4)
//
// ops_consumers.go decodes the request with the model codec (JSON or
// CBOR) and hands it to Config.Fanout (the fanout package). Its pre-stream
// checks (consumer exists and is ACTIVE, shard, starting position, one
// live subscription per consumer and shard: ResourceInUseException within
// 5 s of the live one, a takeover after) fail as ordinary error responses
// through toAWS, in the request's encoding. After them the answer is 200
// application/vnd.amazon.eventstream with x-amzn-RequestId and no
// Content-Length, and fanout.Subscription.Run writes the event stream,
// flushing every message: on HTTP/1.1 from fasthttp's body stream writer
// (chunked; it runs on a goroutine of its own after the handler returned,
// counted for Shutdown), on HTTP/2 (h2c with prior knowledge or Upgrade,
// h2 over TLS) in the handler, through the net/http ResponseWriter, until
// the request's context ends. A client that goes away ends its
// subscription at the next write (HTTP/1.1) or at once (an HTTP/2 stream
// reset cancels the request's context). Event payloads follow the
// request's encoding: JSON 1.1, or CBOR for a CBOR request (the Java SDKs)
// [unsure: no Java client could be run]. Without Config.Fanout,
// SubscribeToShard validates its input and answers 501.
//
// Not implemented yet: metrics.
//
// # Concurrency
//
// A Server is safe for concurrent use: fasthttp and the HTTP/2 server run
// each request on its own goroutine, requests share only the Manager (itself safe for
// concurrent use) and sync.Pools of decoded requests and response buffers.
// A pooled request is owned by one handler call and reset before it goes
// back; strings that alias it are copied before they outlive the call.
package httpapi
