package httpapi

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// maxPutRecordsBytes is the cap of the data and partition keys of one
// PutRecords request to a stream left at the default 1 MiB record size
// (KINESIS_API.md 3.5); streams configured for larger records take
// maxLargePutRecordsBytes, AWS's current "up to 10 MiB for the entire
// request".
const (
	maxPutRecordsBytes      = 5 << 20
	maxLargePutRecordsBytes = 10 << 20
	// maxDataBytes is the largest record any stream takes (MaxRecordSizeInKiB
	// 10240); the stream's own cap is checked by the Manager.
	maxDataBytes = 10 << 20
)

// resolveStream returns the stream a request names by StreamName and/or
// StreamARN (KINESIS_API.md 2.0). The wire validation has checked their
// format. The result may alias name or arn.
func (s *Server) resolveStream(name, arn string) (string, error) {
	if arn == "" {
		if name == "" {
			return "", kinesis.InvalidArgument("Either StreamName or StreamARN must be provided.")
		}
		return name, nil
	}
	i := strings.Index(arn, ":stream/")
	if i < 0 {
		return "", kinesis.InvalidArgument("Invalid StreamARN " + arn + ".")
	}
	fromARN := arn[i+len(":stream/"):]
	if name != "" && name != fromARN {
		// [unsure] AWS's text for a StreamName and StreamARN that disagree.
		return "", kinesis.InvalidArgument("StreamName " + name + " and StreamARN " + arn + " refer to different streams.")
	}
	if arn[:i] != "arn:aws:kinesis:"+s.cfg.Region+":"+s.cfg.AccountID {
		return "", kinesis.ResourceNotFound("Stream " + fromARN + " under account " + s.cfg.AccountID + " not found.")
	}
	return fromARN, nil
}

// The pooled states of the data-plane operations: a wire request plus the
// slices the call needs, reused across requests.
type putRecordState struct {
	req     kinesis.PutRecordRequest
	entries [1]stream.PutEntry
	buf     []byte
}

type putRecordsState struct {
	req     kinesis.PutRecordsRequest
	entries []stream.PutEntry
	resp    kinesis.PutRecordsResponse
	buf     []byte
}

type getRecordsState struct {
	req  kinesis.GetRecordsRequest
	resp kinesis.GetRecordsResponse
	buf  []byte
}

func (s *Server) putRecord(in *Request, out *Response) error {
	body := in.Body
	st := s.putRecordPool.Get().(*putRecordState)
	defer func() {
		st.req.Reset()
		st.entries[0] = stream.PutEntry{}
		s.putRecordPool.Put(st)
	}()
	var err error
	if in.Encoding == EncodingCBOR {
		err = kinesis.DecodePutRecordCBOR(body, &st.req)
	} else {
		err = kinesis.DecodePutRecord(body, &st.req)
	}
	if err != nil {
		return err
	}
	if err := st.req.ValidateMaxDataSize(maxDataBytes); err != nil {
		return err
	}
	name, err := s.resolveStream(st.req.StreamName, st.req.StreamARN)
	if err != nil {
		return err
	}
	if len(st.req.Data) > kinesis.DefaultMaxDataSize {
		// The stream's own cap (MaxRecordSizeInKiB), worded as the
		// model's constraint.
		maxData, err := s.cfg.Manager.MaxRecordBytes(name)
		if err != nil {
			return callErr(err, name, "")
		}
		if err := st.req.ValidateMaxDataSize(maxData); err != nil {
			return err
		}
	}
	// SequenceNumberForOrdering needs nothing: a shard's records are
	// ordered by arrival anyway.
	st.entries[0] = stream.PutEntry{PartitionKey: st.req.PartitionKey, ExplicitHashKey: st.req.ExplicitHashKey, Data: st.req.Data}
	res, err := s.cfg.Manager.PutRecords(name, st.entries[:])
	if err != nil {
		var tooLarge *stream.RecordTooLargeError
		if errors.As(err, &tooLarge) {
			// The member path of PutRecord is "data", not PutRecords'
			// "records.1.member.data".
			return kinesis.Validation(dataTooLarge("data", tooLarge.Size, tooLarge.Max))
		}
		return callErr(err, name, "")
	}
	if res[0].Err != nil {
		// A throttled record (Config.EmulateQuotas) is the operation's
		// ProvisionedThroughputExceededException.
		return callErr(res[0].Err, name, res[0].ShardID)
	}
	resp := kinesis.PutRecordResponse{ShardID: res[0].ShardID, SequenceNumber: res[0].SequenceNumber, EncryptionType: "NONE"}
	if in.Encoding == EncodingCBOR {
		st.buf = kinesis.AppendPutRecordResponseCBOR(st.buf[:0], &resp)
	} else {
		st.buf = kinesis.AppendPutRecordResponse(st.buf[:0], &resp)
	}
	writeOK(in, out, st.buf)
	return nil
}

