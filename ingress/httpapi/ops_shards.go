package httpapi

import (
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// Shards and resharding (KINESIS_API.md 2.3, 3.9): ListShards, SplitShard,
// MergeShards, UpdateShardCount. Filters, paging, tokens and the resharding
// rules are the stream package's (listshards.go, reshard.go).

func init() {
	implemented["SplitShard"] = (*Server).splitShard
	implemented["MergeShards"] = (*Server).mergeShards
	implemented["UpdateShardCount"] = (*Server).updateShardCount
}

func (s *Server) listShards(in *Request, out *Response) error {
	var req kinesis.ListShardsInput
	if err := decodeModel(in, "ListShards", &req); err != nil {
		return err
	}
	opts := stream.ListShardsOptions{
		NextToken:             deref(req.NextToken),
		ExclusiveStartShardID: deref(req.ExclusiveStartShardId),
		MaxResults:            derefInt32(req.MaxResults),
	}
	if req.StreamCreationTimestamp != nil {
		opts.StreamCreationMillis = req.StreamCreationTimestamp.Millis()
	}
	if f := req.ShardFilter; f != nil {
		opts.Filter = &stream.ShardFilter{Type: f.Type, ShardID: deref(f.ShardId)}
		if f.Timestamp != nil {
			ms := f.Timestamp.Millis()
			opts.Filter.Timestamp = &ms
		}
	}
	// With a NextToken the token names the stream: StreamName goes to the
	// Manager (which refuses it), StreamARN is refused here. Without one,
	// neither name nor ARN is the Manager's "Either NextToken or StreamName
	// should be provided."
	name := deref(req.StreamName)
	switch {
	case req.NextToken != nil && req.StreamName == nil && req.StreamARN != nil:
		return kinesis.InvalidArgument("NextToken and StreamARN cannot be provided together.")
	case req.NextToken == nil && (req.StreamName != nil || req.StreamARN != nil):
		var err error
		if name, err = s.resolveRef(streamRef{req.StreamName, req.StreamARN}); err != nil {
			return err
		}
	}
	res, err := s.cfg.Manager.ListShards(name, opts)
	if err != nil {
		return callErr(err, name, "")
	}
	resp := kinesis.ListShardsOutput{Shards: shardShapes(res.Shards)}
	if res.NextToken != "" {
		resp.NextToken = strp(res.NextToken)
	}
	return writeModel(in, out, &resp)
}

func (s *Server) splitShard(in *Request, out *Response) error {
	var req kinesis.SplitShardInput
	if err := decodeModel(in, "SplitShard", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.SplitShard(name, req.ShardToSplit, req.NewStartingHashKey); err != nil {
		return callErr(err, name, req.ShardToSplit)
	}
	return writeModel(in, out, nil)
}

func (s *Server) mergeShards(in *Request, out *Response) error {
	var req kinesis.MergeShardsInput
	if err := decodeModel(in, "MergeShards", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.MergeShards(name, req.ShardToMerge, req.AdjacentShardToMerge); err != nil {
		return callErr(err, name, req.ShardToMerge)
	}
	return writeModel(in, out, nil)
}

func (s *Server) updateShardCount(in *Request, out *Response) error {
	var req kinesis.UpdateShardCountInput
	if err := decodeModel(in, "UpdateShardCount", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	m := s.cfg.Manager
	current, target, err := m.UpdateShardCount(name, int(req.TargetShardCount), req.ScalingType)
	if err != nil {
		return callErr(err, name, "")
	}
	arn, err := s.streamARN(name)
	if err != nil {
		return err
	}
	return writeModel(in, out, &kinesis.UpdateShardCountOutput{
		StreamName:        strp(name),
		CurrentShardCount: int32p(current),
		TargetShardCount:  int32p(target),
		StreamARN:         strp(arn),
	})
}
