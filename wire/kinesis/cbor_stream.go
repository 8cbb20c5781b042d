package kinesis

import "math"

// Streaming CBOR decoding of the four hot operations: no node tree, strings and Data
// alias the request's own copy of the body. The checks and their texts are
// those of check (codec.go) for the input shapes; the fuzz targets
// FuzzDecodePutRecordsCBOR and FuzzDecodeHotCBOR compare both.

// skip checks and skips one well-formed item (text keys only).
func (r *cborReader) skip(depth int) *Error {
	if depth > maxDepth {
		return errCBOR()
	}
	major, ai, arg, e := r.head()
	if e != nil {
		return e
	}
	if ai == 31 && (major == 0 || major == 1 || major == 6) {
		return errCBOR()
	}
	switch major {
	case 2, 3:
		if ai != 31 {
			if arg > uint64(len(r.b)-r.off) {
				return errCBOR()
			}
			r.off += int(arg)
			return nil
		}
		for {
			if r.isBreak() {
				r.off++
				return nil
			}
			m, cai, n, e := r.head()
			if e != nil {
				return e
			}
			if m != major || cai == 31 || n > uint64(len(r.b)-r.off) {
				return errCBOR()
			}
			r.off += int(n)
		}
	case 4, 5:
		per := uint64(1)
		if major == 5 {
			per = 2
		}
		if ai != 31 && arg > uint64(len(r.b)-r.off)/per {
			return errCBOR()
		}
		for i := uint64(0); ai == 31 || i < arg; i++ {
			if ai == 31 && r.isBreak() {
				r.off++
				break
			}
			if major == 5 && !r.textKeyAhead() {
				return errCBOR()
			}
			for j := uint64(0); j < per; j++ {
				if e := r.skip(depth + 1); e != nil {
					return e
				}
			}
		}
		return nil
	case 6:
		return r.skip(depth + 1)
	case 7:
		switch {
		case ai >= 20 && ai <= 23, ai >= 25 && ai <= 27:
			return nil
		}
		return errCBOR()
	}
	return nil // 0, 1
}

// textKeyAhead reports whether the next item is a text string, possibly
// tagged, without consuming it.
func (r *cborReader) textKeyAhead() bool {
	save := r.off
	defer func() { r.off = save }()
	for {
		major, _, _, e := r.head()
		if e != nil {
			return false
		}
		if major != 6 {
			return major == 3
		}
	}
}

// hotReader reads a body already known to be well-formed.
type hotReader struct {
	cborReader
	// buf receives concatenated indefinite strings and decoded base64; it
	// has room for them, so appending never moves it.
	buf *[]byte
}

// kindAt returns the major type and head of the next item, after any tags.
func (r *hotReader) next() (major, ai byte, arg uint64) {
	for {
		major, ai, arg, _ = r.head()
		if major != 6 {
			return major, ai, arg
		}
	}
}

// bytesOf returns the content of a string item whose head was just read.
func (r *hotReader) bytesOf(ai byte, arg uint64) []byte {
	if ai != 31 {
		b := r.b[r.off : r.off+int(arg) : r.off+int(arg)]
		r.off += int(arg)
		return b
	}
	start := len(*r.buf)
	for !r.isBreak() {
		_, _, n, _ := r.head()
		*r.buf = append(*r.buf, r.b[r.off:r.off+int(n)]...)
		r.off += int(n)
	}
	r.off++
	b := *r.buf
	return b[start:len(b):len(b)]
}

func isNullHead(major, ai byte) bool { return major == 7 && (ai == 22 || ai == 23) }

// str reads a String member: present is false for null.
func (r *hotReader) str() (s string, present bool, e *Error) {
	major, ai, arg := r.next()
	switch major {
	case 3:
		return bytesToString(r.bytesOf(ai, arg)), true, nil
	case 2:
		r.bytesOf(ai, arg)
		return "", false, Serialization("class [B can not be converted to an String")
	case 4:
		return "", false, Serialization(msgStartOfList)
	case 5:
		return "", false, Serialization(msgStartOfStruct)
	case 7:
		if isNullHead(major, ai) {
			return "", false, nil
		}
		if ai == 20 || ai == 21 {
			return "", false, Serialization("class java.lang.Boolean can not be converted to an String")
		}
	}
	return "", false, Serialization("class java.math.BigDecimal can not be converted to an String")
}

