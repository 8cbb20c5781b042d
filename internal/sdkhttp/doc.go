// Package sdkhttp is the HTTP client to give aws-sdk-go-v2 service
// clients (kinesis.Options.HTTPClient, as the tests do): it wraps the
// SDK's own client and works around a race in smithy-go that closes a
// connection under a response the SDK is still reading.
//
// It was found as the flake of TestCmdRestart (cmd/sluice, about one run
// in four): "GetRecords shardId-...: ... StatusCode: 200, ...,
// deserialization failed, read tcp ...: use of closed network
// connection". The server's response was complete and well framed; the
// client closed the connection itself, from net/http's writeLoop.
//
// The interleaving, for one request with a body of known length:
//
//  1. smithy-go's Request.Build wraps the body (an io.NopCloser of a
//     bytes.Reader) in a safe closer that also has WriteTo, because the
//     reader has one; that WriteTo answers io.EOF once the body is
//     closed, where io.WriterTo wants nil at the end of the data.
//  2. net/http's writeLoop writes the headers, then the Content-Length
//     bytes of the body (transferWriter.writeBody), and is descheduled
//     (two loaded cores).
//  3. The server, on loopback, reads the request and answers. The
//     Transport's readLoop hands the response to RoundTrip as soon as the
//     headers are in; client.Do returns, and smithy-go's ClientHandler
//     closes the request body. The SDK starts to decode the response.
//  4. writeLoop resumes: writeBody checks for bytes beyond Content-Length
//     with io.Copy(io.Discard, body), which calls WriteTo, which returns
//     io.EOF. writeLoop takes it for a failed request write and closes the
//     connection.
//  5. The SDK's next read of the response body fails with "use of closed
//     network connection". A response that the readLoop's 4 KiB buffer
//     held whole survives; a large one (GetRecords with a high Limit)
//     does not.
//
// Client hides the body's WriteTo, so that step 4 reads the body with
// Read, which answers a closed body with a plain io.EOF: the end of the
// body, no error. TestSDKHTTPSmithyWriteToAfterClose pins step 1: when it
// fails after a smithy-go upgrade, the bug is fixed upstream and the
// package can go.
//
// Client is safe for concurrent use when the client it wraps is (the SDK's
// is). It keeps no buffers: a request's body stays the caller's.
package sdkhttp
