package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"
)

// ListShards (KINESIS_API.md 2.3, 2.12, 3.9).

// ShardFilter types of ListShards.
const (
	FilterAfterShardID    = "AFTER_SHARD_ID"
	FilterAtTrimHorizon   = "AT_TRIM_HORIZON"
	FilterFromTrimHorizon = "FROM_TRIM_HORIZON"
	FilterAtLatest        = "AT_LATEST"
	FilterAtTimestamp     = "AT_TIMESTAMP"
	FilterFromTimestamp   = "FROM_TIMESTAMP"
)

const (
	// DefaultListShardsResults is the MaxResults of ListShards when none is
	// given, and the most it returns per call (AWS: "If you specify a value
	// greater than 1000, at most 1000 results are returned").
	DefaultListShardsResults = 1000
	// MaxListShardsResults is the model's maximum MaxResults.
	MaxListShardsResults = 10000
	// NextTokenLifetime is how long a ListShards NextToken is valid.
	NextTokenLifetime = 300 * time.Second
)

// ShardFilter is the ShardFilter of ListShards.
type ShardFilter struct {
	Type    string
	ShardID string // AFTER_SHARD_ID only
	// Timestamp, Unix ms, for AT_TIMESTAMP and FROM_TIMESTAMP (required
	// there).
	Timestamp *int64
}

// ListShardsOptions are the parameters of ListShards besides the stream.
type ListShardsOptions struct {
	// NextToken continues a listing; it excludes the stream name,
	// ExclusiveStartShardID, StreamCreationMillis and Filter.
	NextToken string
	// ExclusiveStartShardID lists only shards after this one (by index).
	ExclusiveStartShardID string
	// MaxResults caps the shards returned: 0 means 1000, and more than 1000
	// returns 1000.
	MaxResults int
	// StreamCreationMillis, if not 0, must be the stream's creation time
	// (Unix ms): it tells apart incarnations of a re-created name.
	StreamCreationMillis int64
	// Filter is the ShardFilter; nil lists as FROM_TRIM_HORIZON does.
	Filter *ShardFilter
}

// ListShardsResult is a page of ListShards.
type ListShardsResult struct {
	Shards    []ShardInfo // ascending shard index
	NextToken string      // "" on the last page
}

// ExpiredNextTokenError is a Kinesis ExpiredNextTokenException: a NextToken
// older than NextTokenLifetime. Msg is the message [unsure: AWS's text].
type ExpiredNextTokenError struct{ Msg string }

func (e *ExpiredNextTokenError) Error() string { return e.Msg }

