package httpapi

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicehq/sluice/stream"
)

func TestSDKRetentionPeriod(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("r", 1)
	increase := func(in *kinesis.IncreaseStreamRetentionPeriodInput) error {
		_, err := c.IncreaseStreamRetentionPeriod(ctx, in)
		return err
	}
	decrease := func(in *kinesis.DecreaseStreamRetentionPeriodInput) error {
		_, err := c.DecreaseStreamRetentionPeriod(ctx, in)
		return err
	}
	hours := func() int32 {
		t.Helper()
		sum := e.summary("r")
		out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("r")})
		if err != nil || aws.ToInt32(out.StreamDescription.RetentionPeriodHours) != aws.ToInt32(sum.RetentionPeriodHours) {
			t.Fatalf("DescribeStream: %+v, %v; summary says %d", out, err, aws.ToInt32(sum.RetentionPeriodHours))
		}
		return aws.ToInt32(sum.RetentionPeriodHours)
	}
	name := aws.String("r")
	for _, step := range []struct {
		what string
		call func() error
		want int32
	}{
		{"increase to 48", func() error {
			return increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)})
		}, 48},
		{"increase to 48 again", func() error {
			return increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)})
		}, 48},
		{"decrease to 36", func() error {
			return decrease(&kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(36)})
		}, 36},
		{"decrease to 36 again", func() error {
			return decrease(&kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(36)})
		}, 36},
		{"increase to 8760 by ARN", func() error {
			return increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamARN: aws.String(arnBase + "r"), RetentionPeriodHours: aws.Int32(8760)})
		}, 8760},
		{"decrease to 24 by ARN", func() error {
			return decrease(&kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: aws.String(arnBase + "r"), RetentionPeriodHours: aws.Int32(24)})
		}, 24},
		{"increase to 48 by name and ARN", func() error {
			return increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, StreamARN: aws.String(arnBase + "r"), RetentionPeriodHours: aws.Int32(48)})
		}, 48},
	} {
		if err := step.call(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		if got := hours(); got != step.want {
			t.Fatalf("%s: RetentionPeriodHours %d, want %d", step.what, got, step.want)
		}
	}

	wantErr[invalidArg](t, "increase to 12", increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(12)}),
		"InvalidArgumentException", "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.")
	wantErr[invalidArg](t, "increase to 9000", increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(9000)}),
		"InvalidArgumentException", "Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.")
	wantErr[invalidArg](t, "increase below current", increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(30)}),
		"InvalidArgumentException", "Requested retention period (30 hours) for stream r can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.")
	wantErr[invalidArg](t, "decrease above current", decrease(&kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(100)}),
		"InvalidArgumentException", "Requested retention period (100 hours) for stream r can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.")
	wantErr[invalidArg](t, "decrease to 10", decrease(&kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(10)}),
		"InvalidArgumentException", "Minimum allowed retention period is 24 hours. Requested retention period (10 hours) is too short.")
	wantErr[notFoundErr](t, "increase on a missing stream", increase(&kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("nope"), RetentionPeriodHours: aws.Int32(48)}),
		"ResourceNotFoundException", streamNotFound("nope"))
	wantErr[notFoundErr](t, "decrease on a missing stream", decrease(&kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: aws.String(arnBase + "nope"), RetentionPeriodHours: aws.Int32(24)}),
		"ResourceNotFoundException", streamNotFound("nope"))
	wantErr[invalidArg](t, "no stream", increase(&kinesis.IncreaseStreamRetentionPeriodInput{RetentionPeriodHours: aws.Int32(48)}),
		"InvalidArgumentException", "Either StreamName or StreamARN must be provided.")
	e.raw("IncreaseStreamRetentionPeriod", `{"StreamName":"r"}`).want(t, "no hours", 400, "ValidationException",
		"1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null")
	e.raw("DecreaseStreamRetentionPeriod", `{"StreamName":"r","RetentionPeriodHours":"36"}`).want(t, "hours as a string", 400, "SerializationException",
		"class java.lang.String can not be converted to an Integer")
	if got := hours(); got != 48 {
		t.Errorf("the failed calls changed the retention: %d", got)
	}
}

