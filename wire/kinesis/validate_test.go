package kinesis

import (
	"strings"
	"testing"
)

func TestWireValidatePutRecords(t *testing.T) {
	f := func(body, code, message string) {
		t.Helper()
		var req PutRecordsRequest
		if err := DecodePutRecords([]byte(body), &req); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		err := req.Validate()
		if code == "" {
			if err != nil {
				t.Fatalf("%s: unexpected %v", body, err)
			}
			return
		}
		wantError(t, err, code, message)
	}
	const one = "1 validation error detected: "
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"a"}]}`, "", "")
	f(`{"StreamName":"s"}`, CodeValidation, one+"Value null at 'records' failed to satisfy constraint: Member must not be null")
	f(`{"StreamName":"s","Records":null}`, CodeValidation, one+"Value null at 'records' failed to satisfy constraint: Member must not be null")
	f(`{"StreamName":"s","Records":[]}`, CodeValidation, one+"Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1")
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":""}]}`, CodeValidation,
		one+"Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1")
	long := strings.Repeat("k", 257)
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"a"},{"Data":"","PartitionKey":"`+long+`"}]}`, CodeValidation,
		one+"Value '"+long+"' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256")
	// 256 characters of 2 UTF-8 bytes each are fine (length counts characters).
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"`+strings.Repeat("\u00e9", 256)+`"}]}`, "", "")
	f(`{"StreamName":"s","Records":[{"PartitionKey":"a"}]}`, CodeValidation,
		one+"Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null")
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"a","ExplicitHashKey":"01"}]}`, CodeValidation,
		one+`Value '01' at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})`)
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"a","ExplicitHashKey":"`+strings.Repeat("9", 40)+`"}]}`, CodeValidation,
		one+"Value '"+strings.Repeat("9", 40)+`' at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})`)
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"a","ExplicitHashKey":"340282366920938463463374607431768211455"}]}`, "", "")
	f(`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"a","ExplicitHashKey":"340282366920938463463374607431768211456"}]}`, CodeInvalidArgument,
		"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456")
	f(`{"StreamName":"a b","Records":[{"Data":"","PartitionKey":"a"}]}`, CodeValidation,
		one+"Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	name := strings.Repeat("n", 129)
	f(`{"StreamName":"`+name+`","Records":[{"Data":"","PartitionKey":"a"}]}`, CodeValidation,
		one+"Value '"+name+"' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")
	f(`{"StreamARN":"arn:aws:kinesis:us-east-1:123:stream/s","Records":[{"Data":"","PartitionKey":"a"}]}`, CodeValidation,
		one+`Value 'arn:aws:kinesis:us-east-1:123:stream/s' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:stream/\S+`)
	f(`{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","Records":[{"Data":"","PartitionKey":"a"}]}`, "", "")
	f(`{"Records":[{"Data":"","PartitionKey":"a"}]}`, CodeInvalidArgument, "Either StreamName or StreamARN must be provided.")
	f(`{"StreamName":"","Records":[{"Data":"","PartitionKey":"a"}]}`, CodeValidation, "2 validation errors detected: "+
		"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
		"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	// Several errors: AWS order (records first, within an entry
	// partitionKey, explicitHashKey, data), joined with "; ".
	f(`{"StreamName":"a b","Records":[{"ExplicitHashKey":"x"},{"Data":"","PartitionKey":""}]}`, CodeValidation,
		"5 validation errors detected: "+
			"Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null; "+
			`Value 'x' at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38}); `+
			"Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null; "+
			"Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; "+
			"Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")

	// 501 records: the list is printed the Java way, at most 10 errors.
	var b strings.Builder
	b.WriteString(`{"StreamName":"s","Records":[`)
	for i := 0; i < 501; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Data":"","PartitionKey":"a"}`)
	}
	b.WriteString(`]}`)
	var req PutRecordsRequest
	if err := DecodePutRecords([]byte(b.String()), &req); err != nil {
		t.Fatal(err)
	}
	err := req.Validate().(*Error)
	wantPrefix := one + "Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2, "
	wantSuffix := "]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"
	if err.Code != CodeValidation || !strings.HasPrefix(err.Message, wantPrefix) || !strings.HasSuffix(err.Message, wantSuffix) {
		t.Fatalf("got %s %.200q", err.Code, err.Message)
	}
	var many strings.Builder
	many.WriteString(`{"StreamName":"s","Records":[`)
	for i := 0; i < 12; i++ {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`{"Data":"","PartitionKey":""}`)
	}
	many.WriteString(`]}`)
	if err := DecodePutRecords([]byte(many.String()), &req); err != nil {
		t.Fatal(err)
	}
	msg := req.Validate().(*Error).Message
	if !strings.HasPrefix(msg, "10 validation errors detected: ") || strings.Count(msg, "; ") != 9 || !strings.Contains(msg, "records.10.member") || strings.Contains(msg, "records.11.") {
		t.Fatalf("got %q", msg)
	}
}

