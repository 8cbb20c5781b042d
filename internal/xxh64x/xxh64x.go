package xxh64x

import (
	"encoding/binary"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// Sum64s sets out[i] to the XXH64 of bufs[i] (seed 0). out must be at
// least as long as bufs. Buffers of equal length, six at a time, are
// hashed together where the CPU allows it.
func Sum64s(bufs [][]byte, out []uint64) {
	out = out[:len(bufs)]
	i := 0
	if useAVX512 {
		for ; i+6 <= len(bufs); i += 6 {
			if !sum6(bufs[i:i+6], out[i:i+6]) {
				break
			}
		}
	}
	for ; i < len(bufs); i++ {
		out[i] = xxhash.Sum64(bufs[i])
	}
}

// sum6 hashes six buffers of equal length of at least 32 bytes with the
// vector kernel; it returns false, having done nothing, for others.
func sum6(bufs [][]byte, out []uint64) bool {
	n := len(bufs[0])
	if n < 32 {
		return false
	}
	var ptrs [6]*byte
	for i, b := range bufs {
		if len(b) != n {
			return false
		}
		ptrs[i] = &b[0]
	}
	var acc [24]uint64
	p1, p2 := prime1, prime2 // variables: the sums wrap, as XXH64's do
	for s := range 6 {
		acc[4*s+0] = p1 + p2
		acc[4*s+1] = p2
		acc[4*s+2] = 0
		acc[4*s+3] = -p1
	}
	stripes := n / 32
	stripes6(&acc, &ptrs, stripes)
	for s, b := range bufs {
		out[s] = finish(acc[4*s:4*s+4], b[stripes*32:], uint64(n))
	}
	return true
}

func round(acc, input uint64) uint64 {
	acc += input * prime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * prime1
}

func mergeRound(acc, val uint64) uint64 {
	val = round(0, val)
	acc ^= val
	return acc*prime1 + prime4
}

// finish is XXH64's end for an input of n >= 32 bytes: the four lane
// accumulators after every whole 32-byte stripe, and tail, the bytes after
// them.
func finish(v []uint64, tail []byte, n uint64) uint64 {
	h := bits.RotateLeft64(v[0], 1) + bits.RotateLeft64(v[1], 7) + bits.RotateLeft64(v[2], 12) + bits.RotateLeft64(v[3], 18)
	h = mergeRound(h, v[0])
	h = mergeRound(h, v[1])
	h = mergeRound(h, v[2])
	h = mergeRound(h, v[3])
	h += n
	for ; len(tail) >= 8; tail = tail[8:] {
		h ^= round(0, binary.LittleEndian.Uint64(tail))
		h = bits.RotateLeft64(h, 27)*prime1 + prime4
	}
	if len(tail) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(tail)) * prime1
		h = bits.RotateLeft64(h, 23)*prime2 + prime3
		tail = tail[4:]
	}
	for _, c := range tail {
		h ^= uint64(c) * prime5
		h = bits.RotateLeft64(h, 11) * prime1
	}
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}