// blob reads a Blob member (byte string, or base64 text as Jackson accepts).
func (r *hotReader) blob() (b []byte, present bool, e *Error) {
	major, ai, arg := r.next()
	switch major {
	case 2:
		b = r.bytesOf(ai, arg)
		if b == nil {
			b = []byte{}
		}
		return b, true, nil
	case 3:
		s := bytesToString(r.bytesOf(ai, arg))
		if e := checkBase64(s); e != nil {
			return nil, false, e
		}
		start := len(*r.buf)
		out, e := decodeBlob(*r.buf, s)
		if e != nil {
			return nil, false, e
		}
		*r.buf = out
		return out[start:len(out):len(out)], true, nil
	case 4:
		return nil, false, Serialization(msgStartOfList)
	case 5:
		return nil, false, Serialization(msgStartOfStruct)
	case 7:
		if isNullHead(major, ai) {
			return nil, false, nil
		}
		if ai == 20 || ai == 21 {
			return nil, false, Serialization("class java.lang.Boolean can not be converted to a Blob")
		}
	}
	return nil, false, Serialization("class java.math.BigDecimal can not be converted to a Blob")
}

// key reads a map key (known to be a text string) or reports the end of
// an indefinite map.
func (r *hotReader) key(ai byte, arg uint64, i uint64) (string, bool) {
	if ai == 31 {
		if r.isBreak() {
			r.off++
			return "", false
		}
	} else if i >= arg {
		return "", false
	}
	_, kai, karg := r.next()
	return bytesToString(r.bytesOf(kai, karg)), true
}

// DecodePutRecordsCBOR decodes a CBOR PutRecords body into req with the
// ownership rules of DecodePutRecords: body is copied into req, and the
// strings and Data alias that copy until the next Decode or Reset on req.
// A warmed-up request decodes without allocating. Then call req.Validate.
func DecodePutRecordsCBOR(body []byte, req *PutRecordsRequest) error {
	if e := req.decodeCBOR(body); e != nil {
		return e
	}
	return nil
}

// beginCBOR checks that body is one well-formed item, copies it into
// *owned (with room for the strings decoding appends) and returns a reader
// positioned inside the top-level map.
func beginCBOR(body []byte, owned *[]byte) (r hotReader, ai byte, arg uint64, e *Error) {
	if len(body) == 0 {
		return r, 0, 0, Serialization("")
	}
	check := cborReader{b: body}
	if e := check.skip(0); e != nil {
		return r, 0, 0, e
	}
	if check.off != len(body) {
		return r, 0, 0, errCBOR()
	}
	if need := 2 * len(body); cap(*owned) < need {
		*owned = make([]byte, 0, need)
	}
	*owned = append((*owned)[:0], body...)
	r = hotReader{cborReader: cborReader{b: (*owned)[:len(body):len(body)]}, buf: owned}
	major, ai, arg := r.next()
	switch major {
	case 5:
		return r, ai, arg, nil
	case 4:
		return r, 0, 0, Serialization(msgStartOfList)
	}
	return r, 0, 0, Serialization("")
}

// Extra "seen" bits for members without a presence bit.
const (
	seenSequence  uint16 = 1 << 14
	seenTimestamp uint16 = 1 << 15
)

// first reports whether the member bit is met for the first time: the
// first occurrence of a member wins, even a null one, as in DecodeInput and
// the JSON decoders.
func first(seen *uint16, bit uint16) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// setStr stores s (when present) in *dst if the member is met first.
func setStr(dst *string, s string, ok bool, seen, present *uint16, bit uint16) {
	if first(seen, bit) && ok {
		*dst = s
		*present |= bit
	}
}

