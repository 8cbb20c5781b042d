package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
)

// The end-to-end suite of the control-plane operations (ops_streams.go,
// ops_shards.go, ops_settings.go): each operation through the real
// aws-sdk-go-v2 Kinesis client over a loopback socket, results checked
// field by field, and each operation's error paths checked for the SDK's
// error type, the HTTP status and the message text.

const (
	acct    = "000000000000"
	arnBase = "arn:aws:kinesis:us-east-1:" + acct + ":stream/"
	maxHash = "340282366920938463463374607431768211455"
)

// sdkEnv is a server on a loopback socket, its Manager and an SDK client.
type sdkEnv struct {
	t      *testing.T
	ctx    context.Context
	c      *kinesis.Client
	m      *stream.Manager
	addr   string
	offset *atomic.Int64 // added to the Manager's clock, in ms
}

// newSDKEnv starts a server whose Manager's configuration tune may change
// (nil: defaults). The Manager's clock is time.Now plus env.offset.
func newSDKEnv(t *testing.T, tune func(*stream.Config)) *sdkEnv {
	t.Helper()
	offset := new(atomic.Int64)
	cfg := stream.Config{
		DataDir:    t.TempDir(),
		Durability: segment.Async,
		Segment: segment.Config{
			FragmentBytes:  4 << 20,
			MaxStripeBytes: 64 << 10,
			Logger:         discardLogger(),
		},
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load()) * time.Millisecond) },
	}
	if tune != nil {
		tune(&cfg)
	}
	m, err := stream.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Registered before startServer's cleanup, so it runs after the server
	// has shut down.
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln, Config{Manager: m})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c := sdkTestClient(ctx, t, "http://"+ln.Addr().String())
	return &sdkEnv{t: t, ctx: ctx, c: c, m: m, addr: ln.Addr().String(), offset: offset}
}

// create makes a PROVISIONED stream of n shards.
func (e *sdkEnv) create(name string, n int) {
	e.t.Helper()
	if _, err := e.c.CreateStream(e.ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n))}); err != nil {
		e.t.Fatalf("CreateStream %s: %v", name, err)
	}
}

func (e *sdkEnv) summary(name string) *types.StreamDescriptionSummary {
	e.t.Helper()
	out, err := e.c.DescribeStreamSummary(e.ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("DescribeStreamSummary %s: %v", name, err)
	}
	return out.StreamDescriptionSummary
}

// shards lists all shards of name (no filter), following NextToken.
func (e *sdkEnv) shards(name string, filter *types.ShardFilter) []types.Shard {
	e.t.Helper()
	var all []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: filter}
	for range 100 {
		out, err := e.c.ListShards(e.ctx, in)
		if err != nil {
			e.t.Fatalf("ListShards %s: %v", name, err)
		}
		all = append(all, out.Shards...)
		if out.NextToken == nil {
			return all
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	e.t.Fatalf("ListShards %s: more than 100 pages", name)
	return nil
}

// apiError is the part of smithy.APIError the checks need.
type apiError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// wantErr checks that err is the SDK's modeled error of type *E with code
// code, HTTP status 400 and message msg (exactly, or as a prefix when msg
// ends in "...").
func wantErr[E error](t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %s", what, code)
		return
	}
	var typed E
	if !errors.As(err, &typed) {
		t.Errorf("%s: error %T (%v), want %T", what, err, err, typed)
		return
	}
	var ae apiError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: code of %v, want %s", what, err, code)
		return
	}
	if prefix, ok := strings.CutSuffix(msg, "..."); ok {
		if !strings.HasPrefix(ae.ErrorMessage(), prefix) {
			t.Errorf("%s: message %q, want prefix %q", what, ae.ErrorMessage(), prefix)
		}
	} else if ae.ErrorMessage() != msg {
		t.Errorf("%s: message\n %q, want\n %q", what, ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: no *awshttp.ResponseError in %T", what, err)
	} else if re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("%s: HTTP status %d, want 400", what, re.HTTPStatusCode())
	}
}

