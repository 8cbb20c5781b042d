package kinesis

import (
	"regexp"
	"strconv"
)

// Limits from the Kinesis model (KINESIS_API.md 2.0, 2.2, 3.5).
const (
	MaxPutRecordsEntries = 500
	MaxPartitionKeyLen   = 256
	MaxStreamNameLen     = 128
	MaxARNLen            = 2048
	MaxShardIDLen        = 128
	MaxShardIteratorLen  = 512
	MaxGetRecordsLimit   = 10000
	// DefaultMaxDataSize is the per-record Data cap of a stream left at the
	// default MaxRecordSizeInKiB (1024). Streams configured for larger
	// records use the ValidateMaxDataSize variants.
	DefaultMaxDataSize = 1 << 20
	// maxValidationErrors is how many messages AWS lists at most.
	maxValidationErrors = 10
)

const (
	patternName     = "[a-zA-Z0-9_.-]+"
	patternHashKey  = `0|([1-9]\d{0,38})`
	patternSequence = `0|([1-9]\d{0,128})`
	patternARN      = `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`
	maxHashKey      = "340282366920938463463374607431768211455" // 2^128-1
)

// streamARNRegexp is compiled once and never modified.
var streamARNRegexp = regexp.MustCompile(`^(?:` + patternARN + `)$`)

// validator collects AWS-style constraint violations. It allocates only
// when a violation is found.
type validator struct {
	n   int
	msg []byte
}

// fail records "Value <value> at '<path>' failed to satisfy constraint:
// <constraint>". value is already quoted (or the word null).
func (v *validator) fail(value, path, constraint string) {
	v.n++
	if v.n > maxValidationErrors {
		v.n = maxValidationErrors
		return
	}
	if len(v.msg) > 0 {
		v.msg = append(v.msg, "; "...)
	}
	v.msg = append(v.msg, "Value "...)
	v.msg = append(v.msg, value...)
	v.msg = append(v.msg, " at '"...)
	v.msg = append(v.msg, path...)
	v.msg = append(v.msg, "' failed to satisfy constraint: "...)
	v.msg = append(v.msg, constraint...)
}

func (v *validator) err() *Error {
	if v.n == 0 {
		return nil
	}
	s := "1 validation error detected: "
	if v.n > 1 {
		s = strconv.Itoa(v.n) + " validation errors detected: "
	}
	return Validation(s + string(v.msg))
}

func quote(s string) string { return "'" + s + "'" }

func blobValue(n int) string {
	l := strconv.Itoa(n)
	return "'java.nio.HeapByteBuffer[pos=0 lim=" + l + " cap=" + l + "]'"
}

func notNull(v *validator, path string) {
	v.fail("null", path, "Member must not be null")
}

func minLen(v *validator, s, path string, n int) {
	if javaLength(s) < n {
		v.fail(quote(s), path, "Member must have length greater than or equal to "+strconv.Itoa(n))
	}
}

func maxLen(v *validator, s, path string, n int) {
	if len(s) > n && javaLength(s) > n { // len(s) >= javaLength(s)
		v.fail(quote(s), path, "Member must have length less than or equal to "+strconv.Itoa(n))
	}
}

