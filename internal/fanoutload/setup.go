package fanoutload

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// StreamInfo is what CreateStream returns.
type StreamInfo struct {
	ARN    string
	Shards []string // shard ids, in ListShards order
}

// CreateStream creates stream name with shards shards, waits until it is
// ACTIVE and lists its shards.
func CreateStream(ctx context.Context, c *Client, name string, shards int, timeout time.Duration) (StreamInfo, error) {
	nameJSON := strconv.AppendQuote(nil, name)
	if _, err := c.Call(ctx, "CreateStream", fmt.Appendf(nil, `{"StreamName":%s,"ShardCount":%d}`, nameJSON, shards)); err != nil {
		return StreamInfo{}, err
	}
	deadline := time.Now().Add(timeout)
	var info StreamInfo
	for {
		b, err := c.Call(ctx, "DescribeStreamSummary", fmt.Appendf(nil, `{"StreamName":%s}`, nameJSON))
		if err != nil {
			return info, err
		}
		if bytes.Contains(b, []byte(`"StreamStatus":"ACTIVE"`)) {
			v, err := fastjson.ParseBytes(b)
			if err != nil {
				return info, fmt.Errorf("DescribeStreamSummary: %w", err)
			}
			info.ARN = string(v.GetStringBytes("StreamDescriptionSummary", "StreamARN"))
			break
		}
		if time.Now().After(deadline) {
			return info, fmt.Errorf("stream %s not ACTIVE after %v: %s", name, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, err := c.Call(ctx, "ListShards", fmt.Appendf(nil, `{"StreamName":%s}`, nameJSON))
	if err != nil {
		return info, err
	}
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return info, fmt.Errorf("ListShards: %w", err)
	}
	for _, s := range v.GetArray("Shards") {
		info.Shards = append(info.Shards, string(s.GetStringBytes("ShardId")))
	}
	if info.ARN == "" || len(info.Shards) != shards {
		return info, fmt.Errorf("stream %s: ARN %q, shards %q", name, info.ARN, info.Shards)
	}
	return info, nil
}

// RegisterConsumer registers consumer name on the stream streamARN and
// waits until it is ACTIVE; it returns the consumer's ARN.
func RegisterConsumer(ctx context.Context, c *Client, streamARN, name string, timeout time.Duration) (string, error) {
	body := fmt.Appendf(nil, `{"StreamARN":%s,"ConsumerName":%s}`, strconv.Quote(streamARN), strconv.Quote(name))
	b, err := c.Call(ctx, "RegisterStreamConsumer", body)
	if err != nil {
		return "", err
	}
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return "", fmt.Errorf("RegisterStreamConsumer: %w", err)
	}
	arn := string(v.GetStringBytes("Consumer", "ConsumerARN"))
	if arn == "" {
		return "", fmt.Errorf("RegisterStreamConsumer: no ConsumerARN in %s", b)
	}
	return arn, WaitActive(ctx, c, arn, timeout)
}
