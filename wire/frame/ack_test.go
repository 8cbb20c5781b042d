package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// ackVectorSeq is stream.FormatSeqNum of shard 1 created at 1701746677,
// position 5, arrival 1701760152; ackVectorSeq7 the same at position 7.
const (
	ackVectorSeq  = "49647060812310315304087198839914074807031190809751846930"
	ackVectorSeq7 = "49647060812310315304087198839916492658670420068101259282"
)

// sampleAck is PROTOCOL.md's example: records 0, 2 and 3 of a Put of five
// went to shard 1, records 1 and 4 were throttled.
func sampleAck() *Ack {
	return &Ack{BatchID: 7, Count: 5, Groups: []AckGroup{
		{ShardID: "shardId-000000000001", FirstSequenceNumber: ackVectorSeq, Indexes: []uint32{0, 2, 3}},
		{Code: CodeThrottled, Message: "slow down", Indexes: []uint32{1, 4}},
	}}
}

// ackVector is the body of sampleAck, as PROTOCOL.md section 5 shows it.
const ackVector = "0000000000000007" + "00000005" + "00000002" +
	"00000003" + "0000" + "14" + "736861726449642d303030303030303030303031" +
	"38" + "3439363437303630383132333130333135333034303837313938383339393134303734383037303331313930383039373531383436393330" +
	"00" + "01" + "00" +
	"00000002" + "0014" + "0009" + "736c6f7720646f776e" + "01" + "02"

