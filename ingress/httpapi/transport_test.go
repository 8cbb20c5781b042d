package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/sdkhttp"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// testCert returns a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sluice test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// opsHandler is a stand-in for the operational endpoints.
var opsHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/healthz" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok "+r.Proto)
})

// testListener starts a Server with TLS and Ops on a loopback port.
func testListener(t *testing.T, cfg Config) (*Server, string, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if cfg.Ops == nil {
		cfg.Ops = opsHandler
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, ln, cfg)
	return s, ln.Addr().String(), pool
}

// protoRecorder is an aws HTTPClient that records the protocol of every
// response.
type protoRecorder struct {
	c      *awshttp.BuildableClient
	mu     sync.Mutex
	protos map[string]int
}

func (p *protoRecorder) Do(r *http.Request) (*http.Response, error) {
	resp, err := p.c.Do(r)
	if err == nil {
		p.mu.Lock()
		p.protos[resp.Proto]++
		p.mu.Unlock()
	}
	return resp, err
}

// sdkRoundTrip runs create, put, get iterator and get records with the
// aws-sdk-go-v2 Kinesis client over the given transport settings and
// returns the protocols of the responses.
func sdkRoundTrip(t *testing.T, endpoint, name string, opt func(*http.Transport)) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
		config.WithRetryMaxAttempts(1),
		config.WithSharedConfigProfile(""),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	var transport *http.Transport
	rec := &protoRecorder{c: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		opt(tr)
		transport = tr
	}), protos: map[string]int{}}
	defer func() { transport.CloseIdleConnections() }()
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New(rec) // see internal/sdkhttp
	})
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	put, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("hello")})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	puts, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("a"), Data: []byte("one")}, {PartitionKey: aws.String("b"), Data: []byte("two")},
	}})
	if err != nil || aws.ToInt32(puts.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %+v %v", puts, err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	recs, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	if len(recs.Records) != 3 || string(recs.Records[0].Data) != "hello" ||
		aws.ToString(recs.Records[0].SequenceNumber) != aws.ToString(put.SequenceNumber) ||
		string(recs.Records[2].Data) != "two" {
		t.Fatalf("GetRecords: %d records %+v", len(recs.Records), recs.Records)
	}
	_, err = client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("missing")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("DescribeStream of a missing stream: %T %v", err, err)
	}
	return rec.protos
}

func TestHTTPAPITransportSDK(t *testing.T) {
	s, addr, pool := testListener(t, Config{})
	tests := []struct {
		name      string
		endpoint  string
		opt       func(*http.Transport)
		wantProto string
	}{
		{"h2c prior knowledge", "http://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetUnencryptedHTTP2(true)
			tr.Protocols = &p
		}, "HTTP/2.0"},
		{"http1.1", "http://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetHTTP1(true)
			tr.Protocols = &p
		}, "HTTP/1.1"},
		{"tls alpn h2", "https://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetHTTP2(true)
			tr.Protocols = &p
			tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		}, "HTTP/2.0"},
		{"tls http1.1", "https://" + addr, func(tr *http.Transport) {
			var p http.Protocols
			p.SetHTTP1(true)
			tr.Protocols = &p
			tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		}, "HTTP/1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.h2Requests.Load()
			protos := sdkRoundTrip(t, tc.endpoint, strings.ReplaceAll(tc.name, " ", "-"), tc.opt)
			if len(protos) != 1 || protos[tc.wantProto] != 6 {
				t.Fatalf("response protocols %v, want 6 over %s", protos, tc.wantProto)
			}
			h2 := s.h2Requests.Load() - before
			if tc.wantProto == "HTTP/2.0" && h2 != 6 || tc.wantProto != "HTTP/2.0" && h2 != 0 {
				t.Fatalf("the server saw %d HTTP/2 requests", h2)
			}
		})
	}
}

// h2cClient is an HTTP/2 client with prior knowledge over plain TCP.
func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func newAPIRequest(t *testing.T, url, op, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentJSON)
	if op != "" {
		req.Header.Set("X-Amz-Target", targetPrefix+op)
	}
	return req
}

