package httpapi

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// opError is an error of a Manager call with the names the AWS message
// texts need.
type opError struct {
	err    error
	stream string // the stream the call was about ("" if unknown)
	shard  string // the shard the call was about ("" if none)
}

func (e *opError) Error() string { return e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// callErr wraps err (if not nil) with the stream and shard it concerns.
func callErr(err error, streamName, shardID string) error {
	if err == nil {
		return nil
	}
	// The names may alias a pooled request buffer: copy them.
	return &opError{err: err, stream: strings.Clone(streamName), shard: strings.Clone(shardID)}
}

// toAWS is the one mapping from the errors of the operations (wire
// decode/validate errors, stream.Manager errors) to Kinesis error codes,
// statuses and message texts. Unknown errors become a 500
// InternalFailureException whose detail is logged, not sent.
func (s *Server) toAWS(req *Request, err error) *kinesis.Error {
	var ke *kinesis.Error
	if errors.As(err, &ke) {
		return ke
	}
	var oe *opError
	name, shard := "", ""
	if errors.As(err, &oe) {
		name, shard = oe.stream, oe.shard
	}
	acct := s.cfg.AccountID
	var ae *stream.ArgumentError
	var xe *stream.ExpiredIteratorError
	var api *stream.APIError
	var inUse *stream.ResourceInUseError
	var limit *stream.LimitExceededError
	var notFound *stream.ResourceNotFoundError
	var tooLarge *stream.RecordTooLargeError
	var expTok *stream.ExpiredNextTokenError
	switch {
	// Typed errors carry the operation's own AWS text: they come first.
	case errors.As(err, &notFound):
		return kinesis.ResourceNotFound(notFound.Msg)
	case errors.As(err, &inUse):
		return kinesis.ResourceInUse(inUse.Msg)
	case errors.As(err, &limit):
		return kinesis.LimitExceeded(limit.Msg)
	case errors.As(err, &expTok):
		return kinesis.NewError(kinesis.CodeExpiredNextToken, expTok.Msg)
	case errors.As(err, &tooLarge):
		return kinesis.Validation(tooLarge.Error())
	case errors.As(err, &api):
		switch {
		case errors.Is(api.Kind, stream.ErrResourceInUse):
			return kinesis.ResourceInUse(api.Msg)
		case errors.Is(api.Kind, stream.ErrLimitExceeded):
			return kinesis.LimitExceeded(api.Msg)
		case errors.Is(api.Kind, stream.ErrResourceNotFound):
			return kinesis.ResourceNotFound(api.Msg)
		case errors.Is(api.Kind, stream.ErrThroughputExceeded):
			return kinesis.ProvisionedThroughputExceeded(api.Msg)
		case errors.Is(api.Kind, stream.ErrValidation):
			return kinesis.Validation(api.Msg)
		}
	case errors.Is(err, stream.ErrStreamNotFound):
		if name == "" {
			return kinesis.ResourceNotFound("Stream not found under account " + acct + ".")
		}
		return kinesis.ResourceNotFound("Stream " + name + " under account " + acct + " not found.")
	case errors.Is(err, stream.ErrStreamExists):
		return kinesis.ResourceInUse("Stream " + name + " under account " + acct + " already exists.")
	case errors.Is(err, stream.ErrShardNotFound):
		return kinesis.ResourceNotFound("Shard " + shard + " in stream " + name + " under account " + acct + " does not exist")
	case errors.As(err, &xe):
		return kinesis.ExpiredIterator(xe.Error())
	case errors.As(err, &ae):
		return kinesis.InvalidArgument(ae.Msg)
	case errors.Is(err, stream.ErrInvalidIterator):
		return kinesis.InvalidArgument("Invalid ShardIterator.")
	}
	s.log.Error("httpapi: internal failure", "requestId", req.RequestID,
		"operation", string(req.Header("X-Amz-Target")), "err", err)
	return kinesis.InternalFailure("Internal service failure.")
}
