package cborclient

import (
	"fmt"
	"math"
	"sort"
	"time"
	"unicode/utf16"
)

// Field is one member of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a CBOR map whose members are written in the given order.
type Object []Field

// Array is a CBOR array.
type Array []any

// KV returns a Field.
func KV(key string, value any) Field { return Field{Key: key, Value: value} }

// Map returns an Object of fields, in order.
func Map(fields ...Field) Object { return Object(fields) }

// List returns an Array of values.
func List(values ...any) Array { return Array(values) }

// Major types and markers (RFC 8949).
const (
	majorUint   = 0 << 5
	majorNegInt = 1 << 5
	majorBytes  = 2 << 5
	majorText   = 3 << 5
	majorArray  = 4 << 5
	majorMap    = 5 << 5
	majorTag    = 6 << 5

	byteFalse           = 0xf4
	byteTrue            = 0xf5
	byteNull            = 0xf6
	byteArrayIndefinite = 0x9f
	byteMapIndefinite   = 0xbf
	byteTextIndefinite  = 0x7f
	byteBreak           = 0xff
)

// Append appends the Jackson-CBOR encoding of v. Supported values: Object,
// Array, []any, map[string]any (keys sorted), string, []byte, int, int32,
// int64, uint64, bool, float64, time.Time (tag 1 + epoch milliseconds) and
// nil.
func Append(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, byteNull), nil
	case Object:
		dst = append(dst, byteMapIndefinite)
		var err error
		for _, f := range v {
			dst = AppendText(dst, f.Key)
			if dst, err = Append(dst, f.Value); err != nil {
				return dst, fmt.Errorf("member %q: %w", f.Key, err)
			}
		}
		return append(dst, byteBreak), nil
	case map[string]any:
		// Not a Java request shape (the SDKs write model order); sorted
		// keys make the output deterministic for tests.
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		obj := make(Object, len(keys))
		for i, k := range keys {
			obj[i] = KV(k, v[k])
		}
		return Append(dst, obj)
	case uint64:
		if v <= math.MaxInt64 {
			return AppendInt(dst, int64(v)), nil
		}
		return append(dst, majorUint|27, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v)), nil
	case Array:
		return appendArray(dst, v)
	case []any:
		return appendArray(dst, v)
	case string:
		return AppendText(dst, v), nil
	case []byte:
		dst = appendHead(dst, majorBytes, uint64(len(v)))
		return append(dst, v...), nil
	case int:
		return AppendInt(dst, int64(v)), nil
	case int32:
		return AppendInt(dst, int64(v)), nil
	case int64:
		return AppendInt(dst, v), nil
	case bool:
		if v {
			return append(dst, byteTrue), nil
		}
		return append(dst, byteFalse), nil
	case float64:
		// Jackson writeNumber(double): always the 8-byte float.
		b := math.Float64bits(v)
		return append(dst, 0xfb, byte(b>>56), byte(b>>48), byte(b>>40), byte(b>>32), byte(b>>24), byte(b>>16), byte(b>>8), byte(b)), nil
	case time.Time:
		return AppendTimestamp(dst, v), nil
	default:
		return dst, fmt.Errorf("cborclient: cannot encode %T", v)
	}
}

func appendArray(dst []byte, v []any) ([]byte, error) {
	dst = append(dst, byteArrayIndefinite)
	var err error
	for i, e := range v {
		if dst, err = Append(dst, e); err != nil {
			return dst, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return append(dst, byteBreak), nil
}

// Encode returns the encoding of v (see Append).
func Encode(v any) ([]byte, error) { return Append(nil, v) }

// appendHead appends a minimal initial byte and argument.
func appendHead(dst []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(dst, major|byte(n))
	case n <= math.MaxUint8:
		return append(dst, major|24, byte(n))
	case n <= math.MaxUint16:
		return append(dst, major|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(dst, major|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(dst, major|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// AppendInt appends n as Jackson's writeNumber(int/long) does with
// WRITE_MINIMAL_INTS (on by default): in the shortest form. (Jackson 2.x
// before the 4-byte case was added wrote a long outside the int range
// always in 8 bytes; timestamps in milliseconds are 8 bytes either way.)
func AppendInt(dst []byte, n int64) []byte {
	if n < 0 {
		return appendHead(dst, majorNegInt, uint64(-(n + 1)))
	}
	return appendHead(dst, majorUint, uint64(n))
}

// AppendTimestamp appends tag 1 and t in epoch milliseconds (the Java SDKs'
// SdkCborGenerator.writeValue(Date/Instant)).
func AppendTimestamp(dst []byte, t time.Time) []byte {
	dst = append(dst, majorTag|1)
	return AppendInt(dst, t.UnixMilli())
}

// maxLongStringChars is Jackson CBORGenerator's MAX_LONG_STRING_CHARS
// (BYTE_BUFFER_FOR_OUTPUT/4 - 4, in UTF-16 units): longer strings are
// written in chunks.
const maxLongStringChars = 3996

// AppendText appends s as Jackson's CBORGenerator._writeString does: a
// definite text string with the shortest length, or, above 3996 UTF-16
// units, an indefinite one (0x7f) made of 3996-unit chunks (3995 when a
// surrogate pair would be split), each with a 2-byte length, then the rest
// as a definite string and 0xff.
func AppendText(dst []byte, s string) []byte {
	if utf16Len(s) <= maxLongStringChars {
		dst = appendHead(dst, majorText, uint64(len(s)))
		return append(dst, s...)
	}
	dst = append(dst, byteTextIndefinite)
	for utf16Len(s) > maxLongStringChars {
		i := utf16Prefix(s, maxLongStringChars)
		dst = append(dst, majorText|25, byte(i>>8), byte(i))
		dst = append(dst, s[:i]...)
		s = s[i:]
	}
	if s != "" {
		dst = appendHead(dst, majorText, uint64(len(s)))
		dst = append(dst, s...)
	}
	return append(dst, byteBreak)
}

// utf16Len is the length of s in UTF-16 units (Java's String.length()).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // invalid UTF-8 counts as U+FFFD, one unit
	}
	return n
}

// utf16Prefix returns the byte length of the longest prefix of s with at
// most units UTF-16 units (a surrogate pair is not split).
func utf16Prefix(s string, units int) int {
	n := 0
	for i, r := range s {
		l := utf16.RuneLen(r)
		if n+l > units {
			return i
		}
		n += l
	}
	return len(s)
}