func (req *PutRecordsRequest) decodeCBOR(body []byte) *Error {
	req.Reset()
	r, ai, arg, e := beginCBOR(body, &req.data)
	if e != nil {
		return e
	}
	var seen uint16
	for i := uint64(0); ; i++ {
		k, ok := r.key(ai, arg, i)
		if !ok {
			break
		}
		var e *Error
		switch k {
		case "StreamName", "StreamARN", "StreamId":
			s, present, se := r.str()
			e = se
			if k == "StreamName" {
				setStr(&req.StreamName, s, present, &seen, &req.present, hasStreamName)
			}
			if k == "StreamARN" {
				setStr(&req.StreamARN, s, present, &seen, &req.present, hasStreamARN)
			}
		case "Records":
			e = req.recordsCBOR(&r, first(&seen, hasRecords))
		default:
			r.skip(1)
		}
		if e != nil {
			return e
		}
	}
	return nil
}

// recordsCBOR reads the Records member; a repeated Records member is
// checked but ignored (the first one wins, as with JSON).
func (req *PutRecordsRequest) recordsCBOR(r *hotReader, store bool) *Error {
	major, ai, arg := r.next()
	switch major {
	case 4:
	case 5:
		return Serialization(msgStartOfStruct)
	case 7:
		if isNullHead(major, ai) {
			return nil
		}
		return Serialization("Expected list or null")
	default:
		if major == 2 || major == 3 {
			r.bytesOf(ai, arg)
		}
		return Serialization("Expected list or null")
	}
	if store {
		req.present |= hasRecords
	}
	var scratch PutRecordsEntry
	for i := uint64(0); ai == 31 || i < arg; i++ {
		if ai == 31 && r.isBreak() {
			r.off++
			break
		}
		entry := &scratch
		if store {
			if len(req.Records) < cap(req.Records) {
				req.Records = req.Records[:len(req.Records)+1]
			} else {
				req.Records = append(req.Records, PutRecordsEntry{})
			}
			entry = &req.Records[len(req.Records)-1]
		}
		*entry = PutRecordsEntry{}
		var eseen uint16
		emaj, eai, earg := r.next()
		switch emaj {
		case 5:
		case 4:
			return Serialization(msgStartOfList)
		case 7:
			if isNullHead(emaj, eai) {
				continue
			}
			return Serialization("Expected null")
		default:
			return Serialization("Expected null")
		}
		for j := uint64(0); ; j++ {
			k, ok := r.key(eai, earg, j)
			if !ok {
				break
			}
			switch k {
			case "PartitionKey", "ExplicitHashKey":
				s, present, e := r.str()
				if e != nil {
					return e
				}
				if k == "PartitionKey" {
					setStr(&entry.PartitionKey, s, present, &eseen, &entry.present, hasPartitionKey)
				} else {
					setStr(&entry.ExplicitHashKey, s, present, &eseen, &entry.present, hasExplicitHashKey)
				}
			case "Data":
				b, present, e := r.blob()
				if e != nil {
					return e
				}
				if first(&eseen, hasData) && present {
					entry.Data, entry.present = b, entry.present|hasData
				}
			default:
				r.skip(1)
			}
		}
	}
	if store && req.Records == nil {
		req.Records = []PutRecordsEntry{}
	}
	return nil
}

// nextTag1 is next that also reports whether one of the tags was 1.
func (r *hotReader) nextTag1() (major, ai byte, arg uint64, tag1 bool) {
	for {
		major, ai, arg, _ = r.head()
		if major != 6 {
			return major, ai, arg, tag1
		}
		if arg == 1 {
			tag1 = true
		}
	}
}

// floatOf returns the value of a float head (ai 25, 26 or 27).
func floatOf(ai byte, arg uint64) float64 {
	switch ai {
	case 25:
		return halfFloat(uint16(arg))
	case 26:
		return float64(math.Float32frombits(uint32(arg)))
	}
	return math.Float64frombits(arg)
}