func TestWireFrameAckVector(t *testing.T) {
	b := AppendAck(nil, sampleAck())
	if got := hex.EncodeToString(b); got != ackVector {
		t.Fatalf("ack body\n%s, want\n%s", got, ackVector)
	}
	var a Ack
	if err := DecodeAck(b, &a, 5); err != nil {
		t.Fatal(err)
	}
	// Record 3 is the group's third: the first sequence number plus 2*2^80.
	g := a.Groups[0]
	if g.Indexes[2] != 3 || SeqNumOffset(g.FirstSequenceNumber, 2) != ackVectorSeq7 {
		t.Fatalf("record 3: index %d, sequence number %s, want %s", g.Indexes[2], SeqNumOffset(g.FirstSequenceNumber, 2), ackVectorSeq7)
	}
	if err := DecodeAck(b, &a, 4); !errors.Is(err, ErrMalformed) {
		t.Fatalf("record limit: %v", err)
	}
	for n := range len(b) {
		if err := DecodeAck(b[:n], &a, 100); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
	if err := DecodeAck(append(bytes.Clone(b), 0), &a, 100); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// TestWireFrameAckIndexCoding: gaps of 128 and more take several bytes,
// consecutive indexes one byte each, and large Acks round-trip.
func TestWireFrameAckIndexCoding(t *testing.T) {
	var a Ack
	for _, tc := range []struct {
		idx   []uint32
		count int
		bytes int
	}{
		{seq(0, 1000, 1), 1000, 1000},
		{[]uint32{0, 129, 130}, 131, 1 + 2 + 1},
		{[]uint32{200}, 201, 2},
		{seq(3, 70000, 4), 70000, 17499 + 1},
	} {
		in := Ack{BatchID: 1, Count: tc.count, Groups: []AckGroup{{ShardID: "s", FirstSequenceNumber: "1", Indexes: tc.idx}}}
		if len(tc.idx) != tc.count {
			// The other records failed.
			in.Groups = append(in.Groups, AckGroup{Code: CodeInternal, Message: "x", Indexes: missing(tc.idx, tc.count)})
		}
		b := AppendAck(nil, &in)
		if got := len(AppendAckIndexes(nil, tc.idx, 0)); got != tc.bytes {
			t.Errorf("indexes %v...: %d bytes, want %d", tc.idx[:1], got, tc.bytes)
		}
		if err := DecodeAck(b, &a, tc.count); err != nil || !equalGroups(a.Groups, in.Groups) {
			t.Fatalf("round trip of %d records: %v", tc.count, err)
		}
	}
}

func missing(idx []uint32, count int) []uint32 {
	in := make(map[uint32]bool, len(idx))
	for _, v := range idx {
		in[v] = true
	}
	var out []uint32
	for i := range uint32(count) {
		if !in[i] {
			out = append(out, i)
		}
	}
	return out
}

func seq(from, to, step uint32) []uint32 {
	var out []uint32
	for i := from; i < to; i += step {
		out = append(out, i)
	}
	return out
}

func equalGroups(a, b []AckGroup) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Code != y.Code || x.ShardID != y.ShardID || x.FirstSequenceNumber != y.FirstSequenceNumber || x.Message != y.Message ||
			!slicesEqual(x.Indexes, y.Indexes) {
			return false
		}
	}
	return true
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWireFrameAckMalformed: every way an Ack body can be wrong is
// ErrMalformed (CodeMalformed), and nothing is allocated for counts the
// body cannot hold.
func TestWireFrameAckMalformed(t *testing.T) {
	head := func(count, groups int) []byte { return AppendAckHeader(nil, 9, count, groups) }
	ok := func(b []byte, n int) []byte { return AppendAckGroupOK(b, n, "shardId-000000000000", "1") }
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"duplicate index", append(ok(append(ok(head(2, 2), 1), 0), 1), 0), "in two groups"},
		{"missing index", append(ok(head(3, 1), 2), 0, 0), "in no group"},
		{"index out of range", append(ok(head(2, 1), 2), 0, 1), "out of range"},
		{"gap out of range", append(append(ok(head(300, 1), 1), 0xAC, 0x02), make([]byte, 300)...), "out of range"}, // 300
		{"n too large for the body", append(ok(head(3, 1), 3), 0, 0), "records left"},
		{"n above the records left", append(ok(append(ok(head(3, 2), 2), 0, 0), 2), 0), "records left"},
		{"empty group", append(ok(ok(head(2, 2), 0), 2), 0, 0), "records left"},
		{"bad code", append(AppendAckGroupError(head(1, 1), 1, CodeMalformed, "x"), 0), "no record code"},
		{"unknown code", append(AppendAckGroupError(head(1, 1), 1, 99, "x"), 0), "no record code"},
		{"first sequence number with leading zero", append(AppendAckGroupOK(head(1, 1), 1, "s", "01"), 0), "not a decimal"},
		{"first sequence number not digits", append(AppendAckGroupOK(head(1, 1), 1, "s", "12a"), 0), "not a decimal"},
		{"empty first sequence number", append(AppendAckGroupOK(head(1, 1), 1, "s", ""), 0), "not a decimal"},
		{"non-minimal varint", append(ok(head(1, 1), 1), 0x80, 0x00), "varint"},
		{"varint above 32 bits", append(ok(head(1, 1), 1), 0xff, 0xff, 0xff, 0xff, 0x7f), "varint"},
		{"count larger than the body", ok(head(1000, 1), 1), "records in"},
		{"count above the limit", append(ok(head(101, 1), 101), make([]byte, 101)...), "limit 100"},
		{"more groups than records", append(ok(head(1, 2), 1), make([]byte, 20)...), "groups of"},
		{"groups larger than the body", append(head(math.MaxUint16, math.MaxUint16), make([]byte, math.MaxUint16)...), "groups of"},
		{"zero records with a group", append(ok(head(0, 1), 1), 0), "groups of"},
	} {
		var a Ack
		err := DecodeAck(tc.body, &a, 100_000)
		if tc.name == "count above the limit" {
			err = DecodeAck(tc.body, &a, 100)
		}
		if !errors.Is(err, ErrMalformed) || CodeOf(err) != CodeMalformed || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrMalformed with %q", tc.name, err, tc.want)
		}
		if cap(a.idx) > len(tc.body) {
			t.Errorf("%s: allocated %d indexes for a body of %d bytes", tc.name, cap(a.idx), len(tc.body))
		}
	}
	// The same Ack is reused: a good body after bad ones decodes cleanly.
	var a Ack
	_ = DecodeAck(append(ok(append(ok(head(2, 2), 1), 0), 1), 0), &a, 10)
	good := AppendAck(nil, sampleAck())
	if err := DecodeAck(good, &a, 10); err != nil || !equalGroups(a.Groups, sampleAck().Groups) {
		t.Fatalf("reused Ack: %+v %v", a, err)
	}
}

