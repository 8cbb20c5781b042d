package kinesis

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Valid UTF-8 is copied as is
// (except U+2028/U+2029, escaped for JavaScript consumers); invalid bytes
// become U+FFFD so the output is always valid JSON and valid UTF-8.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	// Fast path: printable ASCII that needs no escape (shard ids, sequence
	// numbers, most keys) is copied in one append.
	i := 0
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonPlain marks the bytes appendJSONString copies as they are: ASCII from
// 0x20 to 0x7f except '"' and '\\'.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendTimestamp appends epoch milliseconds as a JSON number of seconds
// with a millisecond fraction, e.g. 1506440188.749.
func appendTimestamp(dst []byte, millis int64) []byte {
	u := uint64(millis)
	if millis < 0 {
		dst = append(dst, '-')
		u = -u
	}
	dst = strconv.AppendUint(dst, u/1000, 10)
	frac := u % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// bytesToString returns a string that shares b's memory. b must not be
// modified while the string is in use.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// javaLength is the length of s as java.lang.String.length() counts it
// (UTF-16 code units): AWS's length constraints are checked in Java.
func javaLength(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// Type-error texts AWS (Jackson/coral) returns as SerializationException
// messages, captured by kinesalite (KINESIS_API.md 1.4).
const (
	msgStartOfList   = "Start of list found where not expected"
	msgStartOfStruct = "Start of structure or map found where not expected."
)

// stringValue returns v as a string aliasing the parser's buffer.
// present is false for an absent or null member.
func stringValue(v *fastjson.Value) (s string, present bool, err *Error) {
	if v == nil {
		return "", false, nil
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return "", false, nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return bytesToString(b), true, nil
	case fastjson.TypeNumber:
		return "", false, Serialization("class java.math.BigDecimal can not be converted to an String")
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "", false, Serialization("class java.lang.Boolean can not be converted to an String")
	case fastjson.TypeArray:
		return "", false, Serialization(msgStartOfList)
	default:
		return "", false, Serialization(msgStartOfStruct)
	}
}

// integerValue returns v as an Integer member. Fractions are floored like
// AWS's number coercion does.
func integerValue(v *fastjson.Value) (n int64, present bool, err *Error) {
	if v == nil {
		return 0, false, nil
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return 0, false, nil
	case fastjson.TypeNumber:
		f, perr := v.Float64()
		if perr != nil || math.IsNaN(f) {
			return 0, false, Serialization("")
		}
		f = math.Floor(f)
		switch {
		case f > math.MaxInt32:
			// java.lang.Integer overflow: report it as a Long, which is
			// what Jackson saw.
			return 0, false, Serialization("class java.lang.Long can not be converted to an Integer")
		case f < math.MinInt32:
			return 0, false, Serialization("class java.lang.Long can not be converted to an Integer")
		}
		return int64(f), true, nil
	case fastjson.TypeString:
		return 0, false, Serialization("class java.lang.String can not be converted to an Integer")
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return 0, false, Serialization("class java.lang.Boolean can not be converted to an Integer")
	case fastjson.TypeArray:
		return 0, false, Serialization(msgStartOfList)
	default:
		return 0, false, Serialization(msgStartOfStruct)
	}
}

// timestampValue returns v (epoch seconds, integer or fractional) as epoch
// milliseconds.
func timestampValue(v *fastjson.Value) (millis int64, present bool, err *Error) {
	if v == nil {
		return 0, false, nil
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return 0, false, nil
	case fastjson.TypeNumber:
		f, perr := v.Float64()
		if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return 0, false, Serialization("")
		}
		return int64(math.Round(f * 1000)), true, nil
	case fastjson.TypeString:
		// [unsure] exact AWS text for a string timestamp in JSON.
		return 0, false, Serialization("class java.lang.String can not be converted to milliseconds since epoch")
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return 0, false, Serialization("class java.lang.Boolean can not be converted to milliseconds since epoch")
	case fastjson.TypeArray:
		return 0, false, Serialization(msgStartOfList)
	default:
		return 0, false, Serialization(msgStartOfStruct)
	}
}

// blobString returns the base64 text of a Blob member; checkDecodeBlob
// checks and decodes it.
func blobString(v *fastjson.Value) (s string, present bool, err *Error) {
	if v == nil {
		return "", false, nil
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return "", false, nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return bytesToString(b), true, nil
	case fastjson.TypeNumber:
		return "", false, Serialization("class java.math.BigDecimal can not be converted to a Blob")
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "", false, Serialization("class java.lang.Boolean can not be converted to a Blob")
	case fastjson.TypeArray:
		return "", false, Serialization(msgStartOfList)
	default:
		return "", false, Serialization(msgStartOfStruct)
	}
}

// checkBase64 applies AWS's base64 checks in AWS's order (length, then
// alphabet, then canonical trailing bits) so the messages match. Go's
// decoder alone would also skip '\r' and '\n', which AWS rejects.
func checkBase64(s string) *Error {
	// Fast path: the alphabet up to at most two trailing '='; anything else
	// takes the byte-by-byte path below, which finds the message.
	i := 0
	for i < len(s) && base64Alphabet[s[i]] {
		i++
	}
	if len(s)%4 == 0 && (i == len(s) || (i >= len(s)-2 && (s[i:] == "=" || s[i:] == "=="))) {
		return nil
	}
	return checkBase64Slow(s)
}

// checkBase64Slow is checkBase64 byte by byte; it finds the message.
func checkBase64Slow(s string) *Error {
	if len(s)%4 != 0 {
		return Serialization("'" + s + "' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s)))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
		case c == '=':
			if i+1 < len(s) && s[i+1] != '=' {
				return Serialization("'" + s + "' can not be converted to a Blob: Invalid Base64 character: '='")
			}
		default:
			// Print the whole UTF-8 sequence, not a lone byte.
			r, size := utf8.DecodeRuneInString(s[i:])
			ch := s[i : i+size]
			if r == utf8.RuneError && size == 1 {
				ch = "\ufffd"
			}
			return Serialization("'" + s + "' can not be converted to a Blob: Invalid Base64 character: '" + ch + "'")
		}
	}
	// Padding in the wrong place ("A===") or non-zero trailing bits are
	// found by decodeBlob.
	return nil
}

// base64Alphabet marks the 64 characters of the standard base64 alphabet.
var base64Alphabet = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

// strictBase64 rejects non-zero trailing bits like AWS does. Never modified.
var strictBase64 = base64.StdEncoding.Strict()

// checkDecodeBlob appends the decoded bytes of s to dst after AWS's checks
// (checkBase64, then decodeBlob's). The usual, valid text is decoded in one
// pass: Go's strict decoder checks the alphabet, the padding and the
// trailing bits, and the only text it accepts that AWS rejects has '\r' or
// '\n' in it, which it skips, so that it yields fewer bytes than the
// length promises. Anything else takes the checks in AWS's order, for
// AWS's message.
func checkDecodeBlob(dst []byte, s string) ([]byte, *Error) {
	if len(s)%4 == 0 {
		out, err := strictBase64.AppendDecode(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
		pad := 0
		if len(s) > 0 && s[len(s)-1] == '=' {
			pad++
			if s[len(s)-2] == '=' {
				pad++
			}
		}
		if err == nil && len(out)-len(dst) == len(s)/4*3-pad {
			return out, nil
		}
	}
	if e := checkBase64(s); e != nil {
		return dst, e
	}
	return decodeBlob(dst, s)
}

// decodeBlob appends the decoded bytes of s (already checked) to dst.
func decodeBlob(dst []byte, s string) ([]byte, *Error) {
	out, err := strictBase64.AppendDecode(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		return dst, Serialization("'" + s + "' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
	}
	return out, nil
}

// topObject parses body and returns its top-level object.
func topObject(p *fastjson.Parser, body []byte) (*fastjson.Object, *Error) {
	if len(body) == 0 {
		return nil, Serialization("")
	}
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, Serialization("")
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		return o, nil
	case fastjson.TypeArray:
		return nil, Serialization(msgStartOfList)
	default:
		return nil, Serialization("")
	}
}