func TestSDKStreamEncryption(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("enc", 1)
	check := func(what string, encType types.EncryptionType, key string) {
		t.Helper()
		sum := e.summary("enc")
		out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("enc")})
		if err != nil {
			t.Fatal(err)
		}
		sd := out.StreamDescription
		if sum.EncryptionType != encType || aws.ToString(sum.KeyId) != key || (sum.KeyId == nil) != (key == "") ||
			sd.EncryptionType != encType || aws.ToString(sd.KeyId) != key || (sd.KeyId == nil) != (key == "") {
			t.Errorf("%s: summary %s %v, description %s %v; want %s %q", what, sum.EncryptionType, sum.KeyId, sd.EncryptionType, sd.KeyId, encType, key)
		}
	}
	const alias, keyARN = "alias/aws/kinesis", "arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012"
	check("new stream", types.EncryptionTypeNone, "")
	start := func(in *kinesis.StartStreamEncryptionInput) error {
		_, err := c.StartStreamEncryption(ctx, in)
		return err
	}
	stop := func(in *kinesis.StopStreamEncryptionInput) error {
		_, err := c.StopStreamEncryption(ctx, in)
		return err
	}
	if err := start(&kinesis.StartStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(alias)}); err != nil {
		t.Fatalf("StartStreamEncryption: %v", err)
	}
	check("started", types.EncryptionTypeKms, alias)
	if err := start(&kinesis.StartStreamEncryptionInput{StreamARN: aws.String(arnBase + "enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyARN)}); err != nil {
		t.Fatalf("StartStreamEncryption with another key: %v", err)
	}
	check("key changed", types.EncryptionTypeKms, keyARN)
	if err := stop(&kinesis.StopStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyARN)}); err != nil {
		t.Fatalf("StopStreamEncryption: %v", err)
	}
	check("stopped", types.EncryptionTypeNone, "")
	if err := stop(&kinesis.StopStreamEncryptionInput{StreamARN: aws.String(arnBase + "enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyARN)}); err != nil {
		t.Fatalf("StopStreamEncryption when not encrypted: %v", err)
	}
	check("stopped twice", types.EncryptionTypeNone, "")

	wantErr[invalidArg](t, "start with NONE", start(&kinesis.StartStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeNone, KeyId: aws.String(alias)}),
		"InvalidArgumentException", `EncryptionType must be KMS, got "NONE".`)
	wantErr[invalidArg](t, "stop with NONE", stop(&kinesis.StopStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeNone, KeyId: aws.String(alias)}),
		"InvalidArgumentException", `EncryptionType must be KMS, got "NONE".`)
	wantErr[validErr](t, "unknown type", start(&kinesis.StartStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: "AES", KeyId: aws.String(alias)}),
		"ValidationException", "1 validation error detected: Value 'AES' at 'encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, KMS]")
	wantErr[validErr](t, "empty key", start(&kinesis.StartStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("")}),
		"ValidationException", "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1")
	wantErr[notFoundErr](t, "start on a missing stream", start(&kinesis.StartStreamEncryptionInput{StreamName: aws.String("nope"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(alias)}),
		"ResourceNotFoundException", streamNotFound("nope"))
	wantErr[notFoundErr](t, "stop on a missing stream", stop(&kinesis.StopStreamEncryptionInput{StreamName: aws.String("nope"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(alias)}),
		"ResourceNotFoundException", streamNotFound("nope"))
	e.raw("StartStreamEncryption", `{"StreamName":"enc","EncryptionType":"KMS"}`).want(t, "no KeyId", 400, "ValidationException",
		"1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	check("after the failures", types.EncryptionTypeNone, "")
}

func TestSDKUpdateStreamMode(t *testing.T) {
	e := newSDKEnv(t, func(c *stream.Config) { c.Limits.OnDemandStreamCountLimit = 2 })
	c, ctx := e.c, e.ctx
	e.create("m", 2)
	arn := aws.String(arnBase + "m")
	mode := func(m types.StreamMode, warm *int32) error {
		_, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: m}, WarmThroughputMiBps: warm})
		return err
	}
	check := func(what string, m types.StreamMode, warm int32) {
		t.Helper()
		sum := e.summary("m")
		if sum.StreamModeDetails == nil || sum.StreamModeDetails.StreamMode != m || aws.ToInt32(sum.OpenShardCount) != 2 ||
			(warm == 0) != (sum.WarmThroughput == nil) || (warm != 0 && aws.ToInt32(sum.WarmThroughput.TargetMiBps) != warm) {
			t.Errorf("%s: summary %+v", what, sum)
		}
		out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("m")})
		if err != nil || out.StreamDescription.StreamModeDetails == nil || out.StreamDescription.StreamModeDetails.StreamMode != m {
			t.Errorf("%s: DescribeStream %+v, %v", what, out, err)
		}
		list, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil || len(list.StreamSummaries) == 0 || list.StreamSummaries[0].StreamModeDetails.StreamMode != m {
			t.Errorf("%s: ListStreams %+v, %v", what, list, err)
		}
	}
	if err := mode(types.StreamModeOnDemand, nil); err != nil {
		t.Fatalf("to ON_DEMAND: %v", err)
	}
	check("ON_DEMAND", types.StreamModeOnDemand, 0)
	wantErr[invalidArg](t, "same mode", mode(types.StreamModeOnDemand, nil), "InvalidArgumentException",
		"Stream m under account "+acct+" is already in ON_DEMAND mode.")
	if err := mode(types.StreamModeProvisioned, nil); err != nil {
		t.Fatalf("to PROVISIONED: %v", err)
	}
	check("PROVISIONED", types.StreamModeProvisioned, 0)
	wantErr[validErr](t, "warm throughput without commitment", mode(types.StreamModeOnDemand, aws.Int32(100)), "ValidationException",
		"Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED.")
	check("after the refused switch", types.StreamModeProvisioned, 0)
	if _, err := e.m.UpdateAccountSettings(stream.CommitmentEnabled); err != nil {
		t.Fatal(err)
	}
	if err := mode(types.StreamModeOnDemand, aws.Int32(100)); err != nil {
		t.Fatalf("to ON_DEMAND with warm throughput: %v", err)
	}
	check("ON_DEMAND, warm", types.StreamModeOnDemand, 100)
	if err := mode(types.StreamModeProvisioned, nil); err != nil {
		t.Fatalf("to PROVISIONED: %v", err)
	}
	check("PROVISIONED clears warm throughput", types.StreamModeProvisioned, 0)

	wantErr[validErr](t, "unknown mode", mode("SOMETIMES", nil), "ValidationException",
		"1 validation error detected: Value 'SOMETIMES' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]")
	_, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(arnBase + "nope"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantErr[notFoundErr](t, "missing stream", err, "ResourceNotFoundException", streamNotFound("nope"))
	_, err = c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:111111111111:stream/m"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	wantErr[notFoundErr](t, "other account's ARN", err, "ResourceNotFoundException", "Stream m under account 111111111111 not found.")
	e.raw("UpdateStreamMode", `{"StreamName":"m","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}`).want(t, "StreamName instead of StreamARN", 400,
		"ValidationException", "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null")
	// The on-demand stream count limit (2).
	for _, n := range []string{"od1", "od2"} {
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(n), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
	}
	wantErr[limitErr](t, "on-demand stream limit", mode(types.StreamModeOnDemand, nil), "LimitExceededException",
		"This request would exceed the on-demand stream count limit for the account "+acct+" in us-east-1. Current on-demand stream count for the account: 2. Limit: 2.")
	check("after the failures", types.StreamModeProvisioned, 0)
}

