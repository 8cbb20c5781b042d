package kinesis

import (
	"math"
	"strconv"
	"time"
)

// Timestamp is a model timestamp in epoch milliseconds. JSON carries it as
// a number of epoch seconds with up to three decimals (1506440188.749); CBOR
// as tag 1 followed by an integer number of milliseconds, as the AWS Java
// SDK sends it (KINESIS_API.md 1.2, 1.3).
type Timestamp int64

// TimestampOf returns t truncated to milliseconds.
func TimestampOf(t time.Time) Timestamp { return Timestamp(t.UnixMilli()) }

// Time returns ts as a time.Time.
func (ts Timestamp) Time() time.Time { return time.UnixMilli(int64(ts)) }

// Millis returns ts in epoch milliseconds.
func (ts Timestamp) Millis() int64 { return int64(ts) }

// MarshalJSON writes epoch seconds with a three-digit millisecond
// fraction, never in exponent form.
func (ts Timestamp) MarshalJSON() ([]byte, error) {
	return appendJSONTimestamp(nil, int64(ts)), nil
}

// appendJSONTimestamp appends millis as epoch seconds with three decimals
// ("1506440188.749"), like the hot-path encoders.
func appendJSONTimestamp(dst []byte, millis int64) []byte {
	return appendTimestamp(dst, millis)
}

// UnmarshalJSON accepts an integer or fractional number of epoch seconds.
func (ts *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	ms, ok := parseSecondsText(string(b))
	if !ok {
		return Serialization("class java.lang.String can not be converted to milliseconds since epoch") // [unsure]
	}
	*ts = Timestamp(ms)
	return nil
}

// parseSecondsText converts a JSON number of epoch seconds to milliseconds
// exactly when it has no exponent, through float64 otherwise.
func parseSecondsText(s string) (int64, bool) {
	neg := false
	t := s
	if len(t) > 0 && t[0] == '-' {
		neg, t = true, t[1:]
	}
	intPart, frac := t, ""
	for i := 0; i < len(t); i++ {
		if t[i] == '.' {
			intPart, frac = t[:i], t[i+1:]
			break
		}
	}
	exact := len(intPart) > 0 && len(intPart) <= 15 && allDigits(intPart) && allDigits(frac) && (len(frac) > 0 || len(t) == len(intPart))
	if exact {
		n, _ := strconv.ParseInt(intPart, 10, 64)
		ms := n * 1000
		var f int64
		for i := 0; i < 4; i++ { // three digits and one for rounding
			f *= 10
			if i < len(frac) {
				f += int64(frac[i] - '0')
			}
		}
		ms += (f + 5) / 10
		if neg {
			ms = -ms
		}
		return ms, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int64(math.Round(f * 1000)), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MarshalCBOR writes tag 1 followed by the integer milliseconds.
func (ts Timestamp) MarshalCBOR() ([]byte, error) {
	return appendCBORTimestamp(nil, int64(ts)), nil
}

// UnmarshalCBOR accepts tag 1 + integer milliseconds (what the Java SDK
// sends) and, leniently, a float (seconds, tagged or not) or an untagged
// integer (milliseconds).
func (ts *Timestamp) UnmarshalCBOR(b []byte) error {
	r := cborReader{b: b}
	n, err := r.value(0)
	if err != nil {
		return err
	}
	if n.k == kNull {
		return nil
	}
	ms, e := nodeTimestamp(&n, EncodingCBOR)
	if e != nil {
		return e
	}
	*ts = Timestamp(ms)
	return nil
}
