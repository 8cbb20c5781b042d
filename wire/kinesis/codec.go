package kinesis

import (
	"math"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fastjson"
)

// Encoding is the wire encoding of a request or response body.
type Encoding uint8

// Encodings of the Kinesis API (KINESIS_API.md 1.2, 1.3).
const (
	EncodingJSON Encoding = iota // application/x-amz-json-1.1
	EncodingCBOR                 // application/x-amz-cbor-1.1
)

// Content types of the two encodings.
const (
	ContentTypeJSON = "application/x-amz-json-1.1"
	ContentTypeCBOR = "application/x-amz-cbor-1.1"
)

// ContentType returns the Content-Type header value for e.
func (e Encoding) ContentType() string {
	if e == EncodingCBOR {
		return ContentTypeCBOR
	}
	return ContentTypeJSON
}

// String returns "json" or "cbor".
func (e Encoding) String() string {
	if e == EncodingCBOR {
		return "cbor"
	}
	return "json"
}

// EncodingOf maps a Content-Type header to its encoding. Parameters and
// case are ignored. application/x-amz-json-1.0 and plain application/json
// are treated as JSON (no SDK sends them to Kinesis). ok is false for any
// other type.
func EncodingOf(contentType string) (enc Encoding, ok bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch mt {
	case ContentTypeJSON, "application/x-amz-json-1.0", "application/json":
		return EncodingJSON, true
	case ContentTypeCBOR:
		return EncodingCBOR, true
	}
	return EncodingJSON, false
}

// parseJSON decodes a JSON body into a node tree.
func parseJSON(body []byte) (node, *Error) {
	if len(body) == 0 {
		return node{}, Serialization("")
	}
	p := jsonParsers.Get().(*fastjson.Parser)
	defer jsonParsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		return node{}, Serialization("")
	}
	return jsonNode(v, 0) // the nodes copy what they keep
}

// jsonParsers pools the parsers of parseJSON.
var jsonParsers = sync.Pool{New: func() any { return new(fastjson.Parser) }}

func jsonNode(v *fastjson.Value, depth int) (node, *Error) {
	if depth > maxDepth {
		return node{}, Serialization("")
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return node{k: kNull}, nil
	case fastjson.TypeTrue:
		return node{k: kBool, b: true}, nil
	case fastjson.TypeFalse:
		return node{k: kBool}, nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return node{k: kString, str: string(b)}, nil
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil && !math.IsInf(f, 0) {
			return node{}, Serialization("")
		}
		return node{k: kNumber, str: string(v.MarshalTo(nil)), f: f}, nil
	case fastjson.TypeArray:
		items, _ := v.Array()
		n := node{k: kArray, arr: make([]node, 0, len(items))}
		for _, it := range items {
			c, e := jsonNode(it, depth+1)
			if e != nil {
				return node{}, e
			}
			n.arr = append(n.arr, c)
		}
		return n, nil
	default:
		o, _ := v.Object()
		n := node{k: kMap}
		var e *Error
		o.Visit(func(key []byte, val *fastjson.Value) {
			if e != nil {
				return
			}
			c, ce := jsonNode(val, depth+1)
			if ce != nil {
				e = ce
				return
			}
			n.keys = append(n.keys, string(key))
			n.vals = append(n.vals, c)
		})
		return n, e
	}
}

// javaType names a JSON/CBOR value the way Jackson's coercion errors do.
func javaType(n *node) string {
	switch n.k {
	case kBool:
		return "class java.lang.Boolean"
	case kString:
		return "class java.lang.String"
	case kBytes:
		return "class [B" // [unsure] CBOR byte string where no blob is expected
	case kInt, kBigInt:
		return "class java.lang.Long" // [unsure] CBOR integer
	default:
		return "class java.math.BigDecimal"
	}
}

// structuralError returns the text for an array or map in a scalar spot.
func structuralError(n *node) *Error {
	if n.k == kArray {
		return Serialization(msgStartOfList)
	}
	return Serialization(msgStartOfStruct)
}

// typeName is the Java class name of a scalar model type in coercion errors.
var typeName = map[ShapeType]string{
	TypeString: "String", TypeInteger: "Integer", TypeLong: "Long", TypeBoolean: "Boolean",
}