func TestSDKUpdateStreamWarmThroughput(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("prov", 1)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("w"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	warm := func(in *kinesis.UpdateStreamWarmThroughputInput) (*kinesis.UpdateStreamWarmThroughputOutput, error) {
		return c.UpdateStreamWarmThroughput(ctx, in)
	}
	_, err := warm(&kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("w"), WarmThroughputMiBps: aws.Int32(200)})
	wantErr[validErr](t, "without commitment", err, "ValidationException", "Warm throughput requires the account's MinimumThroughputBillingCommitment to be ENABLED.")
	if _, err := e.m.UpdateAccountSettings(stream.CommitmentEnabled); err != nil {
		t.Fatal(err)
	}
	out, err := warm(&kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("w"), WarmThroughputMiBps: aws.Int32(200)})
	if err != nil {
		t.Fatalf("UpdateStreamWarmThroughput: %v", err)
	}
	if aws.ToString(out.StreamName) != "w" || aws.ToString(out.StreamARN) != arnBase+"w" || out.WarmThroughput == nil ||
		aws.ToInt32(out.WarmThroughput.TargetMiBps) != 200 || aws.ToInt32(out.WarmThroughput.CurrentMiBps) != 200 {
		t.Errorf("output: %+v", out)
	}
	if wt := e.summary("w").WarmThroughput; wt == nil || aws.ToInt32(wt.TargetMiBps) != 200 || aws.ToInt32(wt.CurrentMiBps) != 200 {
		t.Errorf("summary WarmThroughput %+v", wt)
	}
	out, err = warm(&kinesis.UpdateStreamWarmThroughputInput{StreamARN: aws.String(arnBase + "w"), WarmThroughputMiBps: aws.Int32(0)})
	if err != nil || aws.ToString(out.StreamName) != "w" || out.WarmThroughput == nil || aws.ToInt32(out.WarmThroughput.TargetMiBps) != 0 {
		t.Fatalf("UpdateStreamWarmThroughput 0 by ARN: %+v, %v", out, err)
	}
	if wt := e.summary("w").WarmThroughput; wt != nil {
		t.Errorf("summary WarmThroughput after 0: %+v", wt)
	}

	_, err = warm(&kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("prov"), WarmThroughputMiBps: aws.Int32(10)})
	wantErr[validErr](t, "PROVISIONED stream", err, "ValidationException", "Warm throughput is only supported for streams in ON_DEMAND mode.")
	_, err = warm(&kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("w"), WarmThroughputMiBps: aws.Int32(-1)})
	wantErr[validErr](t, "negative", err, "ValidationException",
		"1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0")
	_, err = warm(&kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String("nope"), WarmThroughputMiBps: aws.Int32(10)})
	wantErr[notFoundErr](t, "missing stream", err, "ResourceNotFoundException", streamNotFound("nope"))
	_, err = warm(&kinesis.UpdateStreamWarmThroughputInput{WarmThroughputMiBps: aws.Int32(10)})
	wantErr[invalidArg](t, "no stream", err, "InvalidArgumentException", "Either StreamName or StreamARN must be provided.")
}

