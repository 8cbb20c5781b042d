package httpapi

import (
	"github.com/valyala/fasthttp"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// The enhanced fan-out consumer operations (KINESIS_API.md 2.4, 4.1) except
// SubscribeToShard: RegisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers, DeregisterStreamConsumer. The rules (names, limits,
// ARNs, CREATING until Config.ConsumerActivationDelay has passed) are the
// Manager's (stream/consumers.go).

func init() {
	implemented["RegisterStreamConsumer"] = (*Server).registerStreamConsumer
	implemented["DescribeStreamConsumer"] = (*Server).describeStreamConsumer
	implemented["ListStreamConsumers"] = (*Server).listStreamConsumers
	implemented["DeregisterStreamConsumer"] = (*Server).deregisterStreamConsumer
	if implemented["SubscribeToShard"] == nil { // a real implementation wins
		implemented["SubscribeToShard"] = (*Server).subscribeToShard
	}
}

func (s *Server) registerStreamConsumer(in *Request, out *Response) error {
	var req kinesis.RegisterStreamConsumerInput
	if err := decodeModel(in, "RegisterStreamConsumer", &req); err != nil {
		return err
	}
	c, err := s.cfg.Manager.RegisterStreamConsumer(req.StreamARN, req.ConsumerName, req.Tags)
	if err != nil {
		return arnErr(err, req.StreamARN)
	}
	return writeModel(in, out, &kinesis.RegisterStreamConsumerOutput{Consumer: wireConsumer(&c)})
}

func (s *Server) describeStreamConsumer(in *Request, out *Response) error {
	var req kinesis.DescribeStreamConsumerInput
	if err := decodeModel(in, "DescribeStreamConsumer", &req); err != nil {
		return err
	}
	c, err := s.cfg.Manager.DescribeStreamConsumer(optStr(req.StreamARN), optStr(req.ConsumerName), optStr(req.ConsumerARN))
	if err != nil {
		return arnErr(err, firstARN(req.ConsumerARN, req.StreamARN))
	}
	return writeModel(in, out, &kinesis.DescribeStreamConsumerOutput{ConsumerDescription: kinesis.ConsumerDescription{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: kinesis.Timestamp(c.CreatedMillis),
		StreamARN:                 c.StreamARN,
	}})
}

func (s *Server) listStreamConsumers(in *Request, out *Response) error {
	var req kinesis.ListStreamConsumersInput
	if err := decodeModel(in, "ListStreamConsumers", &req); err != nil {
		return err
	}
	maxResults := 0 // the Manager's default, stream.DefaultListConsumers
	if req.MaxResults != nil {
		maxResults = int(*req.MaxResults)
	}
	var created int64
	if req.StreamCreationTimestamp != nil {
		created = req.StreamCreationTimestamp.Millis()
	}
	cs, next, err := s.cfg.Manager.ListStreamConsumers(req.StreamARN, optStr(req.NextToken), maxResults, created)
	if err != nil {
		return arnErr(err, req.StreamARN)
	}
	resp := kinesis.ListStreamConsumersOutput{Consumers: make([]kinesis.Consumer, len(cs))}
	for i := range cs {
		resp.Consumers[i] = wireConsumer(&cs[i])
	}
	if next != "" {
		resp.NextToken = &next
	}
	return writeModel(in, out, &resp)
}

func (s *Server) deregisterStreamConsumer(in *Request, out *Response) error {
	var req kinesis.DeregisterStreamConsumerInput
	if err := decodeModel(in, "DeregisterStreamConsumer", &req); err != nil {
		return err
	}
	err := s.cfg.Manager.DeregisterStreamConsumer(optStr(req.StreamARN), optStr(req.ConsumerName), optStr(req.ConsumerARN))
	if err != nil {
		return arnErr(err, firstARN(req.ConsumerARN, req.StreamARN))
	}
	return writeModel(in, out, nil)
}

func wireConsumer(c *stream.ConsumerInfo) kinesis.Consumer {
	return kinesis.Consumer{
		ConsumerName:              c.Name,
		ConsumerARN:               c.ARN,
		ConsumerStatus:            c.Status,
		ConsumerCreationTimestamp: kinesis.Timestamp(c.CreatedMillis),
	}
}

// firstARN returns the first of the ARNs that is set, for error texts.
func firstARN(arns ...*string) string {
	for _, a := range arns {
		if a != nil && *a != "" {
			return *a
		}
	}
	return ""
}

// subscribeToShard checks a SubscribeToShard request against the model
// and then answers 501: the event stream is not served yet.
func (s *Server) subscribeToShard(in *Request, out *Response) error {
	var req kinesis.SubscribeToShardInput
	if err := decodeModel(in, "SubscribeToShard", &req); err != nil {
		return err
	}
	return &kinesis.Error{Code: codeNotImplemented, Message: "not implemented: SubscribeToShard", Status: fasthttp.StatusNotImplemented}
}