// check verifies that n has the type of s and normalises it in place:
// integers become kInt, blobs kBytes (decoded), timestamps kInt
// milliseconds, booleans kBool, null members are dropped. The first type
// error, in document order, is returned as a SerializationException with
// kinesalite's texts.
func check(s *Shape, n *node, enc Encoding) *Error {
	if n.k == kNull {
		return nil
	}
	switch s.Type {
	case TypeStructure:
		switch n.k {
		case kMap:
		case kArray:
			return Serialization(msgStartOfList)
		default:
			return Serialization("Expected null")
		}
		for i, key := range n.keys {
			m := s.Lookup(key)
			if m == nil {
				n.vals[i] = node{k: kNull} // unknown members are ignored
				continue
			}
			if e := check(m.Shape, &n.vals[i], enc); e != nil {
				return e
			}
		}
	case TypeList:
		switch n.k {
		case kArray:
		case kMap:
			return Serialization(msgStartOfStruct)
		default:
			return Serialization("Expected list or null")
		}
		for i := range n.arr {
			if e := check(s.Member, &n.arr[i], enc); e != nil {
				return e
			}
		}
	case TypeMap:
		switch n.k {
		case kMap:
		case kArray:
			return Serialization(msgStartOfList)
		default:
			return Serialization("Expected map or null")
		}
		for i := range n.vals {
			if e := check(s.Value, &n.vals[i], enc); e != nil {
				return e
			}
		}
	case TypeString:
		switch n.k {
		case kString:
		case kArray, kMap:
			return structuralError(n)
		case kNumber, kFloat, kInt, kBigInt:
			return Serialization("class java.math.BigDecimal can not be converted to an String")
		default:
			return Serialization(javaType(n) + " can not be converted to an String")
		}
	case TypeInteger, TypeLong:
		return checkInteger(s.Type, n)
	case TypeBoolean:
		switch n.k {
		case kBool:
		case kArray, kMap:
			return structuralError(n)
		case kString:
			switch strings.ToUpper(n.str) {
			case "TRUE":
				*n = node{k: kBool, b: true}
			case "FALSE":
				*n = node{k: kBool}
			default:
				return Serialization("'" + strings.ToUpper(n.str) + "' can not be converted to an Boolean")
			}
		default:
			return Serialization("class java.math.BigDecimal can not be converted to an Boolean")
		}
	case TypeBlob:
		switch n.k {
		case kBytes:
			if enc == EncodingJSON {
				return Serialization(javaType(n) + " can not be converted to a Blob")
			}
		case kString:
			if e := checkBase64(n.str); e != nil {
				return e
			}
			b, e := decodeBlob(make([]byte, 0, len(n.str)/4*3), n.str)
			if e != nil {
				return e
			}
			*n = node{k: kBytes, bytes: b}
		case kArray, kMap:
			return structuralError(n)
		case kBool:
			return Serialization("class java.lang.Boolean can not be converted to a Blob")
		default:
			return Serialization("class java.math.BigDecimal can not be converted to a Blob")
		}
	case TypeTimestamp:
		ms, e := nodeTimestamp(n, enc)
		if e != nil {
			return e
		}
		*n = node{k: kInt, i: ms}
	}
	return nil
}

// checkInteger coerces n to an Integer or Long; fractions are floored as
// AWS does.
func checkInteger(t ShapeType, n *node) *Error {
	name := typeName[t]
	var v int64
	switch n.k {
	case kInt:
		v = n.i
	case kNumber, kFloat:
		if n.k == kNumber {
			if i, err := strconv.ParseInt(n.str, 10, 64); err == nil {
				v = i
				break
			}
		}
		f := math.Floor(n.f)
		if math.IsNaN(f) || f >= 1<<63 || f < -(1<<63) {
			return Serialization("class java.math.BigInteger can not be converted to an " + name) // [unsure]
		}
		v = int64(f)
	case kBigInt:
		return Serialization("class java.math.BigInteger can not be converted to an " + name) // [unsure]
	case kArray, kMap:
		return structuralError(n)
	case kBytes:
		return Serialization(javaType(n) + " can not be converted to an " + name)
	default:
		return Serialization(javaType(n) + " can not be converted to an " + name)
	}
	if t == TypeInteger && (v > math.MaxInt32 || v < math.MinInt32) {
		return Serialization("class java.lang.Long can not be converted to an Integer")
	}
	*n = node{k: kInt, i: v}
	return nil
}

