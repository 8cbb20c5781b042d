package kinesis

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/sluicehq/sluice/wire/kinesis/internal/gen"
)

// TestWireGeneratedTypesUpToDate fails when types_gen.go differs from what
// the generator makes from the embedded model (run go generate).
func TestWireGeneratedTypesUpToDate(t *testing.T) {
	taken, err := gen.HandWritten(".")
	if err != nil {
		t.Fatal(err)
	}
	want, err := gen.Generate(modelJSON, taken)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("types_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("types_gen.go is stale: run go generate ./wire/kinesis")
	}
	for _, name := range []string{"Record", "HashKeyRange", "ChildShard", "PutRecordsResultEntry"} {
		if !taken[name] {
			t.Errorf("%s is not hand-written any more: the generated %s%s would be renamed", name, name, gen.Suffix)
		}
	}
}

func TestWireModelOperations(t *testing.T) {
	m := APIModel()
	if len(m.Operations) != 39 || m.TargetPrefix != "Kinesis_20131202" {
		t.Fatalf("%d operations, prefix %q", len(m.Operations), m.TargetPrefix)
	}
	for _, op := range m.OperationNames() {
		if NewInput(op) == nil {
			t.Errorf("%s: no input type", op)
		}
		if (m.Operations[op].Output == nil) != (NewOutput(op) == nil) {
			t.Errorf("%s: output type mismatch", op)
		}
	}
	if NewInput("Nope") != nil || NewOutput("CreateStream") != nil {
		t.Fatal("unexpected types")
	}
}

func TestWireEncodingOf(t *testing.T) {
	cases := map[string]Encoding{
		"application/x-amz-json-1.1":                EncodingJSON,
		"application/x-amz-json-1.1; charset=utf-8": EncodingJSON,
		"Application/X-Amz-Cbor-1.1":                EncodingCBOR,
		"application/json":                          EncodingJSON,
	}
	for ct, want := range cases {
		if got, ok := EncodingOf(ct); !ok || got != want {
			t.Errorf("%q: %v %v", ct, got, ok)
		}
	}
	if _, ok := EncodingOf("text/plain"); ok {
		t.Error("text/plain accepted")
	}
	if EncodingCBOR.ContentType() != ContentTypeCBOR || EncodingJSON.ContentType() != ContentTypeJSON {
		t.Error("content types")
	}
}

// fillRandom sets every field of v (pointers, slices and maps non-empty).
func fillRandom(v reflect.Value, r *rand.Rand, depth int) {
	const alphabet = "abcXYZ019 _-.\"\\/\n\té€😀"
	runes := []rune(alphabet)
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillRandom(v.Elem(), r, depth)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if depth > 6 && v.Field(i).Kind() != reflect.String {
				continue
			}
			fillRandom(v.Field(i), r, depth+1)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, 1+r.IntN(8))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			v.SetBytes(b)
			return
		}
		n := 1 + r.IntN(2)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fillRandom(s.Index(i), r, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 1+r.IntN(2); i++ {
			k := reflect.New(v.Type().Key()).Elem()
			fillRandom(k, r, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fillRandom(e, r, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		b := make([]rune, r.IntN(6))
		for i := range b {
			b[i] = runes[r.IntN(len(runes))]
		}
		v.SetString(string(b))
	case reflect.Int32:
		v.SetInt(int64(r.Int32()) - 1<<30)
	case reflect.Int64:
		if v.Type() == reflect.TypeFor[Timestamp]() {
			v.SetInt(r.Int64N(4e12) - 1e12)
			return
		}
		v.SetInt(r.Int64() - 1<<62)
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	}
}

// roundTripValues returns random values of every output type and of the
// SubscribeToShard event payload.
func roundTripValues(r *rand.Rand) []any {
	var out []any
	for _, op := range APIModel().OperationNames() {
		if op == "SubscribeToShard" {
			continue
		}
		if v := NewOutput(op); v != nil {
			fillRandom(reflect.ValueOf(v).Elem(), r, 0)
			out = append(out, v)
		}
	}
	ev := new(SubscribeToShardEvent)
	fillRandom(reflect.ValueOf(ev).Elem(), r, 0)
	return append(out, ev)
}

// TestWireOutputRoundTrip encodes random outputs with EncodeOutput and
// decodes them with independent decoders (encoding/json and fxamacker/cbor
// through the generated tags and Timestamp's methods).
func TestWireOutputRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		for _, v := range roundTripValues(r) {
			for _, enc := range []Encoding{EncodingJSON, EncodingCBOR} {
				b, err := EncodeOutput(enc, v)
				if err != nil {
					t.Fatal(err)
				}
				back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
				if enc == EncodingJSON {
					if !json.Valid(b) {
						t.Fatalf("%T: invalid JSON %s", v, b)
					}
					err = json.Unmarshal(b, back)
				} else {
					err = cbor.Unmarshal(b, back)
				}
				if err != nil {
					t.Fatalf("%T %s: %v\n%q", v, enc, err, b)
				}
				if !reflect.DeepEqual(v, back) {
					t.Fatalf("%T %s round trip:\n got %+v\nwant %+v", v, enc, back, v)
				}
			}
		}
	}
}

