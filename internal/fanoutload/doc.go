// Package fanoutload drives enhanced fan-out (SubscribeToShard) against a
// sluice server over a real loopback socket, for the fan-out latency
// benchmark (bench/cmd/sluice-bench fanout) and the stalled-consumer test
// of cmd/sluice. It speaks only the public wire protocol: no server code.
//
//   - Client: an h2c (HTTP/2 with prior knowledge) client of one server,
//     one TCP connection, any number of streams: JSON 1.1 calls (Call) and
//     SubscribeToShard (Subscribe), whose event stream is decoded with the
//     AWS SDK's own event-stream codec. NewHTTP1Client makes the JSON
//     calls over HTTP/1.1, for servers without h2c (kinesalite,
//     kinesis-mock).
//   - Consume: a subscriber loop that re-subscribes from the last
//     ContinuationSequenceNumber when a subscription ends (its lifetime).
//   - Stall: a consumer that subscribes over a raw HTTP/2 connection,
//     reads the response heads and the first message, and then never reads
//     its socket again.
//   - RunProducers: PutRecords producers (HTTP/1.1, fasthttp), paced at a
//     total rate or at full speed, bounded in time and record count.
//   - Poll: a GetRecords poller of one shard at a fixed interval.
//   - Placement: the shard and sequence number of every record, from the
//     PutRecords responses (ProducerConfig.Placement); a ReadLog per
//     reader of one shard checks that what it received was acknowledged
//     on that shard with that sequence number, in increasing order.
//   - Tracker: per record id (stamped into the record's data), the time of
//     the PutRecords acknowledgement and of each consumer's receipt, on one
//     monotonic clock; Latencies turns them into ack-to-receipt samples.
//     NewSampledTracker records only every n-th id, for loads of millions
//     of records.
//
// # Concurrency and buffers
//
// A Tracker is safe for concurrent use (atomics only). A Placement is
// written by the producers and read once RunProducers has returned; a
// ReadLog is owned by its reader's goroutine until Check. A Client is safe for
// concurrent use (net/http over golang.org/x/net/http2). A Subscription is
// owned by one goroutine; the Event that Next returns, its Records and
// their Data are valid until the next call of Next. Poll and Consume call
// their callback on their own goroutine, with slices valid only during the
// call.
package fanoutload
