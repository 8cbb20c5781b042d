package frame

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestWireFrameHeader(t *testing.T) {
	body := []byte("hello body")
	b := AppendFrame(nil, TypePut, 0, body)
	h, err := DecodeHeader(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h.Type != TypePut || h.Length != uint32(len(body)) {
		t.Fatalf("header %+v", h)
	}
	if err := h.CheckBody(b[HeaderSize:]); err != nil {
		t.Fatal(err)
	}
	f := func(name string, mutate func([]byte) []byte, max uint32, want error) {
		t.Helper()
		c := mutate(bytes.Clone(b))
		_, err := DecodeHeader(c, max)
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	f("short", func(b []byte) []byte { return b[:HeaderSize-1] }, 1<<20, ErrShortHeader)
	f("magic", func(b []byte) []byte { b[0] = 'X'; return b }, 1<<20, ErrBadMagic)
	f("header checksum", func(b []byte) []byte { b[5] ^= 1; return b }, 1<<20, ErrHeaderChecksum)
	f("too large", func(b []byte) []byte { return b }, 4, ErrTooLarge)
	// A body bit flip passes the header and fails CheckBody.
	c := bytes.Clone(b)
	c[HeaderSize] ^= 0x80
	h, err = DecodeHeader(c, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.CheckBody(c[HeaderSize:]); !errors.Is(err, ErrBodyChecksum) || CodeOf(err) != CodeChecksum {
		t.Fatalf("body checksum: %v", err)
	}
}

func samplePut() *Put {
	return &Put{BatchID: 42, Stream: "logs", Records: []Record{
		{PartitionKey: []byte("a"), Data: []byte("one")},
		{PartitionKey: []byte("host-1"), ExplicitHashKey: []byte("340282366920938463463374607431768211455"), Data: []byte{}},
		{PartitionKey: []byte("k"), Data: bytes.Repeat([]byte{0xAB}, 300)},
	}}
}

func TestWireFrameRoundTrip(t *testing.T) {
	p := samplePut()
	body := AppendPut(nil, p)
	if len(body) != PutSize(p.Stream, p.Records) {
		t.Fatalf("PutSize %d, encoded %d", PutSize(p.Stream, p.Records), len(body))
	}
	var got Put
	if err := DecodePut(body, &got, 100); err != nil {
		t.Fatal(err)
	}
	if got.BatchID != p.BatchID || got.Stream != p.Stream || len(got.Records) != 3 ||
		!bytes.Equal(got.Records[1].ExplicitHashKey, p.Records[1].ExplicitHashKey) || !bytes.Equal(got.Records[2].Data, p.Records[2].Data) {
		t.Fatalf("put %+v", got)
	}
	if err := DecodePut(body, &got, 2); !errors.Is(err, ErrMalformed) {
		t.Fatalf("record limit: %v", err)
	}
	for n := range len(body) {
		if err := DecodePut(body[:n], &got, 100); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
	if err := DecodePut(append(bytes.Clone(body), 0), &got, 100); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}

	a := sampleAck()
	var ga Ack
	if err := DecodeAck(AppendAck(nil, a), &ga, 10); err != nil || ga.BatchID != a.BatchID || ga.Count != a.Count ||
		!reflect.DeepEqual(ga.Groups, a.Groups) {
		t.Fatalf("ack %+v %v", ga, err)
	}
	e := Error{BatchID: 9, Code: CodeStreamNotFound, Fatal: false, Message: "nope"}
	var ge Error
	if err := DecodeError(AppendError(nil, &e), &ge); err != nil || ge != e {
		t.Fatalf("error %+v %v", ge, err)
	}
	h := Hello{MinVersion: Version, MaxVersion: Version, ProducerID: [16]byte{1, 2}, ClientName: "test"}
	var gh Hello
	if err := DecodeHello(AppendHello(nil, &h), &gh); err != nil || gh != h {
		t.Fatalf("hello %+v %v", gh, err)
	}
	ok := HelloOK{Version: Version, Flags: FlagAuthRequired, Window: 1 << 22, MaxFrame: 1 << 21, MaxRecords: 10000, Nonce: [32]byte{9}}
	var gok HelloOK
	if err := DecodeHelloOK(AppendHelloOK(nil, &ok), &gok); err != nil || gok != ok {
		t.Fatalf("hello ok %+v %v", gok, err)
	}
	au := Auth{AccessKeyID: "AKID", MAC: AuthMAC("secret", ok.Nonce, "AKID")}
	var gau Auth
	if err := DecodeAuth(AppendAuth(nil, &au), &gau); err != nil || gau != au {
		t.Fatalf("auth %+v %v", gau, err)
	}
	if !CheckAuthMAC("secret", ok.Nonce, "AKID", gau.MAC) || CheckAuthMAC("secreT", ok.Nonce, "AKID", gau.MAC) {
		t.Fatal("CheckAuthMAC")
	}
}

// TestWireFrameAuthMACVector pins the MAC of PROTOCOL.md's example.
func TestWireFrameAuthMACVector(t *testing.T) {
	var nonce [NonceSize]byte
	for i := range nonce {
		nonce[i] = byte(i)
	}
	mac := AuthMAC("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", nonce, "AKIDEXAMPLE")
	if got := fmt.Sprintf("%x", mac); got != authVector {
		t.Fatalf("MAC %s, want %s", got, authVector)
	}
}

const authVector = "b85736e841d14581ba10c69d5fd941d215501f9d64f7f6d83815ec2bb602b3a4"

var genCorpus = flag.Bool("gen-corpus", false, "rewrite the seed corpora in testdata/fuzz")

// TestWireFrameGenCorpus writes the seed corpora with -gen-corpus; without
// it, it checks that they exist.
func TestWireFrameGenCorpus(t *testing.T) {
	p := samplePut()
	seeds := map[string][][]byte{
		"FuzzDecodeHeader": {AppendFrame(nil, TypePut, 0, AppendPut(nil, p)), AppendFrame(nil, TypeHello, 0, nil)},
		"FuzzDecodePut":    {AppendPut(nil, p), AppendPut(nil, &Put{Stream: "s"})},
		"FuzzDecodeAck": {AppendAck(nil, sampleAck()), AppendAck(nil, &Ack{BatchID: 1}),
			AppendAck(nil, &Ack{BatchID: 2, Count: 300, Groups: []AckGroup{{ShardID: "shardId-000000000001", FirstSequenceNumber: ackVectorSeq,
				Indexes: seq(0, 300, 1)}}})},
		"FuzzDecodeError":   {AppendError(nil, &Error{BatchID: 3, Code: CodeStreamNotFound, Message: "Stream s under account 000000000000 not found."})},
		"FuzzDecodeHello":   {AppendHello(nil, &Hello{MinVersion: Version, MaxVersion: Version, ClientName: "sluicetcp"})},
		"FuzzDecodeHelloOK": {AppendHelloOK(nil, &HelloOK{Version: Version, Window: 4 << 20, MaxFrame: 2 << 20, MaxRecords: 10000})},
		"FuzzDecodeAuth":    {AppendAuth(nil, &Auth{AccessKeyID: "AKIDEXAMPLE"})},
	}
	offsets := []struct {
		first string
		j     uint64
	}{{ackVectorSeq, 1}, {strings.Repeat("9", 56), 1}, {"0", math.MaxUint64}, {ackVectorSeq, 9999}}
	seeds["FuzzSeqNumOffset"] = make([][]byte, len(offsets)) // written from offsets
	for name, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*genCorpus {
			ents, err := os.ReadDir(dir)
			if err != nil || len(ents) == 0 {
				t.Errorf("no seed corpus in %s (run go test -run TestWireFrameGenCorpus -gen-corpus): %v", dir, err)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range list {
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if name == "FuzzSeqNumOffset" {
				content = "go test fuzz v1\nstring(" + strconv.Quote(offsets[i].first) + ")\nuint64(" + strconv.FormatUint(offsets[i].j, 10) + ")\n"
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