func TestWireEncodeOutputSpecialCases(t *testing.T) {
	if b, err := EncodeOutput(EncodingJSON, nil); err != nil || b != nil {
		t.Fatalf("nil output: %q %v", b, err)
	}
	if _, err := EncodeOutput(EncodingJSON, &SubscribeToShardOutput{}); err == nil {
		t.Fatal("SubscribeToShardOutput encoded")
	}
	if _, err := EncodeOutput(EncodingJSON, &PutRecordResponse{}); err == nil {
		t.Fatal("hand-written type encoded")
	}
	// Required lists are sent empty, optional members omitted.
	b, _ := EncodeOutput(EncodingJSON, &GetRecordsOutput{})
	if string(b) != `{"Records":[]}` {
		t.Fatalf("GetRecordsOutput{} = %s", b)
	}
	b, _ = EncodeOutput(EncodingJSON, &ListStreamsOutput{StreamNames: []string{"a"}, HasMoreStreams: true})
	if string(b) != `{"StreamNames":["a"],"HasMoreStreams":true}` {
		t.Fatalf("ListStreamsOutput = %s", b)
	}
	ts := Timestamp(1506440188749)
	b, _ = EncodeOutput(EncodingJSON, &ConsumerDescription{ConsumerName: "c", ConsumerCreationTimestamp: ts})
	if string(b) != `{"ConsumerName":"c","ConsumerARN":"","ConsumerStatus":"","ConsumerCreationTimestamp":1506440188.749,"StreamARN":""}` {
		t.Fatalf("ConsumerDescription = %s", b)
	}
	b, _ = EncodeOutput(EncodingCBOR, &DescribeLimitsOutput{ShardLimit: 1})
	want := []byte{0xa4, 0x6a, 'S', 'h', 'a', 'r', 'd', 'L', 'i', 'm', 'i', 't', 0x01}
	if !bytes.HasPrefix(b, want) {
		t.Fatalf("DescribeLimitsOutput CBOR = % x", b)
	}
}

// TestWireTimestamps checks both encodings, including the byte-exact
// sample of KINESIS_API.md 1.3.
func TestWireTimestamps(t *testing.T) {
	const ms = 0x000001a013accc38 // 1788888878136: 2026-09-08
	sample := []byte{0xc1, 0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38}
	if b, _ := Timestamp(ms).MarshalCBOR(); !bytes.Equal(b, sample) {
		t.Fatalf("MarshalCBOR = % x", b)
	}
	b, err := cbor.Marshal(struct{ T Timestamp }{ms})
	if err != nil || !bytes.Contains(b, sample) {
		t.Fatalf("cbor.Marshal = % x %v", b, err)
	}
	var ts Timestamp
	if err := ts.UnmarshalCBOR(sample); err != nil || ts != ms {
		t.Fatalf("UnmarshalCBOR = %d %v", ts, err)
	}
	lenient := map[string][]byte{
		"untagged int ms":     {0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38},
		"untagged int s":      {0x1a, 0x6a, 0xa0, 0x5d, 0x2e}, // 1788894510
		"tagged float s":      binary.BigEndian.AppendUint64([]byte{0xc1, 0xfb}, math.Float64bits(1788894510.136)),
		"untagged float32 s":  binary.BigEndian.AppendUint32([]byte{0xfa}, math.Float32bits(1788894510)),
		"half float 1.5 s":    {0xf9, 0x3e, 0x00},
		"tagged small int ms": {0xc1, 0x19, 0x03, 0xe8},
	}
	wants := map[string]int64{
		"untagged int ms": ms, "untagged int s": 1788894510000, "tagged float s": 1788894510136,
		"untagged float32 s": int64(float32(1788894510)) * 1000, "half float 1.5 s": 1500, "tagged small int ms": 1000,
	}
	for name, b := range lenient {
		var got Timestamp
		if err := got.UnmarshalCBOR(b); err != nil || int64(got) != wants[name] {
			t.Errorf("%s: %d %v, want %d", name, got, err, wants[name])
		}
	}
	// JSON.
	for in, want := range map[string]int64{
		"1506440188.749": 1506440188749, "1506440188": 1506440188000, "1506440188.7": 1506440188700,
		"1506440188.7495": 1506440188750, "1.506440188749E9": 1506440188749, "-1.5": -1500, "0.001": 1,
	} {
		var got Timestamp
		if err := json.Unmarshal([]byte(in), &got); err != nil || int64(got) != want {
			t.Errorf("UnmarshalJSON(%s) = %d %v, want %d", in, got, err, want)
		}
	}
	for ms, want := range map[int64]string{1506440188749: "1506440188.749", 1506440188000: "1506440188.000", 1e15: "1000000000000.000", -1: "-0.001"} {
		if b, _ := Timestamp(ms).MarshalJSON(); string(b) != want {
			t.Errorf("MarshalJSON(%d) = %s, want %s", ms, b, want)
		}
	}
	if TimestampOf(time.UnixMilli(42)).Time().UnixMilli() != 42 || Timestamp(7).Millis() != 7 {
		t.Error("time conversion")
	}
}

