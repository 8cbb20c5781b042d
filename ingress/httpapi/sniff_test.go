package httpapi

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// chunkConn is a net.Conn that reads src in chunks of at most n bytes.
type chunkConn struct {
	net.Conn
	src []byte
	n   int
}

func (c *chunkConn) Read(b []byte) (int, error) {
	if len(c.src) == 0 {
		return 0, io.EOF
	}
	k := min(len(b), c.n, len(c.src))
	copy(b, c.src[:k])
	c.src = c.src[k:]
	return k, nil
}

// FuzzSniff checks the protocol sniffer on any input and any read
// chunking: it decides as the rules say, never reads past what it needs to
// decide, and everything it read is replayed intact.
func FuzzSniff(f *testing.F) {
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"), uint8(1), true)
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\n\r\n"), uint8(7), true)
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"), uint8(30), false)
	f.Add([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), uint8(2), true)
	f.Add([]byte("\x16\x03\x01"), uint8(2), false)
	f.Add([]byte("PRI * HTTP/2.0\r\n"), uint8(5), true)
	f.Add([]byte("PRI * HTTP/1.1\r\n\r\n"), uint8(3), true)
	f.Add([]byte{}, uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, tlsOK bool) {
		n := int(chunk%32) + 1
		pc := &peekConn{Conn: &chunkConn{src: bytes.Clone(data), n: n}}
		p, err := pc.sniff(tlsOK)
		switch {
		case len(data) == 0:
			if err == nil {
				t.Fatalf("empty input: %v, want an error", p)
			}
			return
		case tlsOK && data[0] == 0x16:
			if err != nil || p != protoTLS {
				t.Fatalf("TLS record: %v %v", p, err)
			}
		case bytes.HasPrefix(data, h2Preface):
			if err != nil || p != protoH2 {
				t.Fatalf("preface: %v %v", p, err)
			}
		default:
			// Either differs from the preface within its length, or is a
			// strict prefix of it (then EOF ends the sniff).
			k := min(len(data), len(h2Preface))
			if bytes.Equal(data[:k], h2Preface[:k]) {
				if err == nil {
					t.Fatalf("a strict prefix of the preface: %v, want an error", p)
				}
				return
			}
			if err != nil || p != protoH1 {
				t.Fatalf("other bytes: %v %v", p, err)
			}
		}
		if len(pc.buf) > len(h2Preface) {
			t.Fatalf("sniff kept %d bytes", len(pc.buf))
		}
		got, err := io.ReadAll(pc)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("replay: %q %v, want %q", got, err, data)
		}
	})
}

func TestHTTPAPIHasToken(t *testing.T) {
	for v, want := range map[string]bool{
		"h2c": true, "H2C": true, " websocket , h2c ": true, "h2c2": false, "": false, "h2,c": false,
	} {
		if got := hasToken([]byte(v), "h2c"); got != want {
			t.Errorf("hasToken(%q) = %v, want %v", v, got, want)
		}
	}
}
