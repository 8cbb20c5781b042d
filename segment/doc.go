// Package segment is sluice's storage engine: one append-only,
// erasure-coded log per shard.
//
// A Log assigns every appended record a position (0, 1, 2, ...) and an
// arrival time, and keeps it in segments of k+m fragment files (FORMAT.md).
// Concurrent appends are group-committed by a writer pipeline of three
// goroutines per log (append.go): appenders encode their records into the
// pending batch under Log.mu and wait; flushLoop swaps the batch out, cuts it
// into stripes of at most Config.MaxStripeBytes and codes each stripe into k
// data and m parity chunks (Reed-Solomon); writeLoop writes every fragment's
// chunks with one pwritev; syncLoop, in Fsync mode, syncs (one syncfs per
// file system, or fdatasync per file) before the stripes are published and
// acknowledged, always in order. With syncfs, two group commits may be
// syncing at once, each on descriptors of its own (a writeback error is
// reported once per open file), and ackLoop acknowledges them in order: a
// batch is never acknowledged after an earlier one's sync failed. In Async
// mode flushLoop does a whole group commit itself (code, write, publish,
// acknowledge), and an appender that finds it idle when it waits (Append,
// AppendTimed, Pending.Wait) commits the pending batch itself instead of
// waking it: under a light load that spares the wake-ups. A large group
// commit is split into tasks (the parity of half a stripe; the checksums
// and write of one fragment) that the writing goroutine, a helper and the
// appenders waiting for it claim one by one, so that both cores code, hash
// and copy into the page cache (fragTasks). A group commit forms from
// whatever arrived while the previous one was being coded, written and
// synced;
// Config.Linger can hold the flusher back for more. Once the newest segment
// is half full a goroutine prepares the next segment's files (a spare,
// spare.go), so that a roll under load does not stall the pipeline on
// creating and preallocating them. While the kernel's write-back runs,
// another goroutine writes back and drops from the page cache what the log
// wrote more than 256 MiB ago (write-behind, writebehind.go).
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
// wrong bytes. Scrub does the same on a live log. Whole segments past the
// retention period are deleted every Config.RetentionInterval (by a
// goroutine the log owns and Close stops), at every segment roll and on
// EnforceRetention; Config.MaxDiskBytes makes
// appends fail with ErrDiskFull instead of filling the disk.
//
// # Concurrency
//
// A Log is safe for concurrent use. Lock order, outermost first:
//
//	flushMu (flushLoop while it codes a batch; Scrub)
//	  mu (pending batch, sticky error)
//	  state (segment list and indexes; readers take it shared)
//	notifyMu (leaf)
//
// mu and state are never held together. A batch and its job belong to the
// pipeline stage holding them; flushLoop owns the current segment's write
// offset and the next position. A segment rolls only after every job
// before it has been written and synced, so a torn write can only be at
// the end of the newest segment. A segment is reference counted: readers hold a reference while
// they read its mapping, so retention never unmaps under a reader.
//
// # Buffers
//
// Append copies the records; the caller keeps its slices. Records returned
// by Read own fresh memory (one buffer per stripe) and may be kept.
// AppendAsync's callback runs on the goroutine that commits the batch (a
// writer goroutine, or in Async mode an appender committing inline, see
// flushInline) and must not block.
package segment
