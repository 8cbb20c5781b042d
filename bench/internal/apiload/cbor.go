package apiload

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/cborclient"
)

// Codecs: the Content-Type of a load's requests.
const (
	CodecJSON = "application/x-amz-json-1.1"
	CodecCBOR = cborclient.ContentType // application/x-amz-cbor-1.1
)

// PutRecordsBodyCBOR is PutRecordsBody in CBOR, encoded as the AWS SDK for
// Java sends it (internal/cborclient: indefinite-length maps and arrays,
// members in model order, Records then StreamName; Data a byte string,
// PartitionKey a text string).
func PutRecordsBodyCBOR(stream string, k, n, size int) []byte {
	in := cborclient.PutRecordsInput{StreamName: stream, Records: make([]cborclient.PutRecordsEntry, n)}
	for i := range n {
		in.Records[i] = cborclient.PutRecordsEntry{Data: RecordData(k, i, size), PartitionKey: PartitionKey(k, i)}
	}
	b, err := cborclient.Encode(in.Object())
	if err != nil {
		panic(err) // the input has only strings and byte slices
	}
	return b
}

// PutRecordBodyCBOR is PutRecordBody in CBOR.
func PutRecordBodyCBOR(stream string, k, size int) []byte {
	in := cborclient.PutRecordInput{StreamName: stream, Data: RecordData(k, 0, size), PartitionKey: PartitionKey(k, 0)}
	b, err := cborclient.Encode(in.Object())
	if err != nil {
		panic(err)
	}
	return b
}

// PutAckedCBOR returns a Check for CBOR PutRecords responses of n records:
// a CBOR map with FailedRecordCount 0 and a Records array of n maps that
// each carry a non-empty SequenceNumber and ShardId and no ErrorCode (a
// null ErrorCode or ErrorMessage, which kinesis-mock sends, counts as
// absent). Other members are skipped. It walks the bytes in place,
// without allocating, instead of decoding them into values: checking a
// 500-entry answer costs the client about half of what PutAcked's scan of
// the JSON answer does (BenchmarkPutAckedCBOR). Every failure wraps
// ErrVerify: a response that is not CBOR, or not this shape, is a server
// that did not do what it was asked.
func PutAckedCBOR(n int) func([]byte) error {
	return func(b []byte) error {
		if err := checkPutRecordsCBOR(b, n); err != nil {
			if len(b) > 120 {
				b = b[:120]
			}
			return fmt.Errorf("%w: PutRecords CBOR response: %w (starts %q)", ErrVerify, err, b)
		}
		return nil
	}
}

// PutRecordAckedCBOR checks a CBOR PutRecord response: a map with a
// non-empty SequenceNumber and ShardId.
func PutRecordAckedCBOR(b []byte) error {
	r := cborWalker{b: b}
	var seq, shard bool
	err := r.mapOf(func(key []byte) error {
		switch string(key) {
		case "SequenceNumber":
			return r.nonEmptyText(&seq)
		case "ShardId":
			return r.nonEmptyText(&shard)
		}
		return r.skip(0)
	})
	if err == nil && r.off != len(b) {
		err = fmt.Errorf("%d bytes after the map", len(b)-r.off)
	}
	if err == nil && (!seq || !shard) {
		err = errors.New("no SequenceNumber and ShardId")
	}
	if err != nil {
		if len(b) > 120 {
			b = b[:120]
		}
		return fmt.Errorf("%w: PutRecord CBOR response: %w (starts %q)", ErrVerify, err, b)
	}
	return nil
}

func checkPutRecordsCBOR(b []byte, n int) error {
	if len(b) == 0 {
		return errors.New("empty body")
	}
	r := cborWalker{b: b}
	failedSeen, recordsSeen := false, false
	err := r.mapOf(func(key []byte) error {
		switch string(key) {
		case "FailedRecordCount":
			major, _, arg, _, err := r.head()
			if err != nil {
				return err
			}
			if major != 0 {
				return fmt.Errorf("FailedRecordCount of major type %d, want an unsigned integer", major)
			}
			if arg != 0 {
				return fmt.Errorf("FailedRecordCount %d", arg)
			}
			failedSeen = true
			return nil
		case "Records":
			recordsSeen = true
			got := 0
			err := r.arrayOf(func() error {
				var seq, shard, failed bool
				err := r.mapOf(func(key []byte) error {
					switch string(key) {
					case "SequenceNumber":
						return r.nonEmptyText(&seq)
					case "ShardId":
						return r.nonEmptyText(&shard)
					case "ErrorCode":
						if r.null() {
							return nil
						}
						failed = true
					}
					return r.skip(0)
				})
				if err != nil {
					return err
				}
				if failed || !seq || !shard {
					return fmt.Errorf("Records[%d] is not acknowledged (ErrorCode set, or no SequenceNumber and ShardId)", got)
				}
				got++
				return nil
			})
			if err != nil {
				return err
			}
			if got != n {
				return fmt.Errorf("acknowledges %d records with a sequence number, %d were sent", got, n)
			}
			return nil
		}
		return r.skip(0)
	})
	switch {
	case err != nil:
		return err
	case r.off != len(b):
		return fmt.Errorf("%d bytes after the map", len(b)-r.off)
	case !failedSeen:
		return errors.New("no FailedRecordCount")
	case !recordsSeen:
		return errors.New("no Records")
	}
	return nil
}

