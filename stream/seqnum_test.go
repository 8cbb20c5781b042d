package stream

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refSeqNum is the reference encoder: kinesalite's stringifySequence v2,
// written out as the 47 hex digits of KINESIS_API.md 3.2 and converted with
// math/big.
func refSeqNum(s SeqNum) string {
	h := fmt.Sprintf("2%09x%x%016x00%09x%08x2",
		s.ShardCreated, s.ShardIndex&0xf, s.Position, s.Arrival, s.ShardIndex)
	if len(h) != 47 {
		panic("BUG: reference hex " + h)
	}
	n, ok := new(big.Int).SetString(h, 16)
	if !ok {
		panic("BUG: reference hex " + h)
	}
	return n.String()
}

func randomSeqNum(r *rand.Rand) SeqNum {
	s := SeqNum{
		ShardCreated: r.Int64N(MaxSeqNumSeconds + 1),
		ShardIndex:   r.IntN(MaxShardIndex + 1),
		Position:     r.Uint64N(EndPosition + 1),
		Arrival:      r.Int64N(MaxSeqNumSeconds + 1),
	}
	// Edge values of each field.
	switch r.IntN(8) {
	case 0:
		s.ShardCreated, s.Arrival = 0, 0
	case 1:
		s.ShardCreated, s.Arrival = MaxSeqNumSeconds, MaxSeqNumSeconds
	case 2:
		s.Position = r.Uint64N(100)
	case 3:
		s.Position = EndPosition - r.Uint64N(2)
	case 4:
		s.ShardIndex = r.IntN(20)
	case 5:
		s.ShardIndex = MaxShardIndex
	}
	return s
}

func mustParseSeqNum(t *testing.T, s string) SeqNum {
	t.Helper()
	sn, err := ParseSeqNum(s)
	if err != nil {
		t.Fatalf("ParseSeqNum(%q): %v", s, err)
	}
	return sn
}

func TestStreamSeqNumAWSExamples(t *testing.T) {
	// Real AWS values (KINESIS_API.md 3.2).
	f := func(s string, want SeqNum) {
		t.Helper()
		got := mustParseSeqNum(t, s)
		if got != want {
			t.Fatalf("ParseSeqNum(%s) = %+v, want %+v", s, got, want)
		}
		if back := FormatSeqNum(got); back != s {
			t.Fatalf("FormatSeqNum(%+v) = %s, want %s", got, back, s)
		}
	}
	// 2 0656e97f5 0 00000000000065c6 00 0656ecc98 00000000 2:
	// created 2023-12-05 03:24:37Z, arrival 2023-12-05 07:09:12Z.
	f("49647060812288014558888668248263847763900017820167045122",
		SeqNum{ShardCreated: 1701746677, ShardIndex: 0, Position: 0x65c6, Arrival: 1701760152})
	// awslabs/amazon-kinesis-client#391, logged with shardId-000000000427.
	f("49588160275566154496829720989890449304599334072021424818",
		SeqNum{ShardCreated: 1536672213, ShardIndex: 427, Position: 13231464, Arrival: 1536700419})
}

func TestStreamSeqNumReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		s := randomSeqNum(r)
		want := refSeqNum(s)
		got := FormatSeqNum(s)
		if got != want {
			t.Fatalf("FormatSeqNum(%+v)\n got %s\nwant %s", s, got, want)
		}
		if len(got) != SeqNumDigits {
			t.Fatalf("FormatSeqNum(%+v) has %d digits", s, len(got))
		}
		if s.String() != got {
			t.Fatalf("String() = %s, want %s", s.String(), got)
		}
		if app := string(AppendSeqNum([]byte("seq="), s)); app != "seq="+want {
			t.Fatalf("AppendSeqNum = %s, want seq=%s", app, want)
		}
		if back := mustParseSeqNum(t, got); back != s {
			t.Fatalf("ParseSeqNum(FormatSeqNum(%+v)) = %+v", s, back)
		}
	}
}

// The layout pins the leading hex digit to 2, so every value has 56 decimal
// digits: no padding is ever needed, and the extremes prove it.
func TestStreamSeqNumWidth(t *testing.T) {
	lowest := SeqNum{}
	highest := SeqNum{ShardCreated: MaxSeqNumSeconds, ShardIndex: MaxShardIndex, Position: EndPosition, Arrival: MaxSeqNumSeconds}
	f := func(s SeqNum, want string) {
		t.Helper()
		if got := FormatSeqNum(s); got != want {
			t.Fatalf("FormatSeqNum(%+v) = %s, want %s", s, got, want)
		}
	}
	// 2^185 + 2 (only the version and the trailing 2 set).
	f(lowest, "49039857307708443467467104868809893875799651909875269634")
	f(highest, refSeqNum(highest))
	if got := FormatSeqNum(highest); got >= "73559785961562665201200657303214840813699477864812904447" {
		t.Fatalf("FormatSeqNum(highest) = %s, not below 3*2^184", got)
	}
}

