package httpapi

import (
	"github.com/sluicehq/sluice/wire/kinesis"
)

// wireEncoding is the wire/kinesis encoding of a request's body.
func wireEncoding(e Encoding) kinesis.Encoding {
	if e == EncodingCBOR {
		return kinesis.EncodingCBOR
	}
	return kinesis.EncodingJSON
}

// decodeModel decodes the request body of op (e.g. "TagResource") into dst,
// the generated *kinesis.<Op>Input, in the request's encoding, with the
// model's type and constraint checks in AWS's order
// (SerializationException, then ValidationException). Rules the model does
// not express stay with the operation.
func decodeModel(in *Request, op string, dst any) error {
	return kinesis.DecodeInput(op, wireEncoding(in.Encoding), in.Body, dst)
}

// writeModel answers 200 with v, a generated output shape (or nil for an
// operation without output), in the request's encoding.
func writeModel(in *Request, out *Response, v any) error {
	b, err := kinesis.EncodeOutput(wireEncoding(in.Encoding), v)
	if err != nil {
		return err
	}
	writeOK(in, out, b)
	return nil
}
