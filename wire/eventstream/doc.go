// Package eventstream is the AWS event-stream framing
// (application/vnd.amazon.eventstream) that SubscribeToShard answers with
// (KINESIS_API.md 4.4 and 4.5), as a thin layer over the SDK's own codec,
// github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream:
//
//	total_len u32 | headers_len u32 | prelude_crc u32 | headers | payload | message_crc u32
//
// It adds what the SDK codec leaves to its caller: the message kinds of
// the Kinesis event stream (NewEvent, NewInitialResponse, NewException,
// NewError, and the CBOR payload variants NewInitialResponseCBOR and
// NewExceptionCBOR with the small CBOR writers they need), an
// append-style Encoder, and a Decoder that checks the prelude against the
// limits AWS's own decoders use (MaxPayloadLen, MaxHeadersLen) before it
// reads a byte of the message body, so a hostile length never makes it
// buffer more than the limits.
//
// The package is a pure codec: it does no network or file I/O of its own
// (the Decoder reads from the io.Reader it is given), keeps no global
// state, and starts no goroutines.
//
// # Concurrency and buffers
//
// An Encoder or a Decoder is owned by one goroutine. Encoder.Append
// appends to the caller's slice and keeps no reference to it or to the
// message. A Message returned by Decoder.Next owns its payload unless the
// caller opted into reuse (Decoder.ReusePayload), in which case the payload
// is valid until the next call.
package eventstream
