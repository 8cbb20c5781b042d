package httpapi

import (
	"errors"
	"strings"
	"unsafe"

	"github.com/sluicehq/sluice/wire/kinesis"
	"github.com/sluicehq/sluice/wire/sigv4"
)

// authState is the per-exchange scratch of SigV4 verification: the
// sigv4.Request view of the exchange's Request, whose Header function is
// bound once when the exchange is made, so that verifying a request
// allocates nothing of its own.
type authState struct {
	req    *Request
	values []string // the result of the last header lookup
	sig    sigv4.Request
}

// newAuthState returns the scratch for req.
func newAuthState(req *Request) *authState {
	a := &authState{req: req}
	a.sig.Header = a.header
	return a
}

// header returns every value of the lower-case header name. The strings
// alias the transport's buffers (valid during the request only), and the
// slice is reused by the next call.
func (a *authState) header(name string) []string {
	r := a.req
	a.values = a.values[:0]
	switch {
	case r.fh != nil:
		for _, v := range r.fh.PeekAll(name) {
			a.values = append(a.values, bytesToString(v))
		}
	case r.nh != nil:
		// http.Header keys are canonical ("X-Amz-Date"); the lookup by
		// case-insensitive comparison avoids allocating the canonical
		// form of name.
		for k, vs := range r.nh {
			if len(k) == len(name) && strings.EqualFold(k, name) {
				a.values = append(a.values, vs...)
			}
		}
	}
	return a.values
}

// verify checks req's SigV4 signature with Config.Verifier. It returns
// nil when there is no verifier (any or no signature is accepted) or the
// signature is good, and the AWS error to send otherwise.
func (s *Server) verify(req *Request) *kinesis.Error {
	v := s.cfg.Verifier
	if v == nil {
		return nil
	}
	a := req.auth
	if a == nil {
		a = newAuthState(req)
	}
	a.req = req
	a.sig.Method = bytesToString(req.Method)
	a.sig.Path = bytesToString(req.Path)
	a.sig.RawQuery = bytesToString(req.RawQuery)
	a.sig.Host = bytesToString(req.Host)
	a.sig.Body = req.Body
	_, err := v.Verify(&a.sig, s.cfg.Now())
	a.sig = sigv4.Request{Header: a.sig.Header}
	clear(a.values[:cap(a.values)])
	a.values = a.values[:0]
	if err == nil {
		return nil
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &kinesis.Error{Code: se.Code, Message: se.Message, Status: se.Status}
	}
	s.log.Error("httpapi: signature verification failed", "requestId", req.RequestID, "err", err)
	return kinesis.InternalFailure("Internal service failure.")
}

// bytesToString views b as a string without copying; b must not change
// while the string is in use (here: during one request).
func bytesToString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
