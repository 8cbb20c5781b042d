// Package segment is sluice's storage engine: one append-only,
// erasure-coded log per shard.
//
// A Log assigns every appended record a position (0, 1, 2, ...) and an
// arrival time, and keeps it in segments of k+m fragment files (FORMAT.md).
// Concurrent appends are group-committed by one flusher goroutine per log:
// appenders encode their records into the pending batch under Log.mu and
// wait; the flusher swaps the batch out, cuts it into stripes of at most
// Config.MaxStripeBytes, codes each stripe into k data and m parity chunks
// (Reed-Solomon), writes every fragment's chunks with one pwritev, and in
// Fsync mode fdatasyncs every fragment file before it acknowledges. A group
// commit forms from whatever arrived while the previous one was being
// written and synced; Config.Linger can hold the flusher back for more.
// Appenders wait while more than Config.MaxPendingBytes are pending, so
// memory stays bounded when the disk falls behind.
//
// Readers never take the writer's lock: they follow the index published by
// the flusher (under the state lock, briefly) and read the chunks from a
// read-only shared mapping of each fragment file, verifying every chunk's
// xxhash64 and rebuilding missing or corrupt data chunks from parity.
// Notify and Wait let a reader sleep until the next commit instead of
// polling.
//
// Open recovers: it cuts torn tails, verifies every checksum, rebuilds and
// rewrites damaged chunks, re-creates missing or truncated fragment files,
// and reports (Log.Recovery) records it cannot rebuild; reading those
// returns a *CorruptionError naming the segment and the records, never
// wrong bytes. Scrub does the same on a live log. EnforceRetention deletes
// whole segments past the retention period; Config.MaxDiskBytes makes
// appends fail with ErrDiskFull instead of filling the disk.
//
// # Concurrency
//
// A Log is safe for concurrent use. Lock order, outermost first:
//
//	flushMu (flusher around a commit; Scrub)
//	  mu (pending batch, writer state)
//	  state (segment list and indexes; readers take it shared)
//	notifyMu (leaf)
//
// mu and state are never held together. The flusher goroutine owns the
// batch it swapped out, the scratch buffers and each segment's write
// offset. A segment is reference counted: readers hold a reference while
// they read its mapping, so retention never unmaps under a reader.
//
// # Buffers
//
// Append copies the records; the caller keeps its slices. Records returned
// by Read own fresh memory (one buffer per stripe) and may be kept.
// AppendAsync's callback runs on the flusher goroutine and must not block.
package segment
