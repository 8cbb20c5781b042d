package stream

import "errors"

// Errors of the stream-state operations (settings.go, tags.go,
// consumers.go, policy.go, quotas.go). An *APIError wraps one of these
// kinds; its Msg is the text to send to the client (AWS's text where known,
// marked [unsure] at the place it is made where it had to be guessed). The
// HTTP layer maps the kind to the Kinesis error code:
//
//	ErrResourceInUse      -> ResourceInUseException
//	ErrLimitExceeded      -> LimitExceededException
//	ErrResourceNotFound   -> ResourceNotFoundException
//	ErrThroughputExceeded -> ProvisionedThroughputExceededException
//	ErrValidation         -> ValidationException
//
// InvalidArgumentException stays *ArgumentError and a missing stream stays
// ErrStreamNotFound (the HTTP layer builds "Stream X under account A not
// found." from the stream name, which for ARN-addressed calls comes from
// ParseStreamARN).
var (
	// ErrResourceInUse: the stream is not ACTIVE, a consumer name is taken,
	// or the stream still has consumers (DeleteStream).
	ErrResourceInUse = errors.New("stream: resource in use")
	// ErrLimitExceeded: an account or stream limit (shards, on-demand
	// streams, consumers) would be exceeded.
	ErrLimitExceeded = errors.New("stream: limit exceeded")
	// ErrResourceNotFound: a consumer (or another non-stream resource) does
	// not exist.
	ErrResourceNotFound = errors.New("stream: resource not found")
	// ErrThroughputExceeded: a shard's emulated throughput quota
	// (Config.EmulateQuotas) is used up.
	ErrThroughputExceeded = errors.New("stream: provisioned throughput exceeded")
	// ErrValidation: a request AWS rejects with ValidationException (wrong
	// capacity mode for the operation, record larger than the stream's
	// maximum, ...).
	ErrValidation = errors.New("stream: validation failed")
)

// APIError is an error with a Kinesis error kind (one of the sentinels
// above) and the message for the client.
type APIError struct {
	Kind error
	Msg  string
}

func (e *APIError) Error() string { return e.Msg }

// Unwrap returns the kind, so that errors.Is(err, ErrLimitExceeded) works.
func (e *APIError) Unwrap() error { return e.Kind }

func apiError(kind error, msg string) error { return &APIError{Kind: kind, Msg: msg} }
