package httpapi

import "github.com/sluicehq/sluice/wire/kinesis"

// The resource policy operations (KINESIS_API.md 2.10) on a stream or
// consumer ARN. Policies are stored, not evaluated (stream/policy.go).

func init() {
	implemented["PutResourcePolicy"] = (*Server).putResourcePolicy
	implemented["GetResourcePolicy"] = (*Server).getResourcePolicy
	implemented["DeleteResourcePolicy"] = (*Server).deleteResourcePolicy
}

func (s *Server) putResourcePolicy(in *Request, out *Response) error {
	var req kinesis.PutResourcePolicyInput
	if err := decodeModel(in, "PutResourcePolicy", &req); err != nil {
		return err
	}
	if err := s.cfg.Manager.PutResourcePolicy(req.ResourceARN, req.Policy); err != nil {
		return arnErr(err, req.ResourceARN)
	}
	return writeModel(in, out, nil)
}

func (s *Server) getResourcePolicy(in *Request, out *Response) error {
	var req kinesis.GetResourcePolicyInput
	if err := decodeModel(in, "GetResourcePolicy", &req); err != nil {
		return err
	}
	p, err := s.cfg.Manager.GetResourcePolicy(req.ResourceARN)
	if err != nil {
		return arnErr(err, req.ResourceARN)
	}
	return writeModel(in, out, &kinesis.GetResourcePolicyOutput{Policy: p})
}

func (s *Server) deleteResourcePolicy(in *Request, out *Response) error {
	var req kinesis.DeleteResourcePolicyInput
	if err := decodeModel(in, "DeleteResourcePolicy", &req); err != nil {
		return err
	}
	if err := s.cfg.Manager.DeleteResourcePolicy(req.ResourceARN); err != nil {
		return arnErr(err, req.ResourceARN)
	}
	return writeModel(in, out, nil)
}
