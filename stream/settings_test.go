package stream

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wantErr checks that err wraps kind (nil: any) and, when msg is not "",
// that its text is msg.
func wantErr(t *testing.T, err error, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v %q", kind, msg)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Fatalf("error %q (%T), want kind %v", err, err, kind)
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("message\n got %q\nwant %q", err.Error(), msg)
	}
}

// wantArg checks that err is an *ArgumentError (InvalidArgumentException)
// with message msg ("" for any).
func wantArg(t *testing.T, err error, msg string) {
	t.Helper()
	var ae *ArgumentError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want *ArgumentError", err, err)
	}
	if msg != "" && ae.Msg != msg {
		t.Fatalf("message\n got %q\nwant %q", ae.Msg, msg)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func describe(t *testing.T, m *Manager, name string) StreamInfo {
	t.Helper()
	info, err := m.DescribeStream(name)
	mustOK(t, err)
	return info
}

func TestStreamStateCreateOptions(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))

	mustOK(t, m.CreateStreamWith("od", CreateStreamOptions{Mode: ModeOnDemand, MaxRecordSizeKiB: 2048,
		Tags: map[string]string{"team": "data", "env": ""}}))
	info := describe(t, m, "od")
	if len(info.Shards) != OnDemandShardCount || info.Mode != ModeOnDemand || info.MaxRecordSizeKiB != 2048 ||
		info.EncryptionType != EncryptionNone || info.KeyID != "" || info.ConsumerCount != 0 ||
		info.ShardLevelMetrics == nil || len(info.ShardLevelMetrics) != 0 || info.RetentionHours != 24 {
		t.Fatalf("on-demand stream: %+v", info)
	}
	tags, more, err := m.ListTagsForStream("od", "", 0)
	mustOK(t, err)
	if more || !slices.Equal(tags, []Tag{{"env", ""}, {"team", "data"}}) {
		t.Fatalf("tags %v more %v", tags, more)
	}

	mustOK(t, m.CreateStreamWith("pv", CreateStreamOptions{ShardCount: 3}))
	if info := describe(t, m, "pv"); info.Mode != ModeProvisioned || len(info.Shards) != 3 || info.MaxRecordSizeKiB != 1024 {
		t.Fatalf("provisioned stream: %+v", info)
	}

	wantErr(t, m.CreateStreamWith("x", CreateStreamOptions{Mode: ModeOnDemand, ShardCount: 2}), ErrValidation, "")
	wantArg(t, m.CreateStreamWith("x", CreateStreamOptions{}), "ShardCount is required for streams in PROVISIONED mode.")
	wantArg(t, m.CreateStream("x", 0), "")
	wantErr(t, m.CreateStreamWith("x", CreateStreamOptions{Mode: "FAST", ShardCount: 1}), ErrValidation,
		"1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]")
	wantErr(t, m.CreateStreamWith("x", CreateStreamOptions{ShardCount: 1, MaxRecordSizeKiB: 1023}), ErrValidation, "")
	wantErr(t, m.CreateStreamWith("x", CreateStreamOptions{ShardCount: 1, MaxRecordSizeKiB: 10241}), ErrValidation, "")
	wantArg(t, m.CreateStreamWith("x", CreateStreamOptions{ShardCount: 1, Tags: map[string]string{"a#": "1"}}),
		"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
	// Warm throughput needs ON_DEMAND and the account's commitment.
	wantErr(t, m.CreateStreamWith("x", CreateStreamOptions{Mode: ModeOnDemand, WarmThroughputMiBps: 10}), ErrValidation, "")
	_, err = m.UpdateAccountSettings(CommitmentEnabled)
	mustOK(t, err)
	wantErr(t, m.CreateStreamWith("x", CreateStreamOptions{ShardCount: 1, WarmThroughputMiBps: 10}), ErrValidation, "")
	mustOK(t, m.CreateStreamWith("warm", CreateStreamOptions{Mode: ModeOnDemand, WarmThroughputMiBps: 10}))
	if info := describe(t, m, "warm"); info.WarmThroughputMiBps != 10 {
		t.Fatalf("warm: %+v", info)
	}
	if _, err := m.DescribeStream("x"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("a failed create left stream x: %v", err)
	}
}