func pattern(v *validator, ok bool, s, path, pat string) {
	if !ok {
		v.fail(quote(s), path, "Member must satisfy regular expression pattern: "+pat)
	}
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isDecimal reports whether s matches 0|([1-9]\d{0,maxExtra}).
func isDecimal(s string, maxExtra int) bool {
	if s == "0" {
		return true
	}
	if s == "" || len(s) > maxExtra+1 || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validateStream checks the optional StreamARN and StreamName members,
// in that (alphabetical, AWS) order.
func validateStream(v *validator, arn, name string, hasARN, hasName bool) {
	if hasARN {
		pattern(v, streamARNRegexp.MatchString(arn), arn, "streamARN", patternARN)
		minLen(v, arn, "streamARN", 1)
		maxLen(v, arn, "streamARN", MaxARNLen)
	}
	if hasName {
		pattern(v, isName(name), name, "streamName", patternName)
		minLen(v, name, "streamName", 1)
		maxLen(v, name, "streamName", MaxStreamNameLen)
	}
}

// errNoStream is returned when neither StreamName nor StreamARN is given.
// [unsure] real AWS text and code; the model makes both optional.
func errNoStream() *Error {
	return InvalidArgument("Either StreamName or StreamARN must be provided.")
}

// checkHashKeyRange reports an ExplicitHashKey above 2^128-1 (the pattern
// allows 39 digits, which reaches past it).
func checkHashKeyRange(key string) *Error {
	if len(key) == len(maxHashKey) && key > maxHashKey {
		return InvalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " + key)
	}
	return nil
}

// Validate checks r against the model constraints with the default Data
// cap. It returns a *Error (ValidationException, or InvalidArgumentException
// for checks AWS makes after the model constraints) or nil.
func (r *PutRecordsRequest) Validate() error {
	return r.ValidateMaxDataSize(DefaultMaxDataSize)
}

// ValidateMaxDataSize is Validate with a per-record Data cap of maxData bytes.
func (r *PutRecordsRequest) ValidateMaxDataSize(maxData int) error {
	var v validator
	if r.present&hasRecords == 0 && len(r.Records) == 0 {
		notNull(&v, "records")
	} else {
		if len(r.Records) < 1 {
			v.fail("'[]'", "records", "Member must have length greater than or equal to 1")
		}
		if len(r.Records) > MaxPutRecordsEntries {
			v.fail(entryListValue(len(r.Records)), "records", "Member must have length less than or equal to 500")
		}
		for i := range r.Records {
			if v.n >= maxValidationErrors {
				break
			}
			e := &r.Records[i]
			if e.present&hasPartitionKey == 0 && e.PartitionKey == "" {
				notNull(&v, memberPath(i, "partitionKey"))
			} else {
				if javaLength(e.PartitionKey) < 1 {
					minLen(&v, e.PartitionKey, memberPath(i, "partitionKey"), 1)
				}
				if len(e.PartitionKey) > MaxPartitionKeyLen && javaLength(e.PartitionKey) > MaxPartitionKeyLen {
					maxLen(&v, e.PartitionKey, memberPath(i, "partitionKey"), MaxPartitionKeyLen)
				}
			}
			if (e.present&hasExplicitHashKey != 0 || e.ExplicitHashKey != "") && !isDecimal(e.ExplicitHashKey, 38) {
				pattern(&v, false, e.ExplicitHashKey, memberPath(i, "explicitHashKey"), patternHashKey)
			}
			if e.present&hasData == 0 && e.Data == nil {
				notNull(&v, memberPath(i, "data"))
			} else if len(e.Data) > maxData {
				v.fail(blobValue(len(e.Data)), memberPath(i, "data"), "Member must have length less than or equal to "+strconv.Itoa(maxData))
			}
		}
	}
	validateStream(&v, r.StreamARN, r.StreamName, r.present&hasStreamARN != 0 || r.StreamARN != "", r.present&hasStreamName != 0 || r.StreamName != "")
	if e := v.err(); e != nil {
		return e
	}
	if r.StreamName == "" && r.StreamARN == "" {
		return errNoStream()
	}
	for i := range r.Records {
		if e := checkHashKeyRange(r.Records[i].ExplicitHashKey); e != nil {
			return e
		}
	}
	return nil
}

func memberPath(i int, field string) string {
	return "records." + strconv.Itoa(i+1) + ".member." + field
}

// entryListValue renders a list of PutRecordsRequestEntry objects the way
// AWS prints it (Java toString of each element).
func entryListValue(n int) string {
	b := make([]byte, 0, 2+n*58)
	b = append(b, "'["...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2"...)
	}
	b = append(b, "]'"...)
	return string(b)
}

// Validate checks r against the model constraints with the default Data cap.
func (r *PutRecordRequest) Validate() error {
	return r.ValidateMaxDataSize(DefaultMaxDataSize)
}

// ValidateMaxDataSize is Validate with a Data cap of maxData bytes.
func (r *PutRecordRequest) ValidateMaxDataSize(maxData int) error {
	var v validator
	// Same member order as PutRecordsRequestEntry, then the rest
	// alphabetically [unsure: AWS's order for PutRecord].
	if r.present&hasPartitionKey == 0 && r.PartitionKey == "" {
		notNull(&v, "partitionKey")
	} else {
		minLen(&v, r.PartitionKey, "partitionKey", 1)
		maxLen(&v, r.PartitionKey, "partitionKey", MaxPartitionKeyLen)
	}
	if (r.present&hasExplicitHashKey != 0 || r.ExplicitHashKey != "") && !isDecimal(r.ExplicitHashKey, 38) {
		pattern(&v, false, r.ExplicitHashKey, "explicitHashKey", patternHashKey)
	}
	if r.present&hasData == 0 && r.Data == nil {
		notNull(&v, "data")
	} else if len(r.Data) > maxData {
		v.fail(blobValue(len(r.Data)), "data", "Member must have length less than or equal to "+strconv.Itoa(maxData))
	}
	if r.SequenceNumberForOrdering != "" && !isDecimal(r.SequenceNumberForOrdering, 128) {
		pattern(&v, false, r.SequenceNumberForOrdering, "sequenceNumberForOrdering", patternSequence)
	}
	validateStream(&v, r.StreamARN, r.StreamName, r.present&hasStreamARN != 0 || r.StreamARN != "", r.present&hasStreamName != 0 || r.StreamName != "")
	if e := v.err(); e != nil {
		return e
	}
	if r.StreamName == "" && r.StreamARN == "" {
		return errNoStream()
	}
	if e := checkHashKeyRange(r.ExplicitHashKey); e != nil {
		return e
	}
	return nil
}

const iteratorTypeEnum = "Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"

// Validate checks r against the model constraints, then the
// ShardIteratorType/StartingSequenceNumber/Timestamp combination rules
// (InvalidArgumentException, KINESIS_API.md 3.6). Whether a timestamp lies
// in the future is left to the caller, which knows the time.
func (r *GetShardIteratorRequest) Validate() error {
	var v validator
	if r.present&hasShardID == 0 && r.ShardID == "" {
		notNull(&v, "shardId")
	} else {
		pattern(&v, isName(r.ShardID), r.ShardID, "shardId", patternName)
		minLen(&v, r.ShardID, "shardId", 1)
		maxLen(&v, r.ShardID, "shardId", MaxShardIDLen)
	}
	switch r.ShardIteratorType {
	case IteratorAtSequenceNumber, IteratorAfterSequenceNumber, IteratorTrimHorizon, IteratorLatest, IteratorAtTimestamp:
	default:
		if r.present&hasShardIteratorType == 0 && r.ShardIteratorType == "" {
			notNull(&v, "shardIteratorType")
		} else {
			v.fail(quote(r.ShardIteratorType), "shardIteratorType", iteratorTypeEnum)
		}
	}
	if r.StartingSequenceNumber != "" && !isDecimal(r.StartingSequenceNumber, 128) {
		pattern(&v, false, r.StartingSequenceNumber, "startingSequenceNumber", patternSequence)
	}
	validateStream(&v, r.StreamARN, r.StreamName, r.present&hasStreamARN != 0 || r.StreamARN != "", r.present&hasStreamName != 0 || r.StreamName != "")
	if e := v.err(); e != nil {
		return e
	}
	if r.StreamName == "" && r.StreamARN == "" {
		return errNoStream()
	}
	const either = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "
	switch r.ShardIteratorType {
	case IteratorAtSequenceNumber, IteratorAfterSequenceNumber:
		if r.StartingSequenceNumber == "" {
			return InvalidArgument(either + r.ShardIteratorType + " and no StartingSequenceNumber.")
		}
	case IteratorTrimHorizon, IteratorLatest:
		if r.StartingSequenceNumber != "" {
			return InvalidArgument(either + r.ShardIteratorType + " and also a StartingSequenceNumber.")
		}
	case IteratorAtTimestamp:
		if !r.HasTimestamp {
			return InvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
	}
	return nil
}

// Validate checks r against the model constraints (Limit, ShardIterator,
// StreamARN, in AWS's alphabetical order).
func (r *GetRecordsRequest) Validate() error {
	var v validator
	if r.present&hasLimit != 0 || r.Limit != 0 {
		if r.Limit < 1 {
			v.fail(quote(strconv.FormatInt(r.Limit, 10)), "limit", "Member must have value greater than or equal to 1")
		}
		if r.Limit > MaxGetRecordsLimit {
			v.fail(quote(strconv.FormatInt(r.Limit, 10)), "limit", "Member must have value less than or equal to 10000")
		}
	}
	if r.present&hasShardIterator == 0 && r.ShardIterator == "" {
		notNull(&v, "shardIterator")
	} else {
		minLen(&v, r.ShardIterator, "shardIterator", 1)
		maxLen(&v, r.ShardIterator, "shardIterator", MaxShardIteratorLen)
	}
	validateStream(&v, r.StreamARN, "", r.present&hasStreamARN != 0 || r.StreamARN != "", false)
	if e := v.err(); e != nil {
		return e
	}
	return nil
}
