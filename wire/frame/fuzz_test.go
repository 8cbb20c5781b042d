package frame

import (
	"bytes"
	"math/big"
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
	f.Add(AppendAck(nil, sampleAck()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Ack
		if err := DecodeAck(b, &a, 1000); err != nil {
			return
		}
		// Every index once, ascending within a group.
		seen := make([]bool, a.Count)
		for _, g := range a.Groups {
			if len(g.Indexes) == 0 {
				t.Fatal("empty group")
			}
			for j, i := range g.Indexes {
				if int(i) >= a.Count || seen[i] || (j > 0 && i <= g.Indexes[j-1]) {
					t.Fatalf("index %d of group %+v", i, g)
				}
				seen[i] = true
			}
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("index %d in no group", i)
			}
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

// FuzzSeqNumOffset checks the decimal adder against math/big.
func FuzzSeqNumOffset(f *testing.F) {
	f.Add("49647060812310315304087198839914074807031190809751846930", uint64(3))
	two80 := new(big.Int).Lsh(big.NewInt(1), 80)
	f.Fuzz(func(t *testing.T, first string, j uint64) {
		if !isDecimal([]byte(first)) || len(first) > 255 {
			return
		}
		want, _ := new(big.Int).SetString(first, 10)
		want.Add(want, new(big.Int).Mul(new(big.Int).SetUint64(j), two80))
		if got := SeqNumOffset(first, j); got != want.String() {
			t.Fatalf("%s + %d*2^80 = %s, want %s", first, j, got, want)
		}
	})
}
