package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/sdkhttp"
	"github.com/sluicehq/sluice/wire/sigv4"
)

const (
	testAccessKey = "AKIDSLUICETEST"
	testSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// testVerifier verifies signatures by testAccessKey for us-east-1.
func testVerifier(t *testing.T) *sigv4.Verifier {
	t.Helper()
	v, err := sigv4.NewVerifier(sigv4.Config{
		Credentials: sigv4.StaticCredentials{testAccessKey: testSecret},
		Service:     "kinesis",
		ValidRegion: func(r string) bool { return r == "us-east-1" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sdkClient returns an aws-sdk-go-v2 Kinesis client for endpoint over the
// transport that opt configures, signing with creds (nil: anonymous, the
// SDK then does not sign), without retries.
func sdkClient(t *testing.T, endpoint string, creds aws.CredentialsProvider, opt func(*http.Transport)) *kinesis.Client {
	t.Helper()
	if creds == nil {
		creds = aws.AnonymousCredentials{}
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(creds),
		config.WithRetryMaxAttempts(1),
		config.WithSharedConfigProfile(""),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	var transport *http.Transport
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		opt(tr)
		transport = tr
	})
	t.Cleanup(func() {
		if transport != nil {
			transport.CloseIdleConnections()
		}
	})
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New(hc) // see internal/sdkhttp
	})
}

// TestHTTPAPIAuthSDK runs the SigV4 checks with the real aws-sdk-go-v2
// client over HTTP/1.1, h2c (prior knowledge, which the verifier sees as
// :authority) and TLS with ALPN h2: a good signature is served; an
// unsigned request, a wrong secret, an unknown access key and a clock
// beyond the 5-minute window get AWS's code, status and text
// (KINESIS_API.md 1.6).
func TestHTTPAPIAuthSDK(t *testing.T) {
	var skew atomic.Int64 // the server clock's offset
	s, addr, pool := testListener(t, Config{
		Verifier: testVerifier(t),
		Now:      func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
	})
	transports := []struct {
		name      string
		endpoint  string
		opt       func(*http.Transport)
		wantProto string
	}{
		{"http1.1", "http://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetHTTP1(true)
			tr.Protocols = &p
		}, "HTTP/1.1"},
		{"h2c", "http://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetUnencryptedHTTP2(true)
			tr.Protocols = &p
		}, "HTTP/2.0"},
		{"tls h2", "https://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetHTTP2(true)
			tr.Protocols = &p
			tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		}, "HTTP/2.0"},
	}
	good := credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, "")
	for i, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			name := "auth" + string(rune('a'+i))
			before := s.h2Requests.Load()
			client := sdkClient(t, tr.endpoint, good, tr.opt)
			if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
				t.Fatalf("CreateStream with a good signature: %v", err)
			}
			if _, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("signed")}); err != nil {
				t.Fatalf("PutRecord with a good signature: %v", err)
			}
			if h2 := s.h2Requests.Load() - before; (tr.wantProto == "HTTP/2.0") != (h2 > 0) {
				t.Fatalf("the server saw %d HTTP/2 requests, want the client's %s", h2, tr.wantProto)
			}

			check := func(what string, client *kinesis.Client, code, msgPrefix string) {
				t.Helper()
				_, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
				var ae smithy.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: %T %v, want %s", what, err, err, code)
				}
				var re *awshttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
					t.Fatalf("%s: want status 400, got %v", what, err)
				}
				if ae.ErrorCode() != code || !strings.HasPrefix(ae.ErrorMessage(), msgPrefix) {
					t.Fatalf("%s: %s %q, want %s %q...", what, ae.ErrorCode(), ae.ErrorMessage(), code, msgPrefix)
				}
				if id := re.ServiceRequestID(); !uuidV4.MatchString(id) {
					t.Fatalf("%s: request id %q", what, id)
				}
			}
			check("unsigned", sdkClient(t, tr.endpoint, nil, tr.opt),
				sigv4.CodeMissingAuthenticationToken, "Missing Authentication Token")
			check("wrong secret", sdkClient(t, tr.endpoint, credentials.NewStaticCredentialsProvider(testAccessKey, testSecret+"x", ""), tr.opt),
				sigv4.CodeInvalidSignature, "The request signature we calculated does not match the signature you provided.")
			check("unknown key", sdkClient(t, tr.endpoint, credentials.NewStaticCredentialsProvider("AKIDUNKNOWN", testSecret, ""), tr.opt),
				sigv4.CodeUnrecognizedClient, "The security token included in the request is invalid.")
			skew.Store(int64(6 * time.Minute)) // the client's clock is 6 minutes slow
			check("client clock slow", client, sigv4.CodeInvalidSignature, "Signature expired: ")
			skew.Store(int64(-6 * time.Minute)) // 6 minutes fast
			check("client clock fast", client, sigv4.CodeInvalidSignature, "Signature not yet current: ")
			skew.Store(int64(4 * time.Minute)) // within the window
			if _, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}); err != nil {
				t.Fatalf("a 4-minute skew is within AWS's window: %v", err)
			}
			skew.Store(0)
		})
	}
}