// cborSecondsBelow is the magnitude under which an untagged CBOR integer
// timestamp is taken as seconds rather than milliseconds (1e11 ms is 1973;
// 1e11 s is year 5138).
const cborSecondsBelow = 100_000_000_000

// nodeTimestamp converts a timestamp value to epoch milliseconds. JSON:
// a number of seconds. CBOR: tag 1 + integer milliseconds (the Java SDK),
// leniently a float of seconds or an untagged integer (seconds when small,
// milliseconds otherwise).
func nodeTimestamp(n *node, enc Encoding) (int64, *Error) {
	switch n.k {
	case kNumber:
		ms, ok := parseSecondsText(n.str)
		if !ok {
			return 0, Serialization("")
		}
		return ms, nil
	case kInt:
		if enc == EncodingCBOR && !n.tag1 && n.i > -cborSecondsBelow && n.i < cborSecondsBelow {
			return n.i * 1000, nil
		}
		return n.i, nil
	case kFloat:
		if math.IsNaN(n.f) || math.IsInf(n.f, 0) || math.Abs(n.f) > 1e15 {
			return 0, Serialization("")
		}
		return int64(math.Round(n.f * 1000)), nil
	case kString:
		// [unsure] exact AWS text for a string timestamp.
		return 0, Serialization("class java.lang.String can not be converted to milliseconds since epoch")
	case kBool:
		return 0, Serialization("class java.lang.Boolean can not be converted to milliseconds since epoch")
	case kArray, kMap:
		return 0, structuralError(n)
	}
	return 0, Serialization("") // big integers, byte strings
}

// validate appends the constraint violations of the structure n (already
// checked) to v, members in AWS's order: alphabetical by lower-camel name.
// prefix is the path of n plus a dot, or "".
func validate(s *Shape, n *node, prefix string, v *validator) {
	for _, idx := range s.checkOrder {
		m := &s.Members[idx]
		var c *node
		if n != nil && n.k == kMap {
			c = n.get(m.Name)
		}
		path := prefix + m.Path
		if c == nil || c.k == kNull {
			if m.Required {
				notNull(v, path)
			}
			continue
		}
		validateValue(m.Shape, c, path, v)
	}
}

func validateValue(s *Shape, c *node, path string, v *validator) {
	switch s.Type {
	case TypeStructure:
		validate(s, c, path+".", v)
	case TypeList:
		n := int64(len(c.arr))
		if s.HasMin && n < s.Min {
			v.fail(quote(listValue(s, c)), path, "Member must have length greater than or equal to "+itoa(s.Min))
		}
		if s.HasMax && n > s.Max {
			v.fail(quote(listValue(s, c)), path, "Member must have length less than or equal to "+itoa(s.Max))
		}
		if s.Member.Type == TypeStructure {
			for i := range c.arr {
				if v.n >= maxValidationErrors {
					return
				}
				validate(s.Member, &c.arr[i], path+"."+strconv.Itoa(i+1)+".member.", v)
			}
			return
		}
		if phrases := memberPhrases(s.Member, c.arr); phrases != "" {
			v.fail(quote(listValue(s, c)), path, "Member must satisfy constraint: ["+phrases+"]")
		}
	case TypeMap:
		n := int64(len(c.keys))
		if s.HasMin && n < s.Min {
			v.fail(quote(mapValue(c)), path, "Member must have length greater than or equal to "+itoa(s.Min))
		}
		if s.HasMax && n > s.Max {
			v.fail(quote(mapValue(c)), path, "Member must have length less than or equal to "+itoa(s.Max))
		}
		keys := make([]node, len(c.keys))
		for i, k := range c.keys {
			keys[i] = node{k: kString, str: k}
		}
		if phrases := memberPhrases(s.Key, keys); phrases != "" {
			v.fail(quote(mapValue(c)), path, "Map keys must satisfy constraint: ["+phrases+"]")
		}
		if phrases := memberPhrases(s.Value, c.vals); phrases != "" {
			v.fail(quote(mapValue(c)), path, "Map value must satisfy constraint: ["+phrases+"]")
		}
	default:
		for _, p := range scalarFailures(s, c) {
			v.fail(scalarValue(s, c), path, p)
		}
	}
}

