package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"
)

// Shard iterators (KINESIS_API.md 3.6).
//
// An iterator is a position in a shard, handed to the client as an opaque
// string and given back to GetRecords. It is stateless and self-validating,
// so the server keeps no iterator table: the string carries the fields
// themselves, encrypted and authenticated with a server secret.
//
// Wire format (version 1), base64url without padding:
//
//	version (1 byte, = 1) | tag (16 bytes) | ciphertext
//
//	plaintext = streamCreated (int64) | shardIndex (int64) | position (uint64)
//	            | created (int64, Unix ms) | stream name (rest)
//	            all integers big-endian
//	tag        = HMAC-SHA256(macKey, version | plaintext), first 16 bytes
//	ciphertext = AES-256-CTR(encKey, iv = tag, plaintext)
//
// macKey and encKey are derived from the 32-byte secret with HKDF-SHA256.
// This is the SIV construction (RFC 5297's structure with HMAC as the PRF):
// deterministic authenticated encryption that needs no nonce, so there is no
// random-nonce collision limit (AES-GCM with random 96-bit nonces must not
// encrypt more than about 2^32 messages under one key, and a busy server
// mints a fresh iterator on every GetRecords call). The price, that equal
// fields give equal iterators, reveals nothing a client does not know.
// Encryption keeps the string opaque, like AWS's, so no client comes to
// depend on its contents.
//
// A stream name of 128 bytes (the model's maximum) gives 1+16+32+128 = 177
// bytes, 236 characters; the model allows 512.

const (
	// IteratorLifetime is how long an iterator stays valid after it was
	// created; an older one gets ExpiredIteratorException.
	IteratorLifetime = 5 * time.Minute

	// MaxIteratorLen is the model's maximum length of a ShardIterator.
	// Decode rejects longer strings before decoding them.
	MaxIteratorLen = 512

	// MaxStreamNameLen is the model's maximum length of a StreamName.
	MaxStreamNameLen = 128

	iteratorVersion   = 1
	iteratorTagLen    = 16
	iteratorFixedLen  = 8 + 8 + 8 + 8 // streamCreated, shardIndex, position, created
	iteratorHeaderLen = 1 + iteratorTagLen
	iteratorSecretLen = 32
)

// ErrInvalidIterator is returned by Decode for a string that is not an
// iterator of this codec: garbled, truncated, tampered with, minted with
// another secret or by another implementation. Kinesis reports it as
// InvalidArgumentException "Invalid ShardIterator.".
var ErrInvalidIterator = errors.New("stream: invalid shard iterator")

// iteratorEncoding is base64url without padding. Decoding is strict, and
// Decode checks the alphabet itself (the decoder skips CR and LF), so every
// iterator has exactly one accepted spelling.
var iteratorEncoding = base64.RawURLEncoding.Strict()

// Iterator is the position a shard iterator stands for.
type Iterator struct {
	// Stream is the stream name, at most MaxStreamNameLen bytes.
	Stream string
	// ShardIndex is the index of the shard in the stream.
	ShardIndex int
	// Position is the position in the shard's log of the next record to
	// return.
	Position uint64
	// Created is when the iterator was minted; it is kept to the
	// millisecond, and Decode returns it in UTC.
	Created time.Time
	// StreamCreated identifies the incarnation of the stream, e.g. its
	// creation time in Unix milliseconds. A stream deleted and re-created
	// under the same name gets a new value, so iterators of the old one stop
	// matching (see IsFor).
	StreamCreated int64
}

// IsFor reports whether it was minted for the stream named stream whose
// incarnation is streamCreated. A caller that resolves the stream of a
// decoded iterator must check this: an iterator of a stream that was deleted
// and re-created under the same name is well formed and authentic, but
// points into a log that no longer exists.
func (it Iterator) IsFor(stream string, streamCreated int64) bool {
	return it.Stream == stream && it.StreamCreated == streamCreated
}

// ExpiredIteratorError is returned by Decode for an authentic iterator that
// is more than IteratorLifetime old. Kinesis reports it as
// ExpiredIteratorException, with Error() as the message.
type ExpiredIteratorError struct {
	Created time.Time // when the iterator was created
	Now     time.Time // the time Decode was given
}

// awsDateLayout is java.util.Date.toString, which AWS's message uses.
const awsDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// Error returns AWS's message text, e.g. "Iterator expired. The iterator was
// created at time Thu Jan 22 01:22:02 UTC 2015 while right now it is Thu Jan
// 22 01:27:05 UTC 2015 which is further in the future than the tolerated
// delay of 300000 milliseconds."
func (e *ExpiredIteratorError) Error() string {
	return "Iterator expired. The iterator was created at time " + e.Created.UTC().Format(awsDateLayout) +
		" while right now it is " + e.Now.UTC().Format(awsDateLayout) +
		" which is further in the future than the tolerated delay of " +
		strconv.FormatInt(IteratorLifetime.Milliseconds(), 10) + " milliseconds."
}

