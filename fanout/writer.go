package fanout

import "github.com/sluicehq/sluice/stream"

// StreamWriter is the body of a started event-stream response. The HTTP
// layer provides it after it has sent the response head (status 200,
// Content-Type application/vnd.amazon.eventstream, x-amzn-RequestId, no
// Content-Length). Run writes whole event-stream messages with Write and
// calls Flush after every message, so each reaches the client at once.
// A Write or Flush error (the client went away) ends the subscription.
//
// Writes may block while the client does not read (TCP or HTTP/2 flow
// control): that blocks only this subscription, which is the backpressure
// a slow consumer gets.
type StreamWriter = stream.EventWriter