func TestWireAppendErrorCBOR(t *testing.T) {
	for _, e := range []*Error{ResourceNotFound("Stream s not found."), Serialization("bad"), UnknownOperation()} {
		b := AppendError(EncodingCBOR, nil, e)
		var m map[string]string
		if err := cbor.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		key := "message"
		if e.Code == CodeSerialization {
			key = "Message"
		}
		if m["__type"] != e.Code || m[key] != e.Message || (e.Message == "" && len(m) != 1) {
			t.Errorf("%v: %v", e, m)
		}
		if j := AppendError(EncodingJSON, nil, e); !bytes.Equal(j, AppendErrorJSON(nil, e)) {
			t.Errorf("JSON body %s", j)
		}
	}
}

// TestWireHotCBORResponses decodes the hand-written CBOR responses with
// fxamacker into the generated output types.
func TestWireHotCBORResponses(t *testing.T) {
	gr := &GetRecordsResponse{
		Records: []Record{{SequenceNumber: "1", ApproximateArrivalTimestampMillis: 0x1a013accc38, Data: []byte{0, 1, 2}, PartitionKey: "k"},
			{SequenceNumber: "2", ApproximateArrivalTimestampMillis: 5, Data: []byte{}, PartitionKey: "p", EncryptionType: "KMS"}},
		MillisBehindLatest: 7,
		ChildShards:        []ChildShard{{ShardID: "shardId-1", ParentShards: []string{"shardId-0"}, HashKeyRange: HashKeyRange{"0", "9"}}},
	}
	b := AppendGetRecordsResponseCBOR(nil, gr)
	if !bytes.Contains(b, []byte{0xc1, 0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38}) || !bytes.Contains(b, []byte{0x43, 0, 1, 2}) {
		t.Fatalf("timestamp or byte string missing: % x", b)
	}
	var out GetRecordsOutput
	if err := cbor.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 2 || string(out.Records[0].Data) != "\x00\x01\x02" || *out.Records[0].ApproximateArrivalTimestamp != 0x1a013accc38 ||
		*out.Records[1].EncryptionType != "KMS" || *out.MillisBehindLatest != 7 || out.NextShardIterator != nil ||
		out.ChildShards[0].HashKeyRange.EndingHashKey != "9" || out.ChildShards[0].ParentShards[0] != "shardId-0" {
		t.Fatalf("GetRecords %+v", out)
	}
	b = AppendPutRecordsResponseCBOR(nil, &PutRecordsResponse{FailedRecordCount: 1, EncryptionType: "NONE",
		Records: []PutRecordsResultEntry{{ShardID: "s", SequenceNumber: "1"}, {ErrorCode: "InternalFailure", ErrorMessage: "x"}}})
	var prs PutRecordsOutput
	if err := cbor.Unmarshal(b, &prs); err != nil {
		t.Fatal(err)
	}
	if *prs.FailedRecordCount != 1 || *prs.Records[0].ShardId != "s" || *prs.Records[1].ErrorCode != "InternalFailure" || prs.Records[1].ShardId != nil || *prs.EncryptionType != "NONE" {
		t.Fatalf("PutRecords %+v", prs)
	}
	var pr PutRecordOutput
	if err := cbor.Unmarshal(AppendPutRecordResponseCBOR(nil, &PutRecordResponse{ShardID: "s", SequenceNumber: "9"}), &pr); err != nil ||
		pr.ShardId != "s" || pr.SequenceNumber != "9" || pr.EncryptionType != nil {
		t.Fatalf("PutRecord %+v %v", pr, err)
	}
	var gsi GetShardIteratorOutput
	if err := cbor.Unmarshal(AppendGetShardIteratorResponseCBOR(nil, &GetShardIteratorResponse{ShardIterator: "it"}), &gsi); err != nil || *gsi.ShardIterator != "it" {
		t.Fatalf("GetShardIterator %+v %v", gsi, err)
	}
}

