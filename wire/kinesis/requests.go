package kinesis

import (
	"bytes"

	"github.com/valyala/fastjson"
)

// Presence bits: the JSON codec distinguishes an absent (or null) member
// from an empty one, because AWS reports them differently ("Value null" /
// "Member must not be null" versus an empty value failing a length constraint).
const (
	hasData uint16 = 1 << iota
	hasPartitionKey
	hasExplicitHashKey
	hasRecords
	hasLimit
	hasTimestamp
	hasShardIteratorType
	hasShardID
	hasShardIterator
	hasStreamName
	hasStreamARN
)

// strMember reads member name of o as a string and notes its presence in
// *present.
func strMember(o *fastjson.Object, name string, present *uint16, bit uint16) (string, *Error) {
	s, ok, e := stringValue(o.Get(name))
	if ok {
		*present |= bit
	}
	return s, e
}

// integerMember reads member name of o as an integer and notes its presence
// in *present.
func integerMember(o *fastjson.Object, name string, present *uint16, bit uint16) (int64, *Error) {
	n, ok, e := integerValue(o.Get(name))
	if ok {
		*present |= bit
	}
	return n, e
}

// noCopy makes go vet complain when a request (which owns a parser whose
// memory its strings alias) is copied.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// PutRecordsEntry is one PutRecordsRequestEntry.
type PutRecordsEntry struct {
	Data            []byte
	PartitionKey    string
	ExplicitHashKey string

	present uint16
	dataOff int
	dataLen int
}

// PutRecordsRequest is the input of Kinesis_20131202.PutRecords.
type PutRecordsRequest struct {
	_ noCopy

	StreamName string
	StreamARN  string
	Records    []PutRecordsEntry

	present uint16
	parser  fastjson.Parser
	data    []byte
	raw     []byte // copy of the body for decodeFast, aliased by the strings
}

// Reset clears r but keeps its buffers for reuse.
func (r *PutRecordsRequest) Reset() {
	r.StreamName, r.StreamARN = "", ""
	clear(r.Records)
	r.Records = r.Records[:0]
	r.present = 0
	r.data = r.data[:0]
}

// DecodePutRecords decodes a JSON PutRecords body into req, reusing req's
// slices. Strings and Data alias memory owned by req and stay valid until
// the next Decode or Reset on req. body is not retained. Type errors are
// returned as a *Error with Code SerializationException; constraints are
// checked separately by Validate.
func DecodePutRecords(body []byte, req *PutRecordsRequest) error {
	if e := req.decode(body); e != nil {
		return e
	}
	return nil
}

func (r *PutRecordsRequest) decode(body []byte) *Error {
	r.Reset()
	if r.decodeFast(body) {
		return nil
	}
	return r.decodeGeneral(body)
}

// decodeGeneral decodes any body through fastjson, with AWS's errors.
func (r *PutRecordsRequest) decodeGeneral(body []byte) *Error {
	r.Reset()
	o, e := topObject(&r.parser, body)
	if e != nil {
		return e
	}
	if r.StreamName, e = strMember(o, "StreamName", &r.present, hasStreamName); e != nil {
		return e
	}
	if r.StreamARN, e = strMember(o, "StreamARN", &r.present, hasStreamARN); e != nil {
		return e
	}
	v := o.Get("Records")
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return nil
	case fastjson.TypeArray:
	case fastjson.TypeObject:
		return Serialization(msgStartOfStruct)
	default:
		return Serialization("Expected list or null")
	}
	r.present |= hasRecords
	items, _ := v.Array()
	for _, item := range items {
		if len(r.Records) < cap(r.Records) {
			r.Records = r.Records[:len(r.Records)+1]
		} else {
			r.Records = append(r.Records, PutRecordsEntry{})
		}
		entry := &r.Records[len(r.Records)-1]
		switch item.Type() {
		case fastjson.TypeNull:
			// A null list member stays an all-absent entry; Validate
			// reports its members as null.
			continue
		case fastjson.TypeObject:
		case fastjson.TypeArray:
			return Serialization(msgStartOfList)
		default:
			return Serialization("Expected null")
		}
		io, _ := item.Object()
		if entry.PartitionKey, e = strMember(io, "PartitionKey", &entry.present, hasPartitionKey); e != nil {
			return e
		}
		if entry.ExplicitHashKey, e = strMember(io, "ExplicitHashKey", &entry.present, hasExplicitHashKey); e != nil {
			return e
		}
		b64, ok, e := blobString(io.Get("Data"))
		if e != nil {
			return e
		}
		if ok {
			entry.present |= hasData
			entry.dataOff = len(r.data)
			if r.data, e = checkDecodeBlob(r.data, b64); e != nil {
				return e
			}
			entry.dataLen = len(r.data) - entry.dataOff
		}
	}
	r.sliceData()
	return nil
}