func TestHTTPAPITransportRawH2C(t *testing.T) {
	s, addr, _ := testListener(t, Config{})
	c := h2cClient()
	defer c.CloseIdleConnections()
	resp, err := c.Do(newAPIRequest(t, "http://"+addr+"/", "ListStreams", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || !strings.Contains(string(body), `"StreamNames":[]`) {
		t.Fatalf("%s %d %s", resp.Proto, resp.StatusCode, body)
	}
	if !uuidV4.MatchString(resp.Header.Get("x-amzn-RequestId")) || resp.Header.Get("Content-Type") != contentJSON {
		t.Fatalf("headers %v", resp.Header)
	}
	if s.h2Requests.Load() != 1 {
		t.Fatalf("server counted %d HTTP/2 requests", s.h2Requests.Load())
	}
	// The ops endpoints answer over HTTP/2 too.
	resp, err = c.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok HTTP/2.0" {
		t.Fatalf("/healthz over h2c: %d %q", resp.StatusCode, body)
	}
}

// h2Frames reads frames after the preface until stream 1 ends and returns
// its status, headers and body.
func h2Stream1(t *testing.T, fr *http2.Framer) (status string, hdr map[string]string, body []byte) {
	t.Helper()
	hdr = map[string]string{}
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) { hdr[strings.ToLower(f.Name)] = f.Value })
	for range 50 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					t.Fatal(err)
				}
			}
		case *http2.HeadersFrame:
			if f.StreamID != 1 {
				t.Fatalf("HEADERS on stream %d", f.StreamID)
			}
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				t.Fatal(err)
			}
			if f.StreamEnded() {
				return hdr[":status"], hdr, body
			}
		case *http2.DataFrame:
			body = append(body, f.Data()...)
			if f.StreamEnded() {
				return hdr[":status"], hdr, body
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v", f.ErrCode)
		}
	}
	t.Fatal("stream 1 did not end within 50 frames")
	return
}

