package frame

import (
	"bytes"
	"testing"
)

// Every decoder: no panic, and what decodes re-encodes to the same bytes.

func FuzzDecodeHeader(f *testing.F) {
	f.Add(AppendFrame(nil, TypePing, 0, []byte("12345678")))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHeader(b, 1<<20)
		if err != nil {
			return
		}
		if h.Length > 1<<20 {
			t.Fatalf("length %d passed the limit", h.Length)
		}
		if re := appendHeaderCRC(nil, h.Type, h.Flags, h.Length, h.BodyCRC); !bytes.Equal(re, b[:HeaderSize]) {
			t.Fatalf("re-encoded %x, input %x", re, b[:HeaderSize])
		}
		if body := b[HeaderSize:]; uint32(len(body)) >= h.Length {
			_ = h.CheckBody(body[:h.Length])
		}
	})
}

func FuzzDecodePut(f *testing.F) {
	f.Add(AppendPut(nil, samplePut()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Put
		if err := DecodePut(b, &p, 1000); err != nil {
			return
		}
		if re := AppendPut(nil, &p); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x, input %x", re, b)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	f.Add(AppendAck(nil, &Ack{BatchID: 1, Results: []Result{{ShardID: "s", SequenceNumber: "1"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Ack
		if err := DecodeAck(b, &a, 1000); err != nil {
			return
		}
		if re := AppendAck(nil, &a); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x, input %x", re, b)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(AppendError(nil, &Error{Code: CodeTimeout, Fatal: true, Message: "timeout"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Error
		if err := DecodeError(b, &e); err != nil {
			return
		}
		if re := AppendError(nil, &e); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x, input %x", re, b)
		}
	})
}

func FuzzDecodeHello(f *testing.F) {
	f.Add(AppendHello(nil, &Hello{MinVersion: 1, MaxVersion: 2, ClientName: "c"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Hello
		if err := DecodeHello(b, &h); err != nil {
			return
		}
		if re := AppendHello(nil, &h); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x, input %x", re, b)
		}
	})
}

func FuzzDecodeHelloOK(f *testing.F) {
	f.Add(AppendHelloOK(nil, &HelloOK{Version: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h HelloOK
		if err := DecodeHelloOK(b, &h); err != nil {
			return
		}
		if re := AppendHelloOK(nil, &h); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x, input %x", re, b)
		}
	})
}

func FuzzDecodeAuth(f *testing.F) {
	f.Add(AppendAuth(nil, &Auth{AccessKeyID: "k"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Auth
		if err := DecodeAuth(b, &a); err != nil {
			return
		}
		if re := AppendAuth(nil, &a); !bytes.Equal(re, b) {
			t.Fatalf("re-encoded %x, input %x", re, b)
		}
	})
}