// sliceData points the entries' Data into r.data; only once it is
// complete, as it may have moved while it grew.
func (r *PutRecordsRequest) sliceData() {
	for i := range r.Records {
		entry := &r.Records[i]
		if entry.present&hasData != 0 {
			end := entry.dataOff + entry.dataLen
			entry.Data = r.data[entry.dataOff:end:end]
			if entry.Data == nil {
				entry.Data = make([]byte, 0)
			}
		}
	}
}

// decodeFast decodes the usual shape of a PutRecords body in one pass,
// without building a parse tree: an object of the members StreamName and
// StreamARN (strings) and Records (an array of objects of the members Data,
// PartitionKey and ExplicitHashKey, all strings), each at most once, no
// escapes in any string, JSON whitespace anywhere between tokens, nothing
// after the object. It returns false on anything else, or on a Data member
// that is not valid base64, and then r must be Reset and decoded by the
// general path, which gives the error AWS gives. For the bodies it accepts
// its result is the general path's: fastjson too returns a string without
// escapes as its raw bytes.
func (r *PutRecordsRequest) decodeFast(body []byte) bool {
	r.raw = append(r.raw[:0], body...) // the strings alias r, not body
	p := jsonScanner{b: r.raw}
	if !p.expect('{') {
		return false
	}
	if p.peek('}') {
		return p.end()
	}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		switch key {
		case "StreamName", "StreamARN":
			bit := hasStreamName
			if key == "StreamARN" {
				bit = hasStreamARN
			}
			v, ok := p.str()
			if !ok || r.present&bit != 0 {
				return false
			}
			r.present |= bit
			if bit == hasStreamName {
				r.StreamName = v
			} else {
				r.StreamARN = v
			}
		case "Records":
			if r.present&hasRecords != 0 || !r.decodeFastRecords(&p) {
				return false
			}
		default:
			return false
		}
		if p.peek('}') {
			break
		}
		if !p.expect(',') {
			return false
		}
	}
	if !p.end() {
		return false
	}
	r.sliceData()
	return true
}

// decodeFastRecords decodes the Records array for decodeFast.
func (r *PutRecordsRequest) decodeFastRecords(p *jsonScanner) bool {
	r.present |= hasRecords
	if !p.expect('[') {
		return false
	}
	if p.peek(']') {
		return true
	}
	for {
		if len(r.Records) < cap(r.Records) {
			r.Records = r.Records[:len(r.Records)+1]
		} else {
			r.Records = append(r.Records, PutRecordsEntry{})
		}
		entry := &r.Records[len(r.Records)-1]
		if !p.expect('{') {
			return false
		}
		if !p.peek('}') {
			for {
				key, ok := p.key()
				if !ok {
					return false
				}
				v, ok := p.str()
				if !ok {
					return false
				}
				var bit uint16
				switch key {
				case "Data":
					bit = hasData
				case "PartitionKey":
					bit = hasPartitionKey
				case "ExplicitHashKey":
					bit = hasExplicitHashKey
				default:
					return false
				}
				if entry.present&bit != 0 {
					return false
				}
				entry.present |= bit
				switch bit {
				case hasData:
					entry.dataOff = len(r.data)
					var e *Error
					if r.data, e = checkDecodeBlob(r.data, v); e != nil {
						return false
					}
					entry.dataLen = len(r.data) - entry.dataOff
				case hasPartitionKey:
					entry.PartitionKey = v
				default:
					entry.ExplicitHashKey = v
				}
				if p.peek('}') {
					break
				}
				if !p.expect(',') {
					return false
				}
			}
		}
		if p.peek(']') {
			return true
		}
		if !p.expect(',') {
			return false
		}
	}
}