// TestHTTPAPIAuthOff: without a Verifier any signature, or none, is
// accepted (syslog-ng's static header, CLIENTS.md 4.3).
func TestHTTPAPIAuthOff(t *testing.T) {
	_, addr, _ := testListener(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h1 := func(tr *http.Transport) {}
	for i, creds := range []aws.CredentialsProvider{nil, credentials.NewStaticCredentialsProvider("ANYKEY", "any", "")} {
		client := sdkClient(t, "http://"+addr, creds, h1)
		name := "noauth" + string(rune('a'+i))
		if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatalf("CreateStream: %v", err)
		}
	}
	req := newAPIRequest(t, "http://"+addr+"/", "ListStreams", "{}")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a static fake signature: status %d", resp.StatusCode)
	}
}

// TestHTTPAPIAuthJSAuthority sends what @aws-sdk/client-kinesis v3 sends
// over h2c with prior knowledge (CLIENTS.md 2.2): ":authority" signed in
// place of "host", x-amz-content-sha256 and x-amz-user-agent signed. The
// server takes :authority from Request.Host. The signature is computed
// here independently of wire/sigv4.
func TestHTTPAPIAuthJSAuthority(t *testing.T) {
	signTime := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	_, addr, _ := testListener(t, Config{Verifier: testVerifier(t), Now: func() time.Time { return signTime }})
	hexSum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	body := []byte(`{}`)
	bodyHash := hexSum(body)
	const signed = ":authority;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;x-amz-content-sha256;x-amz-date;x-amz-target;x-amz-user-agent"
	canonical := "POST\n/\n\n" +
		":authority:" + addr + "\n" +
		"amz-sdk-invocation-id:0b7c3c0e-4c1e-4a52-9d3b-0c6c1d8e2f10\n" +
		"amz-sdk-request:attempt=1; max=3\n" +
		"content-length:2\n" +
		"content-type:application/x-amz-json-1.1\n" +
		"x-amz-content-sha256:" + bodyHash + "\n" +
		"x-amz-date:20240101T120000Z\n" +
		"x-amz-target:Kinesis_20131202.ListStreams\n" +
		"x-amz-user-agent:aws-sdk-js/3.1143.0\n" +
		"\n" + signed + "\n" + bodyHash
	k := mac([]byte("AWS4"+testSecret), "20240101")
	k = mac(k, "us-east-1")
	k = mac(k, "kinesis")
	k = mac(k, "aws4_request")
	sig := hex.EncodeToString(mac(k, "AWS4-HMAC-SHA256\n20240101T120000Z\n20240101/us-east-1/kinesis/aws4_request\n"+hexSum([]byte(canonical))))

	client := h2cClient()
	defer client.CloseIdleConnections()
	send := func(signature string) (int, string, string) {
		req, err := http.NewRequest("POST", "http://"+addr+"/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Amz-Sdk-Invocation-Id", "0b7c3c0e-4c1e-4a52-9d3b-0c6c1d8e2f10")
		req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Content-Sha256", bodyHash)
		req.Header.Set("X-Amz-Date", "20240101T120000Z")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		req.Header.Set("X-Amz-User-Agent", "aws-sdk-js/3.1143.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/20240101/us-east-1/kinesis/aws4_request, SignedHeaders="+signed+", Signature="+signature)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("answered over %s", resp.Proto)
		}
		return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(b)
	}
	if status, code, b := send(sig); status != 200 {
		t.Fatalf("JS-style :authority request: %d %s %s", status, code, b)
	}
	if status, code, b := send(strings.Repeat("1", 64)); status != 400 || code != sigv4.CodeInvalidSignature || !strings.Contains(b, "The request signature we calculated does not match") {
		t.Fatalf("a wrong :authority signature: %d %s %s", status, code, b)
	}
}
