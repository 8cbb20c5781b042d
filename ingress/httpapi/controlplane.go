package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// The control plane is coded with encoding/json for now: it is not on the
// hot path. Field sets are the subset of the model (KINESIS_API.md 2.0,
// 2.1, 2.3) this slice can fill truthfully; members it cannot honour are
// refused with InvalidArgumentException rather than ignored.

const (
	defaultDescribeLimit   = 100
	defaultListStreamLimit = 100
	defaultListShardsLimit = 1000
	maxListLimit           = 10000
)

// epochMillis is a timestamp sent as a JSON number of seconds with a
// millisecond fraction (KINESIS_API.md 1.2), e.g. 1506440188.749.
type epochMillis int64

func (t epochMillis) MarshalJSON() ([]byte, error) {
	ms := int64(t)
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	b := strconv.AppendInt(nil, sec, 10)
	if frac != 0 {
		b = append(b, '.')
		b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	}
	return b, nil
}

// UnmarshalJSON accepts integer and fractional seconds.
func (t *epochMillis) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return errors.New("class java.lang.String can not be converted to milliseconds since epoch")
	}
	*t = epochMillis(f*1000 + 0.5)
	return nil
}

// decodeJSON decodes a control-plane body into v; type errors become
// SerializationException.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return kinesis.Serialization("Unexpected value type for member " + te.Field + ": found " + te.Value + ".")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return kinesis.Serialization("")
		}
		return kinesis.Serialization(err.Error())
	}
	return nil
}

func writeJSON(in *Request, out *Response, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeOK(in, out, b)
	return nil
}

// validation collects model-constraint failures into one
// ValidationException, in the format of KINESIS_API.md 1.4.
type validation []string

func (v *validation) fail(value, path, constraint string) {
	*v = append(*v, "Value "+value+" at '"+path+"' failed to satisfy constraint: "+constraint)
}

