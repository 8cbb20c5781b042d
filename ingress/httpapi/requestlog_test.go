package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// lockedBuffer is an io.Writer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHTTPAPIDebugRequestLog: at debug level every dispatched request is
// logged with its operation, request id and the AWS SDK's invocation id
// and attempt header (a client's retry shows as a second line with the same
// invocation id); at info level nothing of it is logged.
func TestHTTPAPIDebugRequestLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		t.Run(level.String(), func(t *testing.T) {
			var buf lockedBuffer
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			startServer(t, ln, Config{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))})
			ctx := context.Background()
			c := sdkTestClient(ctx, t, "http://"+ln.Addr().String())
			if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("logged"), ShardCount: aws.Int32(1)}); err != nil {
				t.Fatal(err)
			}
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("logged"),
				Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("a")}, {PartitionKey: aws.String("k"), Data: []byte("b")}}})
			if err != nil {
				t.Fatal(err)
			}
			reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
			if reqID == "" {
				t.Fatal("PutRecords answer without a request id")
			}
			// The line is in already: the SDK's client speaks HTTP/1.1,
			// and fasthttp sends the answer only once dispatch, which
			// logs, has returned.
			var puts []map[string]any
			lines := 0
			sc := bufio.NewScanner(strings.NewReader(buf.String()))
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("log line %q: %v", sc.Text(), err)
				}
				if m["msg"] != "httpapi: request" {
					continue
				}
				lines++
				if m["operation"] == "PutRecords" {
					puts = append(puts, m)
				}
			}
			if level > slog.LevelDebug {
				if lines != 0 {
					t.Fatalf("%d request lines logged at level %s:\n%s", lines, level, buf.String())
				}
				return
			}
			if lines < 2 || len(puts) != 1 {
				t.Fatalf("want a line for CreateStream and one for PutRecords, got %d lines, %d for PutRecords:\n%s", lines, len(puts), buf.String())
			}
			p := puts[0]
			if p["requestId"] != reqID {
				t.Errorf("requestId %v, want the answer's %q", p["requestId"], reqID)
			}
			if s, _ := p["sdkRequest"].(string); !strings.HasPrefix(s, "attempt=1") {
				t.Errorf("sdkRequest %q, want the SDK's amz-sdk-request header (attempt=1; ...)", s)
			}
			if s, _ := p["sdkInvocationId"].(string); len(s) < 32 {
				t.Errorf("sdkInvocationId %q, want the SDK's amz-sdk-invocation-id", s)
			}
			if s, _ := p["remote"].(string); !strings.HasPrefix(s, "127.0.0.1:") {
				t.Errorf("remote %q, want the client's loopback address", s)
			}
			if _, ok := p["err"]; !ok || p["err"] != nil {
				t.Errorf("err %v, want null for a call that succeeded", p["err"])
			}
		})
	}
}
