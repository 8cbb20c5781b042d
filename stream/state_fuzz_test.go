package stream

import (
	"errors"
	"strings"
	"testing"
)

// FuzzConsumerToken: decodeConsumerToken never panics, accepts only what
// encodeConsumerToken makes (for the same stream), and round-trips it.
func FuzzConsumerToken(f *testing.F) {
	for _, s := range []string{
		encodeConsumerToken(1700000000000, 1700000000123, "app"),
		encodeConsumerToken(1700000000000, 0, ""),
		encodeConsumerToken(1700000000000, 1, "a:b"),
		encodeConsumerToken(1, 2, "x"),
		"", "garbage", "YzE6", "YzE6MTcwMDAwMDAwMDAwMDox", "!!!!", strings.Repeat("A", 300),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		created, name, err := decodeConsumerToken(tok, 1700000000000)
		if err != nil {
			if !isArg(err) {
				t.Fatalf("error %v is not an *ArgumentError", err)
			}
			return
		}
		if again := encodeConsumerToken(1700000000000, created, name); again != tok {
			c2, n2, err := decodeConsumerToken(again, 1700000000000)
			if err != nil || c2 != created || n2 != name {
				t.Fatalf("token %q decodes to (%d, %q), which does not round-trip", tok, created, name)
			}
		}
	})
}

// FuzzParseResourceARN: parseResourceARN never panics; what it accepts is
// a stream of this manager (and, for consumers, a well-formed consumer
// part); errors are *ArgumentError or wrap ErrStreamNotFound.
func FuzzParseResourceARN(f *testing.F) {
	m := &Manager{cfg: Config{Region: "us-east-1", AccountID: "000000000000"}}
	for _, s := range []string{
		"arn:aws:kinesis:us-east-1:000000000000:stream/s",
		"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/app:1700000000",
		"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/app:",
		"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/:1",
		"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/a:01",
		"arn:aws:kinesis:us-east-1:000000000000:stream/",
		"arn:aws:kinesis:eu-west-1:000000000000:stream/s",
		"arn:aws:kinesis:us-east-1:000000000000:stream/a/b",
		"", "arn", "arn:aws:kinesis:us-east-1:000000000000:stream/s\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		r, err := m.parseResourceARN(arn)
		if err != nil {
			if !isArg(err) && !errors.Is(err, ErrStreamNotFound) {
				t.Fatalf("%q: unexpected error type %T: %v", arn, err, err)
			}
			return
		}
		if checkStreamName(r.stream) != nil {
			t.Fatalf("%q: accepted invalid stream name %q", arn, r.stream)
		}
		want := m.arnPrefix() + r.stream
		if r.consumer == "" && arn != want || r.consumer != "" && (r.consumer != arn || !strings.HasPrefix(arn, want+"/consumer/")) {
			t.Fatalf("%q parsed as %+v", arn, r)
		}
	})
}
