package httpapi

import (
	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// The account operations (KINESIS_API.md 2.11): DescribeLimits,
// DescribeAccountSettings and UpdateAccountSettings (the
// MinimumThroughputBillingCommitment, state only: stream/account.go).

func init() {
	implemented["DescribeLimits"] = (*Server).describeLimits
	implemented["DescribeAccountSettings"] = (*Server).describeAccountSettings
	implemented["UpdateAccountSettings"] = (*Server).updateAccountSettings
}

func (s *Server) describeLimits(in *Request, out *Response) error {
	var req kinesis.DescribeLimitsInput
	if err := decodeModel(in, "DescribeLimits", &req); err != nil {
		return err
	}
	l, err := s.cfg.Manager.DescribeLimits()
	if err != nil {
		return err
	}
	return writeModel(in, out, &kinesis.DescribeLimitsOutput{
		ShardLimit:               int32(l.ShardLimit),
		OpenShardCount:           int32(l.OpenShardCount),
		OnDemandStreamCount:      int32(l.OnDemandStreamCount),
		OnDemandStreamCountLimit: int32(l.OnDemandStreamCountLimit),
	})
}

func (s *Server) describeAccountSettings(in *Request, out *Response) error {
	var req kinesis.DescribeAccountSettingsInput
	if err := decodeModel(in, "DescribeAccountSettings", &req); err != nil {
		return err
	}
	c, err := s.cfg.Manager.DescribeAccountSettings()
	if err != nil {
		return err
	}
	return writeModel(in, out, &kinesis.DescribeAccountSettingsOutput{MinimumThroughputBillingCommitment: wireCommitment(c)})
}

func (s *Server) updateAccountSettings(in *Request, out *Response) error {
	var req kinesis.UpdateAccountSettingsInput
	if err := decodeModel(in, "UpdateAccountSettings", &req); err != nil {
		return err
	}
	c, err := s.cfg.Manager.UpdateAccountSettings(req.MinimumThroughputBillingCommitment.Status)
	if err != nil {
		return err
	}
	return writeModel(in, out, &kinesis.UpdateAccountSettingsOutput{MinimumThroughputBillingCommitment: wireCommitment(c)})
}

// wireCommitment converts the commitment; its absent times (0) are left
// out.
func wireCommitment(c stream.BillingCommitment) *kinesis.MinimumThroughputBillingCommitmentOutput {
	ts := func(ms int64) *kinesis.Timestamp {
		if ms == 0 {
			return nil
		}
		t := kinesis.Timestamp(ms)
		return &t
	}
	return &kinesis.MinimumThroughputBillingCommitmentOutput{
		Status:               c.Status,
		StartedAt:            ts(c.StartedAt),
		EndedAt:              ts(c.EndedAt),
		EarliestAllowedEndAt: ts(c.EarliestAllowedEndAt),
	}
}