// scalarFailures returns the constraint phrases a scalar value fails, in
// AWS's order: pattern, minimum length, maximum length, enum, minimum
// value, maximum value.
func scalarFailures(s *Shape, c *node) []string {
	var out []string
	switch s.Type {
	case TypeString:
		if !s.Matches(c.str) {
			out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
		}
		l := int64(javaLength(c.str))
		if s.HasMin && l < s.Min {
			out = append(out, "Member must have length greater than or equal to "+itoa(s.Min))
		}
		if s.HasMax && l > s.Max {
			out = append(out, "Member must have length less than or equal to "+itoa(s.Max))
		}
		if len(s.Enum) > 0 && !containsString(s.Enum, c.str) {
			out = append(out, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
	case TypeBlob:
		l := int64(len(c.bytes))
		if s.HasMin && l < s.Min {
			out = append(out, "Member must have length greater than or equal to "+itoa(s.Min))
		}
		if s.HasMax && l > s.Max {
			out = append(out, "Member must have length less than or equal to "+itoa(s.Max))
		}
	case TypeInteger, TypeLong:
		if s.HasMin && c.i < s.Min {
			out = append(out, "Member must have value greater than or equal to "+itoa(s.Min))
		}
		if s.HasMax && c.i > s.Max {
			out = append(out, "Member must have value less than or equal to "+itoa(s.Max))
		}
	}
	return out
}

// memberPhrases returns the constraints failed by any element of a list of
// scalars (or map keys/values), joined by ", ", each once, in the order of
// scalarFailures. [unsure] AWS's order inside the brackets (kinesalite
// prints the maximum-length phrase first).
func memberPhrases(s *Shape, items []node) string {
	var seen []string
	for i := range items {
		if items[i].k == kNull {
			continue
		}
		for _, p := range scalarFailures(s, &items[i]) {
			if !containsString(seen, p) {
				seen = append(seen, p)
			}
		}
	}
	return strings.Join(seen, ", ")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// scalarValue renders a scalar the way AWS prints it in messages.
func scalarValue(s *Shape, c *node) string {
	switch s.Type {
	case TypeBlob:
		return blobValue(len(c.bytes))
	case TypeInteger, TypeLong:
		return quote(itoa(c.i))
	}
	return quote(c.str)
}

// listValue renders a list like Java's List.toString; structures print as
// com.amazonaws.kinesis.v20131202.<Shape>@2 [unsure: the hash part].
func listValue(s *Shape, c *node) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range c.arr {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(elementString(s.Member, &c.arr[i]))
	}
	b.WriteByte(']')
	return b.String()
}

func elementString(s *Shape, c *node) string {
	if c.k == kNull {
		return "null"
	}
	switch s.Type {
	case TypeStructure:
		return "com.amazonaws.kinesis.v20131202." + s.Name + "@2"
	case TypeBlob:
		return strings.Trim(blobValue(len(c.bytes)), "'")
	case TypeInteger, TypeLong:
		return itoa(c.i)
	}
	return c.str
}

// mapValue renders a string map like Java's Map.toString: {k=v, k2=v2}.
func mapValue(c *node) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range c.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		if c.vals[i].k == kNull {
			b.WriteString("null")
		} else {
			b.WriteString(c.vals[i].str)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// fill stores the checked node n into the generated struct rv.
func fill(s *Shape, rv reflect.Value, n *node) {
	for i, key := range n.keys {
		c := &n.vals[i]
		if c.k == kNull {
			continue
		}
		m := s.Lookup(key)
		if m == nil || n.get(key) != c { // first occurrence wins
			continue
		}
		f := rv.FieldByName(m.Field)
		if !f.IsValid() {
			continue
		}
		fillValue(m.Shape, f, c)
	}
}

func fillValue(s *Shape, f reflect.Value, c *node) {
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		fillValue(s, p.Elem(), c)
		f.Set(p)
		return
	}
	switch s.Type {
	case TypeStructure:
		fill(s, f, c)
	case TypeList:
		sl := reflect.MakeSlice(f.Type(), len(c.arr), len(c.arr))
		for i := range c.arr {
			if c.arr[i].k != kNull {
				fillValue(s.Member, sl.Index(i), &c.arr[i])
			}
		}
		f.Set(sl)
	case TypeMap:
		mp := reflect.MakeMapWithSize(f.Type(), len(c.keys))
		for i, k := range c.keys {
			val := reflect.New(f.Type().Elem()).Elem()
			if c.vals[i].k != kNull {
				fillValue(s.Value, val, &c.vals[i])
			}
			mp.SetMapIndex(reflect.ValueOf(k).Convert(f.Type().Key()), val)
		}
		f.Set(mp)
	case TypeString:
		f.SetString(c.str)
	case TypeInteger, TypeLong, TypeTimestamp:
		f.SetInt(c.i)
	case TypeBoolean:
		f.SetBool(c.b)
	case TypeBlob:
		f.SetBytes(c.bytes)
	}
}

// shapeNamer is implemented by every generated type.
type shapeNamer interface{ shapeName() string }

// NewInput returns a new zero input value (*<Op>Input) for the operation op
// (e.g. "CreateStream"), or nil when the model has no such operation.
func NewInput(op string) any {
	if f := newInputs[op]; f != nil {
		return f()
	}
	return nil
}

// NewOutput returns a new zero output value for op, or nil when op has no
// output shape (it answers with an empty body) or is unknown.
func NewOutput(op string) any {
	if f := newOutputs[op]; f != nil {
		return f()
	}
	return nil
}

// DecodeInput decodes the body of operation op (e.g. "CreateStream", the
// part after "Kinesis_20131202.") in encoding enc into dst, which must be
// the generated *<Op>Input (see NewInput). Checks run in AWS's order: the
// body must be an object and every member must have its model type
// (SerializationException, kinesalite's texts), then every constraint of
// the model (ValidationException listing up to 10 violations). Unknown
// members are ignored and null counts as absent. dst never aliases body.
// An unknown op gives UnknownOperationException. Every error is a *Error
// with Status 400. Rules the model does not express (StreamName or
// StreamARN, ShardIteratorType combinations, ...) are left to the caller.
func DecodeInput(op string, enc Encoding, body []byte, dst any) error {
	if e := decodeInput(op, enc, body, dst); e != nil {
		return e
	}
	return nil
}

func decodeInput(op string, enc Encoding, body []byte, dst any) *Error {
	o := apiModel.Operations[op]
	if o == nil || o.Input == nil {
		return UnknownOperation()
	}
	sn, ok := dst.(shapeNamer)
	rv := reflect.ValueOf(dst)
	if !ok || sn.shapeName() != o.Input.Name || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return InternalFailure("kinesis: DecodeInput(" + op + "): dst is " + rv.Type().String() + ", not *" + o.Input.Name)
	}
	n, e := parseBody(enc, body)
	if e != nil {
		return e
	}
	switch n.k {
	case kMap:
	case kArray:
		return Serialization(msgStartOfList)
	default:
		return Serialization("")
	}
	if e := check(o.Input, &n, enc); e != nil {
		return e
	}
	var v validator
	validate(o.Input, &n, "", &v)
	if e := v.err(); e != nil {
		return e
	}
	rv.Elem().SetZero()
	fill(o.Input, rv.Elem(), &n)
	return nil
}

func parseBody(enc Encoding, body []byte) (node, *Error) {
	if enc == EncodingCBOR {
		return parseCBOR(body)
	}
	return parseJSON(body)
}

// EncodeOutput encodes v, a pointer to a generated output (or any other
// generated shape, e.g. *SubscribeToShardEvent for event payloads), in enc.
// Members are written in model order; absent optional members (nil
// pointers, slices, maps) are omitted, absent required lists and maps are
// written empty. A nil v (an operation without an output shape) gives an
// empty body. Blobs are base64 in JSON and byte strings in CBOR;
// timestamps are seconds with a millisecond fraction in JSON and tag 1 +
// integer milliseconds in CBOR.
func EncodeOutput(enc Encoding, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	sn, ok := v.(shapeNamer)
	if !ok {
		return nil, InternalFailure("kinesis: EncodeOutput: " + rv.Type().String() + " is not a generated shape type")
	}
	s := apiModel.Shapes[sn.shapeName()]
	if s.Name == "SubscribeToShardOutput" {
		return nil, InternalFailure("not implemented: SubscribeToShard output is an event stream; encode its events")
	}
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if enc == EncodingCBOR {
		return appendCBORValue(nil, s, rv), nil
	}
	return appendJSONValue(nil, s, rv), nil
}

// present reports whether the struct field f of a member counts as set.
func present(f reflect.Value) bool {
	switch f.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return !f.IsNil()
	}
	return true
}