func TestHTTPAPITransportH2CUpgrade(t *testing.T) {
	s, addr, _ := testListener(t, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	// HTTP2-Settings: SETTINGS_MAX_CONCURRENT_STREAMS = 100.
	var settings [6]byte
	binary.BigEndian.PutUint16(settings[:], uint16(http2.SettingMaxConcurrentStreams))
	binary.BigEndian.PutUint32(settings[2:], 100)
	body := `{"StreamName":"up","ShardCount":1}`
	req := "POST / HTTP/1.1\r\nHost: " + addr + "\r\n" +
		"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
		"HTTP2-Settings: " + base64.RawURLEncoding.EncodeToString(settings[:]) + "\r\n" +
		"Content-Type: " + contentJSON + "\r\nX-Amz-Target: " + targetPrefix + "CreateStream\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	upgradesBefore := connsH2CUpgradeTotal.Get()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "h2c") {
		t.Fatalf("upgrade answer %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, br)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	status, hdr, got := h2Stream1(t, fr)
	if n := connsH2CUpgradeTotal.Get() - upgradesBefore; n != 1 {
		t.Errorf("h2c upgrades +%d, want +1", n)
	}
	if status != "200" || len(got) != 0 || !uuidV4.MatchString(hdr["x-amzn-requestid"]) {
		t.Fatalf("stream 1: status %s headers %v body %q", status, hdr, got)
	}
	if s.h2Requests.Load() != 1 {
		t.Fatalf("server counted %d HTTP/2 requests", s.h2Requests.Load())
	}
	// The stream exists: the upgraded request ran.
	if _, err := s.cfg.Manager.GetShardIterator("up", "shardId-000000000000", "LATEST", "", 0); err != nil {
		t.Fatalf("stream created over the upgrade: %v", err)
	}
}

func TestHTTPAPITransportTLSNoALPNPreface(t *testing.T) {
	s, addr, pool := testListener(t, Config{})
	before := connsTLSH2NoALPNTotal.Get()
	raw, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool}) // no NextProtos
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if p := raw.ConnectionState().NegotiatedProtocol; p != "" {
		t.Fatalf("negotiated %q without ALPN", p)
	}
	tr := &http2.Transport{}
	cc, err := tr.NewClientConn(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	resp, err := cc.RoundTrip(newAPIRequest(t, "https://"+addr+"/", "ListStreams", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || !strings.Contains(string(body), "StreamNames") {
		t.Fatalf("%s %d %s", resp.Proto, resp.StatusCode, body)
	}
	if s.h2Requests.Load() != 1 {
		t.Fatalf("server counted %d HTTP/2 requests", s.h2Requests.Load())
	}
	if n := connsTLSH2NoALPNTotal.Get() - before; n != 1 {
		t.Fatalf("sluice_api_connections_total{protocol=\"tls_h2_prior_knowledge\"} grew by %d, want 1", n)
	}
	// Ops over TLS.
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/healthz", nil)
	resp, err = cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok HTTP/2.0" {
		t.Fatalf("/healthz over TLS: %q", body)
	}
}

// TestHTTPAPITransportErrorsAlike sends the same bad requests over
// HTTP/1.1 and HTTP/2: status, X-Amzn-ErrorType, Content-Type and body
// must match, each with its own request id.
func TestHTTPAPITransportErrorsAlike(t *testing.T) {
	_, addr, pool := testListener(t, Config{MaxBodyBytes: 1 << 10, Ops: http.NotFoundHandler()})
	h1 := &http.Client{Transport: &http.Transport{}}
	defer h1.CloseIdleConnections()
	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	var p http.Protocols
	p.SetHTTP2(true)
	h2tls := &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer h2tls.CloseIdleConnections()
	tests := []struct {
		name, method, ctype, op, body string
		status                        int
		code                          string
	}{
		{"put method", "PUT", contentJSON, "ListStreams", "{}", 403, "AccessDeniedException"},
		{"xml", "POST", "text/xml", "ListStreams", "{}", 404, "UnknownOperationException"},
		{"empty body", "POST", contentJSON, "ListStreams", "", 400, "SerializationException"},
		{"unknown op", "POST", contentJSON, "Frobnicate", "{}", 400, "UnknownOperationException"},
		{"not implemented", "POST", contentJSON, "SubscribeToShard",
			`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}`,
			501, "NotImplemented"},
		{"too large", "POST", contentJSON, "ListStreams", `{"x":"` + strings.Repeat("a", 2<<10) + `"}`, 413, "InvalidArgumentException"},
		{"bad json", "POST", contentJSON, "PutRecord", "{", 400, "SerializationException"},
		{"validation", "POST", contentJSON, "CreateStream", `{"ShardCount":1}`, 400, "ValidationException"},
		{"not found", "POST", contentJSON, "DescribeStream", `{"StreamName":"nope"}`, 400, "ResourceNotFoundException"},
	}
	type answer struct {
		proto, errType, ctype, body, id string
		status                          int
	}
	send := func(c *http.Client, scheme, method, ctype, op, body string) answer {
		t.Helper()
		req, err := http.NewRequest(method, scheme+"://"+addr+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return answer{resp.Proto, resp.Header.Get("X-Amzn-ErrorType"), resp.Header.Get("Content-Type"), string(b),
			resp.Header.Get("x-amzn-RequestId"), resp.StatusCode}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a1 := send(h1, "http", tc.method, tc.ctype, tc.op, tc.body)
			if a1.proto != "HTTP/1.1" || a1.status != tc.status || a1.errType != tc.code || a1.ctype != contentJSON ||
				!strings.Contains(a1.body, `"__type":"`+tc.code+`"`) || !uuidV4.MatchString(a1.id) {
				t.Fatalf("HTTP/1.1: %+v", a1)
			}
			for _, v := range []struct {
				c      *http.Client
				scheme string
			}{{h2, "http"}, {h2tls, "https"}} {
				a2 := send(v.c, v.scheme, tc.method, tc.ctype, tc.op, tc.body)
				if a2.proto != "HTTP/2.0" || !uuidV4.MatchString(a2.id) || a2.id == a1.id {
					t.Fatalf("%s HTTP/2: %+v", v.scheme, a2)
				}
				a2.proto, a2.id = a1.proto, a1.id
				if a2 != a1 {
					t.Fatalf("%s: HTTP/2 %+v\n  differs from HTTP/1.1 %+v", v.scheme, a2, a1)
				}
			}
		})
	}
}

// TestHTTPAPITransportSniff checks the connections that never tell their
// protocol: silent ones and partial prefaces are closed after
// SniffTimeout, garbage gets a 400 or a close, and the server keeps
// serving others.
func TestHTTPAPITransportSniff(t *testing.T) {
	_, addr, _ := testListener(t, Config{SniffTimeout: 300 * time.Millisecond})
	closedWithin := func(name string, send string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if send != "" {
			if _, err := io.WriteString(c, send); err != nil {
				t.Fatal(err)
			}
		}
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if n != 0 || err == nil {
			t.Fatalf("%s: read %d bytes, %v; want the server to close", name, n, err)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: the server did not close the connection", name)
		}
	}
	sniffBefore, tlsBefore := sniffFailuresTotal.Get(), tlsFailuresTotal.Get()
	closedWithin("silent", "")
	closedWithin("partial preface", "PRI * HTTP/2.0\r\n")
	closedWithin("partial TLS record", "\x16\x03\x01")
	// The TLS handshake's deadline closes the connection before the
	// failure is counted: wait for the count, at most 10 s.
	for i := 0; ; i++ {
		n, m := sniffFailuresTotal.Get()-sniffBefore, tlsFailuresTotal.Get()-tlsBefore
		if n == 2 && m == 1 {
			break
		}
		if i == 1000 {
			t.Fatalf("sniff failures +%d, TLS handshake failures +%d; want +2, +1", n, m)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Garbage: fasthttp answers 400 or closes.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "\x00\x01\x02 garbage \xff\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 400")) {
		t.Fatalf("garbage got %q", b)
	}

	// A short HTTP/1.0 request (shorter than the HTTP/2 preface) is not
	// kept waiting for more bytes.
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, _ = io.ReadAll(c)
	c.Close()
	if !bytes.HasPrefix(b, []byte("HTTP/1.0 404")) && !bytes.HasPrefix(b, []byte("HTTP/1.1 404")) {
		t.Fatalf("short request got %q", b)
	}

	// Pipelined HTTP/1.1 requests on one connection: both answered.
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	one := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentJSON + "\r\nX-Amz-Target: " + targetPrefix + "ListStreams\r\nContent-Length: 2\r\n\r\n{}"
	_, _ = io.WriteString(c, one+one)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for i := range 2 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "StreamNames") {
			t.Fatalf("pipelined response %d: %d %s", i, resp.StatusCode, b)
		}
	}

	// And a normal client still works.
	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	resp, err := h2.Do(newAPIRequest(t, "http://"+addr+"/", "ListStreams", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after the bad connections: %d", resp.StatusCode)
	}
}

