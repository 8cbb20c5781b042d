package frame

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Code is an error code of an Error frame or of one record of an Ack
// (PROTOCOL.md section 6).
type Code uint16

// Error codes; wire format, never change.
const (
	CodeOK                 Code = 0
	CodeMalformed          Code = 1  // fatal: a frame or body that does not parse
	CodeUnsupportedVersion Code = 2  // fatal: no common version in Hello
	CodeFrameTooLarge      Code = 3  // fatal: Length above the advertised maximum
	CodeChecksum           Code = 4  // body checksum: the frame is skipped; header checksum: fatal
	CodeAuthRequired       Code = 5  // fatal: a Put before a successful Auth
	CodeAuthFailed         Code = 6  // fatal: unknown key id or wrong MAC
	CodeTimeout            Code = 7  // fatal: a frame or the handshake took too long
	CodeFlowControl        Code = 8  // fatal: the client exceeded the advertised window
	CodeUnexpectedFrame    Code = 9  // fatal: a frame type not valid in this state
	CodeStreamNotFound     Code = 10 // batch: the stream does not exist
	CodeInvalidArgument    Code = 11 // batch: an invalid record (partition key, hash key, size)
	CodeBatchMismatch      Code = 12 // batch: a batch id resent with other records
	CodeThrottled          Code = 20 // record: the shard's quota is used up; retry later
	CodeInternal           Code = 21 // record or batch: a storage error; retry may succeed
	CodeShuttingDown       Code = 22 // fatal: the server is stopping; reconnect later
	CodeTooManyConnections Code = 23 // fatal: the server's connection limit is reached
)

var codeNames = map[Code]string{
	CodeOK: "OK", CodeMalformed: "MALFORMED", CodeUnsupportedVersion: "UNSUPPORTED_VERSION",
	CodeFrameTooLarge: "FRAME_TOO_LARGE", CodeChecksum: "CHECKSUM_MISMATCH",
	CodeAuthRequired: "AUTH_REQUIRED", CodeAuthFailed: "AUTH_FAILED", CodeTimeout: "TIMEOUT",
	CodeFlowControl: "FLOW_CONTROL", CodeUnexpectedFrame: "UNEXPECTED_FRAME",
	CodeStreamNotFound: "STREAM_NOT_FOUND", CodeInvalidArgument: "INVALID_ARGUMENT",
	CodeBatchMismatch: "BATCH_MISMATCH", CodeThrottled: "THROTTLED", CodeInternal: "INTERNAL",
	CodeShuttingDown: "SHUTTING_DOWN", CodeTooManyConnections: "TOO_MANY_CONNECTIONS",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("CODE_%d", uint16(c))
}

// Retriable reports whether a record or batch that failed with c may
// succeed when sent again.
func (c Code) Retriable() bool {
	return c == CodeThrottled || c == CodeInternal || c == CodeShuttingDown || c == CodeTimeout || c == CodeChecksum
}

// Sizes of message fields.
const (
	ProducerIDSize = 16
	NonceSize      = 32
	MACSize        = 32
	// MaxStreamName is the longest stream name (Kinesis: 128).
	MaxStreamName = 128
	// MaxPartitionKey is the longest partition key in bytes (Kinesis: 256
	// characters, at most 4 bytes each in UTF-8).
	MaxPartitionKey = 1024
	// MaxHashKey is the longest explicit hash key (2^128-1 has 39 digits).
	MaxHashKey = 64
	// minRecordSize is the encoded size of a record with empty fields.
	minRecordSize = 2 + 1 + 4
)

// HelloFlags of Hello and HelloOK.
const (
	// FlagAuthRequired in HelloOK: the client must send Auth next.
	FlagAuthRequired byte = 1
)

// Hello is the client's first frame.
type Hello struct {
	MinVersion, MaxVersion uint16
	// ProducerID identifies the producer across its connections for the
	// deduplication of resent batches; all zero disables it.
	ProducerID [ProducerIDSize]byte
	ClientName string // informational, at most 255 bytes
}

