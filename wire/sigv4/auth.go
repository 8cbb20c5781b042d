package sigv4

import "strings"

// Algorithm is the only signing algorithm AWS (and this package) accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// The fields alias the parsed header string.
type Authorization struct {
	// Algorithm is the first word of the header (not checked here).
	Algorithm string
	// Credential is the whole credential: keyid/date/region/service/term.
	Credential string
	// SignedHeaders is the ";"-separated list of signed header names.
	SignedHeaders string
	// Signature is the hex signature as sent.
	Signature string
}

// ParseAuthorization parses an Authorization header value. It reports a
// component without "=" and missing Credential, Signature or SignedHeaders
// parameters as an IncompleteSignatureException with AWS's text; it does
// not check the algorithm or the credential's shape (Verify does, in AWS's
// order).
func ParseAuthorization(h string) (Authorization, error) {
	a, err := parseAuthorization(h)
	if err != nil {
		return a, err
	}
	if msg := a.missingParams(); msg != "" {
		return a, newError(CodeIncompleteSignature, msg+"Authorization="+h)
	}
	return a, nil
}

// parseAuthorization splits h into its key=value components. Components are
// separated by commas and/or spaces (kinesalite splits on /,| /; SDKs send
// ", " and some hand-written clients ","). Unknown keys are ignored; a
// repeated key keeps its last value.
func parseAuthorization(h string) (Authorization, *Error) {
	var a Authorization
	rest := strings.TrimLeft(h, " ")
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		a.Algorithm, rest = rest[:i], rest[i+1:]
	} else {
		a.Algorithm, rest = rest, ""
	}
	for len(rest) > 0 {
		i := strings.IndexAny(rest, ", ")
		var part string
		if i < 0 {
			part, rest = rest, ""
		} else {
			part, rest = rest[:i], rest[i+1:]
		}
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			// dynalite, captured from AWS: "'Credential' not a valid
			// key=value pair (missing equal-sign) in Authorization header:
			// 'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'."
			return a, newError(CodeIncompleteSignature,
				"'"+part+"' not a valid key=value pair (missing equal-sign) in Authorization header: '"+h+"'.")
		}
		switch key {
		case "Credential":
			a.Credential = value
		case "SignedHeaders":
			a.SignedHeaders = value
		case "Signature":
			a.Signature = value
		}
	}
	return a, nil
}

// missingParams returns AWS's text for the missing parameters, each
// sentence followed by a space (kinesalite; order Credential, Signature,
// SignedHeaders), or "".
func (a *Authorization) missingParams() string {
	var msg string
	if a.Credential == "" {
		msg += "Authorization header requires 'Credential' parameter. "
	}
	if a.Signature == "" {
		msg += "Authorization header requires 'Signature' parameter. "
	}
	if a.SignedHeaders == "" {
		msg += "Authorization header requires 'SignedHeaders' parameter. "
	}
	return msg
}