func appendJSONValue(dst []byte, s *Shape, f reflect.Value) []byte {
	if f.Kind() == reflect.Pointer {
		f = f.Elem()
	}
	switch s.Type {
	case TypeStructure:
		dst = append(dst, '{')
		first := true
		for i := range s.Members {
			m := &s.Members[i]
			fv := f.FieldByName(m.Field)
			if !present(fv) && (!m.Required || fv.Kind() == reflect.Pointer) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, m.Name)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, m.Shape, fv)
		}
		return append(dst, '}')
	case TypeList:
		dst = append(dst, '[')
		for i := 0; i < f.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONValue(dst, s.Member, f.Index(i))
		}
		return append(dst, ']')
	case TypeMap:
		dst = append(dst, '{')
		for i, k := range sortedKeys(f) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k.String())
			dst = append(dst, ':')
			dst = appendJSONValue(dst, s.Value, f.MapIndex(k))
		}
		return append(dst, '}')
	case TypeString:
		return appendJSONString(dst, f.String())
	case TypeInteger, TypeLong:
		return strconv.AppendInt(dst, f.Int(), 10)
	case TypeTimestamp:
		return appendJSONTimestamp(dst, f.Int())
	case TypeBoolean:
		return strconv.AppendBool(dst, f.Bool())
	case TypeBlob:
		dst = append(dst, '"')
		dst = strictBase64.AppendEncode(dst, f.Bytes())
		return append(dst, '"')
	}
	return append(dst, "null"...)
}

