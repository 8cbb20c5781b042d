package cborclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// ContentType is the CBOR protocol's content type.
const ContentType = "application/x-amz-cbor-1.1"

// TargetPrefix is the Kinesis X-Amz-Target prefix.
const TargetPrefix = "Kinesis_20131202."

// maxResponseBytes bounds a response body read by the client.
const maxResponseBytes = 64 << 20

// Client calls a Kinesis endpoint with CBOR bodies signed by SigV4.
type Client struct {
	endpoint string
	region   string
	creds    aws.Credentials
	http     *http.Client
	signer   *v4.Signer
	// Now returns the signing time; time.Now by default. Tests may set it
	// before the first call.
	Now func() time.Time
}

// New returns a client for endpoint (e.g. "http://127.0.0.1:4567") that
// signs for region with the given key. A nil httpClient means
// http.DefaultClient.
func New(endpoint, region, accessKeyID, secret string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{
		endpoint: strings.TrimRight(endpoint, "/"),
		region:   region,
		creds:    aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret},
		http:     httpClient,
		signer:   v4.NewSigner(),
		Now:      time.Now,
	}
}

// APIError is an error response. Code is the exception name from the
// body's "__type" (namespace "...#" and ":..." suffix removed, as the SDKs
// do), else from the X-Amzn-ErrorType header.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("cborclient: %s (status %d): %s", e.Code, e.StatusCode, e.Message)
}

// Response is a raw response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends body (already encoded) as operation op and returns the raw
// response, whatever its status.
func (c *Client) Do(ctx context.Context, op string, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("cborclient: cannot build request: %w", err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-Amz-Target", TargetPrefix+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "kinesis", c.region, c.Now()); err != nil {
		return nil, fmt.Errorf("cborclient: cannot sign %s: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cborclient: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cborclient: %s: cannot read response: %w", op, err)
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("cborclient: %s: response larger than %d bytes", op, maxResponseBytes)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Call encodes req (see Append; nil sends an empty map, as the SDKs do for
// a request without members), sends it as operation op and decodes the
// response. A non-2xx status becomes an *APIError. An empty 2xx body (no
// output shape) gives an empty map.
func (c *Client) Call(ctx context.Context, op string, req any) (map[string]any, error) {
	if req == nil {
		req = Object{}
	}
	body, err := Encode(req)
	if err != nil {
		return nil, fmt.Errorf("cborclient: cannot encode %s request: %w", op, err)
	}
	resp, err := c.Do(ctx, op, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, apiError(resp)
	}
	if len(resp.Body) == 0 {
		return map[string]any{}, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		return nil, fmt.Errorf("cborclient: %s: response Content-Type %q, want %q", op, ct, ContentType)
	}
	v, err := Decode(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("cborclient: %s: cannot decode response: %w", op, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("cborclient: %s: response is a %T, want a map", op, v)
	}
	return m, nil
}

// apiError builds the error of a non-2xx response. A body that is not a
// CBOR map still gives an error with the header's code.
func apiError(resp *Response) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	if v, err := Decode(resp.Body); err == nil {
		if m, ok := v.(map[string]any); ok {
			e.Code, _ = m["__type"].(string)
			if e.Message, ok = m["message"].(string); !ok {
				e.Message, _ = m["Message"].(string)
			}
		}
	}
	if e.Code == "" {
		e.Code = resp.Header.Get("X-Amzn-Errortype")
	}
	if i := strings.LastIndexByte(e.Code, '#'); i >= 0 {
		e.Code = e.Code[i+1:]
	}
	if i := strings.IndexByte(e.Code, ':'); i >= 0 {
		e.Code = e.Code[:i]
	}
	if e.Code == "" {
		e.Code = http.StatusText(resp.StatusCode)
	}
	return e
}