// cborWalker reads CBOR items in place (RFC 8949: definite and indefinite
// lengths), for response checks.
type cborWalker struct {
	b   []byte
	off int
}

var errTruncated = errors.New("truncated CBOR")

// head reads an initial byte and its argument. For indefinite lengths
// (additional information 31) indef is true and arg 0.
func (r *cborWalker) head() (major, ai byte, arg uint64, indef bool, err error) {
	if r.off >= len(r.b) {
		return 0, 0, 0, false, errTruncated
	}
	c := r.b[r.off]
	r.off++
	major, ai = c>>5, c&31
	switch {
	case ai < 24:
		return major, ai, uint64(ai), false, nil
	case ai <= 27:
		n := 1 << (ai - 24)
		if r.off+n > len(r.b) {
			return 0, 0, 0, false, errTruncated
		}
		for _, x := range r.b[r.off : r.off+n] {
			arg = arg<<8 | uint64(x)
		}
		r.off += n
		return major, ai, arg, false, nil
	case ai == 31 && major >= 2 && major <= 5 || ai == 31 && major == 7:
		return major, ai, 0, true, nil
	}
	return 0, 0, 0, false, fmt.Errorf("malformed CBOR initial byte 0x%02x at offset %d", c, r.off-1)
}

// isBreak consumes a break byte (0xff) if one is next.
func (r *cborWalker) isBreak() bool {
	if r.off < len(r.b) && r.b[r.off] == 0xff {
		r.off++
		return true
	}
	return false
}

// null consumes a null (0xf6) or undefined (0xf7) if one is next.
func (r *cborWalker) null() bool {
	if r.off < len(r.b) && (r.b[r.off] == 0xf6 || r.b[r.off] == 0xf7) {
		r.off++
		return true
	}
	return false
}

// str reads a byte or text string of major type want (2 or 3). A definite
// string is returned in place; an indefinite one's chunks are skipped and
// only its length is returned (as a nil slice of that many bytes is not
// possible, n carries it).
func (r *cborWalker) str(want byte) (s []byte, n int, err error) {
	major, _, arg, indef, err := r.head()
	if err != nil {
		return nil, 0, err
	}
	if major != want {
		return nil, 0, fmt.Errorf("major type %d at offset %d, want %d", major, r.off-1, want)
	}
	if !indef {
		if arg > uint64(len(r.b)-r.off) {
			return nil, 0, errTruncated
		}
		s = r.b[r.off : r.off+int(arg)]
		r.off += int(arg)
		return s, len(s), nil
	}
	for !r.isBreak() {
		c, _, err := r.str(want)
		if err != nil {
			return nil, 0, err
		}
		n += len(c)
	}
	return nil, n, nil
}

func (r *cborWalker) nonEmptyText(ok *bool) error {
	_, n, err := r.str(3)
	*ok = err == nil && n > 0
	return err
}

// mapOf reads a map with text keys, calling member for each key; member
// must consume the value.
func (r *cborWalker) mapOf(member func(key []byte) error) error {
	major, _, arg, indef, err := r.head()
	if err != nil {
		return err
	}
	if major != 5 {
		return fmt.Errorf("major type %d at offset %d, want a map", major, r.off-1)
	}
	for i := uint64(0); indef || i < arg; i++ {
		if indef && r.isBreak() {
			return nil
		}
		key, _, err := r.str(3)
		if err != nil {
			return fmt.Errorf("map key: %w", err)
		}
		if key == nil {
			return errors.New("chunked map key")
		}
		if err := member(key); err != nil {
			return err
		}
	}
	return nil
}

// arrayOf reads an array, calling elem for each element; elem must consume it.
func (r *cborWalker) arrayOf(elem func() error) error {
	major, _, arg, indef, err := r.head()
	if err != nil {
		return err
	}
	if major != 4 {
		return fmt.Errorf("major type %d at offset %d, want an array", major, r.off-1)
	}
	for i := uint64(0); indef || i < arg; i++ {
		if indef && r.isBreak() {
			return nil
		}
		if err := elem(); err != nil {
			return err
		}
	}
	return nil
}

// skip consumes one item of any type.
func (r *cborWalker) skip(depth int) error {
	if depth > 32 {
		return errors.New("CBOR nested too deep")
	}
	start := r.off
	major, _, arg, indef, err := r.head()
	if err != nil {
		return err
	}
	switch major {
	case 0, 1, 7:
		if major == 7 && indef {
			return fmt.Errorf("unexpected break at offset %d", start)
		}
		return nil
	case 2, 3:
		r.off = start
		_, _, err := r.str(major)
		return err
	case 6:
		return r.skip(depth + 1)
	}
	// Arrays and maps: a map has two items per entry.
	per := uint64(1)
	if major == 5 {
		per = 2
	}
	for i := uint64(0); indef || i < arg*per; i++ {
		if indef && r.isBreak() {
			return nil
		}
		if err := r.skip(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