// HelloOK is the server's answer to Hello.
type HelloOK struct {
	Version uint16
	Flags   byte
	// Window is how many bytes of Put frames (headers included) the client
	// may have sent without their Ack or Error.
	Window uint32
	// MaxFrame is the largest body the server accepts.
	MaxFrame uint32
	// MaxRecords is the most records one Put may hold.
	MaxRecords uint32
	// Nonce is the challenge of Auth (random per connection).
	Nonce [NonceSize]byte
}

// Auth proves that the client knows the secret of an access key.
type Auth struct {
	AccessKeyID string
	MAC         [MACSize]byte
}

// Record is one record of a Put. Decoded records alias the frame body.
type Record struct {
	PartitionKey    []byte
	ExplicitHashKey []byte // empty: route by the MD5 of PartitionKey
	Data            []byte
}

// Put is a batch of records for one stream.
type Put struct {
	// BatchID is chosen by the producer; with a non-zero ProducerID and
	// BatchID the server drops resends of a batch it already wrote.
	BatchID uint64
	Stream  string
	Records []Record
}

// Result is the outcome of one record of a Put.
type Result struct {
	Code           Code // CodeOK or the record's error
	ShardID        string
	SequenceNumber string
	Message        string // with an error
}

// Ack answers a Put with one Result per record, in the Put's order.
type Ack struct {
	BatchID uint64
	Results []Result
}

// Error answers a frame that failed as a whole. Fatal errors close the
// connection after the frame.
type Error struct {
	BatchID uint64 // the Put's batch id, 0 when there is none or it could not be read
	Code    Code
	Fatal   bool
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sluice tcp: %s: %s", e.Code, e.Message)
}

// reader decodes fields from a body; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", ErrMalformed, what)
	}
	r.b = nil
}

