package stream

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors of the parsers. Every parse error wraps one of them (test
// with errors.Is); its text adds the offending input and what is wrong with
// it. Mapping them to Kinesis error codes and message texts is the job of
// the caller (wire/kinesis), not of this package.
var (
	// ErrInvalidHashKey is wrapped by every ParseHashKey error.
	ErrInvalidHashKey = errors.New("stream: invalid hash key")
	// ErrHashKeyOutOfRange is wrapped (besides ErrInvalidHashKey) when the
	// input is a well-formed decimal greater than 2^128-1. Kinesis reports
	// this case as InvalidArgumentException ("ExplicitHashKey must be in
	// the range: [0, 2^128-1]"), while malformed input never passes the
	// request validation of the wire layer.
	ErrHashKeyOutOfRange = errors.New("stream: hash key out of range [0, 2^128-1]")
	// ErrInvalidShardID is wrapped by every ParseShardID error.
	ErrInvalidShardID = errors.New("stream: invalid shard id")
	// ErrInvalidSeqNum is wrapped by every ParseSeqNum error.
	ErrInvalidSeqNum = errors.New("stream: invalid sequence number")
	// ErrSplitKeyOutOfRange is wrapped by SplitRange when the new starting
	// hash key does not lie strictly inside the range being split.
	ErrSplitKeyOutOfRange = errors.New("stream: new starting hash key out of range")
	// ErrNotAdjacent is wrapped by MergeRanges when the two ranges do not
	// touch.
	ErrNotAdjacent = errors.New("stream: hash key ranges are not adjacent")
)

// maxQuotedInput caps how much of a rejected input an error message quotes.
// Inputs come from the network and may be large; the message only has to
// identify them.
const maxQuotedInput = 64

// parseError is the error of every parser in this package: "<sentinel text>
// <quoted input>: <reason>". It keeps only a copy of the quoted prefix of the
// input, so an error never pins a request body in memory.
type parseError struct {
	kinds  []error // sentinels, outermost first
	input  string  // quoted, truncated input
	reason string
}

func newParseError(input, reason string, kinds ...error) error {
	return &parseError{kinds: kinds, input: quoteInput(input), reason: reason}
}

func (e *parseError) Error() string {
	return e.kinds[0].Error() + " " + e.input + ": " + e.reason
}

func (e *parseError) Unwrap() []error { return e.kinds }

func quoteInput(s string) string {
	if len(s) <= maxQuotedInput {
		return strconv.QuoteToASCII(s)
	}
	return strconv.QuoteToASCII(s[:maxQuotedInput]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// checkDigits returns "" when s is a non-empty run of ASCII decimal digits
// without a leading zero (a lone "0" is fine), else the reason it is not.
// It is the shape of the model patterns `0|([1-9]\d{0,38})` (hash keys) and
// `0|([1-9]\d{0,128})` (sequence numbers).
func checkDigits(s string) string {
	if s == "" {
		return "empty"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			return "byte " + strconv.Itoa(i) + " is " + quoteByte(c) + ", want a decimal digit"
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return "leading zero"
	}
	return ""
}

// quoteByte renders a byte for an error message, printable or escaped.
func quoteByte(c byte) string {
	if c < 0x80 {
		return strconv.QuoteRune(rune(c))
	}
	var b strings.Builder
	b.WriteString(`'\x`)
	const hex = "0123456789abcdef"
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
	b.WriteByte('\'')
	return b.String()
}
