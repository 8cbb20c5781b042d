package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is what Verify needs of an HTTP request. Verify only reads it.
type Request struct {
	// Method is the HTTP method, e.g. "POST".
	Method string
	// Path is the escaped path as sent on the request line, without the
	// query ("/" for Kinesis; SDKs may prepend a base path).
	Path string
	// RawQuery is the query string as sent, without "?".
	RawQuery string
	// Host is the Host header (HTTP/1.1) or :authority (HTTP/2). It is the
	// value of both a signed "host" and a signed ":authority".
	Host string
	// Header returns all values of a header, in the order received; name
	// is lower case. A nil Header means no headers. Content-Length, when
	// signed and not returned by Header, is taken as len(Body).
	Header func(name string) []string
	// Body is the whole request body.
	Body []byte
}

// Credentials looks up the secret access key of an access key id.
type Credentials interface {
	Secret(accessKeyID string) (secret string, ok bool)
}

// StaticCredentials maps access key ids to secret access keys.
type StaticCredentials map[string]string

// Secret implements Credentials.
func (c StaticCredentials) Secret(accessKeyID string) (string, bool) {
	s, ok := c[accessKeyID]
	return s, ok
}

// Result is a verified request's identity. The strings alias the request's
// header or query strings.
type Result struct {
	AccessKeyID string
	// Region is the region of the credential scope.
	Region string
	// Service is the service of the credential scope (Config.Service).
	Service string
	// Date is the request time, ISO 8601 basic format (20240101T120000Z).
	Date string
}

// Config configures a Verifier.
type Config struct {
	// Credentials resolves access key ids. Required.
	Credentials Credentials
	// Service is the signing name the credential scope must name:
	// "kinesis" or "firehose". Required.
	Service string
	// MaxSkew is how far the request time may be from now, either way.
	// Default 5 minutes (AWS's window).
	MaxSkew time.Duration
	// AllowUnsignedPayload accepts X-Amz-Content-Sha256: UNSIGNED-PAYLOAD,
	// which leaves the body unsigned. Default false.
	AllowUnsignedPayload bool
	// ValidRegion reports whether a credential scope's region is served.
	// Default: any non-empty region.
	ValidRegion func(region string) bool
}

func (c *Config) withDefaults() {
	if c.MaxSkew == 0 {
		c.MaxSkew = 5 * time.Minute
	}
	if c.ValidRegion == nil {
		c.ValidRegion = func(region string) bool { return region != "" }
	}
}

// Validate reports a configuration error.
func (c *Config) Validate() error {
	if c.Credentials == nil {
		return errors.New("sigv4: Config.Credentials is nil")
	}
	if c.Service == "" {
		return errors.New("sigv4: Config.Service is empty")
	}
	if c.MaxSkew < 0 {
		return errors.New("sigv4: Config.MaxSkew is negative")
	}
	return nil
}

// maxCachedKeys bounds the signing key cache; when full it is emptied
// (keys change daily, so a full cache is mostly stale anyway).
const maxCachedKeys = 4096

// Verifier verifies SigV4 signatures. It is safe for concurrent use.
type Verifier struct {
	cfg Config

	mu   sync.Mutex
	keys map[keyID]cachedKey

	bufs sync.Pool // *[]byte, canonical request scratch
}

type keyID struct{ accessKeyID, date, region, service string }

type cachedKey struct {
	secret string
	key    [sha256.Size]byte
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg, keys: make(map[keyID]cachedKey)}, nil
}

// Verify checks r with a Verifier without a key cache; see
// (*Verifier).Verify.
func Verify(r *Request, creds Credentials, service string, now time.Time) (Result, error) {
	v, err := NewVerifier(Config{Credentials: creds, Service: service})
	if err != nil {
		return Result{}, err
	}
	return v.Verify(r, now)
}

