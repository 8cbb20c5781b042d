package stream

import (
	"crypto/md5"
	"errors"
	"math/bits"
	"strconv"
)

// HashKey is a point of the Kinesis hash-key space, the unsigned 128-bit
// integers [0, 2^128-1]. Hi holds the high 64 bits, Lo the low 64 bits, so
// the value is Hi*2^64 + Lo and the big-endian byte order of Bytes is the
// numeric order. The zero value is hash key 0.
//
// It is a plain value type: 128-bit arithmetic uses math/bits, never
// math/big, because routing a record (HashKeyFromPartitionKey, then
// SearchRanges) is on the PutRecords hot path.
type HashKey struct {
	Hi, Lo uint64
}

// maxHashKeyDecimal is 2^128-1, the largest hash key, in decimal.
const maxHashKeyDecimal = "340282366920938463463374607431768211455"

// MaxHashKey returns 2^128-1, the largest hash key.
func MaxHashKey() HashKey { return HashKey{^uint64(0), ^uint64(0)} }

// HashKeyFromPartitionKey returns the hash key Kinesis routes a record by
// when it has no ExplicitHashKey: the MD5 digest of the UTF-8 bytes of the
// partition key, read as a big-endian unsigned 128-bit integer
// (KINESIS_API.md 3.1). It does not allocate.
func HashKeyFromPartitionKey(partitionKey string) HashKey {
	// md5.Sum neither keeps nor modifies its argument, so it may alias the
	// string: no copy, and no zeroed stack buffer to copy into.
	sum := md5.Sum(stringBytes(partitionKey))
	return HashKeyFromBytes(sum)
}

// HashKeyFromBytes reads b as a big-endian unsigned 128-bit integer.
func HashKeyFromBytes(b [16]byte) HashKey {
	return HashKey{
		Hi: beUint64(b[0:8]),
		Lo: beUint64(b[8:16]),
	}
}