// TestWireFrameSeqNumOffset checks the decimal adder against math/big.
func TestWireFrameSeqNumOffset(t *testing.T) {
	two80 := new(big.Int).Lsh(big.NewInt(1), 80)
	check := func(first string, j uint64) {
		t.Helper()
		want, _ := new(big.Int).SetString(first, 10)
		want.Add(want, new(big.Int).Mul(new(big.Int).SetUint64(j), two80))
		if got := SeqNumOffset(first, j); got != want.String() {
			t.Fatalf("%s + %d*2^80 = %s, want %s", first, j, got, want)
		}
		// Appending keeps dst's contents.
		if got := string(AppendSeqNumOffset([]byte("x"), first, j)); got != "x"+want.String() {
			t.Fatalf("append: %s, want x%s", got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	randDigits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		b[0] = byte('1' + r.IntN(9))
		return string(b)
	}
	for range 20000 {
		first := randDigits(56)
		var j uint64
		switch r.IntN(3) {
		case 0:
			j = r.Uint64N(10000)
		case 1:
			j = r.Uint64()
		default:
			j = r.Uint64() >> r.IntN(64)
		}
		check(first, j)
	}
	// Carries across all 56 digits, into a 57th.
	nines := strings.Repeat("9", 56)
	for _, j := range []uint64{1, 2, 1 << 20, math.MaxUint64} {
		check(nines, j)
		// 10^56 - j*2^80: the sum is exactly 10^56.
		v := new(big.Int).Exp(big.NewInt(10), big.NewInt(56), nil)
		v.Sub(v, new(big.Int).Mul(new(big.Int).SetUint64(j), two80))
		check(v.String(), j)
		if got := SeqNumOffset(v.String(), j); got != "1"+strings.Repeat("0", 56) {
			t.Fatalf("carry out: %s", got)
		}
	}
	// A carry that stops in every chunk of the 56 digits.
	for pos := 1; pos < 56; pos++ {
		first := strings.Repeat("1", 56-pos) + strings.Repeat("9", pos)
		check(first, 1)
		check(first, math.MaxUint64)
	}
	// Short and long decimals, and j = 0.
	for _, first := range []string{"0", "7", randDigits(20), randDigits(44), randDigits(45), randDigits(64), randDigits(200), randDigits(255)} {
		for _, j := range []uint64{0, 1, 3, math.MaxUint64} {
			check(first, j)
		}
	}
}

// TestWireFrameAckDecodeReuse: a decoded Ack's groups alias the reused
// index array; decoding a smaller Ack into it works.
func TestWireFrameAckDecodeReuse(t *testing.T) {
	var a Ack
	large := &Ack{BatchID: 1, Count: 1000, Groups: []AckGroup{{ShardID: "a", FirstSequenceNumber: "5", Indexes: seq(0, 1000, 1)}}}
	if err := DecodeAck(AppendAck(nil, large), &a, 1000); err != nil {
		t.Fatal(err)
	}
	small := sampleAck()
	if err := DecodeAck(AppendAck(nil, small), &a, 1000); err != nil || a.Count != 5 || !equalGroups(a.Groups, small.Groups) {
		t.Fatalf("%+v %v", a, err)
	}
	if binary.BigEndian.Uint64(AppendAck(nil, &a)) != 7 {
		t.Fatal("batch id")
	}
}