type (
	invalidArg   = *types.InvalidArgumentException
	notFoundErr  = *types.ResourceNotFoundException
	inUseErr     = *types.ResourceInUseException
	limitErr     = *types.LimitExceededException
	validErr     = *types.ValidationException
	expiredToken = *types.ExpiredNextTokenException
)

// rawReply is the answer to a request sent without the SDK.
type rawReply struct {
	status    int
	errorType string
	body      map[string]any
	raw       string
}

// raw posts a JSON body for op to the server with net/http, for requests
// the SDK does not send (it checks required members itself).
func (e *sdkEnv) raw(op, body string) rawReply {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, "http://"+e.addr+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentJSON)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := rawReply{status: resp.StatusCode, errorType: resp.Header.Get("X-Amzn-ErrorType"), raw: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			e.t.Fatalf("%s: body %q: %v", op, b, err)
		}
	}
	return r
}

// want checks a raw error reply.
func (r rawReply) want(t *testing.T, what string, status int, code, msg string) {
	t.Helper()
	got, _ := r.body["message"].(string)
	if m, ok := r.body["Message"].(string); ok {
		got = m
	}
	if r.status != status || r.errorType != code || r.body["__type"] != code || got != msg {
		t.Errorf("%s: %d %s %s, want %d %s %q", what, r.status, r.errorType, r.raw, status, code, msg)
	}
}

// streamNotFound is AWS's text for a missing stream.
func streamNotFound(name string) string {
	return "Stream " + name + " under account " + acct + " not found."
}

