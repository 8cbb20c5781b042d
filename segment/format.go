package segment

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// On-disk format; never change. See FORMAT.md, which is normative: every
// constant here must match it.
const (
	fileMagic   uint32 = 0x46534c53 // "SLSF" little-endian: fragment file header
	stripeMagic uint32 = 0x54534c53 // "SLST" little-endian: stripe chunk header

	formatVersion = 1

	fileHeaderSize = 64

	// stripeFixedSize is the fixed part of a stripe chunk header; the chunk
	// checksums (8 bytes per fragment) and the header checksum follow.
	stripeFixedSize = 48

	recordHeaderSize = 8

	// chunkAlign is the alignment of every chunk body length.
	chunkAlign = 8

	// maxFragments bounds k+m. The stripe header holds one checksum per
	// fragment, and the fragment index is one byte.
	maxFragments = 32

	// maxPartitionKeyBytes and maxExplicitHashKeyBytes are what the record
	// header can describe (u16 and u8 lengths).
	maxPartitionKeyBytes    = 1<<16 - 1
	maxExplicitHashKeyBytes = 1<<8 - 1
)

// stripeHeaderSize is the size of a stripe chunk header for n fragments.
func stripeHeaderSize(n int) int { return stripeFixedSize + 8*n + 8 }

var (
	errZeroHeader = errors.New("segment: header is all zero")
	errBadMagic   = errors.New("segment: bad magic")
	errBadVersion = errors.New("segment: unsupported format version")
	errBadHeader  = errors.New("segment: header checksum mismatch")
	errBadField   = errors.New("segment: header field out of range")
	errShort      = errors.New("segment: short buffer")
)

// fileHeader is the first fileHeaderSize bytes of every fragment file.
type fileHeader struct {
	index     int    // fragment index j, 0 <= j < k+m
	k, m      int    // data and parity fragments per stripe
	baseSeq   uint64 // position of the first record of the segment
	createdMs int64  // creation time, milliseconds since the epoch
	size      int64  // preallocated size of the file in bytes
}

func appendFileHeader(dst []byte, h fileHeader) []byte {
	var b [fileHeaderSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], fileMagic)
	b[4] = formatVersion
	b[5] = byte(h.index)
	b[6] = byte(h.k)
	b[7] = byte(h.m)
	le.PutUint64(b[8:], h.baseSeq)
	le.PutUint64(b[16:], uint64(h.createdMs))
	le.PutUint64(b[24:], uint64(h.size))
	le.PutUint64(b[56:], xxhash.Sum64(b[:56]))
	return append(dst, b[:]...)
}

func decodeFileHeader(b []byte) (fileHeader, error) {
	var h fileHeader
	if len(b) < fileHeaderSize {
		return h, errShort
	}
	b = b[:fileHeaderSize]
	le := binary.LittleEndian
	if isZero(b) {
		return h, errZeroHeader
	}
	if le.Uint32(b[0:]) != fileMagic {
		return h, errBadMagic
	}
	if le.Uint64(b[56:]) != xxhash.Sum64(b[:56]) {
		return h, errBadHeader
	}
	if b[4] != formatVersion {
		return h, fmt.Errorf("%w: %d", errBadVersion, b[4])
	}
	h.index, h.k, h.m = int(b[5]), int(b[6]), int(b[7])
	h.baseSeq = le.Uint64(b[8:])
	h.createdMs = int64(le.Uint64(b[16:]))
	h.size = int64(le.Uint64(b[24:]))
	if h.k < 1 || h.k+h.m > maxFragments || h.index >= h.k+h.m || h.size < fileHeaderSize {
		return h, errBadField
	}
	return h, nil
}

// stripeHeader describes one stripe; a copy of it, differing only in index,
// precedes the stripe's chunk in every fragment file.
type stripeHeader struct {
	index      int    // fragment index of the chunk that follows
	k, m       int    // geometry
	firstSeq   uint64 // position of the first record in the stripe
	count      uint32 // records in the stripe
	payloadLen uint32 // bytes of encoded records before padding
	chunkLen   uint32 // bytes of every chunk body, a multiple of chunkAlign
	timestamp  int64  // arrival time of every record in the stripe, ms
	flags      uint32 // stripeFlag*
	sums       [maxFragments]uint64
}

// stripeFlagLost marks a header written by repair for a stripe that could
// not be rebuilt, so that a later recovery never mistakes the stripe for a
// torn write and cuts it (reusing its positions).
const stripeFlagLost uint32 = 1

// same reports whether two headers describe the same stripe (index and
// flags aside).
func (h *stripeHeader) same(o *stripeHeader) bool {
	return h.k == o.k && h.m == o.m && h.firstSeq == o.firstSeq && h.count == o.count &&
		h.payloadLen == o.payloadLen && h.chunkLen == o.chunkLen && h.timestamp == o.timestamp &&
		h.sums == o.sums
}

func appendStripeHeader(dst []byte, h *stripeHeader) []byte {
	n := h.k + h.m
	start := len(dst)
	size := stripeHeaderSize(n)
	dst = append(dst, make([]byte, size)...)
	b := dst[start:]
	le := binary.LittleEndian
	le.PutUint32(b[0:], stripeMagic)
	b[4] = formatVersion
	b[5] = byte(h.index)
	b[6] = byte(h.k)
	b[7] = byte(h.m)
	le.PutUint64(b[8:], h.firstSeq)
	le.PutUint32(b[16:], h.count)
	le.PutUint32(b[20:], h.payloadLen)
	le.PutUint32(b[24:], h.chunkLen)
	le.PutUint32(b[28:], h.flags)
	le.PutUint64(b[32:], uint64(h.timestamp))
	// b[40:48] reserved, zero.
	for j := 0; j < n; j++ {
		le.PutUint64(b[stripeFixedSize+8*j:], h.sums[j])
	}
	le.PutUint64(b[size-8:], xxhash.Sum64(b[:size-8]))
	return dst
}