// Within one shard, the decimal strings sort like the positions, as
// integers and as strings, whatever the arrival seconds.
func TestStreamSeqNumOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, shard := range []SeqNum{
		{ShardCreated: 1700000000, ShardIndex: 0},
		{ShardCreated: 1536672213, ShardIndex: 427},
		{ShardCreated: MaxSeqNumSeconds, ShardIndex: MaxShardIndex},
		{ShardCreated: 0, ShardIndex: 15},
	} {
		type rec struct {
			pos uint64
			seq string
			num *big.Int
		}
		mk := func(s SeqNum) rec {
			str := FormatSeqNum(s)
			n, ok := new(big.Int).SetString(str, 10)
			if !ok {
				t.Fatalf("FormatSeqNum(%+v) = %q is not a decimal", s, str)
			}
			return rec{s.Position, str, n}
		}
		var recs []rec
		arrival := shard.ShardCreated
		if arrival > MaxSeqNumSeconds-1000 {
			arrival = MaxSeqNumSeconds - 1000
		}
		for range 5000 {
			s := shard
			switch r.IntN(3) {
			case 0: // a small position
				s.Position = r.Uint64N(1 << 20)
			case 1: // anywhere
				s.Position = r.Uint64N(MaxPosition + 1)
			case 2: // near the top
				s.Position = MaxPosition - r.Uint64N(1<<20)
			}
			// Arrival seconds move forward, jump, and sometimes step back
			// (a clock adjustment): order must follow the position alone.
			switch r.IntN(4) {
			case 0:
				s.Arrival = arrival + r.Int64N(1000)
			case 1:
				s.Arrival = r.Int64N(MaxSeqNumSeconds + 1)
			default:
				s.Arrival = arrival
			}
			recs = append(recs, mk(s))
		}
		recs = append(recs,
			mk(StartingSeqNum(shard.ShardCreated, shard.ShardIndex)),
			mk(EndingSeqNum(shard.ShardCreated, shard.ShardIndex, 0)),
			mk(EndingSeqNum(shard.ShardCreated, shard.ShardIndex, MaxSeqNumSeconds)),
		)
		for i := range recs {
			for j := range min(len(recs), 50) {
				a, b := recs[i], recs[(i+j*97)%len(recs)]
				wantCmp := cmpUint64(a.pos, b.pos)
				strCmp := strings.Compare(a.seq, b.seq)
				bigCmp := a.num.Cmp(b.num)
				if wantCmp != 0 && (strCmp != wantCmp || bigCmp != wantCmp) {
					t.Fatalf("positions %d, %d compare %d, but %s and %s compare %d as strings, %d as integers",
						a.pos, b.pos, wantCmp, a.seq, b.seq, strCmp, bigCmp)
				}
			}
		}
		// And a full sort by string sorts by position.
		slices.SortFunc(recs, func(a, b rec) int { return strings.Compare(a.seq, b.seq) })
		for i := 1; i < len(recs); i++ {
			if recs[i-1].pos > recs[i].pos {
				t.Fatalf("sorted by string, position %d comes before %d", recs[i-1].pos, recs[i].pos)
			}
		}
	}
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestStreamSeqNumStartEnd(t *testing.T) {
	start := StartingSeqNum(1700000000, 3)
	if want := (SeqNum{ShardCreated: 1700000000, ShardIndex: 3, Position: 0, Arrival: 1700000000}); start != want {
		t.Fatalf("StartingSeqNum = %+v, want %+v", start, want)
	}
	end := EndingSeqNum(1700000000, 3, 1700003600)
	if want := (SeqNum{ShardCreated: 1700000000, ShardIndex: 3, Position: EndPosition, Arrival: 1700003600}); end != want {
		t.Fatalf("EndingSeqNum = %+v, want %+v", end, want)
	}
	// kinesalite's layout: counter 0 / 0x7fffffffffffffff.
	if got, want := FormatSeqNum(start), refSeqNum(start); got != want {
		t.Fatalf("starting: %s, want %s", got, want)
	}
	endStr := FormatSeqNum(end)
	if back := mustParseSeqNum(t, endStr); back != end {
		t.Fatalf("ParseSeqNum(ending) = %+v, want %+v", back, end)
	}
	first := FormatSeqNum(SeqNum{ShardCreated: 1700000000, ShardIndex: 3, Position: 0, Arrival: 1700000000})
	last := FormatSeqNum(SeqNum{ShardCreated: 1700000000, ShardIndex: 3, Position: MaxPosition, Arrival: MaxSeqNumSeconds})
	if !(FormatSeqNum(start) <= first && last < endStr) {
		t.Fatalf("start %s, first %s, last %s, end %s out of order", FormatSeqNum(start), first, last, endStr)
	}
}