// integer reads an Integer member with the texts of checkInteger.
func (r *hotReader) integer() (v int64, present bool, e *Error) {
	const to = " can not be converted to an Integer"
	major, ai, arg := r.next()
	switch major {
	case 0:
		if arg > math.MaxInt64 {
			return 0, false, Serialization("class java.math.BigInteger" + to)
		}
		v = int64(arg)
	case 1:
		if arg > math.MaxInt64 {
			return 0, false, Serialization("class java.math.BigInteger" + to)
		}
		v = -1 - int64(arg)
	case 2:
		r.bytesOf(ai, arg)
		return 0, false, Serialization("class [B" + to)
	case 3:
		r.bytesOf(ai, arg)
		return 0, false, Serialization("class java.lang.String" + to)
	case 4:
		return 0, false, Serialization(msgStartOfList)
	case 5:
		return 0, false, Serialization(msgStartOfStruct)
	default:
		switch {
		case isNullHead(major, ai):
			return 0, false, nil
		case ai == 20 || ai == 21:
			return 0, false, Serialization("class java.lang.Boolean" + to)
		}
		f := math.Floor(floatOf(ai, arg))
		if math.IsNaN(f) || f >= 1<<63 || f < -(1<<63) {
			return 0, false, Serialization("class java.math.BigInteger" + to)
		}
		v = int64(f)
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		return 0, false, Serialization("class java.lang.Long" + to)
	}
	return v, true, nil
}

// timestamp reads a Timestamp member with the rules of nodeTimestamp.
func (r *hotReader) timestamp() (ms int64, present bool, e *Error) {
	major, ai, arg, tag1 := r.nextTag1()
	switch major {
	case 0, 1:
		if arg > math.MaxInt64 {
			return 0, false, Serialization("")
		}
		v := int64(arg)
		if major == 1 {
			v = -1 - v
		}
		if !tag1 && v > -cborSecondsBelow && v < cborSecondsBelow {
			return v * 1000, true, nil
		}
		return v, true, nil
	case 2:
		r.bytesOf(ai, arg)
		return 0, false, Serialization("")
	case 3:
		r.bytesOf(ai, arg)
		return 0, false, Serialization("class java.lang.String can not be converted to milliseconds since epoch")
	case 4:
		return 0, false, Serialization(msgStartOfList)
	case 5:
		return 0, false, Serialization(msgStartOfStruct)
	}
	switch {
	case isNullHead(major, ai):
		return 0, false, nil
	case ai == 20 || ai == 21:
		return 0, false, Serialization("class java.lang.Boolean can not be converted to milliseconds since epoch")
	}
	f := floatOf(ai, arg)
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, false, Serialization("")
	}
	return int64(math.Round(f * 1000)), true, nil
}

// DecodePutRecordCBOR decodes a CBOR PutRecord body into req (ownership as
// DecodePutRecordsCBOR); then call req.Validate.
func DecodePutRecordCBOR(body []byte, req *PutRecordRequest) error {
	if e := req.decodeCBOR(body); e != nil {
		return e
	}
	return nil
}

func (req *PutRecordRequest) decodeCBOR(body []byte) *Error {
	req.Reset()
	r, ai, arg, e := beginCBOR(body, &req.data)
	if e != nil {
		return e
	}
	var seen uint16
	for i := uint64(0); ; i++ {
		k, ok := r.key(ai, arg, i)
		if !ok {
			return nil
		}
		var e *Error
		var s string
		var present bool
		switch k {
		case "StreamName":
			s, present, e = r.str()
			setStr(&req.StreamName, s, present, &seen, &req.present, hasStreamName)
		case "StreamARN":
			s, present, e = r.str()
			setStr(&req.StreamARN, s, present, &seen, &req.present, hasStreamARN)
		case "PartitionKey":
			s, present, e = r.str()
			setStr(&req.PartitionKey, s, present, &seen, &req.present, hasPartitionKey)
		case "ExplicitHashKey":
			s, present, e = r.str()
			setStr(&req.ExplicitHashKey, s, present, &seen, &req.present, hasExplicitHashKey)
		case "SequenceNumberForOrdering":
			s, present, e = r.str()
			var none uint16
			setStr(&req.SequenceNumberForOrdering, s, present, &seen, &none, seenSequence)
		case "StreamId":
			_, _, e = r.str()
		case "Data":
			var b []byte
			b, present, e = r.blob()
			if first(&seen, hasData) && present {
				req.Data, req.present = b, req.present|hasData
			}
		default:
			r.skip(1)
		}
		if e != nil {
			return e
		}
	}
}

