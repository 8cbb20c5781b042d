package kinesis

import "bytes"

// ModelJSON returns a copy of the embedded botocore model
// (model/kinesis-2013-12-02.json), for tools and tests that read the model
// on their own (wire/kinesis/kinesistest).
func ModelJSON() []byte { return bytes.Clone(modelJSON) }
