package stream

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// checkParseError checks what every parse error promises: the sentinel, the
// package prefix, and a bounded message however long the input.
func checkParseError(t *testing.T, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, sentinel.Error()+" ") || len(msg) > 512 {
		t.Fatalf("error text %q", msg)
	}
	for i := 0; i < len(msg); i++ {
		if msg[i] < 0x20 || msg[i] > 0x7e {
			t.Fatalf("error text %q is not printable ASCII", msg)
		}
	}
}

func FuzzParseHashKey(f *testing.F) {
	for _, s := range []string{
		"0", "1", "00", "01", "-1", "+1", " 1", "1 ", "", "1e5", "0x1f",
		"16955237001963240173058271559858726497",
		"159499196025307651934328298402289840726",
		"170141183460469231731687303715884105727",
		"170141183460469231731687303715884105728",
		"18446744073709551615", "18446744073709551616",
		"340282366920938463463374607431768211455",
		"340282366920938463463374607431768211456",
		"999999999999999999999999999999999999999",
		"1000000000000000000000000000000000000000",
		strings.Repeat("9", 200),
		"\u0661\u0662", "12\x00",
	} {
		f.Add(s)
	}
	maxKey := new(big.Int).Sub(two128, big.NewInt(1))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseHashKey(s)

		// Reference: the model pattern 0|[1-9][0-9]* and the range, with
		// math/big.
		wellFormed := s == "0" || (s != "" && s[0] >= '1' && s[0] <= '9' && strings.Trim(s, "0123456789") == "")
		var ref *big.Int
		if wellFormed {
			ref, _ = new(big.Int).SetString(s, 10)
		}
		wantOK := wellFormed && ref.Cmp(maxKey) <= 0

		if wantOK != (err == nil) {
			t.Fatalf("ParseHashKey(%q) = %v, %v; want ok=%v", s, k, err, wantOK)
		}
		if err != nil {
			checkParseError(t, err, ErrInvalidHashKey)
			if outOfRange := errors.Is(err, ErrHashKeyOutOfRange); outOfRange != wellFormed {
				t.Fatalf("ParseHashKey(%q): out of range = %v, well formed = %v", s, outOfRange, wellFormed)
			}
			return
		}
		if hashKeyToBig(k).Cmp(ref) != 0 {
			t.Fatalf("ParseHashKey(%q) = %s", s, k)
		}
		if k.String() != s {
			t.Fatalf("ParseHashKey(%q).String() = %q", s, k.String())
		}
	})
}

func FuzzParseSeqNum(f *testing.F) {
	for _, s := range []string{
		"49647060812288014558888668248263847763900017820167045122",
		"49588160275566154496829720989890449304599334072021424818",
		"49039857307708443467467104868809893875799651909875269634",
		FormatSeqNum(StartingSeqNum(1700000000, 3)),
		FormatSeqNum(EndingSeqNum(1700000000, 3, 1700003600)),
		FormatSeqNum(SeqNum{ShardCreated: MaxSeqNumSeconds, ShardIndex: MaxShardIndex, Position: EndPosition, Arrival: MaxSeqNumSeconds}),
		"0", "", "-1", "+49647060812288014558888668248263847763900017820167045122",
		"049647060812288014558888668248263847763900017820167045122",
		"4964706081228801455888866824826384776390001782016704512",
		"496470608122880145588886682482638477639000178201670451220",
		strings.Repeat("9", 56), strings.Repeat("1", 56), strings.Repeat("9", 200),
		"21269081512622217744028292137004902633473294868483",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sn, err := ParseSeqNum(s)
		if err != nil {
			checkParseError(t, err, ErrInvalidSeqNum)
		}

		// Reference: decode the hex digits of the 47-digit layout with
		// math/big and check every field the way kinesalite's
		// parseSequence does, plus our stricter rules.
		wantOK := false
		var want SeqNum
		if len(s) == SeqNumDigits && s[0] != '0' && strings.Trim(s, "0123456789") == "" {
			n, _ := new(big.Int).SetString(s, 10)
			h := n.Text(16)
			if len(h) == 47 && h[0] == '2' && h[46] == '2' && h[27:29] == "00" && h[11] <= '7' && h[38] <= '7' && h[10] == h[45] {
				wantOK = true
				want = SeqNum{
					ShardCreated: hexInt(t, h[1:10]),
					Position:     uint64(hexInt(t, h[11:27])),
					Arrival:      hexInt(t, h[29:38]),
					ShardIndex:   int(hexInt(t, h[38:46])),
				}
			}
		}
		if wantOK != (err == nil) {
			t.Fatalf("ParseSeqNum(%q) = %+v, %v; want ok=%v", s, sn, err, wantOK)
		}
		if err != nil {
			return
		}
		if sn != want {
			t.Fatalf("ParseSeqNum(%q) = %+v, want %+v", s, sn, want)
		}
		if back := FormatSeqNum(sn); back != s {
			t.Fatalf("FormatSeqNum(ParseSeqNum(%q)) = %q", s, back)
		}
	})
}

func hexInt(t *testing.T, h string) int64 {
	t.Helper()
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || !n.IsInt64() {
		t.Fatalf("bad hex field %q", h)
	}
	return n.Int64()
}

func FuzzDecodeIterator(f *testing.F) {
	c := newTestCodec(f, 1)
	now := testIteratorTime.Add(time.Minute)
	good := c.Encode(testIterator())
	long := testIterator()
	long.Stream = strings.Repeat("s", MaxStreamNameLen)
	long.Position = EndPosition
	for _, s := range []string{
		good,
		c.Encode(long),
		c.Encode(Iterator{Stream: "a", Created: testIteratorTime}),
		c.Encode(Iterator{Stream: "old", Created: testIteratorTime.Add(-time.Hour)}), // expired
		newTestCodec(f, 2).Encode(testIterator()),                                    // foreign
		good[:len(good)-1], good + "A", good[:40], "",
		strings.Repeat("A", MaxIteratorLen), strings.Repeat("A", MaxIteratorLen+1),
		"AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvMd6uXQ+HL5vAJMznqqC0DLKsIjuoiTi1BpT6nW0LN2M2D56zM5H8anHm30Gbri9ua+qaGgj+3XTyvbhpERfrezgLHbPB/rIcVpykJbaSj5tmcXYRmFnqZBEyHwtZYFmh6hvWVFkIwLuMZLMrpWhG5r5hzkE=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		it, err := c.Decode(s, now)
		var expired *ExpiredIteratorError
		switch {
		case err == nil:
			// Only an iterator this codec minted decodes, and it is the
			// one spelling of its fields.
			if back := c.Encode(it); back != s {
				t.Fatalf("Decode(%q) = %+v, which encodes to %q", s, it, back)
			}
			if now.Sub(it.Created) > IteratorLifetime {
				t.Fatalf("Decode(%q) accepted an iterator created at %v", s, it.Created)
			}
		case errors.As(err, &expired):
			if now.Sub(expired.Created) <= IteratorLifetime {
				t.Fatalf("Decode(%q): expired at %v", s, expired.Created)
			}
		case err != ErrInvalidIterator:
			t.Fatalf("Decode(%q) = %v", s, err)
		}
	})
}
