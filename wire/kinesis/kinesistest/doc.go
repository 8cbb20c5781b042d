// Package kinesistest makes test requests from the Kinesis model for tests
// of the wire codec and of the servers built on it: one request per
// constraint of every operation's input (ConstraintCases) and one per
// member of the wrong type (TypeCases), each with the error AWS answers.
//
// It reads the botocore model JSON itself (LoadModel, fed with
// kinesis.ModelJSON) and builds the expected messages from the model's
// constraints and kinesalite's captured texts, so that a test does not
// trust the code under test's view of the model or its formatter. It does
// not import wire/kinesis, so that package's own tests can use it too.
//
// Bodies are trees of map[string]any, []any, string, int64, bool, []byte,
// Timestamp and OrderedMap, encoded with independent encoders (JSONBody,
// CBORBody: encoding/json and fxamacker/cbor).
package kinesistest
