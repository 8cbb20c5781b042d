// Package kinesis holds the wire codecs of the Kinesis Data Streams API:
// request types and decoders, constraint checks, response encoders and AWS
// error bodies for the awsJson 1.1 protocol (X-Amz-Target
// Kinesis_20131202.<Operation>, Content-Type application/x-amz-json-1.1)
// and its CBOR twin (application/x-amz-cbor-1.1, sent by the AWS Java SDK
// and the KCL). It is the single place where failures become Kinesis error
// codes. The package does no I/O and starts no goroutines; it imports only
// the stdlib and valyala/fastjson (tests also use fxamacker/cbor as an
// independent CBOR codec). The contract it follows is KINESIS_API.md
// sections 1.2, 1.3, 1.4, 2, 2.12 and 3.5; PROTOCOL.md summarises the
// encodings.
//
// # Two layers
//
// Hot path: PutRecord, PutRecords, GetShardIterator and GetRecords have
// hand-written, zero-alloc JSON codecs (DecodeX, Validate, AppendXResponse)
// and CBOR twins (DecodeXCBOR, AppendXResponseCBOR) that fill the same
// request structs, so one Validate serves both encodings.
//
// Model-driven path: every operation of the embedded botocore model
// (model/, 39 operations) is served by DecodeInput and EncodeOutput over
// the generated types of types_gen.go (go generate; the generator lives in
// internal/gen). Each structure shape becomes a struct named after it
// (CreateStreamInput, StreamDescriptionSummary, Shard, ...); a name already
// taken by a hand-written type gets the suffix "Shape" (RecordShape,
// HashKeyRangeShape, ChildShardShape, PutRecordsResultEntryShape). Fields
// are the member names; optional scalars and structures are pointers, so
// presence is known; blobs are []byte; timestamps are Timestamp (epoch
// milliseconds); enums are strings.
//
// DecodeInput checks, in AWS's order: the body is an object; every member
// has its model type (SerializationException, kinesalite's texts, first
// error in document order); every constraint of the model (required,
// length, pattern, range, enum, through nested structures, list members
// and map keys and values) with ValidationException messages formatted as
// AWS does ("N validation errors detected: Value 'x' at 'records.1.member.
// partitionKey' failed to satisfy constraint: ...", at most 10, members in
// alphabetical lower-camel order except where checkFirst pins AWS's order).
// Rules the model does not express (StreamName or StreamARN present, the
// ShardIteratorType combinations, ListShards' NextToken exclusivity, ...)
// stay with the caller.
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
// Implemented: JSON 1.1 and CBOR 1.1 codecs for all 39 operations
// (DecodeInput/EncodeOutput; hand-written fast codecs for the four hot
// ones), error bodies in both encodings (AppendError) and constructors.
// The hot Validate checks the default 1 MiB Data cap (ValidateMaxDataSize
// takes the stream's cap; DecodeInput checks the model's 10 MiB); the 5 MiB
// whole-request cap of PutRecords and "timestamp in the future" are left
// to the caller. The four hot CBOR decoders are zero-alloc once warmed
// up: they stream over a copy of the body the request owns, so the
// ownership rules below hold for both encodings.
//
// Not here: Firehose; the SubscribeToShard event stream (EncodeOutput
// encodes a SubscribeToShardEvent payload but refuses the
// SubscribeToShardOutput stream: the framing is wire/eventstream's, the
// events are the fanout package's); SigV4 verification (wire/sigv4).
package kinesis