func TestSDKCreateStream(t *testing.T) {
	e := newSDKEnv(t, func(c *stream.Config) { c.Limits.ShardLimit = 20; c.Limits.OnDemandStreamCountLimit = 2 })
	c, ctx := e.c, e.ctx
	before := time.Now().Add(-time.Second)

	// PROVISIONED with every member that applies to it.
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:         aws.String("prov"),
		ShardCount:         aws.Int32(3),
		StreamModeDetails:  &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned},
		Tags:               map[string]string{"team": "data", "env": "test"},
		MaxRecordSizeInKiB: aws.Int32(2048),
	})
	if err != nil {
		t.Fatalf("CreateStream prov: %v", err)
	}
	sum := e.summary("prov")
	if aws.ToString(sum.StreamName) != "prov" || aws.ToString(sum.StreamARN) != arnBase+"prov" ||
		sum.StreamStatus != types.StreamStatusActive || sum.StreamModeDetails == nil ||
		sum.StreamModeDetails.StreamMode != types.StreamModeProvisioned ||
		aws.ToInt32(sum.OpenShardCount) != 3 || aws.ToInt32(sum.RetentionPeriodHours) != 24 ||
		aws.ToInt32(sum.MaxRecordSizeInKiB) != 2048 || sum.EncryptionType != types.EncryptionTypeNone ||
		sum.KeyId != nil || aws.ToInt32(sum.ConsumerCount) != 0 || sum.WarmThroughput != nil || sum.StreamId != nil {
		t.Errorf("DescribeStreamSummary prov: %+v", sum)
	}
	if len(sum.EnhancedMonitoring) != 1 || sum.EnhancedMonitoring[0].ShardLevelMetrics == nil || len(sum.EnhancedMonitoring[0].ShardLevelMetrics) != 0 {
		t.Errorf("EnhancedMonitoring %+v, want one entry with an empty list", sum.EnhancedMonitoring)
	}
	if ts := aws.ToTime(sum.StreamCreationTimestamp); ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("StreamCreationTimestamp %v", ts)
	}
	tags, _, err := e.m.ListTagsForStream("prov", "", 50)
	if err != nil || !slices.Equal(tags, []stream.Tag{{Key: "env", Value: "test"}, {Key: "team", Value: "data"}}) {
		t.Errorf("tags of prov: %v, %v", tags, err)
	}
	if shards := e.shards("prov", nil); len(shards) != 3 || aws.ToString(shards[0].HashKeyRange.StartingHashKey) != "0" ||
		aws.ToString(shards[2].HashKeyRange.EndingHashKey) != maxHash {
		t.Errorf("shards of prov: %+v", shards)
	}

	// ON_DEMAND: no ShardCount, four shards.
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:        aws.String("od"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
	})
	if err != nil {
		t.Fatalf("CreateStream od: %v", err)
	}
	sum = e.summary("od")
	if sum.StreamModeDetails.StreamMode != types.StreamModeOnDemand || aws.ToInt32(sum.OpenShardCount) != stream.OnDemandShardCount ||
		aws.ToInt32(sum.MaxRecordSizeInKiB) != 1024 || sum.WarmThroughput != nil {
		t.Errorf("DescribeStreamSummary od: %+v", sum)
	}

	// Warm throughput needs ON_DEMAND and the account's commitment.
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:          aws.String("warm"),
		StreamModeDetails:   &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
		WarmThroughputMiBps: aws.Int32(50),
	})
	wantErr[validErr](t, "warm throughput without commitment", err, "ValidationException",
		"Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED.")
	if _, err := e.m.UpdateAccountSettings(stream.CommitmentEnabled); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:          aws.String("warm"),
		StreamModeDetails:   &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
		WarmThroughputMiBps: aws.Int32(50),
	})
	if err != nil {
		t.Fatalf("CreateStream warm: %v", err)
	}
	sum = e.summary("warm")
	if wt := sum.WarmThroughput; wt == nil || aws.ToInt32(wt.TargetMiBps) != 50 || aws.ToInt32(wt.CurrentMiBps) != 50 {
		t.Errorf("WarmThroughput %+v", sum.WarmThroughput)
	}

	// Error paths.
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("prov"), ShardCount: aws.Int32(1)})
	wantErr[inUseErr](t, "existing name", err, "ResourceInUseException", "Stream prov under account "+acct+" already exists.")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("noshards")})
	wantErr[invalidArg](t, "PROVISIONED without ShardCount", err, "InvalidArgumentException",
		"ShardCount is required for streams in PROVISIONED mode.")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od2"), ShardCount: aws.Int32(2),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantErr[validErr](t, "ON_DEMAND with ShardCount", err, "ValidationException", "ShardCount is not supported for streams in ON_DEMAND mode.")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("zero"), ShardCount: aws.Int32(0)})
	wantErr[validErr](t, "ShardCount 0", err, "ValidationException",
		"1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("bad name"), ShardCount: aws.Int32(1)})
	wantErr[validErr](t, "bad name", err, "ValidationException",
		"1 validation error detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("mode"), ShardCount: aws.Int32(1),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: "SOMETIMES"}})
	wantErr[validErr](t, "bad mode", err, "ValidationException",
		"1 validation error detected: Value 'SOMETIMES' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("small"), ShardCount: aws.Int32(1), MaxRecordSizeInKiB: aws.Int32(512)})
	wantErr[validErr](t, "MaxRecordSizeInKiB 512", err, "ValidationException",
		"1 validation error detected: Value '512' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("pw"), ShardCount: aws.Int32(1), WarmThroughputMiBps: aws.Int32(10)})
	wantErr[validErr](t, "warm throughput on PROVISIONED", err, "ValidationException", "Warm throughput is only supported for streams in ON_DEMAND mode.")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("tagged"), ShardCount: aws.Int32(1), Tags: map[string]string{"aws:x": "y"}})
	wantErr[invalidArg](t, "reserved tag key", err, "InvalidArgumentException", `Tag key "aws:x" uses the reserved prefix 'aws:'.`)
	tooMany := map[string]string{}
	for i := range 51 {
		tooMany["k"+strconv.Itoa(i)] = "v"
	}
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("tagged"), ShardCount: aws.Int32(1), Tags: tooMany})
	wantErr[invalidArg](t, "51 tags", err, "InvalidArgumentException",
		"Failed to add tags to stream tagged under account "+acct+" because a given stream cannot have more than 50 tags associated with it.")
	// 3 + 4 + 4 = 11 open shards of 20: 10 more are too many.
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("big"), ShardCount: aws.Int32(10)})
	wantErr[limitErr](t, "shard limit", err, "LimitExceededException",
		"This request would exceed the shard limit for the account "+acct+" in us-east-1. Current shard count for the account: 11. Limit: 20. "+
			"Number of additional shards that would have resulted from this request: 10. ...")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od3"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantErr[limitErr](t, "on-demand stream limit", err, "LimitExceededException",
		"This request would exceed the on-demand stream count limit for the account "+acct+" in us-east-1. Current on-demand stream count for the account: 2. Limit: 2.")
	// None of the failed calls made a stream.
	list, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || !slices.Equal(list.StreamNames, []string{"od", "prov", "warm"}) {
		t.Errorf("ListStreams after the failures: %v, %v", list.StreamNames, err)
	}
	// Without the SDK: StreamName is required.
	e.raw("CreateStream", `{"ShardCount":1}`).want(t, "no StreamName", 400, "ValidationException",
		"1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null")
}

