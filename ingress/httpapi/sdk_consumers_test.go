package httpapi

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/stream"
)

func TestSDKStreamConsumers(t *testing.T) {
	const delay = 5 * time.Second
	e := startMisc(t, func(c *stream.Config) {
		c.ConsumerActivationDelay = delay
		c.Limits.MaxConsumersPerStream = 7
		c.UpdateDelay = time.Hour // a reshard keeps its stream UPDATING
	})
	c, ctx := e.client, e.ctx
	e.createStream(t, "cons", 2)
	arn := miscARNBase + "cons"
	created := map[string]time.Time{} // consumer name -> registration time
	arns := map[string]string{}

	register := func(name string) types.Consumer {
		t.Helper()
		out, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String(name)})
		if err != nil {
			t.Fatalf("RegisterStreamConsumer %s: %v", name, err)
		}
		now := e.clock.Now()
		cs := *out.Consumer
		wantARN := arn + "/consumer/" + name + ":" + strconv.FormatInt(now.Unix(), 10)
		if aws.ToString(cs.ConsumerName) != name || aws.ToString(cs.ConsumerARN) != wantARN || cs.ConsumerStatus != types.ConsumerStatusCreating ||
			cs.ConsumerCreationTimestamp == nil || !cs.ConsumerCreationTimestamp.Equal(now) {
			t.Fatalf("RegisterStreamConsumer %s: %s %s %s %v, want ARN %s, CREATING, %v", name, aws.ToString(cs.ConsumerName),
				aws.ToString(cs.ConsumerARN), cs.ConsumerStatus, cs.ConsumerCreationTimestamp, wantARN, now)
		}
		created[name], arns[name] = now, wantARN
		return cs
	}
	describe := func(what string, in *kinesis.DescribeStreamConsumerInput) *types.ConsumerDescription {
		t.Helper()
		out, err := c.DescribeStreamConsumer(ctx, in)
		if err != nil {
			t.Fatalf("DescribeStreamConsumer %s: %v", what, err)
		}
		return out.ConsumerDescription
	}
	checkDesc := func(what string, d *types.ConsumerDescription, name string, status types.ConsumerStatus) {
		t.Helper()
		if aws.ToString(d.ConsumerName) != name || aws.ToString(d.ConsumerARN) != arns[name] || d.ConsumerStatus != status ||
			aws.ToString(d.StreamARN) != arn || d.ConsumerCreationTimestamp == nil || !d.ConsumerCreationTimestamp.Equal(created[name]) {
			t.Errorf("%s: %s %s %s %s %v, want %s %s %s %s %v", what, aws.ToString(d.ConsumerName), aws.ToString(d.ConsumerARN),
				d.ConsumerStatus, aws.ToString(d.StreamARN), d.ConsumerCreationTimestamp, name, arns[name], status, arn, created[name])
		}
	}

	register("c0")
	checkDesc("c0 by ARN", describe("c0", &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arns["c0"])}), "c0", types.ConsumerStatusCreating)
	e.clock.Advance(delay - time.Millisecond)
	checkDesc("c0 just before activation", describe("c0", &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c0")}), "c0", types.ConsumerStatusCreating)
	e.clock.Advance(time.Millisecond)
	checkDesc("c0 by stream and name", describe("c0", &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c0")}), "c0", types.ConsumerStatusActive)
	checkDesc("c0 by all three", describe("c0", &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c0"), ConsumerARN: aws.String(arns["c0"])}), "c0", types.ConsumerStatusActive)

	// At most 5 in CREATING at once.
	e.clock.Advance(time.Second)
	for i := 1; i <= 5; i++ {
		register(fmt.Sprintf("c%d", i))
	}
	_, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c6")})
	wantSDKErr[*types.LimitExceededException](t, "sixth consumer in CREATING", err,
		"Only 5 consumers can be in CREATING status at once for stream cons under account 000000000000.")
	e.clock.Advance(delay)
	register("c6")
	// At most Limits.MaxConsumersPerStream (7 here) in all.
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c7")})
	wantSDKErr[*types.LimitExceededException](t, "eighth consumer", err, "Consumer limit of 7 exceeded for stream cons under account 000000000000.")
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c3")})
	wantSDKErr[*types.ResourceInUseException](t, "duplicate name", err, "Consumer c3 under stream cons already exists for account 000000000000.")

	// ListStreamConsumers in registration order, in pages of 3.
	wantOrder := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6"}
	var got []types.Consumer
	var token *string
	for page := 0; ; page++ {
		out, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn), MaxResults: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatalf("ListStreamConsumers page %d: %v", page, err)
		}
		if wantLen := []int{3, 3, 1}[page]; len(out.Consumers) != wantLen || (out.NextToken == nil) != (page == 2) {
			t.Fatalf("page %d: %d consumers, NextToken %v", page, len(out.Consumers), out.NextToken)
		}
		got = append(got, out.Consumers...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	for i, cs := range got {
		name := wantOrder[i]
		status := types.ConsumerStatusActive
		if name == "c6" {
			status = types.ConsumerStatusCreating
		}
		if aws.ToString(cs.ConsumerName) != name || aws.ToString(cs.ConsumerARN) != arns[name] || cs.ConsumerStatus != status ||
			cs.ConsumerCreationTimestamp == nil || !cs.ConsumerCreationTimestamp.Equal(created[name]) {
			t.Errorf("consumer %d: %s %s %s %v, want %s %s %s %v", i, aws.ToString(cs.ConsumerName), aws.ToString(cs.ConsumerARN),
				cs.ConsumerStatus, cs.ConsumerCreationTimestamp, name, arns[name], status, created[name])
		}
	}
	// Default page size (100): all at once; the stream's creation time
	// (to the second) is accepted.
	desc, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("cons")})
	if err != nil {
		t.Fatalf("DescribeStreamSummary: %v", err)
	}
	streamCreated := aws.ToTime(desc.StreamDescriptionSummary.StreamCreationTimestamp)
	all, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn), StreamCreationTimestamp: aws.Time(streamCreated)})
	if err != nil || len(all.Consumers) != 7 || all.NextToken != nil {
		t.Fatalf("ListStreamConsumers with StreamCreationTimestamp: %+v %v", all, err)
	}
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn), StreamCreationTimestamp: aws.Time(streamCreated.Add(-time.Hour))})
	wantSDKErr[*types.ResourceNotFoundException](t, "ListStreamConsumers other creation time", err, "Stream cons under account 000000000000 not found.")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn), NextToken: aws.String("bogus")})
	wantSDKErr[*types.InvalidArgumentException](t, "ListStreamConsumers bad token", err, "Invalid NextToken.")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn), MaxResults: aws.Int32(0)})
	wantSDKErr[*types.ValidationException](t, "ListStreamConsumers MaxResults 0", err,
		"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(miscARNBase + "missing")})
	wantSDKErr[*types.ResourceNotFoundException](t, "ListStreamConsumers missing stream", err, "Stream missing under account 000000000000 not found.")
	// A stream without consumers lists none.
	e.createStream(t, "empty", 1)
	none, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(miscARNBase + "empty")})
	if err != nil || len(none.Consumers) != 0 || none.NextToken != nil {
		t.Errorf("ListStreamConsumers of a stream without consumers: %+v %v", none, err)
	}

	// Describe errors.
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{})
	wantSDKErr[*types.InvalidArgumentException](t, "DescribeStreamConsumer without anything", err, "Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn)})
	wantSDKErr[*types.InvalidArgumentException](t, "DescribeStreamConsumer StreamARN only", err, "Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerName: aws.String("c1"), ConsumerARN: aws.String(arns["c0"])})
	wantSDKErr[*types.InvalidArgumentException](t, "DescribeStreamConsumer name and ARN disagree", err,
		"ConsumerARN "+quotedARN(arns["c0"])+" does not match the given StreamARN or ConsumerName.")
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("nope")})
	wantSDKErr[*types.ResourceNotFoundException](t, "DescribeStreamConsumer missing name", err, "Consumer nope under account 000000000000 not found.")
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(miscARNBase + "missing"), ConsumerName: aws.String("c0")})
	wantSDKErr[*types.ResourceNotFoundException](t, "DescribeStreamConsumer missing stream", err, "Stream missing under account 000000000000 not found.")
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/cons/consumer/c0")})
	wantSDKErr[*types.ValidationException](t, "DescribeStreamConsumer bad ARN", err,
		`1 validation error detected: Value 'arn:aws:kinesis:us-east-1:000000000000:stream/cons/consumer/c0' at 'consumerARN' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`)

	// Register errors.
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(miscARNBase + "missing"), ConsumerName: aws.String("x")})
	wantSDKErr[*types.ResourceNotFoundException](t, "RegisterStreamConsumer missing stream", err, "Stream missing under account 000000000000 not found.")
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(miscARNBase + "empty"), ConsumerName: aws.String("bad name")})
	wantSDKErr[*types.ValidationException](t, "RegisterStreamConsumer bad name", err,
		"1 validation error detected: Value 'bad name' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(miscARNBase + "empty"), ConsumerName: aws.String("x"), Tags: map[string]string{"aws:k": "v"}})
	wantSDKErr[*types.InvalidArgumentException](t, "RegisterStreamConsumer reserved tag", err, `Tag key "aws:k" uses the reserved prefix 'aws:'.`)

	// A stream that is not ACTIVE takes no consumer.
	e.createStream(t, "busy", 1)
	if err := e.m.SplitShard("busy", "shardId-000000000000", "1000"); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(miscARNBase + "busy"), ConsumerName: aws.String("x")})
	wantSDKErr[*types.ResourceInUseException](t, "RegisterStreamConsumer UPDATING stream", err, "Stream busy under account 000000000000 not ACTIVE, instead in state UPDATING")

	// Deregister by ARN and by stream and name.
	if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arns["c1"])}); err != nil {
		t.Fatalf("DeregisterStreamConsumer by ARN: %v", err)
	}
	if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c2")}); err != nil {
		t.Fatalf("DeregisterStreamConsumer by name: %v", err)
	}
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arns["c1"])})
	wantSDKErr[*types.ResourceNotFoundException](t, "DescribeStreamConsumer deregistered", err, "Consumer "+arns["c1"]+" under account 000000000000 not found.")
	_, err = c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c2")})
	wantSDKErr[*types.ResourceNotFoundException](t, "DeregisterStreamConsumer twice", err, "Consumer c2 under account 000000000000 not found.")
	_, err = c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerName: aws.String("c3")})
	wantSDKErr[*types.InvalidArgumentException](t, "DeregisterStreamConsumer name only", err, "Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	_, err = c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(miscARNBase + "empty"), ConsumerARN: aws.String(arns["c3"])})
	wantSDKErr[*types.InvalidArgumentException](t, "DeregisterStreamConsumer stream and ARN disagree", err,
		"ConsumerARN "+quotedARN(arns["c3"])+" does not match the given StreamARN or ConsumerName.")
	// Re-registering a name in the same second gives a new ARN.
	old := arns["c1"]
	out, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c1")})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer c1 again: %v", err)
	}
	if a := aws.ToString(out.Consumer.ConsumerARN); a == old || out.Consumer.ConsumerStatus != types.ConsumerStatusCreating {
		t.Errorf("re-registered c1: ARN %s (old %s), status %s", a, old, out.Consumer.ConsumerStatus)
	}
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(old)})
	wantSDKErr[*types.ResourceNotFoundException](t, "DescribeStreamConsumer old ARN", err, "Consumer "+old+" under account 000000000000 not found.")
	all, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn)})
	if err != nil || len(all.Consumers) != 6 {
		t.Fatalf("ListStreamConsumers after changes: %+v %v", all, err)
	}
	// Registration order: creation time, then name (c1 and c6 share the
	// millisecond).
	var names []string
	for _, cs := range all.Consumers {
		names = append(names, aws.ToString(cs.ConsumerName))
	}
	if fmt.Sprint(names) != "[c0 c3 c4 c5 c1 c6]" {
		t.Errorf("consumers after changes: %v", names)
	}
}

// quotedARN is how the stream package quotes an input in a message: Go
// quoted, cut after 64 bytes with the full length.
func quotedARN(s string) string {
	if len(s) <= 64 {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:64]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