func TestWireValidateDataSize(t *testing.T) {
	req := PutRecordsRequest{StreamName: "s", Records: []PutRecordsEntry{{PartitionKey: "a", Data: make([]byte, DefaultMaxDataSize+1)}}}
	wantError(t, req.Validate(), CodeValidation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
	if err := req.ValidateMaxDataSize(2 << 20); err != nil {
		t.Fatal(err)
	}
	one := PutRecordRequest{StreamName: "s", PartitionKey: "a", Data: make([]byte, 11)}
	wantError(t, one.ValidateMaxDataSize(10), CodeValidation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=11 cap=11]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 10")
}

func TestWireValidatePutRecord(t *testing.T) {
	f := func(body, code, message string) {
		t.Helper()
		var req PutRecordRequest
		if err := DecodePutRecord([]byte(body), &req); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		err := req.Validate()
		if code == "" {
			if err != nil {
				t.Fatalf("%s: unexpected %v", body, err)
			}
			return
		}
		wantError(t, err, code, message)
	}
	f(`{"StreamName":"s","Data":"","PartitionKey":"a"}`, "", "")
	f(`{"StreamName":"s"}`, CodeValidation, "2 validation errors detected: "+
		"Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; "+
		"Value null at 'data' failed to satisfy constraint: Member must not be null")
	f(`{"StreamName":"s","Data":"","PartitionKey":"a","SequenceNumberForOrdering":"-1"}`, CodeValidation,
		`1 validation error detected: Value '-1' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,128})`)
}

func TestWireValidateGetShardIterator(t *testing.T) {
	f := func(body, code, message string) {
		t.Helper()
		var req GetShardIteratorRequest
		if err := DecodeGetShardIterator([]byte(body), &req); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		err := req.Validate()
		if code == "" {
			if err != nil {
				t.Fatalf("%s: unexpected %v", body, err)
			}
			return
		}
		wantError(t, err, code, message)
	}
	const either = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "
	f(`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`, "", "")
	f(`{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"49647060812288014558888668248263847763900017820167045122"}`, "", "")
	f(`{"StreamName":"s"}`, CodeValidation, "2 validation errors detected: "+
		"Value null at 'shardId' failed to satisfy constraint: Member must not be null; "+
		"Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null")
	f(`{"StreamName":"s","ShardId":"","ShardIteratorType":"OLDEST"}`, CodeValidation, "3 validation errors detected: "+
		"Value '' at 'shardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
		"Value '' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 1; "+
		"Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]")
	f(`{"StreamName":"s","ShardId":"x","ShardIteratorType":"LATEST","StartingSequenceNumber":"x1"}`, CodeValidation,
		`1 validation error detected: Value 'x1' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,128})`)
	f(`{"StreamName":"s","ShardId":"x","ShardIteratorType":"LATEST","StartingSequenceNumber":"1"}`, CodeInvalidArgument, either+"LATEST and also a StartingSequenceNumber.")
	f(`{"StreamName":"s","ShardId":"x","ShardIteratorType":"AFTER_SEQUENCE_NUMBER"}`, CodeInvalidArgument, either+"AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber.")
	f(`{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP"}`, CodeInvalidArgument,
		"Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
	f(`{"ShardId":"x","ShardIteratorType":"LATEST"}`, CodeInvalidArgument, "Either StreamName or StreamARN must be provided.")
}

func TestWireValidateGetRecords(t *testing.T) {
	f := func(body, code, message string) {
		t.Helper()
		var req GetRecordsRequest
		if err := DecodeGetRecords([]byte(body), &req); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		err := req.Validate()
		if code == "" {
			if err != nil {
				t.Fatalf("%s: unexpected %v", body, err)
			}
			return
		}
		wantError(t, err, code, message)
	}
	f(`{"ShardIterator":"it","Limit":10000}`, "", "")
	f(`{}`, CodeValidation, "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null")
	f(`{"ShardIterator":"it","Limit":0}`, CodeValidation, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	f(`{"ShardIterator":"","Limit":10001}`, CodeValidation, "2 validation errors detected: "+
		"Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000; "+
		"Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1")
	it := strings.Repeat("A", 513)
	f(`{"ShardIterator":"`+it+`"}`, CodeValidation, "1 validation error detected: Value '"+it+"' at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 512")
}
