// Package sigv4 verifies AWS Signature Version 4 request signatures, as a
// pure codec: it gets the request as plain values (method, raw path, raw
// query, host, a header lookup, body) and the current time, and says which
// access key signed it and for which region, or returns the AWS error the
// real service would answer with. It does no I/O and starts no goroutines;
// it imports only the stdlib.
//
// # Flow
//
// A front end builds a Request from the incoming HTTP request (Path is the
// escaped path as sent, Host is the Host header on HTTP/1.1 or :authority on
// HTTP/2) and calls (*Verifier).Verify. On success the Result names the
// access key and the region of the credential scope (DESIGN.md: "a signed
// request's credential scope names its region, as on AWS"). On failure the
// error is a *Error whose Code is the AWS exception name (it goes into
// "__type" and X-Amzn-ErrorType) and whose Message is AWS's text.
//
// Checks run in the order of AWS's Coral front end, as captured by
// kinesalite and dynalite from real responses:
//  1. no Authorization header and no X-Amz-Algorithm query parameter:
//     MissingAuthenticationTokenException;
//  2. both: InvalidSignatureException;
//  3. malformed or incomplete header / query parameters, or no date:
//     IncompleteSignatureException;
//  4. date format (IncompleteSignatureException), then clock skew of more
//     than MaxSkew (5 minutes, as AWS says today; it was 15 in 2013):
//     InvalidSignatureException "Signature expired" / "not yet current";
//  5. host (or :authority) not signed, bad algorithm, bad credential
//     shape, bad scope (region, service, terminator, date);
//  6. unknown access key: UnrecognizedClientException;
//  7. signature mismatch: InvalidSignatureException, with the canonical
//     string and the string-to-sign appended as Coral services do.
//
// With no credentials configured the server accepts any signature, as the
// emulators do (DESIGN.md, CLIENTS.md 4.3: syslog-ng sends a static fake
// header): the front end then simply does not call Verify.
//
// # Canonicalisation
//
// As the AWS SigV4 specification and test suite say for every service but
// S3: the path is normalised (dot segments removed, empty segments
// collapsed) and then URI-encoded once more (so %20 on the wire becomes
// %2520); query parameters are decoded, re-encoded with RFC 3986 unreserved
// characters kept, and sorted by key then value; header values are trimmed
// and runs of spaces collapsed, repeated headers joined with ","; "host" and
// ":authority" (the JS SDK v3 signs the latter over HTTP/2) both take
// Request.Host. aws-sdk-go-v2 does not normalise the path, so when the
// normalised path differs from the raw one and the signature does not match,
// the raw form is tried too (both are computed here; a signature is never
// accepted unless it equals one the verifier computed itself).
//
// The payload hash is the SHA-256 of the body. An X-Amz-Content-Sha256
// header (sent by the JS SDK) that holds the same hash changes nothing; one
// that holds UNSIGNED-PAYLOAD is honoured only with
// Config.AllowUnsignedPayload (the body is then not covered by the
// signature); any other value makes the signature fail, because the body's
// hash is what goes into the canonical request.
//
// X-Amz-Security-Token is checked only as a signed header: sluice has no
// STS, so temporary credentials are accepted when their access key id is
// known.
//
// # Concurrency and buffers
//
// A *Verifier is safe for concurrent use; it caches derived signing keys
// per (access key, date, region, service). Verify does not keep the
// Request or any of its strings; the strings in Result alias the request's
// header or query strings, so copy them if they must outlive those.
package sigv4
