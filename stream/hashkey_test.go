package stream

import (
	"crypto/md5"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// two128 is 2^128 as a big.Int, the size of the hash-key space.
var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

func hashKeyFromBig(t *testing.T, b *big.Int) HashKey {
	t.Helper()
	if b.Sign() < 0 || b.Cmp(two128) >= 0 {
		t.Fatalf("BUG: %s is not a hash key", b)
	}
	var buf [16]byte
	b.FillBytes(buf[:])
	return HashKeyFromBytes(buf)
}

func hashKeyToBig(k HashKey) *big.Int {
	b := k.Bytes()
	return new(big.Int).SetBytes(b[:])
}

func mustParseHashKey(t *testing.T, s string) HashKey {
	t.Helper()
	k, err := ParseHashKey(s)
	if err != nil {
		t.Fatalf("ParseHashKey(%q): %v", s, err)
	}
	return k
}

func randomHashKey(r *rand.Rand) HashKey {
	// Mix full-width keys with small ones and ones near the 2^64 border,
	// where carries between the halves happen.
	switch r.IntN(4) {
	case 0:
		return HashKey{0, r.Uint64()}
	case 1:
		return HashKey{r.Uint64N(3), r.Uint64()}
	case 2:
		return HashKey{r.Uint64(), ^uint64(0) - r.Uint64N(3)}
	}
	return HashKey{r.Uint64(), r.Uint64()}
}

func TestStreamHashKeyFromPartitionKey(t *testing.T) {
	f := func(partitionKey, want string) {
		t.Helper()
		if got := HashKeyFromPartitionKey(partitionKey).String(); got != want {
			t.Errorf("HashKeyFromPartitionKey(%q) = %s, want %s", partitionKey, got, want)
		}
	}
	// KINESIS_API.md 3.1: md5("a") = 0cc175b9c0f1b6a831c399e269772661.
	f("a", "16955237001963240173058271559858726497")
	f("partitionKey-1", "159499196025307651934328298402289840726")
	// md5("") = d41d8cd98f00b204e9800998ecf8427e.
	f("", "281949768489412648962353822266799178366")

	// Long keys (beyond the stack buffer) and non-ASCII ones hash their
	// UTF-8 bytes; compare with math/big.
	for _, pk := range []string{strings.Repeat("x", 256), strings.Repeat("\u00e9", 256), strings.Repeat("k", 5000), "\u65e5\u672c"} {
		b := HashKeyFromPartitionKey(pk).Bytes()
		want := md5Big(pk)
		if got := new(big.Int).SetBytes(b[:]); got.Cmp(want) != 0 {
			t.Errorf("HashKeyFromPartitionKey(%d bytes) = %s, want %s", len(pk), got, want)
		}
	}
}

func TestStreamParseHashKey(t *testing.T) {
	ok := func(s string, want HashKey) {
		t.Helper()
		got, err := ParseHashKey(s)
		if err != nil {
			t.Fatalf("ParseHashKey(%q): %v", s, err)
		}
		if got != want {
			t.Fatalf("ParseHashKey(%q) = %#v, want %#v", s, got, want)
		}
		if back := got.String(); back != s {
			t.Fatalf("ParseHashKey(%q).String() = %q", s, back)
		}
	}
	ok("0", HashKey{})
	ok("1", HashKey{0, 1})
	ok("18446744073709551615", HashKey{0, ^uint64(0)})
	ok("18446744073709551616", HashKey{1, 0})
	ok("170141183460469231731687303715884105728", HashKey{1 << 63, 0})
	ok("340282366920938463463374607431768211455", MaxHashKey())

	bad := func(s, wantText string, outOfRange bool) {
		t.Helper()
		_, err := ParseHashKey(s)
		if err == nil {
			t.Fatalf("ParseHashKey(%q) succeeded, want an error", s)
		}
		if !errors.Is(err, ErrInvalidHashKey) {
			t.Fatalf("ParseHashKey(%q) = %v, want it to wrap ErrInvalidHashKey", s, err)
		}
		if got := errors.Is(err, ErrHashKeyOutOfRange); got != outOfRange {
			t.Fatalf("ParseHashKey(%q): errors.Is(err, ErrHashKeyOutOfRange) = %v, want %v", s, got, outOfRange)
		}
		if err.Error() != wantText {
			t.Fatalf("ParseHashKey(%q) error\n got %s\nwant %s", s, err, wantText)
		}
	}
	bad("", `stream: invalid hash key "": empty`, false)
	bad("+1", `stream: invalid hash key "+1": byte 0 is '+', want a decimal digit`, false)
	bad("-1", `stream: invalid hash key "-1": byte 0 is '-', want a decimal digit`, false)
	bad(" 1", `stream: invalid hash key " 1": byte 0 is ' ', want a decimal digit`, false)
	bad("1 ", `stream: invalid hash key "1 ": byte 1 is ' ', want a decimal digit`, false)
	bad("12a", `stream: invalid hash key "12a": byte 2 is 'a', want a decimal digit`, false)
	bad("0x10", `stream: invalid hash key "0x10": byte 1 is 'x', want a decimal digit`, false)
	bad("1e5", `stream: invalid hash key "1e5": byte 1 is 'e', want a decimal digit`, false)
	bad("1\xff", `stream: invalid hash key "1\xff": byte 1 is '\xff', want a decimal digit`, false)
	bad("\u0661", `stream: invalid hash key "\u0661": byte 0 is '\xd9', want a decimal digit`, false)
	bad("00", `stream: invalid hash key "00": leading zero`, false)
	bad("0123", `stream: invalid hash key "0123": leading zero`, false)
	bad("340282366920938463463374607431768211456",
		`stream: invalid hash key "340282366920938463463374607431768211456": greater than 2^128-1 (340282366920938463463374607431768211455)`, true)
	bad("999999999999999999999999999999999999999",
		`stream: invalid hash key "999999999999999999999999999999999999999": greater than 2^128-1 (340282366920938463463374607431768211455)`, true)
	bad("1000000000000000000000000000000000000000",
		`stream: invalid hash key "1000000000000000000000000000000000000000": greater than 2^128-1 (340282366920938463463374607431768211455)`, true)
	long := strings.Repeat("7", 100)
	bad(long, `stream: invalid hash key "`+long[:64]+`"... (100 bytes): greater than 2^128-1 (340282366920938463463374607431768211455)`, true)
}

func TestStreamHashKeyDecimalRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		k := randomHashKey(r)
		want := hashKeyToBig(k).String()
		if got := k.String(); got != want {
			t.Fatalf("%#v.String() = %s, want %s", k, got, want)
		}
		if got := string(AppendHashKey([]byte("x"), k)); got != "x"+want {
			t.Fatalf("AppendHashKey(x, %#v) = %s, want x%s", k, got, want)
		}
		back := mustParseHashKey(t, want)
		if back != k {
			t.Fatalf("ParseHashKey(%s) = %#v, want %#v", want, back, k)
		}
	}
}

func TestStreamHashKeyCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		a, b := randomHashKey(r), randomHashKey(r)
		if r.IntN(8) == 0 {
			b = a
		}
		want := hashKeyToBig(a).Cmp(hashKeyToBig(b))
		if got := a.Compare(b); got != want {
			t.Fatalf("%s.Compare(%s) = %d, want %d", a, b, got, want)
		}
	}
}

func TestStreamHashKeyBytes(t *testing.T) {
	k := mustParseHashKey(t, "16955237001963240173058271559858726497")
	want := [16]byte{0x0c, 0xc1, 0x75, 0xb9, 0xc0, 0xf1, 0xb6, 0xa8, 0x31, 0xc3, 0x99, 0xe2, 0x69, 0x77, 0x26, 0x61}
	if got := k.Bytes(); got != want {
		t.Fatalf("Bytes() = %x, want %x", got, want)
	}
	if got := HashKeyFromBytes(want); got != k {
		t.Fatalf("HashKeyFromBytes(%x) = %s, want %s", want, got, k)
	}
}

func TestStreamEvenSplit(t *testing.T) {
	// KINESIS_API.md 3.1 boundaries.
	f := func(n int, want []string) {
		t.Helper()
		ranges := EvenSplit(n)
		var got []string
		for _, r := range ranges {
			got = append(got, r.Start.String(), r.End.String())
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("EvenSplit(%d)\n got %v\nwant %v", n, got, want)
		}
	}
	f(1, []string{"0", "340282366920938463463374607431768211455"})
	f(2, []string{
		"0", "170141183460469231731687303715884105727",
		"170141183460469231731687303715884105728", "340282366920938463463374607431768211455",
	})
	f(4, []string{
		"0", "85070591730234615865843651857942052863",
		"85070591730234615865843651857942052864", "170141183460469231731687303715884105727",
		"170141183460469231731687303715884105728", "255211775190703847597530955573826158591",
		"255211775190703847597530955573826158592", "340282366920938463463374607431768211455",
	})
	// N=3: step = floor(2^128/3) = 113427455640312821154458202477256070485.
	f(3, []string{
		"0", "113427455640312821154458202477256070484",
		"113427455640312821154458202477256070485", "226854911280625642308916404954512140969",
		"226854911280625642308916404954512140970", "340282366920938463463374607431768211455",
	})

	// Every n against math/big: range i is [i*step, (i+1)*step-1], the last
	// ends at 2^128-1, and together they tile the space.
	for _, n := range []int{1, 2, 3, 5, 7, 10, 16, 100, 500, 1000, 4096, 10000} {
		ranges := EvenSplit(n)
		if len(ranges) != n {
			t.Fatalf("EvenSplit(%d) has %d ranges", n, len(ranges))
		}
		if err := CheckTiling(ranges); err != nil {
			t.Fatalf("EvenSplit(%d): %v", n, err)
		}
		step := new(big.Int).Div(two128, big.NewInt(int64(n)))
		for i, r := range ranges {
			start := new(big.Int).Mul(step, big.NewInt(int64(i)))
			end := new(big.Int).Sub(new(big.Int).Add(start, step), big.NewInt(1))
			if i == n-1 {
				end = new(big.Int).Sub(two128, big.NewInt(1))
			}
			if hashKeyToBig(r.Start).Cmp(start) != 0 || hashKeyToBig(r.End).Cmp(end) != 0 {
				t.Fatalf("EvenSplit(%d)[%d] = %s, want [%s, %s]", n, i, r, start, end)
			}
		}
	}

	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("EvenSplit(%d) did not panic", n)
				}
			}()
			EvenSplit(n)
		}()
	}
}