// ListShards lists the shards of a stream, open and closed, in ascending
// index order, filtered and paged:
//
//   - no filter or FROM_TRIM_HORIZON: the shards within the retention
//     period (open, or closed at or after now - retention);
//   - AT_TRIM_HORIZON: the shards open at the trim horizon T = max(now -
//     retention, stream creation): created at or before T and not closed
//     at or before T (children take over at their parents' close time);
//   - AT_LATEST: the open shards;
//   - AT_TIMESTAMP ts: created at or before ts and open or closed at or
//     after ts (AWS's wording, both ends inclusive), with ts no earlier
//     than the trim horizon;
//   - FROM_TIMESTAMP ts: the open shards and those closed at or after ts,
//     with ts corrected to the trim horizon if it is earlier (AWS);
//   - AFTER_SHARD_ID id: the shards after id, like ExclusiveStartShardID.
//
// A shard id that does not parse (ExclusiveStartShardID, AFTER_SHARD_ID)
// compares as a string against the canonical ids.
//
// NextToken is opaque and authenticated (encrypted with a key derived from
// the manager's secret); it carries the stream incarnation, the filter and
// the last shard returned, and expires after NextTokenLifetime.
//
// Errors (AWS code: message):
//   - *ArgumentError (InvalidArgumentException): "Either NextToken or
//     StreamName should be provided." (kinesalite); "NextToken and
//     StreamName cannot be provided together."; "NextToken and
//     ExclusiveStartShardId cannot be provided together."; "NextToken and
//     ShardFilter cannot be provided together." (all three seen from AWS);
//     "NextToken and StreamCreationTimestamp cannot be provided together."
//     [unsure]; "Invalid NextToken." for a token this manager did not mint
//     [unsure]; "ShardId must be specified for the AFTER_SHARD_ID
//     ShardFilter type." and "Timestamp must be specified for the <TYPE>
//     ShardFilter type." [unsure]; bad MaxResults or filter type (the wire
//     layer rejects both first, as ValidationException).
//   - *ExpiredNextTokenError (ExpiredNextTokenException, text [unsure]).
//   - ErrStreamNotFound (ResourceNotFoundException "Stream X under account
//     A not found."), also when StreamCreationMillis or a NextToken names
//     another incarnation of the stream. With a NextToken it comes as a
//     *ResourceNotFoundError (wrapping ErrStreamNotFound) whose Msg names
//     the stream, which only the token knows.
//
// The HTTP layer must check StreamARN against NextToken itself ("NextToken
// and StreamARN cannot be provided together.") and pass the resolved name.
func (m *Manager) ListShards(name string, opts ListShardsOptions) (ListShardsResult, error) {
	now := m.cfg.Now()
	if opts.MaxResults < 0 || opts.MaxResults > MaxListShardsResults {
		return ListShardsResult{}, argError("MaxResults must be between 1 and " + strconv.Itoa(MaxListShardsResults))
	}
	limit := opts.MaxResults
	if limit == 0 || limit > DefaultListShardsResults {
		limit = DefaultListShardsResults
	}
	var tok listToken
	if opts.NextToken != "" {
		switch {
		case name != "":
			return ListShardsResult{}, argError("NextToken and StreamName cannot be provided together.")
		case opts.ExclusiveStartShardID != "":
			return ListShardsResult{}, argError("NextToken and ExclusiveStartShardId cannot be provided together.")
		case opts.Filter != nil:
			return ListShardsResult{}, argError("NextToken and ShardFilter cannot be provided together.")
		case opts.StreamCreationMillis != 0:
			return ListShardsResult{}, argError("NextToken and StreamCreationTimestamp cannot be provided together.")
		}
		var err error
		if tok, err = m.listTokens().decode(opts.NextToken, now); err != nil {
			return ListShardsResult{}, err
		}
		name = tok.stream
	} else {
		if name == "" {
			return ListShardsResult{}, argError("Either NextToken or StreamName should be provided.")
		}
		tok = listToken{stream: name, after: -1, afterID: opts.ExclusiveStartShardID}
		if f := opts.Filter; f != nil {
			switch f.Type {
			case FilterAfterShardID:
				if f.ShardID == "" {
					return ListShardsResult{}, argError("ShardId must be specified for the AFTER_SHARD_ID ShardFilter type.")
				}
				if tok.afterID == "" || shardIDAfter(f.ShardID, tok.afterID) {
					tok.afterID = f.ShardID
				}
			case FilterAtTrimHorizon, FilterFromTrimHorizon, FilterAtLatest:
			case FilterAtTimestamp, FilterFromTimestamp:
				if f.Timestamp == nil {
					return ListShardsResult{}, argError("Timestamp must be specified for the " + f.Type + " ShardFilter type.")
				}
				tok.ts, tok.hasTS = *f.Timestamp, true
			default:
				return ListShardsResult{}, argError("Invalid ShardFilter type " + quoteInput(f.Type))
			}
			tok.filter = f.Type
		}
	}
	s, err := m.stream(name)
	if err == nil && opts.NextToken != "" && tok.streamCreated != s.meta.CreatedMillis {
		err = notFound(name)
	}
	if err != nil {
		if opts.NextToken != "" && errors.Is(err, ErrStreamNotFound) {
			// Only the token names the stream: the caller cannot word the
			// message, so it is made here.
			return ListShardsResult{}, &ResourceNotFoundError{Msg: "Stream " + name + " under account " + m.cfg.AccountID + " not found.", err: ErrStreamNotFound}
		}
		return ListShardsResult{}, err
	}
	if opts.NextToken == "" {
		if opts.StreamCreationMillis != 0 && opts.StreamCreationMillis != s.meta.CreatedMillis {
			return ListShardsResult{}, notFound(name)
		}
		tok.streamCreated = s.meta.CreatedMillis
		if tok.afterID != "" {
			if i, err := ParseShardID(tok.afterID); err == nil {
				tok.after = i
			} else {
				// Compare as strings: the first index whose id sorts after it.
				for tok.after+1 < len(s.shards) && ShardID(tok.after+1) <= tok.afterID {
					tok.after++
				}
			}
		}
	}
	info := m.describe(s)
	keep := listFilter(tok, s.meta, now.UnixMilli())
	var res ListShardsResult
	for i := max(tok.after+1, 0); i < len(info.Shards); i++ {
		if !keep(&info.Shards[i]) {
			continue
		}
		if len(res.Shards) == limit {
			next := tok
			next.after = res.lastIndex()
			res.NextToken = m.listTokens().encode(next, now)
			break
		}
		res.Shards = append(res.Shards, info.Shards[i])
	}
	return res, nil
}

func (r *ListShardsResult) lastIndex() int {
	i, _ := ParseShardID(r.Shards[len(r.Shards)-1].ShardID)
	return i
}

// shardIDAfter reports whether shard id a comes after b.
func shardIDAfter(a, b string) bool {
	ia, erra := ParseShardID(a)
	ib, errb := ParseShardID(b)
	if erra == nil && errb == nil {
		return ia > ib
	}
	return a > b
}