func TestStreamParseSeqNumErrors(t *testing.T) {
	valid := FormatSeqNum(SeqNum{ShardCreated: 1700000000, ShardIndex: 5, Position: 42, Arrival: 1700000001})
	// hexSeq builds a 47-hex-digit value and returns its decimal.
	hexSeq := func(h string) string {
		t.Helper()
		n, ok := new(big.Int).SetString(h, 16)
		if !ok {
			t.Fatalf("bad hex %s", h)
		}
		return n.String()
	}
	cases := map[string]struct {
		in   string
		want string
	}{
		"empty":         {"", `empty`},
		"zero":          {"0", `1 digits, want 56`},
		"plus":          {"+" + valid[1:], `byte 0 is '+', want a decimal digit`},
		"minus":         {"-" + valid, `byte 0 is '-', want a decimal digit`},
		"space":         {valid + " ", `byte 56 is ' ', want a decimal digit`},
		"leading zero":  {"0" + valid[1:], `leading zero`},
		"short":         {valid[:55], `55 digits, want 56`},
		"long":          {valid + "0", `57 digits, want 56`},
		"hex":           {"0x" + valid, `byte 1 is 'x', want a decimal digit`},
		"version 1":     {hexSeq("1" + strings.Repeat("0", 45) + "2"), `layout version 1, want 2`},
		"version 3":     {hexSeq("3" + strings.Repeat("0", 45) + "2"), `layout version 3, want 2`},
		"all nines":     {strings.Repeat("9", 56), `layout version 4, want 2`},
		"legacy v1":     {hexSeq("2" + "0656e97f5" + "0" + "00" + "0656ecc98" + "00000000000000" + "00" + "00000000" + "1"), `trailing hex digit 1, want 2`},
		"reserved":      {hexSeq("2" + "0656e97f5" + "0" + "00000000000065c6" + "01" + "0656ecc98" + "00000000" + "2"), `reserved byte 0x1, want 0`},
		"counter top":   {hexSeq("2" + "0656e97f5" + "0" + "8000000000000000" + "00" + "0656ecc98" + "00000000" + "2"), `counter 0x8000000000000000 has its top bit set`},
		"shard top":     {hexSeq("2" + "0656e97f5" + "0" + "0000000000000001" + "00" + "0656ecc98" + "80000000" + "2"), `shard index 2147483648 greater than 2^31-1`},
		"nibble":        {hexSeq("2" + "0656e97f5" + "3" + "0000000000000001" + "00" + "0656ecc98" + "000001ab" + "2"), `shard index nibble 3 does not match shard index 427`},
		"trailing 0":    {hexSeq("2" + "0656e97f5" + "0" + "0000000000000001" + "00" + "0656ecc98" + "00000000" + "0"), `trailing hex digit 0, want 2`},
		"random digits": {"12345678901234567890123456789012345678901234567890123456", `layout version 0, want 2`},
	}
	for name, tc := range cases {
		_, err := ParseSeqNum(tc.in)
		if err == nil {
			t.Errorf("%s: ParseSeqNum(%q) succeeded", name, tc.in)
			continue
		}
		if !errors.Is(err, ErrInvalidSeqNum) {
			t.Errorf("%s: ParseSeqNum(%q) = %v, want ErrInvalidSeqNum", name, tc.in, err)
		}
		want := "stream: invalid sequence number " + quoteInput(tc.in) + ": " + tc.want
		if err.Error() != want {
			t.Errorf("%s: ParseSeqNum error\n got %s\nwant %s", name, err, want)
		}
	}
}

func TestStreamFormatSeqNumPanics(t *testing.T) {
	good := SeqNum{ShardCreated: 1, ShardIndex: 1, Position: 1, Arrival: 1}
	for name, s := range map[string]SeqNum{
		"negative created":   {ShardCreated: -1},
		"created too late":   {ShardCreated: MaxSeqNumSeconds + 1},
		"negative arrival":   {Arrival: -1},
		"arrival too late":   {Arrival: MaxSeqNumSeconds + 1},
		"negative index":     {ShardIndex: -1},
		"index too large":    {ShardIndex: MaxShardIndex + 1},
		"position top bit":   {Position: EndPosition + 1},
		"position all ones":  {Position: ^uint64(0)},
		"everything too big": {ShardCreated: 1 << 40, ShardIndex: 1 << 40, Position: 1 << 63, Arrival: 1 << 40},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "BUG: ") {
					t.Errorf("%s: FormatSeqNum(%+v) panicked with %v, want a BUG panic", name, s, r)
				}
			}()
			FormatSeqNum(s)
		}()
	}
	FormatSeqNum(good) // must not panic
}
