package stream

import "strconv"

// ShardIDPrefix starts every canonical shard id.
const ShardIDPrefix = "shardId-"

// MaxShardIndex is the largest shard index. Shard indexes are allocated
// monotonically per stream from 0 (resharding children take the next unused
// ones) and are never reused. 2^31-1 is kinesalite's bound, and it keeps the
// top bit of the 8-hex-digit shard index field of a sequence number clear
// (kinesalite rejects sequence numbers with it set: "Shard index too high").
const MaxShardIndex = 1<<31 - 1

// shardIDDigits is the zero-padded width of the index in a canonical id.
const shardIDDigits = 12

// ShardID returns the canonical id of the shard with the given index:
// "shardId-" followed by the index zero-padded to 12 decimal digits, e.g.
// "shardId-000000000000". An index outside [0, MaxShardIndex] is a caller
// bug and panics.
func ShardID(index int) string {
	var buf [len(ShardIDPrefix) + shardIDDigits]byte
	return string(AppendShardID(buf[:0], index))
}

// AppendShardID appends ShardID(index) to dst and returns the extended slice.
func AppendShardID(dst []byte, index int) []byte {
	if index < 0 || index > MaxShardIndex {
		panic("BUG: stream: shard index " + strconv.Itoa(index) + " out of range [0, 2^31-1]")
	}
	dst = append(dst, ShardIDPrefix...)
	return appendPadded(dst, uint64(index), shardIDDigits)
}

// ParseShardID returns the index of a shard id.
//
// It accepts the canonical form "shardId-" + 12 digits, and two lenient
// forms: "shardId-" followed by any number of digits ("shardId-5",
// "shardId-0000000000005") and bare digits ("5"). kinesalite resolves these
// to the canonical id, and AWS is reported to do the same for
// GetShardIterator (KINESIS_API.md 3.1, marked unsure); accepting them is
// harmless, because a client only ever gets canonical ids back (callers
// echo ShardID(index), never the input). Stricter than kinesalite, which
// takes whatever follows the first '-' of any prefix ("foo-5"): the prefix
// must be exactly "shardId-" (case-sensitive), and there is no sign, space
// or other byte. The index must be in [0, MaxShardIndex]. Errors wrap
// ErrInvalidShardID; a well-formed id of a shard that does not exist is the
// caller's ResourceNotFoundException.
func ParseShardID(s string) (int, error) {
	digits := s
	if len(s) >= len(ShardIDPrefix) && s[:len(ShardIDPrefix)] == ShardIDPrefix {
		digits = s[len(ShardIDPrefix):]
	}
	if digits == "" {
		return 0, newParseError(s, "no shard index, want \"shardId-\" and 12 digits", ErrInvalidShardID)
	}
	index := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, newParseError(s, "byte "+strconv.Itoa(len(s)-len(digits)+i)+" is "+quoteByte(c)+
				", want \"shardId-\" and 12 digits", ErrInvalidShardID)
		}
		index = index*10 + int(c-'0')
		if index > MaxShardIndex {
			return 0, newParseError(s, "shard index greater than 2^31-1", ErrInvalidShardID)
		}
	}
	return index, nil
}
