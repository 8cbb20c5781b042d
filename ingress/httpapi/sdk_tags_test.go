package httpapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// tagPairs renders tags as "k=v" in order, for comparisons.
func tagPairs(tags []types.Tag) []string {
	out := make([]string, len(tags))
	for i, tg := range tags {
		if tg.Value == nil {
			out[i] = aws.ToString(tg.Key) + "<nil>"
			continue
		}
		out[i] = aws.ToString(tg.Key) + "=" + *tg.Value
	}
	return out
}

func mapPairs(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

func TestSDKStreamTags(t *testing.T) {
	e := startMisc(t, nil)
	c, ctx := e.client, e.ctx
	e.createStream(t, "tagged", 1)
	arn := miscARNBase + "tagged"

	list := func(what string, in *kinesis.ListTagsForStreamInput) ([]string, bool) {
		t.Helper()
		out, err := c.ListTagsForStream(ctx, in)
		if err != nil {
			t.Fatalf("ListTagsForStream %s: %v", what, err)
		}
		if out.HasMoreTags == nil {
			t.Fatalf("ListTagsForStream %s: no HasMoreTags", what)
		}
		return tagPairs(out.Tags), *out.HasMoreTags
	}
	if got, more := list("untagged", &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")}); len(got) != 0 || more {
		t.Errorf("untagged stream: %v %v", got, more)
	}

	want := map[string]string{}
	first := map[string]string{}
	for i := range 10 {
		first[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("v%d", i)
	}
	first["k00"] = "" // an empty value is a value
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: first}); err != nil {
		t.Fatalf("AddTagsToStream: %v", err)
	}
	maps.Copy(want, first)
	// By ARN, overwriting one and adding two (12 in all).
	second := map[string]string{"k05": "five", "k10": "ten", "k11 with space": "ünïcode/@:+=-._"}
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamARN: aws.String(arn), Tags: second}); err != nil {
		t.Fatalf("AddTagsToStream by ARN: %v", err)
	}
	maps.Copy(want, second)
	if got, more := list("all", &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")}); !slices.Equal(got, mapPairs(want)) || more {
		t.Errorf("ListTagsForStream:\n got %v %v\nwant %v false", got, more, mapPairs(want))
	}
	// Pages of 5: 5 + 5 + 2.
	var paged []string
	start := ""
	for page := 0; ; page++ {
		in := &kinesis.ListTagsForStreamInput{StreamARN: aws.String(arn), StreamName: aws.String("tagged"), Limit: aws.Int32(5)}
		if start != "" {
			in.ExclusiveStartTagKey = aws.String(start)
		}
		got, more := list(fmt.Sprintf("page %d", page), in)
		wantLen := []int{5, 5, 2}[page]
		if len(got) != wantLen || more != (page < 2) {
			t.Fatalf("page %d: %v more=%v", page, got, more)
		}
		paged = append(paged, got...)
		if !more {
			break
		}
		start, _, _ = strings.Cut(got[len(got)-1], "=")
	}
	if !slices.Equal(paged, mapPairs(want)) {
		t.Errorf("paged tags %v, want %v", paged, mapPairs(want))
	}
	// A start key that is not a tag starts after where it would be.
	if got, more := list("from k09x", &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged"), ExclusiveStartTagKey: aws.String("k09x")}); !slices.Equal(got, []string{"k10=ten", "k11 with space=ünïcode/@:+=-._"}) || more {
		t.Errorf("after k09x: %v %v", got, more)
	}

	// Remove two and an absent key (ignored).
	if _, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("tagged"), TagKeys: []string{"k01", "k10", "absent"}}); err != nil {
		t.Fatalf("RemoveTagsFromStream: %v", err)
	}
	delete(want, "k01")
	delete(want, "k10")
	if _, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamARN: aws.String(arn), TagKeys: []string{"absent"}}); err != nil {
		t.Fatalf("RemoveTagsFromStream of an absent key: %v", err)
	}
	if got, _ := list("after remove", &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")}); !slices.Equal(got, mapPairs(want)) {
		t.Errorf("after RemoveTagsFromStream: %v, want %v", got, mapPairs(want))
	}
	// The resource API sees the same tags.
	res, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	if got := tagPairs(res.Tags); !slices.Equal(got, mapPairs(want)) {
		t.Errorf("ListTagsForResource: %v, want %v", got, mapPairs(want))
	}

	// Errors.
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("missing"), Tags: map[string]string{"a": "b"}})
	wantSDKErr[*types.ResourceNotFoundException](t, "AddTagsToStream missing", err, "Stream missing under account 000000000000 not found.")
	_, err = c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamARN: aws.String(miscARNBase + "missing"), TagKeys: []string{"a"}})
	wantSDKErr[*types.ResourceNotFoundException](t, "RemoveTagsFromStream missing", err, "Stream missing under account 000000000000 not found.")
	_, err = c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("missing")})
	wantSDKErr[*types.ResourceNotFoundException](t, "ListTagsForStream missing", err, "Stream missing under account 000000000000 not found.")
	_, err = c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{})
	wantSDKErr[*types.InvalidArgumentException](t, "ListTagsForStream without a stream", err, "Either StreamName or StreamARN must be provided.")
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{Tags: map[string]string{"a": "b"}})
	wantSDKErr[*types.InvalidArgumentException](t, "AddTagsToStream without a stream", err, "Either StreamName or StreamARN must be provided.")
	_, err = c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{TagKeys: []string{"a"}})
	wantSDKErr[*types.InvalidArgumentException](t, "RemoveTagsFromStream without a stream", err, "Either StreamName or StreamARN must be provided.")
	_, err = c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged"), Limit: aws.Int32(51)})
	wantSDKErr[*types.ValidationException](t, "ListTagsForStream Limit 51", err,
		"1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50")
	eleven := map[string]string{}
	for i := range 11 {
		eleven[fmt.Sprintf("x%d", i)] = ""
	}
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: eleven})
	wantSDKErr[*types.InvalidArgumentException](t, "AddTagsToStream 11 tags", err,
		"Failed to add tags to stream tagged under account 000000000000 because a request may add at most 10 tags.")
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: map[string]string{"bad*key": "v"}})
	wantSDKErr[*types.InvalidArgumentException](t, "AddTagsToStream bad key", err,
		"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: map[string]string{"k": "bad\x00value"}})
	wantSDKErr[*types.InvalidArgumentException](t, "AddTagsToStream bad value", err,
		"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: map[string]string{"aws:owner": "me"}})
	wantSDKErr[*types.InvalidArgumentException](t, "AddTagsToStream aws: prefix", err, `Tag key "aws:owner" uses the reserved prefix 'aws:'.`)
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: map[string]string{strings.Repeat("k", 129): "v"}})
	wantSDKErr[*types.ValidationException](t, "AddTagsToStream long key", err,
		"1 validation error detected: Value '{"+strings.Repeat("k", 129)+"=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128]")
	_, err = c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("tagged"), TagKeys: []string{}})
	wantSDKErr[*types.ValidationException](t, "RemoveTagsFromStream no keys", err,
		"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1")

	// The 50-tag limit per stream, reached 10 at a time (10 are there).
	for i := range 4 {
		batch := map[string]string{}
		for j := range 10 {
			batch[fmt.Sprintf("f%d-%d", i, j)] = "x"
		}
		if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: batch}); err != nil {
			t.Fatalf("AddTagsToStream batch %d: %v", i, err)
		}
	}
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: map[string]string{"one-more": "x"}})
	wantSDKErr[*types.InvalidArgumentException](t, "AddTagsToStream 51st tag", err,
		"Failed to add tags to stream tagged under account 000000000000 because a given stream cannot have more than 50 tags associated with it.")
	// Overwriting an existing key at the limit is fine.
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: map[string]string{"k00": "now set"}}); err != nil {
		t.Errorf("AddTagsToStream overwrite at the limit: %v", err)
	}
	if got, more := list("50 tags", &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")}); len(got) != 50 || more || got[0] != "f0-0=x" {
		t.Errorf("50 tags: %d tags, more=%v, first %q", len(got), more, got[0])
	}
	if got, more := list("49 tags", &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged"), Limit: aws.Int32(49)}); len(got) != 49 || !more {
		t.Errorf("Limit 49 of 50 tags: %d tags, more=%v", len(got), more)
	}
}

