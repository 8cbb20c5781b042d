package kinesis

import (
	"errors"
	"strings"
	"testing"
)

// hotDecoders runs a body through the hand-written decoders and Validate.
// PutRecord(s) use ValidateMaxDataSize with the model's Data maximum
// (10485760): Validate's default cap is the stream default of 1 MiB, which
// is deliberately below the model.
var hotDecoders = map[string]struct {
	json, cbor func([]byte) error
}{
	"PutRecords": {
		json: func(b []byte) error {
			var r PutRecordsRequest
			if err := DecodePutRecords(b, &r); err != nil {
				return err
			}
			return r.ValidateMaxDataSize(10485760)
		},
		cbor: func(b []byte) error {
			var r PutRecordsRequest
			if err := DecodePutRecordsCBOR(b, &r); err != nil {
				return err
			}
			return r.ValidateMaxDataSize(10485760)
		},
	},
	"PutRecord": {
		json: func(b []byte) error {
			var r PutRecordRequest
			if err := DecodePutRecord(b, &r); err != nil {
				return err
			}
			return r.ValidateMaxDataSize(10485760)
		},
		cbor: func(b []byte) error {
			var r PutRecordRequest
			if err := DecodePutRecordCBOR(b, &r); err != nil {
				return err
			}
			return r.ValidateMaxDataSize(10485760)
		},
	},
	"GetShardIterator": {
		json: func(b []byte) error {
			var r GetShardIteratorRequest
			if err := DecodeGetShardIterator(b, &r); err != nil {
				return err
			}
			return r.Validate()
		},
		cbor: func(b []byte) error {
			var r GetShardIteratorRequest
			if err := DecodeGetShardIteratorCBOR(b, &r); err != nil {
				return err
			}
			return r.Validate()
		},
	},
	"GetRecords": {
		json: func(b []byte) error {
			var r GetRecordsRequest
			if err := DecodeGetRecords(b, &r); err != nil {
				return err
			}
			return r.Validate()
		},
		cbor: func(b []byte) error {
			var r GetRecordsRequest
			if err := DecodeGetRecordsCBOR(b, &r); err != nil {
				return err
			}
			return r.Validate()
		},
	},
}

// hotKnownGaps lists model constraints the hand-written validation does
// not check, by "Op path": StreamId is "not implemented, reserved" in the
// model and ignored by the hot decoders (KINESIS_API.md 1.7).
var hotKnownGaps = map[string]bool{
	"PutRecords streamId":       true,
	"PutRecord streamId":        true,
	"GetShardIterator streamId": true,
	"GetRecords streamId":       true,
}

