package stream

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func testSecret(b byte) []byte {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = b + byte(i)
	}
	return secret
}

func newTestCodec(t testing.TB, b byte) *IteratorCodec {
	t.Helper()
	c, err := NewIteratorCodec(testSecret(b))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testIteratorTime is an arbitrary creation time with milliseconds.
var testIteratorTime = time.Date(2015, time.January, 22, 1, 22, 2, 123_000_000, time.UTC)

func testIterator() Iterator {
	return Iterator{
		Stream:        "orders",
		ShardIndex:    7,
		Position:      123456789,
		Created:       testIteratorTime,
		StreamCreated: 1421889722000,
	}
}

func TestStreamIteratorRoundTrip(t *testing.T) {
	c := newTestCodec(t, 1)
	f := func(it Iterator) {
		t.Helper()
		s := c.Encode(it)
		if len(s) > MaxIteratorLen {
			t.Fatalf("Encode(%+v) has %d characters", it, len(s))
		}
		got, err := c.Decode(s, it.Created.Add(time.Minute))
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", it, err)
		}
		want := it
		want.Created = time.UnixMilli(it.Created.UnixMilli()).UTC()
		if got != want {
			t.Fatalf("Decode(Encode(%+v)) = %+v", it, got)
		}
		// Deterministic: the same fields give the same string.
		if again := c.Encode(got); again != s {
			t.Fatalf("Encode is not deterministic: %s, then %s", s, again)
		}
	}
	f(testIterator())
	f(Iterator{Stream: "a", Created: time.UnixMilli(0).UTC()})
	f(Iterator{Stream: strings.Repeat("x", MaxStreamNameLen), ShardIndex: MaxShardIndex, Position: EndPosition,
		Created: time.Date(2100, 1, 1, 0, 0, 0, 999_999_999, time.UTC), StreamCreated: -1})
	f(Iterator{Stream: "s", Position: ^uint64(0), Created: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)})
	// Sub-millisecond precision and location are dropped.
	local := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("X", 3600))
	f(Iterator{Stream: "s", Created: local})

	// Every field is bound: changing one changes the string.
	base := c.Encode(testIterator())
	for name, mutate := range map[string]func(*Iterator){
		"stream":        func(it *Iterator) { it.Stream = "orderz" },
		"shard":         func(it *Iterator) { it.ShardIndex++ },
		"position":      func(it *Iterator) { it.Position++ },
		"created":       func(it *Iterator) { it.Created = it.Created.Add(time.Millisecond) },
		"streamCreated": func(it *Iterator) { it.StreamCreated++ },
	} {
		it := testIterator()
		mutate(&it)
		if c.Encode(it) == base {
			t.Errorf("changing %s does not change the iterator", name)
		}
	}
	// The string is opaque: the stream name does not show through.
	raw, err := base64.RawURLEncoding.DecodeString(c.Encode(Iterator{Stream: strings.Repeat("visible", 18)}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "visible") {
		t.Fatal("the stream name shows in the iterator")
	}
}

func TestStreamIteratorLength(t *testing.T) {
	c := newTestCodec(t, 1)
	it := testIterator()
	it.Stream = strings.Repeat("n", MaxStreamNameLen)
	it.Position = EndPosition
	s := c.Encode(it)
	if len(s) != 236 || len(s) > MaxIteratorLen {
		t.Fatalf("iterator for a 128-byte stream name has %d characters, want 236", len(s))
	}
	for _, ch := range []byte(s) {
		if !isBase64URL(ch) {
			t.Fatalf("iterator %q has byte %q", s, ch)
		}
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(r.(string), "BUG: ") {
				t.Errorf("Encode of a 129-byte name panicked with %v, want a BUG panic", r)
			}
		}()
		it.Stream += "n"
		c.Encode(it)
	}()
}