// setStripeSums puts the chunk checksums sums into the encoded stripe
// header b and renews its own checksum.
func setStripeSums(b []byte, sums []uint64) {
	le := binary.LittleEndian
	for j, sum := range sums {
		le.PutUint64(b[stripeFixedSize+8*j:], sum)
	}
	size := stripeHeaderSize(len(sums))
	le.PutUint64(b[size-8:], xxhash.Sum64(b[:size-8]))
}

// decodeStripeHeader decodes the header at the start of b. It checks the
// header's own checksum and that its fields are consistent, not the body.
func decodeStripeHeader(b []byte) (stripeHeader, error) {
	var h stripeHeader
	if len(b) < stripeFixedSize {
		return h, errShort
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != stripeMagic {
		if isZero(b[:stripeFixedSize]) {
			return h, errZeroHeader
		}
		return h, errBadMagic
	}
	k, m := int(b[6]), int(b[7])
	n := k + m
	if k < 1 || n > maxFragments {
		return h, errBadField
	}
	size := stripeHeaderSize(n)
	if len(b) < size {
		return h, errShort
	}
	if le.Uint64(b[size-8:]) != xxhash.Sum64(b[:size-8]) {
		return h, errBadHeader
	}
	if b[4] != formatVersion {
		return h, fmt.Errorf("%w: %d", errBadVersion, b[4])
	}
	h.index, h.k, h.m = int(b[5]), k, m
	h.firstSeq = le.Uint64(b[8:])
	h.count = le.Uint32(b[16:])
	h.payloadLen = le.Uint32(b[20:])
	h.chunkLen = le.Uint32(b[24:])
	h.flags = le.Uint32(b[28:])
	h.timestamp = int64(le.Uint64(b[32:]))
	for j := 0; j < n; j++ {
		h.sums[j] = le.Uint64(b[stripeFixedSize+8*j:])
	}
	if h.index >= n || h.count == 0 || h.flags&^stripeFlagLost != 0 || h.chunkLen%chunkAlign != 0 ||
		uint64(h.payloadLen) > uint64(h.chunkLen)*uint64(k) ||
		uint64(h.count)*recordHeaderSize > uint64(h.payloadLen) {
		return h, errBadField
	}
	return h, nil
}

// chunkLenFor returns the chunk body length for a payload of n bytes split
// into k data chunks.
func chunkLenFor(payloadLen, k int) int {
	c := (payloadLen + k - 1) / k
	return (c + chunkAlign - 1) &^ (chunkAlign - 1)
}

// Record layout inside a stripe payload (little-endian):
//
//	0  u32 data length
//	4  u16 partition key length
//	6  u8  explicit hash key length
//	7  u8  flags (zero)
//	8  partition key | explicit hash key | data
func encodedRecordLen(r *Record) int {
	return recordHeaderSize + len(r.PartitionKey) + len(r.ExplicitHashKey) + len(r.Data)
}

func appendRecord(dst []byte, r *Record) []byte {
	var h [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(r.Data)))
	binary.LittleEndian.PutUint16(h[4:], uint16(len(r.PartitionKey)))
	h[6] = byte(len(r.ExplicitHashKey))
	dst = append(dst, h[:]...)
	dst = append(dst, r.PartitionKey...)
	dst = append(dst, r.ExplicitHashKey...)
	return append(dst, r.Data...)
}

var errBadRecord = errors.New("segment: malformed record in stripe payload")

// decodeRecord decodes the record at the start of b. The returned slices
// alias b. It returns the encoded length.
func decodeRecord(b []byte, r *Record) (int, error) {
	if len(b) < recordHeaderSize {
		return 0, errBadRecord
	}
	le := binary.LittleEndian
	dataLen := int(le.Uint32(b[0:]))
	pkLen := int(le.Uint16(b[4:]))
	ehkLen := int(b[6])
	if b[7] != 0 {
		return 0, errBadRecord
	}
	total := recordHeaderSize + pkLen + ehkLen
	if dataLen > len(b)-total {
		return 0, errBadRecord
	}
	p := b[recordHeaderSize:]
	r.PartitionKey = p[:pkLen:pkLen]
	p = p[pkLen:]
	r.ExplicitHashKey = nil
	if ehkLen > 0 {
		r.ExplicitHashKey = p[:ehkLen:ehkLen]
	}
	p = p[ehkLen:]
	r.Data = p[:dataLen:dataLen]
	return total + dataLen, nil
}

// decodeRecords decodes exactly count records filling payload, appending
// them to dst with positions from firstSeq and the given timestamp.
func decodeRecords(dst []Record, payload []byte, count uint32, firstSeq uint64, ts int64) ([]Record, error) {
	off := 0
	for i := uint32(0); i < count; i++ {
		var r Record
		n, err := decodeRecord(payload[off:], &r)
		if err != nil {
			return dst, fmt.Errorf("%w: record %d of %d at offset %d", err, i, count, off)
		}
		r.Seq = firstSeq + uint64(i)
		r.Timestamp = ts
		dst = append(dst, r)
		off += n
	}
	if off != len(payload) {
		return dst, fmt.Errorf("%w: %d trailing bytes after %d records", errBadRecord, len(payload)-off, count)
	}
	return dst, nil
}

var zeroPage [64 << 10]byte

// isZero reports whether b is all zero bytes.
func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroPage))
		if string(b[:n]) != string(zeroPage[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