func (s *Server) putRecords(in *Request, out *Response) error {
	body := in.Body
	st := s.putRecordsPool.Get().(*putRecordsState)
	defer func() {
		st.req.Reset()
		clear(st.entries)
		clear(st.resp.Records)
		s.putRecordsPool.Put(st)
	}()
	var err error
	if in.Encoding == EncodingCBOR {
		err = kinesis.DecodePutRecordsCBOR(body, &st.req)
	} else {
		err = kinesis.DecodePutRecords(body, &st.req)
	}
	if err != nil {
		return err
	}
	if err := st.req.ValidateMaxDataSize(maxDataBytes); err != nil {
		return err
	}
	name, err := s.resolveStream(st.req.StreamName, st.req.StreamARN)
	if err != nil {
		return err
	}
	total, tooLarge := 0, false
	st.entries = st.entries[:0]
	for i := range st.req.Records {
		r := &st.req.Records[i]
		total += len(r.Data) + len(r.PartitionKey)
		tooLarge = tooLarge || len(r.Data) > kinesis.DefaultMaxDataSize
		st.entries = append(st.entries, stream.PutEntry{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data})
	}
	if tooLarge || total > maxPutRecordsBytes {
		// Only large requests need the stream's record size cap.
		maxData, err := s.cfg.Manager.MaxRecordBytes(name)
		if err != nil {
			return callErr(err, name, "")
		}
		if tooLarge {
			// Worded as the model's constraint, with every entry over it.
			if err := st.req.ValidateMaxDataSize(maxData); err != nil {
				return err
			}
		}
		limit := maxPutRecordsBytes
		if maxData > kinesis.DefaultMaxDataSize {
			limit = maxLargePutRecordsBytes
		}
		if total > limit {
			// [unsure] AWS's text (KINESIS_API.md 8, open question 1).
			return kinesis.InvalidArgument("Records size exceeds " + strconv.Itoa(limit>>20) + " MB limit: the data and partition keys of the request take " +
				strconv.Itoa(total) + " bytes.")
		}
	}
	res, err := s.cfg.Manager.PutRecords(name, st.entries)
	if err != nil {
		return callErr(err, name, "")
	}
	st.resp.FailedRecordCount = 0
	st.resp.EncryptionType = "NONE"
	st.resp.Records = st.resp.Records[:0]
	for i := range res {
		r := &res[i]
		if r.Err != nil {
			st.resp.FailedRecordCount++
			var api *stream.APIError
			if errors.As(r.Err, &api) && errors.Is(api.Kind, stream.ErrThroughputExceeded) {
				// Config.EmulateQuotas: AWS fails the entry, not the call
				// (KINESIS_API.md 3.5), with the stream layer's text.
				st.resp.Records = append(st.resp.Records, kinesis.PutRecordsResultEntry{
					ErrorCode: kinesis.RecordErrorProvisionedThroughputExceeded, ErrorMessage: api.Msg,
				})
				continue
			}
			s.log.Error("httpapi: PutRecords entry failed", "requestId", in.RequestID, "stream", name, "shard", r.ShardID, "err", r.Err)
			st.resp.Records = append(st.resp.Records, kinesis.PutRecordsResultEntry{
				ErrorCode: kinesis.RecordErrorInternalFailure, ErrorMessage: "Internal service failure.",
			})
			continue
		}
		st.resp.Records = append(st.resp.Records, kinesis.PutRecordsResultEntry{ShardID: r.ShardID, SequenceNumber: r.SequenceNumber})
	}
	if in.Encoding == EncodingCBOR {
		st.buf = kinesis.AppendPutRecordsResponseCBOR(st.buf[:0], &st.resp)
	} else {
		st.buf = kinesis.AppendPutRecordsResponse(st.buf[:0], &st.resp)
	}
	writeOK(in, out, st.buf)
	return nil
}

