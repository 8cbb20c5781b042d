// Package cborclient is a small Kinesis client for tests that speaks
// application/x-amz-cbor-1.1 exactly as the AWS SDK for Java does (v1
// AmazonKinesisClient and v2 KinesisClient, used by the KCL, the Kinesis
// Agent and Java producers), since no Java client can be installed here
// (CLIENTS.md 2.4 and 3). The KPL's native daemon is built on the C++ SDK,
// which KINESIS_API.md 1.3 says speaks JSON 1.1 [unsure]; the operations
// offered here are those the KPL, the KCL and the Kinesis Agent call, so the
// same calls can be made in CBOR either way.
//
// # Encoding
//
// Both Java SDKs marshal through Jackson's CBORGenerator (v1
// SdkCborGenerator / StructuredJsonGenerator, v2 SdkCborGenerator), so the
// bytes follow Jackson, not RFC 8949's preferred serialisation:
//   - writeStartObject / writeStartArray emit indefinite-length maps and
//     arrays (0xbf ... 0xff, 0x9f ... 0xff); CBORGenerator never writes a
//     definite length for them.
//   - Text strings (member names and values) are definite with the
//     shortest length; strings over 3996 UTF-16 units are chunked (0x7f,
//     chunks with 2-byte lengths, 0xff). Integers are minimal
//     (WRITE_MINIMAL_INTS, on by default). This is Jackson 2.12+ as
//     shaded into the current SDKs. Older Jackson (2.9 era) wrote a
//     string of exactly 23 (or 255) UTF-8 bytes with a longer length
//     (it tested actual < 23) and a long outside the int range always in
//     8 bytes; servers must accept non-shortest forms in any case.
//   - Blobs are byte strings (writeBinary) with a minimal length.
//   - Timestamps are tag 1 followed by writeNumber(epoch milliseconds), so
//     c1 1b <8 bytes> for any date after 1970-02-19 (KINESIS_API.md 1.3).
//   - Members come in the order of the service model (the order of the
//     generated marshallers); members that are not set are left out.
//
// Requests are built from ordered values (Map, KV, List) so the layout is
// explicit; the operation helpers (PutRecord, ...) build them in model
// order.
//
// # Responses
//
// Decode reads any well-formed CBOR (definite or indefinite lengths) into
// map[string]any / []any / string / []byte / int64 / uint64 / float64 /
// bool / nil, and tag 1 into a time.Time (integer = milliseconds, as AWS
// sends; float = seconds). Error bodies become an *APIError.
//
// # Concurrency
//
// A *Client is safe for concurrent use. Encoded bodies and decoded values
// are owned by the caller.
package cborclient
