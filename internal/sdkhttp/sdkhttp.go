package sdkhttp

import (
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Doer is the HTTP client interface of aws-sdk-go-v2 (the HTTPClient of
// every service's Options).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client is a Doer that sends requests through another Doer with their
// bodies' WriteTo hidden (see the package documentation).
type Client struct {
	next Doer
}

// New returns a Client that sends through next; nil means the SDK's
// default client (awshttp.NewBuildableClient()).
func New(next Doer) *Client {
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	return &Client{next: next}
}

// Do sends r through the wrapped client, with r's body (if any) reduced to
// Read and Close. r itself is not modified.
func (c *Client) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a shallow copy
		r.Body = readCloser{r.Body}
	}
	return c.next.Do(r)
}

// readCloser has only the Read and Close of the body it holds.
type readCloser struct {
	io.ReadCloser
}
