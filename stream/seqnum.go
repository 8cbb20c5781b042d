package stream

import (
	"math/bits"
	"strconv"
)

// Sequence numbers (KINESIS_API.md 3.2).
//
// A sequence number is the decimal form of a 188-bit integer, whose 47 hex
// digits are, most significant first (the "v2" layout, reverse-engineered by
// kinesalite and matching real AWS values):
//
//	hex digits  bits     field
//	[0]         184-187  version, always 2
//	[1..9]      148-183  shard creation time, Unix seconds (36 bits)
//	[10]        144-147  low nibble of the shard index
//	[11..26]    80-143   counter: the record's position in the shard's log
//	                     (64 bits, top bit 0)
//	[27..28]    72-79    reserved, always 00
//	[29..37]    36-71    record arrival time, Unix seconds (36 bits)
//	[38..45]    4-35     shard index (32 bits, top bit 0)
//	[46]        0-3      trailing 2
//
// Because the leading digit is 2, every value lies in [2^185, 3*2^184), that
// is [4.90e55, 7.36e55): the decimal form always has exactly 56 digits, so
// FormatSeqNum never pads, and decimal strings compare like the integers.
// Within one shard the creation time and shard index are fixed and the
// counter sits above the arrival time, so sequence numbers order exactly as
// positions do, whatever the arrival times (a clock that steps back cannot
// reorder them).
const (
	// SeqNumDigits is the length of every sequence number this server
	// produces.
	SeqNumDigits = 56

	// EndPosition is the counter of a closed shard's EndingSequenceNumber,
	// 0x7fffffffffffffff, as in kinesalite and kinesis-mock. It is above the
	// position of any record.
	EndPosition uint64 = 1<<63 - 1

	// MaxPosition is the largest position a record can have.
	MaxPosition = EndPosition - 1

	// MaxSeqNumSeconds is the largest time, in Unix seconds, a 9-hex-digit
	// field holds (2^36-1, in the year 4147).
	MaxSeqNumSeconds int64 = 1<<36 - 1
)

// SeqNum is a decoded sequence number.
type SeqNum struct {
	// ShardCreated is the creation time of the shard, Unix seconds,
	// in [0, MaxSeqNumSeconds].
	ShardCreated int64
	// ShardIndex is the index of the shard, in [0, MaxShardIndex].
	ShardIndex int
	// Position is the record's position in the shard's log (the segment.Log
	// counter from 0), in [0, MaxPosition], or EndPosition for a closed
	// shard's EndingSequenceNumber.
	Position uint64
	// Arrival is the record's arrival time, Unix seconds, in
	// [0, MaxSeqNumSeconds]. segment keeps arrival times in milliseconds;
	// divide by 1000.
	Arrival int64
}

// StartingSeqNum returns the StartingSequenceNumber of a shard: position 0,
// arrival = shard creation time (kinesalite). It sorts below the sequence
// number of every record of the shard, and GetShardIterator
// AT_SEQUENCE_NUMBER must accept it even though no record has it
// (kinesis-mock PR #95).
func StartingSeqNum(shardCreated int64, shardIndex int) SeqNum {
	return SeqNum{ShardCreated: shardCreated, ShardIndex: shardIndex, Position: 0, Arrival: shardCreated}
}

// EndingSeqNum returns the EndingSequenceNumber of a shard closed at time
// closed (Unix seconds) by a split, merge or UpdateShardCount: counter
// EndPosition, arrival = the close time (kinesalite). It sorts above the
// sequence number of every record of the shard.
func EndingSeqNum(shardCreated int64, shardIndex int, closed int64) SeqNum {
	return SeqNum{ShardCreated: shardCreated, ShardIndex: shardIndex, Position: EndPosition, Arrival: closed}
}

// String returns FormatSeqNum(s).
func (s SeqNum) String() string { return FormatSeqNum(s) }

// FormatSeqNum returns the 56-digit decimal sequence number of s. It
// allocates only the returned string. A field out of its documented range
// is a caller bug and panics.
func FormatSeqNum(s SeqNum) string {
	var buf [SeqNumDigits]byte
	return string(AppendSeqNum(buf[:0], s))
}

// AppendSeqNum appends the 56-digit decimal sequence number of s to dst and
// returns the extended slice. It does not allocate when dst has room. A field
// out of its documented range is a caller bug and panics.
func AppendSeqNum(dst []byte, s SeqNum) []byte {
	if s.ShardCreated < 0 || s.ShardCreated > MaxSeqNumSeconds ||
		s.Arrival < 0 || s.Arrival > MaxSeqNumSeconds ||
		s.ShardIndex < 0 || s.ShardIndex > MaxShardIndex ||
		s.Position > EndPosition {
		panic("BUG: stream: sequence number field out of range: " + s.debugString())
	}
	w2, w1, w0 := s.limbs()

	// Convert the 188-bit value to decimal: N = (t*1e19 + c1)*1e19 + c0.
	// w2 < 2^60 < 1e19, so the first division needs only two Div64 steps,
	// and its quotient (q1, q0) < 2^125 has q1 < 2^61 < 1e19, as the second
	// division requires. t = N / 1e38 < 10^18 gives the top 18 digits.
	const e19 = 1e19
	q1, r := bits.Div64(w2, w1, e19)
	q0, c0 := bits.Div64(r, w0, e19)
	t, c1 := bits.Div64(q1, q0, e19)

	n := len(dst)
	dst = append(dst, make([]byte, SeqNumDigits)...) // does not allocate when it fits
	b := dst[n : n+SeqNumDigits]
	putDigits(b[0:18], t)
	putDigits(b[18:37], c1)
	putDigits(b[37:56], c0)
	return dst
}