// TestWireHotCBORRequests decodes CBOR requests made by fxamacker from the
// generated input types, with indefinite lengths too.
func TestWireHotCBORRequests(t *testing.T) {
	name := "s1"
	in := PutRecordsInput{StreamName: &name, Records: []PutRecordsRequestEntry{{Data: []byte{1, 2}, PartitionKey: "a"}, {Data: []byte{}, PartitionKey: "b"}}}
	b, err := cbor.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var req PutRecordsRequest
	if err := DecodePutRecordsCBOR(b, &req); err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	if req.StreamName != "s1" || len(req.Records) != 2 || string(req.Records[0].Data) != "\x01\x02" || req.Records[1].Data == nil || req.Records[1].PartitionKey != "b" {
		t.Fatalf("%+v", req.Records)
	}
	// Indefinite-length map, text and byte strings; Data as base64 text.
	indef := []byte{0xbf,
		0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x7f, 0x61, 's', 0x61, '2', 0xff,
		0x64, 'D', 'a', 't', 'a', 0x5f, 0x41, 0x01, 0x41, 0x02, 0xff,
		0x6c, 'P', 'a', 'r', 't', 'i', 't', 'i', 'o', 'n', 'K', 'e', 'y', 0x61, 'k',
		0xff}
	var pr PutRecordRequest
	if err := DecodePutRecordCBOR(indef, &pr); err != nil || pr.StreamName != "s2" || string(pr.Data) != "\x01\x02" || pr.PartitionKey != "k" {
		t.Fatalf("%+v %v", &pr, err)
	}
	b64 := []byte{0xa2, 0x64, 'D', 'a', 't', 'a', 0x64, 'A', 'Q', 'I', '=', 0x6c, 'P', 'a', 'r', 't', 'i', 't', 'i', 'o', 'n', 'K', 'e', 'y', 0x61, 'k'}
	if err := DecodePutRecordCBOR(b64, &pr); err != nil || string(pr.Data) != "\x01\x02" {
		t.Fatalf("base64 text Data: %q %v", pr.Data, err)
	}
	ts := Timestamp(0x1a013accc38)
	gsiIn := GetShardIteratorInput{StreamName: &name, ShardId: "shardId-000000000000", ShardIteratorType: "AT_TIMESTAMP", Timestamp: &ts}
	b, _ = cbor.Marshal(gsiIn)
	var gsi GetShardIteratorRequest
	if err := DecodeGetShardIteratorCBOR(b, &gsi); err != nil || !gsi.HasTimestamp || gsi.TimestampMillis != 0x1a013accc38 || gsi.ShardID != "shardId-000000000000" {
		t.Fatalf("%+v %v", &gsi, err)
	}
	if err := gsi.Validate(); err != nil {
		t.Fatal(err)
	}
	limit := int32(5)
	b, _ = cbor.Marshal(GetRecordsInput{ShardIterator: "it", Limit: &limit})
	var gr GetRecordsRequest
	if err := DecodeGetRecordsCBOR(b, &gr); err != nil || gr.EffectiveLimit() != 5 || gr.ShardIterator != "it" {
		t.Fatalf("%+v %v", &gr, err)
	}
	// Type errors use the JSON path's texts.
	bad, _ := cbor.Marshal(map[string]any{"ShardIterator": 1})
	wantError(t, DecodeGetRecordsCBOR(bad, &gr), CodeSerialization, "class java.math.BigDecimal can not be converted to an String")
	bad, _ = cbor.Marshal(map[string]any{"ShardIterator": "x", "Limit": "5"})
	wantError(t, DecodeGetRecordsCBOR(bad, &gr), CodeSerialization, "class java.lang.String can not be converted to an Integer")
	wantError(t, DecodeGetRecordsCBOR([]byte{0xa1}, &gr), CodeSerialization, "")
	wantError(t, DecodeGetRecordsCBOR([]byte{0x80}, &gr), CodeSerialization, "Start of list found where not expected")
}