func TestStreamHashKeyRangeContains(t *testing.T) {
	r := HashKeyRange{Start: HashKey{0, 10}, End: HashKey{1, 5}}
	f := func(k HashKey, want bool) {
		t.Helper()
		if got := r.Contains(k); got != want {
			t.Fatalf("%s.Contains(%s) = %v, want %v", r, k, got, want)
		}
	}
	f(HashKey{0, 9}, false)
	f(HashKey{0, 10}, true)
	f(HashKey{0, ^uint64(0)}, true)
	f(HashKey{1, 0}, true)
	f(HashKey{1, 5}, true)
	f(HashKey{1, 6}, false)
	f(MaxHashKey(), false)
	if !FullHashKeyRange().Contains(MaxHashKey()) || !FullHashKeyRange().Contains(HashKey{}) {
		t.Fatal("FullHashKeyRange does not contain its ends")
	}

	g := func(a, b HashKeyRange, want bool) {
		t.Helper()
		if got := a.Overlaps(b); got != want {
			t.Fatalf("%s.Overlaps(%s) = %v, want %v", a, b, got, want)
		}
		if got := b.Overlaps(a); got != want {
			t.Fatalf("%s.Overlaps(%s) = %v, want %v", b, a, got, want)
		}
	}
	rng := func(a, b uint64) HashKeyRange { return HashKeyRange{HashKey{0, a}, HashKey{0, b}} }
	g(rng(0, 9), rng(10, 20), false)
	g(rng(0, 10), rng(10, 20), true)
	g(rng(12, 13), rng(10, 20), true)
	g(rng(21, 30), rng(10, 20), false)
	g(FullHashKeyRange(), rng(5, 5), true)

	if got, want := rng(1, 2).String(), "[1, 2]"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestStreamSplitRange(t *testing.T) {
	r := HashKeyRange{Start: mustParseHashKey(t, "100"), End: mustParseHashKey(t, "200")}
	ok := func(r HashKeyRange, k string, wantLow, wantHigh string) {
		t.Helper()
		low, high, err := SplitRange(r, mustParseHashKey(t, k))
		if err != nil {
			t.Fatalf("SplitRange(%s, %s): %v", r, k, err)
		}
		if low.String() != wantLow || high.String() != wantHigh {
			t.Fatalf("SplitRange(%s, %s) = %s, %s, want %s, %s", r, k, low, high, wantLow, wantHigh)
		}
		if merged, err := MergeRanges(low, high); err != nil || merged != r {
			t.Fatalf("MergeRanges(%s, %s) = %s, %v, want %s", low, high, merged, err, r)
		}
	}
	ok(r, "150", "[100, 149]", "[150, 200]")
	ok(r, "101", "[100, 100]", "[101, 200]")
	ok(r, "200", "[100, 199]", "[200, 200]")
	// Across the 64-bit border and at the ends of the key space.
	ok(FullHashKeyRange(), "18446744073709551616",
		"[0, 18446744073709551615]", "[18446744073709551616, 340282366920938463463374607431768211455]")
	ok(FullHashKeyRange(), "1", "[0, 0]", "[1, 340282366920938463463374607431768211455]")
	ok(FullHashKeyRange(), "340282366920938463463374607431768211455",
		"[0, 340282366920938463463374607431768211454]",
		"[340282366920938463463374607431768211455, 340282366920938463463374607431768211455]")
	// Splitting the first of two even shards at its middle.
	half := EvenSplit(2)[0]
	ok(half, "85070591730234615865843651857942052864",
		"[0, 85070591730234615865843651857942052863]",
		"[85070591730234615865843651857942052864, 170141183460469231731687303715884105727]")

	bad := func(r HashKeyRange, k, wantText string) {
		t.Helper()
		_, _, err := SplitRange(r, mustParseHashKey(t, k))
		if !errors.Is(err, ErrSplitKeyOutOfRange) {
			t.Fatalf("SplitRange(%s, %s) = %v, want ErrSplitKeyOutOfRange", r, k, err)
		}
		if err.Error() != wantText {
			t.Fatalf("SplitRange(%s, %s) error\n got %s\nwant %s", r, k, err, wantText)
		}
	}
	bad(r, "100", "stream: new starting hash key out of range: 100 is not in (100, 200]")
	bad(r, "99", "stream: new starting hash key out of range: 99 is not in (100, 200]")
	bad(r, "201", "stream: new starting hash key out of range: 201 is not in (100, 200]")
	bad(r, "0", "stream: new starting hash key out of range: 0 is not in (100, 200]")
	bad(FullHashKeyRange(), "0", "stream: new starting hash key out of range: 0 is not in (0, 340282366920938463463374607431768211455]")
	single := HashKeyRange{Start: HashKey{0, 7}, End: HashKey{0, 7}}
	bad(single, "7", "stream: new starting hash key out of range: 7 is not in (7, 7]")
}

func TestStreamMergeRanges(t *testing.T) {
	rng := func(a, b string) HashKeyRange {
		return HashKeyRange{Start: mustParseHashKey(t, a), End: mustParseHashKey(t, b)}
	}
	ok := func(a, b HashKeyRange, want string) {
		t.Helper()
		got, err := MergeRanges(a, b)
		if err != nil {
			t.Fatalf("MergeRanges(%s, %s): %v", a, b, err)
		}
		if got.String() != want {
			t.Fatalf("MergeRanges(%s, %s) = %s, want %s", a, b, got, want)
		}
	}
	ok(rng("0", "9"), rng("10", "20"), "[0, 20]")
	// AdjacentShardToMerge may be the lower neighbour.
	ok(rng("10", "20"), rng("0", "9"), "[0, 20]")
	ok(rng("0", "18446744073709551615"), rng("18446744073709551616", "340282366920938463463374607431768211455"),
		"[0, 340282366920938463463374607431768211455]")
	four := EvenSplit(4)
	ok(four[1], four[2], "[85070591730234615865843651857942052864, 255211775190703847597530955573826158591]")

	bad := func(a, b HashKeyRange, wantText string) {
		t.Helper()
		_, err := MergeRanges(a, b)
		if !errors.Is(err, ErrNotAdjacent) {
			t.Fatalf("MergeRanges(%s, %s) = %v, want ErrNotAdjacent", a, b, err)
		}
		if err.Error() != wantText {
			t.Fatalf("MergeRanges(%s, %s) error\n got %s\nwant %s", a, b, err, wantText)
		}
	}
	bad(rng("0", "9"), rng("11", "20"), "stream: hash key ranges are not adjacent: [0, 9] and [11, 20]")
	bad(rng("0", "10"), rng("10", "20"), "stream: hash key ranges are not adjacent: [0, 10] and [10, 20]")
	bad(rng("0", "9"), rng("0", "9"), "stream: hash key ranges are not adjacent: [0, 9] and [0, 9]")
	// 2^128-1 plus one must not wrap around to 0.
	top := rng("340282366920938463463374607431768211455", "340282366920938463463374607431768211455")
	bad(top, rng("0", "5"), "stream: hash key ranges are not adjacent: [340282366920938463463374607431768211455, 340282366920938463463374607431768211455] and [0, 5]")
	bad(rng("0", "5"), top, "stream: hash key ranges are not adjacent: [0, 5] and [340282366920938463463374607431768211455, 340282366920938463463374607431768211455]")
	bad(four[0], four[2], "stream: hash key ranges are not adjacent: "+four[0].String()+" and "+four[2].String())
}

func TestStreamSearchRanges(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 16, 17, 100} {
		ranges := EvenSplit(n)
		for i, r := range ranges {
			for _, k := range []HashKey{r.Start, r.End, r.Start.inc(), r.End.dec()} {
				if got := SearchRanges(ranges, k); got != i {
					t.Fatalf("n=%d: SearchRanges(%s) = %d, want %d", n, k, got, i)
				}
			}
		}
		r := rand.New(rand.NewPCG(5, uint64(n)))
		for range 1000 {
			k := randomHashKey(r)
			i := SearchRanges(ranges, k)
			if i < 0 || !ranges[i].Contains(k) {
				t.Fatalf("n=%d: SearchRanges(%s) = %d", n, k, i)
			}
		}
	}
	// Routing test vectors: with 4 shards "a" (1.7e37) goes to shard 0 and
	// "partitionKey-1" (1.6e38, in [2^126, 2^127)) to shard 1; with
	// 2 shards both go to shard 0.
	route := func(n int, partitionKey string, want int) {
		t.Helper()
		if got := SearchRanges(EvenSplit(n), HashKeyFromPartitionKey(partitionKey)); got != want {
			t.Fatalf("%q routes to shard %d of %d, want %d", partitionKey, got, n, want)
		}
	}
	route(4, "a", 0)
	route(4, "partitionKey-1", 1)
	route(2, "a", 0)
	route(2, "partitionKey-1", 0)
	// Gaps and empty input.
	gappy := []HashKeyRange{{HashKey{0, 0}, HashKey{0, 9}}, {HashKey{0, 20}, HashKey{0, 29}}}
	for k, want := range map[uint64]int{0: 0, 9: 0, 10: -1, 19: -1, 20: 1, 29: 1, 30: -1} {
		if got := SearchRanges(gappy, HashKey{0, k}); got != want {
			t.Fatalf("SearchRanges(gappy, %d) = %d, want %d", k, got, want)
		}
	}
	if got := SearchRanges(nil, HashKey{}); got != -1 {
		t.Fatalf("SearchRanges(nil) = %d, want -1", got)
	}
}