// Bytes returns k as 16 big-endian bytes.
func (k HashKey) Bytes() [16]byte {
	var b [16]byte
	putBEUint64(b[0:8], k.Hi)
	putBEUint64(b[8:16], k.Lo)
	return b
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func putBEUint64(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
	b[4], b[5], b[6], b[7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// ParseHashKey parses a hash key in the form Kinesis uses on the wire
// (ExplicitHashKey, StartingHashKey, EndingHashKey, NewStartingHashKey): a
// decimal integer in [0, 2^128-1] without sign, spaces, or leading zeros
// (the model pattern is `0|([1-9]\d{0,38})`), so that a parsed key prints
// back as the same string. Errors wrap ErrInvalidHashKey, and also
// ErrHashKeyOutOfRange when the input is a well-formed decimal above
// 2^128-1.
func ParseHashKey(s string) (HashKey, error) {
	if reason := checkDigits(s); reason != "" {
		return HashKey{}, newParseError(s, reason, ErrInvalidHashKey)
	}
	var k HashKey
	for i := 0; i < len(s); i++ {
		var ok bool
		if k, ok = k.mulAdd10(uint64(s[i] - '0')); !ok {
			return HashKey{}, newParseError(s,
				"greater than 2^128-1 ("+maxHashKeyDecimal+")",
				ErrInvalidHashKey, ErrHashKeyOutOfRange)
		}
	}
	return k, nil
}

// mulAdd10 returns k*10 + d and whether that fits in 128 bits.
func (k HashKey) mulAdd10(d uint64) (HashKey, bool) {
	hiCarry, hi := bits.Mul64(k.Hi, 10)
	loCarry, lo := bits.Mul64(k.Lo, 10)
	hi, c1 := bits.Add64(hi, loCarry, 0)
	lo, c2 := bits.Add64(lo, d, 0)
	hi, c3 := bits.Add64(hi, 0, c2)
	return HashKey{hi, lo}, hiCarry == 0 && c1 == 0 && c3 == 0
}

// String returns k in decimal, the form Kinesis uses on the wire.
func (k HashKey) String() string {
	var buf [39]byte // 2^128-1 has 39 digits
	return string(AppendHashKey(buf[:0], k))
}

// AppendHashKey appends k in decimal to dst and returns the extended slice.
func AppendHashKey(dst []byte, k HashKey) []byte {
	if k.Hi == 0 {
		return strconv.AppendUint(dst, k.Lo, 10)
	}
	// k = q*1e19 + r0 with q < 2^128/1e19 < 2^65, so q may need a second
	// division: q = t*1e19 + r1 with t < 35 (one or two digits).
	const e19 = 1e19
	qHi, rem := k.Hi/e19, k.Hi%e19
	qLo, r0 := bits.Div64(rem, k.Lo, e19)
	if qHi == 0 {
		dst = strconv.AppendUint(dst, qLo, 10)
	} else {
		t, r1 := bits.Div64(qHi, qLo, e19)
		dst = strconv.AppendUint(dst, t, 10)
		dst = appendPadded(dst, r1, 19)
	}
	return appendPadded(dst, r0, 19)
}

// appendPadded appends v as exactly width decimal digits (v < 10^width).
func appendPadded(dst []byte, v uint64, width int) []byte {
	n := len(dst)
	for range width {
		dst = append(dst, '0')
	}
	putDigits(dst[n:], v)
	return dst
}

// putDigits writes v into b as len(b) decimal digits, zero-padded on the
// left; digits that do not fit are dropped.
func putDigits(b []byte, v uint64) {
	i := len(b)
	for i >= 2 {
		q := v / 100
		d := (v - q*100) * 2
		v = q
		i -= 2
		b[i], b[i+1] = digitPairs[d], digitPairs[d+1]
	}
	if i == 1 {
		b[0] = byte('0' + v%10)
	}
}

const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// Compare returns -1, 0 or +1 as k is less than, equal to or greater than o.
func (k HashKey) Compare(o HashKey) int {
	switch {
	case k.Hi < o.Hi:
		return -1
	case k.Hi > o.Hi:
		return 1
	case k.Lo < o.Lo:
		return -1
	case k.Lo > o.Lo:
		return 1
	}
	return 0
}

// add returns k+o modulo 2^128.
func (k HashKey) add(o HashKey) HashKey {
	lo, c := bits.Add64(k.Lo, o.Lo, 0)
	hi, _ := bits.Add64(k.Hi, o.Hi, c)
	return HashKey{hi, lo}
}

// inc returns k+1 modulo 2^128.
func (k HashKey) inc() HashKey { return k.add(HashKey{0, 1}) }

// dec returns k-1 modulo 2^128.
func (k HashKey) dec() HashKey {
	lo, b := bits.Sub64(k.Lo, 1, 0)
	hi, _ := bits.Sub64(k.Hi, 0, b)
	return HashKey{hi, lo}
}

// HashKeyRange is the inclusive range [Start, End] of hash keys a shard
// owns, as in a Kinesis Shard's HashKeyRange{StartingHashKey,
// EndingHashKey}. A valid range has Start <= End.
type HashKeyRange struct {
	Start, End HashKey
}

// FullHashKeyRange returns [0, 2^128-1], the whole hash-key space.
func FullHashKeyRange() HashKeyRange { return HashKeyRange{End: MaxHashKey()} }

// Contains reports whether k lies in r (both ends inclusive).
func (r HashKeyRange) Contains(k HashKey) bool {
	return r.Start.Compare(k) <= 0 && k.Compare(r.End) <= 0
}

// Overlaps reports whether r and o share at least one hash key. Resharding
// uses it to find the parents of a child shard.
func (r HashKeyRange) Overlaps(o HashKeyRange) bool {
	return r.Start.Compare(o.End) <= 0 && o.Start.Compare(r.End) <= 0
}

// String returns r as "[start, end]" in decimal, for messages and logs.
func (r HashKeyRange) String() string {
	b := make([]byte, 0, 2+39+2+39+1)
	b = append(b, '[')
	b = AppendHashKey(b, r.Start)
	b = append(b, ", "...)
	b = AppendHashKey(b, r.End)
	b = append(b, ']')
	return string(b)
}

// EvenSplit returns the hash-key ranges of n new shards, the way CreateStream
// (and UpdateShardCount, in this server) lays out the key space
// (KINESIS_API.md 3.1, kinesalite's algorithm, matching AWS): with step =
// floor(2^128/n), range i is [i*step, (i+1)*step-1], except that the last
// range ends at 2^128-1 and so absorbs the remainder. The ranges are sorted
// and tile the key space exactly once.
//
// n < 1 is a caller bug and panics; the caller validates ShardCount first.
func EvenSplit(n int) []HashKeyRange {
	if n < 1 {
		panic("BUG: stream: EvenSplit of " + strconv.Itoa(n) + " shards")
	}
	ranges := make([]HashKeyRange, n)
	if n == 1 {
		ranges[0] = FullHashKeyRange()
		return ranges
	}
	// 2^128 is the 3-limb number (1, 0, 0); dividing by n >= 2 leaves a
	// 2-limb quotient: 2^64/n in the high limb, then the remainder's limb.
	d := uint64(n)
	stepHi, r := bits.Div64(1, 0, d)
	stepLo, _ := bits.Div64(r, 0, d)
	step := HashKey{stepHi, stepLo}
	var start HashKey
	for i := range ranges {
		end := MaxHashKey()
		if i < n-1 {
			end = start.add(step).dec()
		}
		ranges[i] = HashKeyRange{Start: start, End: end}
		start = end.inc()
	}
	return ranges
}

// SplitRange splits r at newStart, the NewStartingHashKey of SplitShard
// (KINESIS_API.md 3.9): the children are low = [r.Start, newStart-1] and
// high = [newStart, r.End]. newStart must lie strictly inside r, r.Start <
// newStart <= r.End, so that both children are non-empty; otherwise the
// error wraps ErrSplitKeyOutOfRange.
//
// This is looser than AWS, which also rejects newStart == r.Start+1 and
// newStart == r.End ("is not both greater than one plus the shard's
// StartingHashKey ... and less than the shard's EndingHashKey"; kinesalite's
// tests against AWS confirm it). Manager.SplitShard applies AWS's rule
// before it calls SplitRange; UpdateShardCount's internal splits use this
// looser one.
func SplitRange(r HashKeyRange, newStart HashKey) (low, high HashKeyRange, err error) {
	if newStart.Compare(r.Start) <= 0 || newStart.Compare(r.End) > 0 {
		return HashKeyRange{}, HashKeyRange{}, &rangeError{
			kind: ErrSplitKeyOutOfRange,
			msg:  newStart.String() + " is not in (" + r.Start.String() + ", " + r.End.String() + "]",
		}
	}
	low = HashKeyRange{Start: r.Start, End: newStart.dec()}
	high = HashKeyRange{Start: newStart, End: r.End}
	return low, high, nil
}

// MergeRanges returns the union of two adjacent ranges, the hash-key range
// of the child of MergeShards (KINESIS_API.md 3.9). The ranges are adjacent
// when a.End+1 == b.Start or b.End+1 == a.Start: AWS defines adjacency as
// "the union of the hash key ranges for the two shards form a contiguous set
// with no gaps", which does not depend on the order of ShardToMerge and
// AdjacentShardToMerge (kinesalite only accepts a.End+1 == b.Start).
// Otherwise the error wraps ErrNotAdjacent.
func MergeRanges(a, b HashKeyRange) (HashKeyRange, error) {
	top := MaxHashKey()
	switch {
	case a.End != top && a.End.inc() == b.Start:
		return HashKeyRange{Start: a.Start, End: b.End}, nil
	case b.End != top && b.End.inc() == a.Start:
		return HashKeyRange{Start: b.Start, End: a.End}, nil
	}
	return HashKeyRange{}, &rangeError{
		kind: ErrNotAdjacent,
		msg:  a.String() + " and " + b.String(),
	}
}

// rangeError is the error of SplitRange and MergeRanges.
type rangeError struct {
	kind error
	msg  string
}

func (e *rangeError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *rangeError) Unwrap() error { return e.kind }

// SearchRanges returns the index of the range that contains k, or -1 if none
// does. ranges must be sorted by Start and must not overlap, as the open
// shards of a stream are (see CheckTiling); it is a binary search.
func SearchRanges(ranges []HashKeyRange, k HashKey) int {
	// Find the first range whose End >= k; it contains k if its Start <= k.
	lo, hi := 0, len(ranges)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ranges[mid].End.Compare(k) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(ranges) && ranges[lo].Start.Compare(k) <= 0 {
		return lo
	}
	return -1
}

// CheckTiling returns nil if ranges, in order, tile the whole hash-key space
// exactly once: the first starts at 0, each next one starts right after the
// previous one ends, and the last ends at 2^128-1. The open shards of a
// stream always do (KINESIS_API.md 3.1); metadata loading and tests check it.
func CheckTiling(ranges []HashKeyRange) error {
	if len(ranges) == 0 {
		return errors.New("stream: no hash key ranges")
	}
	if ranges[0].Start != (HashKey{}) {
		return errors.New("stream: hash key range 0 " + ranges[0].String() + " does not start at 0")
	}
	for i, r := range ranges {
		if r.Start.Compare(r.End) > 0 {
			return errors.New("stream: hash key range " + strconv.Itoa(i) + " " + r.String() + " is empty")
		}
		if i+1 < len(ranges) && (r.End == MaxHashKey() || r.End.inc() != ranges[i+1].Start) {
			return errors.New("stream: hash key ranges " + strconv.Itoa(i) + " " + r.String() + " and " +
				strconv.Itoa(i+1) + " " + ranges[i+1].String() + " are not contiguous")
		}
	}
	if last := ranges[len(ranges)-1]; last.End != MaxHashKey() {
		return errors.New("stream: last hash key range " + last.String() + " does not end at 2^128-1")
	}
	return nil
}