func TestSDKDeleteStream(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	for _, n := range []string{"a", "b", "c", "d"} {
		e.create(n, 1)
	}
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("a")}); err != nil {
		t.Fatalf("DeleteStream a: %v", err)
	}
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String(arnBase + "b")}); err != nil {
		t.Fatalf("DeleteStream b by ARN: %v", err)
	}
	// Both, agreeing (the KPL sends both).
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("c"), StreamARN: aws.String(arnBase + "c")}); err != nil {
		t.Fatalf("DeleteStream c by name and ARN: %v", err)
	}
	_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("a")})
	wantErr[notFoundErr](t, "deleted stream", err, "ResourceNotFoundException", streamNotFound("a"))

	// A stream with a consumer goes only with EnforceConsumerDeletion.
	if _, err := e.m.RegisterStreamConsumer(arnBase+"d", "app", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("d")})
	wantErr[inUseErr](t, "stream with consumers", err, "ResourceInUseException",
		"Stream d under account "+acct+" has 1 registered consumers; set EnforceConsumerDeletion to delete it with them.")
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("d"), EnforceConsumerDeletion: aws.Bool(false)})
	wantErr[inUseErr](t, "EnforceConsumerDeletion false", err, "ResourceInUseException",
		"Stream d under account "+acct+" has 1 registered consumers; set EnforceConsumerDeletion to delete it with them.")
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("d"), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatalf("DeleteStream d with EnforceConsumerDeletion: %v", err)
	}
	if names := e.m.ListStreams(); len(names) != 0 {
		t.Errorf("streams left: %v", names)
	}

	e.create("e", 1)
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("missing")})
	wantErr[notFoundErr](t, "missing", err, "ResourceNotFoundException", streamNotFound("missing"))
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/e")})
	wantErr[notFoundErr](t, "other account's ARN", err, "ResourceNotFoundException", "Stream e under account 123456789012 not found.")
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("x"), StreamARN: aws.String(arnBase + "e")})
	wantErr[invalidArg](t, "name and ARN disagree", err, "InvalidArgumentException",
		`StreamName "x" does not match the stream of StreamARN "`+arnBase+`e".`)
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{})
	wantErr[invalidArg](t, "neither name nor ARN", err, "InvalidArgumentException", "Either StreamName or StreamARN must be provided.")
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String("arn:aws:s3:::bucket")})
	wantErr[validErr](t, "malformed ARN", err, "ValidationException",
		"1 validation error detected: Value 'arn:aws:s3:::bucket' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
	if names := e.m.ListStreams(); !slices.Equal(names, []string{"e"}) {
		t.Errorf("streams left: %v", names)
	}
}

