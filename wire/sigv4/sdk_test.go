package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var signTime = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testReq is a request as a server sees it.
type testReq struct {
	method, path, query, host string
	header                    http.Header
	body                      []byte
}

func (tr *testReq) request() *Request {
	h := tr.header
	return &Request{Method: tr.method, Path: tr.path, RawQuery: tr.query, Host: tr.host,
		Header: func(name string) []string { return h.Values(name) }, Body: tr.body}
}

func (tr *testReq) clone() *testReq {
	c := *tr
	c.header = tr.header.Clone()
	c.body = bytes.Clone(tr.body)
	return &c
}

// sdkSign signs a request with aws-sdk-go-v2's signer and returns it as the
// server would see it. hdr are extra headers (repeated names allowed).
func sdkSign(t testing.TB, method, url string, body []byte, hdr [][2]string, creds aws.Credentials, region, service string) *testReq {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		req.Header.Add(h[0], h[1])
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hexSHA256(body), service, region, signTime); err != nil {
		t.Fatal(err)
	}
	return &testReq{method: method, path: req.URL.EscapedPath(), query: req.URL.RawQuery, host: req.URL.Host,
		header: req.Header, body: body}
}

func kinesisHeaders(op string) [][2]string {
	return [][2]string{{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202." + op}}
}

var testCreds = aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}

func newTestVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	if cfg.Credentials == nil {
		cfg.Credentials = StaticCredentials{testKey: testSecret, "OTHERKEY": "othersecret"}
	}
	if cfg.Service == "" {
		cfg.Service = "kinesis"
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWireSigV4SDKShapes signs many request shapes with the real Go SDK
// signer and sends them over real HTTP/1.1 to a server that verifies them.
func TestWireSigV4SDKShapes(t *testing.T) {
	v := newTestVerifier(t, Config{})
	type outcome struct {
		res Result
		err error
	}
	results := make(chan outcome, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path, query, _ := strings.Cut(r.RequestURI, "?")
		req := &Request{Method: r.Method, Path: path, RawQuery: query, Host: r.Host,
			Header: func(n string) []string { return r.Header.Values(n) }, Body: body}
		res, err := v.Verify(req, signTime.Add(90*time.Second))
		results <- outcome{res, err}
	}))
	defer srv.Close()

	body := []byte(`{"StreamName":"s1","Data":"aGVsbG8=","PartitionKey":"pk"}`)
	session := testCreds
	session.SessionToken = "FQoGZXIvYXdzEXAMPLE//token+with/slashes=="
	cases := []struct {
		name   string
		method string
		target string
		body   []byte
		hdr    [][2]string
		creds  aws.Credentials
		region string
		presig string // "" or the X-Amz-Expires to presign with ("-" for none)
	}{
		{"put-record", "POST", "/", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", ""},
		{"session-token", "POST", "/", body, kinesisHeaders("PutRecord"), session, "eu-west-1", ""},
		{"content-sha256", "POST", "/", body, append(kinesisHeaders("PutRecord"), [2]string{"X-Amz-Content-Sha256", hexSHA256(body)}), testCreds, "us-east-1", ""},
		{"cbor", "POST", "/", []byte{0xbf, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x62, 's', '1', 0xff}, [][2]string{{"Content-Type", "application/x-amz-cbor-1.1"}, {"X-Amz-Target", "Kinesis_20131202.DescribeStream"}}, testCreds, "ap-southeast-2", ""},
		{"empty-body", "GET", "/", nil, nil, testCreds, "us-east-1", ""},
		{"query", "POST", "/?b=2&a=1&a=0&empty=&sp=a%20b&tilde=~x&plus=a+b&noval", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", ""},
		{"base-path", "POST", "/base/path/", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", ""},
		{"escaped-path", "POST", "/a%20b/c%2Fd/%C3%BC", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", ""},
		{"dot-path", "POST", "/a/./b/../c", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", ""},
		{"double-slash-path", "POST", "/x//y//", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", ""},
		{"repeated-headers", "POST", "/", body, append(kinesisHeaders("PutRecord"), [2]string{"X-Custom", "a"}, [2]string{"X-Custom", "b"}), testCreds, "us-east-1", ""},
		{"spaces-in-header", "POST", "/", body, append(kinesisHeaders("PutRecord"), [2]string{"X-Custom", "  a   b \t c  "}), testCreds, "us-east-1", ""},
		{"extra-signed-headers", "POST", "/", body, append(kinesisHeaders("PutRecord"), [2]string{"Amz-Sdk-Invocation-Id", "7f0e2a5c-1f7e-4a57-a0a1-2b5b5c1c0d11"}, [2]string{"Amz-Sdk-Request", "attempt=1; max=3"}), testCreds, "us-east-1", ""},
		{"presigned-expires", "POST", "/?X-Amz-Expires=300", body, kinesisHeaders("PutRecord"), testCreds, "us-east-1", "300"},
		{"presigned", "POST", "/", body, kinesisHeaders("PutRecord"), session, "us-east-1", "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.target, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.hdr {
				req.Header.Add(h[0], h[1])
			}
			signer := v4.NewSigner()
			if tc.presig != "" {
				u, signedHdr, err := signer.PresignHTTP(context.Background(), tc.creds, req, hexSHA256(tc.body), "kinesis", tc.region, signTime)
				if err != nil {
					t.Fatal(err)
				}
				if req, err = http.NewRequest(tc.method, u, bytes.NewReader(tc.body)); err != nil {
					t.Fatal(err)
				}
				for k, vs := range signedHdr {
					if k != "Host" {
						req.Header[k] = vs
					}
				}
			} else if err := signer.SignHTTP(context.Background(), tc.creds, req, hexSHA256(tc.body), "kinesis", tc.region, signTime); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := <-results
			if got.err != nil {
				t.Fatalf("Verify: %v", got.err)
			}
			want := Result{AccessKeyID: testKey, Region: tc.region, Service: "kinesis", Date: "20240101T120000Z"}
			if got.res != want {
				t.Fatalf("result %+v, want %+v", got.res, want)
			}
		})
	}
}

// refSign signs a canonical request independently of the package.
func refSign(secret, date, region, service, canonical string) string {
	mac := func(k []byte, s string) []byte {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac(mac(mac(mac([]byte("AWS4"+secret), date[:8]), region), service), "aws4_request")
	sts := "AWS4-HMAC-SHA256\n" + date + "\n" + date[:8] + "/" + region + "/" + service + "/aws4_request\n" + hexSHA256([]byte(canonical))
	return hex.EncodeToString(mac(k, sts))
}

// TestWireSigV4HTTP2Authority reproduces what @aws-sdk/client-kinesis v3
// sends over h2c (CLIENTS.md 2.2): it signs ":authority" instead of "host"
// and sends x-amz-content-sha256. The request goes over real cleartext
// HTTP/2, where the server sees the authority only as r.Host.
func TestWireSigV4HTTP2Authority(t *testing.T) {
	v := newTestVerifier(t, Config{})
	errs := make(chan error, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.ProtoMajor != 2 {
			errs <- io.ErrUnexpectedEOF
			return
		}
		path, query, _ := strings.Cut(r.RequestURI, "?")
		req := &Request{Method: r.Method, Path: path, RawQuery: query, Host: r.Host,
			Header: func(n string) []string { return r.Header.Values(n) }, Body: body}
		_, err := v.Verify(req, signTime)
		errs <- err
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()

	host := strings.TrimPrefix(srv.URL, "http://")
	body := []byte(`{"StreamName":"s1"}`)
	bodyHash := hexSHA256(body)
	const signed = ":authority;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;x-amz-content-sha256;x-amz-date;x-amz-target;x-amz-user-agent"
	canonical := "POST\n/\n\n" +
		":authority:" + host + "\n" +
		"amz-sdk-invocation-id:0b7c3c0e-4c1e-4a52-9d3b-0c6c1d8e2f10\n" +
		"amz-sdk-request:attempt=1; max=3\n" +
		"content-length:19\n" +
		"content-type:application/x-amz-json-1.1\n" +
		"x-amz-content-sha256:" + bodyHash + "\n" +
		"x-amz-date:20240101T120000Z\n" +
		"x-amz-target:Kinesis_20131202.DescribeStreamSummary\n" +
		"x-amz-user-agent:aws-sdk-js/3.1143.0\n" +
		"\n" + signed + "\n" + bodyHash
	sig := refSign(testSecret, "20240101T120000Z", "us-west-2", "kinesis", canonical)

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	send := func(signature string) error {
		req, _ := http.NewRequest("POST", srv.URL+"/", bytes.NewReader(body))
		req.Header.Set("Amz-Sdk-Invocation-Id", "0b7c3c0e-4c1e-4a52-9d3b-0c6c1d8e2f10")
		req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Content-Sha256", bodyHash)
		req.Header.Set("X-Amz-Date", "20240101T120000Z")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.DescribeStreamSummary")
		req.Header.Set("X-Amz-User-Agent", "aws-sdk-js/3.1143.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20240101/us-west-2/kinesis/aws4_request, SignedHeaders="+signed+", Signature="+signature)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-errs
	}
	if err := send(sig); err != nil {
		t.Fatalf("JS-style :authority request: %v", err)
	}
	err := send(strings.Repeat("1", 64))
	if e, ok := err.(*Error); !ok || e.Code != CodeInvalidSignature || !strings.Contains(e.Message, canonical) {
		t.Fatalf("bad signature: %v", err)
	}
}

func sdkSignHash(t testing.TB, body []byte, hdr [][2]string, payloadHash string) *testReq {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://127.0.0.1:4567/", bytes.NewReader(body))
	for _, h := range hdr {
		req.Header.Add(h[0], h[1])
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, payloadHash, "kinesis", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	return &testReq{method: "POST", path: "/", host: req.URL.Host, header: req.Header, body: body}
}

func sdkPresign(t testing.TB, target string, body []byte) *testReq {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://127.0.0.1:4567"+target, bytes.NewReader(body))
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, hexSHA256(body), "kinesis", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	_, query, _ := strings.Cut(u, "?")
	hdr.Del("Host")
	return &testReq{method: "POST", path: "/", query: query, host: "127.0.0.1:4567", header: hdr, body: body}
}
