package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The AWS CLI (v1, botocore) flow: the steps of flowSteps, each a subtest,
// checked field by field on the CLI's JSON output. Mirrors flow.mjs and
// flow.py.

// cliError is a service error the CLI printed on stderr.
type cliError struct{ Code, Op, Message string }

func (e *cliError) Error() string { return fmt.Sprintf("%s (%s): %s", e.Code, e.Op, e.Message) }

var cliErrorRE = regexp.MustCompile(`An error occurred \(([^)]+)\) when calling the (\w+) operation(?: \([^)]*\))?: (.*)`)

type cliShard struct {
	ShardId               string
	ParentShardId         string
	AdjacentParentShardId string
	HashKeyRange          struct{ StartingHashKey, EndingHashKey string }
	SequenceNumberRange   struct{ StartingSequenceNumber, EndingSequenceNumber string }
}

func (s cliShard) open() bool { return s.SequenceNumberRange.EndingSequenceNumber == "" }

// hashRange is the shard's range as decimal strings, for comparisons.
func (s cliShard) hashRange() [2]string {
	return [2]string{s.HashKeyRange.StartingHashKey, s.HashKeyRange.EndingHashKey}
}

type cliRecord struct {
	SequenceNumber              string
	PartitionKey                string
	Data                        string // base64
	ApproximateArrivalTimestamp json.RawMessage
}

type cliGetRecords struct {
	Records            []cliRecord
	NextShardIterator  *string
	MillisBehindLatest *int64
	ChildShards        []struct {
		ShardId      string
		ParentShards []string
	}
}

// flowRecord is a record the flow put.
type flowRecord struct {
	pk   string
	data []byte
	seq  string
}

type cliFlow struct {
	t        *testing.T
	aws      string
	endpoint string
	env      []string
	name     string
	arn      string
	tmp      string

	failed map[string]bool
	put    map[string][]flowRecord // per shard, in put order
	t0     time.Time
	mark   time.Time // between put-records and the LATEST put
}

const flowAccount = "000000000000"

var (
	bigTop  = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	bigHalf = new(big.Int).Lsh(big.NewInt(1), 127)
	bigQ    = new(big.Int).Lsh(big.NewInt(1), 126)
)

func dec(x *big.Int) string { return x.String() }

func bigAdd(a *big.Int, n int64) *big.Int { return new(big.Int).Add(a, big.NewInt(n)) }

func bigMul(a *big.Int, n int64) *big.Int { return new(big.Int).Mul(a, big.NewInt(n)) }

// hashOf is the key a partition key routes by: MD5, big-endian.
func hashOf(pk string) *big.Int {
	sum := md5.Sum([]byte(pk))
	return new(big.Int).SetBytes(sum[:])
}

func shardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// cli runs one kinesis command and decodes its JSON output into out (nil:
// ignore the output). A service error comes back as *cliError.
func (f *cliFlow) cli(out any, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.aws, append([]string{"--endpoint-url", f.endpoint, "--output", "json", "kinesis"}, args...)...)
	cmd.Env = f.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if m := cliErrorRE.FindStringSubmatch(stderr.String()); m != nil {
			return &cliError{Code: m[1], Op: m[2], Message: strings.TrimSpace(m[3])}
		}
		return fmt.Errorf("aws kinesis %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("aws kinesis %s: decoding %q: %v", strings.Join(args, " "), stdout.String(), err)
	}
	return nil
}

// must is cli that ends the step on any error.
func (f *cliFlow) must(t *testing.T, out any, args ...string) {
	t.Helper()
	if err := f.cli(out, args...); err != nil {
		t.Fatalf("aws kinesis %s: %v", args[0], err)
	}
}

// wantError runs a command that must fail with code (and message, unless
// empty).
func (f *cliFlow) wantError(t *testing.T, code, message string, args ...string) {
	t.Helper()
	err := f.cli(nil, args...)
	ce, ok := err.(*cliError)
	if !ok {
		t.Fatalf("aws kinesis %s: got %v, want %s", args[0], err, code)
	}
	if ce.Code != code || (message != "" && ce.Message != message) {
		t.Fatalf("aws kinesis %s: got %s %q, want %s %q", args[0], ce.Code, ce.Message, code, message)
	}
}

