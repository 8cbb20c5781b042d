// Command sluicectl is the operator CLI of sluice.
//
// For now it has one command group, segment, which works on the files of
// one shard log (package segment) while the server is stopped:
//
//	sluicectl segment inspect [--json] DIR [DIR...]
//	sluicectl segment verify  [--json] DIR [DIR...]
//	sluicectl segment repair  [--json] DIR [DIR...]
//
// DIR... are the data directories of ONE shard log, in the order the server
// uses them: fragment j of every segment lives in DIR[j % len(DIRs)], in a
// file named %020d.%02d.frag (base position, fragment index). The geometry
// (data + parity fragments) is read from the file headers. A fragment file
// found in the wrong DIR means the DIRs are wrong or out of order: every
// command refuses to run rather than report (or re-create) it as missing.
//
// inspect opens the log read-only and prints the geometry, the record range
// and, per segment, its name, first and end position, stripes, first and
// last arrival time (RFC 3339 UTC, milliseconds), used and preallocated
// bytes per fragment file and its files. --json prints the same as one JSON
// object.
//
// verify opens the log read-only: recovery checks every checksum and
// reports without changing anything. It prints one line per problem (the
// segment, the fragment file, the offset, and the records affected where
// known; the chunk problems of one file over consecutive records, as a lost
// file yields one per stripe, share a line) and per lost range (records
// that more than Parity damaged chunks make unrebuildable, or whose segment
// is gone), then a summary line. --json prints the segment Report, every
// problem on its own, with an "ok" field.
//
// repair opens the log for writing, which rebuilds damaged chunks from
// parity and re-creates missing or truncated fragment files, then runs a
// repairing scrub and a final checking scrub, and prints all three. Lost
// records stay lost (they are marked, and reads of them fail naming them);
// they make repair exit 1, as do records missing between segments (which
// only recovery reports, not Scrub). --json prints {"ok", "recovery",
// "scrub", "final", "lost"}. repair takes the flock on DATA_DIR/LOCK of any
// sluice data directory above the DIRs, so it refuses to run while a server
// uses them and no server starts while it runs. It also refuses a DIR that
// does not exist: it could be the mount point of a disk that is not mounted.
//
// # Exit status
//
//	0  ok: inspect opened the log; verify found nothing wrong; repair left
//	   every record readable
//	1  failure: the log cannot be opened, verify found damage, or records
//	   are lost after repair
//	2  usage error: unknown command or flag, no DIR
//
// Report.OK does not count a torn tail: newest stripes with fewer than Data
// intact chunks and no missing file are taken for a write that a crash
// interrupted (never acknowledged in Fsync mode), and a writable open cuts
// them. verify lists them with that assumption spelled out.
//
// Results go to stdout, usage and errors to stderr. With --json, stdout is
// exactly one JSON object, also when the log cannot be opened
// ({"ok": false, "error": "..."}).
package main