const (
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// signature is the signing material of a request, from the Authorization
// header or from the query.
type signature struct {
	algorithm     string
	credential    string
	signedHeaders string
	signature     string
	date          string // as sent
	expires       string // presigned only; "" if absent
	presigned     bool
	query         url.Values // parsed query, nil if none
}

func (r *Request) header(name string) []string {
	if r.Header == nil {
		return nil
	}
	return r.Header(name)
}

func (r *Request) firstHeader(name string) string {
	if v := r.header(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Verify checks the signature of r at time now. It returns the identity on
// success and a *Error with AWS's code and text otherwise.
func (v *Verifier) Verify(r *Request, now time.Time) (Result, error) {
	sig, err := v.extract(r)
	if err != nil {
		return Result{}, err
	}
	if err := v.checkDate(&sig, now); err != nil {
		return Result{}, err
	}
	if !signsHost(sig.signedHeaders) {
		return Result{}, newError(CodeInvalidSignature, msgHostNotSigned)
	}
	if sig.algorithm != Algorithm {
		return Result{}, newError(CodeIncompleteSignature,
			"Unsupported AWS 'algorithm': '"+sig.algorithm+"' (only "+Algorithm+" for now). ")
	}
	akid, scopeDate, region, service, err := v.checkScope(&sig)
	if err != nil {
		return Result{}, err
	}
	secret, ok := v.cfg.Credentials.Secret(akid)
	if !ok {
		return Result{}, newError(CodeUnrecognizedClient, msgUnknownKey)
	}

	var hashBuf [2 * sha256.Size]byte
	payloadHash := v.payloadHash(r, &hashBuf)
	key := v.signingKey(akid, secret, scopeDate, region, service)
	scope := sig.credential[len(akid)+1:]
	scope = strings.TrimRight(scope, "/")

	bp := v.getBuf()
	defer v.bufs.Put(bp)
	normPath := normalizePath(r.Path)
	buf := appendCanonicalRequest((*bp)[:0], r, &sig, normPath, payloadHash)
	if signatureMatches(buf, &key, sig.date, scope, sig.signature) {
		*bp = buf
		return Result{AccessKeyID: akid, Region: region, Service: service, Date: sig.date}, nil
	}
	canonical := string(buf)
	// aws-sdk-go-v2 signs the path without normalising it.
	if rawPath := rawCanonicalPath(r.Path); rawPath != normPath {
		buf = appendCanonicalRequest(buf[:0], r, &sig, rawPath, payloadHash)
		if signatureMatches(buf, &key, sig.date, scope, sig.signature) {
			*bp = buf
			return Result{AccessKeyID: akid, Region: region, Service: service, Date: sig.date}, nil
		}
	}
	*bp = buf
	return Result{}, mismatchError(canonical, sig.date, scope)
}

func (v *Verifier) getBuf() *[]byte {
	if bp, ok := v.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 1024)
	return &b
}

// extract finds the signature in the Authorization header or the query and
// reports missing or incomplete authentication.
func (v *Verifier) extract(r *Request) (signature, error) {
	var sig signature
	auth := r.firstHeader("authorization")
	if r.RawQuery != "" {
		// ParseQuery keeps the pairs it can decode; AWS SDKs never send
		// undecodable ones.
		sig.query, _ = url.ParseQuery(r.RawQuery)
	}
	_, queryAuth := sig.query["X-Amz-Algorithm"]
	switch {
	case auth != "" && queryAuth:
		return sig, newError(CodeInvalidSignature, msgBothAuth)
	case auth == "" && !queryAuth:
		return sig, newError(CodeMissingAuthenticationToken, msgMissingToken)
	case auth != "":
		a, perr := parseAuthorization(auth)
		if perr != nil {
			return sig, perr
		}
		sig.algorithm, sig.credential, sig.signedHeaders, sig.signature = a.Algorithm, a.Credential, a.SignedHeaders, a.Signature
		sig.date = r.firstHeader("x-amz-date")
		if sig.date == "" {
			sig.date = r.firstHeader("date")
		}
		msg := a.missingParams()
		if sig.date == "" {
			msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
		}
		if msg != "" {
			return sig, newError(CodeIncompleteSignature, msg+"Authorization="+auth)
		}
		return sig, nil
	default:
		q := sig.query
		sig.presigned = true
		sig.algorithm = q.Get("X-Amz-Algorithm")
		sig.credential = q.Get("X-Amz-Credential")
		sig.signature = q.Get("X-Amz-Signature")
		sig.signedHeaders = q.Get("X-Amz-SignedHeaders")
		sig.date = q.Get("X-Amz-Date")
		sig.expires = q.Get("X-Amz-Expires")
		// kinesalite index.js: the missing parameters in this order, then
		// "Re-examine the query-string parameters."
		var msg string
		for _, p := range [...]struct{ name, value string }{
			{"X-Amz-Algorithm", sig.algorithm},
			{"X-Amz-Credential", sig.credential},
			{"X-Amz-Signature", sig.signature},
			{"X-Amz-SignedHeaders", sig.signedHeaders},
			{"X-Amz-Date", sig.date},
		} {
			if p.value == "" {
				msg += "AWS query-string parameters must include '" + p.name + "'. "
			}
		}
		if msg != "" {
			return sig, newError(CodeIncompleteSignature, msg+"Re-examine the query-string parameters.")
		}
		return sig, nil
	}
}

// checkDate parses the request date and checks it against now. A Date
// header in RFC 1123 form is accepted and signed in ISO 8601 basic form
// [unsure: what AWS does with it; no SDK sends one].
func (v *Verifier) checkDate(sig *signature, now time.Time) error {
	t, err := time.Parse(amzDateFormat, sig.date)
	if err != nil || len(sig.date) != len(amzDateFormat) {
		t2, err2 := time.Parse(time.RFC1123, sig.date)
		if err2 != nil || sig.presigned {
			// dynalite, captured from AWS.
			return newError(CodeIncompleteSignature,
				"Date must be in ISO-8601 'basic format'. Got '"+sig.date+"'. See http://en.wikipedia.org/wiki/ISO_8601")
		}
		t = t2.UTC()
		sig.date = t.Format(amzDateFormat)
	}
	now = now.UTC().Truncate(time.Second)
	skew := v.cfg.MaxSkew
	if sig.presigned && sig.expires != "" {
		secs, err := strconv.ParseInt(sig.expires, 10, 64)
		if err != nil || secs < 0 || secs > 604800 {
			// [unsure] S3's text (AuthorizationQueryParametersError,
			// aws/aws-cli#5464); Coral's could not be found.
			return newError(CodeIncompleteSignature,
				"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
		}
		if t.After(now.Add(skew)) {
			return notYetCurrent(sig.date, now, skew)
		}
		if now.After(t.Add(time.Duration(secs) * time.Second)) {
			return newError(CodeInvalidSignature, msgPresignExpired)
		}
		return nil
	}
	if t.Before(now.Add(-skew)) {
		// "Signature expired: 20160610T180547Z is now earlier than
		// 20160610T180612Z (20160610T181112Z - 5 min.)"
		// (hassy/artillery-dino#2, remind101/logspout-kinesis#21).
		return newError(CodeInvalidSignature, "Signature expired: "+sig.date+" is now earlier than "+
			now.Add(-skew).Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" - "+skewText(skew)+")")
	}
	if t.After(now.Add(skew)) {
		return notYetCurrent(sig.date, now, skew)
	}
	return nil
}

// notYetCurrent is "Signature not yet current: 20181120T211543Z is still
// later than 20181120T211529Z (20181120T211029Z + 5 min.)"
// (serverless/enterprise#11).
func notYetCurrent(date string, now time.Time, skew time.Duration) *Error {
	return newError(CodeInvalidSignature, "Signature not yet current: "+date+" is still later than "+
		now.Add(skew).Format(amzDateFormat)+" ("+now.Format(amzDateFormat)+" + "+skewText(skew)+")")
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " sec."
}

// signsHost reports whether the signed header list has host or :authority.
func signsHost(list string) bool {
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ";")
		if strings.EqualFold(name, "host") || name == ":authority" {
			return true
		}
	}
	return false
}

// checkScope checks the credential keyid/date/region/service/aws4_request.
func (v *Verifier) checkScope(sig *signature) (akid, date, region, service string, err error) {
	// dynalite: trailing slashes are ignored.
	cred := strings.TrimRight(sig.credential, "/")
	var parts [5]string
	rest, n := cred, 0
	for ; n < 4; n++ {
		var ok bool
		if parts[n], rest, ok = strings.Cut(rest, "/"); !ok {
			break
		}
	}
	if n == 4 && !strings.Contains(rest, "/") {
		parts[4], n = rest, 5
	}
	if n != len(parts) {
		return "", "", "", "", newError(CodeIncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+sig.credential+"'")
	}
	akid, date, region, service = parts[0], parts[1], parts[2], parts[3]
	// dynalite, captured from AWS: every failing part, in this order. The
	// trailing space after the first three is in AWS's text
	// (cognitect-labs/aws-api#27 quotes "... not 'ap-southeast-2'. ").
	var msg string
	if !v.cfg.ValidRegion(region) {
		msg += "Credential should be scoped to a valid region, not '" + region + "'. "
	}
	if service != v.cfg.Service {
		msg += "Credential should be scoped to correct service: '" + v.cfg.Service + "'. "
	}
	if parts[4] != "aws4_request" {
		msg += "Credential should be scoped with a valid terminator: 'aws4_request', not '" + parts[4] + "'. "
	}
	if len(sig.date) < 8 || date != sig.date[:8] {
		msg += "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			date + "' != '" + sig.date[:min(8, len(sig.date))] + "', from '" + sig.date + "'."
	}
	if msg != "" {
		return "", "", "", "", newError(CodeInvalidSignature, strings.TrimRight(msg, " "))
	}
	return akid, date, region, service, nil
}

// payloadHash returns the hex SHA-256 of the body (in buf), or
// UNSIGNED-PAYLOAD when the client sent it and the configuration allows it.
func (v *Verifier) payloadHash(r *Request, buf *[2 * sha256.Size]byte) []byte {
	if v.cfg.AllowUnsignedPayload && r.firstHeader("x-amz-content-sha256") == unsignedPayload {
		return []byte(unsignedPayload)
	}
	sum := sha256.Sum256(r.Body)
	hex.Encode(buf[:], sum[:])
	return buf[:]
}

// signingKey returns HMAC chain "AWS4"+secret -> date -> region -> service
// -> "aws4_request", from the cache when possible.
func (v *Verifier) signingKey(akid, secret, date, region, service string) [sha256.Size]byte {
	id := keyID{akid, date, region, service}
	v.mu.Lock()
	c, ok := v.keys[id]
	v.mu.Unlock()
	if ok && c.secret == secret {
		return c.key
	}
	k := deriveKey(secret, date, region, service)
	id = keyID{strings.Clone(akid), strings.Clone(date), strings.Clone(region), strings.Clone(service)}
	v.mu.Lock()
	if len(v.keys) >= maxCachedKeys {
		clear(v.keys)
	}
	v.keys[id] = cachedKey{secret: secret, key: k}
	v.mu.Unlock()
	return k
}

func deriveKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k[:], region)
	k = hmacSHA256(k[:], service)
	return hmacSHA256(k[:], "aws4_request")
}