func BenchmarkDecodeInputCreateStream(b *testing.B) {
	body := []byte(`{"StreamName":"stream-1","ShardCount":4,"StreamModeDetails":{"StreamMode":"PROVISIONED"}}`)
	var in CreateStreamInput
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := DecodeInput("CreateStream", EncodingJSON, body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	cb, _ := cbor.Marshal(in)
	b.Run("cbor", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(cb)))
		for b.Loop() {
			if err := DecodeInput("CreateStream", EncodingCBOR, cb, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestWireDecodeInputEdges covers null, unknown members, indefinite CBOR
// lengths and malformed CBOR.
func TestWireDecodeInputEdges(t *testing.T) {
	var in ListShardsInput
	if err := DecodeInput("ListShards", EncodingJSON, []byte(`{"StreamName":null,"MaxResults":null,"Foo":[{"x":1}],"ShardFilter":{"Type":"AT_LATEST","ShardId":null}}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.StreamName != nil || in.MaxResults != nil || in.ShardFilter == nil || in.ShardFilter.Type != "AT_LATEST" || in.ShardFilter.ShardId != nil {
		t.Fatalf("%+v", in)
	}
	// Indefinite map and array, a tagged key, an unknown member with a
	// nested value, undefined as null.
	body := []byte{0xbf,
		0x67, 'T', 'a', 'g', 'K', 'e', 'y', 's', 0x9f, 0x61, 'a', 0x7f, 0x61, 'b', 0xff, 0xff,
		0xd8, 0x20, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 's',
		0x63, 'F', 'o', 'o', 0xa1, 0x61, 'x', 0x80,
		0x69, 'S', 't', 'r', 'e', 'a', 'm', 'A', 'R', 'N', 0xf7,
		0xff}
	var rt RemoveTagsFromStreamInput
	if err := DecodeInput("RemoveTagsFromStream", EncodingCBOR, body, &rt); err != nil {
		t.Fatal(err)
	}
	if *rt.StreamName != "s" || len(rt.TagKeys) != 2 || rt.TagKeys[1] != "b" || rt.StreamARN != nil {
		t.Fatalf("%+v", rt)
	}
	for name, b := range map[string][]byte{
		"truncated":     {0xa1, 0x61},
		"int key":       {0xa1, 0x01, 0x02},
		"trailing":      {0xa0, 0xa0},
		"reserved ai":   {0xbc},
		"bad chunk":     {0x7f, 0x41, 0x00, 0xff},
		"huge array":    {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"lone break":    {0xff},
		"simple value":  {0xf8, 0x20},
		"deep nesting":  bytes.Repeat([]byte{0x81}, 100),
		"empty":         {},
		"top-level int": {0x01},
	} {
		err := DecodeInput("RemoveTagsFromStream", EncodingCBOR, b, new(RemoveTagsFromStreamInput))
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeSerialization || e.Status != 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A list given where a structure is expected, in CBOR.
	b, _ := cbor.Marshal(map[string]any{"StreamModeDetails": []any{}})
	wantError(t, DecodeInput("CreateStream", EncodingCBOR, b, new(CreateStreamInput)), CodeSerialization, "Start of list found where not expected")
	// A CBOR byte string where a string is expected.
	b, _ = cbor.Marshal(map[string]any{"StreamName": []byte("s")})
	wantError(t, DecodeInput("CreateStream", EncodingCBOR, b, new(CreateStreamInput)), CodeSerialization, "class [B can not be converted to an String")
	// A JSON blob must be base64 text, never a number.
	wantError(t, DecodeInput("PutRecord", EncodingJSON, []byte(`{"Data":1}`), new(PutRecordInput)), CodeSerialization, "class java.math.BigDecimal can not be converted to a Blob")
}
