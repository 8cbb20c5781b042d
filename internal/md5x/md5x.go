package md5x

//go:generate go run gen.go

import (
	"crypto/md5"
	"encoding/binary"
	"unsafe"
)

// maxBlockMsg is the longest message that fits one block: 64 bytes less
// the 0x80 pad byte and the 8-byte bit length.
const maxBlockMsg = 55

// lanes is how many messages the vector kernel hashes at once.
const lanes = 16

// SumStrings sets out[i] to the MD5 digest of the bytes of msgs[i]. out
// must be at least as long as msgs.
func SumStrings(msgs []string, out [][md5.Size]byte) {
	out = out[:len(msgs)]
	if !useAVX512 || len(msgs) == 1 {
		// One message alone (PutRecord): crypto/md5 is faster than a
		// pass of the kernel, about 110 against 160 ns.
		for i, s := range msgs {
			out[i] = sum1(s)
		}
		return
	}
	var b batch
	for i, s := range msgs {
		if len(s) > maxBlockMsg {
			out[i] = sum1(s)
			continue
		}
		b.add(s, i)
		if b.n == lanes {
			b.sum(out)
		}
	}
	switch b.n {
	case 0:
	case 1:
		// The last one alone: crypto/md5, as above.
		i := b.dst[0]
		out[i] = sum1(msgs[i])
	default:
		b.sum(out)
	}
}

// sum1 is crypto/md5's digest of s, without copying s (md5.Sum neither
// keeps nor modifies its argument).
func sum1(s string) [md5.Size]byte {
	return md5.Sum(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// batch is up to 16 one-block messages laid out for blocks16.
type batch struct {
	m   [16][lanes]uint32 // m[w][l]: word w of lane l's padded block
	dst [lanes]int        // index in out of lane l's digest
	n   int
}

// add pads s into the next lane.
func (b *batch) add(s string, idx int) {
	var blk [64]byte
	copy(blk[:], s)
	blk[len(s)] = 0x80
	binary.LittleEndian.PutUint64(blk[56:], uint64(len(s))*8)
	l := b.n
	for w := range 16 {
		b.m[w][l] = binary.LittleEndian.Uint32(blk[4*w:])
	}
	b.dst[l] = idx
	b.n++
}

// sum hashes the batch's lanes into out and empties it.
func (b *batch) sum(out [][md5.Size]byte) {
	var st [4][lanes]uint32
	blocks16(&st, &b.m)
	for l := range b.n {
		d := &out[b.dst[l]]
		binary.LittleEndian.PutUint32(d[0:], st[0][l])
		binary.LittleEndian.PutUint32(d[4:], st[1][l])
		binary.LittleEndian.PutUint32(d[8:], st[2][l])
		binary.LittleEndian.PutUint32(d[12:], st[3][l])
	}
	b.n = 0
}