func hmacSHA256(key []byte, data string) [sha256.Size]byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// appendStringToSign appends the string-to-sign for a canonical request
// hash.
func appendStringToSign(dst []byte, date, scope string, canonicalHash []byte) []byte {
	dst = append(dst, Algorithm...)
	dst = append(dst, '\n')
	dst = append(dst, date...)
	dst = append(dst, '\n')
	dst = append(dst, scope...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, canonicalHash)
}

// signatureMatches computes the signature of canonical and compares it in
// constant time with the one sent.
func signatureMatches(canonical []byte, key *[sha256.Size]byte, date, scope, sent string) bool {
	ch := sha256.Sum256(canonical)
	var buf [512]byte
	// HMAC-SHA256 by hand (RFC 2104) on stack buffers: crypto/hmac
	// allocates several objects per call, and this runs on every request.
	b := append(buf[:0], hmacPad(key, 0x36)...)
	b = appendStringToSign(b, date, scope, ch[:])
	inner := sha256.Sum256(b)
	b = append(buf[:0], hmacPad(key, 0x5c)...)
	b = append(b, inner[:]...)
	mac := sha256.Sum256(b)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], mac[:])
	if len(sent) != len(want) {
		return false
	}
	var diff byte
	for i := range want {
		diff |= want[i] ^ sent[i]
	}
	return diff == 0
}

