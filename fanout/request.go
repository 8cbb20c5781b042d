package fanout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/stream"
)

// Request is a decoded SubscribeToShard request (KINESIS_API.md 4.2).
type Request struct {
	ConsumerARN      string
	ShardID          string
	StartingPosition StartingPosition
	// CBOR makes the event payloads CBOR (:content-type
	// application/x-amz-cbor-1.1), for a request that came in CBOR: the
	// Java SDKs parse event payloads with the protocol of the request
	// [unsure: no Java client could be run against it]. Otherwise they are
	// JSON 1.1.
	CBOR bool
}

// StartingPosition is SubscribeToShard's StartingPosition.
type StartingPosition struct {
	// Type is a ShardIteratorType: TRIM_HORIZON, LATEST,
	// AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP.
	Type string
	// SequenceNumber is used by AT_ and AFTER_SEQUENCE_NUMBER.
	SequenceNumber string
	// TimestampMillis (Unix ms) is used by AT_TIMESTAMP; HasTimestamp
	// tells whether the request had one.
	TimestampMillis int64
	HasTimestamp    bool
}

// Model limits of the request members.
const (
	maxConsumerARNLen = 2048
	maxShardIDLen     = 128
	maxSeqNumLen      = 128 // pattern 0|([1-9]\d{0,128})
)

// iteratorTypes is the ShardIteratorType enum, in the model's order.
var iteratorTypes = []string{
	stream.IterAtSequenceNumber, stream.IterAfterSequenceNumber, stream.IterTrimHorizon,
	stream.IterLatest, stream.IterAtTimestamp,
}

// SerializationError is a request body that is not the JSON shape of
// SubscribeToShard; Kinesis answers SerializationException (HTTP 400),
// whose JSON body uses a capital-M "Message" key (KINESIS_API.md 1.4).
type SerializationError struct{ Msg string }

func (e *SerializationError) Error() string { return e.Msg }

// jsonRequest is the JSON 1.1 body.
type jsonRequest struct {
	ConsumerARN      *string
	ShardId          *string
	StartingPosition *struct {
		Type           *string
		SequenceNumber *string
		Timestamp      *json.Number
	}
}

// DecodeRequestJSON decodes and validates a JSON 1.1 SubscribeToShard
// body. Errors: *SerializationError for bytes that are not the shape,
// *stream.APIError of kind stream.ErrValidation for members that break the
// model's constraints (AWS's "N validation errors detected: ..." text
// [unsure: AWS's exact wording for this operation]).
func DecodeRequestJSON(body []byte) (Request, error) {
	var jr jsonRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&jr); err != nil {
		// [unsure] AWS's text; kinesalite's texts depend on the token.
		return Request{}, &SerializationError{Msg: "Start of structure or map found where not expected."}
	}
	var r Request
	var v []string
	check := func(ok bool, msg string) {
		if !ok {
			v = append(v, msg)
		}
	}
	notNull := func(path string) string {
		return "Value null at '" + path + "' failed to satisfy constraint: Member must not be null"
	}
	lenMsg := func(val, path string, max int) string {
		return "Value '" + val + "' at '" + path + "' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(max)
	}
	if jr.ConsumerARN == nil {
		v = append(v, notNull("consumerARN"))
	} else {
		r.ConsumerARN = *jr.ConsumerARN
		check(len(r.ConsumerARN) >= 1, "Value '' at 'consumerARN' failed to satisfy constraint: Member must have length greater than or equal to 1")
		check(len(r.ConsumerARN) <= maxConsumerARNLen, lenMsg(short(r.ConsumerARN), "consumerARN", maxConsumerARNLen))
	}
	if jr.ShardId == nil {
		v = append(v, notNull("shardId"))
	} else {
		r.ShardID = *jr.ShardId
		check(len(r.ShardID) >= 1, "Value '' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 1")
		check(len(r.ShardID) <= maxShardIDLen, lenMsg(short(r.ShardID), "shardId", maxShardIDLen))
	}
	if sp := jr.StartingPosition; sp == nil {
		v = append(v, notNull("startingPosition"))
	} else {
		if sp.Type == nil {
			v = append(v, notNull("startingPosition.type"))
		} else {
			r.StartingPosition.Type = *sp.Type
			ok := false
			for _, t := range iteratorTypes {
				ok = ok || t == *sp.Type
			}
			check(ok, "Value '"+short(*sp.Type)+"' at 'startingPosition.type' failed to satisfy constraint: Member must satisfy enum value set: ["+
				strings.Join(iteratorTypes, ", ")+"]")
		}
		if sp.SequenceNumber != nil {
			r.StartingPosition.SequenceNumber = *sp.SequenceNumber
			check(len(*sp.SequenceNumber) <= maxSeqNumLen+1, lenMsg(short(*sp.SequenceNumber), "startingPosition.sequenceNumber", maxSeqNumLen+1))
		}
		if sp.Timestamp != nil {
			ms, err := secondsToMillis(string(*sp.Timestamp))
			if err != nil {
				return Request{}, &SerializationError{Msg: "class java.lang.String can not be converted to an Timestamp"} // [unsure]
			}
			r.StartingPosition.TimestampMillis, r.StartingPosition.HasTimestamp = ms, true
		}
	}
	if len(v) > 0 {
		return Request{}, validationError(v)
	}
	return r, nil
}

// validationError builds AWS's ValidationException text.
func validationError(v []string) error {
	if len(v) > 10 {
		v = v[:10]
	}
	prefix := "1 validation error detected: "
	if len(v) > 1 {
		prefix = strconv.Itoa(len(v)) + " validation errors detected: "
	}
	return &stream.APIError{Kind: stream.ErrValidation, Msg: prefix + strings.Join(v, "; ")}
}

// short quotes at most 64 bytes of a value in an error message.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// secondsToMillis converts a JSON 1.1 timestamp (epoch seconds, possibly
// fractional) to Unix milliseconds.
func secondsToMillis(num string) (int64, error) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e14 {
		return 0, fmt.Errorf("fanout: bad timestamp %q", short(num))
	}
	return int64(math.Round(f * 1000)), nil
}
