// Package kinesis holds the wire codecs of the Kinesis Data Streams API:
// request types and decoders, constraint checks, response encoders and AWS
// error bodies for the awsJson 1.1 protocol (X-Amz-Target
// Kinesis_20131202.<Operation>, Content-Type application/x-amz-json-1.1).
// It is the single place where failures become Kinesis error codes.
// The package does no I/O and starts no goroutines; it imports only the
// stdlib and valyala/fastjson. The contract it follows is
// KINESIS_API.md sections 1.2, 1.4, 2.2, 2.12 and 3.5.
//
// # Flow
//
// A front end decodes a body with DecodeX (type errors come back as a *Error
// with Code SerializationException), then calls the request's Validate
// (ValidationException, in AWS's order and message format, then the
// InvalidArgumentException checks that need no server state), then runs the
// operation and answers with AppendXResponse or AppendErrorJSON.
//
// # Errors
//
// Every error returned by this package is a *Error. The transport writes
// e.Status as the HTTP status, sets the X-Amzn-ErrorType header to e.Code
// (aws-sdk-go-v2 reads it first; botocore reads only the body's "__type",
// so both must agree) and writes AppendErrorJSON(dst, e) as the body with
// Content-Type application/x-amz-json-1.1.
//
// # Concurrency
//
// All functions are pure and safe for concurrent use. A request value is
// owned by one goroutine at a time (it embeds the parser it decodes with);
// callers pool requests with sync.Pool and Reset them on Put.
//
// # Buffer ownership
//
// DecodeX copies body into the request's own parser buffer: body may be
// reused as soon as DecodeX returns. The decoded strings (StreamName,
// PartitionKey, ...) alias that parser buffer and the decoded Data slices
// alias one data buffer owned by the request; both stay valid until the next
// DecodeX or Reset on the same request (the strings are made with
// unsafe.String, so holding one past that point reads overwritten bytes).
// Copy what must outlive it. Decoding
// reuses the Records slice and both buffers, so a warmed-up request decodes
// without allocating. AppendX functions only append to dst and never retain
// it or the response.
//
// # Status
//
// Implemented: JSON 1.1 codecs for PutRecord, PutRecords, GetShardIterator
// and GetRecords (requests, Validate, responses), error bodies and
// constructors. Validate checks the default 1 MiB Data cap
// (ValidateMaxDataSize takes the stream's cap); the 5 MiB whole-request cap
// of PutRecords and "timestamp in the future" are left to the caller.
//
// Not implemented yet: the CBOR 1.1 encoding (Java SDK, KCL), the
// control-plane operations (CreateStream, ListShards, ...), Firehose,
// SubscribeToShard event-stream framing, and SigV4 verification.
package kinesis