func TestSDKResourceTags(t *testing.T) {
	e := startMisc(t, nil)
	c, ctx := e.client, e.ctx
	e.createStream(t, "res", 1)
	arn := miscARNBase + "res"
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String(arn), ConsumerName: aws.String("app"), Tags: map[string]string{"team": "core"},
	})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	carn := aws.ToString(reg.Consumer.ConsumerARN)

	list := func(resource string) []string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(resource)})
		if err != nil {
			t.Fatalf("ListTagsForResource %s: %v", resource, err)
		}
		return tagPairs(out.Tags)
	}
	if got := list(arn); len(got) != 0 {
		t.Errorf("untagged stream: %v", got)
	}
	if got := list(carn); !slices.Equal(got, []string{"team=core"}) {
		t.Errorf("consumer tags from RegisterStreamConsumer: %v", got)
	}
	if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"env": "test", "owner": "a"}}); err != nil {
		t.Fatalf("TagResource stream: %v", err)
	}
	if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(carn), Tags: map[string]string{"team": "data", "tier": ""}}); err != nil {
		t.Fatalf("TagResource consumer: %v", err)
	}
	if got := list(arn); !slices.Equal(got, []string{"env=test", "owner=a"}) {
		t.Errorf("stream tags: %v", got)
	}
	if got := list(carn); !slices.Equal(got, []string{"team=data", "tier="}) {
		t.Errorf("consumer tags: %v", got)
	}
	// The stream API lists the stream's tags only.
	out, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("res")})
	if err != nil || !slices.Equal(tagPairs(out.Tags), []string{"env=test", "owner=a"}) {
		t.Errorf("ListTagsForStream: %v %v", out, err)
	}
	if _, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"owner", "absent"}}); err != nil {
		t.Fatalf("UntagResource stream: %v", err)
	}
	if _, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(carn), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagResource consumer: %v", err)
	}
	if got, cgot := list(arn), list(carn); !slices.Equal(got, []string{"env=test"}) || !slices.Equal(cgot, []string{"tier="}) {
		t.Errorf("after UntagResource: stream %v, consumer %v", got, cgot)
	}

	// The 50-tag limit applies to TagResource as a whole (no 10 per call).
	many := map[string]string{}
	for i := range 49 {
		many[fmt.Sprintf("t%02d", i)] = "v"
	}
	if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: many}); err != nil {
		t.Fatalf("TagResource 49 tags: %v", err)
	}
	if got := list(arn); len(got) != 50 {
		t.Errorf("%d tags, want 50", len(got))
	}
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"over": "v"}})
	wantSDKErr[*types.InvalidArgumentException](t, "TagResource 51st tag", err,
		"Failed to add tags to stream res under account 000000000000 because a given stream cannot have more than 50 tags associated with it.")
	many["z"] = "v" // 50 new + 1 = 51 on the consumer
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(carn), Tags: many})
	wantSDKErr[*types.InvalidArgumentException](t, "TagResource consumer 51 tags", err,
		"Failed to add tags to stream "+carn+" under account 000000000000 because a given stream cannot have more than 50 tags associated with it.")

	// Errors.
	missing := miscARNBase + "missing"
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(missing), Tags: map[string]string{"a": "b"}})
	wantSDKErr[*types.ResourceNotFoundException](t, "TagResource missing stream", err, "Stream missing under account 000000000000 not found.")
	_, err = c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(missing), TagKeys: []string{"a"}})
	wantSDKErr[*types.ResourceNotFoundException](t, "UntagResource missing stream", err, "Stream missing under account 000000000000 not found.")
	_, err = c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(missing + "/consumer/c:1")})
	wantSDKErr[*types.ResourceNotFoundException](t, "ListTagsForResource consumer of a missing stream", err, "Stream missing under account 000000000000 not found.")
	gone := arn + "/consumer/gone:1"
	_, err = c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(gone)})
	wantSDKErr[*types.ResourceNotFoundException](t, "ListTagsForResource missing consumer", err, "Consumer "+gone+" under account 000000000000 not found.")
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(gone), Tags: map[string]string{"a": "b"}})
	wantSDKErr[*types.ResourceNotFoundException](t, "TagResource missing consumer", err, "Consumer "+gone+" under account 000000000000 not found.")
	foreign := "arn:aws:kinesis:us-east-1:111111111111:stream/res"
	_, err = c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(foreign)})
	wantSDKErr[*types.ResourceNotFoundException](t, "ListTagsForResource other account", err, "Stream res under account 000000000000 not found.")
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"aws:x": "b"}})
	wantSDKErr[*types.InvalidArgumentException](t, "TagResource aws: prefix", err, `Tag key "aws:x" uses the reserved prefix 'aws:'.`)
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:table/x"), Tags: map[string]string{"a": "b"}})
	wantSDKErr[*types.ValidationException](t, "TagResource not a stream ARN", err,
		`1 validation error detected: Value 'arn:aws:kinesis:us-east-1:000000000000:table/x' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`)
	_, err = c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{""}})
	wantSDKErr[*types.ValidationException](t, "UntagResource empty key", err,
		"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]")
}
