package kinesis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzOps is the sorted operation list; the first fuzz byte picks one.
var fuzzOps = APIModel().OperationNames()

// checkInputError fails unless err is nil or a 400 *Error with one of the
// codes DecodeInput may return, and its bodies encode in both encodings.
func checkInputError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || (e.Code != CodeSerialization && e.Code != CodeValidation) {
		t.Fatalf("unexpected error %v", err)
	}
	if len(AppendError(EncodingJSON, nil, e)) == 0 || len(AppendError(EncodingCBOR, nil, e)) == 0 {
		t.Fatal("empty error body")
	}
}

func FuzzDecodeInputJSON(f *testing.F) {
	// More seeds: testdata/fuzz/FuzzDecodeInputJSON (TestWriteFuzzSeeds).
	f.Add(append([]byte{byte(indexOf("PutRecords"))}, `{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}]}`...))
	f.Add(append([]byte{byte(indexOf("CreateStream"))}, `{"StreamName":"s","Tags":{"a":"b"},"StreamModeDetails":{"StreamMode":"ON_DEMAND"}}`...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		op := fuzzOps[int(data[0])%len(fuzzOps)]
		dst := NewInput(op)
		err := DecodeInput(op, EncodingJSON, data[1:], dst)
		checkInputError(t, err)
		if err == nil {
			if _, err := EncodeOutput(EncodingJSON, dst); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzDecodeInputCBOR also checks that an accepted input re-encodes (with
// EncodeOutput, which takes any generated shape) to a body that decodes to
// the same value.
func FuzzDecodeInputCBOR(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzDecodeInputCBOR (TestWriteFuzzSeeds).
	f.Add(append([]byte{byte(indexOf("GetRecords"))}, 0xa2, 0x6d, 'S', 'h', 'a', 'r', 'd', 'I', 't', 'e', 'r', 'a', 't', 'o', 'r', 0x61, 'x', 0x65, 'L', 'i', 'm', 'i', 't', 0x05))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		op := fuzzOps[int(data[0])%len(fuzzOps)]
		dst := NewInput(op)
		err := DecodeInput(op, EncodingCBOR, data[1:], dst)
		checkInputError(t, err)
		if err != nil {
			return
		}
		body, err := EncodeOutput(EncodingCBOR, dst)
		if err != nil {
			t.Fatal(err)
		}
		again := NewInput(op)
		if err := DecodeInput(op, EncodingCBOR, body, again); err != nil {
			t.Fatalf("re-encoded input rejected: %v\n% x", err, body)
		}
		if !reflect.DeepEqual(dst, again) {
			t.Fatalf("round trip:\n%+v\n%+v", dst, again)
		}
	})
}

// FuzzDecodePutRecordsCBOR checks the hot CBOR decoder: no panic, the same
// error codes as the JSON path, and when both it and DecodeInput accept a
// body, the same records.
func FuzzDecodePutRecordsCBOR(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzDecodePutRecordsCBOR (TestWriteFuzzSeeds).
	f.Add([]byte{0xa1, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x9f, 0xbf, 0x64, 'D', 'a', 't', 'a', 0x40, 0xff, 0xff})
	var req PutRecordsRequest
	f.Fuzz(func(t *testing.T, body []byte) {
		err := DecodePutRecordsCBOR(body, &req)
		checkCodes(t, err, req.Validate)
		var in PutRecordsInput
		modelErr := DecodeInput("PutRecords", EncodingCBOR, body, &in)
		if (err == nil) != (modelErr == nil || modelErr.(*Error).Code == CodeValidation) {
			t.Fatalf("hot %v, model %v", err, modelErr)
		}
		if err != nil && *err.(*Error) != *modelErr.(*Error) {
			t.Fatalf("hot %v, model %v", err, modelErr)
		}
		if err != nil || modelErr != nil {
			return
		}
		if len(in.Records) != len(req.Records) {
			t.Fatalf("%d records, model %d", len(req.Records), len(in.Records))
		}
		for i, r := range in.Records {
			h := &req.Records[i]
			ehk := ""
			if r.ExplicitHashKey != nil {
				ehk = *r.ExplicitHashKey
			}
			if h.PartitionKey != r.PartitionKey || !bytes.Equal(h.Data, r.Data) || h.ExplicitHashKey != ehk {
				t.Fatalf("record %d: hot %+v, model %+v", i, h, r)
			}
		}
	})
}

func indexOf(op string) int {
	for i, o := range fuzzOps {
		if o == op {
			return i
		}
	}
	panic(op)
}

// fuzzSeeds returns one body per constraint case (op byte + body) and the
// minimal valid input of every operation.
func fuzzSeeds(tb testing.TB, enc Encoding) [][]byte {
	m := loadTestModel(tb)
	var out [][]byte
	opIndex := map[string]byte{}
	for i, op := range fuzzOps {
		opIndex[op] = byte(i)
	}
	for op := range m.Operations {
		body := encodeBody(tb, enc, m.ValidInput(op))
		out = append(out, append([]byte{opIndex[op]}, body...))
	}
	for i, c := range allConstraintCases(tb) {
		if i%4 != 0 {
			continue
		}
		body := encodeBody(tb, enc, c.Body)
		if len(body) > 4096 {
			continue
		}
		out = append(out, append([]byte{opIndex[c.Op]}, body...))
	}
	return out
}

// TestWriteFuzzSeeds writes the seeds above as corpus files under
// testdata/fuzz when SLUICE_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SLUICE_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set SLUICE_WRITE_FUZZ_SEEDS=1 to rewrite the seed corpora")
	}
	write := func(target string, seeds [][]byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			sum := sha256.Sum256(s)
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:8])), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("FuzzDecodeInputJSON", fuzzSeeds(t, EncodingJSON))
	cb := fuzzSeeds(t, EncodingCBOR)
	write("FuzzDecodeInputCBOR", cb)
	var pr [][]byte
	for _, s := range cb {
		if fuzzOps[int(s[0])%len(fuzzOps)] == "PutRecords" {
			pr = append(pr, s[1:])
		}
	}
	write("FuzzDecodePutRecordsCBOR", pr)
	m := loadTestModel(t)
	var hot [][]byte
	for i, op := range []string{"PutRecord", "GetShardIterator", "GetRecords"} {
		hot = append(hot, append([]byte{byte(i)}, encodeBody(t, EncodingCBOR, m.ValidInput(op))...))
		for _, c := range allConstraintCases(t) {
			if c.Op != op {
				continue
			}
			if body := encodeBody(t, EncodingCBOR, c.Body); len(body) <= 4096 {
				hot = append(hot, append([]byte{byte(i)}, body...))
			}
		}
	}
	write("FuzzDecodeHotCBOR", hot)
}