// jsonScanner reads the tokens decodeFast accepts from b.
type jsonScanner struct {
	b []byte
	i int
}

func (p *jsonScanner) skipWS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// expect consumes c after whitespace.
func (p *jsonScanner) expect(c byte) bool {
	p.skipWS()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// peek consumes c after whitespace if it is next.
func (p *jsonScanner) peek(c byte) bool {
	return p.expect(c)
}

// end tells whether only whitespace is left.
func (p *jsonScanner) end() bool {
	p.skipWS()
	return p.i == len(p.b)
}

// str reads a string without escapes, aliasing b.
func (p *jsonScanner) str() (string, bool) {
	if !p.expect('"') {
		return "", false
	}
	rest := p.b[p.i:]
	n := bytes.IndexByte(rest, '"')
	if n < 0 || bytes.IndexByte(rest[:n], '\\') >= 0 {
		return "", false
	}
	p.i += n + 1
	return bytesToString(rest[:n]), true
}

// key reads a member name and its colon.
func (p *jsonScanner) key() (string, bool) {
	k, ok := p.str()
	if !ok || !p.expect(':') {
		return "", false
	}
	return k, true
}

// PutRecordRequest is the input of Kinesis_20131202.PutRecord.
type PutRecordRequest struct {
	_ noCopy

	StreamName                string
	StreamARN                 string
	Data                      []byte
	PartitionKey              string
	ExplicitHashKey           string
	SequenceNumberForOrdering string

	present uint16
	parser  fastjson.Parser
	data    []byte
}

// Reset clears r but keeps its buffers for reuse.
func (r *PutRecordRequest) Reset() {
	r.StreamName, r.StreamARN, r.PartitionKey, r.ExplicitHashKey, r.SequenceNumberForOrdering = "", "", "", "", ""
	r.Data = nil
	r.present = 0
	r.data = r.data[:0]
}

// DecodePutRecord decodes a JSON PutRecord body into req; ownership rules
// are those of DecodePutRecords.
func DecodePutRecord(body []byte, req *PutRecordRequest) error {
	if e := req.decode(body); e != nil {
		return e
	}
	return nil
}

func (r *PutRecordRequest) decode(body []byte) *Error {
	r.Reset()
	o, e := topObject(&r.parser, body)
	if e != nil {
		return e
	}
	if r.StreamName, e = strMember(o, "StreamName", &r.present, hasStreamName); e != nil {
		return e
	}
	b64, hasBlob, e := blobString(o.Get("Data"))
	if e != nil {
		return e
	}
	if hasBlob {
		if r.data, e = checkDecodeBlob(r.data, b64); e != nil {
			return e
		}
		r.present |= hasData
		r.Data = r.data[:len(r.data):len(r.data)]
		if r.Data == nil {
			r.Data = make([]byte, 0)
		}
	}
	if r.PartitionKey, e = strMember(o, "PartitionKey", &r.present, hasPartitionKey); e != nil {
		return e
	}
	if r.ExplicitHashKey, e = strMember(o, "ExplicitHashKey", &r.present, hasExplicitHashKey); e != nil {
		return e
	}
	if r.SequenceNumberForOrdering, _, e = stringValue(o.Get("SequenceNumberForOrdering")); e != nil {
		return e
	}
	if r.StreamARN, e = strMember(o, "StreamARN", &r.present, hasStreamARN); e != nil {
		return e
	}
	return nil
}

// Shard iterator types (ShardIteratorType enum, model order).
const (
	IteratorAtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	IteratorAfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
	IteratorTrimHorizon         = "TRIM_HORIZON"
	IteratorLatest              = "LATEST"
	IteratorAtTimestamp         = "AT_TIMESTAMP"
)

// GetShardIteratorRequest is the input of Kinesis_20131202.GetShardIterator.
type GetShardIteratorRequest struct {
	_ noCopy

	StreamName             string
	StreamARN              string
	ShardID                string // "ShardId"
	ShardIteratorType      string
	StartingSequenceNumber string
	// TimestampMillis is "Timestamp" in epoch milliseconds; valid when
	// HasTimestamp is true.
	TimestampMillis int64
	HasTimestamp    bool

	present uint16
	parser  fastjson.Parser
	cbor    []byte // copy of a CBOR body, aliased by the strings
}

// Reset clears r but keeps its parser for reuse.
func (r *GetShardIteratorRequest) Reset() {
	r.StreamName, r.StreamARN, r.ShardID, r.ShardIteratorType, r.StartingSequenceNumber = "", "", "", "", ""
	r.TimestampMillis, r.HasTimestamp = 0, false
	r.present = 0
}

// DecodeGetShardIterator decodes a JSON GetShardIterator body into req;
// strings alias memory owned by req until its next Decode or Reset.
func DecodeGetShardIterator(body []byte, req *GetShardIteratorRequest) error {
	if e := req.decode(body); e != nil {
		return e
	}
	return nil
}

func (r *GetShardIteratorRequest) decode(body []byte) *Error {
	r.Reset()
	o, e := topObject(&r.parser, body)
	if e != nil {
		return e
	}
	if r.StreamName, e = strMember(o, "StreamName", &r.present, hasStreamName); e != nil {
		return e
	}
	if r.ShardID, e = strMember(o, "ShardId", &r.present, hasShardID); e != nil {
		return e
	}
	if r.ShardIteratorType, e = strMember(o, "ShardIteratorType", &r.present, hasShardIteratorType); e != nil {
		return e
	}
	if r.StartingSequenceNumber, _, e = stringValue(o.Get("StartingSequenceNumber")); e != nil {
		return e
	}
	if r.TimestampMillis, r.HasTimestamp, e = timestampValue(o.Get("Timestamp")); e != nil {
		return e
	}
	if r.StreamARN, e = strMember(o, "StreamARN", &r.present, hasStreamARN); e != nil {
		return e
	}
	return nil
}

// DefaultGetRecordsLimit is the Limit used when a GetRecords request has none.
const DefaultGetRecordsLimit = 10000

// GetRecordsRequest is the input of Kinesis_20131202.GetRecords.
type GetRecordsRequest struct {
	_ noCopy

	ShardIterator string
	// Limit is 0 when absent; use EffectiveLimit.
	Limit     int64
	StreamARN string

	present uint16
	parser  fastjson.Parser
	cbor    []byte // copy of a CBOR body, aliased by the strings
}

// Reset clears r but keeps its parser for reuse.
func (r *GetRecordsRequest) Reset() {
	r.ShardIterator, r.StreamARN, r.Limit, r.present = "", "", 0, 0
}

// EffectiveLimit returns Limit, or DefaultGetRecordsLimit when absent.
func (r *GetRecordsRequest) EffectiveLimit() int {
	if r.present&hasLimit == 0 && r.Limit == 0 {
		return DefaultGetRecordsLimit
	}
	return int(r.Limit)
}

// DecodeGetRecords decodes a JSON GetRecords body into req; strings alias
// memory owned by req until its next Decode or Reset.
func DecodeGetRecords(body []byte, req *GetRecordsRequest) error {
	if e := req.decode(body); e != nil {
		return e
	}
	return nil
}

func (r *GetRecordsRequest) decode(body []byte) *Error {
	r.Reset()
	o, e := topObject(&r.parser, body)
	if e != nil {
		return e
	}
	if r.ShardIterator, e = strMember(o, "ShardIterator", &r.present, hasShardIterator); e != nil {
		return e
	}
	if r.Limit, e = integerMember(o, "Limit", &r.present, hasLimit); e != nil {
		return e
	}
	if r.StreamARN, e = strMember(o, "StreamARN", &r.present, hasStreamARN); e != nil {
		return e
	}
	return nil
}
