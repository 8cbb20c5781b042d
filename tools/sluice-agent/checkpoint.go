package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// Checkpoint file format, version 1 (all integers big-endian):
//
//	header = magic "SLAGCKPT" [8] | version u16 (=1) | reserved u16 (=0)
//	       | body length u32 | body CRC-32C u32                   (20 bytes)
//	body   = producer_id [16] | next_batch u64
//	       | file_count u32 | file * file_count
//	       | tail_count u32 | tail * tail_count
//	       | has_intent u8 (0 or 1) | [intent]
//	file   = dev u64 | ino u64 | fp_len u32 | fp_hash u64 | offset u64
//	       | order u64 | retired u8 | key str16 | path str16
//	tail   = shard_id str8 | sequence_number str8
//	intent = batch_id u64 | dev u64 | ino u64 | start u64 | end u64
//	       | time_ms i64 | record_count u32 | record * record_count
//	record = partition_key str16 | explicit_hash_key str8 | data bytes32
//
// strN is an N-bit length then that many bytes. The file is replaced
// atomically (write a temporary file, fsync, rename, fsync the directory),
// so a reader sees either the old or the new checkpoint, never a mix.

const (
	checkpointMagic   = "SLAGCKPT" // on-disk format; never change
	checkpointVersion = 1          // on-disk format; never change
	checkpointHeader  = 20

	// Decoder limits: a checkpoint beyond them is corrupt, not large.
	maxCheckpointBody = 64 << 20
	maxCheckpointStr  = 4096
	maxIntentRecords  = 100000
	maxRecordData     = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// fileState is what the checkpoint keeps of one tailed file.
type fileState struct {
	Dev, Ino uint64
	FPLen    uint32 // how many leading bytes FPHash covers
	FPHash   uint64 // xxhash64 of the first FPLen bytes
	Offset   uint64 // the first byte not yet shipped (always after a newline, or EOF of a retired file)
	Order    uint64 // position in its key's queue (rotated files before the current one)
	Retired  bool   // no longer at Key's path: drained, then dropped
	Key      string // the logical file: the path the glob matched when it was found
	Path     string // where the file was last seen
}

// shardTail is the last sequence number known on a shard; a recovery scan
// reads after it.
type shardTail struct{ Shard, Seq string }

// record is one record as sent.
type record struct {
	PartitionKey, ExplicitHashKey string
	Data                          []byte
}

// intent is a batch that is being sent: the lines [Start, End) of the file
// (Dev, Ino), with the records themselves, so that a restart can finish
// the batch even if the file was truncated or removed meanwhile. A start
// moves the file of an intent from Start to End; the checkpoints it saves
// while it finishes the batch hold the intent with Start = End (the
// files' offsets already count the batch).
type intent struct {
	BatchID    uint64
	Dev, Ino   uint64
	Start, End uint64
	TimeMS     int64
	Records    []record
}

// checkpoint is the agent's durable state.
type checkpoint struct {
	ProducerID [16]byte
	NextBatch  uint64
	Files      []fileState
	Tails      []shardTail
	Intent     *intent
}

// errCheckpointCorrupt is wrapped by every decoding error.
var errCheckpointCorrupt = errors.New("sluice-agent: corrupt checkpoint")

func appendStr(dst []byte, bits int, s []byte) []byte {
	switch bits {
	case 8:
		dst = append(dst, byte(len(s)))
	case 16:
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	default:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	}
	return append(dst, s...)
}

// appendCheckpoint encodes c after dst. Strings longer than their length
// field are a bug of the caller (validated where they are made).
func appendCheckpoint(dst []byte, c *checkpoint) []byte {
	start := len(dst)
	dst = append(dst, checkpointMagic...)
	dst = binary.BigEndian.AppendUint16(dst, checkpointVersion)
	dst = binary.BigEndian.AppendUint16(dst, 0)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // length, crc
	body := len(dst)
	u64 := binary.BigEndian.AppendUint64
	dst = append(dst, c.ProducerID[:]...)
	dst = u64(dst, c.NextBatch)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(c.Files)))
	for i := range c.Files {
		f := &c.Files[i]
		dst = u64(dst, f.Dev)
		dst = u64(dst, f.Ino)
		dst = binary.BigEndian.AppendUint32(dst, f.FPLen)
		dst = u64(dst, f.FPHash)
		dst = u64(dst, f.Offset)
		dst = u64(dst, f.Order)
		if f.Retired {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
		dst = appendStr(dst, 16, []byte(f.Key))
		dst = appendStr(dst, 16, []byte(f.Path))
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(c.Tails)))
	for _, t := range c.Tails {
		dst = appendStr(dst, 8, []byte(t.Shard))
		dst = appendStr(dst, 8, []byte(t.Seq))
	}
	if c.Intent == nil {
		dst = append(dst, 0)
	} else {
		in := c.Intent
		dst = append(dst, 1)
		dst = u64(dst, in.BatchID)
		dst = u64(dst, in.Dev)
		dst = u64(dst, in.Ino)
		dst = u64(dst, in.Start)
		dst = u64(dst, in.End)
		dst = u64(dst, uint64(in.TimeMS))
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(in.Records)))
		for _, r := range in.Records {
			dst = appendStr(dst, 16, []byte(r.PartitionKey))
			dst = appendStr(dst, 8, []byte(r.ExplicitHashKey))
			dst = appendStr(dst, 32, r.Data)
		}
	}
	binary.BigEndian.PutUint32(dst[start+12:], uint32(len(dst)-body))
	binary.BigEndian.PutUint32(dst[start+16:], crc32.Checksum(dst[body:], crcTable))
	return dst
}