// DecodeGetShardIteratorCBOR decodes a CBOR GetShardIterator body into req;
// the strings alias req's copy of body until its next Decode or Reset.
func DecodeGetShardIteratorCBOR(body []byte, req *GetShardIteratorRequest) error {
	if e := req.decodeCBOR(body); e != nil {
		return e
	}
	return nil
}

func (req *GetShardIteratorRequest) decodeCBOR(body []byte) *Error {
	req.Reset()
	r, ai, arg, e := beginCBOR(body, &req.cbor)
	if e != nil {
		return e
	}
	var seen uint16
	for i := uint64(0); ; i++ {
		k, ok := r.key(ai, arg, i)
		if !ok {
			return nil
		}
		var e *Error
		var s string
		var present bool
		switch k {
		case "StreamName":
			s, present, e = r.str()
			setStr(&req.StreamName, s, present, &seen, &req.present, hasStreamName)
		case "StreamARN":
			s, present, e = r.str()
			setStr(&req.StreamARN, s, present, &seen, &req.present, hasStreamARN)
		case "ShardId":
			s, present, e = r.str()
			setStr(&req.ShardID, s, present, &seen, &req.present, hasShardID)
		case "ShardIteratorType":
			s, present, e = r.str()
			setStr(&req.ShardIteratorType, s, present, &seen, &req.present, hasShardIteratorType)
		case "StartingSequenceNumber":
			s, present, e = r.str()
			var none uint16
			setStr(&req.StartingSequenceNumber, s, present, &seen, &none, seenSequence)
		case "StreamId":
			_, _, e = r.str()
		case "Timestamp":
			var ms int64
			ms, present, e = r.timestamp()
			if first(&seen, seenTimestamp) && present {
				req.TimestampMillis, req.HasTimestamp = ms, true
			}
		default:
			r.skip(1)
		}
		if e != nil {
			return e
		}
	}
}

// DecodeGetRecordsCBOR decodes a CBOR GetRecords body into req; the strings
// alias req's copy of body until its next Decode or Reset.
func DecodeGetRecordsCBOR(body []byte, req *GetRecordsRequest) error {
	if e := req.decodeCBOR(body); e != nil {
		return e
	}
	return nil
}

func (req *GetRecordsRequest) decodeCBOR(body []byte) *Error {
	req.Reset()
	r, ai, arg, e := beginCBOR(body, &req.cbor)
	if e != nil {
		return e
	}
	var seen uint16
	for i := uint64(0); ; i++ {
		k, ok := r.key(ai, arg, i)
		if !ok {
			return nil
		}
		var e *Error
		var s string
		var present bool
		switch k {
		case "ShardIterator":
			s, present, e = r.str()
			setStr(&req.ShardIterator, s, present, &seen, &req.present, hasShardIterator)
		case "StreamARN":
			s, present, e = r.str()
			setStr(&req.StreamARN, s, present, &seen, &req.present, hasStreamARN)
		case "StreamId":
			_, _, e = r.str()
		case "Limit":
			var v int64
			v, present, e = r.integer()
			if first(&seen, hasLimit) && present {
				req.Limit, req.present = v, req.present|hasLimit
			}
		default:
			r.skip(1)
		}
		if e != nil {
			return e
		}
	}
}