// limbs returns the 188-bit layout of s as three 64-bit limbs, most
// significant first. Fields must be in range.
func (s SeqNum) limbs() (w2, w1, w0 uint64) {
	index := uint64(s.ShardIndex)
	arrival := uint64(s.Arrival)
	w0 = 2 | index<<4 | arrival<<36                                            // bits 0-63
	w1 = arrival>>28 | s.Position<<16                                          // bits 64-127; reserved byte 72-79 is 0
	w2 = s.Position>>48 | (index&0xf)<<16 | uint64(s.ShardCreated)<<20 | 2<<56 // bits 128-187
	return w2, w1, w0
}

func (s SeqNum) debugString() string {
	return "{ShardCreated:" + strconv.FormatInt(s.ShardCreated, 10) +
		" ShardIndex:" + strconv.Itoa(s.ShardIndex) +
		" Position:" + strconv.FormatUint(s.Position, 10) +
		" Arrival:" + strconv.FormatInt(s.Arrival, 10) + "}"
}

// ParseSeqNum decodes a sequence number of this server. It rejects, with an
// error wrapping ErrInvalidSeqNum that says what is wrong, anything that is
// not a 56-digit decimal in the v2 layout: signs, spaces, leading zeros,
// other lengths, another version or trailing digit, a non-zero reserved
// byte, a counter or shard index with its top bit set, or a shard-index
// nibble that disagrees with the shard index. Sequence numbers of the legacy
// v0/v1 layouts that kinesalite also parses are rejected: this server never
// issued them. Whether the sequence number belongs to the shard and stream
// it is used with is for the caller to check (ShardIndex, ShardCreated).
//
// ParseSeqNum(FormatSeqNum(s)) == s for every s in range, and a string
// ParseSeqNum accepts is FormatSeqNum of its result.
func ParseSeqNum(s string) (SeqNum, error) {
	if reason := checkDigits(s); reason != "" {
		return SeqNum{}, newParseError(s, reason, ErrInvalidSeqNum)
	}
	if len(s) != SeqNumDigits {
		return SeqNum{}, newParseError(s, strconv.Itoa(len(s))+" digits, want 56", ErrInvalidSeqNum)
	}
	// N = (c2*1e19 + c1)*1e19 + c0 < 10^56 < 2^187: no overflow.
	const e19 = 1e19
	c2 := parseDigits(s[0:18])
	c1 := parseDigits(s[18:37])
	c0 := parseDigits(s[37:56])
	hi, lo := bits.Mul64(c2, e19)
	lo, carry := bits.Add64(lo, c1, 0)
	hi += carry
	p1hi, w0 := bits.Mul64(lo, e19)
	p2hi, p2lo := bits.Mul64(hi, e19)
	w1, carry := bits.Add64(p1hi, p2lo, 0)
	w2 := p2hi + carry
	w0, carry = bits.Add64(w0, c0, 0)
	w1, carry = bits.Add64(w1, 0, carry)
	w2 += carry

	if v := w2 >> 56; v != 2 {
		return SeqNum{}, newParseError(s, "layout version "+strconv.FormatUint(v, 10)+", want 2", ErrInvalidSeqNum)
	}
	if v := w0 & 0xf; v != 2 {
		return SeqNum{}, newParseError(s, "trailing hex digit "+strconv.FormatUint(v, 16)+", want 2", ErrInvalidSeqNum)
	}
	if v := (w1 >> 8) & 0xff; v != 0 {
		return SeqNum{}, newParseError(s, "reserved byte 0x"+strconv.FormatUint(v, 16)+", want 0", ErrInvalidSeqNum)
	}
	sn := SeqNum{
		ShardCreated: int64((w2 >> 20) & uint64(MaxSeqNumSeconds)),
		Position:     w1>>16 | w2<<48,
		Arrival:      int64((w0>>36 | w1<<28) & uint64(MaxSeqNumSeconds)),
	}
	index := (w0 >> 4) & 0xffffffff
	if sn.Position > EndPosition {
		return SeqNum{}, newParseError(s, "counter 0x"+strconv.FormatUint(sn.Position, 16)+" has its top bit set", ErrInvalidSeqNum)
	}
	if index > MaxShardIndex {
		return SeqNum{}, newParseError(s, "shard index "+strconv.FormatUint(index, 10)+" greater than 2^31-1", ErrInvalidSeqNum)
	}
	if nibble := (w2 >> 16) & 0xf; nibble != index&0xf {
		return SeqNum{}, newParseError(s, "shard index nibble "+strconv.FormatUint(nibble, 16)+
			" does not match shard index "+strconv.FormatUint(index, 10), ErrInvalidSeqNum)
	}
	sn.ShardIndex = int(index)
	return sn, nil
}

// parseDigits returns the value of at most 19 decimal digits.
func parseDigits(s string) uint64 {
	var v uint64
	for i := 0; i < len(s); i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}
