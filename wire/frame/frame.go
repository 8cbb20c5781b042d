package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Frame header layout (PROTOCOL.md section 2); wire format, never change.
const (
	// HeaderSize is the fixed size of every frame header.
	HeaderSize = 16
	// Magic is the first two bytes of every frame ("SL").
	Magic uint16 = 0x534C
	// Version is the protocol version this package speaks.
	Version uint16 = 2
	// MaxBodySize is the largest body the format can describe that any
	// peer may accept (64 MiB); servers advertise their own, smaller limit.
	MaxBodySize = 64 << 20
)

// Frame types.
const (
	TypeHello   byte = 0x01 // client -> server, first frame
	TypeHelloOK byte = 0x02 // server -> client
	TypeAuth    byte = 0x03 // client -> server
	TypeAuthOK  byte = 0x04 // server -> client
	TypePut     byte = 0x10 // client -> server
	TypeAck     byte = 0x11 // server -> client
	TypePing    byte = 0x20 // client -> server
	TypePong    byte = 0x21 // server -> client
	TypeError   byte = 0x7F // server -> client
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C (Castagnoli) of b, the checksum of frame bodies
// and headers.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Header is a decoded frame header.
type Header struct {
	Type    byte
	Flags   byte
	Length  uint32 // body length in bytes
	BodyCRC uint32 // CRC-32C of the body
}

// Errors of DecodeHeader; each maps to an error code (CodeOf).
var (
	ErrShortHeader    = errors.New("frame: short header")
	ErrBadMagic       = errors.New("frame: bad magic")
	ErrHeaderChecksum = errors.New("frame: header checksum mismatch")
	ErrTooLarge       = errors.New("frame: body too large")
	ErrBodyChecksum   = errors.New("frame: body checksum mismatch")
	ErrMalformed      = errors.New("frame: malformed body")
)

// AppendHeader appends the header of a frame of type typ with body body.
func AppendHeader(dst []byte, typ, flags byte, body []byte) []byte {
	return appendHeaderCRC(dst, typ, flags, uint32(len(body)), Checksum(body))
}

func appendHeaderCRC(dst []byte, typ, flags byte, n, crc uint32) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, Magic)
	dst = append(dst, typ, flags)
	dst = binary.BigEndian.AppendUint32(dst, n)
	dst = binary.BigEndian.AppendUint32(dst, crc)
	return binary.BigEndian.AppendUint32(dst, Checksum(dst[start:start+12]))
}

// AppendFrame appends a whole frame (header and body).
func AppendFrame(dst []byte, typ, flags byte, body []byte) []byte {
	return append(AppendHeader(dst, typ, flags, body), body...)
}

// DecodeHeader decodes the header at the start of b and checks its magic,
// its own checksum and that Length is at most maxBody, all before any body
// byte is needed. b shorter than HeaderSize gives ErrShortHeader.
func DecodeHeader(b []byte, maxBody uint32) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShortHeader
	}
	if binary.BigEndian.Uint16(b) != Magic {
		return Header{}, fmt.Errorf("%w: 0x%04x, want 0x%04x", ErrBadMagic, binary.BigEndian.Uint16(b), Magic)
	}
	if got, want := binary.BigEndian.Uint32(b[12:]), Checksum(b[:12]); got != want {
		return Header{}, fmt.Errorf("%w: 0x%08x, computed 0x%08x", ErrHeaderChecksum, got, want)
	}
	h := Header{Type: b[2], Flags: b[3], Length: binary.BigEndian.Uint32(b[4:]), BodyCRC: binary.BigEndian.Uint32(b[8:])}
	if h.Length > maxBody || h.Length > MaxBodySize {
		return h, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, h.Length, min(maxBody, MaxBodySize))
	}
	return h, nil
}

// CheckBody verifies body against h's length and checksum.
func (h Header) CheckBody(body []byte) error {
	if uint32(len(body)) != h.Length {
		return fmt.Errorf("%w: %d bytes, header says %d", ErrMalformed, len(body), h.Length)
	}
	if got := Checksum(body); got != h.BodyCRC {
		return fmt.Errorf("%w: computed 0x%08x, header 0x%08x", ErrBodyChecksum, got, h.BodyCRC)
	}
	return nil
}

func isErr(err, target error) bool { return errors.Is(err, target) }