// TestHTTPAPITransportShutdown checks that Shutdown ends with an idle
// HTTP/2 connection and a connection still being sniffed open.
func TestHTTPAPITransportShutdown(t *testing.T) {
	cert, _ := testCert(t)
	s, err := New(Config{Manager: openManager(t), Logger: discardLogger(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	addr := ln.Addr().String()
	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	resp, err := h2.Do(newAPIRequest(t, "http://"+addr+"/", "ListStreams", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The silent connection is accepted before Shutdown starts.
	for i := 0; ; i++ {
		s.mu.Lock()
		n := len(s.sniffing)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if i == 2000 {
			t.Fatal("the silent connection was not accepted")
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.ShutdownContext(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d HTTP/2 connections left after Shutdown", n)
	}
}

// TestHTTPAPITransportRequestView checks what an operation sees of a
// request on each transport: method, path, query, host (:authority on
// HTTP/2), protocol, body, case-insensitive header lookup and every header
// with its repeats (what SigV4 needs).
func TestHTTPAPITransportRequestView(t *testing.T) {
	s, addr, _ := testListener(t, Config{})
	type view struct {
		Method, Path, Query, Host, Proto, Body, Target, Remote string
		Rep                                                    []string
		HasContentType                                         bool
	}
	s.ops["Echo"] = func(_ *Server, in *Request, out *Response) error {
		v := view{Method: string(in.Method), Path: string(in.Path), Query: string(in.RawQuery), Host: string(in.Host),
			Proto: in.Proto, Body: string(in.Body), Target: string(in.Header("x-amz-target"))}
		if in.RemoteAddr != nil {
			v.Remote = in.RemoteAddr.String()
		}
		in.VisitHeaders(func(name, value []byte) {
			switch strings.ToLower(string(name)) {
			case "x-rep":
				v.Rep = append(v.Rep, string(value))
			case "content-type":
				v.HasContentType = true
			}
		})
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		writeOK(in, out, b)
		return nil
	}
	h1 := &http.Client{Transport: &http.Transport{}}
	defer h1.CloseIdleConnections()
	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	for _, c := range []struct {
		proto  string
		client *http.Client
	}{{"HTTP/1.1", h1}, {"HTTP/2.0", h2}} {
		req := newAPIRequest(t, "http://"+addr+"/a%2Fb?x=1&y=%20", "Echo", `{"k":1}`)
		req.Header.Add("X-Rep", "one")
		req.Header.Add("X-Rep", "two")
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var v view
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", c.proto, resp.StatusCode, err)
		}
		want := view{Method: "POST", Path: "/a%2Fb", Query: "x=1&y=%20", Host: addr, Proto: c.proto, Body: `{"k":1}`,
			Target: targetPrefix + "Echo", Rep: []string{"one", "two"}, HasContentType: true}
		remote := v.Remote
		v.Remote = ""
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s: the operation saw\n%+v\nwant\n%+v", c.proto, v, want)
		}
		if !strings.HasPrefix(remote, "127.0.0.1:") {
			t.Errorf("%s: RemoteAddr %q", c.proto, remote)
		}
	}
}
