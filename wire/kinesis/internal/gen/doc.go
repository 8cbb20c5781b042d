// Package gen generates the Go types of the Kinesis model shapes
// (wire/kinesis/types_gen.go). It is run by `go generate ./wire/kinesis`
// and by a test that fails when the committed file is stale.
//
// Fields are named after the members, with the first letter upper-cased
// (the exception shapes' "message" becomes Message); tags keep the exact
// member names.
//
// Naming rule: every structure shape reachable from an operation's input or
// output becomes a Go struct named after the shape (CreateStreamInput,
// StreamDescriptionSummary, Shard, ...). When that name is already declared
// by a hand-written file of the package (Record, HashKeyRange, ChildShard,
// PutRecordsResultEntry, ...), the generated type gets the suffix "Shape"
// (RecordShape, HashKeyRangeShape, ...); the hand-written hot-path types keep
// their names.
package gen