func TestStreamIteratorExpired(t *testing.T) {
	c := newTestCodec(t, 1)
	it := testIterator()
	it.Created = time.Date(2015, time.January, 22, 1, 22, 2, 0, time.UTC)
	s := c.Encode(it)

	// Exactly 300000 ms old is still valid; one millisecond more is not.
	if _, err := c.Decode(s, it.Created.Add(IteratorLifetime)); err != nil {
		t.Fatalf("Decode at the end of the lifetime: %v", err)
	}
	// A creation time after now (clock skew between servers) is accepted.
	if _, err := c.Decode(s, it.Created.Add(-time.Hour)); err != nil {
		t.Fatalf("Decode before creation: %v", err)
	}
	_, err := c.Decode(s, it.Created.Add(IteratorLifetime+time.Millisecond))
	var expired *ExpiredIteratorError
	if !errors.As(err, &expired) {
		t.Fatalf("Decode after the lifetime = %v, want *ExpiredIteratorError", err)
	}

	// AWS's message (KINESIS_API.md 3.6), in UTC whatever the location of now.
	now := time.Date(2015, time.January, 22, 1, 27, 5, 0, time.UTC).In(time.FixedZone("PST", -8*3600))
	it2, err := c.Decode(s, now)
	if !errors.As(err, &expired) {
		t.Fatalf("Decode = %+v, %v, want *ExpiredIteratorError", it2, err)
	}
	const want = "Iterator expired. The iterator was created at time Thu Jan 22 01:22:02 UTC 2015 while right now it is Thu Jan 22 01:27:05 UTC 2015 which is further in the future than the tolerated delay of 300000 milliseconds."
	if err.Error() != want {
		t.Fatalf("error text\n got %s\nwant %s", err, want)
	}
	if !expired.Created.Equal(it.Created) || !expired.Now.Equal(now) {
		t.Fatalf("ExpiredIteratorError = %+v, want Created %v, Now %v", expired, it.Created, now)
	}
	if it2 != (Iterator{}) {
		t.Fatalf("Decode of an expired iterator returned %+v", it2)
	}
	if errors.Is(err, ErrInvalidIterator) {
		t.Fatal("an expired iterator must not be ErrInvalidIterator")
	}
	// Single-digit days are zero-padded, as java.util.Date.toString does.
	e := &ExpiredIteratorError{Created: time.Date(2024, 3, 5, 4, 5, 6, 0, time.UTC), Now: time.Date(2024, 3, 5, 4, 10, 7, 0, time.UTC)}
	if !strings.Contains(e.Error(), "created at time Tue Mar 05 04:05:06 UTC 2024 while right now it is Tue Mar 05 04:10:07 UTC 2024 which") {
		t.Fatalf("error text %s", e)
	}
}