func appendCBORValue(dst []byte, s *Shape, f reflect.Value) []byte {
	if f.Kind() == reflect.Pointer {
		f = f.Elem()
	}
	switch s.Type {
	case TypeStructure:
		n := 0
		for i := range s.Members {
			m := &s.Members[i]
			fv := f.FieldByName(m.Field)
			if present(fv) || (m.Required && fv.Kind() != reflect.Pointer) {
				n++
			}
		}
		dst = appendCBORHead(dst, 5, uint64(n))
		for i := range s.Members {
			m := &s.Members[i]
			fv := f.FieldByName(m.Field)
			if !present(fv) && (!m.Required || fv.Kind() == reflect.Pointer) {
				continue
			}
			dst = appendCBORText(dst, m.Name)
			dst = appendCBORValue(dst, m.Shape, fv)
		}
		return dst
	case TypeList:
		dst = appendCBORHead(dst, 4, uint64(f.Len()))
		for i := 0; i < f.Len(); i++ {
			dst = appendCBORValue(dst, s.Member, f.Index(i))
		}
		return dst
	case TypeMap:
		dst = appendCBORHead(dst, 5, uint64(f.Len()))
		for _, k := range sortedKeys(f) {
			dst = appendCBORText(dst, k.String())
			dst = appendCBORValue(dst, s.Value, f.MapIndex(k))
		}
		return dst
	case TypeString:
		return appendCBORText(dst, f.String())
	case TypeInteger, TypeLong:
		return appendCBORInt(dst, f.Int())
	case TypeTimestamp:
		return appendCBORTimestamp(dst, f.Int())
	case TypeBoolean:
		return appendCBORBool(dst, f.Bool())
	case TypeBlob:
		return appendCBORBytes(dst, f.Bytes())
	}
	return append(dst, 0xf6)
}

// sortedKeys returns the keys of a string map in order, so encodings are
// deterministic.
func sortedKeys(f reflect.Value) []reflect.Value {
	keys := f.MapKeys()
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].String() < keys[j-1].String(); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// AppendError appends the error body of e in encoding enc to dst. JSON:
// AppendErrorJSON. CBOR: a map {"__type": Code, "message": Message}, with
// the key "Message" for SerializationException and no message when it is
// empty, mirroring the JSON body.
func AppendError(enc Encoding, dst []byte, e *Error) []byte {
	if enc != EncodingCBOR {
		return AppendErrorJSON(dst, e)
	}
	if e.Message == "" {
		dst = append(dst, 0xa1)
		dst = appendCBORText(dst, "__type")
		return appendCBORText(dst, e.Code)
	}
	dst = append(dst, 0xa2)
	dst = appendCBORText(dst, "__type")
	dst = appendCBORText(dst, e.Code)
	if e.Code == CodeSerialization {
		dst = appendCBORText(dst, "Message")
	} else {
		dst = appendCBORText(dst, "message")
	}
	return appendCBORText(dst, e.Message)
}
