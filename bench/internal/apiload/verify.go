package apiload

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// Every record the suites write carries its identity, so that what a
// server returns can be checked, not only timed: the data of record i of
// body k starts with an 18-byte stamp (magic "SLB1", k, i and the data
// size, big-endian uint32 each, then 2 zero bytes) followed by a random
// tail shared by all records of that size. 18 bytes are 24 base64
// characters, so the base64 text of a record is that of its stamp followed
// by that of the shared tail: a record read back is checked by decoding
// 24 characters and comparing the rest with one string.
const StampLen = 18

var stampMagic = []byte("SLB1")

// tail is the random tail of records of one size, generated once per process.
type tail struct {
	raw []byte
	b64 []byte
}

var tails sync.Map // data size -> *tail

func tailFor(size int) *tail {
	if t, ok := tails.Load(size); ok {
		return t.(*tail)
	}
	raw := RandomData(size - StampLen)
	t, _ := tails.LoadOrStore(size, &tail{raw: raw, b64: []byte(base64.StdEncoding.EncodeToString(raw))})
	return t.(*tail)
}

// RecordData returns the data of record i of body k: size bytes, stamped
// when size >= StampLen (smaller records carry random bytes, which
// CheckData rejects).
func RecordData(k, i, size int) []byte {
	if size < StampLen {
		return RandomData(size)
	}
	b := make([]byte, StampLen, size)
	copy(b, stampMagic)
	binary.BigEndian.PutUint32(b[4:], uint32(k))
	binary.BigEndian.PutUint32(b[8:], uint32(i))
	binary.BigEndian.PutUint32(b[12:], uint32(size))
	return append(b, tailFor(size).raw...)
}

// RecordID names a written record: body K, record I.
type RecordID struct{ K, I int }

func (id RecordID) String() string { return fmt.Sprintf("body %d record %d", id.K, id.I) }

// CheckData checks the base64 text of a record's data read back from a
// server: a valid stamp, the size it names, and the shared tail. It
// returns the record's id.
func CheckData(b64 []byte) (RecordID, error) {
	const stampB64 = StampLen / 3 * 4
	if len(b64) < stampB64 {
		return RecordID{}, fmt.Errorf("record data of %d base64 characters is too short to carry a stamp", len(b64))
	}
	var st [StampLen]byte
	if n, err := base64.StdEncoding.Decode(st[:], b64[:stampB64]); err != nil || n != StampLen || !bytes.Equal(st[:4], stampMagic) {
		return RecordID{}, fmt.Errorf("record data does not start with a stamp: %.40q", b64)
	}
	id := RecordID{K: int(binary.BigEndian.Uint32(st[4:])), I: int(binary.BigEndian.Uint32(st[8:]))}
	size := int(binary.BigEndian.Uint32(st[12:]))
	if size < StampLen || size > 1<<20 || st[16] != 0 || st[17] != 0 {
		return id, fmt.Errorf("%v: corrupt stamp (size %d)", id, size)
	}
	if !bytes.Equal(b64[stampB64:], tailFor(size).b64) {
		return id, fmt.Errorf("%v: data differs from what was written (%d base64 characters, want %d)",
			id, len(b64), base64.StdEncoding.EncodedLen(size))
	}
	return id, nil
}

// PutAcked returns a Check for PutRecords responses of n records: no
// failed record, and n result entries that each carry a sequence number.
func PutAcked(n int) func([]byte) error {
	return func(b []byte) error {
		if err := PutFailedZero(b); err != nil {
			return err
		}
		if got := bytes.Count(b, []byte(`"SequenceNumber":"`)); got != n {
			return fmt.Errorf("%w: PutRecords response acknowledges %d records with a sequence number, %d were sent", ErrVerify, got, n)
		}
		return nil
	}
}

// PutRecordAcked checks a PutRecord response: a sequence number and a shard.
func PutRecordAcked(b []byte) error {
	if !bytes.Contains(b, []byte(`"SequenceNumber":"`)) || !bytes.Contains(b, []byte(`"ShardId":"`)) {
		if len(b) > 200 {
			b = b[:200]
		}
		return fmt.Errorf("%w: PutRecord response without SequenceNumber and ShardId: %s", ErrVerify, b)
	}
	return nil
}

