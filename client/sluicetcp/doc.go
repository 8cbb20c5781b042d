// Package sluicetcp is a Go client of sluice's binary TCP ingest protocol
// (wire/PROTOCOL.md): a pool of connections (Config.Conns), each
// pipelined within the window the server advertises, PutRecords that
// splits records into Puts within the server's frame and record limits,
// retries, and a Batcher that collects records added one at a time into
// batches (by count, bytes or linger) with a bound on batches in flight.
//
// # Retries and duplicates
//
// Every Client has a random producer id (Config.ProducerID) sent in Hello,
// and numbers its Puts with batch ids 1, 2, 3, ... A Put whose answer is
// lost (the connection broke, RequestTimeout passed, or a retriable batch
// error such as CHECKSUM_MISMATCH or SHUTTING_DOWN) is resent byte for
// byte, with the same batch id, possibly on another connection. The server
// keeps the answers of recent batches per (producer id, batch id), so:
//
//   - deduplicated: a resend that reaches the same server process while
//     the first attempt is in flight (it waits for it) or after it was
//     answered, as long as the answer is still in the server's cache
//     (bounded by --tcp dedup memory, 32 MiB by default, oldest first);
//     the resend gets the first attempt's Ack, with the same sequence
//     numbers, and nothing is written twice.
//   - not deduplicated: a resend after the server restarted (the cache is
//     in memory) or after the entry was evicted; a resend by another
//     Client (another producer id); records resent because they failed
//     alone with THROTTLED or INTERNAL (they go out in a new batch, but
//     they were not written the first time, so this makes no duplicate);
//     a batch whose first attempt failed as a whole (it was not written,
//     and it runs again).
//
// So a record is written twice only if a server restart or cache eviction
// falls between a write and the resend of a batch whose answer was lost.
//
// A producer that keeps its ProducerID across restarts (tools/sluice-agent
// stores it in its checkpoint) numbers its batches on from where it was
// with Config.FirstBatchID, and resends a batch whose answer it never saw
// from that batch's id (NextBatchID tells the id the next Put gets): the
// Puts split and number the same way, so the server answers them from its
// cache.
//
// Sequence numbers: an Ack carries one sequence number per shard group of
// a Put; Result.SequenceNumber computes a record's from it when called
// (frame.SeqNumOffset), so a caller that does not look at them does not pay
// for them.
//
// Concurrency: a Client is safe for concurrent use; concurrent PutRecords
// calls share and pipeline the pooled connections. Buffers: PutRecords
// copies the records into its frames before it returns; the caller may
// reuse them afterwards.
package sluicetcp