// TestWireHotPathAgreesWithModel runs the model cases of the four hot
// operations through the hand-written JSON decoders + Validate and the CBOR
// decoders + Validate.
func TestWireHotPathAgreesWithModel(t *testing.T) {
	n := 0
	for _, c := range allConstraintCases(t) {
		hot, ok := hotDecoders[c.Op]
		if !ok {
			continue
		}
		if hotKnownGaps[c.Op+" "+c.Path] {
			continue
		}
		body := map[string]any{}
		for k, v := range c.Body {
			body[k] = v
		}
		// The hand-written Validate also needs a stream (InvalidArgument
		// otherwise), which the model does not require.
		if _, ok := body["StreamARN"]; !ok && c.Op != "GetRecords" {
			if _, ok := body["StreamName"]; !ok {
				body["StreamName"] = "s"
			}
		}
		for _, enc := range []Encoding{EncodingJSON, EncodingCBOR} {
			dec := hot.json
			if enc == EncodingCBOR {
				dec = hot.cbor
			}
			err := dec(encodeBody(t, enc, body))
			if e := checkValidation(err, c.Message); e != nil {
				t.Errorf("%s %s %s (%s hot path): %v", c.Op, c.Path, c.Constraint, enc, e)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no hot-path case ran")
	}
}

// TestWireGoldenMessages pins messages written by hand from KINESIS_API.md
// 1.4 and kinesalite's captured AWS texts.
func TestWireGoldenMessages(t *testing.T) {
	const one = "1 validation error detected: "
	cases := []struct {
		op, body, code, msg string
	}{
		{"DescribeStreamSummary", `{"StreamName":"x y"}`, CodeValidation,
			one + "Value 'x y' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"PutRecords", `{"StreamName":"s","Records":[{"Data":"","PartitionKey":""}]}`, CodeValidation,
			one + "Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"a"}]}`, CodeValidation,
			one + "Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null"},
		{"GetRecords", `{"ShardIterator":"x","Limit":10001}`, CodeValidation,
			one + "Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"CreateStream", `{"StreamName":"` + strings.Repeat("a", 129) + `"}`, CodeValidation,
			one + "Value '" + strings.Repeat("a", 129) + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"GetShardIterator", `{"StreamName":"s","ShardId":"a","ShardIteratorType":"X"}`, CodeValidation,
			one + "Value 'X' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"},
		{"CreateStream", `{"StreamName":"","ShardCount":-1}`, CodeValidation,
			"3 validation errors detected: " +
				"Value '-1' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"RemoveTagsFromStream", `{"StreamName":"s","TagKeys":["` + strings.Repeat("k", 129) + `"]}`, CodeValidation,
			one + "Value '[" + strings.Repeat("k", 129) + "]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128]"},
		{"AddTagsToStream", `{"StreamName":"s","Tags":{"":"v"}}`, CodeValidation,
			one + "Value '{=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length greater than or equal to 1]"},
		// SerializationException texts (kinesalite).
		{"CreateStream", `{"StreamName":"s","ShardCount":"1"}`, CodeSerialization, "class java.lang.String can not be converted to an Integer"},
		{"CreateStream", `{"StreamName":true}`, CodeSerialization, "class java.lang.Boolean can not be converted to an String"},
		{"CreateStream", `{"StreamName":1}`, CodeSerialization, "class java.math.BigDecimal can not be converted to an String"},
		{"CreateStream", `{"StreamName":[]}`, CodeSerialization, "Start of list found where not expected"},
		{"CreateStream", `{"StreamName":{}}`, CodeSerialization, "Start of structure or map found where not expected."},
		{"CreateStream", `{"StreamModeDetails":"x"}`, CodeSerialization, "Expected null"},
		{"AddTagsToStream", `{"Tags":1}`, CodeSerialization, "Expected map or null"},
		{"RemoveTagsFromStream", `{"TagKeys":1}`, CodeSerialization, "Expected list or null"},
		{"PutRecord", `{"Data":"abc"}`, CodeSerialization, "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
		{"PutRecord", `{"Data":"ab!="}`, CodeSerialization, "'ab!=' can not be converted to a Blob: Invalid Base64 character: '!'"},
		{"CreateStream", `{"ShardCount":2147483648}`, CodeSerialization, "class java.lang.Long can not be converted to an Integer"},
		{"CreateStream", `[]`, CodeSerialization, "Start of list found where not expected"},
		{"CreateStream", `{`, CodeSerialization, ""},
		{"Nope", `{}`, CodeUnknownOperation, ""},
	}
	for _, c := range cases {
		err := DecodeInput(c.op, EncodingJSON, []byte(c.body), NewInput(c.op))
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code || e.Message != c.msg || e.Status != 400 {
			t.Errorf("%s %s:\n got %v\nwant %s %q", c.op, c.body, err, c.code, c.msg)
		}
	}
}

// TestWireDecodeInputFills checks the values DecodeInput stores.
func TestWireDecodeInputFills(t *testing.T) {
	body := `{"StreamName":"s1","ShardCount":2.7,"StreamModeDetails":{"StreamMode":"ON_DEMAND"},"Tags":{"a":"b"},"MaxRecordSizeInKiB":null,"X":{"y":[1]}}`
	var in CreateStreamInput
	if err := DecodeInput("CreateStream", EncodingJSON, []byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in.StreamName != "s1" || in.ShardCount == nil || *in.ShardCount != 2 || in.StreamModeDetails == nil ||
		in.StreamModeDetails.StreamMode != "ON_DEMAND" || in.Tags["a"] != "b" || in.MaxRecordSizeInKiB != nil {
		t.Fatalf("decoded %+v", in)
	}
	var gi GetShardIteratorInput
	if err := DecodeInput("GetShardIterator", EncodingJSON,
		[]byte(`{"ShardId":"a","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1506440188.749}`), &gi); err != nil {
		t.Fatal(err)
	}
	if gi.Timestamp == nil || *gi.Timestamp != 1506440188749 {
		t.Fatalf("timestamp %v", gi.Timestamp)
	}
	// CBOR: tag 1 + integer ms, Data as byte string.
	cb := []byte{0xa3, 0x6c, 'P', 'a', 'r', 't', 'i', 't', 'i', 'o', 'n', 'K', 'e', 'y', 0x61, 'k',
		0x64, 'D', 'a', 't', 'a', 0x42, 0x00, 0xff,
		0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 's'}
	var pr PutRecordInput
	if err := DecodeInput("PutRecord", EncodingCBOR, cb, &pr); err != nil {
		t.Fatal(err)
	}
	if string(pr.Data) != "\x00\xff" || pr.PartitionKey != "k" || *pr.StreamName != "s" {
		t.Fatalf("decoded %+v", pr)
	}
	// Wrong dst type.
	if err := DecodeInput("PutRecord", EncodingJSON, []byte(`{}`), &in); err == nil {
		t.Fatal("no error for a wrong dst")
	}
}

// TestWireHotPathOrderAgrees checks that bodies with several violations
// give the same message (same order) on the model-driven and the
// hand-written paths.
func TestWireHotPathOrderAgrees(t *testing.T) {
	bodies := map[string][]string{
		"PutRecords": {
			`{"StreamName":"a b","Records":[{"ExplicitHashKey":"x"},{"Data":"","PartitionKey":""}]}`,
			`{"StreamARN":"x","StreamName":"","Records":[]}`,
		},
		"PutRecord": {
			`{"StreamName":"a b","ExplicitHashKey":"x","SequenceNumberForOrdering":"y","StreamARN":"z"}`,
		},
		"GetShardIterator": {
			`{"StreamName":"","ShardId":"","ShardIteratorType":"abc","StartingSequenceNumber":"abc","StreamARN":"q"}`,
		},
		"GetRecords": {
			`{"Limit":0,"StreamARN":"x"}`,
		},
	}
	for op, list := range bodies {
		for _, b := range list {
			model := DecodeInput(op, EncodingJSON, []byte(b), NewInput(op))
			hot := hotDecoders[op].json([]byte(b))
			if model == nil || hot == nil || model.Error() != hot.Error() {
				t.Errorf("%s %s:\nmodel %v\n  hot %v", op, b, model, hot)
			}
		}
	}
}

// TestWireHotPathTypeErrorsAgree compares SerializationException texts of
// the hand-written JSON decoders, the CBOR ones and DecodeInput for bodies
// with one type error.
func TestWireHotPathTypeErrorsAgree(t *testing.T) {
	bodies := map[string][]string{
		"PutRecords": {`{"StreamName":1}`, `{"StreamARN":true}`, `{"Records":1}`, `{"Records":{}}`, `{"Records":[1]}`,
			`{"Records":[[]]}`, `{"Records":[{"Data":1}]}`, `{"Records":[{"Data":"abc"}]}`, `{"Records":[{"Data":"ab=c"}]}`,
			`{"Records":[{"PartitionKey":{}}]}`, `{"Records":[{"ExplicitHashKey":[]}]}`, `[]`, `1`, `{`},
		"PutRecord":        {`{"Data":true}`, `{"Data":"AB=="}`, `{"Data":"AB"}`, `{"PartitionKey":1}`, `{"SequenceNumberForOrdering":[]}`},
		"GetShardIterator": {`{"ShardId":1}`, `{"Timestamp":"x"}`, `{"Timestamp":true}`, `{"Timestamp":[]}`, `{"ShardIteratorType":{}}`},
		"GetRecords":       {`{"Limit":"1"}`, `{"Limit":true}`, `{"Limit":2147483648}`, `{"Limit":-2147483649}`, `{"ShardIterator":1}`},
	}
	for op, list := range bodies {
		for _, b := range list {
			model := DecodeInput(op, EncodingJSON, []byte(b), NewInput(op))
			hot := hotDecoders[op].json([]byte(b))
			var me, he *Error
			if !errors.As(model, &me) || !errors.As(hot, &he) || me.Code != CodeSerialization || *me != *he {
				t.Errorf("%s %s:\nmodel %v\n  hot %v", op, b, model, hot)
			}
		}
	}
}

// TestWireDuplicateMembers: the first occurrence of a member wins, even a
// null one, on every path.
func TestWireDuplicateMembers(t *testing.T) {
	const null = "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null"
	jsonBody := []byte(`{"ShardIterator":null,"ShardIterator":"x"}`)
	cborBody := []byte{0xa2, 0x6d, 'S', 'h', 'a', 'r', 'd', 'I', 't', 'e', 'r', 'a', 't', 'o', 'r', 0xf6,
		0x6d, 'S', 'h', 'a', 'r', 'd', 'I', 't', 'e', 'r', 'a', 't', 'o', 'r', 0x61, 'x'}
	for name, err := range map[string]error{
		"model json": DecodeInput("GetRecords", EncodingJSON, jsonBody, new(GetRecordsInput)),
		"model cbor": DecodeInput("GetRecords", EncodingCBOR, cborBody, new(GetRecordsInput)),
		"hot json":   hotDecoders["GetRecords"].json(jsonBody),
		"hot cbor":   hotDecoders["GetRecords"].cbor(cborBody),
	} {
		if e := checkValidation(err, null); e != nil {
			t.Errorf("%s: %v", name, e)
		}
	}
	var gr GetRecordsRequest
	cborBody[15] = 0x61 // "ShardIterator":"x" ... then a second one
	cborBody = append(cborBody[:16], append([]byte{'a'}, cborBody[16:]...)...)
	if err := DecodeGetRecordsCBOR(cborBody, &gr); err != nil || gr.ShardIterator != "a" {
		t.Fatalf("%q %v", gr.ShardIterator, err)
	}
	var in GetRecordsInput
	if err := DecodeInput("GetRecords", EncodingCBOR, cborBody, &in); err != nil || in.ShardIterator != "a" {
		t.Fatalf("%q %v", in.ShardIterator, err)
	}
}