func TestSDKUpdateMaxRecordSize(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("mr", 1)
	arn := aws.String(arnBase + "mr")
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: aws.Int32(4096)}); err != nil {
		t.Fatalf("UpdateMaxRecordSize: %v", err)
	}
	if got := aws.ToInt32(e.summary("mr").MaxRecordSizeInKiB); got != 4096 {
		t.Errorf("MaxRecordSizeInKiB %d", got)
	}
	if n, err := e.m.MaxRecordBytes("mr"); err != nil || n != 4096<<10 {
		t.Errorf("Manager.MaxRecordBytes %d, %v", n, err)
	}
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: aws.Int32(1024)}); err != nil {
		t.Fatalf("UpdateMaxRecordSize back: %v", err)
	}
	if got := aws.ToInt32(e.summary("mr").MaxRecordSizeInKiB); got != 1024 {
		t.Errorf("MaxRecordSizeInKiB %d", got)
	}

	update := func(arn *string, kib int32) error {
		_, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: aws.Int32(kib)})
		return err
	}
	wantErr[validErr](t, "512", update(arn, 512), "ValidationException",
		"1 validation error detected: Value '512' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024")
	wantErr[validErr](t, "20000", update(arn, 20000), "ValidationException",
		"1 validation error detected: Value '20000' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value less than or equal to 10240")
	wantErr[notFoundErr](t, "missing stream", update(aws.String(arnBase+"nope"), 2048), "ResourceNotFoundException", streamNotFound("nope"))
	wantErr[notFoundErr](t, "other region's ARN", update(aws.String("arn:aws:kinesis:us-west-2:"+acct+":stream/mr"), 2048), "ResourceNotFoundException", streamNotFound("mr"))
	wantErr[invalidArg](t, "no ARN", update(nil, 2048), "InvalidArgumentException", "Either StreamName or StreamARN must be provided.")
	if got := aws.ToInt32(e.summary("mr").MaxRecordSizeInKiB); got != 1024 {
		t.Errorf("the failed calls changed MaxRecordSizeInKiB: %d", got)
	}
}

