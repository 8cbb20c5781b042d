package httpapi

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/kinesis"
)

// The tag operations (KINESIS_API.md 2.6): the stream-scoped
// AddTagsToStream, RemoveTagsFromStream and ListTagsForStream, and the
// ARN-scoped TagResource, UntagResource and ListTagsForResource (stream or
// consumer ARN). The rules are the Manager's (stream/tags.go).

func init() {
	implemented["AddTagsToStream"] = (*Server).addTagsToStream
	implemented["RemoveTagsFromStream"] = (*Server).removeTagsFromStream
	implemented["ListTagsForStream"] = (*Server).listTagsForStream
	implemented["TagResource"] = (*Server).tagResource
	implemented["UntagResource"] = (*Server).untagResource
	implemented["ListTagsForResource"] = (*Server).listTagsForResource
}

func (s *Server) addTagsToStream(in *Request, out *Response) error {
	var req kinesis.AddTagsToStreamInput
	if err := decodeModel(in, "AddTagsToStream", &req); err != nil {
		return err
	}
	name, err := s.resolveStream(optStr(req.StreamName), optStr(req.StreamARN))
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.AddTagsToStream(name, req.Tags); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) removeTagsFromStream(in *Request, out *Response) error {
	var req kinesis.RemoveTagsFromStreamInput
	if err := decodeModel(in, "RemoveTagsFromStream", &req); err != nil {
		return err
	}
	name, err := s.resolveStream(optStr(req.StreamName), optStr(req.StreamARN))
	if err != nil {
		return err
	}
	if err := s.cfg.Manager.RemoveTagsFromStream(name, req.TagKeys); err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, nil)
}

func (s *Server) listTagsForStream(in *Request, out *Response) error {
	var req kinesis.ListTagsForStreamInput
	if err := decodeModel(in, "ListTagsForStream", &req); err != nil {
		return err
	}
	name, err := s.resolveStream(optStr(req.StreamName), optStr(req.StreamARN))
	if err != nil {
		return err
	}
	limit := 0 // the Manager's default, stream.MaxListTagsLimit
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	tags, more, err := s.cfg.Manager.ListTagsForStream(name, optStr(req.ExclusiveStartTagKey), limit)
	if err != nil {
		return callErr(err, name, "")
	}
	return writeModel(in, out, &kinesis.ListTagsForStreamOutput{Tags: wireTags(tags), HasMoreTags: more})
}

func (s *Server) tagResource(in *Request, out *Response) error {
	var req kinesis.TagResourceInput
	if err := decodeModel(in, "TagResource", &req); err != nil {
		return err
	}
	if err := s.cfg.Manager.TagResource(req.ResourceARN, req.Tags); err != nil {
		return arnErr(err, req.ResourceARN)
	}
	return writeModel(in, out, nil)
}

func (s *Server) untagResource(in *Request, out *Response) error {
	var req kinesis.UntagResourceInput
	if err := decodeModel(in, "UntagResource", &req); err != nil {
		return err
	}
	if err := s.cfg.Manager.UntagResource(req.ResourceARN, req.TagKeys); err != nil {
		return arnErr(err, req.ResourceARN)
	}
	return writeModel(in, out, nil)
}

func (s *Server) listTagsForResource(in *Request, out *Response) error {
	var req kinesis.ListTagsForResourceInput
	if err := decodeModel(in, "ListTagsForResource", &req); err != nil {
		return err
	}
	tags, err := s.cfg.Manager.ListTagsForResource(req.ResourceARN)
	if err != nil {
		return arnErr(err, req.ResourceARN)
	}
	return writeModel(in, out, &kinesis.ListTagsForResourceOutput{Tags: wireTags(tags)})
}

// wireTags converts the Manager's tags to the model's Tag list (never nil:
// an untagged resource answers "Tags":[]).
func wireTags(tags []stream.Tag) []kinesis.Tag {
	out := make([]kinesis.Tag, len(tags))
	for i, t := range tags {
		out[i] = kinesis.Tag{Key: t.Key, Value: &t.Value}
	}
	return out
}

// arnErr wraps an error of a Manager call addressed by a stream or consumer
// ARN with the stream's name, which the "Stream X under account A not
// found." text of toAWS needs. For an ARN of another account or region the
// name is the one in the ARN [unsure: AWS's text then].
func arnErr(err error, arn string) error {
	if err == nil || !errors.Is(err, stream.ErrStreamNotFound) {
		return err
	}
	return callErr(err, streamOfARN(arn), "")
}

// streamOfARN returns the stream name in a stream or consumer ARN
// ("arn:...:stream/<name>[/consumer/<consumer>:<secs>]"), or "" if there is
// none.
func streamOfARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":stream/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// optStr returns *p, or "" for nil (an absent optional member).
func optStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
