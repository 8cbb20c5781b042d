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
	return c == CodeThrottled || c == CodeInternal || c == CodeShuttingDown || c == CodeTimeout || c == CodeChecksum ||
		c == CodeTooManyConnections
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

// AckGroup is the outcome of some records of a Put that share a code and,
// when they were written, a shard (PROTOCOL.md section 5).
type AckGroup struct {
	Code    Code   // CodeOK, CodeThrottled or CodeInternal
	ShardID string // with CodeOK
	// FirstSequenceNumber is the sequence number of the record
	// Indexes[0] (CodeOK): the records of the group were appended to the
	// shard consecutively, so record Indexes[j] has this sequence number
	// with j added to its position field, that is plus j*2^80
	// (SeqNumOffset).
	FirstSequenceNumber string
	Message             string // with an error code
	// Indexes are the positions of the group's records in the Put,
	// ascending.
	Indexes []uint32
}

// Ack answers a Put: every record of the Put is in exactly one group.
type Ack struct {
	BatchID uint64
	Count   int // the records of the Put
	Groups  []AckGroup

	// Decoding scratch, reused by DecodeAck: the backing array of the
	// groups' Indexes and the bitmap of the indexes seen.
	idx  []uint32
	seen []uint64
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

// AppendAckHeader appends the part of an Ack body before its groups: the
// batch id, the Put's record count and the number of groups that follow.
func AppendAckHeader(dst []byte, batchID uint64, count, groups int) []byte {
	dst = binary.BigEndian.AppendUint64(dst, batchID)
	dst = binary.BigEndian.AppendUint32(dst, uint32(count))
	return binary.BigEndian.AppendUint32(dst, uint32(groups))
}

// AppendAckGroupOK appends the head of a group of n records written to
// shardID, the first with sequence number first; n indexes follow
// (AppendAckIndexes). Strings longer than 255 bytes are cut.
func AppendAckGroupOK(dst []byte, n int, shardID, first string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = binary.BigEndian.AppendUint16(dst, uint16(CodeOK))
	dst = appendStr8(dst, shardID)
	return appendStr8(dst, first)
}

// AppendAckGroupError appends the head of a group of n records that failed
// with code (CodeThrottled or CodeInternal) and msg; n indexes follow
// (AppendAckIndexes).
func AppendAckGroupError(dst []byte, n int, code Code, msg string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return appendStr16(dst, msg)
}

// AppendAckIndexes appends the indexes of a group, idx[j]-base each. They
// must be ascending and in [0, count) after subtracting base: the first is
// coded as a uvarint of its value, every later one as a uvarint of its gap
// to the previous one minus 1.
func AppendAckIndexes[T ~int32 | ~uint32 | ~int](dst []byte, idx []T, base T) []byte {
	prev := uint64(0)
	for j, v := range idx {
		x := uint64(v - base)
		d := x - prev - 1
		if j == 0 {
			d = x
		}
		if d < 0x80 {
			dst = append(dst, byte(d))
		} else {
			dst = binary.AppendUvarint(dst, d)
		}
		prev = x
	}
	return dst
}

// AppendAck appends the body of a. The groups' indexes must be ascending.
func AppendAck(dst []byte, a *Ack) []byte {
	dst = AppendAckHeader(dst, a.BatchID, a.Count, len(a.Groups))
	for i := range a.Groups {
		g := &a.Groups[i]
		if g.Code == CodeOK {
			dst = AppendAckGroupOK(dst, len(g.Indexes), g.ShardID, g.FirstSequenceNumber)
		} else {
			dst = AppendAckGroupError(dst, len(g.Indexes), g.Code, g.Message)
		}
		dst = AppendAckIndexes(dst, g.Indexes, 0)
	}
	return dst
}

// minAckGroupSize is the encoded size of a group of one record with empty
// strings: n, code, two str8 lengths (or one str16 length), one index.
const minAckGroupSize = 4 + 2 + 2 + 1

// DecodeAck decodes an Ack body into a, reusing its memory. It checks the
// count against maxResults and the counts against the body size before
// allocating, and that every index in [0, count) is in exactly one group;
// group codes other than CodeOK, CodeThrottled and CodeInternal, empty
// groups, a first sequence number that is not a decimal without leading
// zeros and varints that are not minimal are malformed.
func DecodeAck(body []byte, a *Ack, maxResults int) error {
	r := reader{b: body}
	a.BatchID = r.u64("batch id")
	count := r.u32("record count")
	ngroups := r.u32("group count")
	if r.err != nil {
		return r.err
	}
	if uint64(count) > uint64(maxResults) || uint64(count) > uint64(len(r.b)) {
		return fmt.Errorf("%w: %d records in %d bytes, limit %d", ErrMalformed, count, len(r.b), maxResults)
	}
	if ngroups > count || uint64(ngroups)*minAckGroupSize > uint64(len(r.b)) {
		return fmt.Errorf("%w: %d groups of %d records in %d bytes", ErrMalformed, ngroups, count, len(r.b))
	}
	a.Count = int(count)
	if cap(a.Groups) < int(ngroups) {
		a.Groups = make([]AckGroup, ngroups)
	}
	a.Groups = a.Groups[:ngroups]
	if cap(a.idx) < int(count) {
		a.idx = make([]uint32, count)
	}
	idx := a.idx[:count]
	words := (int(count) + 63) / 64
	if cap(a.seen) < words {
		a.seen = make([]uint64, words)
	}
	seen := a.seen[:words]
	clear(seen)
	left := count // records not yet in a group
	lastShard := ""
	for gi := range a.Groups {
		g := &a.Groups[gi]
		n := r.u32("group size")
		*g = AckGroup{Code: Code(r.u16("group code"))}
		switch g.Code {
		case CodeOK:
			// Records of a batch share few shards: reuse the last string.
			id := r.bytes(int(r.u8("shard id length")), "shard id")
			if string(id) == lastShard {
				g.ShardID = lastShard
			} else {
				g.ShardID = string(id)
				lastShard = g.ShardID
			}
			first := r.bytes(int(r.u8("sequence number length")), "first sequence number")
			if r.err == nil && !isDecimal(first) {
				return fmt.Errorf("%w: group %d: first sequence number %q is not a decimal", ErrMalformed, gi, first)
			}
			g.FirstSequenceNumber = string(first)
		case CodeThrottled, CodeInternal:
			g.Message = string(r.bytes(int(r.u16("message length")), "message"))
		default:
			if r.err == nil {
				return fmt.Errorf("%w: group %d: code %s is no record code", ErrMalformed, gi, g.Code)
			}
		}
		if r.err != nil {
			return r.err
		}
		if n == 0 || n > left || uint64(n) > uint64(len(r.b)) {
			return fmt.Errorf("%w: group %d of %d records, %d records left, %d bytes left", ErrMalformed, gi, n, left, len(r.b))
		}
		gidx := idx[count-left : count-left+n : count-left+n]
		left -= n
		next := uint64(0) // the lowest value the next index may have
		for j := range gidx {
			d, ok := r.uvarint32()
			if !ok {
				return fmt.Errorf("%w: group %d: index %d: truncated or non-minimal varint", ErrMalformed, gi, j)
			}
			v := next + uint64(d)
			if v >= uint64(count) {
				return fmt.Errorf("%w: group %d: index %d out of range [0, %d)", ErrMalformed, gi, v, count)
			}
			if seen[v/64]&(1<<(v%64)) != 0 {
				return fmt.Errorf("%w: group %d: index %d in two groups", ErrMalformed, gi, v)
			}
			seen[v/64] |= 1 << (v % 64)
			gidx[j] = uint32(v)
			next = v + 1
		}
		g.Indexes = gidx
	}
	if left != 0 {
		return fmt.Errorf("%w: %d of %d records in no group", ErrMalformed, left, count)
	}
	return r.end("groups")
}

// uvarint32 reads a minimal uvarint of at most 32 bits.
func (r *reader) uvarint32() (uint32, bool) {
	if len(r.b) > 0 && r.b[0] < 0x80 {
		v := r.b[0]
		r.b = r.b[1:]
		return uint32(v), true
	}
	var v uint64
	for i := 0; i < 5 && i < len(r.b); i++ {
		c := r.b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 || v > math.MaxUint32 {
				return 0, false // non-minimal or too large
			}
			r.b = r.b[i+1:]
			return uint32(v), true
		}
	}
	return 0, false
}

// isDecimal reports whether b is a decimal without sign or leading zeros.
func isDecimal(b []byte) bool {
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
