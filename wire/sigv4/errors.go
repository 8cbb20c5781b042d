package sigv4

// Error codes (AWS exception names) this package returns.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
)

// Error is an authentication failure, as AWS reports it. Code goes into
// "__type" and the X-Amzn-ErrorType header, Message into "message", Status
// is the HTTP status (400 for all of these on Kinesis: kinesalite and
// KINESIS_API.md 1.4; real Kinesis answers "Signature expired" with 400,
// remind101/logspout-kinesis#21).
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error implements the error interface.
func (e *Error) Error() string {
	return "sigv4: " + e.Code + ": " + e.Message
}

func newError(code, message string) *Error {
	return &Error{Code: code, Message: message, Status: 400}
}

// Texts of AWS errors. Sources: kinesalite index.js (Kinesis, captured from
// real AWS), dynalite's captured Coral responses (DynamoDB, same front end)
// and error reports quoting real responses.
const (
	// kinesalite index.js.
	msgMissingToken = "Missing Authentication Token"
	// kinesalite index.js.
	msgBothAuth = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	// dynalite (captured from DynamoDB), aws/aws-sdk-js#168 (Lambda) and
	// many other reports; the appended canonical string is what Coral
	// services (DynamoDB, Lambda, ES, Cognito) send. [unsure] whether
	// Kinesis appends it too; it is appended here since it helps.
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	// dynalite (captured), and every UnrecognizedClientException report.
	msgUnknownKey = "The security token included in the request is invalid."
	// dynalite (captured).
	msgHostNotSigned = "'Host' must be a 'SignedHeader' in the AWS Authorization."
	// [unsure] S3's text for an expired presigned URL; Coral's text for
	// X-Amz-Expires could not be found.
	msgPresignExpired = "Request has expired"
)
