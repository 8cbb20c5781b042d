package httpapi

import (
	"encoding/base64"
	"errors"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// Stream lifecycle (KINESIS_API.md 2.1): CreateStream, DeleteStream,
// DescribeStream, DescribeStreamSummary, ListStreams.

const (
	// maxDescribeShards is DescribeStream's default and largest Limit
	// (AWS: "If you specify a value greater than 100, at most 100 results
	// are returned").
	maxDescribeShards = 100
	// maxListStreams is ListStreams' default and largest Limit, likewise.
	maxListStreams = 100
)

func (s *Server) createStream(in *Request, out *Response) error {
	var req kinesis.CreateStreamInput
	if err := decodeModel(in, "CreateStream", &req); err != nil {
		return err
	}
	o := stream.CreateStreamOptions{
		ShardCount:          derefInt32(req.ShardCount),
		Tags:                req.Tags,
		WarmThroughputMiBps: derefInt32(req.WarmThroughputMiBps),
		MaxRecordSizeKiB:    derefInt32(req.MaxRecordSizeInKiB),
	}
	if req.StreamModeDetails != nil {
		o.Mode = req.StreamModeDetails.StreamMode
	}
	if err := s.cfg.Manager.CreateStreamWith(req.StreamName, o); err != nil {
		return callErr(err, req.StreamName, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) deleteStream(in *Request, out *Response) error {
	var req kinesis.DeleteStreamInput
	if err := decodeModel(in, "DeleteStream", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	enforce := req.EnforceConsumerDeletion != nil && *req.EnforceConsumerDeletion
	if err := s.cfg.Manager.DeleteStreamEnforce(name, enforce); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

// describeStream lists the shards within the retention period (as
// ListShards without a filter does), Limit at a time after
// ExclusiveStartShardId.
func (s *Server) describeStream(in *Request, out *Response) error {
	var req kinesis.DescribeStreamInput
	if err := decodeModel(in, "DescribeStream", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	m := s.cfg.Manager
	info, err := m.DescribeStream(name)
	if err != nil {
		return callErr(err, name, "")
	}
	limit := maxDescribeShards
	if req.Limit != nil && int(*req.Limit) < limit {
		limit = int(*req.Limit)
	}
	page, err := m.ListShards(name, stream.ListShardsOptions{ExclusiveStartShardID: deref(req.ExclusiveStartShardId), MaxResults: limit})
	if err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, &kinesis.DescribeStreamOutput{StreamDescription: kinesis.StreamDescription{
		StreamName:              info.Name,
		StreamARN:               info.ARN,
		StreamStatus:            info.Status,
		StreamModeDetails:       &kinesis.StreamModeDetails{StreamMode: info.Mode},
		Shards:                  shardShapes(page.Shards),
		HasMoreShards:           page.NextToken != "",
		RetentionPeriodHours:    int32(info.RetentionHours),
		StreamCreationTimestamp: kinesis.Timestamp(info.CreatedMillis),
		EnhancedMonitoring:      enhancedMonitoring(info.ShardLevelMetrics),
		EncryptionType:          strp(info.EncryptionType),
		KeyId:                   keyID(&info),
	}})
}

func (s *Server) describeStreamSummary(in *Request, out *Response) error {
	var req kinesis.DescribeStreamSummaryInput
	if err := decodeModel(in, "DescribeStreamSummary", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	info, err := s.cfg.Manager.DescribeStream(name)
	if err != nil {
		return callErr(err, name, "")
	}
	open := 0
	for i := range info.Shards {
		if info.Shards[i].ClosedMillis == 0 {
			open++
		}
	}
	sum := kinesis.StreamDescriptionSummary{
		StreamName:              info.Name,
		StreamARN:               info.ARN,
		StreamStatus:            info.Status,
		StreamModeDetails:       &kinesis.StreamModeDetails{StreamMode: info.Mode},
		RetentionPeriodHours:    int32(info.RetentionHours),
		StreamCreationTimestamp: kinesis.Timestamp(info.CreatedMillis),
		EnhancedMonitoring:      enhancedMonitoring(info.ShardLevelMetrics),
		EncryptionType:          strp(info.EncryptionType),
		KeyId:                   keyID(&info),
		OpenShardCount:          int32(open),
		ConsumerCount:           int32p(info.ConsumerCount),
		MaxRecordSizeInKiB:      int32p(info.MaxRecordSizeKiB),
	}
	if info.WarmThroughputMiBps > 0 {
		sum.WarmThroughput = &kinesis.WarmThroughputObject{
			TargetMiBps:  int32p(info.WarmThroughputMiBps),
			CurrentMiBps: int32p(info.WarmThroughputMiBps),
		}
	}
	return writeModel(in, out, &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: sum})
}

// ListStreams pages by name: NextToken is the base64 (URL alphabet) of the
// last name returned, so it does not expire and survives restarts.
func (s *Server) listStreams(in *Request, out *Response) error {
	var req kinesis.ListStreamsInput
	if err := decodeModel(in, "ListStreams", &req); err != nil {
		return err
	}
	after := deref(req.ExclusiveStartStreamName)
	if req.NextToken != nil {
		b, err := base64.RawURLEncoding.Strict().DecodeString(*req.NextToken)
		if err != nil || len(b) == 0 {
			// [unsure] AWS's text.
			return kinesis.InvalidArgument("Invalid NextToken.")
		}
		after = string(b)
	}
	limit := maxListStreams
	if req.Limit != nil && int(*req.Limit) < limit {
		limit = int(*req.Limit)
	}
	m := s.cfg.Manager
	resp := kinesis.ListStreamsOutput{StreamNames: []string{}, StreamSummaries: []kinesis.StreamSummary{}}
	for _, name := range m.ListStreams() {
		if after != "" && name <= after {
			continue
		}
		if len(resp.StreamNames) == limit {
			resp.HasMoreStreams = true
			resp.NextToken = strp(base64.RawURLEncoding.EncodeToString([]byte(resp.StreamNames[len(resp.StreamNames)-1])))
			break
		}
		info, err := m.DescribeStream(name)
		if errors.Is(err, stream.ErrStreamNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return callErr(err, name, "")
		}
		ts := kinesis.Timestamp(info.CreatedMillis)
		resp.StreamNames = append(resp.StreamNames, name)
		resp.StreamSummaries = append(resp.StreamSummaries, kinesis.StreamSummary{
			StreamName:              info.Name,
			StreamARN:               info.ARN,
			StreamStatus:            info.Status,
			StreamModeDetails:       &kinesis.StreamModeDetails{StreamMode: info.Mode},
			StreamCreationTimestamp: &ts,
		})
	}
	return writeModel(in, out, &resp)
}