func (f *cliFlow) step(name string, deps []string, fn func(t *testing.T)) {
	f.t.Run(name, func(t *testing.T) {
		for _, d := range deps {
			if f.failed[d] {
				f.failed[name] = true
				t.Skipf("needs %s", d)
			}
		}
		defer func() {
			if t.Failed() {
				f.failed[name] = true
			}
		}()
		fn(t)
	})
}

func (f *cliFlow) waitActive(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var status string
	for time.Now().Before(deadline) {
		var s struct{ StreamDescriptionSummary struct{ StreamStatus string } }
		f.must(t, &s, "describe-stream-summary", "--stream-name", f.name)
		status = s.StreamDescriptionSummary.StreamStatus
		if status == "ACTIVE" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: stream not ACTIVE within 30 s (last status %s)", what, status)
}

func (f *cliFlow) summary(t *testing.T) (s struct {
	StreamName, StreamARN, StreamStatus, EncryptionType string
	OpenShardCount, RetentionPeriodHours, ConsumerCount int
	StreamModeDetails                                   struct{ StreamMode string }
}) {
	t.Helper()
	var out struct{ StreamDescriptionSummary json.RawMessage }
	f.must(t, &out, "describe-stream-summary", "--stream-name", f.name)
	if err := json.Unmarshal(out.StreamDescriptionSummary, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// shards lists all shards through ListShards, following NextToken.
func (f *cliFlow) shards(t *testing.T) []cliShard {
	t.Helper()
	var all []cliShard
	// --no-paginate: the CLI would otherwise follow NextToken itself.
	args := []string{"list-shards", "--no-paginate", "--stream-name", f.name}
	for range 50 {
		var r struct {
			Shards    []cliShard
			NextToken string
		}
		f.must(t, &r, args...)
		all = append(all, r.Shards...)
		if r.NextToken == "" {
			return all
		}
		args = []string{"list-shards", "--no-paginate", "--next-token", r.NextToken}
	}
	t.Fatal("ListShards: more than 50 pages")
	return nil
}

func (f *cliFlow) iterator(t *testing.T, shard, typ string, extra ...string) string {
	t.Helper()
	var r struct{ ShardIterator string }
	f.must(t, &r, append([]string{"get-shard-iterator", "--stream-name", f.name, "--shard-id", shard, "--shard-iterator-type", typ}, extra...)...)
	if n := len(r.ShardIterator); n == 0 || n > 512 {
		t.Fatalf("GetShardIterator %s: ShardIterator %q", typ, r.ShardIterator)
	}
	return r.ShardIterator
}

// readAll follows an iterator until it is caught up (MillisBehindLatest 0)
// or, with untilEnd, until the end of a closed shard (no next iterator).
func (f *cliFlow) readAll(t *testing.T, it string, untilEnd bool) ([]cliRecord, cliGetRecords) {
	t.Helper()
	var recs []cliRecord
	for range 50 {
		var last cliGetRecords
		f.must(t, &last, "get-records", "--shard-iterator", it, "--limit", "10000")
		recs = append(recs, last.Records...)
		if last.NextShardIterator == nil || *last.NextShardIterator == "" {
			return recs, last
		}
		if !untilEnd && last.MillisBehindLatest != nil && *last.MillisBehindLatest == 0 {
			return recs, last
		}
		it = *last.NextShardIterator
	}
	t.Fatalf("GetRecords: no shard end or not caught up after 50 calls")
	return nil, cliGetRecords{}
}

func sameRecords(t *testing.T, got []cliRecord, want []flowRecord, what string) {
	t.Helper()
	type row struct{ Seq, PK, Data string }
	var g, w []row
	for _, r := range got {
		data, err := base64.StdEncoding.DecodeString(r.Data)
		if err != nil {
			t.Fatalf("%s: Data %q is not base64: %v", what, r.Data, err)
		}
		g = append(g, row{r.SequenceNumber, r.PartitionKey, fmt.Sprintf("%x", data)})
		if len(r.ApproximateArrivalTimestamp) == 0 {
			t.Fatalf("%s: record %s has no ApproximateArrivalTimestamp", what, r.SequenceNumber)
		}
	}
	for _, r := range want {
		w = append(w, row{r.seq, r.pk, fmt.Sprintf("%x", r.data)})
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %v\nwant %v", what, g, w)
	}
}

func wantEqual[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

var digitsRE = regexp.MustCompile(`^\d{20,}$`)

// runCLIFlow is the AWS CLI's run of flowSteps on stream name.
func runCLIFlow(t *testing.T, p *sluiceProcess, env []string, aws, endpoint, name string) {
	f := &cliFlow{
		t: t, aws: aws, endpoint: endpoint, env: env, name: name,
		arn:    "arn:aws:kinesis:us-east-1:" + flowAccount + ":stream/" + name,
		tmp:    t.TempDir(),
		failed: map[string]bool{},
		put:    map[string][]flowRecord{},
		t0:     time.Now().Add(-2 * time.Second),
	}
	defer func() {
		if t.Failed() {
			t.Logf("server log (tail):\n%s", logTail(p.stderr.String()))
		}
	}()
	s0, s1, s2, s3, s4 := shardID(0), shardID(1), shardID(2), shardID(3), shardID(4)
	half1 := dec(bigAdd(bigHalf, -1))
	type shardRow struct {
		ID         string
		Range      [2]string
		Open       bool
		Parent     string
		AdjParent  string
		HasStartSN bool
	}
	rows := func(shards []cliShard) []shardRow {
		var out []shardRow
		for _, s := range shards {
			out = append(out, shardRow{s.ShardId, s.hashRange(), s.open(), s.ParentShardId, s.AdjacentParentShardId,
				digitsRE.MatchString(s.SequenceNumberRange.StartingSequenceNumber) || s.SequenceNumberRange.StartingSequenceNumber == "0"})
		}
		return out
	}

	f.step("create-stream", nil, func(t *testing.T) {
		f.must(t, nil, "create-stream", "--stream-name", name, "--shard-count", "2")
	})
	f.step("wait-active", []string{"create-stream"}, func(t *testing.T) { f.waitActive(t, "CreateStream") })
	f.step("describe-stream", []string{"wait-active"}, func(t *testing.T) {
		var r struct {
			StreamDescription struct {
				StreamName, StreamARN, StreamStatus, EncryptionType string
				HasMoreShards                                       bool
				RetentionPeriodHours                                int
				StreamCreationTimestamp                             float64
				Shards                                              []cliShard
			}
		}
		f.must(t, &r, "describe-stream", "--stream-name", name)
		d := r.StreamDescription
		if d.EncryptionType == "" {
			d.EncryptionType = "NONE"
		}
		wantEqual(t, []any{d.StreamName, d.StreamARN, d.StreamStatus, d.HasMoreShards, d.RetentionPeriodHours, d.EncryptionType},
			[]any{name, f.arn, "ACTIVE", false, 24, "NONE"}, "DescribeStream name/arn/status/more/retention/encryption")
		if created := time.Unix(0, int64(d.StreamCreationTimestamp*1e9)); created.Before(f.t0) {
			t.Fatalf("StreamCreationTimestamp %v before the flow started (%v)", created, f.t0)
		}
		wantEqual(t, rows(d.Shards), []shardRow{
			{s0, [2]string{"0", half1}, true, "", "", true},
			{s1, [2]string{dec(bigHalf), dec(bigTop)}, true, "", "", true},
		}, "DescribeStream shards")
	})
	f.step("describe-stream-summary", []string{"wait-active"}, func(t *testing.T) {
		s := f.summary(t)
		if s.EncryptionType == "" {
			s.EncryptionType = "NONE"
		}
		if s.StreamModeDetails.StreamMode == "" {
			s.StreamModeDetails.StreamMode = "PROVISIONED"
		}
		wantEqual(t, []any{s.StreamName, s.StreamARN, s.StreamStatus, s.OpenShardCount, s.RetentionPeriodHours, s.EncryptionType, s.ConsumerCount, s.StreamModeDetails.StreamMode},
			[]any{name, f.arn, "ACTIVE", 2, 24, "NONE", 0, "PROVISIONED"}, "DescribeStreamSummary name/arn/status/open/retention/encryption/consumers/mode")
	})
	f.step("list-streams", []string{"wait-active"}, func(t *testing.T) {
		var r struct {
			StreamNames     []string
			HasMoreStreams  bool
			StreamSummaries []struct{ StreamName, StreamARN, StreamStatus string }
		}
		f.must(t, &r, "list-streams", "--no-paginate")
		if !slices.Contains(r.StreamNames, name) || !slices.IsSorted(r.StreamNames) || r.HasMoreStreams {
			t.Fatalf("ListStreams: names %v (want %s among them, sorted), HasMoreStreams %v", r.StreamNames, name, r.HasMoreStreams)
		}
		i := slices.IndexFunc(r.StreamSummaries, func(s struct{ StreamName, StreamARN, StreamStatus string }) bool { return s.StreamName == name })
		if i < 0 {
			t.Fatalf("ListStreams StreamSummaries lacks %s: %+v", name, r.StreamSummaries)
		}
		wantEqual(t, []string{r.StreamSummaries[i].StreamARN, r.StreamSummaries[i].StreamStatus}, []string{f.arn, "ACTIVE"}, "ListStreams summary arn/status")
	})
	f.step("list-shards", []string{"wait-active"}, func(t *testing.T) {
		wantEqual(t, rows(f.shards(t)), []shardRow{
			{s0, [2]string{"0", half1}, true, "", "", true},
			{s1, [2]string{dec(bigHalf), dec(bigTop)}, true, "", "", true},
		}, "ListShards")
		var one struct {
			Shards    []cliShard
			NextToken string
		}
		f.must(t, &one, "list-shards", "--no-paginate", "--stream-name", name, "--max-results", "1")
		if len(one.Shards) != 1 || one.Shards[0].ShardId != s0 || one.NextToken == "" {
			t.Fatalf("ListShards MaxResults 1: %+v", one)
		}
		var rest struct{ Shards []cliShard }
		f.must(t, &rest, "list-shards", "--no-paginate", "--next-token", one.NextToken)
		if len(rest.Shards) != 1 || rest.Shards[0].ShardId != s1 {
			t.Fatalf("ListShards page 2: %+v", rest)
		}
	})
	type putResult struct{ ShardId, SequenceNumber, EncryptionType, ErrorCode, ErrorMessage string }
	f.step("put-record", []string{"wait-active"}, func(t *testing.T) {
		data := append([]byte{0x00, 0xff, 0x10}, " first record"...)
		file := filepath.Join(f.tmp, "record")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var r putResult
		f.must(t, &r, "put-record", "--stream-name", name, "--partition-key", "a", "--data", "fileb://"+file)
		if hashOf("a").Cmp(bigHalf) >= 0 {
			t.Fatal("md5(a) is not in shard 0")
		}
		if r.EncryptionType == "" {
			r.EncryptionType = "NONE"
		}
		if r.ShardId != s0 || !digitsRE.MatchString(r.SequenceNumber) || r.EncryptionType != "NONE" {
			t.Fatalf("PutRecord: %+v, want shard %s, a sequence number, EncryptionType NONE", r, s0)
		}
		f.put[s0] = append(f.put[s0], flowRecord{"a", data, r.SequenceNumber})
	})
	f.step("put-records", []string{"wait-active"}, func(t *testing.T) {
		ehk := bigAdd(bigHalf, 12345) // routes "a" to shard 1 despite its MD5
		type entry struct {
			pk   string
			data string // the CLI v1 takes a blob inside JSON literally
			ehk  *big.Int
		}
		entries := []entry{{"a", "batch 0 a", nil}, {"b", "batch 1 b", nil}, {"c", "batch 2 c", nil},
			{"a", "batch 3 explicit hash key", ehk}, {"d", "batch 4 d", nil}}
		var req []map[string]string
		for _, e := range entries {
			m := map[string]string{"PartitionKey": e.pk, "Data": e.data}
			if e.ehk != nil {
				m["ExplicitHashKey"] = e.ehk.String()
			}
			req = append(req, m)
		}
		js, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			FailedRecordCount int
			Records           []putResult
		}
		f.must(t, &r, "put-records", "--stream-name", name, "--records", string(js))
		if r.FailedRecordCount != 0 || len(r.Records) != len(entries) {
			t.Fatalf("PutRecords: FailedRecordCount %d, %d results for %d records", r.FailedRecordCount, len(r.Records), len(entries))
		}
		for i, e := range entries {
			key := e.ehk
			if key == nil {
				key = hashOf(e.pk)
			}
			want := s1
			if key.Cmp(bigHalf) < 0 {
				want = s0
			}
			got := r.Records[i]
			if got.ShardId != want || got.ErrorCode != "" || !digitsRE.MatchString(got.SequenceNumber) {
				t.Fatalf("PutRecords entry %d: %+v, want shard %s and a sequence number", i, got, want)
			}
			f.put[want] = append(f.put[want], flowRecord{e.pk, []byte(e.data), got.SequenceNumber})
		}
		for _, s := range []string{s0, s1} {
			for i := 1; i < len(f.put[s]); i++ {
				a, _ := new(big.Int).SetString(f.put[s][i-1].seq, 10)
				b, _ := new(big.Int).SetString(f.put[s][i].seq, 10)
				if a.Cmp(b) >= 0 {
					t.Fatalf("sequence numbers do not increase in %s: %v", s, f.put[s])
				}
			}
		}
		if !slices.ContainsFunc(f.put[s1], func(r flowRecord) bool { return r.pk == "a" }) {
			t.Fatal("the explicit-hash-key record is not in shard 1")
		}
		// botocore sends AT_TIMESTAMP's Timestamp as whole epoch seconds:
		// the mark between these puts and the next one is a whole second.
		f.mark = time.Now().Add(200 * time.Millisecond).Truncate(time.Second).Add(time.Second)
		time.Sleep(time.Until(f.mark.Add(200 * time.Millisecond)))
	})
	f.step("iterator-trim-horizon", []string{"put-record", "put-records"}, func(t *testing.T) {
		for _, s := range []string{s0, s1} {
			recs, last := f.readAll(t, f.iterator(t, s, "TRIM_HORIZON"), false)
			sameRecords(t, recs, f.put[s], "TRIM_HORIZON "+s)
			if last.NextShardIterator == nil || last.MillisBehindLatest == nil || *last.MillisBehindLatest != 0 {
				t.Fatalf("caught up on an open shard: want a NextShardIterator and MillisBehindLatest 0, got %+v", last)
			}
		}
		var one cliGetRecords
		f.must(t, &one, "get-records", "--shard-iterator", f.iterator(t, s0, "TRIM_HORIZON"), "--limit", "1")
		sameRecords(t, one.Records, f.put[s0][:1], "GetRecords Limit 1")
	})
	f.step("iterator-latest", []string{"put-record", "put-records"}, func(t *testing.T) {
		var empty cliGetRecords
		f.must(t, &empty, "get-records", "--shard-iterator", f.iterator(t, s0, "LATEST"))
		if len(empty.Records) != 0 || empty.NextShardIterator == nil {
			t.Fatalf("LATEST before a put: %+v", empty)
		}
		file := filepath.Join(f.tmp, "latest")
		if err := os.WriteFile(file, []byte("after LATEST"), 0o644); err != nil {
			t.Fatal(err)
		}
		var r putResult
		f.must(t, &r, "put-record", "--stream-name", name, "--partition-key", "a", "--data", "fileb://"+file)
		if r.ShardId != s0 {
			t.Fatalf("PutRecord ShardId %s, want %s", r.ShardId, s0)
		}
		f.put[s0] = append(f.put[s0], flowRecord{"a", []byte("after LATEST"), r.SequenceNumber})
		recs, _ := f.readAll(t, *empty.NextShardIterator, false)
		sameRecords(t, recs, f.put[s0][len(f.put[s0])-1:], "LATEST after a put")
	})
	f.step("iterator-at-sequence-number", []string{"iterator-trim-horizon"}, func(t *testing.T) {
		recs, _ := f.readAll(t, f.iterator(t, s0, "AT_SEQUENCE_NUMBER", "--starting-sequence-number", f.put[s0][1].seq), false)
		sameRecords(t, recs, f.put[s0][1:], "AT_SEQUENCE_NUMBER second record")
	})
	f.step("iterator-after-sequence-number", []string{"iterator-trim-horizon"}, func(t *testing.T) {
		recs, _ := f.readAll(t, f.iterator(t, s0, "AFTER_SEQUENCE_NUMBER", "--starting-sequence-number", f.put[s0][1].seq), false)
		sameRecords(t, recs, f.put[s0][2:], "AFTER_SEQUENCE_NUMBER second record")
		recs, _ = f.readAll(t, f.iterator(t, s1, "AFTER_SEQUENCE_NUMBER", "--starting-sequence-number", f.put[s1][len(f.put[s1])-1].seq), false)
		sameRecords(t, recs, nil, "AFTER_SEQUENCE_NUMBER last record")
	})
	f.step("iterator-at-timestamp", []string{"iterator-latest"}, func(t *testing.T) {
		ts := func(x time.Time) string { return strconv.FormatInt(x.Unix(), 10) }
		late, _ := f.readAll(t, f.iterator(t, s0, "AT_TIMESTAMP", "--timestamp", ts(f.mark)), false)
		sameRecords(t, late, f.put[s0][len(f.put[s0])-1:], "AT_TIMESTAMP between the puts, shard 0")
		none, _ := f.readAll(t, f.iterator(t, s1, "AT_TIMESTAMP", "--timestamp", ts(f.mark)), false)
		sameRecords(t, none, nil, "AT_TIMESTAMP between the puts, shard 1")
		all, _ := f.readAll(t, f.iterator(t, s0, "AT_TIMESTAMP", "--timestamp", ts(f.t0)), false)
		sameRecords(t, all, f.put[s0], "AT_TIMESTAMP before the stream")
	})
	f.step("error-missing-stream", nil, func(t *testing.T) {
		f.wantError(t, "ResourceNotFoundException", "Stream "+name+"-missing under account "+flowAccount+" not found.",
			"describe-stream", "--stream-name", name+"-missing")
	})
	f.step("split-shard", []string{"iterator-at-timestamp"}, func(t *testing.T) {
		f.must(t, nil, "split-shard", "--stream-name", name, "--shard-to-split", s0, "--new-starting-hash-key", dec(bigQ))
		f.waitActive(t, "SplitShard")
		wantEqual(t, rows(f.shards(t)), []shardRow{
			{s0, [2]string{"0", half1}, false, "", "", true},
			{s1, [2]string{dec(bigHalf), dec(bigTop)}, true, "", "", true},
			{s2, [2]string{"0", dec(bigAdd(bigQ, -1))}, true, s0, "", true},
			{s3, [2]string{dec(bigQ), half1}, true, s0, "", true},
		}, "ListShards after SplitShard")
		// The closed parent still serves its records, then reports its children.
		recs, last := f.readAll(t, f.iterator(t, s0, "TRIM_HORIZON"), true)
		sameRecords(t, recs, f.put[s0], "closed parent TRIM_HORIZON")
		if last.NextShardIterator != nil {
			t.Fatalf("closed parent: a NextShardIterator at its end: %q", *last.NextShardIterator)
		}
		var kids [][]string
		for _, c := range last.ChildShards {
			kids = append(kids, append([]string{c.ShardId}, c.ParentShards...))
		}
		wantEqual(t, kids, [][]string{{s2, s0}, {s3, s0}}, "closed parent ChildShards (id, parents)")
	})
	f.step("merge-shards", []string{"split-shard"}, func(t *testing.T) {
		f.must(t, nil, "merge-shards", "--stream-name", name, "--shard-to-merge", s2, "--adjacent-shard-to-merge", s3)
		f.waitActive(t, "MergeShards")
		wantEqual(t, rows(f.shards(t)), []shardRow{
			{s0, [2]string{"0", half1}, false, "", "", true},
			{s1, [2]string{dec(bigHalf), dec(bigTop)}, true, "", "", true},
			{s2, [2]string{"0", dec(bigAdd(bigQ, -1))}, false, s0, "", true},
			{s3, [2]string{dec(bigQ), half1}, false, s0, "", true},
			{s4, [2]string{"0", half1}, true, s2, s3, true},
		}, "ListShards after MergeShards")
		var d struct{ StreamDescription struct{ Shards []cliShard } }
		f.must(t, &d, "describe-stream", "--stream-name", name)
		var ids []string
		for _, s := range d.StreamDescription.Shards {
			ids = append(ids, s.ShardId)
		}
		wantEqual(t, ids, []string{s0, s1, s2, s3, s4}, "DescribeStream lists the closed parents")
	})
	f.step("update-shard-count", []string{"wait-active"}, func(t *testing.T) {
		// Independent of split/merge: from whatever open set the stream
		// has (2 or 3 shards), uniform scaling to 4.
		var before []string
		for _, s := range f.shards(t) {
			if s.open() {
				before = append(before, s.ShardId)
			}
		}
		var r struct {
			StreamName                          string
			CurrentShardCount, TargetShardCount int
		}
		f.must(t, &r, "update-shard-count", "--stream-name", name, "--target-shard-count", "4", "--scaling-type", "UNIFORM_SCALING")
		wantEqual(t, r, struct {
			StreamName                          string
			CurrentShardCount, TargetShardCount int
		}{name, len(before), 4}, "UpdateShardCount response")
		f.waitActive(t, "UpdateShardCount")
		if n := f.summary(t).OpenShardCount; n != 4 {
			t.Fatalf("OpenShardCount after UpdateShardCount: %d, want 4", n)
		}
		shards := f.shards(t)
		known := map[string]cliShard{}
		var open [][2]string
		for _, s := range shards {
			known[s.ShardId] = s
		}
		for _, s := range shards {
			if !s.open() {
				continue
			}
			open = append(open, s.hashRange())
			if _, ok := known[s.ParentShardId]; !ok {
				t.Fatalf("new shard %s: parent %q is not listed", s.ShardId, s.ParentShardId)
			}
		}
		slices.SortFunc(open, func(a, b [2]string) int {
			x, _ := new(big.Int).SetString(a[0], 10)
			y, _ := new(big.Int).SetString(b[0], 10)
			return x.Cmp(y)
		})
		wantEqual(t, open, [][2]string{
			{"0", dec(bigAdd(bigQ, -1))},
			{dec(bigQ), dec(bigAdd(bigMul(bigQ, 2), -1))},
			{dec(bigMul(bigQ, 2)), dec(bigAdd(bigMul(bigQ, 3), -1))},
			{dec(bigMul(bigQ, 3)), dec(bigTop)},
		}, "open shards tile the key space evenly")
		// A shard whose range already is one of the targets may stay open (a
		// split or merge of it would only re-create the same range); every
		// other one was split or merged, so it is closed.
		for _, id := range before {
			if sh := known[id]; sh.open() && !slices.Contains(open, sh.hashRange()) {
				t.Fatalf("%s still open after UpdateShardCount with range %v, not a target", id, sh.hashRange())
			}
		}
	})
	f.step("put-after-reshard", []string{"update-shard-count"}, func(t *testing.T) {
		file := filepath.Join(f.tmp, "reshard")
		if err := os.WriteFile(file, []byte("after resharding"), 0o644); err != nil {
			t.Fatal(err)
		}
		var r putResult
		f.must(t, &r, "put-record", "--stream-name", name, "--partition-key", "a", "--data", "fileb://"+file)
		home := ""
		for _, s := range f.shards(t) {
			lo, _ := new(big.Int).SetString(s.HashKeyRange.StartingHashKey, 10)
			hi, _ := new(big.Int).SetString(s.HashKeyRange.EndingHashKey, 10)
			if s.open() && lo.Cmp(hashOf("a")) <= 0 && hashOf("a").Cmp(hi) <= 0 {
				home = s.ShardId
			}
		}
		if r.ShardId != home {
			t.Fatalf("PutRecord landed in %s, want the open shard that owns md5(a), %s", r.ShardId, home)
		}
		recs, _ := f.readAll(t, f.iterator(t, r.ShardId, "TRIM_HORIZON"), false)
		sameRecords(t, recs, []flowRecord{{"a", []byte("after resharding"), r.SequenceNumber}}, "new shard TRIM_HORIZON")
	})
	type tag struct{ Key, Value string }
	tags := func(t *testing.T, args ...string) []tag {
		t.Helper()
		var r struct {
			Tags        []tag
			HasMoreTags *bool
		}
		f.must(t, &r, args...)
		if args[0] == "list-tags-for-stream" && (r.HasMoreTags == nil || *r.HasMoreTags) {
			t.Fatalf("ListTagsForStream HasMoreTags: want false, got %v", r.HasMoreTags)
		}
		slices.SortFunc(r.Tags, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
		return r.Tags
	}
	f.step("tags-stream", []string{"wait-active"}, func(t *testing.T) {
		f.must(t, nil, "add-tags-to-stream", "--stream-name", name, "--tags", "env=test,team=sluice")
		wantEqual(t, tags(t, "list-tags-for-stream", "--stream-name", name), []tag{{"env", "test"}, {"team", "sluice"}}, "ListTagsForStream after AddTagsToStream")
		f.must(t, nil, "remove-tags-from-stream", "--stream-name", name, "--tag-keys", "team", "absent")
		wantEqual(t, tags(t, "list-tags-for-stream", "--stream-name", name), []tag{{"env", "test"}}, "ListTagsForStream after RemoveTagsFromStream")
	})
	f.step("tags-resource", []string{"tags-stream"}, func(t *testing.T) {
		f.must(t, nil, "tag-resource", "--resource-arn", f.arn, "--tags", "owner=h5")
		wantEqual(t, tags(t, "list-tags-for-resource", "--resource-arn", f.arn), []tag{{"env", "test"}, {"owner", "h5"}}, "ListTagsForResource")
		f.must(t, nil, "untag-resource", "--resource-arn", f.arn, "--tag-keys", "env")
		wantEqual(t, tags(t, "list-tags-for-stream", "--stream-name", name), []tag{{"owner", "h5"}}, "ListTagsForStream after UntagResource")
	})
	f.step("retention", []string{"wait-active"}, func(t *testing.T) {
		f.must(t, nil, "increase-stream-retention-period", "--stream-name", name, "--retention-period-hours", "48")
		f.waitActive(t, "IncreaseStreamRetentionPeriod")
		if h := f.summary(t).RetentionPeriodHours; h != 48 {
			t.Fatalf("RetentionPeriodHours after Increase: %d, want 48", h)
		}
		f.must(t, nil, "decrease-stream-retention-period", "--stream-name", name, "--retention-period-hours", "24")
		f.waitActive(t, "DecreaseStreamRetentionPeriod")
		if h := f.summary(t).RetentionPeriodHours; h != 24 {
			t.Fatalf("RetentionPeriodHours after Decrease: %d, want 24", h)
		}
		f.wantError(t, "InvalidArgumentException", "", "decrease-stream-retention-period", "--stream-name", name, "--retention-period-hours", "12")
	})
	f.step("delete-stream", []string{"wait-active"}, func(t *testing.T) {
		f.must(t, nil, "delete-stream", "--stream-name", name)
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := f.cli(nil, "describe-stream-summary", "--stream-name", name)
			if err != nil {
				ce, ok := err.(*cliError)
				if !ok || ce.Code != "ResourceNotFoundException" || ce.Message != "Stream "+name+" under account "+flowAccount+" not found." {
					t.Fatalf("DescribeStreamSummary after DeleteStream: %v", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("stream still there 30 s after DeleteStream")
			}
			time.Sleep(100 * time.Millisecond)
		}
		var r struct{ StreamNames []string }
		f.must(t, &r, "list-streams", "--no-paginate")
		if slices.Contains(r.StreamNames, name) {
			t.Fatalf("ListStreams after DeleteStream: %v", r.StreamNames)
		}
		f.wantError(t, "ResourceNotFoundException", "", "put-record", "--stream-name", name, "--partition-key", "a", "--data", "x")
	})
}