// decoder reads the body; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", errCheckpointCorrupt, what)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail(what)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64(what string) uint64 {
	if v := d.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if v := d.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u8(what string) byte {
	if v := d.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) str(bits int, max int, what string) []byte {
	var n int
	switch bits {
	case 8:
		n = int(d.u8(what))
	case 16:
		if v := d.take(2, what); v != nil {
			n = int(binary.BigEndian.Uint16(v))
		}
	default:
		n = int(d.u32(what))
	}
	if d.err == nil && n > max {
		d.err = fmt.Errorf("%w: %s of %d bytes, at most %d", errCheckpointCorrupt, what, n, max)
		return nil
	}
	return d.take(n, what)
}

func (d *decoder) flag(what string) bool {
	v := d.u8(what)
	if d.err == nil && v > 1 {
		d.err = fmt.Errorf("%w: %s flag is %d, want 0 or 1", errCheckpointCorrupt, what, v)
	}
	return v == 1
}

// decodeCheckpoint parses a checkpoint file's content. Every error wraps
// errCheckpointCorrupt. The result does not alias b.
func decodeCheckpoint(b []byte) (*checkpoint, error) {
	if len(b) < checkpointHeader {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", errCheckpointCorrupt, len(b), checkpointHeader)
	}
	if string(b[:8]) != checkpointMagic {
		return nil, fmt.Errorf("%w: bad magic %q", errCheckpointCorrupt, b[:8])
	}
	if v := binary.BigEndian.Uint16(b[8:]); v != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d, this agent reads version %d", errCheckpointCorrupt, v, checkpointVersion)
	}
	if r := binary.BigEndian.Uint16(b[10:]); r != 0 {
		return nil, fmt.Errorf("%w: reserved header field is %#04x, want 0", errCheckpointCorrupt, r)
	}
	n := binary.BigEndian.Uint32(b[12:])
	if n > maxCheckpointBody || int(n) != len(b)-checkpointHeader {
		return nil, fmt.Errorf("%w: body length %d, file has %d bytes after the header", errCheckpointCorrupt, n, len(b)-checkpointHeader)
	}
	body := b[checkpointHeader:]
	if got, want := crc32.Checksum(body, crcTable), binary.BigEndian.Uint32(b[16:]); got != want {
		return nil, fmt.Errorf("%w: body checksum %08x, header says %08x", errCheckpointCorrupt, got, want)
	}
	d := &decoder{b: body}
	c := &checkpoint{}
	copy(c.ProducerID[:], d.take(16, "producer id"))
	c.NextBatch = d.u64("next batch")
	nf := d.u32("file count")
	// Each file takes at least 49 bytes: a count beyond that is corrupt,
	// and checking it first bounds the allocation.
	if d.err == nil && uint64(nf)*49 > uint64(len(d.b)) {
		return nil, fmt.Errorf("%w: %d files in %d bytes", errCheckpointCorrupt, nf, len(d.b))
	}
	c.Files = make([]fileState, 0, nf)
	for i := uint32(0); i < nf && d.err == nil; i++ {
		var f fileState
		f.Dev = d.u64("file dev")
		f.Ino = d.u64("file inode")
		f.FPLen = d.u32("fingerprint length")
		f.FPHash = d.u64("fingerprint")
		f.Offset = d.u64("offset")
		f.Order = d.u64("order")
		f.Retired = d.flag("retired")
		f.Key = string(d.str(16, maxCheckpointStr, "file key"))
		f.Path = string(d.str(16, maxCheckpointStr, "file path"))
		c.Files = append(c.Files, f)
	}
	nt := d.u32("tail count")
	if d.err == nil && uint64(nt)*2 > uint64(len(d.b)) {
		return nil, fmt.Errorf("%w: %d shard tails in %d bytes", errCheckpointCorrupt, nt, len(d.b))
	}
	for i := uint32(0); i < nt && d.err == nil; i++ {
		shard := string(d.str(8, 255, "shard id"))
		seq := string(d.str(8, 255, "sequence number"))
		c.Tails = append(c.Tails, shardTail{Shard: shard, Seq: seq})
	}
	if d.flag("intent") {
		in := &intent{}
		in.BatchID = d.u64("batch id")
		in.Dev = d.u64("intent dev")
		in.Ino = d.u64("intent inode")
		in.Start = d.u64("intent start")
		in.End = d.u64("intent end")
		in.TimeMS = int64(d.u64("intent time"))
		nr := d.u32("record count")
		if d.err == nil && (nr > maxIntentRecords || uint64(nr)*7 > uint64(len(d.b))) {
			return nil, fmt.Errorf("%w: %d intent records in %d bytes", errCheckpointCorrupt, nr, len(d.b))
		}
		if d.err == nil && in.End < in.Start {
			return nil, fmt.Errorf("%w: intent range [%d, %d)", errCheckpointCorrupt, in.Start, in.End)
		}
		in.Records = make([]record, 0, nr)
		for i := uint32(0); i < nr && d.err == nil; i++ {
			pk := string(d.str(16, maxCheckpointStr, "partition key"))
			ehk := string(d.str(8, 255, "explicit hash key"))
			data := d.str(32, maxRecordData, "record data")
			in.Records = append(in.Records, record{PartitionKey: pk, ExplicitHashKey: ehk, Data: append([]byte(nil), data...)})
		}
		c.Intent = in
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCheckpointCorrupt, len(d.b))
	}
	return c, nil
}

// loadCheckpoint reads path; a missing file is (nil, nil).
func loadCheckpoint(path string) (*checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read checkpoint %q: %w", path, err)
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %q: %w (move it away to start over: lines may then be shipped again)", path, err)
	}
	return c, nil
}

// saveCheckpoint replaces path atomically and durably with b: write a
// temporary file beside it, fsync it, rename it over path, fsync the
// directory (STYLE.md 3.6).
func saveCheckpoint(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("cannot create %q: %w", tmp, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %q: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot fsync %q: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot close %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cannot rename %q to %q: %w", tmp, path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open directory %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cannot fsync directory %q: %w", dir, err)
	}
	return nil
}
