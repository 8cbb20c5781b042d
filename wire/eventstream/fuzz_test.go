package eventstream

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the Decoder: it must never panic or
// read past its limits, and every message it accepts must encode back to
// the very bytes it was decoded from (the framing has one encoding per
// header list and payload).
func FuzzDecode(f *testing.F) {
	enc := NewEncoder()
	for _, m := range []Message{
		NewInitialResponse(),
		NewEvent("SubscribeToShardEvent", ContentTypeJSON, []byte(`{"ContinuationSequenceNumber":"1","MillisBehindLatest":0,"Records":[]}`)),
		NewException("ResourceNotFoundException", "gone"),
		NewError("InternalFailure", "x"),
	} {
		b, err := enc.Append(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := NewDecoder(bytes.NewReader(data))
		off := 0
		for i := 0; i < 64; i++ {
			m, err := dec.Next()
			if err != nil {
				if !errors.Is(err, ErrFrame) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			b, err := enc.Append(nil, m)
			if err != nil {
				// e.g. a header type the encoder rejects; decoding was fine.
				return
			}
			if off+len(b) > len(data) || !bytes.Equal(b, data[off:off+len(b)]) {
				// Headers may be re-encoded differently only if decoding
				// dropped duplicates; the SDK keeps them all, so bytes match.
				t.Fatalf("re-encoding differs at offset %d:\n got %x\n in  %x", off, b, data[off:min(len(data), off+len(b))])
			}
			off += len(b)
		}
	})
}
