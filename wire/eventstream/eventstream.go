package eventstream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	sdk "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// ContentType is the Content-Type of an event-stream response.
const ContentType = "application/vnd.amazon.eventstream"

// Header names and values of the Kinesis event stream (KINESIS_API.md 4.5).
const (
	HeaderMessageType   = ":message-type"
	HeaderEventType     = ":event-type"
	HeaderExceptionType = ":exception-type"
	HeaderContentType   = ":content-type"
	HeaderErrorCode     = ":error-code"
	HeaderErrorMessage  = ":error-message"

	MessageTypeEvent     = "event"
	MessageTypeException = "exception"
	MessageTypeError     = "error"

	// EventInitialResponse is the :event-type of the first message of an
	// RPC event stream; aws-sdk-go-v2 and botocore require it.
	EventInitialResponse = "initial-response"

	// ContentTypeJSON is the :content-type of JSON 1.1 payloads.
	ContentTypeJSON = "application/x-amz-json-1.1"
	// ContentTypeCBOR is the :content-type of CBOR 1.1 payloads (the
	// events of a subscription whose request was CBOR).
	ContentTypeCBOR = "application/x-amz-cbor-1.1"
)

// Limits of the framing, those of AWS's SDK decoders (aws-sdk-go
// private/protocol/eventstream/message.go).
const (
	// MaxPayloadLen is the largest payload of one message.
	MaxPayloadLen = 16 << 20
	// MaxHeadersLen is the largest encoded header block of one message.
	MaxHeadersLen = 128 << 10
	// PreludeLen is the size of total_len, headers_len and prelude_crc.
	PreludeLen = 12
	// MinMessageLen is the size of a message without headers and payload.
	MinMessageLen = PreludeLen + 4
)

// Message is an event-stream message: headers and payload. It is the SDK
// codec's type.
type Message = sdk.Message

// Headers is the header list of a Message.
type Headers = sdk.Headers

// ErrFrame is wrapped by every error Decoder.Next returns for bytes that
// are not a valid message (as opposed to an error of the reader).
var ErrFrame = errors.New("eventstream: malformed message")

// NewEvent returns an event message (:message-type event) of type
// eventType. contentType "" leaves out the :content-type header.
func NewEvent(eventType, contentType string, payload []byte) Message {
	var m Message
	m.Headers.Set(HeaderMessageType, sdk.StringValue(MessageTypeEvent))
	m.Headers.Set(HeaderEventType, sdk.StringValue(eventType))
	if contentType != "" {
		m.Headers.Set(HeaderContentType, sdk.StringValue(contentType))
	}
	m.Payload = payload
	return m
}

// NewInitialResponse returns the initial-response event with the JSON
// payload {} (KINESIS_API.md 4.4 test vector).
func NewInitialResponse() Message {
	return NewEvent(EventInitialResponse, ContentTypeJSON, []byte("{}"))
}

// NewException returns a modeled exception (:message-type exception) of
// type exceptionType (e.g. ResourceInUseException) with a JSON payload
// {"message":...}. It ends a stream.
func NewException(exceptionType, message string) Message {
	var m Message
	m.Headers.Set(HeaderMessageType, sdk.StringValue(MessageTypeException))
	m.Headers.Set(HeaderExceptionType, sdk.StringValue(exceptionType))
	m.Headers.Set(HeaderContentType, sdk.StringValue(ContentTypeJSON))
	m.Payload = appendJSONMessage(nil, message)
	return m
}

// NewExceptionCBOR is NewException with a CBOR payload, the map
// {"message": message}, and :content-type application/x-amz-cbor-1.1.
func NewExceptionCBOR(exceptionType, message string) Message {
	m := NewException(exceptionType, message)
	m.Headers.Set(HeaderContentType, sdk.StringValue(ContentTypeCBOR))
	p := append(make([]byte, 0, 16+len(message)), 0xa1, 0x67)
	p = append(p, "message"...)
	m.Payload = AppendCBORText(p, message)
	return m
}

// NewInitialResponseCBOR returns the initial-response event with the CBOR
// payload {} (an empty map, 0xa0).
func NewInitialResponseCBOR() Message {
	return NewEvent(EventInitialResponse, ContentTypeCBOR, []byte{0xa0})
}

// AppendCBORHead appends a CBOR data item head: major type major (0-7)
// with argument n, in the shortest form.
func AppendCBORHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= 0xff:
		return append(dst, m|24, byte(n))
	case n <= 0xffff:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendCBORText appends s as a CBOR text string.
func AppendCBORText(dst []byte, s string) []byte {
	return append(AppendCBORHead(dst, 3, uint64(len(s))), s...)
}

// NewError returns an unmodeled error (:message-type error) with
// :error-code and :error-message and no payload.
func NewError(code, message string) Message {
	var m Message
	m.Headers.Set(HeaderMessageType, sdk.StringValue(MessageTypeError))
	m.Headers.Set(HeaderErrorCode, sdk.StringValue(code))
	m.Headers.Set(HeaderErrorMessage, sdk.StringValue(message))
	return m
}