// hmacPad returns the 64-byte HMAC block of a 32-byte key XORed with pad.
func hmacPad(key *[sha256.Size]byte, pad byte) []byte {
	var block [sha256.BlockSize]byte
	for i := range block {
		block[i] = pad
	}
	for i, c := range key {
		block[i] ^= c
	}
	return block[:]
}

func mismatchError(canonical, date, scope string) *Error {
	ch := sha256.Sum256([]byte(canonical))
	sts := appendStringToSign(nil, date, scope, ch[:])
	return newError(CodeInvalidSignature, msgSignatureMismatch+
		"\n\nThe Canonical String for this request should have been\n'"+canonical+
		"'\n\nThe String-to-Sign should have been\n'"+string(sts)+"'\n")
}

// appendCanonicalRequest appends the canonical request:
// method \n path \n query \n headers \n signed-header-list \n payload-hash.
func appendCanonicalRequest(dst []byte, r *Request, sig *signature, canonicalPath string, payloadHash []byte) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = append(dst, canonicalPath...)
	dst = append(dst, '\n')
	dst = appendCanonicalQuery(dst, sig.query, sig.presigned)
	dst = append(dst, '\n')
	list := sig.signedHeaders
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, r, name)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, sig.signedHeaders...)
	dst = append(dst, '\n')
	return append(dst, payloadHash...)
}