// hotFields returns the decoded fields of a hot request and of the
// matching generated input, for comparison.
func hotFields(op string, hot any, in any) (a, b string) {
	p := func(s *string) string {
		if s == nil {
			return "<nil>"
		}
		return *s
	}
	nz := func(s string, present bool) string {
		if !present {
			return "<nil>"
		}
		return s
	}
	switch op {
	case "PutRecord":
		h, m := hot.(*PutRecordRequest), in.(*PutRecordInput)
		return fmt.Sprintf("%s|%s|%q|%s|%s|%s", nz(h.StreamName, h.present&hasStreamName != 0), nz(h.StreamARN, h.present&hasStreamARN != 0), h.Data, h.PartitionKey, nz(h.ExplicitHashKey, h.present&hasExplicitHashKey != 0), h.SequenceNumberForOrdering),
			fmt.Sprintf("%s|%s|%q|%s|%s|%s", p(m.StreamName), p(m.StreamARN), m.Data, m.PartitionKey, p(m.ExplicitHashKey), strings.TrimPrefix(p(m.SequenceNumberForOrdering), "<nil>"))
	case "GetShardIterator":
		h, m := hot.(*GetShardIteratorRequest), in.(*GetShardIteratorInput)
		ts := "<nil>"
		if m.Timestamp != nil {
			ts = fmt.Sprint(int64(*m.Timestamp))
		}
		hts := "<nil>"
		if h.HasTimestamp {
			hts = fmt.Sprint(h.TimestampMillis)
		}
		return fmt.Sprintf("%s|%s|%s|%s|%s|%s", nz(h.StreamName, h.present&hasStreamName != 0), nz(h.StreamARN, h.present&hasStreamARN != 0), h.ShardID, h.ShardIteratorType, h.StartingSequenceNumber, hts),
			fmt.Sprintf("%s|%s|%s|%s|%s|%s", p(m.StreamName), p(m.StreamARN), m.ShardId, m.ShardIteratorType, strings.TrimPrefix(p(m.StartingSequenceNumber), "<nil>"), ts)
	case "GetRecords":
		h, m := hot.(*GetRecordsRequest), in.(*GetRecordsInput)
		lim := "<nil>"
		if m.Limit != nil {
			lim = fmt.Sprint(*m.Limit)
		}
		hl := "<nil>"
		if h.present&hasLimit != 0 {
			hl = fmt.Sprint(h.Limit)
		}
		return fmt.Sprintf("%s|%s|%s", h.ShardIterator, hl, nz(h.StreamARN, h.present&hasStreamARN != 0)),
			fmt.Sprintf("%s|%s|%s", m.ShardIterator, lim, p(m.StreamARN))
	}
	return "", ""
}

// FuzzDecodeHotCBOR checks the streaming CBOR decoders of PutRecord,
// GetShardIterator and GetRecords against DecodeInput: identical
// SerializationExceptions, and the same values when both accept.
func FuzzDecodeHotCBOR(f *testing.F) {
	f.Add([]byte{2, 0xa2, 0x6d, 'S', 'h', 'a', 'r', 'd', 'I', 't', 'e', 'r', 'a', 't', 'o', 'r', 0x61, 'x', 0x65, 'L', 'i', 'm', 'i', 't', 0xf9, 0x3e, 0x00})
	ops := []string{"PutRecord", "GetShardIterator", "GetRecords"}
	var pr PutRecordRequest
	var gsi GetShardIteratorRequest
	var gr GetRecordsRequest
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		op := ops[int(data[0])%len(ops)]
		body := data[1:]
		var err error
		var hot any
		switch op {
		case "PutRecord":
			err, hot = DecodePutRecordCBOR(body, &pr), &pr
		case "GetShardIterator":
			err, hot = DecodeGetShardIteratorCBOR(body, &gsi), &gsi
		default:
			err, hot = DecodeGetRecordsCBOR(body, &gr), &gr
		}
		in := NewInput(op)
		modelErr := DecodeInput(op, EncodingCBOR, body, in)
		var me *Error
		if modelErr != nil {
			me = modelErr.(*Error)
		}
		if err != nil {
			if me == nil || *err.(*Error) != *me {
				t.Fatalf("%s: hot %v, model %v", op, err, modelErr)
			}
			return
		}
		if me != nil {
			if me.Code != CodeValidation {
				t.Fatalf("%s: hot ok, model %v", op, modelErr)
			}
			return
		}
		if a, b := hotFields(op, hot, in); a != b {
			t.Fatalf("%s:\n hot %s\nmodel %s", op, a, b)
		}
	})
}