// ReadStream reads every shard of stream from TRIM_HORIZON to its end
// (the first empty GetRecords answer), checks each record (CheckData and
// its partition key) and returns how often each record was read and how
// many records each shard holds (in the order of ids).
func ReadStream(addr, stream string) (ids []string, perShard []int64, got map[RecordID]int, err error) {
	ids, err = ShardIDs(addr, stream)
	if err != nil {
		return nil, nil, nil, err
	}
	c := NewClient(addr)
	defer c.Close()
	got = map[RecordID]int{}
	var p fastjson.Parser
	for _, shard := range ids {
		b, err := c.Do(OpGetShardIterator, []byte(`{"StreamName":"`+stream+`","ShardId":"`+shard+`","ShardIteratorType":"TRIM_HORIZON"}`))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("GetShardIterator %s: %w", shard, err)
		}
		v, err := p.ParseBytes(b)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("GetShardIterator %s: %w", shard, err)
		}
		iter := string(v.GetStringBytes("ShardIterator"))
		var n int64
		limit := readLimit
		for calls := 0; iter != ""; calls++ {
			if calls > 1_000_000 {
				return nil, nil, nil, fmt.Errorf("shard %s: no end after %d GetRecords calls", shard, calls)
			}
			b, err := getRecords(c, iter, &limit)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("GetRecords %s: %w", shard, err)
			}
			v, err := p.ParseBytes(b)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("GetRecords %s: %w", shard, err)
			}
			recs := v.GetArray("Records")
			if v.Get("Records") == nil {
				return nil, nil, nil, fmt.Errorf("GetRecords %s: answer without Records: %.200s", shard, b)
			}
			for _, r := range recs {
				id, err := CheckData(r.GetStringBytes("Data"))
				if err != nil {
					return nil, nil, nil, fmt.Errorf("shard %s: %w", shard, err)
				}
				if pk := string(r.GetStringBytes("PartitionKey")); pk != PartitionKey(id.K, id.I) {
					return nil, nil, nil, fmt.Errorf("shard %s: %v has partition key %q, written with %q", shard, id, pk, PartitionKey(id.K, id.I))
				}
				got[id]++
			}
			n += int64(len(recs))
			if len(recs) == 0 {
				break
			}
			iter = string(v.GetStringBytes("NextShardIterator"))
		}
		perShard = append(perShard, n)
	}
	return ids, perShard, got, nil
}

// Compare reports the differences between the records acknowledged (want:
// how often each was written) and those read back (got): lost records,
// duplicates and records never written. nil when they match.
func Compare(want, got map[RecordID]int) error { return CompareResent(want, nil, got) }

// CompareResent is Compare for loads that resent requests after a
// connection failure: record id may be read up to resent[id] times more
// than it was acknowledged (the server may have stored the first attempt).
func CompareResent(want, resent, got map[RecordID]int) error {
	var diffs []string
	var wantN, gotN int
	for id, w := range want {
		wantN += w
		if g := got[id]; g < w || g > w+resent[id] {
			diffs = append(diffs, fmt.Sprintf("%v acknowledged %d time(s), read %d time(s)", id, w, g))
		}
	}
	for id, g := range got {
		gotN += g
		if _, ok := want[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("%v read %d time(s), never written", id, g))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	slices.Sort(diffs)
	more := ""
	if len(diffs) > 5 {
		more = " (and " + strconv.Itoa(len(diffs)-5) + " more)"
		diffs = diffs[:5]
	}
	return fmt.Errorf("%d records acknowledged, %d read back: %v%s", wantN, gotN, diffs, more)
}

// ErrVerify marks a failed verification of what a server returned.
var ErrVerify = errors.New("verification failed")

// CountStream reads every shard of stream from TRIM_HORIZON to its end
// (one connection per shard), checks each record's data (CheckData) and
// returns how often each record was read: after a load, the records
// acknowledged must all be there, once per acknowledgement. Cheaper than
// ReadStream: records are scanned, not parsed, and partition keys are not
// checked.
func CountStream(addr, stream string, timeout time.Duration) (map[RecordID]int, error) {
	ids, err := ShardIDs(addr, stream)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	got := map[RecordID]int{}
	var mu sync.Mutex
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for si, shard := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(addr)
			defer c.Close()
			b, err := c.Do(OpGetShardIterator, []byte(`{"StreamName":"`+stream+`","ShardId":"`+shard+`","ShardIteratorType":"TRIM_HORIZON"}`))
			if err != nil {
				errs[si] = fmt.Errorf("GetShardIterator %s: %w", shard, err)
				return
			}
			v, err := fastjson.ParseBytes(b)
			if err != nil {
				errs[si] = fmt.Errorf("GetShardIterator %s: %w", shard, err)
				return
			}
			iter := string(v.GetStringBytes("ShardIterator"))
			mine := map[RecordID]int{}
			defer func() {
				mu.Lock()
				for id, n := range mine {
					got[id] += n
				}
				mu.Unlock()
			}()
			count := func(id RecordID) { mine[id]++ }
			limit := readLimit
			for iter != "" {
				if time.Now().After(deadline) {
					errs[si] = fmt.Errorf("shard %s: not read to its end in %v", shard, timeout)
					return
				}
				b, err := getRecords(c, iter, &limit)
				if err != nil {
					errs[si] = fmt.Errorf("GetRecords %s: %w", shard, err)
					return
				}
				n, _, next, err := scanGetRecords(b, count)
				if err != nil {
					errs[si] = fmt.Errorf("shard %s: %w", shard, err)
					return
				}
				if n == 0 {
					return
				}
				iter = next
			}
		}()
	}
	wg.Wait()
	return got, errors.Join(errs...)
}

// readLimit is the GetRecords Limit of the read-backs.
const readLimit = 10000

// getRecords calls GetRecords with *limit records at most. A server that
// answers more than the client takes (kinesalite does not cap an answer
// at 10 MiB: 10,000 records of 64 KiB are 870 MB of JSON) is asked again,
// with the same iterator, for a tenth as many records, and *limit stays
// lowered for the calls that follow.
func getRecords(c *Client, iter string, limit *int) ([]byte, error) {
	for {
		b, err := c.Do(OpGetRecords, []byte(`{"ShardIterator":"`+iter+`","Limit":`+strconv.Itoa(*limit)+`}`))
		if errors.Is(err, fasthttp.ErrBodyTooLarge) && *limit > 1 {
			*limit = max(1, *limit/10)
			continue
		}
		return b, err
	}
}
