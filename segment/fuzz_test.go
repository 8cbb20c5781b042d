package segment

import (
	"bytes"
	"testing"
)

func seedStripeHeader(k, m int) []byte {
	h := stripeHeader{index: k + m - 1, k: k, m: m, firstSeq: 12345, count: 3, payloadLen: 100, chunkLen: uint32(chunkLenFor(100, k)), timestamp: 1_700_000_000_000}
	for j := 0; j < k+m; j++ {
		h.sums[j] = uint64(j) * 0x9e3779b97f4a7c15
	}
	return appendStripeHeader(nil, &h)
}

// FuzzFileHeader checks that the fragment file header decoder never panics
// and that what it accepts re-encodes to the same bytes.
func FuzzFileHeader(f *testing.F) {
	f.Add(appendFileHeader(nil, fileHeader{index: 3, k: 4, m: 2, baseSeq: 99, createdMs: 1_700_000_000_000, size: 64 << 20}))
	f.Add(appendFileHeader(nil, fileHeader{index: 0, k: 1, m: 0, size: 4096}))
	f.Add(make([]byte, fileHeaderSize))
	f.Add([]byte("SLSF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeFileHeader(b)
		if err != nil {
			return
		}
		if got := appendFileHeader(nil, h); !bytes.Equal(got, b[:fileHeaderSize]) {
			// Reserved bytes are covered by the checksum, so an accepted
			// header is canonical unless reserved bytes were set and the
			// checksum recomputed: only then may they differ.
			if !bytes.Equal(got[:32], b[:32]) {
				t.Fatalf("decoded header %+v re-encodes differently", h)
			}
		}
	})
}

// FuzzStripeHeader checks the stripe chunk header decoder.
func FuzzStripeHeader(f *testing.F) {
	f.Add(seedStripeHeader(4, 2))
	f.Add(seedStripeHeader(1, 0))
	f.Add(seedStripeHeader(16, 16))
	f.Add(make([]byte, stripeHeaderSize(6)))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeStripeHeader(b)
		if err != nil {
			return
		}
		if h.k < 1 || h.k+h.m > maxFragments || h.index >= h.k+h.m || h.chunkLen%chunkAlign != 0 {
			t.Fatalf("accepted inconsistent header %+v", h)
		}
		got := appendStripeHeader(nil, &h)
		h2, err := decodeStripeHeader(got)
		if err != nil || !h2.same(&h) || h2.index != h.index || h2.flags != h.flags {
			t.Fatalf("re-encoded header does not round-trip: %v", err)
		}
	})
}

// FuzzRecords checks the decoder of a stripe's records: it never panics,
// never reads outside the payload, and what it accepts re-encodes exactly.
func FuzzRecords(f *testing.F) {
	var p []byte
	p = appendRecord(p, &Record{PartitionKey: []byte("pk"), Data: []byte("hello")})
	p = appendRecord(p, &Record{PartitionKey: []byte("k2"), ExplicitHashKey: []byte("1234"), Data: nil})
	f.Add(p, uint32(2))
	f.Add(p[:10], uint32(1))
	f.Add([]byte{}, uint32(0))
	f.Add(bytes.Repeat([]byte{0xff}, 32), uint32(3))
	f.Fuzz(func(t *testing.T, payload []byte, count uint32) {
		if count > 1<<16 {
			count %= 1 << 16
		}
		recs, err := decodeRecords(nil, payload, count, 7, 1)
		if err != nil {
			return
		}
		var re []byte
		for i := range recs {
			if recs[i].Seq != 7+uint64(i) {
				t.Fatalf("record %d has seq %d", i, recs[i].Seq)
			}
			re = appendRecord(re, &recs[i])
		}
		if !bytes.Equal(re, payload) {
			t.Fatal("accepted payload does not re-encode to itself")
		}
	})
}