func (r *reader) u8(what string) byte {
	if len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16(what string) uint16 {
	if len(r.b) < 2 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) u32(what string) uint32 {
	if len(r.b) < 4 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64(what string) uint64 {
	if len(r.b) < 8 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes(n int, what string) []byte {
	if n > len(r.b) {
		r.fail(what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) end(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes after %s", ErrMalformed, len(r.b), what)
	}
	return r.err
}

// AppendHello appends the body of h.
func AppendHello(dst []byte, h *Hello) []byte {
	dst = binary.BigEndian.AppendUint16(dst, h.MinVersion)
	dst = binary.BigEndian.AppendUint16(dst, h.MaxVersion)
	dst = append(dst, h.ProducerID[:]...)
	name := h.ClientName
	if len(name) > math.MaxUint8 {
		name = name[:math.MaxUint8]
	}
	dst = append(dst, byte(len(name)))
	return append(dst, name...)
}

// DecodeHello decodes a Hello body.
func DecodeHello(body []byte, h *Hello) error {
	r := reader{b: body}
	h.MinVersion = r.u16("min version")
	h.MaxVersion = r.u16("max version")
	copy(h.ProducerID[:], r.bytes(ProducerIDSize, "producer id"))
	h.ClientName = string(r.bytes(int(r.u8("client name length")), "client name"))
	if err := r.end("hello"); err != nil {
		return err
	}
	if h.MinVersion > h.MaxVersion {
		return fmt.Errorf("%w: min version %d above max version %d", ErrMalformed, h.MinVersion, h.MaxVersion)
	}
	return nil
}

// AppendHelloOK appends the body of h.
func AppendHelloOK(dst []byte, h *HelloOK) []byte {
	dst = binary.BigEndian.AppendUint16(dst, h.Version)
	dst = append(dst, h.Flags)
	dst = binary.BigEndian.AppendUint32(dst, h.Window)
	dst = binary.BigEndian.AppendUint32(dst, h.MaxFrame)
	dst = binary.BigEndian.AppendUint32(dst, h.MaxRecords)
	return append(dst, h.Nonce[:]...)
}

// DecodeHelloOK decodes a HelloOK body.
func DecodeHelloOK(body []byte, h *HelloOK) error {
	r := reader{b: body}
	h.Version = r.u16("version")
	h.Flags = r.u8("flags")
	h.Window = r.u32("window")
	h.MaxFrame = r.u32("max frame")
	h.MaxRecords = r.u32("max records")
	copy(h.Nonce[:], r.bytes(NonceSize, "nonce"))
	return r.end("hello ok")
}

// AppendAuth appends the body of a.
func AppendAuth(dst []byte, a *Auth) []byte {
	id := a.AccessKeyID
	if len(id) > math.MaxUint8 {
		id = id[:math.MaxUint8]
	}
	dst = append(dst, byte(len(id)))
	dst = append(dst, id...)
	return append(dst, a.MAC[:]...)
}

// DecodeAuth decodes an Auth body.
func DecodeAuth(body []byte, a *Auth) error {
	r := reader{b: body}
	a.AccessKeyID = string(r.bytes(int(r.u8("access key id length")), "access key id"))
	copy(a.MAC[:], r.bytes(MACSize, "mac"))
	return r.end("auth")
}

// PutSize is the body size of a Put of stream with recs.
func PutSize(stream string, recs []Record) int {
	n := 8 + 1 + len(stream) + 4
	for i := range recs {
		n += minRecordSize + len(recs[i].PartitionKey) + len(recs[i].ExplicitHashKey) + len(recs[i].Data)
	}
	return n
}

// RecordSize is the encoded size of one record in a Put body.
func RecordSize(pk, ehk, data int) int { return minRecordSize + pk + ehk + data }

// AppendPutHeader appends the part of a Put body before its records:
// batch id, stream name and record count. Records follow with AppendRecord.
func AppendPutHeader(dst []byte, batchID uint64, stream string, count int) []byte {
	dst = binary.BigEndian.AppendUint64(dst, batchID)
	dst = append(dst, byte(len(stream)))
	dst = append(dst, stream...)
	return binary.BigEndian.AppendUint32(dst, uint32(count))
}

// AppendRecord appends one record of a Put body. The caller keeps the field
// sizes within the limits (MaxPartitionKey, MaxHashKey); Validate checks them.
func AppendRecord(dst []byte, pk, ehk, data []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(pk)))
	dst = append(dst, pk...)
	dst = append(dst, byte(len(ehk)))
	dst = append(dst, ehk...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	return append(dst, data...)
}

// AppendPut appends the body of p.
func AppendPut(dst []byte, p *Put) []byte {
	dst = AppendPutHeader(dst, p.BatchID, p.Stream, len(p.Records))
	for i := range p.Records {
		r := &p.Records[i]
		dst = AppendRecord(dst, r.PartitionKey, r.ExplicitHashKey, r.Data)
	}
	return dst
}

// ValidateRecord checks the field sizes a Put body can carry.
func ValidateRecord(pk, ehk []byte) error {
	if len(pk) > MaxPartitionKey {
		return fmt.Errorf("frame: partition key of %d bytes, limit %d", len(pk), MaxPartitionKey)
	}
	if len(ehk) > MaxHashKey {
		return fmt.Errorf("frame: explicit hash key of %d bytes, limit %d", len(ehk), MaxHashKey)
	}
	return nil
}

// PeekBatchID returns the batch id of a Put body, 0 if it is too short.
func PeekBatchID(body []byte) uint64 {
	if len(body) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(body)
}

// DecodePut decodes a Put body into p, reusing p.Records. The record count
// is checked against maxRecords and against the body size before anything
// is allocated. Records alias body.
func DecodePut(body []byte, p *Put, maxRecords int) error {
	r := reader{b: body}
	p.BatchID = r.u64("batch id")
	name := r.bytes(int(r.u8("stream name length")), "stream name")
	n := r.u32("record count")
	if r.err != nil {
		return r.err
	}
	if len(name) > MaxStreamName {
		return fmt.Errorf("%w: stream name of %d bytes, limit %d", ErrMalformed, len(name), MaxStreamName)
	}
	if uint64(n) > uint64(maxRecords) {
		return fmt.Errorf("%w: %d records, limit %d", ErrMalformed, n, maxRecords)
	}
	if uint64(n)*minRecordSize > uint64(len(r.b)) {
		return fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrMalformed, n, len(r.b))
	}
	p.Stream = string(name)
	if cap(p.Records) < int(n) {
		p.Records = make([]Record, n)
	}
	p.Records = p.Records[:n]
	for i := range p.Records {
		rec := &p.Records[i]
		rec.PartitionKey = r.bytes(int(r.u16("partition key length")), "partition key")
		rec.ExplicitHashKey = r.bytes(int(r.u8("explicit hash key length")), "explicit hash key")
		rec.Data = r.bytes(int(r.u32("data length")), "data")
		if r.err != nil {
			return r.err
		}
		if len(rec.PartitionKey) > MaxPartitionKey || len(rec.ExplicitHashKey) > MaxHashKey {
			return fmt.Errorf("%w: record %d: %w", ErrMalformed, i, ValidateRecord(rec.PartitionKey, rec.ExplicitHashKey))
		}
	}
	return r.end("records")
}

// AppendAckHeader appends the part of an Ack body before its results.
func AppendAckHeader(dst []byte, batchID uint64, count int) []byte {
	dst = binary.BigEndian.AppendUint64(dst, batchID)
	return binary.BigEndian.AppendUint32(dst, uint32(count))
}

// AppendResult appends one result of an Ack body. Strings longer than
// their length field are cut.
func AppendResult(dst []byte, res *Result) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(res.Code))
	if res.Code == CodeOK {
		dst = appendStr8(dst, res.ShardID)
		return appendStr8(dst, res.SequenceNumber)
	}
	return appendStr16(dst, res.Message)
}

