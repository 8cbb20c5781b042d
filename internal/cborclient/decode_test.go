package cborclient

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCBORClientDecode(t *testing.T) {
	f := func(in string, want any) {
		t.Helper()
		got, err := Decode(hx(t, in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %#v, want %#v", in, got, want)
		}
	}
	// What AWS sends: indefinite maps, tag 1 + integer milliseconds.
	f("bf 6d|ShardIterator|63|abc| 72|MillisBehindLatest|00 67|Records|9f"+
		" bf 6e|SequenceNumber|62|49| 7b 000000000000001b|ApproximateArrivalTimestamp|c1 1b 000001a013accc38 64|Data|42 0102 ff ff ff",
		map[string]any{"ShardIterator": "abc", "MillisBehindLatest": int64(0), "Records": []any{
			map[string]any{"SequenceNumber": "49", "ApproximateArrivalTimestamp": exampleTime.UTC(), "Data": []byte{1, 2}},
		}})
	// kinesis-mock: definite lengths, untagged millis, null members.
	f("a2 69|ErrorCode|f6 65|Count|1b 000001a223d6e310", map[string]any{"ErrorCode": nil, "Count": int64(0x1a223d6e310)})
	f("82 01 20", []any{int64(1), int64(-1)})
	f("80", []any{})
	f("a0", map[string]any{})
	f("7f 62|ab| 61|c| ff", "abc")
	f("5f 42 0102 40 ff", []byte{1, 2})
	f("f9 3c00", 1.0)
	f("f9 c000", -2.0)
	f("f9 0001", math.Ldexp(1, -24))
	f("fa 3fc00000", 1.5)
	f("fb 3ff8000000000000", 1.5)
	f("c1 fb 41d8000000400000", time.Unix(1610612737, 0).UTC())
	f("c2 41 01", []byte{1}) // other tags: the content
	f("1b ffffffffffffffff", uint64(math.MaxUint64))
	f("3b 7fffffffffffffff", int64(math.MinInt64))
	f("f5", true)
	f("f7", nil)

	bad := func(in, wantErr string) {
		t.Helper()
		_, err := Decode(hx(t, in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s: got %v, want error containing %q", in, err, wantErr)
		}
	}
	bad("", "unexpected end")
	bad("bf 61|a|", "unexpected end")
	bad("01 02", "trailing")
	bad("a1 01 02", "map key of type int64")
	bad("ff", "unexpected break")
	bad("81 ff", "unexpected break")
	bad("bf 61|a| ff", "break after map key")
	bad("5b ffffffffffffffff", "longer than the data")
	bad("9b 00000000ffffffff 00", "longer than the data")
	bad("bb 00000000ffffffff 00", "longer than the data")
	bad("7f 41 00 ff", "bad chunk")
	bad("1c", "reserved")
	bad("3b 8000000000000000", "overflows")
	bad("c1 61|a|", "tag 1 on a string")
	bad(strings.Repeat("81", 100)+"00", "nesting")
	bad("f8 20", "simple value")
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"bf ff", "a2 61|a|01 61|b|9f 40 ff", "c1 1b 000001a013accc38", "7f 61|a| ff", "f9 7e00", "c1 fb 41d8000000400000"} {
		f.Add(hx(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err != nil {
			return
		}
		// Re-encoding a decoded value and decoding it again is stable.
		b, err := Encode(v)
		if err != nil {
			t.Fatalf("cannot re-encode %#v: %v", v, err)
		}
		v2, err := Decode(b)
		if err != nil {
			t.Fatalf("cannot decode re-encoded %x: %v", b, err)
		}
		b2, err := Encode(v2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("unstable: %x then %x (%v)", b, b2, err)
		}
	})
}