func TestStreamStateLimits(t *testing.T) {
	cfg := testConfig(t.TempDir(), nil)
	cfg.Limits = Limits{ShardLimit: 10, OnDemandStreamCountLimit: 2}
	m := openTest(t, cfg)
	mustOK(t, m.CreateStream("a", 6))
	wantErr(t, m.CreateStream("b", 5), ErrLimitExceeded,
		"This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 6. Limit: 10. Number of additional shards that would have resulted from this request: 5. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.")
	mustOK(t, m.CreateStreamWith("od", CreateStreamOptions{Mode: ModeOnDemand}))
	lim, err := m.DescribeLimits()
	mustOK(t, err)
	if lim != (AccountLimits{ShardLimit: 10, OpenShardCount: 10, OnDemandStreamCount: 1, OnDemandStreamCountLimit: 2}) {
		t.Fatalf("DescribeLimits = %+v", lim)
	}
	mustOK(t, m.DeleteStream("a"))
	mustOK(t, m.CreateStreamWith("od2", CreateStreamOptions{Mode: ModeOnDemand}))
	wantErr(t, m.CreateStreamWith("od3", CreateStreamOptions{Mode: ModeOnDemand}), ErrLimitExceeded, "")

	// AWS's defaults.
	d := Limits{}.withDefaults("us-east-1")
	if d.ShardLimit != 500 || d.OnDemandStreamCountLimit != 50 || d.MaxConsumersPerStream != 20 || d.MaxCreatingConsumers != 5 {
		t.Fatalf("defaults %+v", d)
	}
	if (Limits{}).withDefaults("eu-central-1").ShardLimit != 200 {
		t.Fatal("default shard limit outside the big regions is not 200")
	}
}

