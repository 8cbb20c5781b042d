package eventstream

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// initialResponseVector is the 114-byte initial-response of KINESIS_API.md
// 4.4, validated with botocore's EventStreamBuffer.
const initialResponseVector = "00000072" + "00000060" + "ab820d9e" +
	"0b3a6576656e742d74797065" + "07" + "0010" + "696e697469616c2d726573706f6e7365" +
	"0d3a636f6e74656e742d74797065" + "07" + "001a" + "6170706c69636174696f6e2f782d616d7a2d6a736f6e2d312e31" +
	"0d3a6d6573736167652d74797065" + "07" + "0005" + "6576656e74" +
	"7b7d" +
	"acae6b7d"

func TestWireEventStreamInitialResponseVector(t *testing.T) {
	want, err := hex.DecodeString(initialResponseVector)
	if err != nil {
		t.Fatal(err)
	}
	// The vector's header order: event-type, content-type, message-type.
	var m Message
	m.Headers = Headers{}
	m.Headers.Set(HeaderEventType, NewInitialResponse().Headers.Get(HeaderEventType))
	m.Headers.Set(HeaderContentType, NewInitialResponse().Headers.Get(HeaderContentType))
	m.Headers.Set(HeaderMessageType, NewInitialResponse().Headers.Get(HeaderMessageType))
	m.Payload = []byte("{}")
	got, err := NewEncoder().Append(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding:\n got %x\nwant %x", got, want)
	}
	// NewInitialResponse has the same headers in another order: same length.
	got2, err := NewEncoder().Append(nil, NewInitialResponse())
	if err != nil {
		t.Fatal(err)
	}
	if len(got2) != len(want) {
		t.Fatalf("NewInitialResponse encodes to %d bytes, want %d", len(got2), len(want))
	}
	dec := NewDecoder(bytes.NewReader(want))
	msg, err := dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	if String(&msg, HeaderEventType) != EventInitialResponse || String(&msg, HeaderMessageType) != MessageTypeEvent ||
		String(&msg, HeaderContentType) != ContentTypeJSON || string(msg.Payload) != "{}" {
		t.Fatalf("decoded %+v", msg)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

func TestWireEventStreamRoundTrip(t *testing.T) {
	enc := NewEncoder()
	var stream []byte
	msgs := []Message{
		NewInitialResponse(),
		NewEvent("SubscribeToShardEvent", ContentTypeJSON, []byte(`{"Records":[]}`)),
		NewException("ResourceInUseException", "Another \"active\" subscription <x>\n"),
		NewError("InternalFailure", "boom"),
		NewEvent("Empty", "", nil),
	}
	for _, m := range msgs {
		var err error
		if stream, err = enc.Append(stream, m); err != nil {
			t.Fatal(err)
		}
	}
	dec := NewDecoder(bytes.NewReader(stream))
	dec.ReusePayload()
	for i, want := range msgs {
		got, err := dec.Next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got.Payload, want.Payload) || len(got.Headers) != len(want.Headers) {
			t.Fatalf("message %d: got %+v, want %+v", i, got, want)
		}
		for _, h := range want.Headers {
			if got.Headers.Get(h.Name).String() != h.Value.String() {
				t.Fatalf("message %d header %s: got %v, want %v", i, h.Name, got.Headers.Get(h.Name), h.Value)
			}
		}
	}
	ex := msgs[2]
	if string(ex.Payload) != `{"message":"Another \"active\" subscription \u003cx\u003e\n"}` {
		t.Fatalf("exception payload %s", ex.Payload)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// frame builds a message with the given prelude lengths and a correct
// prelude CRC, followed by body.
func frame(total, headersLen uint32, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, total)
	b = binary.BigEndian.AppendUint32(b, headersLen)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return append(b, body...)
}

func TestWireEventStreamDecodeErrors(t *testing.T) {
	good, _ := NewEncoder().Append(nil, NewEvent("E", ContentTypeJSON, []byte("{}")))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	cases := map[string]struct {
		in      []byte
		frame   bool
		errWant error
	}{
		"empty":               {in: nil, errWant: io.EOF},
		"short prelude":       {in: good[:5], errWant: io.ErrUnexpectedEOF},
		"truncated body":      {in: good[:len(good)-1], errWant: io.ErrUnexpectedEOF},
		"prelude crc":         {in: flip(9), frame: true},
		"message crc":         {in: flip(len(good) - 1), frame: true},
		"payload bit":         {in: flip(len(good) - 6), frame: true},
		"total below minimum": {in: frame(15, 0, nil), frame: true},
		"headers past total":  {in: frame(20, 8, make([]byte, 8)), frame: true},
		"huge payload":        {in: frame(MaxPayloadLen+MinMessageLen+1, 0, nil), frame: true},
		"huge headers":        {in: frame(MaxHeadersLen+MinMessageLen+1, MaxHeadersLen+1, nil), frame: true},
	}
	for name, c := range cases {
		_, err := NewDecoder(bytes.NewReader(c.in)).Next()
		switch {
		case c.frame && !errors.Is(err, ErrFrame):
			t.Errorf("%s: %v, want ErrFrame", name, err)
		case c.errWant != nil && !errors.Is(err, c.errWant):
			t.Errorf("%s: %v, want %v", name, err, c.errWant)
		}
	}
}

func TestWireEventStreamEncodeLimits(t *testing.T) {
	enc := NewEncoder()
	if _, err := enc.Append(nil, NewEvent("E", "", make([]byte, MaxPayloadLen+1))); err == nil {
		t.Fatal("oversized payload encoded")
	}
	if _, err := enc.Append(nil, NewEvent(strings.Repeat("x", 1<<15), "", nil)); err == nil {
		t.Fatal("oversized header value encoded")
	}
	if _, err := enc.Append(nil, NewEvent("E", "", make([]byte, 1<<20))); err != nil {
		t.Fatalf("1 MiB payload: %v", err)
	}
}
