package frame

import "math/bits"

// The position field of a sequence number (the log counter) sits at bit 80
// of the 188-bit integer whose decimal form the sequence number is
// (stream/seqnum.go), so the record at position p+j has the sequence
// number of the record at p plus j*2^80. An Ack group carries the first
// sequence number only; SeqNumOffset computes the others.

// offsetDigits bounds the decimal digits of j*2^80 for j < 2^64 (2^144 has
// 44 digits).
const offsetDigits = 44

// chunkDigits is the decimal digits handled as one uint64 (10^19 < 2^64).
const chunkDigits = 19

var pow10 = [chunkDigits + 1]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// SeqNumOffset returns the decimal first + j*2^80: the sequence number of
// the record j places after the one whose sequence number is first in the
// same Ack group. first must be a decimal (digits only, as DecodeAck
// checks); the result has no leading zeros. It allocates the result only.
func SeqNumOffset(first string, j uint64) string {
	if j == 0 {
		return first
	}
	var buf [maxSeqNumOffset]byte
	return string(AppendSeqNumOffset(buf[:0], first, j))
}

// maxSeqNumOffset is the room SeqNumOffset needs on the stack for a
// first sequence number of up to 64 digits; longer ones spill to the heap.
const maxSeqNumOffset = 64 + 1

// AppendSeqNumOffset appends the decimal first + j*2^80 to dst (see
// SeqNumOffset). It does not allocate when dst has room for
// max(len(first), 44)+1 more bytes.
func AppendSeqNumOffset(dst []byte, first string, j uint64) []byte {
	// j*2^80 in base 10^19: N = (t*1e19 + c1)*1e19 + c0, as in
	// stream.AppendSeqNum; w2 = j>>48 < 1e19 and the quotient's high word
	// q1 < 2^17, so every Div64 is in range, and t < 2^144/1e38 < 1e6.
	const e19 = 1e19
	w2, w1 := j>>48, j<<16
	q1, r := bits.Div64(w2, w1, e19)
	q0, c0 := bits.Div64(r, 0, e19)
	t, c1 := bits.Div64(q1, q0, e19)
	addend := [3]uint64{c0, c1, t}

	// Right-align first in a field one digit wider than the longer of the
	// two numbers (the sum of a w-digit and a shorter number has at most
	// w+1 digits).
	w := max(len(first), offsetDigits) + 1
	n := len(dst)
	dst = append(dst, make([]byte, w)...) // does not allocate when it fits
	b := dst[n:]
	pad := w - len(first)
	for i := range pad {
		b[i] = '0'
	}
	copy(b[pad:], first)

	// Add chunk by chunk from the right; after the addend's chunks only a
	// carry goes on.
	var carry uint64
	for k, end := 0, w; end > 0; k, end = k+1, end-chunkDigits {
		var add uint64
		if k < len(addend) {
			add = addend[k]
		} else if carry == 0 {
			break
		}
		start := max(end-chunkDigits, 0)
		mod := pow10[end-start]
		v := parseChunk(b[start:end])
		s, c := bits.Add64(v, add, carry)
		carry = 0
		if c != 0 || s >= mod {
			// v, add < mod and the true sum < 2*mod: one subtraction (mod
			// 2^64 when Add64 carried) brings it into range.
			s -= mod
			carry = 1
		}
		putChunk(b[start:end], s)
	}
	// Drop the leading zeros (at least the spare digit when nothing
	// carried into it), keeping one digit.
	z := 0
	for z < w-1 && b[z] == '0' {
		z++
	}
	copy(b, b[z:])
	return dst[:n+w-z]
}

// parseChunk returns the value of at most 19 decimal digits.
func parseChunk(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v*10 + uint64(c-'0')
	}
	return v
}

// putChunk writes v into b as len(b) decimal digits with leading zeros.
func putChunk(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}