func TestStreamIteratorInvalid(t *testing.T) {
	c := newTestCodec(t, 1)
	now := testIteratorTime.Add(time.Second)
	good := c.Encode(testIterator())
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":           "",
		"one char":        "A",
		"truncated":       good[:len(good)-1],
		"truncated more":  good[:len(good)-4],
		"header only":     enc(raw[:iteratorHeaderLen+iteratorFixedLen-1]),
		"extended":        good + "A",
		"extended bytes":  enc(append(append([]byte{}, raw...), 0)),
		"std alphabet":    base64.RawStdEncoding.EncodeToString(raw),
		"padded":          base64.URLEncoding.EncodeToString(raw),
		"newline":         good[:10] + "\n" + good[10:],
		"space":           good + " ",
		"version 0":       enc(append([]byte{0}, raw[1:]...)),
		"version 2":       enc(append([]byte{2}, raw[1:]...)),
		"foreign secret":  newTestCodec(t, 2).Encode(testIterator()),
		"kinesalite-like": "AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvMd6uXQ+HL5vAJMznqqC0DLKsIjuoiTi1BpT6nW0LN2M2D56zM5H8anHm30Gbri9ua+qaGgj+3XTyvbhpERfrezgLHbPB/rIcVpykJbaSj5tmcXYRmFnqZBEyHwtZYFmh6hvWVFkIwLuMZLMrpWhG5r5hzkE=",
		"too long":        strings.Repeat("A", MaxIteratorLen+1),
		"garbage":         strings.Repeat("A", 300),
		"non-ascii":       good[:20] + "\u00e9" + good[22:],
		"nul":             good[:20] + "\x00" + good[21:],
	}
	// Non-canonical spelling: the last character of an unpadded base64
	// string carries unused low bits; setting them must not be accepted.
	last := good[len(good)-1]
	idx := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
	if len(raw)%3 != 0 {
		cases["non-canonical tail"] = good[:len(good)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[idx^1])
	}
	// Every single-character change.
	for i := range len(good) {
		cases["flip "+string(rune('0'+i/100))+string(rune('0'+i/10%10))+string(rune('0'+i%10))] = flip(i)
	}
	// Every single-bit change of the decoded bytes.
	for i := range raw {
		for bit := range 8 {
			b := append([]byte{}, raw...)
			b[i] ^= 1 << bit
			cases["bit "+enc([]byte{byte(i), byte(bit)})] = enc(b)
		}
	}
	for name, s := range cases {
		it, err := c.Decode(s, now)
		if err != ErrInvalidIterator {
			t.Errorf("%s: Decode(%q) = %+v, %v, want ErrInvalidIterator", name, s, it, err)
		}
	}
	// The good one still decodes.
	if _, err := c.Decode(good, now); err != nil {
		t.Fatalf("Decode(good): %v", err)
	}
	// Tampered and expired: tampering wins, so nothing about a forged
	// iterator leaks through the error.
	if _, err := c.Decode(flip(5), now.Add(time.Hour)); err != ErrInvalidIterator {
		t.Fatalf("Decode(tampered, late) = %v, want ErrInvalidIterator", err)
	}
}

func TestStreamIteratorRecreatedStream(t *testing.T) {
	c := newTestCodec(t, 1)
	old := testIterator()
	s := c.Encode(old)
	it, err := c.Decode(s, old.Created.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !it.IsFor("orders", old.StreamCreated) {
		t.Fatal("iterator is not for the stream it was minted for")
	}
	// The stream was deleted and re-created under the same name a second
	// later: the old iterator decodes (it is authentic) but is not for the
	// new incarnation.
	if it.IsFor("orders", old.StreamCreated+1000) {
		t.Fatal("iterator of a deleted stream matches its re-created namesake")
	}
	if it.IsFor("other", old.StreamCreated) {
		t.Fatal("iterator matches another stream")
	}
}

func TestStreamNewIteratorCodec(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		_, err := NewIteratorCodec(make([]byte, n))
		if err == nil {
			t.Fatalf("NewIteratorCodec(%d bytes) succeeded", n)
		}
		if !strings.Contains(err.Error(), "want 32 random bytes") {
			t.Fatalf("NewIteratorCodec(%d bytes) = %v", n, err)
		}
	}
	// The codec does not keep the caller's slice.
	secret := testSecret(1)
	c, err := NewIteratorCodec(secret)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Encode(testIterator())
	clear(secret)
	if _, err := c.Decode(s, testIteratorTime); err != nil {
		t.Fatalf("Decode after the secret was cleared: %v", err)
	}
	// Two codecs with one secret accept each other's iterators.
	if _, err := newTestCodec(t, 1).Decode(s, testIteratorTime); err != nil {
		t.Fatalf("second codec with the same secret: %v", err)
	}
}

func TestStreamIteratorConcurrent(t *testing.T) {
	c := newTestCodec(t, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				it := testIterator()
				it.ShardIndex = g
				it.Position = uint64(i)
				got, err := c.Decode(c.Encode(it), it.Created)
				if err != nil {
					errs <- err
					return
				}
				if got.ShardIndex != g || got.Position != uint64(i) {
					errs <- errors.New("wrong iterator decoded")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
