package httpapi

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/segment"
	"github.com/sluicehq/sluice/stream"
)

// The end-to-end tests of the tag, consumer, resource policy, limits and
// account operations: the real aws-sdk-go-v2 client over a loopback socket
// against a Manager with a manual clock. Error paths check the SDK's
// exception type, the HTTP status and the message text.

const (
	miscAccount = "000000000000"
	miscARNBase = "arn:aws:kinesis:us-east-1:" + miscAccount + ":stream/"
)

// manualClock is a clock the test moves by hand.
type manualClock struct{ ns atomic.Int64 }

func newManualClock() *manualClock {
	c := &manualClock{}
	c.ns.Store(time.Now().Truncate(time.Millisecond).UnixNano())
	return c
}

func (c *manualClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *manualClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// miscEnv is a server on a loopback socket with its SDK client.
type miscEnv struct {
	m      *stream.Manager
	client *kinesis.Client
	clock  *manualClock
	ctx    context.Context
}

// startMisc starts a server on a Manager with a manual clock; configure
// may change the Manager's configuration.
func startMisc(t *testing.T, configure func(*stream.Config)) *miscEnv {
	t.Helper()
	clock := newManualClock()
	cfg := stream.Config{
		DataDir:    t.TempDir(),
		Durability: segment.Async,
		Now:        clock.Now,
		Segment: segment.Config{
			FragmentBytes:  4 << 20,
			MaxStripeBytes: 64 << 10,
			Logger:         discardLogger(),
		},
	}
	if configure != nil {
		configure(&cfg)
	}
	m, err := stream.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
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
	client := sdkTestClient(ctx, t, "http://"+ln.Addr().String())
	return &miscEnv{m: m, client: client, clock: clock, ctx: ctx}
}

func (e *miscEnv) createStream(t *testing.T, name string, shards int32) {
	t.Helper()
	if _, err := e.client.CreateStream(e.ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
}

// wantErr checks that err is the modelled exception E (e.g.
// *types.ResourceNotFoundException) with HTTP status 400 and message msg.
func wantSDKErr[E interface {
	error
	ErrorMessage() string
}](t *testing.T, what string, err error, msg string) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Errorf("%s: got %T %v, want %T", what, err, err, e)
		return
	}
	var st interface{ HTTPStatusCode() int }
	if !errors.As(err, &st) || st.HTTPStatusCode() != 400 {
		t.Errorf("%s: no HTTP status 400 in %v", what, err)
	}
	if got := e.ErrorMessage(); got != msg {
		t.Errorf("%s: message\n got %q\nwant %q", what, got, msg)
	}
}