func TestStreamCheckTiling(t *testing.T) {
	four := EvenSplit(4)
	low, high, err := SplitRange(four[1], four[1].Start.add(HashKey{0, 12345}))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTiling([]HashKeyRange{four[0], low, high, four[2], four[3]}); err != nil {
		t.Fatalf("split tiling: %v", err)
	}
	cases := map[string]struct {
		ranges []HashKeyRange
		want   string
	}{
		"empty":       {nil, "stream: no hash key ranges"},
		"no zero":     {four[1:], "stream: hash key range 0 " + four[1].String() + " does not start at 0"},
		"no top":      {four[:3], "stream: last hash key range " + four[2].String() + " does not end at 2^128-1"},
		"gap":         {[]HashKeyRange{four[0], four[2], four[3]}, "stream: hash key ranges 0 " + four[0].String() + " and 1 " + four[2].String() + " are not contiguous"},
		"unsorted":    {[]HashKeyRange{four[0], four[2], four[1], four[3]}, "stream: hash key ranges 0 " + four[0].String() + " and 1 " + four[2].String() + " are not contiguous"},
		"reversed":    {[]HashKeyRange{{Start: HashKey{}, End: HashKey{0, 5}}, {Start: HashKey{0, 6}, End: HashKey{0, 1}}}, "stream: hash key range 1 [6, 1] is empty"},
		"wraparound":  {[]HashKeyRange{FullHashKeyRange(), FullHashKeyRange()}, "stream: hash key ranges 0 " + FullHashKeyRange().String() + " and 1 " + FullHashKeyRange().String() + " are not contiguous"},
		"overlapping": {[]HashKeyRange{{End: HashKey{0, 10}}, {Start: HashKey{0, 10}, End: MaxHashKey()}}, "stream: hash key ranges 0 [0, 10] and 1 [10, 340282366920938463463374607431768211455] are not contiguous"},
	}
	for name, tc := range cases {
		err := CheckTiling(tc.ranges)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: CheckTiling = %v, want %s", name, err, tc.want)
		}
	}
}

// md5Big is the reference routing function: md5 of the UTF-8 bytes as a
// big-endian integer.
func md5Big(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}