func (s *Server) getShardIterator(in *Request, out *Response) error {
	body := in.Body
	req := s.getShardIteratorPool.Get().(*kinesis.GetShardIteratorRequest)
	defer func() {
		req.Reset()
		s.getShardIteratorPool.Put(req)
	}()
	var err error
	if in.Encoding == EncodingCBOR {
		err = kinesis.DecodeGetShardIteratorCBOR(body, req)
	} else {
		err = kinesis.DecodeGetShardIterator(body, req)
	}
	if err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	name, err := s.resolveStream(req.StreamName, req.StreamARN)
	if err != nil {
		return err
	}
	var at int64
	if req.ShardIteratorType == kinesis.IteratorAtTimestamp {
		at = req.TimestampMillis
	}
	var seq string
	if req.ShardIteratorType == kinesis.IteratorAtSequenceNumber || req.ShardIteratorType == kinesis.IteratorAfterSequenceNumber {
		seq = req.StartingSequenceNumber
	}
	it, err := s.cfg.Manager.GetShardIterator(name, req.ShardID, req.ShardIteratorType, seq, at)
	if err != nil {
		return callErr(err, name, req.ShardID)
	}
	resp := kinesis.GetShardIteratorResponse{ShardIterator: it}
	buf := make([]byte, 0, len(`{"ShardIterator":""}`)+len(it)+8) // one allocation in either encoding
	if in.Encoding == EncodingCBOR {
		writeOK(in, out, kinesis.AppendGetShardIteratorResponseCBOR(buf, &resp))
	} else {
		writeOK(in, out, kinesis.AppendGetShardIteratorResponse(buf, &resp))
	}
	return nil
}

func (s *Server) getRecords(in *Request, out *Response) error {
	body := in.Body
	st := s.getRecordsPool.Get().(*getRecordsState)
	defer func() {
		st.req.Reset()
		clear(st.resp.Records)
		clear(st.resp.ChildShards)
		st.resp = kinesis.GetRecordsResponse{Records: st.resp.Records[:0], ChildShards: st.resp.ChildShards[:0]}
		if cap(st.buf) > smallResponse {
			// A large buffer goes back to the bounded free list, not to
			// the pool with st, which would pin it per pooled state.
			s.putLargeBuf(st.buf)
			st.buf = nil
		}
		s.getRecordsPool.Put(st)
	}()
	var err error
	if in.Encoding == EncodingCBOR {
		err = kinesis.DecodeGetRecordsCBOR(body, &st.req)
	} else {
		err = kinesis.DecodeGetRecords(body, &st.req)
	}
	if err != nil {
		return err
	}
	if err := st.req.Validate(); err != nil {
		return err
	}
	res, err := s.cfg.Manager.GetRecords(st.req.ShardIterator, st.req.EffectiveLimit())
	if err != nil {
		return callErr(err, "", "")
	}
	for i := range res.Records {
		r := &res.Records[i]
		st.resp.Records = append(st.resp.Records, kinesis.Record{
			SequenceNumber:                    r.SequenceNumber,
			ApproximateArrivalTimestampMillis: r.ArrivalMillis,
			Data:                              r.Data,
			PartitionKey:                      r.PartitionKey,
			EncryptionType:                    "NONE",
		})
	}
	st.resp.NextShardIterator = res.NextShardIterator
	st.resp.MillisBehindLatest = res.MillisBehindLatest
	// At the end of a closed shard: no NextShardIterator, the children.
	for i := range res.ChildShards {
		c := &res.ChildShards[i]
		st.resp.ChildShards = append(st.resp.ChildShards, kinesis.ChildShard{
			ShardID: c.ShardID, ParentShards: c.ParentShards,
			HashKeyRange: kinesis.HashKeyRange{StartingHashKey: c.HashKeyRange.Start.String(), EndingHashKey: c.HashKeyRange.End.String()},
		})
	}
	if len(res.Records) > 0 && cap(st.buf) <= smallResponse {
		// A response of up to 10 MiB of data (about 13.4 MiB of JSON):
		// reuse a large buffer rather than allocate and clear one per
		// call, which cost as much CPU as encoding it.
		if b := s.getLargeBuf(); b != nil {
			st.buf = b
		}
	}
	if in.Encoding == EncodingCBOR {
		st.buf = kinesis.AppendGetRecordsResponseCBOR(st.buf[:0], &st.resp)
	} else {
		st.buf = kinesis.AppendGetRecordsResponse(st.buf[:0], &st.resp)
	}
	writeOK(in, out, st.buf)
	return nil
}

// dataTooLarge is the ValidationException text of a Data blob of size
// bytes over max at member path (KINESIS_API.md 1.4).
func dataTooLarge(path string, size, max int) string {
	n := strconv.Itoa(size)
	return "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]' at '" + path +
		"' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(max)
}

// smallResponse is the capacity up to which a response buffer stays with
// its pooled operation state; larger ones use Server.largeBufs.
const smallResponse = 1 << 20

// largeBufCount bounds the large response buffers kept between calls
// (each up to about 14 MiB): enough for the GetRecords calls a few
// connections have in flight, without pinning memory per connection.
const largeBufCount = 4

// getLargeBuf returns a kept large buffer (length 0), or nil.
func (s *Server) getLargeBuf() []byte {
	select {
	case b := <-s.largeBufs:
		return b[:0]
	default:
		return nil
	}
}

// putLargeBuf keeps b for a later large response if there is room.
func (s *Server) putLargeBuf(b []byte) {
	select {
	case s.largeBufs <- b:
	default:
	}
}