func TestSDKEnhancedMonitoring(t *testing.T) {
	e := newSDKEnv(t, nil)
	c, ctx := e.c, e.ctx
	e.create("mon", 1)
	all := []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}
	names := func(ms []types.MetricsName) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, string(m))
		}
		return out
	}
	metrics := func(ss ...string) []types.MetricsName {
		var out []types.MetricsName
		for _, s := range ss {
			out = append(out, types.MetricsName(s))
		}
		return out
	}
	check := func(what string, out *kinesis.EnableEnhancedMonitoringOutput, err error, current, desired []string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if aws.ToString(out.StreamName) != "mon" || aws.ToString(out.StreamARN) != arnBase+"mon" ||
			!slices.Equal(names(out.CurrentShardLevelMetrics), current) || !slices.Equal(names(out.DesiredShardLevelMetrics), desired) {
			t.Errorf("%s: %s %s current %v desired %v; want %v %v", what, aws.ToString(out.StreamName), aws.ToString(out.StreamARN),
				out.CurrentShardLevelMetrics, out.DesiredShardLevelMetrics, current, desired)
		}
		sum := e.summary("mon")
		d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("mon")})
		if err != nil {
			t.Fatal(err)
		}
		for _, em := range [][]types.EnhancedMetrics{sum.EnhancedMonitoring, d.StreamDescription.EnhancedMonitoring} {
			if len(em) != 1 || !slices.Equal(names(em[0].ShardLevelMetrics), desired) {
				t.Errorf("%s: EnhancedMonitoring %+v, want %v", what, em, desired)
			}
		}
	}
	enable := func(in *kinesis.EnableEnhancedMonitoringInput) (*kinesis.EnableEnhancedMonitoringOutput, error) {
		return c.EnableEnhancedMonitoring(ctx, in)
	}
	disable := func(in *kinesis.DisableEnhancedMonitoringInput) (*kinesis.EnableEnhancedMonitoringOutput, error) {
		out, err := c.DisableEnhancedMonitoring(ctx, in)
		if out == nil {
			return nil, err
		}
		return &kinesis.EnableEnhancedMonitoringOutput{StreamName: out.StreamName, StreamARN: out.StreamARN,
			CurrentShardLevelMetrics: out.CurrentShardLevelMetrics, DesiredShardLevelMetrics: out.DesiredShardLevelMetrics}, err
	}
	out, err := enable(&kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("mon"), ShardLevelMetrics: metrics("IncomingBytes")})
	check("enable IncomingBytes", out, err, []string{}, []string{"IncomingBytes"})
	out, err = enable(&kinesis.EnableEnhancedMonitoringInput{StreamARN: aws.String(arnBase + "mon"), ShardLevelMetrics: metrics("ALL")})
	check("enable ALL", out, err, []string{"IncomingBytes"}, all)
	out, err = disable(&kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("mon"), ShardLevelMetrics: metrics("OutgoingBytes", "IncomingBytes")})
	check("disable two", out, err, all, []string{"IncomingRecords", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"})
	out, err = disable(&kinesis.DisableEnhancedMonitoringInput{StreamARN: aws.String(arnBase + "mon"), ShardLevelMetrics: metrics("ALL")})
	check("disable ALL", out, err, []string{"IncomingRecords", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}, []string{})
	out, err = disable(&kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("mon"), ShardLevelMetrics: metrics("IncomingBytes")})
	check("disable when none", out, err, []string{}, []string{})
	out, err = enable(&kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("mon"), ShardLevelMetrics: metrics("IteratorAgeMilliseconds", "IncomingRecords")})
	check("enable two", out, err, []string{}, []string{"IncomingRecords", "IteratorAgeMilliseconds"})

	_, err = enable(&kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("mon"), ShardLevelMetrics: metrics("CPUUtilization")})
	wantErr[validErr](t, "unknown metric", err, "ValidationException",
		"1 validation error detected: Value '[CPUUtilization]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: "+
			"[Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]")
	// The SDK sends no empty list (it counts it as missing).
	e.raw("DisableEnhancedMonitoring", `{"StreamName":"mon","ShardLevelMetrics":[]}`).want(t, "empty list", 400, "ValidationException",
		"1 validation error detected: Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1")
	_, err = enable(&kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("nope"), ShardLevelMetrics: metrics("ALL")})
	wantErr[notFoundErr](t, "enable on a missing stream", err, "ResourceNotFoundException", streamNotFound("nope"))
	_, err = disable(&kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("nope"), ShardLevelMetrics: metrics("ALL")})
	wantErr[notFoundErr](t, "disable on a missing stream", err, "ResourceNotFoundException", streamNotFound("nope"))
	e.raw("EnableEnhancedMonitoring", `{"StreamName":"mon"}`).want(t, "no metrics", 400, "ValidationException",
		"1 validation error detected: Value null at 'shardLevelMetrics' failed to satisfy constraint: Member must not be null")
	if got := e.summary("mon").EnhancedMonitoring; len(got) != 1 || !slices.Equal(names(got[0].ShardLevelMetrics), []string{"IncomingRecords", "IteratorAgeMilliseconds"}) {
		t.Errorf("the failed calls changed the metrics: %+v", got)
	}
}