func TestStreamStateMode(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	mustOK(t, m.CreateStream("s", 2))
	arn := describe(t, m, "s").ARN
	name, err := m.ParseStreamARN(arn)
	if err != nil || name != "s" {
		t.Fatalf("ParseStreamARN(%q) = %q, %v", arn, name, err)
	}
	mustOK(t, m.UpdateStreamMode(name, ModeOnDemand, 0))
	if info := describe(t, m, "s"); info.Mode != ModeOnDemand || len(info.Shards) != 2 || info.Status != StatusActive {
		t.Fatalf("after switch: %+v", info)
	}
	wantArg(t, m.UpdateStreamMode("s", ModeOnDemand, 0), "Stream s under account 000000000000 is already in ON_DEMAND mode.")
	wantErr(t, m.UpdateStreamMode("s", "X", 0), ErrValidation, "")
	wantErr(t, m.UpdateStreamMode("nope", ModeOnDemand, 0), ErrStreamNotFound, "")
	wantErr(t, m.UpdateStreamMode("s", ModeProvisioned, 5), ErrValidation, "") // warm needs ON_DEMAND
	mustOK(t, m.UpdateStreamMode("s", ModeProvisioned, 0))
	if describe(t, m, "s").Mode != ModeProvisioned {
		t.Fatal("mode not switched back")
	}

	// ARNs and the StreamName/StreamARN pair.
	f := func(name, arn, want string, wantErrKind error) {
		t.Helper()
		got, err := m.ResolveStream(name, arn)
		if wantErrKind != nil {
			if !errors.Is(err, wantErrKind) && !(wantErrKind == errArg && isArg(err)) {
				t.Fatalf("ResolveStream(%q, %q) = %q, %v; want %v", name, arn, got, err, wantErrKind)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("ResolveStream(%q, %q) = %q, %v; want %q", name, arn, got, err, want)
		}
	}
	f("s", "", "s", nil)
	f("", arn, "s", nil)
	f("s", arn, "s", nil)
	f("t", arn, "", errArg)
	f("", "", "", errArg)
	f("", "arn:aws:kinesis:us-east-1:000000000000:stream/bad/name", "", errArg)
	f("", "arn:aws:kinesis:eu-west-1:000000000000:stream/s", "", ErrStreamNotFound)
	f("", "garbage", "", errArg)
}

var errArg = errors.New("argument error")

func isArg(err error) bool {
	var ae *ArgumentError
	return errors.As(err, &ae)
}

func TestStreamStateRetention(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	mustOK(t, m.CreateStream("s", 1))
	wantArg(t, m.IncreaseStreamRetentionPeriod("s", 23), "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.")
	wantArg(t, m.DecreaseStreamRetentionPeriod("s", 8761), "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.")
	mustOK(t, m.IncreaseStreamRetentionPeriod("s", 48))
	mustOK(t, m.IncreaseStreamRetentionPeriod("s", 48)) // equal is fine
	wantArg(t, m.IncreaseStreamRetentionPeriod("s", 30),
		"Requested retention period (30 hours) for stream s can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.")
	wantArg(t, m.DecreaseStreamRetentionPeriod("s", 72),
		"Requested retention period (72 hours) for stream s can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.")
	if got := describe(t, m, "s").RetentionHours; got != 48 {
		t.Fatalf("RetentionHours = %d", got)
	}
	s, _ := m.stream("s")
	if got := m.shardConfig(s, 0).Retention; got != 48*time.Hour {
		t.Fatalf("shard log retention %v", got)
	}
	mustOK(t, m.IncreaseStreamRetentionPeriod("s", 8760))
	mustOK(t, m.DecreaseStreamRetentionPeriod("s", 24))
	if got := describe(t, m, "s").RetentionHours; got != 24 {
		t.Fatalf("RetentionHours = %d", got)
	}
	wantErr(t, m.IncreaseStreamRetentionPeriod("nope", 48), ErrStreamNotFound, "")
}

func TestStreamStateEncryptionAndRecordSize(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	mustOK(t, m.CreateStream("s", 1))
	mustOK(t, m.StartStreamEncryption("s", EncryptionKMS, "alias/aws/kinesis"))
	if info := describe(t, m, "s"); info.EncryptionType != EncryptionKMS || info.KeyID != "alias/aws/kinesis" || info.Status != StatusActive {
		t.Fatalf("after start: %+v", info)
	}
	wantArg(t, m.StartStreamEncryption("s", EncryptionNone, "k"), "")
	wantArg(t, m.StartStreamEncryption("s", EncryptionKMS, ""), "")
	wantArg(t, m.StopStreamEncryption("s", "", "k"), "")
	mustOK(t, m.StopStreamEncryption("s", EncryptionKMS, "alias/aws/kinesis"))
	if info := describe(t, m, "s"); info.EncryptionType != EncryptionNone || info.KeyID != "" {
		t.Fatalf("after stop: %+v", info)
	}
	mustOK(t, m.StopStreamEncryption("s", EncryptionKMS, "k")) // no-op

	// The default 1 MiB limit rejects 1 MiB + 1 byte of data before the
	// shard log (which takes 64 KiB in the test config) sees it, and fails
	// the whole call.
	n, err := m.MaxRecordBytes("s")
	if err != nil || n != 1<<20 {
		t.Fatalf("MaxRecordBytes = %d, %v", n, err)
	}
	big := make([]byte, 1<<20+1)
	_, err = m.PutRecords("s", []PutEntry{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "k", Data: big}})
	var tl *RecordTooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrValidation) || tl.Index != 1 || tl.Size != 1<<20+1 || tl.Max != 1<<20 {
		t.Fatalf("oversize record: %v", err)
	}
	wantErr(t, err, ErrValidation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576")
	mustOK(t, m.UpdateMaxRecordSize("s", 2048))
	if n, _ := m.MaxRecordBytes("s"); n != 2<<20 {
		t.Fatalf("MaxRecordBytes after update = %d", n)
	}
	if describe(t, m, "s").MaxRecordSizeKiB != 2048 {
		t.Fatal("MaxRecordSizeKiB not shown")
	}
	wantErr(t, m.UpdateMaxRecordSize("s", 100), ErrValidation, "")
	wantErr(t, m.UpdateMaxRecordSize("nope", 2048), ErrStreamNotFound, "")
}

