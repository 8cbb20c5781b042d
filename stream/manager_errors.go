package stream

import "errors"

// Errors of the Manager. Every error a Manager method returns for one of
// these conditions wraps the sentinel (test with errors.Is) and names the
// stream or shard; wire/kinesis maps them to ResourceNotFoundException,
// ResourceInUseException and so on, with AWS's message texts.
var (
	// ErrStreamNotFound: no stream of that name (or the stream was deleted
	// while the call ran).
	ErrStreamNotFound = errors.New("stream: stream not found")
	// ErrStreamExists: CreateStream of a name that is taken.
	ErrStreamExists = errors.New("stream: stream already exists")
	// ErrShardNotFound: the stream has no shard of that id.
	ErrShardNotFound = errors.New("stream: shard not found")
	// ErrClosed: the Manager was closed.
	ErrClosed = errors.New("stream: manager is closed")
)

// ArgumentError is an invalid argument of a Manager call, what Kinesis
// reports as InvalidArgumentException. Msg is meant for the client; where
// the reference gives AWS's text, Msg is that text.
type ArgumentError struct {
	Msg string
	err error // the parse error behind it, if any
}

func (e *ArgumentError) Error() string { return e.Msg }

// Unwrap returns the parse error behind e, if any (e.g. one wrapping
// ErrInvalidSeqNum or ErrHashKeyOutOfRange).
func (e *ArgumentError) Unwrap() error { return e.err }

func argError(msg string) error { return &ArgumentError{Msg: msg} }
