package httpapi

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// The control plane (ops_streams.go, ops_shards.go, ops_settings.go) goes
// through the model-driven codec of wire/kinesis: decodeModel checks the
// model's types and constraints (SerializationException, then
// ValidationException, in AWS's order), the operation calls the Manager,
// and writeModel encodes the generated output shape in the request's
// encoding. The rules the model does not express (retention bounds, shard
// limits, stream status, ...) are the stream package's; this file holds
// only the translation between the two.

// streamRef are the StreamName and StreamARN members of a stream-scoped
// request.
type streamRef struct {
	StreamName *string
	StreamARN  *string
}

// resolveRef returns the stream a request names by StreamName and/or
// StreamARN (KINESIS_API.md 2.0: at least one; both must agree), through
// Manager.ResolveStream. An ARN of another region or account is
// ResourceNotFoundException naming the ARN's stream and account.
func (s *Server) resolveRef(r streamRef) (string, error) {
	arn := deref(r.StreamARN)
	name, err := s.cfg.Manager.ResolveStream(deref(r.StreamName), arn)
	if errors.Is(err, stream.ErrStreamNotFound) {
		// [unsure] whether AWS answers an ARN of another account so or
		// with AccessDeniedException.
		return "", kinesis.ResourceNotFound("Stream " + arnStreamName(arn) + " under account " + arnAccount(arn, s.cfg.AccountID) + " not found.")
	}
	if err != nil {
		return "", callErr(err, arnStreamName(arn), "")
	}
	return name, nil
}

// arnStreamName returns the part of a stream ARN after ":stream/" ("" if
// none), for the messages about ARNs that name no stream here.
func arnStreamName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":stream/"); ok {
		return name
	}
	return ""
}

// arnAccount returns the account field of an ARN
// (arn:partition:service:region:account:resource), or def.
func arnAccount(arn, def string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 || f[4] == "" {
		return def
	}
	return f[4]
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt32(n *int32) int {
	if n == nil {
		return 0
	}
	return int(*n)
}

func int32p(n int) *int32 {
	v := int32(n)
	return &v
}

func strp(s string) *string { return &s }

// shardShape is the model's Shard of si.
func shardShape(si *stream.ShardInfo) kinesis.Shard {
	sh := kinesis.Shard{
		ShardId: si.ShardID,
		HashKeyRange: kinesis.HashKeyRangeShape{
			StartingHashKey: si.HashKeyRange.Start.String(),
			EndingHashKey:   si.HashKeyRange.End.String(),
		},
		SequenceNumberRange: kinesis.SequenceNumberRange{StartingSequenceNumber: si.StartingSequenceNumber},
	}
	if si.ParentShardID != "" {
		sh.ParentShardId = strp(si.ParentShardID)
	}
	if si.AdjacentParentShardID != "" {
		sh.AdjacentParentShardId = strp(si.AdjacentParentShardID)
	}
	if si.EndingSequenceNumber != "" {
		sh.SequenceNumberRange.EndingSequenceNumber = strp(si.EndingSequenceNumber)
	}
	return sh
}

func shardShapes(infos []stream.ShardInfo) []kinesis.Shard {
	out := make([]kinesis.Shard, len(infos))
	for i := range infos {
		out[i] = shardShape(&infos[i])
	}
	return out
}

// enhancedMonitoring is the EnhancedMonitoring member of a stream
// description: one EnhancedMetrics with the enabled metrics (an empty list
// when none, as AWS sends).
func enhancedMonitoring(metrics []string) []kinesis.EnhancedMetrics {
	if metrics == nil {
		metrics = []string{}
	}
	return []kinesis.EnhancedMetrics{{ShardLevelMetrics: metrics}}
}

// keyID is the KeyId member: absent when the stream is not encrypted.
func keyID(info *stream.StreamInfo) *string {
	if info.KeyID == "" {
		return nil
	}
	return strp(info.KeyID)
}

// streamARN returns the ARN of stream name, for the outputs that echo it.
func (s *Server) streamARN(name string) (string, error) {
	info, err := s.cfg.Manager.DescribeStream(name)
	if err != nil {
		return "", callErr(err, name, "")
	}
	return info.ARN, nil
}