func TestStreamStateWarmAndMonitoring(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	mustOK(t, m.CreateStreamWith("od", CreateStreamOptions{Mode: ModeOnDemand}))
	mustOK(t, m.CreateStream("pv", 1))
	_, err := m.UpdateStreamWarmThroughput("od", 100)
	wantErr(t, err, ErrValidation, "") // no commitment
	_, err = m.UpdateAccountSettings(CommitmentEnabled)
	mustOK(t, err)
	_, err = m.UpdateStreamWarmThroughput("pv", 100)
	wantErr(t, err, ErrValidation, "")
	w, err := m.UpdateStreamWarmThroughput("od", 100)
	if err != nil || w != (WarmThroughput{TargetMiBps: 100, CurrentMiBps: 100}) {
		t.Fatalf("warm = %+v, %v", w, err)
	}

	em, err := m.EnableEnhancedMonitoring("pv", []string{"OutgoingBytes", "IncomingBytes"})
	mustOK(t, err)
	if !slices.Equal(em.Current, []string{}) || !slices.Equal(em.Desired, []string{"IncomingBytes", "OutgoingBytes"}) {
		t.Fatalf("enable: %+v", em)
	}
	em, err = m.EnableEnhancedMonitoring("pv", []string{MetricsAll})
	mustOK(t, err)
	if len(em.Current) != 2 || !slices.Equal(em.Desired, shardLevelMetricNames) {
		t.Fatalf("enable ALL: %+v", em)
	}
	em, err = m.DisableEnhancedMonitoring("pv", []string{"IteratorAgeMilliseconds", "IncomingBytes"})
	mustOK(t, err)
	if len(em.Current) != 7 || !slices.Equal(em.Desired, []string{"IncomingRecords", "OutgoingBytes", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"}) {
		t.Fatalf("disable: %+v", em)
	}
	if got := describe(t, m, "pv").ShardLevelMetrics; !slices.Equal(got, em.Desired) {
		t.Fatalf("Describe shows %v", got)
	}
	em, err = m.DisableEnhancedMonitoring("pv", []string{MetricsAll})
	mustOK(t, err)
	if len(em.Current) != 5 || len(em.Desired) != 0 || em.Desired == nil {
		t.Fatalf("disable ALL: %+v", em)
	}
	_, err = m.EnableEnhancedMonitoring("pv", []string{"Bogus"})
	wantErr(t, err, ErrValidation, "")
	_, err = m.EnableEnhancedMonitoring("pv", nil)
	wantErr(t, err, ErrValidation, "")
	_, err = m.EnableEnhancedMonitoring("nope", []string{MetricsAll})
	wantErr(t, err, ErrStreamNotFound, "")
}

func TestStreamStateAccountSettings(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	c, err := m.DescribeAccountSettings()
	if err != nil || c != (BillingCommitment{Status: CommitmentDisabled}) {
		t.Fatalf("initial: %+v, %v", c, err)
	}
	start := clk.Now().UnixMilli()
	c, err = m.UpdateAccountSettings(CommitmentEnabled)
	mustOK(t, err)
	if c.Status != CommitmentEnabled || c.StartedAt != start || c.EarliestAllowedEndAt != start+CommitmentMinimum.Milliseconds() {
		t.Fatalf("enabled: %+v", c)
	}
	clk.Add(time.Hour)
	c, err = m.UpdateAccountSettings(CommitmentDisabled)
	mustOK(t, err)
	if c.Status != CommitmentEnabledUntilEarliestAllowedEnd || c.EndedAt != c.EarliestAllowedEndAt {
		t.Fatalf("disabled early: %+v", c)
	}
	clk.Add(CommitmentMinimum)
	if c, _ := m.DescribeAccountSettings(); c.Status != CommitmentDisabled {
		t.Fatalf("after the earliest end: %+v", c)
	}
	_, err = m.UpdateAccountSettings("MAYBE")
	wantErr(t, err, ErrValidation, "")
}

func TestStreamStateTags(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	mustOK(t, m.CreateStream("s", 1))
	mustOK(t, m.AddTagsToStream("s", map[string]string{"b": "2", "a": "1", "ü nicode/=+-@:._": "v"}))
	mustOK(t, m.AddTagsToStream("s", map[string]string{"b": "two"}))
	tags, more, err := m.ListTagsForStream("s", "", 2)
	mustOK(t, err)
	if !more || !slices.Equal(tags, []Tag{{"a", "1"}, {"b", "two"}}) {
		t.Fatalf("page 1: %v %v", tags, more)
	}
	tags, more, err = m.ListTagsForStream("s", "b", 2)
	mustOK(t, err)
	if more || len(tags) != 1 || tags[0].Key != "ü nicode/=+-@:._" {
		t.Fatalf("page 2: %v %v", tags, more)
	}
	tags, _, _ = m.ListTagsForStream("s", "aa", 50) // start key need not exist
	if len(tags) != 2 || tags[0].Key != "b" {
		t.Fatalf("after aa: %v", tags)
	}
	_, _, err = m.ListTagsForStream("s", "", 51)
	wantArg(t, err, "")
	mustOK(t, m.RemoveTagsFromStream("s", []string{"a", "absent"}))
	tags, _, _ = m.ListTagsForStream("s", "", 0)
	if len(tags) != 2 || tags[0].Key != "b" {
		t.Fatalf("after remove: %v", tags)
	}

	wantArg(t, m.AddTagsToStream("s", map[string]string{"aws:x": "1"}), "")
	wantArg(t, m.AddTagsToStream("s", map[string]string{"k": "50%"}), "")
	wantArg(t, m.AddTagsToStream("s", map[string]string{strings.Repeat("k", 129): ""}), "")
	wantArg(t, m.AddTagsToStream("s", map[string]string{"k": strings.Repeat("v", 257)}), "")
	wantArg(t, m.AddTagsToStream("s", nil), "")
	wantArg(t, m.RemoveTagsFromStream("s", nil), "")
	many := map[string]string{}
	for i := range 11 {
		many["k"+strconv.Itoa(i)] = ""
	}
	wantArg(t, m.AddTagsToStream("s", many), "") // more than 10 per call
	for i := range 49 {
		many["k"+strconv.Itoa(i)] = ""
	}
	wantArg(t, m.TagResource(describe(t, m, "s").ARN, many),
		"Failed to add tags to stream s under account 000000000000 because a given stream cannot have more than 50 tags associated with it.")
	delete(many, "k0")
	mustOK(t, m.TagResource(describe(t, m, "s").ARN, many)) // 2 + 48 = 50
	mustOK(t, m.AddTagsToStream("s", map[string]string{"k1": "overwrite"}))
	wantErr(t, m.AddTagsToStream("nope", map[string]string{"a": "b"}), ErrStreamNotFound, "")

	// TagResource and friends, on the stream and on a consumer.
	arn := describe(t, m, "s").ARN
	got, err := m.ListTagsForResource(arn)
	if err != nil || len(got) != 50 {
		t.Fatalf("ListTagsForResource(stream): %d tags, %v", len(got), err)
	}
	mustOK(t, m.UntagResource(arn, []string{"k1", "k2"}))
	mustOK(t, m.TagResource(arn, map[string]string{"x": "y"}))
	if got, _ := m.ListTagsForResource(arn); len(got) != 49 {
		t.Fatalf("after untag/tag: %d tags", len(got))
	}
	c, err := m.RegisterStreamConsumer(arn, "app", map[string]string{"owner": "me"})
	mustOK(t, err)
	mustOK(t, m.TagResource(c.ARN, map[string]string{"tier": "1"}))
	got, err = m.ListTagsForResource(c.ARN)
	if err != nil || !slices.Equal(got, []Tag{{"owner", "me"}, {"tier", "1"}}) {
		t.Fatalf("consumer tags %v, %v", got, err)
	}
	mustOK(t, m.UntagResource(c.ARN, []string{"owner"}))
	if got, _ := m.ListTagsForResource(c.ARN); !slices.Equal(got, []Tag{{"tier", "1"}}) {
		t.Fatalf("consumer tags after untag: %v", got)
	}
	_, err = m.ListTagsForResource(arn + "/consumer/other:1")
	wantErr(t, err, ErrResourceNotFound, "")
	_, err = m.ListTagsForResource(arn + "/consumer/bad name:1")
	wantArg(t, err, "")
	_, err = m.ListTagsForResource("arn:aws:kinesis:us-east-1:000000000000:stream/nope")
	wantErr(t, err, ErrStreamNotFound, "")
	if sn, isConsumer, err := m.ResolveResource(c.ARN); err != nil || sn != "s" || !isConsumer {
		t.Fatalf("ResolveResource(consumer) = %q %v %v", sn, isConsumer, err)
	}
}

func TestStreamStatePolicies(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	mustOK(t, m.CreateStream("s", 1))
	arn := describe(t, m, "s").ARN
	p, err := m.GetResourcePolicy(arn)
	if err != nil || p != "{}" {
		t.Fatalf("no policy: %q, %v", p, err)
	}
	const doc = `{"Version":"2012-10-17","Statement":[]}`
	mustOK(t, m.PutResourcePolicy(arn, doc))
	if p, _ := m.GetResourcePolicy(arn); p != doc {
		t.Fatalf("policy %q", p)
	}
	wantArg(t, m.PutResourcePolicy(arn, "{not json"), "")
	wantArg(t, m.PutResourcePolicy(arn, `"a string"`), "")
	c, err := m.RegisterStreamConsumer(arn, "app", nil)
	mustOK(t, err)
	mustOK(t, m.PutResourcePolicy(c.ARN, `{"c":1}`))
	if p, _ := m.GetResourcePolicy(c.ARN); p != `{"c":1}` {
		t.Fatalf("consumer policy %q", p)
	}
	if p, _ := m.GetResourcePolicy(arn); p != doc {
		t.Fatalf("stream policy changed: %q", p)
	}
	mustOK(t, m.DeleteResourcePolicy(arn))
	mustOK(t, m.DeleteResourcePolicy(arn))
	if p, _ := m.GetResourcePolicy(arn); p != "{}" {
		t.Fatalf("after delete: %q", p)
	}
	wantErr(t, m.PutResourcePolicy(arn+"/consumer/x:1", doc), ErrResourceNotFound, "")
}