func appendHeaderValue(dst []byte, r *Request, name string) []byte {
	if name == ":authority" || strings.EqualFold(name, "host") {
		return appendTrimmed(dst, r.Host)
	}
	values := r.header(strings.ToLower(name))
	if len(values) == 0 && strings.EqualFold(name, "content-length") {
		return strconv.AppendInt(dst, int64(len(r.Body)), 10)
	}
	for i, value := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, value)
	}
	return dst
}

// appendTrimmed appends s without leading and trailing whitespace and with
// runs of spaces collapsed to one (aws-sdk-go-v2 StripExcessSpaces +
// TrimSpace; test suite get-header-value-trim).
func appendTrimmed(dst []byte, s string) []byte {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCanonicalQuery appends the sorted, re-encoded query (without
// X-Amz-Signature for a presigned request).
func appendCanonicalQuery(dst []byte, q url.Values, presigned bool) []byte {
	if len(q) == 0 {
		return dst
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := uriEncode(k, true)
		for _, val := range vs {
			pairs = append(pairs, pair{ek, uriEncode(val, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = append(dst, p.v...)
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// uriEncode percent-encodes every byte but the RFC 3986 unreserved ones
// (and "/" unless encodeSlash), upper-case hex, as AWS requires.
func uriEncode(s string, encodeSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && (encodeSlash || c != '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (!encodeSlash && c == '/') {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return string(b)
}

// normalizePath returns the canonical URI of every service but S3: dot
// segments removed and empty segments dropped (RFC 3986 5.2.4; test suite
// normalize-path), a trailing "/" kept, then encoded once more (so an
// escaped %20 becomes %2520).
func normalizePath(p string) string {
	if p == "/" || p == "" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && p[0] == '/' {
		return uriEncode(p, false)
	}
	segs := make([]string, 0, 8)
	for s := range strings.SplitSeq(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		out += "/"
	}
	return uriEncode(out, false)
}

// rawCanonicalPath is aws-sdk-go-v2's canonical URI: the escaped path
// encoded once more, without normalisation.
func rawCanonicalPath(p string) string {
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}
