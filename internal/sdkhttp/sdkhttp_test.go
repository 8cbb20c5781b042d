package sdkhttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluicehq/sluice/internal/sdkhttp"
)

// TestSDKHTTPSmithyWriteToAfterClose pins the smithy-go behaviour the package
// works around: a built request body, once closed, answers WriteTo with
// io.EOF. When this test fails after a smithy-go upgrade, the bug is fixed
// upstream and the package can go.
func TestSDKHTTPSmithyWriteToAfterClose(t *testing.T) {
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	req.Method = http.MethodPost
	r, err := req.SetStream(bytes.NewReader([]byte(`{"a":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	r.ContentLength = 7
	body := r.Build(context.Background()).Body
	wt, ok := body.(io.WriterTo)
	if !ok {
		t.Fatalf("the built body %T has no WriteTo any more: the Transport cannot hit the bug", body)
	}
	if err := body.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.WriteTo(io.Discard); err != io.EOF {
		t.Fatalf("WriteTo after Close = %v, want the io.EOF of the bug", err)
	}
}

// TestSDKHTTPResponseOutlivesRequestBody orders the race of the package
// documentation with channels: the client's connection holds the goroutine
// that wrote the request body until the SDK has closed that body and
// started to read the response, and the server sends the rest of a 64 KiB
// response only after that. Through the bare SDK client the connection is
// closed under the response (which proves that the test sets the race up);
// through Client the call succeeds.
func TestSDKHTTPResponseOutlivesRequestBody(t *testing.T) {
	data := bytes.Repeat([]byte("sluice"), 64<<10/6)
	resp := `{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1.5,"Data":"` +
		base64.StdEncoding.EncodeToString(data) + `","PartitionKey":"k"}],"NextShardIterator":"AAAA","MillisBehindLatest":0}`

	for _, wrapped := range []bool{false, true} {
		name := "sdk"
		if wrapped {
			name = "sdkhttp"
		}
		t.Run(name, func(t *testing.T) {
			var (
				bodyRead     = make(chan struct{}) // the SDK read the response body
				clientClosed = make(chan struct{}) // the client closed its connection
				readOnce     sync.Once
				closeOnce    sync.Once
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadAll(r.Body); err != nil {
					return
				}
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
				_, _ = io.WriteString(w, resp[:1000])
				w.(http.Flusher).Flush()
				select {
				case <-clientClosed:
				case <-time.After(300 * time.Millisecond):
				}
				_, _ = io.WriteString(w, resp[1000:])
			}))
			defer srv.Close()

			dialer := &net.Dialer{}
			transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &holdConn{Conn: c, bodyRead: bodyRead, closed: func() { closeOnce.Do(func() { close(clientClosed) }) }}, nil
			}}
			defer transport.CloseIdleConnections()
			var next sdkhttp.Doer = &http.Client{Transport: transport}
			if wrapped {
				next = sdkhttp.New(next)
			}
			client := kinesis.New(kinesis.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDSDKHTTP", "secret", ""),
				Retryer:      aws.NopRetryer{},
				HTTPClient: doerFunc(func(r *http.Request) (*http.Response, error) {
					res, err := next.Do(r)
					if err == nil {
						res.Body = &signalBody{ReadCloser: res.Body, first: func() { readOnce.Do(func() { close(bodyRead) }) }}
					}
					return res, err
				}),
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("AAAA"), Limit: aws.Int32(10000)})
			if !wrapped {
				t.Logf("the bare SDK client: %v", err)
				if !errors.Is(err, net.ErrClosed) {
					t.Fatalf("the bare SDK client: err = %v, want the closed connection of the race (is smithy-go fixed? see TestSDKHTTPSmithyWriteToAfterClose)", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			if len(out.Records) != 1 || !bytes.Equal(out.Records[0].Data, data) {
				t.Fatalf("GetRecords returned %d records, want the one of %d bytes", len(out.Records), len(data))
			}
			select {
			case <-clientClosed:
				t.Fatal("the client closed its connection after a successful exchange")
			default:
			}
		})
	}
}

// holdConn is a client connection whose Write of a request's last bytes
// (a JSON body ends with '}') waits until the SDK has read the response
// body, and which reports its Close.
type holdConn struct {
	net.Conn
	bodyRead <-chan struct{}
	closed   func()
}

func (c *holdConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if bytes.HasSuffix(p, []byte("}")) {
		select {
		case <-c.bodyRead:
		case <-time.After(5 * time.Second):
		}
	}
	return n, err
}

func (c *holdConn) Close() error {
	c.closed()
	return c.Conn.Close()
}

// signalBody calls first on its first Read.
type signalBody struct {
	io.ReadCloser
	first func()
}

func (b *signalBody) Read(p []byte) (int, error) {
	b.first()
	return b.ReadCloser.Read(p)
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