func TestSDKDescribeStream(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("s", 3)
	want := stream.EvenSplit(3)
	out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s")})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	sd := out.StreamDescription
	if aws.ToString(sd.StreamName) != "s" || aws.ToString(sd.StreamARN) != arnBase+"s" || sd.StreamStatus != types.StreamStatusActive ||
		sd.StreamModeDetails == nil || sd.StreamModeDetails.StreamMode != types.StreamModeProvisioned ||
		aws.ToBool(sd.HasMoreShards) || aws.ToInt32(sd.RetentionPeriodHours) != 24 || sd.EncryptionType != types.EncryptionTypeNone ||
		sd.KeyId != nil || len(sd.EnhancedMonitoring) != 1 || len(sd.EnhancedMonitoring[0].ShardLevelMetrics) != 0 || len(sd.Shards) != 3 {
		t.Fatalf("DescribeStream: %+v", sd)
	}
	for i, sh := range sd.Shards {
		if aws.ToString(sh.ShardId) != stream.ShardID(i) || sh.ParentShardId != nil || sh.AdjacentParentShardId != nil ||
			aws.ToString(sh.HashKeyRange.StartingHashKey) != want[i].Start.String() || aws.ToString(sh.HashKeyRange.EndingHashKey) != want[i].End.String() ||
			aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber) == "" || sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Errorf("shard %d: %+v", i, sh)
		}
	}

	// Paging by Limit and ExclusiveStartShardId, addressed by ARN.
	out, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamARN: aws.String(arnBase + "s"), Limit: aws.Int32(2)})
	if err != nil || len(out.StreamDescription.Shards) != 2 || !aws.ToBool(out.StreamDescription.HasMoreShards) {
		t.Fatalf("DescribeStream Limit 2: %+v, %v", out, err)
	}
	out, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s"), Limit: aws.Int32(2),
		ExclusiveStartShardId: out.StreamDescription.Shards[1].ShardId})
	if err != nil || len(out.StreamDescription.Shards) != 1 || aws.ToBool(out.StreamDescription.HasMoreShards) ||
		aws.ToString(out.StreamDescription.Shards[0].ShardId) != stream.ShardID(2) {
		t.Fatalf("DescribeStream page 2: %+v, %v", out, err)
	}

	// A closed shard shows its EndingSequenceNumber; children their parent.
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String(stream.ShardID(0)),
		NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	out, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s")})
	if err != nil || len(out.StreamDescription.Shards) != 5 {
		t.Fatalf("DescribeStream after split: %+v, %v", out, err)
	}
	sh := out.StreamDescription.Shards
	if sh[0].SequenceNumberRange.EndingSequenceNumber == nil || aws.ToString(sh[3].ParentShardId) != stream.ShardID(0) ||
		aws.ToString(sh[4].ParentShardId) != stream.ShardID(0) || aws.ToString(sh[3].HashKeyRange.EndingHashKey) != "999" {
		t.Errorf("DescribeStream after split: %+v", sh)
	}

	_, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("missing")})
	wantErr[notFoundErr](t, "missing", err, "ResourceNotFoundException", streamNotFound("missing"))
	_, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s"), Limit: aws.Int32(0)})
	wantErr[validErr](t, "Limit 0", err, "ValidationException",
		"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{})
	wantErr[invalidArg](t, "neither name nor ARN", err, "InvalidArgumentException", "Either StreamName or StreamARN must be provided.")
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("missing")})
	wantErr[notFoundErr](t, "summary of missing", err, "ResourceNotFoundException", streamNotFound("missing"))
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String("arn:aws:kinesis:eu-west-1:" + acct + ":stream/s")})
	wantErr[notFoundErr](t, "summary by another region's ARN", err, "ResourceNotFoundException", streamNotFound("s"))
	// The JSON as sent: defaults spelled out, absent members absent,
	// StreamId ignored on input and never sent (KINESIS_API.md 1.7).
	r := e.raw("DescribeStreamSummary", `{"StreamName":"s","StreamId":"abcdefghij0123456789-abc"}`)
	for _, want := range []string{`"EnhancedMonitoring":[{"ShardLevelMetrics":[]}]`, `"EncryptionType":"NONE"`, `"ConsumerCount":0`,
		`"MaxRecordSizeInKiB":1024`, `"StreamModeDetails":{"StreamMode":"PROVISIONED"}`, `"OpenShardCount":4`} {
		if r.status != 200 || !strings.Contains(r.raw, want) {
			t.Errorf("DescribeStreamSummary JSON lacks %s: %d %s", want, r.status, r.raw)
		}
	}
	for _, absent := range []string{"KeyId", "StreamId", "WarmThroughput"} {
		if strings.Contains(r.raw, `"`+absent+`"`) {
			t.Errorf("DescribeStreamSummary JSON has %s: %s", absent, r.raw)
		}
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arnBase + "s")})
	if err != nil || aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount) != 4 {
		t.Errorf("summary by ARN after split: %+v, %v", sum, err)
	}
}