func TestSDKResourcePolicy(t *testing.T) {
	e := startMisc(t, nil)
	c, ctx := e.client, e.ctx
	e.createStream(t, "pol", 1)
	arn := miscARNBase + "pol"

	get := func(resource string) string {
		t.Helper()
		out, err := c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(resource)})
		if err != nil {
			t.Fatalf("GetResourcePolicy %s: %v", resource, err)
		}
		return aws.ToString(out.Policy)
	}
	if p := get(arn); p != "{}" {
		t.Errorf("policy of a stream without one: %q, want {}", p)
	}
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"` + miscARNBase + `pol"}]}`
	if _, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	if p := get(arn); p != policy {
		t.Errorf("policy %q, want %q", p, policy)
	}
	// A consumer has its own policy.
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	carn := aws.ToString(reg.Consumer.ConsumerARN)
	if p := get(carn); p != "{}" {
		t.Errorf("consumer policy %q, want {}", p)
	}
	const cpolicy = `{"Statement":[]}`
	if _, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(carn), Policy: aws.String(cpolicy)}); err != nil {
		t.Fatalf("PutResourcePolicy consumer: %v", err)
	}
	if p, q := get(carn), get(arn); p != cpolicy || q != policy {
		t.Errorf("consumer policy %q, stream policy %q", p, q)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteResourcePolicy: %v", err)
	}
	if p, q := get(arn), get(carn); p != "{}" || q != cpolicy {
		t.Errorf("after delete: stream policy %q, consumer policy %q", p, q)
	}
	// Deleting an absent policy is a no-op.
	if _, err := c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(arn)}); err != nil {
		t.Errorf("DeleteResourcePolicy without a policy: %v", err)
	}

	// Errors.
	_, err = c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String("{not json")})
	wantSDKErr[*types.InvalidArgumentException](t, "PutResourcePolicy bad JSON", err, "Policy is not a valid JSON document.")
	big := `{"x":"` + strings.Repeat("a", stream.MaxPolicyBytes) + `"}`
	_, err = c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(big)})
	wantSDKErr[*types.InvalidArgumentException](t, "PutResourcePolicy too large", err, "Policy must be at most 20480 bytes long.")
	missing := miscARNBase + "missing"
	_, err = c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(missing)})
	wantSDKErr[*types.ResourceNotFoundException](t, "GetResourcePolicy missing stream", err, "Stream missing under account 000000000000 not found.")
	_, err = c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(missing), Policy: aws.String("{}")})
	wantSDKErr[*types.ResourceNotFoundException](t, "PutResourcePolicy missing stream", err, "Stream missing under account 000000000000 not found.")
	_, err = c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(missing)})
	wantSDKErr[*types.ResourceNotFoundException](t, "DeleteResourcePolicy missing stream", err, "Stream missing under account 000000000000 not found.")
	gone := arn + "/consumer/gone:1700000000"
	_, err = c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(gone)})
	wantSDKErr[*types.ResourceNotFoundException](t, "GetResourcePolicy missing consumer", err, "Consumer "+gone+" under account 000000000000 not found.")
	_, err = c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/")})
	wantSDKErr[*types.ValidationException](t, "GetResourcePolicy bad ARN", err,
		`1 validation error detected: Value 'arn:aws:kinesis:us-east-1:000000000000:stream/' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`)
}

func TestSDKLimitsAndAccountSettings(t *testing.T) {
	e := startMisc(t, nil)
	c, ctx := e.client, e.ctx

	lim, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatalf("DescribeLimits: %v", err)
	}
	if aws.ToInt32(lim.ShardLimit) != 500 || aws.ToInt32(lim.OpenShardCount) != 0 ||
		aws.ToInt32(lim.OnDemandStreamCount) != 0 || aws.ToInt32(lim.OnDemandStreamCountLimit) != 50 {
		t.Errorf("DescribeLimits of an empty account: %d %d %d %d", aws.ToInt32(lim.ShardLimit), aws.ToInt32(lim.OpenShardCount),
			aws.ToInt32(lim.OnDemandStreamCount), aws.ToInt32(lim.OnDemandStreamCountLimit))
	}
	e.createStream(t, "a", 3)
	e.createStream(t, "b", 2)
	lim, err = c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatalf("DescribeLimits: %v", err)
	}
	if aws.ToInt32(lim.ShardLimit) != 500 || aws.ToInt32(lim.OpenShardCount) != 5 ||
		aws.ToInt32(lim.OnDemandStreamCount) != 0 || aws.ToInt32(lim.OnDemandStreamCountLimit) != 50 {
		t.Errorf("DescribeLimits with 5 shards: %d %d %d %d", aws.ToInt32(lim.ShardLimit), aws.ToInt32(lim.OpenShardCount),
			aws.ToInt32(lim.OnDemandStreamCount), aws.ToInt32(lim.OnDemandStreamCountLimit))
	}

	settings := func(what string) *types.MinimumThroughputBillingCommitmentOutput {
		t.Helper()
		out, err := c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
		if err != nil {
			t.Fatalf("DescribeAccountSettings %s: %v", what, err)
		}
		if out.MinimumThroughputBillingCommitment == nil {
			t.Fatalf("DescribeAccountSettings %s: no MinimumThroughputBillingCommitment", what)
		}
		return out.MinimumThroughputBillingCommitment
	}
	update := func(status string) *types.MinimumThroughputBillingCommitmentOutput {
		t.Helper()
		out, err := c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
			MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatus(status)},
		})
		if err != nil {
			t.Fatalf("UpdateAccountSettings %s: %v", status, err)
		}
		if out.MinimumThroughputBillingCommitment == nil {
			t.Fatalf("UpdateAccountSettings %s: no MinimumThroughputBillingCommitment", status)
		}
		return out.MinimumThroughputBillingCommitment
	}
	same := func(what string, got *time.Time, want time.Time) {
		t.Helper()
		if want.IsZero() {
			if got != nil {
				t.Errorf("%s: %v, want absent", what, got)
			}
			return
		}
		if got == nil || !got.Equal(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	check := func(what string, m *types.MinimumThroughputBillingCommitmentOutput, status string, started, ended, earliest time.Time) {
		t.Helper()
		if string(m.Status) != status {
			t.Errorf("%s: Status %s, want %s", what, m.Status, status)
		}
		same(what+" StartedAt", m.StartedAt, started)
		same(what+" EndedAt", m.EndedAt, ended)
		same(what+" EarliestAllowedEndAt", m.EarliestAllowedEndAt, earliest)
	}
	var zero time.Time
	check("initial", settings("initial"), "DISABLED", zero, zero, zero)
	t0 := e.clock.Now()
	check("enable", update("ENABLED"), "ENABLED", t0, zero, t0.Add(stream.CommitmentMinimum))
	check("after enable", settings("after enable"), "ENABLED", t0, zero, t0.Add(stream.CommitmentMinimum))
	e.clock.Advance(time.Hour)
	check("enable again", update("ENABLED"), "ENABLED", t0, zero, t0.Add(stream.CommitmentMinimum))
	// Disabling before the earliest end keeps it until then.
	check("disable early", update("DISABLED"), "ENABLED_UNTIL_EARLIEST_ALLOWED_END", t0, t0.Add(stream.CommitmentMinimum), t0.Add(stream.CommitmentMinimum))
	e.clock.Advance(stream.CommitmentMinimum)
	check("after the end", settings("after the end"), "DISABLED", t0, t0.Add(stream.CommitmentMinimum), t0.Add(stream.CommitmentMinimum))
	// Enabled again, disabled after the earliest end: at once.
	t1 := e.clock.Now()
	check("re-enable", update("ENABLED"), "ENABLED", t1, zero, t1.Add(stream.CommitmentMinimum))
	e.clock.Advance(stream.CommitmentMinimum + time.Second)
	check("disable late", update("DISABLED"), "DISABLED", t1, e.clock.Now(), t1.Add(stream.CommitmentMinimum))

	_, err = c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: "PAUSED"},
	})
	wantSDKErr[*types.ValidationException](t, "UpdateAccountSettings PAUSED", err,
		"1 validation error detected: Value 'PAUSED' at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]")
}