// appendJSONMessage appends {"message":"<msg>"} with msg JSON-escaped.
func appendJSONMessage(dst []byte, msg string) []byte {
	dst = append(dst, `{"message":`...)
	dst = AppendJSONString(dst, msg)
	return append(dst, '}')
}

// AppendJSONString appends s as a JSON string literal. Invalid UTF-8 is
// replaced by U+FFFD, as encoding/json does.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x20 || r == 0x2028 || r == 0x2029 || r == '<' || r == '>' || r == '&':
			dst = append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			dst = append(dst, string(r)...)
		}
	}
	return append(dst, '"')
}

// String returns the value of the string header name of m, "" if m has
// none or it is not a string.
func String(m *Message, name string) string {
	if v, ok := m.Headers.Get(name).(sdk.StringValue); ok {
		return string(v)
	}
	return ""
}

// Encoder encodes messages. Owned by one goroutine.
type Encoder struct {
	enc *sdk.Encoder
	buf bytes.Buffer
}

// NewEncoder returns an Encoder.
func NewEncoder() *Encoder { return &Encoder{enc: sdk.NewEncoder()} }

// Append appends the encoding of m to dst. It fails for a header or
// payload past the limits.
func (e *Encoder) Append(dst []byte, m Message) ([]byte, error) {
	if len(m.Payload) > MaxPayloadLen {
		return dst, fmt.Errorf("eventstream: payload of %d bytes exceeds the limit of %d", len(m.Payload), MaxPayloadLen)
	}
	e.buf.Reset()
	if err := e.enc.Encode(&e.buf, m); err != nil {
		return dst, fmt.Errorf("eventstream: encoding message: %w", err)
	}
	if hl := binary.BigEndian.Uint32(e.buf.Bytes()[4:8]); hl > MaxHeadersLen {
		return dst, fmt.Errorf("eventstream: headers of %d bytes exceed the limit of %d", hl, MaxHeadersLen)
	}
	return append(dst, e.buf.Bytes()...), nil
}

// Decoder reads messages from a byte stream. Owned by one goroutine.
type Decoder struct {
	r       io.Reader
	dec     *sdk.Decoder
	reuse   bool
	payload []byte
	msg     bytes.Buffer
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r, dec: sdk.NewDecoder()} }

// ReusePayload makes Next reuse one payload buffer: a returned payload is
// then valid only until the next call.
func (d *Decoder) ReusePayload() { d.reuse = true }

// Next returns the next message. At a clean end of the stream (no byte of
// a further message) it returns io.EOF; a stream that ends inside a
// message gives io.ErrUnexpectedEOF. Malformed messages give an error
// wrapping ErrFrame. The prelude is checked (lengths within the limits,
// prelude CRC) before the rest of the message is read.
func (d *Decoder) Next() (Message, error) {
	var prelude [PreludeLen]byte
	if _, err := io.ReadFull(d.r, prelude[:]); err != nil {
		return Message{}, err
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	headersLen := binary.BigEndian.Uint32(prelude[4:8])
	if crc := crc32.ChecksumIEEE(prelude[:8]); crc != binary.BigEndian.Uint32(prelude[8:12]) {
		return Message{}, fmt.Errorf("%w: prelude checksum %#08x, computed %#08x", ErrFrame, binary.BigEndian.Uint32(prelude[8:12]), crc)
	}
	if total < MinMessageLen || headersLen > total-MinMessageLen {
		return Message{}, fmt.Errorf("%w: total length %d, headers length %d", ErrFrame, total, headersLen)
	}
	if headersLen > MaxHeadersLen {
		return Message{}, fmt.Errorf("%w: headers length %d exceeds the limit of %d", ErrFrame, headersLen, MaxHeadersLen)
	}
	if payloadLen := total - MinMessageLen - headersLen; payloadLen > MaxPayloadLen {
		return Message{}, fmt.Errorf("%w: payload length %d exceeds the limit of %d", ErrFrame, payloadLen, MaxPayloadLen)
	}
	// Read the whole message first, so that a short stream is reported as
	// such and the SDK decoder works on bounded bytes.
	d.msg.Reset()
	d.msg.Write(prelude[:])
	if n, err := io.CopyN(&d.msg, d.r, int64(total-PreludeLen)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Message{}, fmt.Errorf("eventstream: reading message body (%d of %d bytes): %w", n, total-PreludeLen, err)
	}
	var buf []byte
	if d.reuse {
		buf = d.payload[:0]
	}
	m, err := d.dec.Decode(&d.msg, buf)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if d.msg.Len() != 0 {
		return Message{}, fmt.Errorf("%w: %d bytes of headers left undecoded", ErrFrame, d.msg.Len())
	}
	if d.reuse && m.Payload != nil {
		d.payload = m.Payload
	}
	return m, nil
}
