// Package frame is the codec of sluice's binary TCP ingest protocol
// (wire/PROTOCOL.md): the 16-byte frame header with its magic, length and
// CRC-32C checksums, and the bodies of Hello, HelloOK, Auth, Put, Ack and
// Error frames.
//
// The package is pure: no I/O, no goroutines, no globals besides constant
// tables. Encoders are append-style (AppendX(dst, ...)); decoders check every
// length against the bytes present and the caller's limits before they
// allocate, and return errors wrapping ErrMalformed, ErrTooLarge,
// ErrBadMagic or a checksum error (CodeOf maps them to protocol codes).
//
// An Ack lists the records of a Put in groups (one per shard and code)
// with the group's first sequence number only; SeqNumOffset derives the
// others (a decimal adder: the position field sits at bit 80 of the
// sequence number's integer), so neither side formats or parses a sequence
// number per record.
//
// Buffers: decoded Put records alias the body passed to DecodePut; the
// caller keeps the body alive and unchanged while it uses them. The Indexes
// of a decoded Ack's groups alias memory of the Ack that the next DecodeAck
// into it reuses. Strings (stream name, messages) are copies. All functions
// are safe for concurrent use.
package frame
