package kinesis

import "strconv"

// Error codes sent in the "__type" member of error bodies and in the
// X-Amzn-ErrorType header (KINESIS_API.md 1.4).
const (
	CodeAccessDenied                  = "AccessDeniedException"
	CodeExpiredIterator               = "ExpiredIteratorException"
	CodeExpiredNextToken              = "ExpiredNextTokenException"
	CodeInternalFailure               = "InternalFailureException"
	CodeInvalidArgument               = "InvalidArgumentException"
	CodeLimitExceeded                 = "LimitExceededException"
	CodeProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	CodeResourceInUse                 = "ResourceInUseException"
	CodeResourceNotFound              = "ResourceNotFoundException"
	CodeSerialization                 = "SerializationException"
	CodeUnknownOperation              = "UnknownOperationException"
	CodeValidation                    = "ValidationException"
)

// Error codes of failed PutRecords result entries (KINESIS_API.md 3.5).
// Note that the per-record internal error is "InternalFailure", not the
// "InternalFailureException" used for whole-request faults.
const (
	RecordErrorProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	RecordErrorInternalFailure               = "InternalFailure"
)

// Error is an AWS error response. Code goes into "__type" and into the
// X-Amzn-ErrorType header, Status is the HTTP status code.
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Message == "" {
		return "kinesis: " + e.Code + " (status " + strconv.Itoa(e.Status) + ")"
	}
	return "kinesis: " + e.Code + ": " + e.Message
}

// NewError returns an *Error for code with the status AWS uses for it:
// 500 for InternalFailureException, 400 for everything else (none of the
// Kinesis error shapes carries an explicit status code in the model).
func NewError(code, message string) *Error {
	status := 400
	if code == CodeInternalFailure {
		status = 500
	}
	return &Error{Code: code, Message: message, Status: status}
}

// ResourceNotFound returns a 400 ResourceNotFoundException.
func ResourceNotFound(message string) *Error { return NewError(CodeResourceNotFound, message) }

// InvalidArgument returns a 400 InvalidArgumentException.
func InvalidArgument(message string) *Error { return NewError(CodeInvalidArgument, message) }

// Validation returns a 400 ValidationException.
func Validation(message string) *Error { return NewError(CodeValidation, message) }

// Serialization returns a 400 SerializationException. An empty message is
// omitted from the body, as AWS does for unparseable JSON.
func Serialization(message string) *Error { return NewError(CodeSerialization, message) }

// ProvisionedThroughputExceeded returns a 400
// ProvisionedThroughputExceededException (retried with backoff by SDKs).
func ProvisionedThroughputExceeded(message string) *Error {
	return NewError(CodeProvisionedThroughputExceeded, message)
}

// ExpiredIterator returns a 400 ExpiredIteratorException.
func ExpiredIterator(message string) *Error { return NewError(CodeExpiredIterator, message) }

// ResourceInUse returns a 400 ResourceInUseException.
func ResourceInUse(message string) *Error { return NewError(CodeResourceInUse, message) }

// LimitExceeded returns a 400 LimitExceededException.
func LimitExceeded(message string) *Error { return NewError(CodeLimitExceeded, message) }

// AccessDenied returns a 400 AccessDeniedException.
func AccessDenied(message string) *Error { return NewError(CodeAccessDenied, message) }

// UnknownOperation returns a 400 UnknownOperationException. AWS sends it
// without a message.
func UnknownOperation() *Error { return NewError(CodeUnknownOperation, "") }

// InternalFailure returns a 500 InternalFailureException.
func InternalFailure(message string) *Error { return NewError(CodeInternalFailure, message) }

// AppendErrorJSON appends the JSON error body for e to dst:
// {"__type":"<Code>","message":"<text>"}. SerializationException uses the
// capital-M "Message" key as real AWS does; an empty message is omitted
// (UnknownOperationException, unparseable bodies).
func AppendErrorJSON(dst []byte, e *Error) []byte {
	dst = append(dst, `{"__type":`...)
	dst = appendJSONString(dst, e.Code)
	if e.Message != "" {
		if e.Code == CodeSerialization {
			dst = append(dst, `,"Message":`...)
		} else {
			dst = append(dst, `,"message":`...)
		}
		dst = appendJSONString(dst, e.Message)
	}
	return append(dst, '}')
}
