package sigv4

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func basePutRecord(t testing.TB) *testReq {
	body := []byte(`{"StreamName":"s1","Data":"aGVsbG8=","PartitionKey":"pk"}`)
	return sdkSign(t, "POST", "http://127.0.0.1:4567/", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", "kinesis")
}

func TestWireSigV4Mutations(t *testing.T) {
	v := newTestVerifier(t, Config{})
	now := signTime.Add(time.Minute)
	base := basePutRecord(t)
	if _, err := v.Verify(base.request(), now); err != nil {
		t.Fatalf("base request: %v", err)
	}
	auth := base.header.Get("Authorization")
	mismatch := msgSignatureMismatch + "\n\nThe Canonical String for this request should have been\n'"

	f := func(name string, mutate func(r *testReq), now time.Time, code, msg string, prefix bool) {
		t.Helper()
		r := base.clone()
		mutate(r)
		_, err := v.Verify(r.request(), now)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want %s", name, err, code)
			return
		}
		if e.Code != code || e.Status != 400 || (prefix && !strings.HasPrefix(e.Message, msg)) || (!prefix && e.Message != msg) {
			t.Errorf("%s: got %s %q,\nwant %s %q (prefix %v)", name, e.Code, e.Message, code, msg, prefix)
		}
	}
	setAuth := func(a string) func(r *testReq) { return func(r *testReq) { r.header.Set("Authorization", a) } }

	f("body byte", func(r *testReq) { r.body[3] ^= 1 }, now, CodeInvalidSignature, mismatch, true)
	f("body appended", func(r *testReq) { r.body = append(r.body, ' ') }, now, CodeInvalidSignature, mismatch, true)
	f("signed header value", func(r *testReq) { r.header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords") }, now, CodeInvalidSignature, mismatch, true)
	f("signed header repeated", func(r *testReq) { r.header.Add("Content-Type", "text/plain") }, now, CodeInvalidSignature, mismatch, true)
	f("host", func(r *testReq) { r.host = "127.0.0.1:4568" }, now, CodeInvalidSignature, mismatch, true)
	f("method", func(r *testReq) { r.method = "PUT" }, now, CodeInvalidSignature, mismatch, true)
	f("path", func(r *testReq) { r.path = "/x" }, now, CodeInvalidSignature, mismatch, true)
	f("query added", func(r *testReq) { r.query = "a=1" }, now, CodeInvalidSignature, mismatch, true)
	f("content-sha256 of another body", func(r *testReq) { r.header.Set("X-Amz-Content-Sha256", hexSHA256([]byte("x"))); r.body = []byte("x") },
		now, CodeInvalidSignature, mismatch, true)
	f("date one second later", func(r *testReq) { r.header.Set("X-Amz-Date", "20240101T120001Z") }, now, CodeInvalidSignature, mismatch, true)
	f("signature", setAuth(strings.Replace(auth, "Signature=", "Signature=0", 1)[:len(auth)]), now, CodeInvalidSignature, mismatch, true)
	f("wrong secret", setAuth(strings.Replace(auth, testKey, "OTHERKEY", 1)), now, CodeInvalidSignature, mismatch, true)
	f("region", setAuth(strings.Replace(auth, "/us-east-1/", "/eu-west-1/", 1)), now, CodeInvalidSignature, mismatch, true)
	f("signed header dropped", setAuth(strings.Replace(auth, "content-type;", "", 1)), now, CodeInvalidSignature, mismatch, true)

	f("unknown key", setAuth(strings.Replace(auth, testKey, "AKIDUNKNOWN", 1)), now, CodeUnrecognizedClient, "The security token included in the request is invalid.", false)
	f("no auth", func(r *testReq) { r.header.Del("Authorization") }, now, CodeMissingAuthenticationToken, "Missing Authentication Token", false)
	f("both auth", func(r *testReq) { r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256" }, now, CodeInvalidSignature,
		"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.", false)
	f("host not signed", setAuth(strings.Replace(auth, "host;", "", 1)), now, CodeInvalidSignature,
		"'Host' must be a 'SignedHeader' in the AWS Authorization.", false)
	f("no signature", setAuth("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date"), now,
		CodeIncompleteSignature, "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date", false)
	f("only algorithm, no date", func(r *testReq) { r.header.Set("Authorization", "AWS4-HMAC-SHA256"); r.header.Del("X-Amz-Date") }, now,
		CodeIncompleteSignature, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. "+
			"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "+
			"Authorization=AWS4-HMAC-SHA256", false)
	f("no date", func(r *testReq) { r.header.Del("X-Amz-Date") }, now, CodeIncompleteSignature,
		"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="+auth, false)
	f("missing equal sign", setAuth("AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders"), now, CodeIncompleteSignature,
		"'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'.", false)
	f("bad date", func(r *testReq) { r.header.Set("X-Amz-Date", "201") }, now, CodeIncompleteSignature,
		"Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601", false)
	f("expired", func(*testReq) {}, signTime.Add(5*time.Minute+time.Second), CodeInvalidSignature,
		"Signature expired: 20240101T120000Z is now earlier than 20240101T120001Z (20240101T120501Z - 5 min.)", false)
	f("not yet current", func(*testReq) {}, signTime.Add(-5*time.Minute-time.Second), CodeInvalidSignature,
		"Signature not yet current: 20240101T120000Z is still later than 20240101T115959Z (20240101T115459Z + 5 min.)", false)
	f("algorithm", setAuth(strings.Replace(auth, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)), now, CodeIncompleteSignature,
		"Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' (only AWS4-HMAC-SHA256 for now). ", false)
	f("credential parts", setAuth(strings.Replace(auth, "/kinesis/aws4_request", "/kinesis", 1)), now, CodeIncompleteSignature,
		"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+testKey+"/20240101/us-east-1/kinesis'", false)
	f("service", setAuth(strings.Replace(auth, "/kinesis/", "/firehose/", 1)), now, CodeInvalidSignature,
		"Credential should be scoped to correct service: 'kinesis'.", false)
	f("scope all wrong", setAuth(strings.Replace(auth, "20240101/us-east-1/kinesis/aws4_request", "20240102//dynamodb/aws5_request", 1)), now, CodeInvalidSignature,
		"Credential should be scoped to a valid region, not ''. Credential should be scoped to correct service: 'kinesis'. "+
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "+
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240102' != '20240101', from '20240101T120000Z'.", false)

	// Things that must not matter.
	ok := func(name string, mutate func(r *testReq), now time.Time) {
		t.Helper()
		r := base.clone()
		mutate(r)
		if _, err := v.Verify(r.request(), now); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok("unsigned header added", func(r *testReq) { r.header.Set("User-Agent", "x") }, now)
	ok("trailing slash in credential", setAuth(strings.Replace(auth, "aws4_request", "aws4_request/", 1)), now)
	ok("no spaces after commas", setAuth(strings.ReplaceAll(auth, ", ", ",")), now)
	ok("content-length header present", func(r *testReq) { r.header.Set("Content-Length", strconv.Itoa(len(r.body))) }, now)
	ok("unsigned x-amz-content-sha256 ignored", func(r *testReq) { r.header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }, now)
	ok("skew at the limit", func(*testReq) {}, signTime.Add(5*time.Minute))
	ok("content-sha256 of the body", func(r *testReq) { r.header.Set("X-Amz-Content-Sha256", hexSHA256(r.body)) }, now)
}

func TestWireSigV4RegionPolicy(t *testing.T) {
	v := newTestVerifier(t, Config{ValidRegion: func(r string) bool { return r == "us-east-1" }})
	r := sdkSign(t, "POST", "http://127.0.0.1:4567/", []byte("{}"), kinesisHeaders("ListStreams"), testCreds, "eu-west-1", "kinesis")
	_, err := v.Verify(r.request(), signTime)
	var e *Error
	if !errors.As(err, &e) || e.Message != "Credential should be scoped to a valid region, not 'eu-west-1'." {
		t.Fatalf("got %v", err)
	}
}

func TestWireSigV4UnsignedPayload(t *testing.T) {
	hdr := append(kinesisHeaders("PutRecord"), [2]string{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"})
	// The Go SDK signs whatever payload hash it is given.
	r := sdkSignHash(t, []byte("{}"), hdr, "UNSIGNED-PAYLOAD")
	if _, err := newTestVerifier(t, Config{}).Verify(r.request(), signTime); err == nil {
		t.Fatal("UNSIGNED-PAYLOAD accepted without AllowUnsignedPayload")
	}
	v := newTestVerifier(t, Config{AllowUnsignedPayload: true})
	r.body = []byte("[]") // same length: content-length is signed
	if _, err := v.Verify(r.request(), signTime); err != nil {
		t.Fatalf("UNSIGNED-PAYLOAD with AllowUnsignedPayload: %v", err)
	}
}

func TestWireSigV4Presigned(t *testing.T) {
	v := newTestVerifier(t, Config{})
	body := []byte("{}")
	r := sdkPresign(t, "/?X-Amz-Expires=60", body)
	if _, err := v.Verify(r.request(), signTime.Add(60*time.Second)); err != nil {
		t.Fatalf("within X-Amz-Expires: %v", err)
	}
	_, err := v.Verify(r.request(), signTime.Add(61*time.Second))
	if e, ok := err.(*Error); !ok || e.Code != CodeInvalidSignature || e.Message != msgPresignExpired {
		t.Fatalf("after X-Amz-Expires: %v", err)
	}
	_, err = v.Verify(r.request(), signTime.Add(-6*time.Minute))
	if e, ok := err.(*Error); !ok || !strings.HasPrefix(e.Message, "Signature not yet current: ") {
		t.Fatalf("before the date: %v", err)
	}
	bad := r.clone()
	bad.query = strings.Replace(bad.query, "X-Amz-Signature=", "X-Amz-Signature=f", 1)
	if e, ok := func() (*Error, bool) {
		_, err := v.Verify(bad.request(), signTime)
		e, ok := err.(*Error)
		return e, ok
	}(); !ok || e.Code != CodeInvalidSignature {
		t.Fatalf("bad presigned signature accepted")
	}
	missing := &testReq{method: "POST", path: "/", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T120000Z", host: "h", header: r.header}
	_, err = v.Verify(missing.request(), signTime)
	want := "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. " +
		"AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
	if e, ok := err.(*Error); !ok || e.Code != CodeIncompleteSignature || e.Message != want {
		t.Fatalf("missing query params: %v", err)
	}
}

func TestWireSigV4ParseAuthorization(t *testing.T) {
	a, err := ParseAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	if err != nil {
		t.Fatal(err)
	}
	want := Authorization{Algorithm: "AWS4-HMAC-SHA256", Credential: "AKID/20240101/us-east-1/kinesis/aws4_request", SignedHeaders: "host;x-amz-date", Signature: "abc"}
	if a != want {
		t.Fatalf("got %+v", a)
	}
	// syslog-ng's static header (CLIENTS.md 4.3) parses; only its signature is wrong.
	if _, err := ParseAuthorization("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"); err != nil {
		t.Fatal(err)
	}
	_, err = ParseAuthorization("Bearer xyz")
	if e, ok := err.(*Error); !ok || e.Code != CodeIncompleteSignature || !strings.HasPrefix(e.Message, "'xyz' not a valid key=value pair") {
		t.Fatalf("got %v", err)
	}
}

func TestWireSigV4CacheUsesSecret(t *testing.T) {
	creds := StaticCredentials{testKey: testSecret}
	v := newTestVerifier(t, Config{Credentials: creds})
	r := basePutRecord(t)
	if _, err := v.Verify(r.request(), signTime); err != nil {
		t.Fatal(err)
	}
	creds[testKey] = "rotated"
	if _, err := v.Verify(r.request(), signTime); err == nil {
		t.Fatal("cached key of the old secret still accepted")
	}
}

func TestWireSigV4DateHeader(t *testing.T) {
	// A request dated by a Date header in RFC 1123 form is signed over
	// the ISO 8601 form of that date.
	v := newTestVerifier(t, Config{})
	canonical := "POST\n/\n\ndate:Mon, 01 Jan 2024 12:00:00 GMT\nhost:h\n\ndate;host\n" + hexSHA256(nil)
	sig := refSign(testSecret, "20240101T120000Z", "us-east-1", "kinesis", canonical)
	hdr := [][2]string{{"Date", "Mon, 01 Jan 2024 12:00:00 GMT"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=" + testKey + "/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=date;host, Signature=" + sig}}
	if _, err := v.Verify(&Request{Method: "POST", Path: "/", Host: "h", Header: headerFunc(hdr)}, signTime); err != nil {
		t.Fatal(err)
	}
}

// TestWireSigV4Concurrent verifies from several goroutines through one
// Verifier (shared key cache; run with -race), with requests of two
// regions and two keys so the cache is written concurrently.
func TestWireSigV4Concurrent(t *testing.T) {
	v := newTestVerifier(t, Config{})
	other := testCreds
	other.AccessKeyID, other.SecretAccessKey = "OTHERKEY", "othersecret"
	reqs := []*testReq{
		basePutRecord(t),
		sdkSign(t, "POST", "http://h/", []byte("{}"), kinesisHeaders("ListShards"), other, "eu-west-1", "kinesis"),
		sdkSign(t, "POST", "http://h/", []byte("[]"), kinesisHeaders("ListShards"), testCreds, "ap-south-1", "kinesis"),
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := range 200 {
				if _, err = v.Verify(reqs[(g+i)%len(reqs)].request(), signTime); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestWireSigV4PresignedBadExpires(t *testing.T) {
	v := newTestVerifier(t, Config{})
	r := sdkPresign(t, "/?X-Amz-Expires=604801", []byte("{}"))
	_, err := v.Verify(r.request(), signTime)
	if e, ok := err.(*Error); !ok || e.Code != CodeIncompleteSignature || !strings.HasPrefix(e.Message, "X-Amz-Expires must be less than a week") {
		t.Fatalf("got %v", err)
	}
}