// AppendAck appends the body of a.
func AppendAck(dst []byte, a *Ack) []byte {
	dst = AppendAckHeader(dst, a.BatchID, len(a.Results))
	for i := range a.Results {
		dst = AppendResult(dst, &a.Results[i])
	}
	return dst
}

// minResultSize is the encoded size of a result with empty strings.
const minResultSize = 2 + 1 + 1

// DecodeAck decodes an Ack body into a, reusing a.Results; the count is
// checked against maxResults and the body size before allocating.
func DecodeAck(body []byte, a *Ack, maxResults int) error {
	r := reader{b: body}
	a.BatchID = r.u64("batch id")
	n := r.u32("result count")
	if r.err != nil {
		return r.err
	}
	if uint64(n) > uint64(maxResults) || uint64(n)*minResultSize > uint64(len(r.b)) {
		return fmt.Errorf("%w: %d results in %d bytes, limit %d", ErrMalformed, n, len(r.b), maxResults)
	}
	if cap(a.Results) < int(n) {
		a.Results = make([]Result, n)
	}
	a.Results = a.Results[:n]
	lastShard := ""
	for i := range a.Results {
		res := &a.Results[i]
		*res = Result{Code: Code(r.u16("result code"))}
		if res.Code == CodeOK {
			// Records of a batch share few shards: reuse the last string.
			id := r.bytes(int(r.u8("shard id length")), "shard id")
			if string(id) == lastShard {
				res.ShardID = lastShard
			} else {
				res.ShardID = string(id)
				lastShard = res.ShardID
			}
			res.SequenceNumber = string(r.bytes(int(r.u8("sequence number length")), "sequence number"))
		} else {
			res.Message = string(r.bytes(int(r.u16("message length")), "message"))
		}
		if r.err != nil {
			return r.err
		}
	}
	return r.end("results")
}

// AppendError appends the body of e.
func AppendError(dst []byte, e *Error) []byte {
	dst = binary.BigEndian.AppendUint64(dst, e.BatchID)
	dst = binary.BigEndian.AppendUint16(dst, uint16(e.Code))
	fatal := byte(0)
	if e.Fatal {
		fatal = 1
	}
	dst = append(dst, fatal)
	return appendStr16(dst, e.Message)
}

// DecodeError decodes an Error body.
func DecodeError(body []byte, e *Error) error {
	r := reader{b: body}
	e.BatchID = r.u64("batch id")
	e.Code = Code(r.u16("code"))
	f := r.u8("fatal")
	e.Message = string(r.bytes(int(r.u16("message length")), "message"))
	if r.err == nil && f > 1 {
		return fmt.Errorf("%w: fatal flag %d", ErrMalformed, f)
	}
	e.Fatal = f == 1
	return r.end("error")
}

func appendStr8(dst []byte, s string) []byte {
	if len(s) > math.MaxUint8 {
		s = s[:math.MaxUint8]
	}
	return append(append(dst, byte(len(s))), s...)
}

func appendStr16(dst []byte, s string) []byte {
	if len(s) > math.MaxUint16 {
		s = s[:math.MaxUint16]
	}
	return append(binary.BigEndian.AppendUint16(dst, uint16(len(s))), s...)
}