func TestSDKListStreams(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	out, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || out.StreamNames == nil || len(out.StreamNames) != 0 || aws.ToBool(out.HasMoreStreams) || out.NextToken != nil {
		t.Fatalf("ListStreams of none: %+v, %v", out, err)
	}
	e.create("c", 1)
	e.create("a", 1)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("b"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(2)})
	if err != nil || !slices.Equal(out.StreamNames, []string{"a", "b"}) || !aws.ToBool(out.HasMoreStreams) || out.NextToken == nil {
		t.Fatalf("ListStreams page 1: %+v, %v", out, err)
	}
	if len(out.StreamSummaries) != 2 {
		t.Fatalf("StreamSummaries %+v", out.StreamSummaries)
	}
	for i, ss := range out.StreamSummaries {
		mode := types.StreamModeProvisioned
		if i == 1 {
			mode = types.StreamModeOnDemand
		}
		if aws.ToString(ss.StreamName) != out.StreamNames[i] || aws.ToString(ss.StreamARN) != arnBase+out.StreamNames[i] ||
			ss.StreamStatus != types.StreamStatusActive || ss.StreamModeDetails == nil || ss.StreamModeDetails.StreamMode != mode ||
			ss.StreamCreationTimestamp == nil || time.Since(*ss.StreamCreationTimestamp) > time.Minute {
			t.Errorf("summary %d: %+v", i, ss)
		}
	}
	next, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: out.NextToken})
	if err != nil || !slices.Equal(next.StreamNames, []string{"c"}) || aws.ToBool(next.HasMoreStreams) || next.NextToken != nil {
		t.Fatalf("ListStreams page 2: %+v, %v", next, err)
	}
	next, err = c.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("a")})
	if err != nil || !slices.Equal(next.StreamNames, []string{"b", "c"}) || aws.ToBool(next.HasMoreStreams) {
		t.Fatalf("ListStreams after a: %+v, %v", next, err)
	}
	// The SDK's paginator follows NextToken.
	var names []string
	p := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{Limit: aws.Int32(1)})
	for p.HasMorePages() && len(names) < 10 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("paginator: %v", err)
		}
		names = append(names, page.StreamNames...)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("paginator: %v", names)
	}

	_, err = c.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: aws.String("!!not a token")})
	wantErr[invalidArg](t, "bad NextToken", err, "InvalidArgumentException", "Invalid NextToken.")
	_, err = c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(10001)})
	wantErr[validErr](t, "Limit 10001", err, "ValidationException",
		"1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000")
	_, err = c.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("no/slash")})
	wantErr[validErr](t, "bad ExclusiveStartStreamName", err, "ValidationException", "1 validation error detected: Value 'no/slash' at 'exclusiveStartStreamName'...")
	e.raw("ListStreams", `{"Limit":"ten"}`).want(t, "Limit as a string", 400, "SerializationException",
		"class java.lang.String can not be converted to an Integer")
}

// TestSDKStreamsLimitCapped checks the caps of DescribeStream's and
// ListStreams' Limit (AWS: values over 100 return at most 100).
func TestSDKStreamsLimitCapped(t *testing.T) {
	e := newSDKEnv(t, nil)
	e.create("wide", 101)
	out, err := e.c.DescribeStream(e.ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("wide"), Limit: aws.Int32(500)})
	if err != nil || len(out.StreamDescription.Shards) != 100 || !aws.ToBool(out.StreamDescription.HasMoreShards) {
		t.Fatalf("DescribeStream Limit 500: %d shards, more %v, %v", len(out.StreamDescription.Shards), out.StreamDescription.HasMoreShards, err)
	}
	for i := range 101 {
		if err := e.m.CreateStream("s"+strconv.Itoa(1000+i), 1); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.c.ListStreams(e.ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(1000)})
	if err != nil || len(list.StreamNames) != 100 || !aws.ToBool(list.HasMoreStreams) {
		t.Fatalf("ListStreams Limit 1000: %d names, more %v, %v", len(list.StreamNames), list.HasMoreStreams, err)
	}
}