func (v *validation) name(s *string, path string, required bool) {
	if s == nil {
		if required {
			v.fail("null", path, "Member must not be null")
		}
		return
	}
	n := *s
	if !validName(n) {
		v.fail("'"+n+"'", path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	if len(n) < 1 {
		v.fail("'"+n+"'", path, "Member must have length greater than or equal to 1")
	}
	if len(n) > 128 {
		v.fail("'"+n+"'", path, "Member must have length less than or equal to 128")
	}
}

func (v *validation) limit(n *int64, path string, lo, hi int64) {
	if n == nil {
		return
	}
	if *n < lo {
		v.fail(strconv.FormatInt(*n, 10), path, "Member must have value greater than or equal to "+strconv.FormatInt(lo, 10))
	}
	if *n > hi {
		v.fail(strconv.FormatInt(*n, 10), path, "Member must have value less than or equal to "+strconv.FormatInt(hi, 10))
	}
}

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	n := min(len(v), 10)
	prefix := "1 validation error detected: "
	if n > 1 {
		prefix = strconv.Itoa(n) + " validation errors detected: "
	}
	return kinesis.Validation(prefix + strings.Join(v[:n], "; "))
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int64, def int64) int64 {
	if n == nil {
		return def
	}
	return *n
}

// streamRef are the StreamName and StreamARN members of a stream-scoped
// request.
type streamRef struct {
	StreamName *string
	StreamARN  *string
}

func (s *Server) resolveRef(r streamRef) (string, error) {
	return s.resolveStream(deref(r.StreamName), deref(r.StreamARN))
}

// --- CreateStream, DeleteStream ---

type streamModeDetails struct {
	StreamMode string
}

func (s *Server) createStream(in *Request, out *Response) error {
	body := in.Body
	var req struct {
		StreamName          *string
		ShardCount          *int64
		StreamModeDetails   *streamModeDetails
		Tags                map[string]string
		WarmThroughputMiBps *int64
		MaxRecordSizeInKiB  *int64
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var v validation
	if req.ShardCount != nil && *req.ShardCount < 1 {
		v.fail(strconv.FormatInt(*req.ShardCount, 10), "shardCount", "Member must have value greater than or equal to 1")
	}
	v.name(req.StreamName, "streamName", true)
	if err := v.err(); err != nil {
		return err
	}
	name := *req.StreamName
	if req.StreamModeDetails != nil && req.StreamModeDetails.StreamMode != "PROVISIONED" {
		return kinesis.InvalidArgument("StreamMode " + req.StreamModeDetails.StreamMode + " is not supported by this server yet; use PROVISIONED with a ShardCount.")
	}
	if req.ShardCount == nil {
		return kinesis.InvalidArgument("ShardCount is required (this server supports only PROVISIONED streams).")
	}
	if len(req.Tags) > 0 {
		return kinesis.InvalidArgument("Tags are not supported by this server yet.")
	}
	if req.WarmThroughputMiBps != nil {
		return kinesis.InvalidArgument("WarmThroughputMiBps is not supported by this server yet.")
	}
	if req.MaxRecordSizeInKiB != nil && *req.MaxRecordSizeInKiB != 1024 {
		return kinesis.InvalidArgument("MaxRecordSizeInKiB other than 1024 is not supported by this server yet.")
	}
	if *req.ShardCount > stream.MaxShardCount {
		return kinesis.LimitExceeded("This request would exceed the shard limit for the account " + s.cfg.AccountID +
			" in " + s.cfg.Region + ". Current shard count for the account: 0. Limit: " + strconv.Itoa(stream.MaxShardCount) +
			". Number of additional shards that would have resulted from this request: " + strconv.FormatInt(*req.ShardCount, 10) + ".")
	}
	if err := s.cfg.Manager.CreateStream(name, int(*req.ShardCount)); err != nil {
		return callErr(err, name, "")
	}
	writeOK(in, out, nil)
	return nil
}

func (s *Server) deleteStream(in *Request, out *Response) error {
	body := in.Body
	var req struct {
		streamRef
		EnforceConsumerDeletion *bool
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var v validation
	v.name(req.StreamName, "streamName", false)
	if err := v.err(); err != nil {
		return err
	}
	name, err := s.resolveRef(req.streamRef)
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.DeleteStream(name); err != nil {
		return callErr(err, name, "")
	}
	writeOK(in, out, nil)
	return nil
}

// --- DescribeStream, DescribeStreamSummary ---

type hashKeyRangeJSON struct {
	StartingHashKey string
	EndingHashKey   string
}

type seqRangeJSON struct {
	StartingSequenceNumber string
	EndingSequenceNumber   string `json:",omitempty"`
}

type shardJSON struct {
	ShardId               string
	ParentShardId         string `json:",omitempty"`
	AdjacentParentShardId string `json:",omitempty"`
	HashKeyRange          hashKeyRangeJSON
	SequenceNumberRange   seqRangeJSON
}

func toShardJSON(si *stream.ShardInfo) shardJSON {
	return shardJSON{
		ShardId:               si.ShardID,
		ParentShardId:         si.ParentShardID,
		AdjacentParentShardId: si.AdjacentParentShardID,
		HashKeyRange:          hashKeyRangeJSON{StartingHashKey: si.HashKeyRange.Start.String(), EndingHashKey: si.HashKeyRange.End.String()},
		SequenceNumberRange:   seqRangeJSON{StartingSequenceNumber: si.StartingSequenceNumber, EndingSequenceNumber: si.EndingSequenceNumber},
	}
}

type enhancedMetrics struct {
	ShardLevelMetrics []string
}

// noMonitoring is the EnhancedMonitoring of every stream: none enabled.
var noMonitoring = []enhancedMetrics{{ShardLevelMetrics: []string{}}}

var provisioned = streamModeDetails{StreamMode: "PROVISIONED"}

type streamDescription struct {
	StreamName              string
	StreamARN               string
	StreamStatus            string
	StreamModeDetails       streamModeDetails
	Shards                  []shardJSON
	HasMoreShards           bool
	RetentionPeriodHours    int
	StreamCreationTimestamp epochMillis
	EnhancedMonitoring      []enhancedMetrics
	EncryptionType          string
}

func (s *Server) describeStream(in *Request, out *Response) error {
	body := in.Body
	var req struct {
		streamRef
		Limit                 *int64
		ExclusiveStartShardId *string
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var v validation
	v.name(req.ExclusiveStartShardId, "exclusiveStartShardId", false)
	v.limit(req.Limit, "limit", 1, maxListLimit)
	v.name(req.StreamName, "streamName", false)
	if err := v.err(); err != nil {
		return err
	}
	name, err := s.resolveRef(req.streamRef)
	if err != nil {
		return err
	}
	info, err := s.cfg.Manager.DescribeStream(name)
	if err != nil {
		return callErr(err, name, "")
	}
	shards, more := pageShards(info.Shards, deref(req.ExclusiveStartShardId), int(derefInt(req.Limit, defaultDescribeLimit)))
	return writeJSON(in, out, struct{ StreamDescription streamDescription }{streamDescription{
		StreamName:              info.Name,
		StreamARN:               info.ARN,
		StreamStatus:            info.Status,
		StreamModeDetails:       provisioned,
		Shards:                  shards,
		HasMoreShards:           more,
		RetentionPeriodHours:    info.RetentionHours,
		StreamCreationTimestamp: epochMillis(info.CreatedMillis),
		EnhancedMonitoring:      noMonitoring,
		EncryptionType:          "NONE",
	}})
}

// pageShards returns up to limit of shards whose ids sort after after
// (shard ids are fixed width, so string order is index order), and whether
// more follow.
func pageShards(all []stream.ShardInfo, after string, limit int) ([]shardJSON, bool) {
	out := make([]shardJSON, 0, min(len(all), limit))
	for i := range all {
		if after != "" && all[i].ShardID <= after {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, toShardJSON(&all[i]))
	}
	return out, false
}

func (s *Server) describeStreamSummary(in *Request, out *Response) error {
	body := in.Body
	var req streamRef
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var v validation
	v.name(req.StreamName, "streamName", false)
	if err := v.err(); err != nil {
		return err
	}
	name, err := s.resolveRef(req)
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
	type summary struct {
		StreamName              string
		StreamARN               string
		StreamStatus            string
		StreamModeDetails       streamModeDetails
		RetentionPeriodHours    int
		StreamCreationTimestamp epochMillis
		EnhancedMonitoring      []enhancedMetrics
		EncryptionType          string
		OpenShardCount          int
		ConsumerCount           int
		MaxRecordSizeInKiB      int
	}
	return writeJSON(in, out, struct{ StreamDescriptionSummary summary }{summary{
		StreamName:              info.Name,
		StreamARN:               info.ARN,
		StreamStatus:            info.Status,
		StreamModeDetails:       provisioned,
		RetentionPeriodHours:    info.RetentionHours,
		StreamCreationTimestamp: epochMillis(info.CreatedMillis),
		EnhancedMonitoring:      noMonitoring,
		EncryptionType:          "NONE",
		OpenShardCount:          open,
		MaxRecordSizeInKiB:      1024,
	}})
}

// --- ListStreams, ListShards ---

// Pagination tokens are opaque to clients: base64 (URL alphabet) of the
// last name or id returned, prefixed by the stream for ListShards.
func encodeToken(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\x00")))
}

func decodeToken(tok string, n int) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(b), "\x00")
	return parts, len(parts) == n
}

func invalidToken(tok string) error {
	// [unsure] AWS's text.
	return kinesis.InvalidArgument("Invalid NextToken " + tok + ".")
}

func (s *Server) listStreams(in *Request, out *Response) error {
	body := in.Body
	var req struct {
		Limit                    *int64
		ExclusiveStartStreamName *string
		NextToken                *string
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var v validation
	v.name(req.ExclusiveStartStreamName, "exclusiveStartStreamName", false)
	v.limit(req.Limit, "limit", 1, maxListLimit)
	if err := v.err(); err != nil {
		return err
	}
	after := deref(req.ExclusiveStartStreamName)
	if tok := deref(req.NextToken); tok != "" {
		parts, ok := decodeToken(tok, 1)
		if !ok {
			return invalidToken(tok)
		}
		after = parts[0]
	}
	limit := int(derefInt(req.Limit, defaultListStreamLimit))
	type summary struct {
		StreamName              string
		StreamARN               string
		StreamStatus            string
		StreamModeDetails       streamModeDetails
		StreamCreationTimestamp epochMillis
	}
	var resp struct {
		StreamNames     []string
		HasMoreStreams  bool
		NextToken       string `json:",omitempty"`
		StreamSummaries []summary
	}
	resp.StreamNames, resp.StreamSummaries = []string{}, []summary{}
	for _, name := range s.cfg.Manager.ListStreams() {
		if after != "" && name <= after {
			continue
		}
		if len(resp.StreamNames) == limit {
			resp.HasMoreStreams = true
			resp.NextToken = encodeToken(resp.StreamNames[len(resp.StreamNames)-1])
			break
		}
		info, err := s.cfg.Manager.DescribeStream(name)
		if errors.Is(err, stream.ErrStreamNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return callErr(err, name, "")
		}
		resp.StreamNames = append(resp.StreamNames, name)
		resp.StreamSummaries = append(resp.StreamSummaries, summary{
			StreamName: info.Name, StreamARN: info.ARN, StreamStatus: info.Status,
			StreamModeDetails: provisioned, StreamCreationTimestamp: epochMillis(info.CreatedMillis),
		})
	}
	return writeJSON(in, out, &resp)
}

type shardFilter struct {
	Type      string
	ShardId   *string
	Timestamp *epochMillis
}

func (s *Server) listShards(in *Request, out *Response) error {
	body := in.Body
	var req struct {
		streamRef
		NextToken               *string
		ExclusiveStartShardId   *string
		MaxResults              *int64
		StreamCreationTimestamp *epochMillis
		ShardFilter             *shardFilter
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	var v validation
	v.name(req.ExclusiveStartShardId, "exclusiveStartShardId", false)
	v.limit(req.MaxResults, "maxResults", 1, maxListLimit)
	v.name(req.StreamName, "streamName", false)
	if err := v.err(); err != nil {
		return err
	}
	var name, after string
	if tok := deref(req.NextToken); tok != "" {
		if req.StreamName != nil || req.ExclusiveStartShardId != nil || req.StreamCreationTimestamp != nil || req.ShardFilter != nil {
			return kinesis.InvalidArgument("NextToken and StreamName, ExclusiveStartShardId, StreamCreationTimestamp or ShardFilter cannot be provided together.")
		}
		parts, ok := decodeToken(tok, 2)
		if !ok {
			return invalidToken(tok)
		}
		name, after = parts[0], parts[1]
	} else {
		var err error
		if name, err = s.resolveRef(req.streamRef); err != nil {
			return err
		}
		after = deref(req.ExclusiveStartShardId)
	}
	info, err := s.cfg.Manager.DescribeStream(name)
	if err != nil {
		return callErr(err, name, "")
	}
	shards := info.Shards
	if f := req.ShardFilter; f != nil {
		if shards, err = filterShards(shards, f); err != nil {
			return err
		}
		if f.Type == "AFTER_SHARD_ID" {
			after = deref(f.ShardId)
		}
	}
	page, more := pageShards(shards, after, int(derefInt(req.MaxResults, defaultListShardsLimit)))
	var resp struct {
		Shards    []shardJSON
		NextToken string `json:",omitempty"`
	}
	resp.Shards = page
	if more {
		resp.NextToken = encodeToken(name, page[len(page)-1].ShardId)
	}
	return writeJSON(in, out, &resp)
}

// filterShards applies a ShardFilter other than its AFTER_SHARD_ID start.
func filterShards(all []stream.ShardInfo, f *shardFilter) ([]stream.ShardInfo, error) {
	var keep func(si *stream.ShardInfo) bool
	switch f.Type {
	case "AFTER_SHARD_ID":
		if f.ShardId == nil {
			return nil, kinesis.InvalidArgument("ShardId must be specified for the AFTER_SHARD_ID ShardFilter type.")
		}
		return all, nil
	case "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON":
		// Every shard this server lists is within retention.
		return all, nil
	case "AT_LATEST":
		keep = func(si *stream.ShardInfo) bool { return si.ClosedMillis == 0 }
	case "AT_TIMESTAMP", "FROM_TIMESTAMP":
		if f.Timestamp == nil {
			return nil, kinesis.InvalidArgument("Timestamp must be specified for the " + f.Type + " ShardFilter type.")
		}
		ts := int64(*f.Timestamp)
		if f.Type == "AT_TIMESTAMP" {
			keep = func(si *stream.ShardInfo) bool {
				// Shards of the stream's creation count for earlier times.
				return (si.CreatedMillis <= ts || si.ParentShardID == "") && (si.ClosedMillis == 0 || si.ClosedMillis > ts)
			}
		} else {
			keep = func(si *stream.ShardInfo) bool { return si.ClosedMillis == 0 || si.ClosedMillis >= ts }
		}
	default:
		return nil, kinesis.Validation("1 validation error detected: Value '" + f.Type +
			"' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]")
	}
	out := make([]stream.ShardInfo, 0, len(all))
	for i := range all {
		if keep(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}
