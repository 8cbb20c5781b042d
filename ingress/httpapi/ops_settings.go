package httpapi

import (
	"github.com/sluicehq/sluice/wire/kinesis"
)

// Stream settings (KINESIS_API.md 2.5, 2.7, 2.8, 2.9, 3.10): retention,
// server-side encryption, capacity mode, warm throughput, record size and
// enhanced monitoring. The stream package keeps and checks them
// (settings.go); Describe* show them.

func init() {
	implemented["IncreaseStreamRetentionPeriod"] = (*Server).increaseStreamRetentionPeriod
	implemented["DecreaseStreamRetentionPeriod"] = (*Server).decreaseStreamRetentionPeriod
	implemented["StartStreamEncryption"] = (*Server).startStreamEncryption
	implemented["StopStreamEncryption"] = (*Server).stopStreamEncryption
	implemented["UpdateStreamMode"] = (*Server).updateStreamMode
	implemented["UpdateStreamWarmThroughput"] = (*Server).updateStreamWarmThroughput
	implemented["UpdateMaxRecordSize"] = (*Server).updateMaxRecordSize
	implemented["EnableEnhancedMonitoring"] = (*Server).enableEnhancedMonitoring
	implemented["DisableEnhancedMonitoring"] = (*Server).disableEnhancedMonitoring
}

func (s *Server) increaseStreamRetentionPeriod(in *Request, out *Response) error {
	var req kinesis.IncreaseStreamRetentionPeriodInput
	if err := decodeModel(in, "IncreaseStreamRetentionPeriod", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.IncreaseStreamRetentionPeriod(name, int(req.RetentionPeriodHours)); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) decreaseStreamRetentionPeriod(in *Request, out *Response) error {
	var req kinesis.DecreaseStreamRetentionPeriodInput
	if err := decodeModel(in, "DecreaseStreamRetentionPeriod", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.DecreaseStreamRetentionPeriod(name, int(req.RetentionPeriodHours)); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) startStreamEncryption(in *Request, out *Response) error {
	var req kinesis.StartStreamEncryptionInput
	if err := decodeModel(in, "StartStreamEncryption", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.StartStreamEncryption(name, req.EncryptionType, req.KeyId); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) stopStreamEncryption(in *Request, out *Response) error {
	var req kinesis.StopStreamEncryptionInput
	if err := decodeModel(in, "StopStreamEncryption", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.StopStreamEncryption(name, req.EncryptionType, req.KeyId); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

// updateStreamMode: the model makes StreamARN required (no StreamName).
func (s *Server) updateStreamMode(in *Request, out *Response) error {
	var req kinesis.UpdateStreamModeInput
	if err := decodeModel(in, "UpdateStreamMode", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{StreamARN: &req.StreamARN})
	if err != nil {
		return err
	}
	err = s.cfg.Manager.UpdateStreamMode(name, req.StreamModeDetails.StreamMode, derefInt32(req.WarmThroughputMiBps))
	if err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) updateStreamWarmThroughput(in *Request, out *Response) error {
	var req kinesis.UpdateStreamWarmThroughputInput
	if err := decodeModel(in, "UpdateStreamWarmThroughput", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{req.StreamName, req.StreamARN})
	if err != nil {
		return err
	}
	wt, err := s.cfg.Manager.UpdateStreamWarmThroughput(name, int(req.WarmThroughputMiBps))
	if err != nil {
		return callErr(err, name, "")
	}
	arn, err := s.streamARN(name)
	if err != nil {
		return err
	}
	return writeModel(in, out, &kinesis.UpdateStreamWarmThroughputOutput{
		StreamARN:  strp(arn),
		StreamName: strp(name),
		WarmThroughput: &kinesis.WarmThroughputObject{
			TargetMiBps:  int32p(wt.TargetMiBps),
			CurrentMiBps: int32p(wt.CurrentMiBps),
		},
	})
}

// updateMaxRecordSize: the model has StreamARN only (no StreamName); one
// is still needed, as for every stream-scoped operation.
func (s *Server) updateMaxRecordSize(in *Request, out *Response) error {
	var req kinesis.UpdateMaxRecordSizeInput
	if err := decodeModel(in, "UpdateMaxRecordSize", &req); err != nil {
		return err
	}
	name, err := s.resolveRef(streamRef{StreamARN: req.StreamARN})
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.UpdateMaxRecordSize(name, int(req.MaxRecordSizeInKiB)); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) enableEnhancedMonitoring(in *Request, out *Response) error {
	var req kinesis.EnableEnhancedMonitoringInput
	if err := decodeModel(in, "EnableEnhancedMonitoring", &req); err != nil {
		return err
	}
	return s.changeMonitoring(in, out, streamRef{req.StreamName, req.StreamARN}, req.ShardLevelMetrics, true)
}

func (s *Server) disableEnhancedMonitoring(in *Request, out *Response) error {
	var req kinesis.DisableEnhancedMonitoringInput
	if err := decodeModel(in, "DisableEnhancedMonitoring", &req); err != nil {
		return err
	}
	return s.changeMonitoring(in, out, streamRef{req.StreamName, req.StreamARN}, req.ShardLevelMetrics, false)
}

// changeMonitoring answers with the metrics before (Current) and after
// (Desired) the change, as AWS does.
func (s *Server) changeMonitoring(in *Request, out *Response, ref streamRef, metrics []string, enable bool) error {
	name, err := s.resolveRef(ref)
	if err != nil {
		return err
	}
	m := s.cfg.Manager
	change := m.DisableEnhancedMonitoring
	if enable {
		change = m.EnableEnhancedMonitoring
	}
	res, err := change(name, metrics)
	if err != nil {
		return callErr(err, name, "")
	}
	arn, err := s.streamARN(name)
	if err != nil {
		return err
	}
	return writeModel(in, out, &kinesis.EnhancedMonitoringOutput{
		StreamName:               strp(name),
		CurrentShardLevelMetrics: res.Current,
		DesiredShardLevelMetrics: res.Desired,
		StreamARN:                strp(arn),
	})
}