// listFilter returns the predicate of the filter of tok.
func listFilter(tok listToken, sm streamMeta, nowMs int64) func(si *ShardInfo) bool {
	retentionStart := nowMs - int64(sm.RetentionHours)*3600*1000
	trim := max(retentionStart, sm.CreatedMillis)
	within := func(si *ShardInfo) bool { return si.ClosedMillis == 0 || si.ClosedMillis >= retentionStart }
	switch tok.filter {
	case FilterAtTrimHorizon:
		return func(si *ShardInfo) bool {
			return si.CreatedMillis <= trim && (si.ClosedMillis == 0 || si.ClosedMillis > trim)
		}
	case FilterAtLatest:
		return func(si *ShardInfo) bool { return si.ClosedMillis == 0 }
	case FilterAtTimestamp:
		ts := max(tok.ts, trim)
		return func(si *ShardInfo) bool {
			return si.CreatedMillis <= ts && (si.ClosedMillis == 0 || si.ClosedMillis >= ts)
		}
	case FilterFromTimestamp:
		ts := max(tok.ts, retentionStart)
		return func(si *ShardInfo) bool { return si.ClosedMillis == 0 || si.ClosedMillis >= ts }
	}
	return within
}

// listToken is the state a ListShards NextToken carries.
type listToken struct {
	stream        string
	streamCreated int64
	after         int    // last shard index returned (-1: none)
	afterID       string // not encoded: resolved into after
	filter        string
	ts            int64
	hasTS         bool
}

// listTokenCodec mints and checks NextTokens like iterators (iterator.go):
// version | tag (16) | AES-256-CTR(iv = tag) of
// issued ms (8) | streamCreated (8) | after (8) | ts (8) | hasTS (1) |
// len(filter) (1) | filter | stream name; tag = HMAC-SHA256 of version |
// plaintext, first 16 bytes. Keys are derived from the manager's secret
// with their own HKDF labels.
type listTokenCodec struct {
	macKey []byte
	block  cipher.Block
}

const listTokenVersion = 1

var errBadListToken = errors.New("bad token")

func (m *Manager) listTokens() *listTokenCodec {
	m.listCodecOnce.Do(func() {
		mac, err1 := hkdf.Key(sha256.New, m.secret, nil, "sluice list shards token v1 mac", 32)
		enc, err2 := hkdf.Key(sha256.New, m.secret, nil, "sluice list shards token v1 enc", 32)
		if err := errors.Join(err1, err2); err != nil {
			panic("BUG: stream: deriving list token keys: " + err.Error())
		}
		block, err := aes.NewCipher(enc)
		if err != nil {
			panic("BUG: stream: list token cipher: " + err.Error())
		}
		m.listCodec = &listTokenCodec{macKey: mac, block: block}
	})
	return m.listCodec
}

func (c *listTokenCodec) tag(plain []byte) []byte {
	mac := hmac.New(sha256.New, c.macKey)
	mac.Write([]byte{listTokenVersion})
	mac.Write(plain)
	return mac.Sum(nil)[:16]
}

func (c *listTokenCodec) encode(t listToken, now time.Time) string {
	plain := make([]byte, 0, 34+len(t.filter)+len(t.stream))
	var b [8]byte
	for _, v := range []int64{now.UnixMilli(), t.streamCreated, int64(t.after), t.ts} {
		putBEUint64(b[:], uint64(v))
		plain = append(plain, b[:]...)
	}
	hasTS := byte(0)
	if t.hasTS {
		hasTS = 1
	}
	plain = append(plain, hasTS, byte(len(t.filter)))
	plain = append(plain, t.filter...)
	plain = append(plain, t.stream...)
	tag := c.tag(plain)
	cipher.NewCTR(c.block, tag).XORKeyStream(plain, plain)
	raw := append([]byte{listTokenVersion}, tag...)
	return base64.RawURLEncoding.EncodeToString(append(raw, plain...))
}

func (c *listTokenCodec) decode(s string, now time.Time) (listToken, error) {
	invalid := &ArgumentError{Msg: "Invalid NextToken.", err: errBadListToken}
	if len(s) > 4096 {
		return listToken{}, invalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) < 1+16+34 || raw[0] != listTokenVersion {
		return listToken{}, invalid
	}
	tag, plain := raw[1:17], raw[17:]
	cipher.NewCTR(c.block, tag).XORKeyStream(plain, plain)
	if !hmac.Equal(tag, c.tag(plain)) {
		return listToken{}, invalid
	}
	issued := int64(beUint64(plain[0:8]))
	t := listToken{
		streamCreated: int64(beUint64(plain[8:16])),
		after:         int(int64(beUint64(plain[16:24]))),
		ts:            int64(beUint64(plain[24:32])),
		hasTS:         plain[32] == 1,
	}
	n := int(plain[33])
	if 34+n > len(plain) {
		return listToken{}, invalid
	}
	t.filter, t.stream = string(plain[34:34+n]), string(plain[34+n:])
	if now.Sub(time.UnixMilli(issued)) > NextTokenLifetime {
		return listToken{}, &ExpiredNextTokenError{Msg: "The NextToken has expired. It was created at " +
			time.UnixMilli(issued).UTC().Format(awsDateLayout) + " and is valid for " +
			strconv.Itoa(int(NextTokenLifetime/time.Second)) + " seconds."}
	}
	return t, nil
}