// IteratorCodec mints and checks shard iterators with one secret. It is
// immutable after NewIteratorCodec and safe for concurrent use.
//
// All servers that must accept each other's iterators (and one server across
// restarts, for the 5 minutes an iterator lives) need the same secret; with
// a new secret, outstanding iterators become invalid, which clients treat
// like any invalid iterator (they get a new one with GetShardIterator).
type IteratorCodec struct {
	macKey []byte
	block  cipher.Block
}

// NewIteratorCodec returns a codec keyed by secret, which must be 32 bytes
// from a cryptographically secure source. The codec keeps no reference to
// secret.
func NewIteratorCodec(secret []byte) (*IteratorCodec, error) {
	if len(secret) != iteratorSecretLen {
		return nil, errors.New("stream: iterator secret is " + strconv.Itoa(len(secret)) +
			" bytes, want 32 random bytes")
	}
	macKey, err := hkdf.Key(sha256.New, secret, nil, "sluice shard iterator v1 mac", 32)
	if err != nil {
		return nil, errors.New("stream: cannot derive iterator mac key: " + err.Error())
	}
	encKey, err := hkdf.Key(sha256.New, secret, nil, "sluice shard iterator v1 enc", 32)
	if err != nil {
		return nil, errors.New("stream: cannot derive iterator encryption key: " + err.Error())
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, errors.New("stream: cannot create iterator cipher: " + err.Error())
	}
	return &IteratorCodec{macKey: macKey, block: block}, nil
}

// Encode returns the shard iterator string of it. Created is kept to the
// millisecond. A stream name longer than MaxStreamNameLen is a caller bug
// (stream names are validated at CreateStream) and panics.
func (c *IteratorCodec) Encode(it Iterator) string {
	if len(it.Stream) > MaxStreamNameLen {
		panic("BUG: stream: iterator for a stream name of " + strconv.Itoa(len(it.Stream)) + " bytes")
	}
	var buf [iteratorHeaderLen + iteratorFixedLen + MaxStreamNameLen]byte
	raw := buf[:iteratorHeaderLen+iteratorFixedLen+len(it.Stream)]
	raw[0] = iteratorVersion
	plain := raw[iteratorHeaderLen:]
	putBEUint64(plain[0:8], uint64(it.StreamCreated))
	putBEUint64(plain[8:16], uint64(int64(it.ShardIndex)))
	putBEUint64(plain[16:24], it.Position)
	putBEUint64(plain[24:32], uint64(it.Created.UnixMilli()))
	copy(plain[iteratorFixedLen:], it.Stream)

	tag := c.tag(raw[0], plain)
	copy(raw[1:iteratorHeaderLen], tag[:iteratorTagLen])
	cipher.NewCTR(c.block, raw[1:iteratorHeaderLen]).XORKeyStream(plain, plain)
	return iteratorEncoding.EncodeToString(raw)
}

// tag returns HMAC-SHA256(macKey, version | plain).
func (c *IteratorCodec) tag(version byte, plain []byte) [sha256.Size]byte {
	mac := hmac.New(sha256.New, c.macKey)
	mac.Write([]byte{version})
	mac.Write(plain)
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	return sum
}

// Decode checks and decodes a shard iterator at time now. It returns
// ErrInvalidIterator for anything this codec did not mint, and an
// *ExpiredIteratorError for an authentic iterator created more than
// IteratorLifetime before now. An iterator whose creation time is after now
// (clocks of servers sharing a secret disagree) is accepted.
//
// Decode does not know which stream exists under which incarnation; the
// caller checks that with Iterator.IsFor.
func (c *IteratorCodec) Decode(s string, now time.Time) (Iterator, error) {
	minLen := iteratorEncoding.EncodedLen(iteratorHeaderLen + iteratorFixedLen)
	if len(s) < minLen || len(s) > MaxIteratorLen {
		return Iterator{}, ErrInvalidIterator
	}
	for i := 0; i < len(s); i++ {
		if !isBase64URL(s[i]) {
			return Iterator{}, ErrInvalidIterator
		}
	}
	var in [MaxIteratorLen]byte
	var buf [MaxIteratorLen * 3 / 4]byte
	n, err := iteratorEncoding.Decode(buf[:], in[:copy(in[:], s)])
	if err != nil || n < iteratorHeaderLen+iteratorFixedLen || buf[0] != iteratorVersion {
		return Iterator{}, ErrInvalidIterator
	}
	raw := buf[:n]
	plain := raw[iteratorHeaderLen:]
	cipher.NewCTR(c.block, raw[1:iteratorHeaderLen]).XORKeyStream(plain, plain)
	tag := c.tag(raw[0], plain)
	if !hmac.Equal(tag[:iteratorTagLen], raw[1:iteratorHeaderLen]) {
		return Iterator{}, ErrInvalidIterator
	}
	created := time.UnixMilli(int64(beUint64(plain[24:32]))).UTC()
	if now.Sub(created) > IteratorLifetime {
		return Iterator{}, &ExpiredIteratorError{Created: created, Now: now}
	}
	return Iterator{
		Stream:        string(plain[iteratorFixedLen:]),
		ShardIndex:    int(int64(beUint64(plain[8:16]))),
		Position:      beUint64(plain[16:24]),
		Created:       created,
		StreamCreated: int64(beUint64(plain[0:8])),
	}, nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
