package sigv4

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders",
		"AWS4-HMAC-SHA256",
		"",
		"Bearer x=y=z,,, ,Credential==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != CodeIncompleteSignature || !strings.HasSuffix(e.Message, h+"'.") && !strings.HasSuffix(e.Message, "Authorization="+h) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if a.Credential == "" || a.Signature == "" || a.SignedHeaders == "" {
			t.Fatalf("accepted with a missing parameter: %+v", a)
		}
		for _, v := range []string{a.Credential, a.Signature, a.SignedHeaders} {
			if strings.ContainsAny(v, ", ") || !strings.Contains(h, v) {
				t.Fatalf("value %q not a component of %q", v, h)
			}
		}
		// Round trip through the SDKs' layout.
		again, err := ParseAuthorization(a.Algorithm + " Credential=" + a.Credential + ", SignedHeaders=" + a.SignedHeaders + ", Signature=" + a.Signature)
		if err != nil || again != a {
			t.Fatalf("round trip: %+v %v, want %+v", again, err, a)
		}
	})
}

// fuzzSeeds are requests signed by aws-sdk-go-v2 at signTime, as FuzzVerify
// arguments: authorization, x-amz-date, body, path, query, extra header.
func fuzzSeeds(t testing.TB) [][]any {
	var out [][]any
	add := func(r *testReq, extra string) {
		out = append(out, []any{r.header.Get("Authorization"), r.header.Get("X-Amz-Date"), r.body, r.path, r.query, extra})
	}
	hdr := append(kinesisHeaders("PutRecord"), [2]string{"X-Extra", "v  1"})
	add(sdkSign(t, "POST", "http://h/", []byte(`{"StreamName":"s"}`), hdr, testCreds, "us-east-1", "kinesis"), "v  1")
	add(sdkSign(t, "POST", "http://h/a/./b/../c?z=1&a=%20", []byte("x"), hdr, testCreds, "eu-west-1", "kinesis"), "v  1")
	add(sdkSign(t, "POST", "http://h//x//", nil, hdr, testCreds, "us-east-1", "kinesis"), "v  1")
	add(sdkSign(t, "POST", "http://h/", []byte("x"), hdr, testCreds, "us-east-1", "firehose"), "v  1")
	return out
}

func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s[0].(string), s[1].(string), s[2].([]byte), s[3].(string), s[4].(string), s[5].(string))
	}
	v := newTestVerifier(f, Config{})
	f.Fuzz(func(t *testing.T, auth, date string, body []byte, path, query, extra string) {
		hdr := [][2]string{
			{"Authorization", auth}, {"X-Amz-Date", date}, {"X-Extra", extra},
			{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.PutRecord"},
		}
		r := &Request{Method: "POST", Path: path, RawQuery: query, Host: "h", Header: headerFunc(hdr), Body: body}
		res, err := v.Verify(r, signTime)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Accepted: the signature must be one an independent signer
		// computes for this request.
		a, perr := ParseAuthorization(auth)
		if perr != nil {
			t.Fatalf("accepted an unparseable header: %v", perr)
		}
		scope := strings.Split(strings.TrimRight(a.Credential, "/"), "/")
		if res.AccessKeyID != testKey || scope[0] != testKey || res.Region != scope[2] {
			t.Fatalf("result %+v for %q", res, a.Credential)
		}
		for _, p := range []string{refNormalize(path), refRaw(path)} {
			c := refCanonical(r, p, a.SignedHeaders)
			if refSign(testSecret, date, scope[2], "kinesis", c) == a.Signature {
				return
			}
		}
		t.Fatalf("accepted a signature the reference signer does not compute: %q", auth)
	})
}

// refCanonical is an independent, straightforward canonical request.
func refCanonical(r *Request, canonicalPath, signedHeaders string) string {
	q, _ := url.ParseQuery(r.RawQuery)
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{refEscape(k), refEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var qs []string
	for _, p := range pairs {
		qs = append(qs, p[0]+"="+p[1])
	}
	var lines []string
	for _, name := range strings.Split(signedHeaders, ";") {
		var vals []string
		if name == ":authority" || strings.ToLower(name) == "host" {
			vals = []string{r.Host}
		} else {
			vals = r.Header(strings.ToLower(name))
			if len(vals) == 0 && strings.ToLower(name) == "content-length" {
				vals = []string{fmt.Sprint(len(r.Body))}
			}
		}
		for i, v := range vals {
			v = strings.TrimSpace(v)
			for strings.Contains(v, "  ") {
				v = strings.ReplaceAll(v, "  ", " ")
			}
			vals[i] = v
		}
		lines = append(lines, name+":"+strings.Join(vals, ","))
	}
	return strings.Join([]string{r.Method, canonicalPath, strings.Join(qs, "&"), strings.Join(lines, "\n") + "\n", signedHeaders, hexSHA256(r.Body)}, "\n")
}

func refEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func refEscapePath(p string) string {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = refEscape(parts[i])
	}
	return strings.Join(parts, "/")
}

func refRaw(p string) string {
	if p == "" {
		return "/"
	}
	return refEscapePath(p)
}

func refNormalize(p string) string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	n := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		n += "/"
	}
	return refEscapePath(n)
}

// TestWireSigV4WriteFuzzCorpus regenerates the committed seed corpora
// (SIGV4_WRITE_CORPUS=1 go test -run WriteFuzzCorpus ./wire/sigv4).
func TestWireSigV4WriteFuzzCorpus(t *testing.T) {
	if os.Getenv("SIGV4_WRITE_CORPUS") == "" {
		t.Skip("set SIGV4_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target string, i int, args ...any) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch a := a.(type) {
			case string:
				fmt.Fprintf(&b, "string(%q)\n", a)
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", a)
			}
		}
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzSeeds(t) {
		write("FuzzVerify", i, s...)
	}
	for i, h := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target, Signature=2b5e8b1d1c0f0e5d0c1b2a39485766778899aabbccddeeff0011223344556677",
		"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/kinesis/aws4_request, SignedHeaders=:authority;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;x-amz-content-sha256;x-amz-date;x-amz-target;x-amz-user-agent, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d,SignedHeaders=host,Signature=x",
		"",
	} {
		write("FuzzParseAuthorization", i, h)
	}
}

// TestWireSigV4FuzzSeedsVerify makes sure FuzzVerify's seeds are accepted,
// so the fuzzer starts from requests that reach the acceptance check.
func TestWireSigV4FuzzSeedsVerify(t *testing.T) {
	v := newTestVerifier(t, Config{})
	for i, s := range fuzzSeeds(t) {
		hdr := [][2]string{
			{"Authorization", s[0].(string)}, {"X-Amz-Date", s[1].(string)}, {"X-Extra", s[5].(string)},
			{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.PutRecord"},
		}
		r := &Request{Method: "POST", Path: s[3].(string), RawQuery: s[4].(string), Host: "h", Header: headerFunc(hdr), Body: s[2].([]byte)}
		_, err := v.Verify(r, signTime)
		if wantOK := i != 3; (err == nil) != wantOK { // seed 3 is scoped to firehose
			t.Errorf("seed %d: %v", i, err)
		}
	}
}
