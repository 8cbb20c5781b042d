package fanout

import "github.com/sluicehq/sluice/stream"

// Request is a decoded SubscribeToShard request (KINESIS_API.md 4.2); the
// type is the stream package's, shared with the HTTP front end, which
// decodes and checks the request against the model (wire/kinesis) before
// it gets here.
type Request = stream.SubscribeRequest

// StartingPosition is SubscribeToShard's StartingPosition.
type StartingPosition = stream.SubscribePosition
